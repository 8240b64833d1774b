/*
 * The solver agent (see tkd/agents.h): one sample of one problem as a state
 * machine. It owns the conversation (a Jansson array sent as is with every
 * request, so the same history gives the same body and the same cache key),
 * a log of every request and every tool call, and the final status. No
 * network and no processes here: the owner carries out the actions.
 */
#include "tkd/agents.h"

#include "tkd/tools.h"

#include <stdlib.h>
#include <string.h>

#define SOLVER_ERR_SNIP 300 /* bytes of a failed call's message quoted back on a repeat */

static const char DEFAULT_SYSTEM[] = /* jobs/prompts/solver_system.txt */
    "You are an expert mathematician who solves competition problems step by step with an exact symbolic toolkit. The "
    "toolkit computes exactly: use it for every non-trivial calculation (algebra, equations, calculus, matrices, "
    "number theory, counting) instead of computing by hand.\n"
    "\n"
    "How to work:\n"
    "1. Plan: understand what is asked and decide which quantities to compute.\n"
    "2. Execute: call the tools for the computations. You may call several tools in one turn when the calls do not "
    "depend on each other.\n"
    "3. Reflect on each result: check that it answers what you asked and is consistent with the problem. If a result "
    "is surprising, find out why before going on.\n"
    "4. Refine: when a tool returns an error, read its message, fix the arguments and try again, or take another "
    "route. Never repeat a call that failed with the same arguments.\n"
    "5. Conclude: when the answer is established, state it once, simplified, as \\boxed{ANSWER} at the end of your "
    "reply.\n"
    "\n"
    "Toolkit syntax:\n"
    "- Expressions use SymPy syntax: ** for powers, * for every product (2*x, never 2x), sqrt(x), pi, E, I, exp(x), "
    "log(x), sin(x), Rational written as 1/3.\n"
    "- Equations are written as \"lhs = rhs\" or as an expression equal to zero; name the variable you solve for.\n"
    "- Matrices and vectors are JSON lists of rows: [[1, 2], [3, 4]]; points are lists [x, y].\n"
    "- Integers may be given as JSON numbers or strings; large integers as strings.\n"
    "- Every tool answers {\"result\": ...} or {\"status\": \"error\", \"message\": ...}; the message says what to "
    "fix.\n"
    "\n"
    "The final answer must be exact (fractions, radicals, pi), not a decimal approximation, unless the problem asks "
    "for one. Put only the answer inside \\boxed{}.";
static const char DEFAULT_USER[] = /* jobs/prompts/solver_user.txt */
    "Problem: {problem}";
static const char DEFAULT_PLAN[] = /* jobs/prompts/solver_planning.txt */
    "Before solving, write a short plan: what is asked, which quantities you will compute, and which tools you will "
    "call for them. Do not call any tool in this reply.";
static const char DEFAULT_EXEC[] = /* jobs/prompts/solver_execute.txt */
    "Now carry out your plan. Call the tools for the computations, reflect on each result, and refine the plan when a "
    "result calls for it. Give the final answer as \\boxed{ANSWER}.";
static const char DEFAULT_NEXT[] = /* jobs/prompts/solver_next_action.txt */
    "Reflect on the results so far. If the answer is established, state it as \\boxed{ANSWER}. Otherwise take the next "
    "action: call the tool that moves the solution forward.";
static const char DEFAULT_WRAP[] = /* jobs/prompts/solver_wrap_up.txt */
    "You are almost out of turns. Do not call more tools. Using the results you have, give your best final answer now "
    "as \\boxed{ANSWER}.";

enum { K_PLAN, K_EXEC, K_NEXT, K_WRAP, K_TOOLS };
static const char *const kind_name[] = {"planning", "execute", "next_action", "wrap_up", "tool_results"};

typedef struct turn_call {
    json_t *log; /* the entry in s->calls (borrowed) */
    char *id, *name, *sig;
    int run;    /* 1: submitted to the pool, waiting */
    int failed; /* its answer was an error */
} turn_call;

struct tkd_solver {
    const tkd_solver_cfg *cfg;
    char *id, *problem, *gold;
    uint64_t pid;
    int sample;
    int64_t seed;
    json_t *messages, *requests, *calls;
    int turns, kind, wrapped, done;
    turn_call *tc; /* the calls of this turn (every one gets a tool message) */
    int tc_cap, n_tc, run_slot[TKD_SOLVER_MAX_CALLS_PER_TURN], n_run, waiting;
    int n_calls, n_call_errors, n_repeated, consec_fail;
    long long prompt_tokens, completion_tokens;
    double llm_s, tool_s, turn_tool_max;
    tkd_status status;
    unsigned flags;
    char *answer, *error, *endpoint;
    char reason[160];
    json_t *failed; /* signature -> message of calls that failed */
};

void tkd_solver_cfg_default(tkd_solver_cfg *c) {
    memset(c, 0, sizeof *c);
    c->max_turns = 15;
    c->wrap_up_before = 1;
    c->max_tool_errors = 5;
    c->system_prompt = DEFAULT_SYSTEM;
    c->user_template = DEFAULT_USER;
    c->planning_prompt = DEFAULT_PLAN;
    c->execute_prompt = DEFAULT_EXEC;
    c->next_action_prompt = DEFAULT_NEXT;
    c->wrap_up_prompt = DEFAULT_WRAP;
    tkd_grade_opts_default(&c->grade);
}

int64_t tkd_solver_seed(uint64_t run_seed, uint64_t pid, int sample) {
    uint8_t b[20];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(run_seed >> (8 * i));
        b[8 + i] = (uint8_t)(pid >> (8 * i));
    }
    for (int i = 0; i < 4; i++)
        b[16 + i] = (uint8_t)((uint32_t)sample >> (8 * i));
    /* 31 bits: every OpenAI-compatible server takes it */
    return (int64_t)(tkd_hash64(b, sizeof b) & 0x7fffffffu);
}

int tkd_solver_answer_is_error(const char *answer) {
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    const char *st = json_string_value(json_object_get(j, "status"));
    int err = !j || (st && !strcmp(st, "error"));
    json_decref(j);
    return err;
}

/* "{problem}" in t replaced by p. */
static char *fill_template(const char *t, const char *p) {
    static const char *const names[1] = {"problem"};
    const char *values[1] = {p};
    return tkd_agent_fill(t, names, values, 1);
}

static int add_msg(tkd_solver *s, const char *role, const char *content) {
    return json_array_append_new(s->messages, json_pack("{s:s, s:s}", "role", role, "content", content));
}

int tkd_solver_new(const tkd_solver_cfg *cfg, const char *id, uint64_t pid, const char *problem, const char *gold,
                   int sample, int64_t seed, tkd_solver **out, tkd_err *e) {
    *out = NULL;
    tkd_solver *s = tkd_calloc(1, sizeof *s, e);
    if (!s)
        return TKD_ENOMEM;
    s->cfg = cfg;
    s->pid = pid;
    s->sample = sample;
    s->seed = seed;
    s->status = TKD_ST_FAILED;
    s->id = strdup(id ? id : "");
    s->problem = strdup(problem ? problem : "");
    s->gold = gold ? strdup(gold) : NULL;
    s->messages = json_array();
    s->requests = json_array();
    s->calls = json_array();
    s->failed = json_object();
    char *user = s->problem ? fill_template(cfg->user_template ? cfg->user_template : DEFAULT_USER, s->problem) : NULL;
    if (user && cfg->planning) {
        tkd_buf b;
        tkd_buf_init(&b);
        int bad = tkd_buf_puts(&b, user) | tkd_buf_puts(&b, "\n\n") | tkd_buf_puts(&b, cfg->planning_prompt);
        free(user);
        user = bad ? NULL : tkd_buf_steal(&b);
        if (bad)
            tkd_buf_free(&b);
    }
    if (!s->id || !s->problem || (gold && !s->gold) || !s->messages || !s->requests || !s->calls || !s->failed ||
        !user || (cfg->system_prompt && *cfg->system_prompt && add_msg(s, "system", cfg->system_prompt)) ||
        add_msg(s, "user", user)) {
        free(user);
        tkd_solver_free(s);
        return tkd_err_set(e, TKD_ENOMEM, "solver: out of memory starting a sample of %s", id ? id : "?");
    }
    free(user);
    *out = s;
    return 0;
}

static void clear_turn(tkd_solver *s) {
    for (int i = 0; i < s->n_tc; i++) {
        free(s->tc[i].id);
        free(s->tc[i].name);
        free(s->tc[i].sig);
    }
    if (s->tc)
        memset(s->tc, 0, (size_t)s->tc_cap * sizeof *s->tc);
    s->n_tc = s->n_run = s->waiting = 0;
    s->turn_tool_max = 0;
}

void tkd_solver_free(tkd_solver *s) {
    if (!s)
        return;
    clear_turn(s);
    free(s->tc);
    json_decref(s->messages);
    json_decref(s->requests);
    json_decref(s->calls);
    json_decref(s->failed);
    free(s->id);
    free(s->problem);
    free(s->gold);
    free(s->answer);
    free(s->error);
    free(s->endpoint);
    free(s);
}

static int oom(tkd_err *e) {
    return tkd_err_set(e, TKD_ENOMEM, "solver: out of memory");
}

static int finish(tkd_solver *s, tkd_status st) {
    s->status = st;
    s->done = 1;
    return TKD_SOLVER_ACT_DONE;
}

static int next_request(tkd_solver *s, int kind) {
    s->kind = kind;
    s->turns++;
    return TKD_SOLVER_ACT_LLM;
}

int tkd_solver_start(tkd_solver *s, tkd_err *e) {
    (void)e;
    return next_request(s, s->cfg->planning ? K_PLAN : K_EXEC);
}

void tkd_solver_request(tkd_solver *s, tkd_llm_request *req) {
    tkd_agent_request(req, s->messages, s->kind == K_PLAN ? NULL : s->cfg->tools, s->seed, s->sample, s->id);
}

static int wrap_up_due(const tkd_solver *s) {
    return !s->wrapped && s->cfg->wrap_up_before > 0 && s->cfg->max_turns - s->turns <= s->cfg->wrap_up_before;
}

/* Ask again with a user prompt: the wrap-up when due, else next_prompt (NULL:
 * none, the tool messages are the last ones). */
static int follow_up(tkd_solver *s, const char *next_prompt, int kind, tkd_err *e) {
    if (wrap_up_due(s)) {
        s->wrapped = 1;
        next_prompt = s->cfg->wrap_up_prompt;
        kind = K_WRAP;
    }
    if (next_prompt && add_msg(s, "user", next_prompt))
        return oom(e);
    return next_request(s, kind);
}

/* A boxed answer in content: grade it and finish. 0 when there is none. */
static int try_answer(tkd_solver *s, const char *content, tkd_err *e) {
    char *ans = NULL;
    int rc = tkd_grade_extract(content ? content : "", TKD_GRADE_BOXED, &ans, e);
    if (rc == TKD_ENOTFOUND || (!rc && (!ans || !*tkd_text_trim(ans)))) {
        free(ans);
        return 0;
    }
    if (rc)
        return rc;
    s->answer = ans;
    s->flags |= TKD_F_HAS_ANSWER;
    if (!s->gold) {
        snprintf(s->reason, sizeof s->reason, "no gold answer");
        return finish(s, TKD_ST_DONE);
    }
    tkd_grade_verdict v;
    if (tkd_grade_equal(s->gold, ans, &s->cfg->grade, &v) == TKD_ENOMEM)
        return oom(e);
    snprintf(s->reason, sizeof s->reason, "%s", v.reason);
    if (v.result == TKD_GRADE_EQUAL) {
        s->flags |= TKD_F_CORRECT;
        return finish(s, TKD_ST_CORRECT);
    }
    if (v.result == TKD_GRADE_UNDECIDED)
        s->flags |= TKD_F_GRADE_UNDECIDED;
    return finish(s, TKD_ST_WRONG);
}

static int tool_enabled(const tkd_solver *s, const char *name) {
    size_t i;
    json_t *t;
    json_array_foreach(s->cfg->tools, i, t) {
        const char *n = json_string_value(json_object_get(json_object_get(t, "function"), "name"));
        if (n && !strcmp(n, name))
            return 1;
    }
    return 0;
}

/* name + canonical arguments: the identity of a call for the repeat check. */
static char *signature(const char *name, const char *args) {
    json_t *j = json_loads(args ? args : "", 0, NULL);
    char *canon = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(j);
    tkd_buf b;
    tkd_buf_init(&b);
    int bad = tkd_buf_puts(&b, name) | tkd_buf_putc(&b, '\n') | tkd_buf_puts(&b, canon ? canon : args ? args : "");
    free(canon);
    if (bad) {
        tkd_buf_free(&b);
        return NULL;
    }
    return tkd_buf_steal(&b);
}

/* Answer a call without running it. */
static int reject(tkd_solver *s, turn_call *c, const char *kind, const char *msg) {
    char *ans = tkd_tools_error_json(msg);
    if (!ans)
        return TKD_ENOMEM;
    int bad = json_object_set_new(c->log, "result", json_string(ans)) ||
              json_object_set_new(c->log, "status", json_string(kind)) ||
              json_object_set_new(c->log, "seconds", json_real(0));
    free(ans);
    c->failed = 1;
    s->n_call_errors++;
    return bad ? TKD_ENOMEM : 0;
}

/* Every result of the turn is in: send them back and decide what comes next. */
static int finish_turn(tkd_solver *s, tkd_err *e) {
    s->tool_s += s->turn_tool_max;
    for (int i = 0; i < s->n_tc; i++) {
        turn_call *c = &s->tc[i];
        const char *res = json_string_value(json_object_get(c->log, "result"));
        if (json_array_append_new(s->messages, tkd_llm_tool_message(c->id, c->name, res)))
            return oom(e);
        s->consec_fail = c->failed ? s->consec_fail + 1 : 0;
    }
    clear_turn(s);
    if (s->cfg->max_tool_errors > 0 && s->consec_fail >= s->cfg->max_tool_errors) {
        snprintf(s->reason, sizeof s->reason, "%d failed tool calls in a row", s->consec_fail);
        return finish(s, TKD_ST_TOOL_ERRORS);
    }
    if (s->turns >= s->cfg->max_turns)
        return finish(s, TKD_ST_TURN_LIMIT);
    return follow_up(s, s->cfg->single_step ? s->cfg->next_action_prompt : NULL, s->cfg->single_step ? K_NEXT : K_TOOLS,
                     e);
}

/* The reply asks for tools: log each call, answer the ones that must not run. */
static int start_calls(tkd_solver *s, const tkd_llm_response *r, tkd_err *e) {
    clear_turn(s);
    if (r->n_tool_calls > s->tc_cap) {
        turn_call *nt = tkd_realloc(s->tc, (size_t)r->n_tool_calls * sizeof *nt, e);
        if (!nt)
            return TKD_ENOMEM;
        memset(nt, 0, (size_t)r->n_tool_calls * sizeof *nt);
        s->tc = nt;
        s->tc_cap = r->n_tool_calls;
    }
    for (int i = 0; i < r->n_tool_calls; i++) {
        const tkd_llm_tool_call *tc = &r->tool_calls[i];
        turn_call *c = &s->tc[s->n_tc++];
        const char *name = tc->name ? tc->name : "", *args = tc->arguments ? tc->arguments : "{}";
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "call_%d", i);
        c->id = strdup(tc->id && *tc->id ? tc->id : idbuf);
        c->name = strdup(name);
        c->sig = signature(name, args);
        c->log = json_pack("{s:i, s:s, s:s, s:s}", "turn", s->turns, "id", c->id ? c->id : "", "name", name,
                           "arguments", args);
        if (!c->id || !c->name || !c->sig || !c->log || json_array_append_new(s->calls, c->log))
            return oom(e);
        s->n_calls++;
        char msg[SOLVER_ERR_SNIP + 200];
        json_t *prev = json_object_get(s->failed, c->sig);
        int rc = 0;
        if (s->n_tc > TKD_SOLVER_MAX_CALLS_PER_TURN) {
            rc = reject(s, c, "rejected", "not run: too many tool calls in one turn; make fewer calls per turn");
        } else if (s->cfg->single_step && s->n_tc > 1) {
            rc = reject(s, c, "rejected", "not run: one tool call per turn; call it again in your next step");
        } else if (tc->error || !*name) {
            snprintf(msg, sizeof msg, "could not read this tool call: %s", tc->error ? tc->error : "no tool name");
            rc = reject(s, c, "rejected", msg);
        } else if (!tool_enabled(s, name)) {
            snprintf(msg, sizeof msg, "unknown tool '%.64s': call only the tools listed", name);
            rc = reject(s, c, "rejected", msg);
        } else if (prev) {
            snprintf(msg, sizeof msg,
                     "not run: this exact call already failed (%.*s). Do not repeat it: change the arguments "
                     "or use another tool",
                     SOLVER_ERR_SNIP, json_string_value(prev));
            s->n_repeated++;
            rc = reject(s, c, "repeated", msg);
        } else {
            c->run = 1;
            s->run_slot[s->n_run++] = s->n_tc - 1;
        }
        if (rc)
            return oom(e);
    }
    s->waiting = s->n_run;
    if (s->n_run == 0)
        return finish_turn(s, e);
    return TKD_SOLVER_ACT_TOOLS;
}

int tkd_solver_on_llm(tkd_solver *s, const tkd_llm_response *r, tkd_err *e) {
    const char *ep = tkd_agent_endpoint(r, s->cfg->endpoints, s->cfg->n_endpoints);
    tkd_agent_tokens acc = {0, 0, 0, 0};
    if (!tkd_agent_log_reply(s->requests, r, s->turns, kind_name[s->kind], s->cfg->endpoints, s->cfg->n_endpoints,
                             &acc))
        return oom(e);
    if (ep && !s->endpoint && !(s->endpoint = strdup(ep)))
        return oom(e);
    s->prompt_tokens += acc.prompt;
    s->completion_tokens += acc.completion;
    s->llm_s += acc.latency_s;
    tkd_status out = tkd_agent_reply_outcome(r);
    if (r->status != TKD_LLM_OK) {
        if (!(s->error = strdup(r->error ? r->error : tkd_llm_status_name(r->status))))
            return oom(e);
        snprintf(s->reason, sizeof s->reason, "request failed: %s", tkd_llm_status_name(r->status));
        return finish(s, out); /* length, failed (a rejected request: final) or api_error (tkd_agent_reply_outcome) */
    }
    json_t *am = tkd_llm_assistant_message(r);
    if (!am || json_array_append_new(s->messages, am))
        return oom(e);
    if (out == TKD_ST_LENGTH) {
        snprintf(s->reason, sizeof s->reason, "reply cut at max_tokens");
        return finish(s, TKD_ST_LENGTH);
    }
    if (s->kind == K_PLAN)
        return follow_up(s, s->cfg->execute_prompt, K_EXEC, e);
    int rc;
    if (r->n_tool_calls > 0 && s->cfg->tools) {
        if (s->turns < s->cfg->max_turns)
            return start_calls(s, r, e);
        if ((rc = try_answer(s, r->content, e)))
            return rc;
        return finish(s, TKD_ST_TURN_LIMIT);
    }
    if ((rc = try_answer(s, r->content, e)))
        return rc;
    if (s->turns >= s->cfg->max_turns)
        return finish(s, TKD_ST_NO_ANSWER);
    return follow_up(s, s->cfg->next_action_prompt, K_NEXT, e);
}

int tkd_solver_n_calls(const tkd_solver *s) {
    return s->n_run;
}

void tkd_solver_call(const tkd_solver *s, int i, const char **name, const char **args, int *slot) {
    const turn_call *c = &s->tc[s->run_slot[i]];
    *name = c->name;
    *args = json_string_value(json_object_get(c->log, "arguments"));
    *slot = s->run_slot[i];
}

void tkd_solver_slot_call(const tkd_solver *s, int slot, const char **name, const char **args) {
    *name = slot >= 0 && slot < s->n_tc ? s->tc[slot].name : NULL;
    *args = slot >= 0 && slot < s->n_tc ? json_string_value(json_object_get(s->tc[slot].log, "arguments")) : NULL;
}

int tkd_solver_on_tool(tkd_solver *s, int slot, const char *answer, double seconds, int status, tkd_err *e) {
    if (slot < 0 || slot >= s->n_tc || !s->tc[slot].run)
        return tkd_err_set(e, TKD_EINTERNAL, "solver: a tool result for slot %d, which is not waiting", slot);
    turn_call *c = &s->tc[slot];
    c->run = 0;
    const char *kind = status == TKD_ETIMEOUT               ? "timeout"
                       : status == TKD_ELIMIT               ? "memory"
                       : status                             ? "crash"
                       : tkd_solver_answer_is_error(answer) ? "error"
                                                            : "ok";
    c->failed = strcmp(kind, "ok") != 0;
    if (json_object_set_new(c->log, "result", json_string(answer ? answer : "")) ||
        json_object_set_new(c->log, "status", json_string(kind)) ||
        json_object_set_new(c->log, "seconds", json_real(seconds)))
        return oom(e);
    if (c->failed) {
        s->n_call_errors++;
        json_t *j = json_loads(answer ? answer : "", 0, NULL);
        const char *m = json_string_value(json_object_get(j, "message"));
        int bad = json_object_set_new(s->failed, c->sig, json_string(m ? m : kind));
        json_decref(j);
        if (bad)
            return oom(e);
    }
    if (seconds > s->turn_tool_max)
        s->turn_tool_max = seconds;
    if (--s->waiting > 0)
        return TKD_SOLVER_ACT_WAIT;
    return finish_turn(s, e);
}

tkd_status tkd_solver_status(const tkd_solver *s) {
    return s->status;
}
const char *tkd_solver_answer(const tkd_solver *s) {
    return s->answer;
}
int tkd_solver_turns(const tkd_solver *s) {
    return s->turns;
}

void tkd_solver_record(const tkd_solver *s, tkd_record *rec) {
    tkd_agent_tokens t = {s->prompt_tokens, s->completion_tokens, s->llm_s, s->turns};
    /* model time: request latencies (from the cache on a replay) plus the
     * slowest call of each turn, so a replay reproduces it exactly */
    tkd_agent_record(rec, s->pid, s->sample, TKD_PHASE_SOLVE, s->status, &t, s->llm_s + s->tool_s);
    rec->flags = (uint16_t)s->flags;
    rec->turns = (uint32_t)s->turns;
    rec->tool_calls = (uint32_t)s->n_calls;
}

char *tkd_solver_result_json(const tkd_solver *s, tkd_err *e) {
    char pid[17];
    snprintf(pid, sizeof pid, "%016llx", (unsigned long long)s->pid);
    json_t *j = json_pack("{s:s, s:s, s:i, s:I, s:s, s:s?, s:s?, s:s, s:i, s:i, s:i, s:i, s:I, s:I, s:f, s:f, s:f, "
                          "s:{s:s?, s:s?}, s:s?, s:O, s:O, s:O}",
                          "id", s->id, "pid", pid, "sample", s->sample, "seed", (json_int_t)s->seed, "status",
                          tkd_status_name(s->status), "answer", s->answer, "gold", s->gold, "grade", s->reason, "turns",
                          s->turns, "tool_calls", s->n_calls, "tool_errors", s->n_call_errors, "repeated_failed_calls",
                          s->n_repeated, "prompt_tokens", (json_int_t)s->prompt_tokens, "completion_tokens",
                          (json_int_t)s->completion_tokens, "latency_s", s->llm_s + s->tool_s, "llm_s", s->llm_s,
                          "tool_s", s->tool_s, "teacher", "model", s->cfg->model, "endpoint", s->endpoint, "error",
                          s->error, "messages", s->messages, "calls", s->calls, "requests", s->requests);
    char *t = tkd_agent_dump(j, "solver", e);
    json_decref(j);
    return t;
}
