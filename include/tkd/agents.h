/*
 * agents: event-driven state machines over llm and tools. One object per
 * sample; it never touches the network or the tool pool itself. The owner
 * (the solve phase's event loop, or a unit test) feeds it events and carries
 * out the action each event returns:
 *
 *   a = tkd_solver_start(s, &e);
 *   for (;;) {
 *       if (a == TKD_SOLVER_ACT_LLM)   { tkd_solver_request(s, &req); tkd_llm_submit(...); }
 *       if (a == TKD_SOLVER_ACT_TOOLS) { for each tkd_solver_call(s, i): pool submit }
 *       if (a == TKD_SOLVER_ACT_DONE)  { text = tkd_solver_result_json(s); record; break; }
 *       wait for an event:  a = tkd_solver_on_llm(s, resp, &e)
 *                        or a = tkd_solver_on_tool(s, i, answer, seconds, status, &e)
 *                           (TKD_SOLVER_ACT_WAIT until the turn's last result arrives)
 *   }
 *
 * The solver follows the method of arXiv 2506.19171: an optional planning
 * turn with tools disabled; execution turns with the toolkit, several tool
 * calls per turn, each result sent back as a tool message; a "next action"
 * follow-up when a reply neither calls a tool nor gives a boxed answer; a
 * wrap-up turn near max_turns asking for the best answer in \boxed{}; a call
 * repeated after it failed is not run again (the model is told so); a
 * single-step mode runs one tool call per turn and asks for the next step
 * after each result.
 *
 * A sample's status (tkd_status): correct / wrong (a boxed answer, graded
 * against the gold), no_answer (the model stopped without one), turn_limit
 * (still calling tools at max_turns), tool_errors (too many failed calls in a
 * row), length (finish_reason "length" or a context-length 400), failed (the
 * teacher rejected the request itself: 400, 413, 422), api_error (any other
 * failed request: transient, redone on resume, see tkd_status_is_final).
 * Every sample ends in one of them.
 */
#ifndef TKD_AGENTS_H
#define TKD_AGENTS_H

#include "tkd/core.h"
#include "tkd/grade.h"
#include "tkd/llm.h"
#include "tkd/store.h"

#include <jansson.h>
#include <stdint.h>

/* ---- shared by every agent (src/agents/agent.c) ---- */

/* Tokens and model time of one role's requests. */
typedef struct tkd_agent_tokens {
    long long prompt, completion;
    double latency_s;
    int requests;
} tkd_agent_tokens;

/* A role's sampling settings (the endpoint is the owner's business: it maps
 * the role to a client). Strings borrowed. model NULL/"": the client's;
 * temperature < 0, top_p <= 0, max_tokens <= 0: the client's. */
typedef struct tkd_agent_role {
    const char *model;
    double temperature, top_p;
    int max_tokens;
    const char *const *endpoints; /* base URLs of its client, for the log */
    int n_endpoints;
} tkd_agent_role;

/* req for a conversation: messages and tools borrowed, a stable seed, the
 * sample index (part of the cache key) and a tag (header X-TKD-Tag). */
void tkd_agent_request(tkd_llm_request *req, json_t *messages, json_t *tools, int64_t seed, int sample,
                       const char *tag);
/* Put a role's model and sampling settings into req. */
void tkd_agent_role_apply(const tkd_agent_role *role, tkd_llm_request *req);
/* The base URL that answered r (NULL: none). */
const char *tkd_agent_endpoint(const tkd_llm_response *r, const char *const *endpoints, int n_endpoints);
/* Append the log entry of a reply to log ({turn, kind, status, http_code,
 * finish_reason, prompt_tokens, completion_tokens, latency_s, attempts,
 * endpoint, error, reasoning}) and add its tokens to acc (may be NULL).
 * Returns the entry (borrowed) or NULL when out of memory. */
json_t *tkd_agent_log_reply(json_t *log, const tkd_llm_response *r, int turn, const char *kind,
                            const char *const *endpoints, int n_endpoints, tkd_agent_tokens *acc);
/* What a reply means: TKD_ST_DONE usable, TKD_ST_LENGTH (cut at max_tokens
 * or a context-length 400), TKD_ST_FAILED (the endpoint rejected the request
 * itself: 400, 413, 422, or it could not be built; final), TKD_ST_API_ERROR
 * (any other failure: transient, redone on resume). */
tkd_status tkd_agent_reply_outcome(const tkd_llm_response *r);
/* {"prompt", "completion", "requests"} */
json_t *tkd_agent_tokens_json(const tkd_agent_tokens *t);
/* Template t with every "{name}" of names[i] replaced by values[i] (others
 * kept as written). Caller frees; NULL when out of memory. */
char *tkd_agent_fill(const char *t, const char *const *names, const char *const *values, int n);
/* A result as compact ASCII JSON text (caller frees); NULL with e set. */
char *tkd_agent_dump(const json_t *j, const char *who, tkd_err *e);
/* The record fields every agent fills alike. */
void tkd_agent_record(tkd_record *rec, uint64_t pid, int sample, tkd_phase phase, tkd_status status,
                      const tkd_agent_tokens *t, double latency_s);

/* ---- the solver ---- */

#define TKD_SOLVER_MAX_CALLS_PER_TURN 16 /* more calls in one reply are answered "not run" */
#define TKD_SOLVER_MAX_TURNS 1000        /* upper bound of solve.max_turns */

typedef enum {
    TKD_SOLVER_ACT_WAIT = 0,  /* nothing to do: wait for the next event */
    TKD_SOLVER_ACT_LLM = 1,   /* submit tkd_solver_request() */
    TKD_SOLVER_ACT_TOOLS = 2, /* submit the tkd_solver_call()s of this turn */
    TKD_SOLVER_ACT_DONE = 3   /* finished: read the status and the result */
} tkd_solver_action;

/* Settings shared by every sample of a run (borrowed: must outlive the solvers). */
typedef struct tkd_solver_cfg {
    int max_turns;               /* LLM requests per sample, planning included */
    int planning;                /* a first turn with tools disabled, asking for a plan */
    int single_step;             /* one tool call per turn; a next-action prompt after each result */
    int wrap_up_before;          /* the wrap-up prompt is sent with this many turns left (0: never) */
    int max_tool_errors;         /* failed calls in a row that end the sample as tool_errors */
    const char *system_prompt;   /* the system message */
    const char *user_template;   /* the first user message; "{problem}" is replaced */
    const char *planning_prompt; /* appended to the first user message when planning */
    const char *execute_prompt;  /* after the plan: "now carry it out" */
    const char *next_action_prompt;
    const char *wrap_up_prompt;
    json_t *tools;                /* tool specs array sent with execution turns; NULL: none */
    const char *model;            /* for the record */
    const char *const *endpoints; /* base URLs, indexed by tkd_llm_response.endpoint */
    int n_endpoints;
    tkd_grade_opts grade;
} tkd_solver_cfg;

/* Defaults of the job schema, with the built-in prompts. */
void tkd_solver_cfg_default(tkd_solver_cfg *cfg);

typedef struct tkd_solver tkd_solver;

/* One sample of one problem. id/problem/gold are copied (gold may be NULL). */
int tkd_solver_new(const tkd_solver_cfg *cfg, const char *id, uint64_t pid, const char *problem, const char *gold,
                   int sample, int64_t seed, tkd_solver **out, tkd_err *e);
void tkd_solver_free(tkd_solver *s);

/* The first action (always TKD_SOLVER_ACT_LLM). */
int tkd_solver_start(tkd_solver *s, tkd_err *e);
/* Fill req for the request to submit now (borrowed pointers, valid until the
 * next event). The cache key covers messages, tools, seed and sample. */
void tkd_solver_request(tkd_solver *s, tkd_llm_request *req);
/* An LLM response arrived (borrowed; the caller frees it). Returns the next
 * action (>= 0) or a negative TKD_E* (out of memory). */
int tkd_solver_on_llm(tkd_solver *s, const tkd_llm_response *r, tkd_err *e);

/* The calls of the current turn that must be run (tkd_solver_call for
 * i < tkd_solver_n_calls; calls answered without running are not listed). */
int tkd_solver_n_calls(const tkd_solver *s);
/* name, arguments JSON text and the slot to quote in tkd_solver_on_tool. */
void tkd_solver_call(const tkd_solver *s, int i, const char **name, const char **args, int *slot);
/* name and arguments of the call in slot (for a cache of tool results). */
void tkd_solver_slot_call(const tkd_solver *s, int slot, const char **name, const char **args);
/* A tool result for slot (answer JSON as the toolkit writes it; status 0
 * answered, else a TKD_E* of the pool: timeout, memory, crash). */
int tkd_solver_on_tool(tkd_solver *s, int slot, const char *answer, double seconds, int status, tkd_err *e);

/* After TKD_SOLVER_ACT_DONE. */
tkd_status tkd_solver_status(const tkd_solver *s);
/* Fill a record (pid, sample, phase solve, status, flags, counts, latency). */
void tkd_solver_record(const tkd_solver *s, tkd_record *rec);
/* The sample as JSON text (caller frees): the whole conversation, each tool
 * call with arguments, result and time, each request with tokens, latency,
 * endpoint and finish reason, the answer, gold, grade reason, model. */
char *tkd_solver_result_json(const tkd_solver *s, tkd_err *e);
/* The extracted answer (NULL when none). */
const char *tkd_solver_answer(const tkd_solver *s);
int tkd_solver_turns(const tkd_solver *s);

/* Stable seed of (run seed, problem, sample): the same on every re-run, so
 * the response cache answers a resumed problem. */
int64_t tkd_solver_seed(uint64_t run_seed, uint64_t pid, int sample);

/* Is this tool answer an error ({"status": "error", ...})? */
int tkd_solver_answer_is_error(const char *answer);

/* ---- back-translation: translator, judge and rephrase (src/agents/bt*.c) ----
 *
 * One tkd_bt per source trace (a solve record), driven like the solver but
 * with several requests in flight at once (one per tool call, each in a
 * slot of its own):
 *
 *   a = tkd_bt_start(b, &e);
 *   for (;;) {
 *       if (a == TKD_BT_ACT_LLM) for (i < tkd_bt_n_ready(b)) { tkd_bt_ready(b, i, &req, &slot, &role); submit; }
 *       if (a == TKD_BT_ACT_DONE) { record; text = tkd_bt_result_json(b); break; }
 *       wait for a reply: a = tkd_bt_on_llm(b, slot, resp, &e);
 *   }
 *
 * The method: every successful tool call of the trace goes to the Translator
 * at once (the problem, the reasoning up to the call, the tool, its
 * arguments and its result verbatim), which derives the result by hand and
 * boxes it. The Judge checks each derivation in two stages: exact (the boxed
 * result against the tool's result with tkd's grader, the tool's SymPy text
 * read through expr; "different" rejects with no LLM call), then the LLM on
 * the reasoning, asked for {"verdict": "accept"|"reject", "reason": ...};
 * anything but an explicit accept is a reject. A rejected derivation is asked
 * again with the judge's reason, up to max_attempts; a call still rejected
 * ends the trace as rejected, or (keep_fact) is kept as a stated fact
 * (partial). Every call runs to its end before the trace is decided, so the
 * record is a function of the replies alone (a replay reproduces it). Then
 * the Rephrase agent writes one solution from the problem and the trace with
 * the calls replaced by their derivations; its boxed answer must equal the
 * gold and it must not mention tools or code (leak patterns), else it is
 * asked once more with the reason, then the trace ends as rephrase_wrong or
 * leaked_tools. A request that fails ends the trace as api_error (redone on
 * resume), length, or failed (the endpoint rejected the request itself).
 */
typedef enum { TKD_BT_ACT_WAIT = 0, TKD_BT_ACT_LLM = 1, TKD_BT_ACT_DONE = 3 } tkd_bt_action;
typedef enum { TKD_BT_TRANSLATOR = 0, TKD_BT_JUDGE = 1, TKD_BT_REPHRASE = 2, TKD_BT_N_ROLES } tkd_bt_role;
typedef enum { TKD_BT_JUDGE_EXACT_LLM = 0, TKD_BT_JUDGE_EXACT, TKD_BT_JUDGE_LLM } tkd_bt_judge_mode;

#define TKD_BT_N_PROMPTS 8
#define TKD_BT_MAX_CALLS 256      /* tool calls of one trace that are translated; more: the trace fails */
#define TKD_BT_MAX_ATTEMPTS 16    /* upper bound of backtranslate.max_attempts */
#define TKD_BT_CONTEXT_MAX 16384  /* bytes of the reasoning before a call quoted to the translator (the tail) */
enum { /* prompt indices, in the order of tkd_bt_prompt_names */
    TKD_BT_P_TRANSLATOR_SYSTEM, TKD_BT_P_TRANSLATOR_USER, TKD_BT_P_TRANSLATOR_RETRY, TKD_BT_P_JUDGE_SYSTEM,
    TKD_BT_P_JUDGE_USER, TKD_BT_P_REPHRASE_SYSTEM, TKD_BT_P_REPHRASE_USER, TKD_BT_P_REPHRASE_RETRY
};
/* "translator_system", ... (the file names in jobs/prompts/ without .txt) */
extern const char *const tkd_bt_prompt_names[TKD_BT_N_PROMPTS];
/* The built-in prompts: the text of those files. */
extern const char *const tkd_bt_prompt_builtin[TKD_BT_N_PROMPTS];
extern const char *const tkd_bt_role_names[TKD_BT_N_ROLES]; /* "translator", "judge", "rephrase" */

/* Settings shared by every trace of a run (borrowed). */
typedef struct tkd_bt_cfg {
    tkd_agent_role roles[TKD_BT_N_ROLES];
    tkd_bt_judge_mode judge_mode;
    int max_attempts;      /* translations per call */
    int keep_fact;         /* on_reject: keep_fact (else reject) */
    int rephrase_attempts; /* rephrase requests per trace (the first + retries) */
    const char *prompts[TKD_BT_N_PROMPTS];
    const char *const *leak_patterns; /* case-insensitive substrings */
    int n_leak_patterns;
    tkd_grade_opts grade;
} tkd_bt_cfg;

/* Defaults of the job schema, with the built-in prompts and leak patterns. */
void tkd_bt_cfg_default(tkd_bt_cfg *cfg);

typedef struct tkd_bt tkd_bt;

/* A trace from its solve record text (JSON: id, pid, sample, status, gold,
 * messages, calls); problem is the problem's text. TKD_EFORMAT when the text
 * is not a solve trace. */
int tkd_bt_new(const tkd_bt_cfg *cfg, const char *trace_json, const char *problem, int64_t seed, tkd_bt **out,
               tkd_err *e);
void tkd_bt_free(tkd_bt *b);
/* The first action: TKD_BT_ACT_LLM. */
int tkd_bt_start(tkd_bt *b, tkd_err *e);
/* Requests ready to submit (after an action TKD_BT_ACT_LLM; the list is
 * cleared by the next tkd_bt_on_llm or tkd_bt_start). */
int tkd_bt_n_ready(const tkd_bt *b);
/* The i-th ready request, its slot (to quote in tkd_bt_on_llm) and its role
 * (which client sends it). Borrowed pointers: submit it before the next
 * tkd_bt_ready (its tag is rewritten) or event. Counts it as in flight. */
void tkd_bt_ready(tkd_bt *b, int i, tkd_llm_request *req, int *slot, tkd_bt_role *role);
/* The reply for slot (borrowed). The next action, or a negative TKD_E*. */
int tkd_bt_on_llm(tkd_bt *b, int slot, const tkd_llm_response *r, tkd_err *e);
/* Requests submitted and not yet answered. */
int tkd_bt_in_flight(const tkd_bt *b);

tkd_status tkd_bt_status(const tkd_bt *b);
/* Derivations rejected so far by the exact stage and by the LLM judge. */
void tkd_bt_rejects(const tkd_bt *b, int *exact, int *llm);
/* Record: pid and sample of the source trace, phase backtranslate, status,
 * turns = requests, tool_calls = calls translated, tokens of every role. */
void tkd_bt_record(const tkd_bt *b, tkd_record *rec);
/* The record's text (caller frees): id, pid, sample, source_status, status,
 * reason, problem, gold, calls [{tool, arguments, result, attempts
 * [{translation, exact {verdict, reason}, llm {verdict, reason}}], outcome}],
 * solution, answer, rephrase [attempts], tokens and latency_s per role,
 * requests. */
char *tkd_bt_result_json(const tkd_bt *b, tkd_err *e);

/* ---- the checks, exposed for tests ---- */
typedef enum {
    TKD_BT_EXACT_EQUAL = 0,
    TKD_BT_EXACT_DIFFERENT,    /* rejects, no LLM call */
    TKD_BT_EXACT_NO_BOX,       /* no \boxed{} in the derivation: rejects */
    TKD_BT_EXACT_UNDECIDED,    /* the grader could not decide: the LLM judge decides */
    TKD_BT_EXACT_NOT_GRADABLE  /* the tool's result is not an expression (text, object): the LLM judge decides */
} tkd_bt_exact_verdict;
const char *tkd_bt_exact_name(tkd_bt_exact_verdict v); /* "equal", "different", ... */
/* The tool's answer (the toolkit's JSON: {"result": ...}) as LaTeX for the
 * grader: a SymPy string through expr, a list as "a, b"; NULL when it is not
 * an expression (caller frees). */
char *tkd_bt_result_latex(const char *answer_json);
/* The exact stage: the derivation's last boxed result against the tool's answer. */
tkd_bt_exact_verdict tkd_bt_exact(const char *derivation, const char *answer_json, const tkd_grade_opts *o,
                                  char *reason, size_t cap);
/* The LLM judge's reply: 1 only for a JSON object (alone, or alone in one
 * ``` fence) whose "verdict" is the string "accept" (any case); 0 for anything
 * else, with why in reason. */
int tkd_bt_parse_verdict(const char *reply, char *reason, size_t cap);
/* Does text mention tools or code? The first case-insensitive match of a
 * pattern, or of a tool name with an underscore (plain names such as gcd are
 * mathematics), is copied to which; 0 when clean. */
int tkd_bt_leaks(const char *text, const char *const *patterns, int n_patterns, const char *const *tools, int n_tools,
                 char *which, size_t cap);

#endif
