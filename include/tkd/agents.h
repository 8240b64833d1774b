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

#endif
