/*
 * run_python's system-call filter, built with libseccomp and exported as a
 * BPF program, so the sandboxed child only loads it (no allocation after its
 * rlimits are set). Default deny: a call not listed fails with ENOSYS (so
 * glibc's fallbacks work, e.g. clone3 -> clone), the dangerous ones listed
 * below fail with EPERM, and calls of another architecture (i386, x32) kill
 * the process. The allowlist is what CPython, NumPy (OpenBLAS) and SymPy use,
 * found with strace, plus the ordinary file, memory, time and process calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <seccomp.h>

#include "sandbox.h"

static const char *const allowed[] = {
    /* files and descriptors */
    "read",
    "write",
    "readv",
    "writev",
    "pread64",
    "pwrite64",
    "preadv",
    "pwritev",
    "preadv2",
    "pwritev2",
    "lseek",
    "close",
    "close_range",
    "open",
    "openat",
    "openat2",
    "creat",
    "stat",
    "fstat",
    "lstat",
    "newfstatat",
    "statx",
    "fstatfs",
    "statfs",
    "access",
    "faccessat",
    "faccessat2",
    "readlink",
    "readlinkat",
    "getdents",
    "getdents64",
    "getcwd",
    "chdir",
    "fchdir",
    "mkdir",
    "mkdirat",
    "rmdir",
    "unlink",
    "unlinkat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "chmod",
    "fchmod",
    "fchmodat",
    "truncate",
    "ftruncate",
    "fsync",
    "fdatasync",
    "fallocate",
    "utime",
    "utimes",
    "utimensat",
    "futimesat",
    "umask",
    "fcntl",
    "flock",
    "dup",
    "dup2",
    "dup3",
    "pipe",
    "pipe2",
    "poll",
    "ppoll",
    "select",
    "pselect6",
    "epoll_create",
    "epoll_create1",
    "epoll_ctl",
    "epoll_wait",
    "epoll_pwait",
    "epoll_pwait2",
    "eventfd",
    "eventfd2",
    "sendfile",
    "copy_file_range",
    "splice",
    "tee",
    "memfd_create",
    "shutdown",
    "sendmsg",
    "recvmsg",
    "sendto",
    "recvfrom",
    "getsockopt",
    "setsockopt",
    "getsockname",
    "getpeername",
    "fadvise64",
    "readahead",
    "getxattr",
    "lgetxattr",
    "fgetxattr",
    "listxattr",
    "flistxattr",
    "llistxattr",
    /* memory */
    "mmap",
    "munmap",
    "mprotect",
    "mremap",
    "madvise",
    "brk",
    "msync",
    "mincore",
    "mbind",
    "get_mempolicy",
    "membarrier",
    /* signals and time */
    "rt_sigaction",
    "rt_sigprocmask",
    "rt_sigreturn",
    "rt_sigsuspend",
    "rt_sigpending",
    "rt_sigtimedwait",
    "sigaltstack",
    "nanosleep",
    "clock_nanosleep",
    "clock_gettime",
    "clock_getres",
    "gettimeofday",
    "time",
    "times",
    "alarm",
    "setitimer",
    "getitimer",
    "timer_create",
    "timer_settime",
    "timer_gettime",
    "timer_delete",
    "timer_getoverrun",
    "timerfd_create",
    "timerfd_settime",
    "timerfd_gettime",
    "pause",
    "restart_syscall",
    /* the process */
    "getpid",
    "getppid",
    "gettid",
    "getuid",
    "geteuid",
    "getgid",
    "getegid",
    "getgroups",
    "getresuid",
    "getresgid",
    "getpgrp",
    "getpgid",
    "getsid",
    "getrusage",
    "getrlimit",
    "setrlimit",
    "sched_yield",
    "sched_getaffinity",
    "sched_getparam",
    "sched_getscheduler",
    "sched_get_priority_max",
    "sched_get_priority_min",
    "getpriority",
    "uname",
    "sysinfo",
    "getrandom",
    "futex",
    "futex_waitv",
    "set_robust_list",
    "get_robust_list",
    "rseq",
    "set_tid_address",
    "arch_prctl",
    "prctl",
    "capget",
    "getcpu",
    "exit",
    "exit_group",
    "wait4",
    "waitid",
    "fork",
    "vfork",
    "execve",
    "execveat",
};

/* Denied with EPERM, so the code sees a clear "Operation not permitted". */
static const char *const denied[] = {
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "process_madvise",
    "kcmp",
    "pidfd_open",
    "pidfd_getfd",
    "pidfd_send_signal",
    "mount",
    "umount2",
    "pivot_root",
    "chroot",
    "mount_setattr",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "unshare",
    "setns",
    "keyctl",
    "add_key",
    "request_key",
    "init_module",
    "finit_module",
    "delete_module",
    "bpf",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "reboot",
    "socket",
    "setsid",
    "setpgid",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setresuid",
    "setresgid",
    "setgroups",
    "setfsuid",
    "setfsgid",
    "capset",
    "swapon",
    "swapoff",
    "acct",
    "syslog",
    "open_by_handle_at",
    "name_to_handle_at",
    "userfaultfd",
    "personality",
    "quotactl",
    "fanotify_init",
    "ioperm",
    "iopl",
    "sethostname",
    "setdomainname",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "move_pages",
    "migrate_pages",
    "set_mempolicy",
    "memfd_secret",
    "vhangup",
    "mlock",
    "mlock2",
    "mlockall",
    "sched_setaffinity",
    "sched_setscheduler",
    "sched_setparam",
    "setpriority",
    "rt_sigqueueinfo",
    "rt_tgsigqueueinfo",
    "prlimit64",
    "tkill",
    "kill",
    "tgkill",
    "clone",
    "ioctl",
    "socketpair",
    "lookup_dcookie",
    "uselib",
    "nfsservctl",
    "inotify_init",
    "inotify_init1",
    "fanotify_mark",
};
/* (the calls of the last lines are allowed again below, with argument checks:
 * a conditional allow rule next to the default errno). clone3 is left to the
 * default ENOSYS on purpose: its flags are in memory, out of the filter's
 * reach, and glibc falls back to clone (checked) on ENOSYS only. */

static int add(scmp_filter_ctx ctx, uint32_t action, const char *name, unsigned n, const struct scmp_arg_cmp *cmp) {
    int nr = seccomp_syscall_resolve_name(name);
    if (nr == __NR_SCMP_ERROR)
        return 0; /* not a call of this architecture */
    return seccomp_rule_add_array(ctx, action, nr, n, cmp);
}

#define NS_FLAGS                                                                                                       \
    ((scmp_datum_t)(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET |          \
                    CLONE_NEWCGROUP | 0x80 /* CLONE_NEWTIME */))

static int conditional(scmp_filter_ctx ctx, int weak, pid_t self) {
    int rc = 0;
    /* clone: threads and processes, never new namespaces */
    struct scmp_arg_cmp clone_ok = SCMP_A0(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
    rc |= add(ctx, SCMP_ACT_ALLOW, "clone", 1, &clone_ok);
    /* socketpair: AF_UNIX only (multiprocessing); socket() itself is denied */
    struct scmp_arg_cmp unix_only = SCMP_A0_32(SCMP_CMP_EQ, AF_UNIX);
    rc |= add(ctx, SCMP_ACT_ALLOW, "socketpair", 1, &unix_only);
    /* prlimit64 on itself only (glibc's getrlimit) */
    struct scmp_arg_cmp self_only = SCMP_A0(SCMP_CMP_EQ, 0);
    rc |= add(ctx, SCMP_ACT_ALLOW, "prlimit64", 1, &self_only);
    /* ioctl: the requests of isatty, terminal size, FIONREAD and close-on-exec;
     * never TIOCSTI (typing into a terminal) */
    static const unsigned long ioctls[] = {TCGETS, TIOCGWINSZ, FIONREAD, FIONBIO, FIOCLEX, FIONCLEX, TIOCGPGRP};
    for (size_t i = 0; i < sizeof ioctls / sizeof ioctls[0]; i++) {
        struct scmp_arg_cmp req = SCMP_A1_32(SCMP_CMP_EQ, (scmp_datum_t)ioctls[i]);
        rc |= add(ctx, SCMP_ACT_ALLOW, "ioctl", 1, &req);
    }
    if (!weak) { /* the PID namespace holds only the code's processes */
        rc |= add(ctx, SCMP_ACT_ALLOW, "kill", 0, NULL);
        rc |= add(ctx, SCMP_ACT_ALLOW, "tgkill", 0, NULL);
        rc |= add(ctx, SCMP_ACT_ALLOW, "tkill", 0, NULL);
        return rc;
    }
    /* weak: signals reach the code's own process group only (its leader is
     * self): kill(0), kill(-self), kill(self), tgkill(self, ...) */
    scmp_datum_t targets[] = {0, (scmp_datum_t)(uint32_t)(-self), (scmp_datum_t)self};
    for (size_t i = 0; i < 3; i++) {
        struct scmp_arg_cmp to = SCMP_A0_32(SCMP_CMP_EQ, targets[i]);
        rc |= add(ctx, SCMP_ACT_ALLOW, "kill", 1, &to);
    }
    struct scmp_arg_cmp tg = SCMP_A0_32(SCMP_CMP_EQ, (scmp_datum_t)self);
    rc |= add(ctx, SCMP_ACT_ALLOW, "tgkill", 1, &tg);
    return rc;
}

int tsbx_filter_build(int weak, pid_t self, struct sock_filter **prog, unsigned short *len, tkd_err *e) {
    *prog = NULL;
    *len = 0;
    scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(ENOSYS));
    if (!ctx)
        return tkd_err_set(e, TKD_ENOMEM, "run_python: cannot build the seccomp filter (seccomp_init)");
    int rc = 0;
    for (size_t i = 0; !rc && i < sizeof allowed / sizeof allowed[0]; i++)
        rc = add(ctx, SCMP_ACT_ALLOW, allowed[i], 0, NULL);
    /* the denied calls that have a conditional allow rule keep the default
     * errno for the other arguments: EPERM would conflict with the rule */
    static const char *const conditional_names[] = {"clone", "socketpair", "prlimit64", "ioctl",
                                                    "kill",  "tgkill",     "tkill"};
    for (size_t i = 0; !rc && i < sizeof denied / sizeof denied[0]; i++) {
        int cond = 0;
        for (size_t k = 0; k < sizeof conditional_names / sizeof conditional_names[0]; k++)
            cond |= !strcmp(denied[i], conditional_names[k]);
        if (!cond)
            rc = add(ctx, SCMP_ACT_ERRNO(EPERM), denied[i], 0, NULL);
    }
    if (!rc)
        rc = conditional(ctx, weak, self);
    int fd = rc ? -1 : memfd_create("tkd-seccomp", MFD_CLOEXEC);
    if (!rc && fd >= 0 && !(rc = seccomp_export_bpf(ctx, fd))) {
        struct stat st;
        off_t sz = fstat(fd, &st) ? -1 : st.st_size;
        if (sz <= 0 || sz % (off_t)sizeof(struct sock_filter) ||
            sz / (off_t)sizeof(struct sock_filter) > TSBX_FILTER_MAX)
            rc = -EINVAL;
        else if (!(*prog = malloc((size_t)sz)))
            rc = -ENOMEM;
        else if (pread(fd, *prog, (size_t)sz, 0) != (ssize_t)sz)
            rc = -EIO;
        else
            *len = (unsigned short)(sz / (off_t)sizeof(struct sock_filter));
    }
    if (fd >= 0)
        close(fd);
    else if (!rc)
        rc = -errno;
    seccomp_release(ctx);
    if (rc) {
        free(*prog);
        *prog = NULL;
        return tkd_err_set(e, TKD_EINTERNAL, "run_python: cannot build the seccomp filter: %s", strerror(-rc));
    }
    return 0;
}
