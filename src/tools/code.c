/*
 * run_python: the code tool. Runs a Python 3 program with the node's python3
 * in the sandbox of sandbox.c and answers what it printed, trimmed to fit the
 * answer, with its exit status; or an error for the time, memory and output
 * limits. Also the tools.code section of the job and `tkd tool
 * sandbox-check`'s probe. Offered to the teacher only when solve.tools names
 * it (opt-in).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>
#include <sys/prctl.h>

#include "sandbox.h"
#include "tkd/job.h"
#include "tools_int.h"

#define ANSWER_OVERHEAD 300 /* bytes of the answer that are not output */

void tkd_tools_code_default(tkd_code_cfg *c) {
    memset(c, 0, sizeof *c);
    c->mode = TKD_SANDBOX_STRICT;
    c->timeout_s = TKD_CODE_TIMEOUT_S;
    c->memory_bytes = (size_t)TKD_CODE_MEMORY_MB << 20;
    c->output_bytes = TKD_CODE_OUTPUT_BYTES;
    c->scratch_bytes = (size_t)TKD_CODE_SCRATCH_MB << 20;
}

int tkd_tools_code_from_job(const struct tkd_job *job, tkd_code_cfg *c, tkd_err *e) {
    tkd_tools_code_default(c);
    const char *mode = tkd_job_str(job, "tools.code.sandbox");
    c->mode = mode && !strcmp(mode, "allow-weak") ? TKD_SANDBOX_ALLOW_WEAK : TKD_SANDBOX_STRICT;
    c->timeout_s = tkd_job_num(job, "tools.code.timeout_s");
    c->memory_bytes = (size_t)tkd_job_int(job, "tools.code.memory_mb") << 20;
    c->output_bytes = (size_t)tkd_job_int(job, "tools.code.output_bytes");
    c->scratch_bytes = (size_t)tkd_job_int(job, "tools.code.scratch_mb") << 20;
    const char *py = tkd_job_str(job, "tools.code.python");
    if (py && *py) {
        if (py[0] != '/' || strlen(py) >= sizeof c->python)
            return tkd_err_set(e, TKD_EINVAL,
                               "%s: tools.code.python: give an absolute path (at most %d bytes), e.g. "
                               "\"/usr/bin/python3\"",
                               job->path, TKD_CODE_PATH_MAX - 1);
        snprintf(c->python, sizeof c->python, "%s", py);
    }
    return 0;
}

/* Bytes of s made valid UTF-8 (a bad byte becomes '?'), in the arena. */
static char *utf8_clean(tkd_arena *ta, const char *s, size_t n) {
    char *o = tkd_arena_alloc(ta, n + 1);
    if (!o)
        return NULL;
    memcpy(o, s, n);
    o[n] = 0;
    for (size_t i = 0; i < n;) {
        unsigned char b = (unsigned char)o[i];
        size_t len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (len && (len == 1 || (i + len <= n && tkd_text_utf8_valid(o + i, len)))) {
            if (len == 1 && b == 0)
                o[i] = '?';
            i += len;
        } else {
            o[i++] = '?';
        }
    }
    return o;
}

/* Back to a UTF-8 boundary. */
static size_t boundary(const char *s, size_t i) {
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80)
        i--;
    return i;
}

/* s (n bytes, of total produced) cut to about budget bytes: a head and a
 * tail around a note (head_share of the budget goes to the head). */
static tkd_json *trimmed(tkd_arena *ta, const char *s, size_t n, size_t total, size_t budget, double head_share) {
    if (n <= budget && total == n)
        return tkd_json_string(ta, utf8_clean(ta, s, n));
    char note[120];
    size_t head = boundary(s, (size_t)((double)budget * head_share)), tail = budget - (head < budget ? head : budget);
    if (head > n)
        head = boundary(s, n);
    if (tail > n - head)
        tail = n - head;
    size_t tstart = n - tail;
    while (tstart < n && ((unsigned char)s[tstart] & 0xC0) == 0x80)
        tstart++;
    snprintf(note, sizeof note, "\n[... %zu bytes not shown ...]\n", total - head - (n - tstart));
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_buf_append(&b, s, head);
    tkd_buf_puts(&b, note);
    tkd_buf_append(&b, s + tstart, n - tstart);
    char *c = b.data ? utf8_clean(ta, b.data, b.len) : NULL;
    tkd_buf_free(&b);
    return c ? tkd_json_string(ta, c) : NULL;
}

/* The last line of text (for the memory check and error messages). */
static const char *tail_of(const tkd_buf *b, size_t max) {
    if (!b->len)
        return "";
    size_t n = b->len, start = n > max ? n - max : 0;
    start = boundary(b->data, start);
    return b->data + start;
}

static int ends_in_memory_error(const tkd_buf *err) {
    if (!err->len)
        return 0;
    /* the last line of a traceback: "MemoryError" or "numpy.core._exceptions._ArrayMemoryError: ..." */
    size_t n = err->len;
    while (n && (err->data[n - 1] == '\n' || err->data[n - 1] == '\r'))
        n--;
    size_t s = n;
    while (s && err->data[s - 1] != '\n')
        s--;
    return memmem(err->data + s, n - s, "MemoryError", 11) != NULL;
}

int tcode_run_python(tkd_arena *ta, const tkd_json *args, const tkd_tool_limits *lim, tkd_json **result, tkd_err *e) {
    const tkd_json *cv = tkd_json_get(args, "code");
    if (!cv || cv->kind != TKD_JSON_STR)
        return tkd_err_set(e, TKD_EINVAL,
                           "run_python: 'code' must be a string holding a Python program, e.g. {\"code\": "
                           "\"print(2**100)\"}");
    if (memchr(cv->s, 0, cv->n))
        return tkd_err_set(e, TKD_EINVAL, "run_python: the code contains a NUL character; remove it");
    size_t k = 0;
    while (k < cv->n && strchr(" \t\r\n", cv->s[k]))
        k++;
    if (k == cv->n)
        return tkd_err_set(e, TKD_EINVAL,
                           "run_python: 'code' is empty; pass a program that prints what you want to see");
    tkd_code_cfg cfg = lim->code;
    if (cfg.timeout_s <= 0 || !cfg.memory_bytes || !cfg.output_bytes || !cfg.scratch_bytes) {
        tkd_code_cfg d;
        tkd_tools_code_default(&d);
        if (cfg.timeout_s <= 0)
            cfg.timeout_s = d.timeout_s;
        if (!cfg.memory_bytes)
            cfg.memory_bytes = d.memory_bytes;
        if (!cfg.output_bytes)
            cfg.output_bytes = d.output_bytes;
        if (!cfg.scratch_bytes)
            cfg.scratch_bytes = d.scratch_bytes;
    }
    tsbx_result r;
    tsbx_result_init(&r);
    int rc = tsbx_run(&cfg, cv->s, &r, e);
    if (rc) {
        tsbx_result_free(&r);
        return rc;
    }
    if (r.survivors) /* the weak mode's group kill did not finish in time: say so, loudly */
        tkd_log_warn("run_python: processes of the program's group %s were still alive after the call",
                     r.weak ? "(weak sandbox)" : "");
    size_t mib = cfg.memory_bytes >> 20;
    if (r.timed_out || r.signal == SIGXCPU)
        rc = tkd_err_set(e, TKD_ETIMEOUT,
                         "run_python: the program ran past the %s limit of %g s and was stopped (an endless loop, or "
                         "too much work: use a faster method or a smaller search). Its last output: %.300s",
                         r.timed_out ? "time" : "CPU-time", cfg.timeout_s, tail_of(&r.out, 300));
    else if (r.output_capped)
        rc = tkd_err_set(e, TKD_ELIMIT,
                         "run_python: the program printed more than %zu bytes and was stopped; print less (a count, "
                         "a summary, the first few items). Its first output: %.200s",
                         cfg.output_bytes, r.out.len ? r.out.data : "");
    else if ((r.exit_code != 0 && ends_in_memory_error(&r.err)) || r.signal == SIGSEGV || r.signal == SIGBUS ||
             r.signal == SIGABRT)
        rc = tkd_err_set(e, TKD_ELIMIT,
                         "run_python: the program ran out of memory (limit %zu MiB) or crashed; use less memory "
                         "(smaller arrays, generators instead of lists). The end of its error output: %.300s",
                         mib, tail_of(&r.err, 300));
    if (rc) {
        tsbx_result_free(&r);
        return rc;
    }
    size_t cap = lim->output_max ? lim->output_max : TKD_TOOL_OUTPUT_MAX;
    size_t budget = cap > ANSWER_OVERHEAD * 2 ? (cap - ANSWER_OVERHEAD) / 2 : 128; /* escapes can double it */
    size_t bo = r.err.len ? budget * 2 / 3 : budget, be = budget - (r.err.len ? bo : budget);
    if (!r.err.len)
        be = 0;
    tkd_json *o = tkd_json_new(ta, TKD_JSON_OBJ);
    tkd_json *so = trimmed(ta, r.out.data ? r.out.data : "", r.out.len, r.out_total, bo, 0.5);
    tkd_json *se = trimmed(ta, r.err.data ? r.err.data : "", r.err.len, r.err_total, be ? be : 1, 0.25);
    if (!o || !so || !se || tkd_json_set(ta, o, "stdout", so) || tkd_json_set(ta, o, "stderr", se) ||
        tkd_json_set(ta, o, "exit_status", tkd_json_integer(ta, r.exit_code)))
        rc = tkd_err_set(e, TKD_ENOMEM, "run_python: out of memory");
    if (!rc && r.signal) {
        const char *name = sigabbrev_np(r.signal);
        char sig[32];
        snprintf(sig, sizeof sig, "SIG%s", name ? name : "?");
        rc = tkd_json_set(ta, o, "signal", tkd_json_string(ta, sig)) ? tkd_err_set(e, TKD_ENOMEM, "out of memory") : 0;
    }
    tsbx_result_free(&r);
    if (!rc)
        *result = o;
    return rc;
}

const struct tkd_tool tkd_tools_code_table[] = {
    {"run_python",
     "code",
     "run a Python 3 program in a sandbox; answers what it printed (opt-in: name it in solve.tools)",
     "Run a Python 3 program and get back what it printed. Use it for counting, searching, simulation and numeric "
     "checks. Write a complete program and print() every value you want to see: only printed output comes back (a "
     "bare expression on the last line shows nothing). Answers {\"stdout\": ..., \"stderr\": ..., \"exit_status\": "
     "N}: exit_status 0 means the program ended normally; on an exception the traceback is in stderr. Long output "
     "is trimmed in the middle, so print only what you need. Limits per call (defaults): 10 s of time, 1 GiB of "
     "memory, 1 MiB of output; a program that passes one is stopped and the call answers an error. The standard "
     "library (math, itertools, fractions) is there, and SymPy and NumPy when the node has them. There is no "
     "network, and no files except the current folder (the scratch folder /tmp), which is empty at the start: "
     "nothing persists between calls, so each program must compute everything it needs. Example: {\"code\": \"from "
     "itertools import permutations\\nprint(sum(all(p[i] != i for i in range(6)) for p in "
     "permutations(range(6))))\"} -> {\"stdout\": \"265\\n\", \"stderr\": \"\", \"exit_status\": 0}.",
     {{"code", TP_TEXT, 1, "the Python 3 program; print() the values you want to see"}},
     NULL},
    {NULL, NULL, NULL, NULL, {{0}}, NULL}};
