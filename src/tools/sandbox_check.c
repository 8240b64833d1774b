/*
 * `tkd tool sandbox-check`: what this node supports for run_python. Probes
 * each namespace kind inside a new user namespace, loads the seccomp filter
 * in a child, and runs a small program (the interpreter's version, whether
 * SymPy and NumPy import) in the strict sandbox and in the weak one.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/seccomp.h>

#include "sandbox.h"

static int probe_clone(int flags) {
    pid_t pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid < 0)
        return 0;
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static int probe_seccomp(void) {
    struct sock_filter *prog;
    unsigned short len;
    tkd_err e = {0};
    if (tsbx_filter_build(0, 0, &prog, &len, &e))
        return 0;
    pid_t pid = fork();
    if (pid == 0) {
        struct sock_fprog fp = {len, prog};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp))
            _exit(1);
        _exit(syscall(SYS_ptrace, 0, 0, 0, 0) < 0 && errno == EPERM ? 0 : 2); /* denied, as it must be */
    }
    free(prog);
    int st = 0;
    if (pid < 0)
        return 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

static const char PROBE[] = "import sys\n"
                            "print(sys.version.split()[0])\n"
                            "for m in ('sympy', 'numpy'):\n"
                            "    try:\n"
                            "        print(m, __import__(m).__version__)\n"
                            "    except Exception:\n"
                            "        print(m, '-')\n";

/* Run PROBE in one mode; 1 when it ran and printed its lines. */
static int probe_run(const tkd_code_cfg *base, int weak, tkd_sandbox_report *r, char *why, size_t cap) {
    tkd_code_cfg c = *base;
    c.mode = weak ? TKD_SANDBOX_ALLOW_WEAK : TKD_SANDBOX_STRICT;
    c.force_weak = weak;
    tsbx_result res;
    tsbx_result_init(&res);
    tkd_err e = {0};
    int ok = 0;
    if (tsbx_run(&c, PROBE, &res, &e)) {
        snprintf(why, cap, "%s", e.msg);
    } else if (res.exit_code != 0 || !res.out.len) {
        snprintf(why, cap, "the test program failed (exit status %d, signal %d): %.300s", res.exit_code, res.signal,
                 res.err.len ? res.err.data : "");
    } else {
        ok = 1;
        char *s = res.out.data, *nl = strchr(s, '\n');
        if (nl)
            snprintf(r->python_version, sizeof r->python_version, "%.*s", (int)(nl - s), s);
        r->sympy |= strstr(s, "\nsympy ") && !strstr(s, "\nsympy -");
        r->numpy |= strstr(s, "\nnumpy ") && !strstr(s, "\nnumpy -");
    }
    tsbx_result_free(&res);
    return ok;
}

int tkd_tools_sandbox_check(const tkd_code_cfg *c, tkd_sandbox_report *r) {
    memset(r, 0, sizeof *r);
    FILE *f = fopen("/proc/sys/kernel/unprivileged_userns_clone", "r");
    char v1[32] = "(absent)", v2[32] = "(absent)";
    if (f) {
        if (!fgets(v1, sizeof v1, f))
            snprintf(v1, sizeof v1, "?");
        fclose(f);
    }
    if ((f = fopen("/proc/sys/user/max_user_namespaces", "r"))) {
        if (!fgets(v2, sizeof v2, f))
            snprintf(v2, sizeof v2, "?");
        fclose(f);
    }
    v1[strcspn(v1, "\n")] = v2[strcspn(v2, "\n")] = 0;
    snprintf(r->sysctl, sizeof r->sysctl, "kernel.unprivileged_userns_clone = %s, user.max_user_namespaces = %s", v1,
             v2);
    r->userns = probe_clone(CLONE_NEWUSER);
    if (r->userns) {
        r->pidns = probe_clone(CLONE_NEWUSER | CLONE_NEWPID);
        r->mntns = probe_clone(CLONE_NEWUSER | CLONE_NEWNS);
        r->netns = probe_clone(CLONE_NEWUSER | CLONE_NEWNET);
        r->ipcns = probe_clone(CLONE_NEWUSER | CLONE_NEWIPC);
        r->utsns = probe_clone(CLONE_NEWUSER | CLONE_NEWUTS);
    }
    r->seccomp = probe_seccomp();
    tkd_err e = {0};
    if (tsbx_python(c, r->python, sizeof r->python, &e)) {
        snprintf(r->strict_why, sizeof r->strict_why, "%s", e.msg);
        snprintf(r->weak_why, sizeof r->weak_why, "%s", e.msg);
        return 0;
    }
    r->strict_ok = probe_run(c, 0, r, r->strict_why, sizeof r->strict_why);
    r->weak_ok = probe_run(c, 1, r, r->weak_why, sizeof r->weak_why);
    return 0;
}
