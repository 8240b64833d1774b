/*
 * run_python's sandbox: one new process tree per call.
 *
 * Strict: a first child (fork) unshares new user, PID, mount, network, IPC
 * and UTS namespaces; the parent maps one uid and gid for it, TKD_CODE_UID
 * inside to TKD_CODE_UID outside when it is root (so the code never holds
 * real root) or to its own id otherwise. The first child takes that uid and
 * forks init, PID 1 of the new PID namespace, which builds a new root on a
 * tmpfs: /usr, /etc, /bin, /lib* and the interpreter's prefix bound
 * read-only, a fresh /proc (only the sandbox's processes), a /dev of null,
 * zero, full, random and urandom, and a private size-limited tmpfs at /tmp,
 * the scratch folder; it pivots into it, drops every capability, forks the
 * program and reaps. Both are non-dumpable with their environment wiped
 * (their memory is a copy of the caller's). The network namespace is empty
 * (a loopback that is down). When init exits the kernel kills whatever the
 * code left in the namespace, so no process survives a call. Only glibc's
 * fork() makes these processes (a raw clone() from a process with threads
 * could inherit a lock held by another thread).
 *
 * Weak (no user namespaces; only when the job allows it): the child starts a
 * session of its own, drops root to TKD_CODE_UID when it has it, and works in
 * a scratch folder under $TMPDIR; the watchdog kills the process group, which
 * the filter keeps the code from leaving (setsid and setpgid are denied).
 *
 * Both: a scrubbed environment, rlimits (CPU, address space, file size, open
 * files, processes, no core), no new privileges, the seccomp filter, stdin
 * /dev/null, stdout and stderr read by the parent up to an output cap, and a
 * wall-time watchdog.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/mount.h>
#include <linux/seccomp.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"

#define NS_FLAGS (CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
#define STAGE "/tmp" /* where init mounts the new root before pivoting */
#define ROOT_TMPFS "size=1m,mode=0755"
#define REAP_WAIT_S 2.0   /* weak: how long the group may take to die after SIGKILL */
#define SETUP_WAIT_S 10.0 /* strict: how long entering the namespaces may take */

void tsbx_result_init(tsbx_result *r) {
    memset(r, 0, sizeof *r);
    tkd_buf_init(&r->out);
    tkd_buf_init(&r->err);
}

void tsbx_result_free(tsbx_result *r) {
    tkd_buf_free(&r->out);
    tkd_buf_free(&r->err);
}

static int force_weak(const tkd_code_cfg *c) {
    const char *f = getenv("TKD_SANDBOX_FORCE_WEAK");
    return c->force_weak || (f && *f && strcmp(f, "0"));
}

int tsbx_python(const tkd_code_cfg *c, char *out, size_t cap, tkd_err *e) {
    if (c->python[0]) {
        if (c->python[0] != '/' || access(c->python, X_OK))
            return tkd_err_set(
                e, TKD_ENOTFOUND,
                "run_python: the interpreter '%s' (tools.code.python) is not an executable absolute path", c->python);
        snprintf(out, cap, "%s", c->python);
        return 0;
    }
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        if (n && p[0] == '/' && (size_t)snprintf(out, cap, "%.*s/python3", (int)n, p) < cap && !access(out, X_OK))
            return 0;
        p += n + (p[n] == ':');
    }
    out[0] = 0;
    return tkd_err_set(e, TKD_ENOTFOUND, "run_python: no python3 on PATH; set tools.code.python to an interpreter");
}

/* ---- small helpers shared by the children ---- */

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

/* Strict mode's reports to the parent over the status pipe: fixed-size
 * records, each written at once (smaller than PIPE_BUF, so never mixed). */
typedef struct report {
    char type; /* 'U' no namespaces (val: errno), 'R' ready for the id maps,
                  'P' init's pid (val), 'E' setup failed (text), 'S' the program's wait status (val) */
    int val;
    char text[300];
} report;

static void send_report(int fd, char type, int val, const char *text) {
    report r;
    memset(&r, 0, sizeof r);
    r.type = type;
    r.val = val;
    if (text)
        snprintf(r.text, sizeof r.text, "%s", text);
    if (write(fd, &r, sizeof r) != (ssize_t)sizeof r)
        _exit(125);
}

/* Setup failed: say what, then _exit. */
static void die(int fd, const char *what) {
    char msg[300];
    snprintf(msg, sizeof msg, "%s: %s", what, strerror(errno));
    send_report(fd, 'E', 0, msg);
    _exit(125);
}

/* ---- strict: the new root (in init, with the namespace's capabilities) ---- */

static int make_ro(const char *target) {
    struct mount_attr a = {.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV};
    if (!syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &a, sizeof a))
        return 0;
    /* before Linux 5.12: the top mount only */
    return mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL);
}

static int mkdirs(const char *path) {
    char p[PATH_MAX];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(p, 0755) && errno != EEXIST)
                return -1;
            *s = '/';
        }
    return mkdir(p, 0755) && errno != EEXIST ? -1 : 0;
}

/* Bind host path read-only at the same place under STAGE; a symlink
 * (/bin -> usr/bin on merged-/usr systems) is copied as a symlink. */
static int bind_ro(const char *path, int required) {
    char dst[PATH_MAX], link[PATH_MAX];
    struct stat st;
    if (lstat(path, &st))
        return required ? -1 : 0;
    snprintf(dst, sizeof dst, STAGE "%s", path);
    if (S_ISLNK(st.st_mode)) {
        ssize_t n = readlink(path, link, sizeof link - 1);
        if (n < 0)
            return -1;
        link[n] = 0;
        return symlink(link, dst) && errno != EEXIST ? -1 : 0;
    }
    if (!S_ISDIR(st.st_mode))
        return required ? -1 : 0;
    if (mkdirs(dst) || mount(path, dst, NULL, MS_BIND | MS_REC, NULL) || make_ro(dst))
        return -1;
    return 0;
}

/* The folders the interpreter needs beyond the system ones: its prefix (the
 * parent of its bin/), as named and as resolved (a venv links to its base). */
static void python_prefix(const char *python, char *out, size_t cap, int resolve) {
    char buf[PATH_MAX];
    out[0] = 0;
    if (resolve ? !realpath(python, buf) : (size_t)snprintf(buf, sizeof buf, "%s", python) >= sizeof buf)
        return;
    for (int up = 0; up < 2; up++) {
        char *s = strrchr(buf, '/');
        if (!s || s == buf)
            return;
        *s = 0;
    }
    static const char *const sys[] = {"/usr", "/bin", "/lib", "/lib64", "/etc", "/sbin"};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++) {
        size_t n = strlen(sys[i]);
        if (!strncmp(buf, sys[i], n) && (buf[n] == '/' || !buf[n]))
            return;
    }
    snprintf(out, cap, "%s", buf);
}

static void drop_caps(void) {
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];
    memset(d, 0, sizeof d);
    for (int cap = 0; cap <= 63; cap++)
        prctl(PR_CAPBSET_DROP, cap, 0, 0, 0);
    syscall(SYS_capset, &h, d);
}

static void build_root(const tkd_code_cfg *c, const char *python, int st) {
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
        die(st, "making the mounts private");
    if (mount("tkd-root", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, ROOT_TMPFS))
        die(st, "mounting the new root");
    static const char *const sys[] = {"/usr", "/etc", "/bin", "/sbin", "/lib", "/lib64", "/lib32", "/libx32"};
    for (size_t i = 0; i < sizeof sys / sizeof sys[0]; i++)
        if (bind_ro(sys[i], i == 0))
            die(st, sys[i]);
    char pre[PATH_MAX];
    for (int resolve = 0; resolve < 2; resolve++) {
        python_prefix(python, pre, sizeof pre, resolve);
        if (pre[0] && bind_ro(pre, 1))
            die(st, "binding the interpreter's folder");
    }
    /* /dev: the harmless devices */
    if (mkdir(STAGE "/dev", 0755) ||
        mount("tkd-dev", STAGE "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755"))
        die(st, "mounting /dev");
    static const char *const devs[] = {"null", "zero", "full", "random", "urandom"};
    for (size_t i = 0; i < sizeof devs / sizeof devs[0]; i++) {
        char src[64], dst[96];
        snprintf(src, sizeof src, "/dev/%s", devs[i]);
        snprintf(dst, sizeof dst, STAGE "/dev/%s", devs[i]);
        int fd = open(dst, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
        if (fd < 0 || close(fd) || mount(src, dst, NULL, MS_BIND, NULL))
            die(st, src);
    }
    /* POSIX shared memory and semaphores (multiprocessing) live in the scratch folder */
    if (symlink("/tmp", STAGE "/dev/shm") || symlink("/proc/self/fd", STAGE "/dev/fd") ||
        symlink("/proc/self/fd/0", STAGE "/dev/stdin") || symlink("/proc/self/fd/1", STAGE "/dev/stdout") ||
        symlink("/proc/self/fd/2", STAGE "/dev/stderr"))
        die(st, "/dev links");
    /* a fresh /proc: this PID namespace's processes only */
    if (mkdir(STAGE "/proc", 0555) || mount("proc", STAGE "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
        die(st, "mounting /proc");
    /* the scratch folder */
    char opt[64];
    snprintf(opt, sizeof opt, "size=%zuk,mode=1777,nr_inodes=4096", c->scratch_bytes >> 10);
    if (mkdir(STAGE "/tmp", 0755) || mount("tkd-scratch", STAGE "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, opt))
        die(st, "mounting the scratch folder");
    if (chdir(STAGE) || syscall(SYS_pivot_root, ".", ".") || umount2(".", MNT_DETACH) || chdir("/"))
        die(st, "pivot_root");
    if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
        die(st, "making the root read-only");
    if (sethostname("sandbox", 7))
        die(st, "sethostname");
}

/* ---- the program ---- */

typedef struct child_args {
    const tkd_code_cfg *c;
    const char *python, *code, *scratch;
    char *const *envp;
    int out, err, sync, st; /* the child's ends */
    int parent_fds[4];      /* the parent's ends, closed in the child */
    struct sock_filter *prog;
    unsigned short prog_len;
    rlim_t nproc;
    int drop_root;
} child_args;

static void set_limit(int res, rlim_t soft, rlim_t hard) {
    struct rlimit r = {soft, hard};
    setrlimit(res, &r);
}

/* Become the program: fds, limits, identity, no new privileges, the filter,
 * exec. Nothing here allocates (the limits are already set). */
static void exec_program(const child_args *a, struct sock_filter *prog, unsigned short prog_len) {
    int null = open("/dev/null", O_RDONLY);
    if (null < 0 || dup2(null, 0) < 0 || dup2(a->out, 1) < 0 || dup2(a->err, 2) < 0)
        _exit(126);
    if (syscall(SYS_close_range, 3, ~0U, 0))
        for (int fd = 3; fd < 1024; fd++)
            close(fd);
    double t = a->c->timeout_s;
    rlim_t cpu = (rlim_t)ceil(t) + 1;
    set_limit(RLIMIT_CPU, cpu, cpu + 1);
    set_limit(RLIMIT_FSIZE, a->c->scratch_bytes, a->c->scratch_bytes);
    set_limit(RLIMIT_NOFILE, TKD_CODE_NOFILE, TKD_CODE_NOFILE);
    set_limit(RLIMIT_NPROC, a->nproc, a->nproc);
    set_limit(RLIMIT_CORE, 0, 0);
    set_limit(RLIMIT_MEMLOCK, 0, 0);
    set_limit(RLIMIT_MSGQUEUE, 0, 0);
    if (a->drop_root) { /* weak mode run by root */
        if (setgroups(0, NULL) || setresgid(TKD_CODE_UID, TKD_CODE_UID, TKD_CODE_UID) ||
            setresuid(TKD_CODE_UID, TKD_CODE_UID, TKD_CODE_UID)) {
            dprintf(2, "tkd sandbox: cannot drop root: %s\n", strerror(errno));
            _exit(126);
        }
    }
    if (chdir(a->scratch)) {
        dprintf(2, "tkd sandbox: cannot enter the scratch folder: %s\n", strerror(errno));
        _exit(126);
    }
    set_limit(RLIMIT_AS, a->c->memory_bytes, a->c->memory_bytes);
    struct sock_fprog fp = {prog_len, prog};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fp)) {
        dprintf(2, "tkd sandbox: cannot load the seccomp filter: %s\n", strerror(errno));
        _exit(126);
    }
    char *argv[] = {(char *)a->python, "-I", "-B", "-c", (char *)a->code, NULL};
    execve(a->python, argv, a->envp);
    dprintf(2, "tkd sandbox: cannot run %s: %s\n", a->python, strerror(errno));
    _exit(127);
}

/* Strict: init, PID 1 of the new PID namespace: builds the root, forks the
 * program, reaps, reports the program's end and exits, and the kernel then
 * kills whatever the code left in the namespace. */
static void init_main(const child_args *a) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    build_root(a->c, a->python, a->st);
    drop_caps();
    pid_t pid = fork();
    if (pid < 0)
        die(a->st, "fork");
    if (pid == 0)
        exec_program(a, a->prog, a->prog_len);
    close(a->out);
    close(a->err);
    int status = 0;
    for (;;) {
        int s;
        pid_t w = wait(&s);
        if (w == pid) {
            status = s;
            break;
        }
        if (w < 0 && errno != EINTR)
            break;
    }
    send_report(a->st, 'S', status, NULL);
    _exit(0);
}

/* Strict: the first child. It enters the new namespaces (its children are
 * in the new PID namespace), lets the parent write its id maps, takes the
 * sandbox's uid, then forks init and waits for it: when init is gone, so is
 * every process of the namespace. */
static void ns_main(const child_args *a) {
    char go;
    for (int i = 0; i < 4; i++)
        close(a->parent_fds[i]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* the parent writes /proc/PID/uid_map, which a non-dumpable process's
     * owner cannot (its /proc files belong to root): dumpable until then */
    prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
    if (unshare(NS_FLAGS)) {
        send_report(a->st, 'U', errno, NULL);
        _exit(125);
    }
    send_report(a->st, 'R', 0, NULL);
    if (tkd_read_full(a->sync, &go, 1))
        _exit(125); /* the parent is gone or gave up */
    /* the caller's environment and memory must stay out of reach: clear the
     * environment strings, never be dumpable (no /proc/1/environ, /proc/1/mem) */
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    for (char **v = environ; v && *v; v++)
        memset(*v, 0, strlen(*v));
    setgroups(0, NULL); /* allowed when a root parent wrote the maps */
    if (setresgid(TKD_CODE_UID, TKD_CODE_UID, TKD_CODE_UID) || setresuid(TKD_CODE_UID, TKD_CODE_UID, TKD_CODE_UID))
        die(a->st, "taking the sandbox's uid");
    pid_t init = fork();
    if (init < 0)
        die(a->st, "fork");
    if (init == 0)
        init_main(a);
    send_report(a->st, 'P', (int)init, NULL);
    close(a->out);
    close(a->err);
    int st;
    while (waitpid(init, &st, 0) < 0 && errno == EINTR) {
    }
    _exit(0);
}

/* Weak: the program's own process, leader of a new session and group. */
static void weak_main(const child_args *a) {
    for (int i = 0; i < 4; i++)
        close(a->parent_fds[i]);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (setsid() < 0)
        _exit(125);
    unsigned short len;
    static struct sock_filter prog[TSBX_FILTER_MAX]; /* this process's own copy */
    if (tkd_read_full(a->sync, &len, sizeof len) || len == 0 || len > TSBX_FILTER_MAX ||
        tkd_read_full(a->sync, prog, (size_t)len * sizeof prog[0]))
        _exit(125);
    exec_program(a, prog, len);
}

/* ---- the parent ---- */

/* The user-namespace sysctls, for messages: "kernel.x = v, ..." */
static void sysctls(char *out, size_t cap) {
    static const char *const f[] = {"/proc/sys/kernel/unprivileged_userns_clone", "/proc/sys/user/max_user_namespaces",
                                    "/proc/sys/kernel/apparmor_restrict_unprivileged_userns"};
    size_t off = 0;
    out[0] = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0] && off < cap; i++) {
        char v[32] = "";
        FILE *fp = fopen(f[i], "r");
        if (!fp)
            continue;
        if (!fgets(v, sizeof v, fp))
            v[0] = 0;
        fclose(fp);
        v[strcspn(v, "\n")] = 0;
        const char *name = f[i] + 10; /* after /proc/sys/ */
        off += (size_t)snprintf(out + off, cap - off, "%s%s = %s", off ? ", " : "", name, v);
    }
    for (char *c = out; *c; c++)
        if (*c == '/')
            *c = '.';
}

void tsbx_strict_unavailable(const tkd_code_cfg *c, char *why, size_t cap) {
    why[0] = 0;
    if (force_weak(c)) {
        snprintf(why, cap, "user namespaces are turned off for run_python (TKD_SANDBOX_FORCE_WEAK)");
        return;
    }
    pid_t pid = (pid_t)syscall(SYS_clone, NS_FLAGS | SIGCHLD, 0, 0, 0, 0);
    if (pid == 0)
        _exit(0);
    if (pid < 0) {
        int err = errno;
        char sc[200];
        sysctls(sc, sizeof sc);
        snprintf(why, cap, "clone() into new user, PID, mount, network, IPC and UTS namespaces failed: %s%s%s%s",
                 strerror(err), sc[0] ? " (" : "", sc, sc[0] ? ")" : "");
        return;
    }
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

static int write_maps(pid_t pid) {
    char path[64], map[64];
    uid_t uid = geteuid();
    unsigned ou = uid == 0 ? TKD_CODE_UID : (unsigned)uid, og = uid == 0 ? TKD_CODE_UID : (unsigned)getegid();
    snprintf(path, sizeof path, "/proc/%d/setgroups", (int)pid);
    if (uid != 0 && write_file(path, "deny"))
        return -1;
    snprintf(path, sizeof path, "/proc/%d/uid_map", (int)pid);
    snprintf(map, sizeof map, "%u %u 1\n", TKD_CODE_UID, ou);
    if (write_file(path, map))
        return -1;
    snprintf(path, sizeof path, "/proc/%d/gid_map", (int)pid);
    snprintf(map, sizeof map, "%u %u 1\n", TKD_CODE_UID, og);
    return write_file(path, map);
}

/* Processes of uid now: weak mode's RLIMIT_NPROC counts all of them. */
static rlim_t procs_of(uid_t uid) {
    rlim_t n = 0;
    DIR *d = opendir("/proc");
    if (!d)
        return 4096;
    for (struct dirent *en; (en = readdir(d));) {
        char path[300];
        struct stat st;
        if (en->d_name[0] < '1' || en->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s", en->d_name);
        if (!stat(path, &st) && st.st_uid == uid)
            n++;
    }
    closedir(d);
    return n;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Read what fd has; keep it while the total stays within cap. */
static void take(int *fd, tkd_buf *b, size_t *total, size_t *all, size_t cap) {
    char buf[65536];
    for (;;) {
        ssize_t r = read(*fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return; /* EAGAIN */
        if (r == 0) {
            close(*fd);
            *fd = -1;
            return;
        }
        size_t keep = *all >= cap ? 0 : cap - *all < (size_t)r ? cap - *all : (size_t)r;
        if (keep)
            tkd_buf_append(b, buf, keep);
        *total += (size_t)r;
        *all += (size_t)r;
        if (*all > cap)
            return;
    }
}

typedef struct run_state {
    pid_t pid;  /* the first child (strict) or the program (weak) */
    pid_t init; /* strict: init, once reported (0 before) */
    int weak;
    int out, err, st, pidfd; /* parent's ends */
} run_state;

static void kill_tree(const run_state *s) {
    if (!s->weak) {
        /* init: the kernel kills the namespace with it, and the first child,
         * which waits for it, exits then */
        kill(s->init > 0 ? s->init : s->pid, SIGKILL);
        return;
    }
    kill(-s->pid, SIGKILL);
    kill(s->pid, SIGKILL);
}

/* Watch the program: output, the end, the watchdog, the output cap. */
static int watch(const tkd_code_cfg *c, run_state *s, tsbx_result *r, tkd_err *e) {
    double deadline = tkd_now() + c->timeout_s;
    size_t all = 0;
    int ended = 0, killed = 0, status = 0, have_status = 0;
    char setup_err[400] = "";
    while (!ended) {
        struct pollfd pf[3];
        int n = 0, io = -1, ie = -1, iend = -1;
        if (s->out >= 0)
            io = n, pf[n++] = (struct pollfd){s->out, POLLIN, 0};
        if (s->err >= 0)
            ie = n, pf[n++] = (struct pollfd){s->err, POLLIN, 0};
        int endfd = s->weak ? s->pidfd : s->st;
        if (endfd >= 0)
            iend = n, pf[n++] = (struct pollfd){endfd, POLLIN, 0};
        double left = deadline - tkd_now();
        int wait = killed ? 50 : left <= 0 ? 0 : (int)(left * 1000) + 1;
        if (endfd < 0 && wait > 10)
            wait = 10; /* no pidfd (Linux < 5.3): look every 10 ms */
        if (poll(pf, (nfds_t)n, wait) < 0 && errno != EINTR)
            return tkd_err_set(e, TKD_EIO, "run_python: poll: %s", strerror(errno));
        if (io >= 0 && pf[io].revents)
            take(&s->out, &r->out, &r->out_total, &all, c->output_bytes);
        if (ie >= 0 && pf[ie].revents)
            take(&s->err, &r->err, &r->err_total, &all, c->output_bytes);
        if (all > c->output_bytes && !killed) {
            r->output_capped = killed = 1;
            kill_tree(s);
        }
        if (!s->weak && iend >= 0 && pf[iend].revents) {
            report rep;
            ssize_t k = read(s->st, &rep, sizeof rep);
            if (k == (ssize_t)sizeof rep && rep.type == 'P') {
                s->init = (pid_t)rep.val;
                if (killed)
                    kill_tree(s);
            } else if (k == (ssize_t)sizeof rep && rep.type == 'S') {
                status = rep.val;
                have_status = ended = 1;
            } else if (k == (ssize_t)sizeof rep && rep.type == 'E') {
                snprintf(setup_err, sizeof setup_err, "%s", rep.text);
                ended = 1;
            } else if (k <= 0 && !(k < 0 && (errno == EINTR || errno == EAGAIN))) {
                ended = 1; /* the first child is gone */
            }
        } else if (s->weak) {
            siginfo_t si;
            si.si_pid = 0;
            if ((iend >= 0 && pf[iend].revents) ||
                (!waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) && si.si_pid == s->pid))
                ended = 1;
        }
        if (!ended && !killed && tkd_now() >= deadline) {
            r->timed_out = killed = 1;
            kill_tree(s);
        }
    }
    /* the end: nothing of the code may outlive the call */
    int ws = 0;
    if (s->weak) {
        kill(-s->pid, SIGKILL); /* before the leader is reaped, so its group id cannot be reused */
        while (waitpid(s->pid, &ws, 0) < 0 && errno == EINTR) {
        }
        status = ws;
        have_status = 1;
        double until = tkd_now() + REAP_WAIT_S;
        for (;;) {
            while (waitpid(-s->pid, NULL, WNOHANG) > 0) {
            }
            if (kill(-s->pid, 0) < 0 && errno == ESRCH)
                break;
            if (tkd_now() > until) {
                r->survivors = 1;
                break;
            }
            kill(-s->pid, SIGKILL);
            usleep(1000);
        }
    } else {
        if (s->init > 0)
            kill(s->init, SIGKILL); /* init has reported: end the namespace now */
        else
            kill(s->pid, SIGKILL);
        while (waitpid(s->pid, &ws, 0) < 0 && errno == EINTR) {
        }
    }
    double until = tkd_now() + 1.0; /* every writer is dead: the pipes are at EOF */
    while ((s->out >= 0 || s->err >= 0) && tkd_now() < until) {
        struct pollfd pf[2] = {{s->out, POLLIN, 0}, {s->err, POLLIN, 0}};
        poll(pf, 2, 100);
        if (s->out >= 0 && pf[0].revents)
            take(&s->out, &r->out, &r->out_total, &all, c->output_bytes);
        if (s->err >= 0 && pf[1].revents)
            take(&s->err, &r->err, &r->err_total, &all, c->output_bytes);
    }
    if (setup_err[0])
        return tkd_err_set(e, TKD_EIO, "run_python: the strict sandbox could not be built: %s", setup_err);
    if (have_status && WIFEXITED(status)) {
        r->exit_code = WEXITSTATUS(status);
    } else {
        r->exit_code = -1;
        r->signal = have_status && WIFSIGNALED(status) ? WTERMSIG(status) : SIGKILL;
    }
    return 0;
}

/* The environment of the code: nothing of the caller's. */
static void make_env(const char *python, const char *scratch, char store[][PATH_MAX + 64], char **envp) {
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", python);
    char *sl = strrchr(dir, '/');
    if (sl)
        *sl = 0;
    int k = 0;
    snprintf(store[k++], PATH_MAX + 64, "PATH=%s%s/usr/local/bin:/usr/bin:/bin",
             strcmp(dir, "/usr/bin") && strcmp(dir, "/bin") && strcmp(dir, "/usr/local/bin") ? dir : "",
             strcmp(dir, "/usr/bin") && strcmp(dir, "/bin") && strcmp(dir, "/usr/local/bin") ? ":" : "");
    snprintf(store[k++], PATH_MAX + 64, "HOME=%s", scratch);
    snprintf(store[k++], PATH_MAX + 64, "TMPDIR=%s", scratch);
    snprintf(store[k++], PATH_MAX + 64, "MPLCONFIGDIR=%s", scratch);
    static const char *const fixed[] = {"LANG=C.UTF-8",      "LC_ALL=C.UTF-8",    "OPENBLAS_NUM_THREADS=1",
                                        "OMP_NUM_THREADS=1", "MKL_NUM_THREADS=1", "NUMEXPR_NUM_THREADS=1",
                                        "MPLBACKEND=Agg",    "PYTHONHASHSEED=0"};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        snprintf(store[k++], PATH_MAX + 64, "%s", fixed[i]);
    for (int i = 0; i < k; i++)
        envp[i] = store[i];
    envp[k] = NULL;
}
#define ENV_N 12

static int run_mode(const tkd_code_cfg *c, const char *python, const char *code, int weak, tsbx_result *r,
                    int *unavailable, tkd_err *e) {
    int out[2] = {-1, -1}, err[2] = {-1, -1}, sync[2] = {-1, -1}, st[2] = {-1, -1};
    char scratch[PATH_MAX] = "/tmp";
    char(*store)[PATH_MAX + 64] = NULL;
    char *envp[ENV_N + 1];
    struct sock_filter *prog = NULL;
    unsigned short plen = 0;
    run_state s = {0, 0, weak, -1, -1, -1, -1};
    int was_dumpable = -1;
    int rc = 0;
    *unavailable = 0;
    if (weak) {
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/tkd-code-XXXXXX", tmp && *tmp == '/' ? tmp : "/tmp");
        if (!mkdtemp(scratch) || (geteuid() == 0 && chown(scratch, TKD_CODE_UID, TKD_CODE_UID)))
            return tkd_err_set(e, TKD_EIO, "run_python: cannot make a scratch folder in %s: %s", tmp ? tmp : "/tmp",
                               strerror(errno));
    } else if ((rc = tsbx_filter_build(0, 0, &prog, &plen, e))) {
        return rc;
    }
    if (!(store = calloc(ENV_N, sizeof *store)) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) ||
        pipe2(sync, O_CLOEXEC) || pipe2(st, O_CLOEXEC)) {
        rc = tkd_err_set(e, TKD_EIO, "run_python: cannot make pipes: %s", strerror(errno));
        goto out;
    }
    make_env(python, scratch, store, envp);
    child_args a = {c,      python, code,           scratch, envp,
                    out[1], err[1], sync[0],        st[1],   {out[0], err[0], sync[1], st[0]},
                    prog,   plen,   TKD_CODE_NPROC, 0};
    double t0 = tkd_now();
    if (weak) {
        a.drop_root = geteuid() == 0;
        a.nproc = procs_of(a.drop_root ? TKD_CODE_UID : geteuid()) + TKD_CODE_NPROC;
        prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphans of the code come back here to be reaped */
        /* while the code runs, it (same user) cannot read this process's memory */
        was_dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
        s.pid = fork();
        if (s.pid == 0)
            weak_main(&a);
    } else {
        s.pid = fork();
        if (s.pid == 0)
            ns_main(&a);
    }
    if (s.pid < 0) {
        int en = errno;
        rc = tkd_err_set(e, TKD_EIO, "run_python: cannot start the sandbox: %s", strerror(en));
        goto out;
    }
    close(out[1]), close(err[1]), close(sync[0]), close(st[1]);
    out[1] = err[1] = sync[0] = st[1] = -1;
    s.out = out[0], s.err = err[0], s.st = st[0]; /* s owns them now */
    out[0] = err[0] = st[0] = -1;
    fcntl(s.out, F_SETFL, O_NONBLOCK);
    fcntl(s.err, F_SETFL, O_NONBLOCK);
    int go_ok;
    if (weak) {
        s.pidfd = (int)syscall(SYS_pidfd_open, s.pid, 0);
        go_ok = !(rc = tsbx_filter_build(1, s.pid, &prog, &plen, e)) &&
                write(sync[1], &plen, sizeof plen) == sizeof plen &&
                write(sync[1], prog, (size_t)plen * sizeof *prog) == (ssize_t)((size_t)plen * sizeof *prog);
    } else {
        /* the first child enters the namespaces, then asks for its id maps */
        report rep;
        struct pollfd pf = {s.st, POLLIN, 0};
        ssize_t k = poll(&pf, 1, (int)(SETUP_WAIT_S * 1000)) == 1 ? read(s.st, &rep, sizeof rep) : -1;
        go_ok = k == (ssize_t)sizeof rep && rep.type == 'R' && !write_maps(s.pid) && write(sync[1], "g", 1) == 1;
        if (k == (ssize_t)sizeof rep && rep.type == 'U') {
            char sc[200];
            sysctls(sc, sizeof sc);
            errno = rep.val;
            rc = tkd_err_set(e, TKD_EIO,
                             "unshare() into new user, PID, mount, network, IPC and UTS namespaces failed: %s%s%s%s",
                             strerror(rep.val), sc[0] ? " (" : "", sc, sc[0] ? ")" : "");
        } else if (!go_ok) {
            rc = tkd_err_set(e, TKD_EIO, "run_python: the sandbox's namespaces could not be set up (id maps): %s",
                             strerror(errno));
        }
    }
    r->weak = weak;
    if (!go_ok) {
        kill_tree(&s);
        while (waitpid(s.pid, NULL, 0) < 0 && errno == EINTR) {
        }
        goto out;
    }
    rc = watch(c, &s, r, e);
    r->seconds = tkd_now() - t0;
out:;
    int fds[] = {out[0], out[1], err[0], err[1], sync[0], sync[1], st[0], st[1], s.out, s.err, s.st, s.pidfd};
    for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    if (rc == TKD_EIO && !weak)
        *unavailable = 1; /* the strict sandbox could not be built here */
    free(store);
    free(prog);
    if (was_dumpable > 0)
        prctl(PR_SET_DUMPABLE, was_dumpable, 0, 0, 0); /* the code is gone */
    if (weak)
        nftw(scratch, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return rc;
}

int tsbx_run(const tkd_code_cfg *c, const char *code, tsbx_result *r, tkd_err *e) {
    char python[TKD_CODE_PATH_MAX], why[TKD_ERR_MSG_MAX] = "";
    int rc = tsbx_python(c, python, sizeof python, e), unavailable = 0;
    if (rc)
        return rc;
    if (force_weak(c)) {
        tsbx_strict_unavailable(c, why, sizeof why);
    } else {
        rc = run_mode(c, python, code, 0, r, &unavailable, e);
        if (!rc || !unavailable)
            return rc;
        snprintf(why, sizeof why, "%s", e->msg);
    }
    if (c->mode != TKD_SANDBOX_ALLOW_WEAK)
        return tkd_err_set(
            e, TKD_EINVAL,
            "run_python cannot run on this node: the strict sandbox needs user namespaces: %s. Set "
            "\"tools\": {\"code\": {\"sandbox\": \"allow-weak\"}} in the job to accept the weak sandbox "
            "(seccomp, rlimits, no new privileges, a scrubbed environment, but no private file system or "
            "network namespace), or run where user namespaces are allowed (`tkd tool sandbox-check`)",
            why);
    tsbx_result_free(r);
    tsbx_result_init(r);
    return run_mode(c, python, code, 1, r, &unavailable, e);
}
