/*
 * The tool executor: a small pool of fork()ed worker processes, each talking
 * to the parent over one Unix socket. A worker runs under RLIMIT_AS (memory)
 * and, per call, ITIMER_PROF (CPU time: SIGPROF ends it); the parent adds a
 * wall-time watchdog (SIGKILL). A worker that dies answers its call with an
 * error saying which limit was hit, and is replaced. Nothing blocks: submit
 * queues, poll moves finished calls out; an event loop watches the fds.
 *
 * Wire format, both ways: u32 length + bytes. Request: name, then args.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tools_int.h"

#define ANSWER_WIRE_MAX (16u << 20) /* a longer reply means a broken worker */
#define TKD_TOOL_HOST_TAG 65        /* bytes of the host name in a worker folder name */

typedef struct request {
    uint64_t id;
    char *name;
    char *args;
    struct request *next;
} request;

typedef struct worker {
    pid_t pid;    /* 0: no process in this slot */
    int fd;       /* parent's end of the socket, non-blocking */
    request *job; /* the call in flight, NULL when idle */
    double start;
    double wall; /* the watchdog's limit for the call in flight */
    int killed;  /* the watchdog sent SIGKILL */
    int calls;
    tkd_buf in;         /* partial answer */
    char dir[PATH_MAX]; /* its private working folder ("" when none) */
} worker;

struct tkd_tools_pool {
    tkd_tool_limits lim;
    int n;
    worker w[TKD_TOOL_POOL_MAX];
    request *qhead, *qtail; /* waiting for a worker */
    tkd_tool_done *done;    /* finished, not yet handed out */
    int n_done, cap_done;
    int pending;
    int spawned;
};

/* ---- the worker process ---- */

static int write_full(int fd, const void *p, size_t n) {
    const char *c = p;
    while (n) {
        ssize_t r = send(fd, c, n, MSG_NOSIGNAL);
        if (r < 0 && (errno == EINTR || errno == EAGAIN)) {
            if (errno == EAGAIN) {
                struct pollfd pf = {fd, POLLOUT, 0};
                poll(&pf, 1, 100);
            }
            continue;
        }
        if (r <= 0)
            return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static char *read_msg(int fd, uint32_t max) {
    uint32_t len;
    if (tkd_read_full(fd, &len, sizeof len) || len > max)
        return NULL;
    char *s = malloc((size_t)len + 1);
    if (!s || tkd_read_full(fd, s, len)) {
        free(s);
        return NULL;
    }
    s[len] = 0;
    return s;
}

static void set_cpu_timer(double seconds) {
    struct itimerval it = {{0, 0}, {0, 0}};
    if (seconds > 0) {
        it.it_value.tv_sec = (time_t)seconds;
        it.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    }
    setitimer(ITIMER_PROF, &it, NULL);
}

/* The folder the workers' private folders go in: $TMPDIR, else /tmp. */
static const char *tmp_root(void) {
    const char *tmp = getenv("TMPDIR");
    return tmp && *tmp ? tmp : "/tmp";
}

/* Where a pid means this process: the host name and the pid namespace
 * ("node17-4026531836"), so a folder in a /tmp shared with a container or
 * another node is never judged by a pid from elsewhere. No '/' in it. */
static void host_tag(char *out, size_t cap) {
    char host[TKD_TOOL_HOST_TAG] = "", ns[64] = "";
    if (gethostname(host, sizeof host) != 0 || !*host)
        snprintf(host, sizeof host, "localhost");
    host[sizeof host - 1] = 0;
    ssize_t n = readlink("/proc/self/ns/pid", ns, sizeof ns - 1); /* "pid:[4026531836]" */
    ns[n > 0 ? n : 0] = 0;
    snprintf(out, cap, "%s-%lu", host, strtoul(ns + strcspn(ns, "0123456789"), NULL, 10));
    for (char *c = out; *c; c++)
        if (*c == '/')
            *c = '_';
}

/* The process's mapped address space now (VmSize), 0 when unknown. */
static rlim_t mapped_bytes(void) {
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}

static void worker_main(int fd, const tkd_tool_limits *lim, const char *dir) {
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int defaults[] = {SIGPROF, SIGXCPU, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGUSR2, SIGPIPE, SIGCHLD};
    for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
        signal(defaults[i], SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#if !defined(__SANITIZE_ADDRESS__) /* ASan reserves terabytes of shadow address space */
    /* the soft limit only: run_python's processes set their own (hard) limit.
     * The limit is what the tool may add to the address space it starts with:
     * the libraries mapped into tkd (cuBLASLt and NCCL in a CUDA build, near
     * 1 GiB of mappings) must not eat the tool's share */
    struct rlimit r;
    getrlimit(RLIMIT_AS, &r);
    r.rlim_cur = mapped_bytes() + lim->mem_bytes;
    if (r.rlim_max != RLIM_INFINITY && r.rlim_max < r.rlim_cur)
        r.rlim_cur = r.rlim_max;
    setrlimit(RLIMIT_AS, &r);
#endif
    struct rlimit core = {0, 0};
    setrlimit(RLIMIT_CORE, &core);
    /* answers go over the socket; what a library prints (FLINT's "Exception
     * (FLINT memory_manager)" before it aborts) goes to the log, never into
     * the caller's output */
    dup2(STDERR_FILENO, STDOUT_FILENO);
    /* FLINT's quadratic sieve writes a temporary file (NNNsiqs.dat) into the
     * working folder and leaves it when the worker is killed mid-factoring:
     * the worker works in a folder of its own, which the parent removes */
    if (chdir(*dir ? dir : tmp_root()))
        tkd_log_debug("tool worker: cannot chdir to a temporary folder");
    for (;;) {
        char *name = read_msg(fd, TKD_TOOL_NAME_MAX * 4);
        char *args = name ? read_msg(fd, TKD_TOOL_ARGS_MAX + 16) : NULL;
        if (!name || !args)
            _exit(0); /* the parent closed the socket, or spoke garbage */
        char *answer = NULL;
        tkd_err e = {0};
        set_cpu_timer(lim->cpu_seconds);
        tkd_tools_call(name, args, strlen(args), &answer, lim, &e);
        set_cpu_timer(0);
        if (!answer)
            answer = tkd_tools_error_json("the tool ran out of memory");
        if (!answer)
            _exit(3);
        uint32_t len = (uint32_t)strlen(answer);
        if (write_full(fd, &len, sizeof len) || write_full(fd, answer, len))
            _exit(0);
        free(answer);
        free(name);
        free(args);
    }
}

/* ---- the parent ---- */

/* A fresh private folder "tkd-tool-PID-HOST-XXXXXX" (PID: the pool's owner,
 * this process) into dir; "" on failure, and the worker then runs in the
 * temporary folder itself. The owner's pid and host in the name let a later
 * pool remove the folder when its owner was killed before it could. */
static void make_private_dir(char *dir) {
    char host[TKD_TOOL_HOST_TAG + 32];
    host_tag(host, sizeof host);
    int n = snprintf(dir, PATH_MAX, "%s/tkd-tool-%ld-%s-XXXXXX", tmp_root(), (long)getpid(), host);
    if (n < 0 || n >= PATH_MAX || !mkdtemp(dir)) {
        tkd_log_debug("tool pool: cannot create a private folder for a worker: %s", strerror(errno));
        dir[0] = 0;
    }
}

/* Remove a worker's folder and the files left in it (FLINT's sieve leaves
 * plain files only). */
static void remove_private_dir(char *dir) {
    if (!*dir)
        return;
    DIR *d = opendir(dir);
    if (d) {
        int fd = dirfd(d);
        for (struct dirent *en; (en = readdir(d));)
            if (strcmp(en->d_name, ".") && strcmp(en->d_name, ".."))
                unlinkat(fd, en->d_name, 0);
        closedir(d);
    }
    if (rmdir(dir))
        tkd_log_debug("tool pool: cannot remove %s: %s", dir, strerror(errno));
    dir[0] = 0;
}

/* The owner pid of a worker folder named "tkd-tool-PID-HOST-XXXXXX" when
 * HOST is this host; 0 for any other name (another host's folder, whose pid
 * means nothing here, or a name tkd did not make). */
static long stale_owner(const char *name, const char *host) {
    static const char prefix[] = "tkd-tool-";
    if (strncmp(name, prefix, sizeof prefix - 1))
        return 0;
    const char *p = name + sizeof prefix - 1;
    char *end;
    errno = 0;
    long pid = strtol(p, &end, 10);
    if (errno || end == p || pid <= 0 || *end != '-')
        return 0;
    size_t hl = strlen(host), rest = strlen(end + 1);
    if (rest != hl + 7 || strncmp(end + 1, host, hl) || end[1 + hl] != '-')
        return 0;
    return pid;
}

/* Remove the worker folders that a pool of this host left behind when its
 * process was killed (SIGKILL, the OOM killer, a node failure): those whose
 * owner process is gone. A folder whose owner lives, or that belongs to
 * another user or host, is never touched. */
static void remove_stale_dirs(void) {
    const char *root = tmp_root();
    char host[TKD_TOOL_HOST_TAG + 32];
    host_tag(host, sizeof host);
    DIR *d = opendir(root);
    if (!d)
        return;
    int n = 0;
    for (struct dirent *en; (en = readdir(d));) {
        long pid = stale_owner(en->d_name, host);
        if (!pid || pid == (long)getpid() || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        char path[PATH_MAX];
        struct stat sb;
        if (snprintf(path, sizeof path, "%s/%s", root, en->d_name) >= (int)sizeof path || lstat(path, &sb) ||
            !S_ISDIR(sb.st_mode) || sb.st_uid != geteuid())
            continue;
        remove_private_dir(path);
        n++;
    }
    closedir(d);
    if (n)
        tkd_log_debug("tool pool: removed %d worker folder%s left by killed processes", n, n > 1 ? "s" : "");
}

static void request_free(request *q) {
    if (q) {
        free(q->name);
        free(q->args);
        free(q);
    }
}

static int spawn(tkd_tools_pool *p, int i, tkd_err *e) {
    worker *w = &p->w[i];
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
        return tkd_err_set(e, TKD_EIO, "tool pool: socketpair failed: %s", strerror(errno));
    make_private_dir(w->dir);
    pid_t pid = fork();
    if (pid < 0) {
        close(sv[0]);
        close(sv[1]);
        remove_private_dir(w->dir);
        return tkd_err_set(e, TKD_EIO, "tool pool: fork failed: %s", strerror(errno));
    }
    if (pid == 0) {
        close(sv[0]);
        for (int k = 0; k < p->n; k++)
            if (p->w[k].pid)
                close(p->w[k].fd);
        worker_main(sv[1], &p->lim, w->dir);
        _exit(0);
    }
    close(sv[1]);
    fcntl(sv[0], F_SETFL, fcntl(sv[0], F_GETFL) | O_NONBLOCK);
    w->pid = pid;
    w->fd = sv[0];
    w->job = NULL;
    w->killed = 0;
    w->calls = 0;
    tkd_buf_reset(&w->in);
    p->spawned++;
    return 0;
}

static int push_done(tkd_tools_pool *p, uint64_t id, char *answer, double secs, int status) {
    if (p->n_done == p->cap_done) {
        int cap = p->cap_done ? 2 * p->cap_done : 16;
        tkd_tool_done *d = realloc(p->done, sizeof *d * (size_t)cap);
        if (!d) {
            free(answer);
            return TKD_ENOMEM;
        }
        p->done = d;
        p->cap_done = cap;
    }
    p->done[p->n_done++] = (tkd_tool_done){id, answer, secs, status};
    return 0;
}

static void reap(worker *w, int *status) {
    *status = 0;
    if (w->pid > 0) {
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, status, 0) < 0 && errno == EINTR) {
        }
    }
    close(w->fd);
    w->pid = 0;
    w->fd = -1;
    tkd_buf_reset(&w->in);
    remove_private_dir(w->dir); /* the worker is gone: nothing writes there now */
}

/* The worker in slot i died (EOF or garbage): answer its call, replace it. */
static void worker_died(tkd_tools_pool *p, int i) {
    worker *w = &p->w[i];
    int killed = w->killed, st;
    reap(w, &st);
    if (w->job) {
        char msg[512];
        int code = TKD_EINTERNAL;
        int sig = WIFSIGNALED(st) ? WTERMSIG(st) : 0;
        const char *name = w->job->name;
        if (killed) {
            code = TKD_ETIMEOUT;
            snprintf(msg, sizeof msg,
                     "%s: stopped after %.0f s of wall time (limit); the computation is too expensive. Try a simpler "
                     "or smaller input, or split the problem into steps.",
                     name, w->wall);
        } else if (sig == SIGPROF || sig == SIGXCPU) {
            code = TKD_ETIMEOUT;
            snprintf(msg, sizeof msg,
                     "%s: exceeded the CPU-time limit of %g s; the computation is too expensive. Try a simpler or "
                     "smaller input, or split the problem into steps.",
                     name, p->lim.cpu_seconds);
        } else if (sig == SIGABRT || sig == SIGSEGV || sig == SIGBUS) {
            code = TKD_ELIMIT;
            snprintf(msg, sizeof msg,
                     "%s: the computation ran out of memory (limit %zu MiB) or stack; the input or its result is too "
                     "large. Use smaller numbers or a simpler expression.",
                     name, p->lim.mem_bytes >> 20);
        } else {
            snprintf(msg, sizeof msg, "%s: the tool process failed (%s %d) on this input; try writing it differently.",
                     name, sig ? "signal" : "exit status", sig ? sig : WEXITSTATUS(st));
        }
        push_done(p, w->job->id, tkd_tools_error_json(msg), tkd_now() - w->start, code);
        request_free(w->job);
        w->job = NULL;
    }
    tkd_err e = {0};
    if (spawn(p, i, &e))
        tkd_log_warn("%s (will retry)", e.msg);
}

/* Read what the worker sent; complete its call when the answer is whole. */
static void worker_readable(tkd_tools_pool *p, int i) {
    worker *w = &p->w[i];
    char buf[65536];
    for (;;) {
        ssize_t r = read(w->fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && errno == EAGAIN)
            break;
        if (r <= 0 || !w->job || tkd_buf_append(&w->in, buf, (size_t)r)) {
            worker_died(p, i);
            return;
        }
    }
    if (w->in.len < 4)
        return;
    uint32_t len;
    memcpy(&len, w->in.data, 4);
    if (len > ANSWER_WIRE_MAX) {
        worker_died(p, i);
        return;
    }
    if (w->in.len < 4 + (size_t)len)
        return;
    char *answer = tkd_strndup(w->in.data + 4, len, NULL);
    tkd_buf_reset(&w->in);
    if (!answer)
        answer = tkd_tools_error_json("out of memory receiving the answer");
    push_done(p, w->job->id, answer, tkd_now() - w->start, 0);
    request_free(w->job);
    w->job = NULL;
    w->calls++;
}

static void dispatch(tkd_tools_pool *p) {
    for (int i = 0; i < p->n && p->qhead; i++) {
        worker *w = &p->w[i];
        if (w->pid && !w->job && w->calls >= TKD_TOOL_WORKER_CALLS) { /* recycle */
            int st;
            reap(w, &st);
            tkd_err e = {0};
            if (spawn(p, i, &e))
                continue;
        }
        if (!w->pid || w->job)
            continue;
        request *q = p->qhead;
        p->qhead = q->next;
        if (!p->qhead)
            p->qtail = NULL;
        q->next = NULL;
        uint32_t ln = (uint32_t)strlen(q->name), la = (uint32_t)strlen(q->args);
        w->job = q;
        w->start = tkd_now();
        w->wall = tkd_tools_wall_seconds(q->name, &p->lim);
        w->killed = 0;
        if (write_full(w->fd, &ln, 4) || write_full(w->fd, q->name, ln) || write_full(w->fd, &la, 4) ||
            write_full(w->fd, q->args, la))
            worker_died(p, i);
    }
}

int tkd_tools_pool_create(int n_workers, const tkd_tool_limits *limits, tkd_tools_pool **out, tkd_err *e) {
    *out = NULL;
    if (n_workers < 1 || n_workers > TKD_TOOL_POOL_MAX)
        return tkd_err_set(e, TKD_EINVAL, "tool pool: %d workers asked; give 1..%d", n_workers, TKD_TOOL_POOL_MAX);
    tkd_tools_pool *p = tkd_calloc(1, sizeof *p, e);
    if (!p)
        return e->code;
    tkd_tools_limits_default(&p->lim);
    if (limits) {
        if (limits->cpu_seconds > 0)
            p->lim.cpu_seconds = limits->cpu_seconds;
        if (limits->mem_bytes)
            p->lim.mem_bytes = limits->mem_bytes;
        if (limits->output_max)
            p->lim.output_max = limits->output_max;
        if (limits->wall_seconds > 0)
            p->lim.wall_seconds = limits->wall_seconds;
        p->lim.code = limits->code;
    }
    p->n = n_workers;
    remove_stale_dirs();
    for (int i = 0; i < n_workers; i++) {
        tkd_buf_init(&p->w[i].in);
        p->w[i].fd = -1;
    }
    for (int i = 0; i < n_workers; i++)
        if (spawn(p, i, e)) {
            tkd_tools_pool_free(p);
            return e->code;
        }
    *out = p;
    return 0;
}

int tkd_tools_pool_submit(tkd_tools_pool *p, uint64_t id, const char *name, const char *args_json, tkd_err *e) {
    if (!args_json)
        args_json = "{}";
    size_t na = strlen(args_json), nn = name ? strlen(name) : 0;
    p->pending++;
    if (!name || nn > TKD_TOOL_NAME_MAX || na > TKD_TOOL_ARGS_MAX) { /* answer here, no worker needed */
        char msg[300];
        if (na > TKD_TOOL_ARGS_MAX)
            snprintf(msg, sizeof msg, "the arguments are %zu bytes; the limit is %d bytes. Pass smaller inputs.", na,
                     TKD_TOOL_ARGS_MAX);
        else
            snprintf(msg, sizeof msg, "unknown tool (the name is missing or longer than %d bytes)", TKD_TOOL_NAME_MAX);
        if (push_done(p, id, tkd_tools_error_json(msg), 0, TKD_EINVAL)) {
            p->pending--;
            return tkd_err_set(e, TKD_ENOMEM, "tool pool: out of memory");
        }
        return 0;
    }
    request *q = calloc(1, sizeof *q);
    if (q) {
        q->id = id;
        q->name = strdup(name);
        q->args = strdup(args_json);
    }
    if (!q || !q->name || !q->args) {
        request_free(q);
        p->pending--;
        return tkd_err_set(e, TKD_ENOMEM, "tool pool: out of memory queueing a call");
    }
    if (p->qtail)
        p->qtail->next = q;
    else
        p->qhead = q;
    p->qtail = q;
    dispatch(p);
    return 0;
}

int tkd_tools_pool_next_timeout_ms(const tkd_tools_pool *p) {
    double next = -1, now = tkd_now();
    for (int i = 0; i < p->n; i++)
        if (p->w[i].job && !p->w[i].killed) {
            double left = p->w[i].start + p->w[i].wall - now;
            if (next < 0 || left < next)
                next = left < 0 ? 0 : left;
        }
    return next < 0 ? -1 : (int)(next * 1000) + 1;
}

static int busy(const tkd_tools_pool *p) {
    for (int i = 0; i < p->n; i++)
        if (p->w[i].job)
            return 1;
    return 0;
}

int tkd_tools_pool_poll(tkd_tools_pool *p, int timeout_ms, tkd_tool_done *done, int max, int *n_done, tkd_err *e) {
    (void)e;
    *n_done = 0;
    double t0 = tkd_now();
    for (;;) {
        int alive = 0;
        for (int i = 0; i < p->n; i++) { /* replace workers that could not be spawned */
            if (!p->w[i].pid)
                spawn(p, i, e);
            alive += p->w[i].pid != 0;
        }
        while (!alive && p->qhead) { /* no process at all: answer instead of spinning */
            request *q = p->qhead;
            p->qhead = q->next;
            if (!p->qhead)
                p->qtail = NULL;
            push_done(p, q->id, tkd_tools_error_json("no tool worker process could be started"), 0, TKD_EINTERNAL);
            request_free(q);
        }
        dispatch(p);
        int wait = timeout_ms;
        if (timeout_ms > 0) {
            int left = timeout_ms - (int)((tkd_now() - t0) * 1000);
            wait = left < 0 ? 0 : left;
        }
        if (p->n_done || (timeout_ms < 0 && !busy(p) && !p->qhead))
            wait = 0;
        int wd = tkd_tools_pool_next_timeout_ms(p);
        if (wd >= 0 && (wait < 0 || wd < wait))
            wait = wd;
        struct pollfd pf[TKD_TOOL_POOL_MAX];
        int idx[TKD_TOOL_POOL_MAX], n = 0;
        for (int i = 0; i < p->n; i++)
            if (p->w[i].pid) {
                pf[n] = (struct pollfd){p->w[i].fd, POLLIN, 0};
                idx[n++] = i;
            }
        int r = poll(pf, (nfds_t)n, wait);
        for (int k = 0; r > 0 && k < n; k++) {
            if (!pf[k].revents)
                continue;
            if (p->w[idx[k]].job)
                worker_readable(p, idx[k]);
            else
                worker_died(p, idx[k]); /* an idle worker spoke or hung up */
        }
        double now = tkd_now();
        for (int i = 0; i < p->n; i++) { /* the watchdog */
            worker *w = &p->w[i];
            if (w->job && !w->killed && now - w->start > w->wall) {
                kill(w->pid, SIGKILL);
                w->killed = 1;
            }
        }
        dispatch(p);
        if (p->n_done || timeout_ms == 0 || (!busy(p) && !p->qhead))
            break;
        if (timeout_ms > 0 && (tkd_now() - t0) * 1000 >= timeout_ms)
            break;
    }
    int k = p->n_done < max ? p->n_done : max;
    if (k > 0) {
        memcpy(done, p->done, sizeof *done * (size_t)k);
        memmove(p->done, p->done + k, sizeof *done * (size_t)(p->n_done - k));
        p->n_done -= k;
        p->pending -= k;
    }
    *n_done = k;
    return 0;
}

int tkd_tools_pool_fds(const tkd_tools_pool *p, int *fds, int max) {
    int n = 0;
    for (int i = 0; i < p->n && n < max; i++)
        if (p->w[i].pid)
            fds[n++] = p->w[i].fd;
    return n;
}

int tkd_tools_pool_pending(const tkd_tools_pool *p) {
    return p->pending;
}
int tkd_tools_pool_spawned(const tkd_tools_pool *p) {
    return p->spawned;
}

void tkd_tools_pool_free(tkd_tools_pool *p) {
    if (!p)
        return;
    for (int i = 0; i < p->n; i++) {
        if (p->w[i].pid) {
            int st;
            reap(&p->w[i], &st);
        }
        request_free(p->w[i].job);
        tkd_buf_free(&p->w[i].in);
    }
    for (request *q = p->qhead, *nx; q; q = nx) {
        nx = q->next;
        request_free(q);
    }
    for (int i = 0; i < p->n_done; i++)
        free(p->done[i].answer);
    free(p->done);
    free(p);
}

int tkd_tools_call_isolated(const char *name, const char *args_json, char **answer, const tkd_tool_limits *limits,
                            tkd_err *e) {
    *answer = NULL;
    tkd_tools_pool *p;
    int rc = tkd_tools_pool_create(1, limits, &p, e);
    if (rc)
        return rc;
    rc = tkd_tools_pool_submit(p, 1, name, args_json, e);
    tkd_tool_done d = {0};
    int n = 0;
    while (!rc && n == 0 && tkd_tools_pool_pending(p))
        rc = tkd_tools_pool_poll(p, -1, &d, 1, &n, e);
    if (!rc && n == 1)
        *answer = d.answer;
    tkd_tools_pool_free(p);
    return rc;
}
