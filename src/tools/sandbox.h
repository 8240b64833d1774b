/*
 * The sandbox of run_python (private to tools): one process tree per call,
 * confined by namespaces (strict) or by what an unprivileged process can do
 * to itself (weak), both under seccomp, rlimits and a wall-time watchdog.
 * sandbox.c runs a program; seccomp.c builds the system-call filter.
 */
#ifndef TKD_TOOLS_SANDBOX_H
#define TKD_TOOLS_SANDBOX_H

#include <linux/filter.h>
#include <sys/types.h>

#include "tkd/core.h"
#include "tkd/tools.h"

#define TSBX_FILTER_MAX 4096 /* BPF instructions: the kernel's own limit */

/* The BPF program of the filter: allow what CPython and NumPy need, deny the
 * rest. weak: kill/tgkill only reach the code's own process group (self is
 * its leader); strict leaves them to the PID namespace. */
int tsbx_filter_build(int weak, pid_t self, struct sock_filter **prog, unsigned short *len, tkd_err *e);

typedef struct tsbx_result {
    int weak;          /* the mode that ran */
    int exit_code;     /* the program's exit status; -1 when a signal ended it */
    int signal;        /* that signal */
    int timed_out;     /* the watchdog killed it */
    int output_capped; /* output past cfg->output_bytes: killed */
    size_t out_total, err_total;
    tkd_buf out, err; /* what was read (at most output_bytes in all) */
    double seconds;
    int survivors; /* processes of the code still alive after the call (must be 0) */
} tsbx_result;

void tsbx_result_init(tsbx_result *r);
void tsbx_result_free(tsbx_result *r);

/* Why strict mode cannot run here ("" when it can): probes a user namespace
 * with every other kind (what clone says, and the sysctls). */
void tsbx_strict_unavailable(const tkd_code_cfg *c, char *why, size_t cap);

/* The interpreter: c->python, or the first python3 on PATH; absolute. */
int tsbx_python(const tkd_code_cfg *c, char *out, size_t cap, tkd_err *e);

/* Run python -I -B -c code in the sandbox. Fails (TKD_EINVAL) when strict
 * is required and unavailable, saying why and what to set; TKD_EIO when the
 * sandbox could not be built. A program that ran fills r, whatever its end. */
int tsbx_run(const tkd_code_cfg *c, const char *code, tsbx_result *r, tkd_err *e);

#endif
