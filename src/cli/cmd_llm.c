/*
 * tkd llm chat|batch: talk to the teacher named in a job file's `teacher`
 * section, outside any phase. `chat` sends one prompt and prints the reply;
 * `batch` sends N numbered requests ("Problem id: p<i>"), drives them to
 * their end and writes one JSON line per request in index order, a smoke
 * test of an endpoint and the driver of the client's integration tests.
 */
#include "cli.h"
#include "tkd/llm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *opt(const tkd_cli_opts *o, const char *name) {
    for (int i = 0; i + 1 < o->n_pos; i++)
        if (!strcmp(o->pos[i], name))
            return o->pos[i + 1];
    return NULL;
}

static json_t *make_messages(const char *system, const char *user) {
    json_t *m = json_array();
    if (m && system && system[0])
        json_array_append_new(m, json_pack("{s:s, s:s}", "role", "system", "content", system));
    if (m)
        json_array_append_new(m, json_pack("{s:s, s:s}", "role", "user", "content", user));
    return m;
}

/* One response as a JSON line (no secrets: only what the server sent back). */
static char *response_line(long idx, const tkd_llm_response *r) {
    json_t *calls = json_array();
    for (int i = 0; i < r->n_tool_calls; i++)
        json_array_append_new(calls, json_pack("{s:s, s:s, s:s, s:s?}", "id", r->tool_calls[i].id, "name",
                                               r->tool_calls[i].name, "arguments", r->tool_calls[i].arguments, "error",
                                               r->tool_calls[i].error));
    char raw_sum[65] = "";
    if (r->raw)
        tkd_sha256_hex(r->raw, r->raw_len, raw_sum);
    json_t *o = json_pack("{s:I, s:s, s:i, s:i, s:s?, s:s?, s:s?, s:o, s:s?, s:s?, s:I, s:I, s:f, s:s}", "index",
                          (json_int_t)idx, "status", tkd_llm_status_name(r->status), "http_code", r->http_code,
                          "attempts", r->attempts, "content", r->content, "reasoning_content", r->reasoning_content,
                          "finish_reason", r->finish_reason, "tool_calls", calls, "error", r->error, "last_error",
                          r->last_error, "prompt_tokens", (json_int_t)r->prompt_tokens, "completion_tokens",
                          (json_int_t)r->completion_tokens, "latency_s", r->latency_s, "raw_sha256", raw_sum);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

static int run(tkd_llm *c, long n, const char *system, const char *prompt, FILE *out, int quiet) {
    char **lines = calloc((size_t)n, sizeof *lines);
    if (!lines)
        return TKD_EXIT_FAIL;
    int rc = 0;
    for (long i = 0; i < n && !rc; i++) {
        char user[512];
        if (prompt)
            snprintf(user, sizeof user, "%s", prompt);
        else
            snprintf(user, sizeof user, "Problem id: p%ld\nWhat is %ld + %ld? Put the answer in \\boxed{}.", i, i, i);
        char tag[32];
        snprintf(tag, sizeof tag, "p%ld", i);
        tkd_llm_request q;
        tkd_llm_request_init(&q);
        q.messages = make_messages(system, user);
        q.seed = i;
        q.has_seed = 1;
        q.tag = tag;
        tkd_err e = {0};
        if (!q.messages || tkd_llm_submit(c, &q, (void *)(intptr_t)i, &e))
            rc = tkd_cli_fail(&e);
        json_decref(q.messages);
    }
    double t0 = tkd_now(), last = t0;
    while (!rc && tkd_llm_pending(c) > 0) {
        if (tkd_llm_poll(c, 100) < 0) {
            fprintf(stderr, "tkd: error: the event loop failed\n");
            rc = TKD_EXIT_FAIL;
            break;
        }
        tkd_llm_response *r;
        void *ck;
        while (tkd_llm_next_done(c, &r, &ck)) {
            long i = (long)(intptr_t)ck;
            if (out)
                lines[i] = response_line(i, r);
            if (n == 1 && !out) {
                if (r->reasoning_content)
                    printf("[reasoning] %s\n", r->reasoning_content);
                printf("%s\n", r->content ? r->content : "");
                for (int k = 0; k < r->n_tool_calls; k++)
                    printf("[tool_call] %s %s%s%s\n", r->tool_calls[k].name, r->tool_calls[k].arguments,
                           r->tool_calls[k].error ? " error: " : "",
                           r->tool_calls[k].error ? r->tool_calls[k].error : "");
                if (r->status != TKD_LLM_OK)
                    fprintf(stderr, "tkd: %s: %s%s%s\n", tkd_llm_status_name(r->status), r->error ? r->error : "",
                            r->last_error ? "; last: " : "", r->last_error ? r->last_error : "");
            }
            tkd_llm_response_free(r);
        }
        if (!quiet && tkd_now() - last > 5) {
            tkd_llm_stats st;
            tkd_llm_get_stats(c, &st);
            fprintf(stderr, "tkd llm: %lld/%ld done, %d in flight, %d waiting, %lld retries\n", st.completed, n,
                    st.in_flight, st.waiting, st.retries);
            last = tkd_now();
        }
    }
    for (long i = 0; i < n; i++) {
        if (out && lines[i])
            fprintf(out, "%s\n", lines[i]);
        free(lines[i]);
    }
    free(lines);
    tkd_llm_flush(c); /* the cache is written on a background thread */
    tkd_llm_stats st;
    tkd_llm_get_stats(c, &st);
    if (!quiet || n > 1) {
        fprintf(stderr, "tkd llm: %lld requests in %.2fs: attempts %lld, retries %lld, cache hits %lld, writes %lld;",
                st.completed, tkd_now() - t0, st.attempts, st.retries, st.cache_hits, st.cache_writes);
        for (int s = 0; s <= TKD_LLM_UNAVAILABLE; s++)
            if (st.by_status[s])
                fprintf(stderr, " %s %lld", tkd_llm_status_name((tkd_llm_status)s), st.by_status[s]);
        fprintf(stderr, "\n");
    }
    if (!rc && n == 1 && !out && st.by_status[TKD_LLM_OK] != 1)
        rc = TKD_EXIT_FAIL;
    return rc;
}

int tkd_cmd_llm(int argc, char **argv) {
    static const char *const keep[] = {"--prompt", "--system", "--requests", "--out", NULL};
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, keep, &o);
    if (rc)
        return rc;
    const char *sub = o.n_pos ? o.pos[0] : "";
    if (strcmp(sub, "chat") && strcmp(sub, "batch")) {
        tkd_cli_usage("llm", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    const char *prompt = opt(&o, "--prompt"), *system = opt(&o, "--system"), *nreq = opt(&o, "--requests"),
               *outp = opt(&o, "--out");
    long n = 1;
    if (!strcmp(sub, "chat") && !prompt) {
        fprintf(stderr, "tkd: llm chat needs --prompt TEXT\n");
        return TKD_EXIT_USAGE;
    }
    if (!strcmp(sub, "batch")) {
        char *end = NULL;
        n = nreq ? strtol(nreq, &end, 10) : 0;
        if (!nreq || *end || n < 1 || n > 10000000) {
            fprintf(stderr, "tkd: llm batch needs --requests N (1 to 10000000)\n");
            return TKD_EXIT_USAGE;
        }
        prompt = NULL;
    }
    /* the job file is the first positional argument after the subcommand */
    tkd_cli_opts jo = o;
    jo.n_pos = 0;
    for (int i = 1; i < o.n_pos; i++) {
        int kept = 0;
        for (const char *const *k = keep; *k; k++)
            kept |= !strcmp(o.pos[i], *k);
        if (kept) {
            i++;
        } else {
            jo.pos[jo.n_pos++] = o.pos[i];
            break;
        }
    }
    tkd_job job;
    if ((rc = tkd_cli_load_job(&jo, &job)))
        return rc;
    tkd_log_set_level(tkd_log_get_level()); /* -v / -q already applied by tkd_cli_parse */
    tkd_llm_config cfg;
    tkd_err e = {0};
    tkd_llm *c = NULL;
    if (tkd_llm_config_from_job(&job, &cfg, &e) || tkd_llm_create(&cfg, &c, &e)) {
        rc = tkd_cli_fail(&e);
        tkd_job_free(&job);
        return rc;
    }
    FILE *out = NULL;
    if (outp && !(out = fopen(outp, "w"))) {
        fprintf(stderr, "tkd: error: cannot write '%s'\n", outp);
        rc = TKD_EXIT_FAIL;
    }
    if (!rc)
        rc = run(c, n, system, prompt, out, n == 1);
    if (out && fclose(out) != 0) {
        fprintf(stderr, "tkd: error: cannot finish writing '%s'\n", outp);
        rc = TKD_EXIT_FAIL;
    }
    tkd_llm_free(c);
    tkd_job_free(&job);
    return rc;
}
