/*
 * store: one run per output folder. A run holds OUT/tkd.lock, created with
 * O_CREAT|O_EXCL (atomic on local disks, NFSv3+ and Lustre, unlike fcntl or
 * flock locks, which NFS serves through lockd and Lustre only with -o flock,
 * and which silently become node-local under -o localflock). The file holds
 * one JSON line: host, pid, the process's start time in clock ticks (to tell
 * a reused pid), Slurm job id and restart count, what runs, since when. A
 * thread refreshes the file's mtime every stale_s / TKD_STORE_LOCK_BEATS
 * seconds: the heartbeat a run on another host reads.
 *
 * A lock is stale, and taken over with a warning, when its holder is gone:
 *  - same host: the pid does not exist, or exists with another start time;
 *  - an earlier incarnation of this Slurm job (same job id, lower restart
 *    count): Slurm requeues a job only after every task of it has ended;
 *  - another host: its heartbeat is older than stale_s. "Now" is the mtime
 *    of a probe file this process touches in the same folder, so both times
 *    come from the same clock (the NFS server's; on Lustre the clients'),
 *    and a skewed local clock cannot make a live lock look stale.
 * A takeover renames the stale file to a name of its own first: of two runs
 * taking over at once only one rename succeeds, and a run that finds it
 * renamed a fresh lock (another inode than the one it judged) puts it back.
 */
#include "tkd/store.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOCK_TRIES 8             /* attempts at create / judge / take over */
#define LOCK_PARTIAL_WAIT_S 0.05 /* a lock just created may not hold its line yet */
#define LOCK_SETTLE_S 2.0        /* a live holder on this host may be dying (mpiexec does not wait for it) */

struct tkd_store_lock {
    char *path;
    int fd;
    dev_t dev;
    ino_t ino;
    double beat_s;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop, thread_on, lost_warned;
};

/* What a lock file says about its holder. */
typedef struct holder {
    char host[256], slurm_job[64], what[64], since[32];
    long long pid, pid_start, restarts;
    int parsed;
} holder;

static void host_name(char *out, size_t n) {
    if (gethostname(out, n) != 0 || !out[0])
        snprintf(out, n, "unknown-host");
    out[n - 1] = '\0';
}

/* State (field 3 of /proc/PID/stat: R, S, Z, ...) and start time in clock
 * ticks after boot (field 22) of a process; 0 when read, -1 when unknown. */
static int proc_info(long long pid, char *state, long long *start) {
    char p[64], buf[1024];
    snprintf(p, sizeof p, "/proc/%lld/stat", pid);
    FILE *f = fopen(p, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *s = strrchr(buf, ')'); /* the command name may hold spaces and parentheses */
    if (!s)
        return -1;
    int field = 2;
    *state = '?';
    *start = -1;
    char *save = NULL;
    for (char *t = strtok_r(s + 1, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        if (++field == 3)
            *state = t[0];
        else if (field == 22) {
            *start = strtoll(t, NULL, 10);
            break;
        }
    }
    return 0;
}

static long long pid_start_ticks(long long pid) {
    char st;
    long long start;
    return proc_info(pid, &st, &start) == 0 ? start : -1;
}

static const char *env_or(const char *name, const char *dflt) {
    const char *v = getenv(name);
    return v && *v ? v : dflt;
}

static char *lock_line(const char *what) {
    char host[256], since[32];
    host_name(host, sizeof host);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(since, sizeof since, "%Y-%m-%dT%H:%M:%SZ", &tm);
    long long pid = (long long)getpid();
    json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:I, s:s, s:s, s:I}", "host", host, "pid", (json_int_t)pid, "pid_start",
                          (json_int_t)pid_start_ticks(pid), "slurm_job_id", env_or("SLURM_JOB_ID", ""),
                          "slurm_restart_count", (json_int_t)atoll(env_or("SLURM_RESTART_COUNT", "0")), "what",
                          what ? what : "", "since", since, "since_unix", (json_int_t)now);
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

static void parse_holder(const char *text, holder *h) {
    memset(h, 0, sizeof *h);
    h->pid = h->pid_start = -1;
    json_error_t je;
    json_t *o = json_loads(text, 0, &je);
    if (!json_is_object(o)) {
        json_decref(o);
        return;
    }
    const char *host = json_string_value(json_object_get(o, "host"));
    const char *job = json_string_value(json_object_get(o, "slurm_job_id"));
    const char *what = json_string_value(json_object_get(o, "what"));
    const char *since = json_string_value(json_object_get(o, "since"));
    snprintf(h->host, sizeof h->host, "%s", host ? host : "?");
    snprintf(h->slurm_job, sizeof h->slurm_job, "%s", job ? job : "");
    snprintf(h->what, sizeof h->what, "%s", what ? what : "");
    snprintf(h->since, sizeof h->since, "%s", since ? since : "?");
    if (json_is_integer(json_object_get(o, "pid")))
        h->pid = json_integer_value(json_object_get(o, "pid"));
    if (json_is_integer(json_object_get(o, "pid_start")))
        h->pid_start = json_integer_value(json_object_get(o, "pid_start"));
    h->restarts = json_integer_value(json_object_get(o, "slurm_restart_count"));
    h->parsed = host && h->pid > 0;
    json_decref(o);
}

static void describe(const holder *h, char *out, size_t n) {
    if (!h->parsed) {
        snprintf(out, n, "a run whose lock file is unreadable or still being written");
        return;
    }
    snprintf(out, n, "%s%son host %s, pid %lld, Slurm job %s, since %s", h->what, h->what[0] ? " " : "", h->host,
             h->pid, h->slurm_job[0] ? h->slurm_job : "none", h->since);
}

/* "Now" by the clock that stamps files in dir: the mtime of a probe file we
 * touch there. Falls back to the local clock. */
static double folder_now(const char *dir) {
    char p[4600], host[256];
    host_name(host, sizeof host);
    int k = snprintf(p, sizeof p, "%s/.tkd.lock.probe.%s.%lld", dir, host, (long long)getpid());
    int fd = k > 0 && k < (int)sizeof p ? open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644) : -1;
    double t = tkd_wall_time();
    if (fd >= 0) {
        struct stat sb;
        if (futimens(fd, NULL) == 0 && fstat(fd, &sb) == 0)
            t = (double)sb.st_mtim.tv_sec + 1e-9 * (double)sb.st_mtim.tv_nsec;
        close(fd);
        unlink(p);
    }
    return t;
}

/* Is the holder gone? Fills why (for the warning). */
static int is_stale(const char *dir, const holder *h, const struct stat *sb, double stale_s, char *why, size_t n) {
    char host[256];
    host_name(host, sizeof host);
    double mtime = (double)sb->st_mtim.tv_sec + 1e-9 * (double)sb->st_mtim.tv_nsec;
    double age = folder_now(dir) - mtime;
    if (h->parsed && !strcmp(h->host, host)) {
        char state = '?';
        long long st = -1;
        int known = proc_info(h->pid, &state, &st) == 0;
        /* a zombie is gone too: killed, waiting for its parent (or init) to reap it */
        if ((kill((pid_t)h->pid, 0) != 0 && errno == ESRCH) || (known && (state == 'Z' || state == 'X'))) {
            snprintf(why, n, "its process is gone");
            return 1;
        }
        if (h->pid_start >= 0 && known && st >= 0 && st != h->pid_start) {
            snprintf(why, n, "its pid now belongs to another process");
            return 1;
        }
        return 0;
    }
    const char *job = getenv("SLURM_JOB_ID");
    if (h->parsed && job && *job && !strcmp(job, h->slurm_job) &&
        h->restarts < atoll(env_or("SLURM_RESTART_COUNT", "0"))) {
        snprintf(why, n, "it was an earlier run of this requeued Slurm job");
        return 1;
    }
    if (age > stale_s) {
        snprintf(why, n, "its heartbeat is %.0f s old (store.lock_stale_s %g)", age, stale_s);
        return 1;
    }
    return 0;
}

static void *beat(void *arg) {
    tkd_store_lock *l = arg;
    pthread_mutex_lock(&l->mu);
    while (!l->stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        double t = (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec + l->beat_s;
        ts.tv_sec = (time_t)t;
        ts.tv_nsec = (long)((t - (double)ts.tv_sec) * 1e9);
        int rc = pthread_cond_timedwait(&l->cv, &l->mu, &ts);
        if (l->stop || rc != ETIMEDOUT)
            continue;
        futimens(l->fd, NULL);
        struct stat sb;
        if (!l->lost_warned && (stat(l->path, &sb) != 0 || sb.st_ino != l->ino || sb.st_dev != l->dev)) {
            l->lost_warned = 1;
            tkd_log_warn("store: the lock %s is no longer this run's (removed or taken over by another run): two runs "
                         "may now write into the folder",
                         l->path);
        }
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

static int read_lock(const char *path, char *buf, size_t n, struct stat *sb) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t k = fstat(fd, sb) == 0 ? read(fd, buf, n - 1) : -1;
    close(fd);
    buf[k > 0 ? k : 0] = '\0';
    return k < 0 ? -1 : 0;
}

static void nap(double s) {
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Move a stale lock (the inode we judged) out of the way. 1 moved and
 * removed, 0 someone else got there first, <0 error. */
static int take_over(const char *path, const struct stat *judged, tkd_err *e) {
    char tmp[4600], host[256];
    host_name(host, sizeof host);
    if (snprintf(tmp, sizeof tmp, "%s.stale.%s.%lld", path, host, (long long)getpid()) >= (int)sizeof tmp)
        return tkd_err_set(e, TKD_EINVAL, "lock path too long: %s", path);
    if (rename(path, tmp) != 0) {
        if (errno == ENOENT)
            return 0;
        return tkd_err_set(e, TKD_EIO, "cannot move the stale lock %s aside: %s", path, strerror(errno));
    }
    struct stat sb;
    if (stat(tmp, &sb) == 0 && (sb.st_ino != judged->st_ino || sb.st_dev != judged->st_dev)) {
        /* we moved a lock taken meanwhile: put it back unless yet another exists */
        if (link(tmp, path) != 0)
            tkd_log_warn("store: could not put back the lock %s a concurrent run had just taken: %s", path,
                         strerror(errno));
        unlink(tmp);
        return 0;
    }
    unlink(tmp);
    return 1;
}

int tkd_store_lock_take(const char *dir, const char *what, double stale_s, tkd_store_lock **out, tkd_err *e) {
    *out = NULL;
    if (stale_s <= 0)
        stale_s = TKD_STORE_LOCK_STALE_S;
    int rc = tkd_mkdirs(dir, e);
    if (rc)
        return rc;
    char path[4200];
    if (snprintf(path, sizeof path, "%s/%s", dir, TKD_STORE_LOCK_NAME) >= (int)sizeof path)
        return tkd_err_set(e, TKD_EINVAL, "output folder name too long: %s", dir);
    char *line = lock_line(what);
    if (!line)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory for the lock of %s", dir);
    int fd = -1;
    double t0 = tkd_now();
    char me[256];
    host_name(me, sizeof me);
    for (int attempt = 0; attempt < LOCK_TRIES && fd < 0; attempt++) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0)
            break;
        if (errno != EEXIST) {
            rc = tkd_err_set(e, TKD_EIO, "cannot create the lock %s: %s (is the output folder writable?)", path,
                             strerror(errno));
            break;
        }
        char buf[2048];
        struct stat sb;
        if (read_lock(path, buf, sizeof buf, &sb) != 0)
            continue; /* released meanwhile */
        holder h;
        parse_holder(buf, &h);
        if (!h.parsed && attempt + 1 < LOCK_TRIES) {
            nap(LOCK_PARTIAL_WAIT_S); /* its writer may be between create and write */
            if (read_lock(path, buf, sizeof buf, &sb) != 0)
                continue;
            parse_holder(buf, &h);
        }
        char who[512], why[160];
        describe(&h, who, sizeof who);
        if (!is_stale(dir, &h, &sb, stale_s, why, sizeof why)) {
            if (h.parsed && !strcmp(h.host, me) && tkd_now() - t0 < LOCK_SETTLE_S) {
                nap(0.1); /* a rank killed with its job may take a moment to die */
                attempt--;
                continue;
            }
            rc = tkd_err_set(e, TKD_EBUSY,
                             "output folder %s is in use by another run: %s (lock file %s). Wait for it to end, "
                             "or use another output_dir; if that run is gone, remove the lock file",
                             dir, who, path);
            break;
        }
        int t = take_over(path, &sb, e);
        if (t < 0) {
            rc = t;
            break;
        }
        if (t > 0)
            tkd_log_warn("store: taking over the lock of %s: %s (%s)", dir, who, why);
    }
    if (fd < 0 && !rc)
        rc = tkd_err_set(e, TKD_EBUSY, "could not take the lock %s after %d attempts (other runs racing for it)", path,
                         LOCK_TRIES);
    if (rc) {
        free(line);
        return rc;
    }
    size_t len = strlen(line);
    line[len] = '\n'; /* json_dumps leaves room for the NUL, now the newline */
    int wrc = write(fd, line, len + 1) == (ssize_t)(len + 1) && fsync(fd) == 0 ? 0 : errno;
    free(line);
    struct stat sb;
    tkd_store_lock *l = calloc(1, sizeof *l);
    if (wrc || fstat(fd, &sb) != 0 || !l || !(l->path = strdup(path))) {
        close(fd);
        unlink(path);
        if (l)
            free(l);
        return tkd_err_set(e, wrc ? TKD_EIO : TKD_ENOMEM, "cannot write the lock %s: %s", path,
                           wrc ? strerror(wrc) : "out of memory");
    }
    l->fd = fd;
    l->dev = sb.st_dev;
    l->ino = sb.st_ino;
    l->beat_s = stale_s / TKD_STORE_LOCK_BEATS;
    pthread_mutex_init(&l->mu, NULL);
    pthread_cond_init(&l->cv, NULL);
    if (pthread_create(&l->thread, NULL, beat, l) == 0)
        l->thread_on = 1;
    else
        tkd_log_warn("store: no heartbeat thread for the lock %s: a run on another host may take it after %g s", path,
                     stale_s);
    *out = l;
    return 0;
}

int tkd_store_lock_release(tkd_store_lock *l, tkd_err *e) {
    if (!l)
        return 0;
    if (l->thread_on) {
        pthread_mutex_lock(&l->mu);
        l->stop = 1;
        pthread_cond_signal(&l->cv);
        pthread_mutex_unlock(&l->mu);
        pthread_join(l->thread, NULL);
    }
    pthread_mutex_destroy(&l->mu);
    pthread_cond_destroy(&l->cv);
    int rc = 0;
    struct stat sb;
    /* remove it only while it is ours: a run that took it over keeps it */
    if (stat(l->path, &sb) == 0 && sb.st_ino == l->ino && sb.st_dev == l->dev && unlink(l->path) != 0)
        rc = tkd_err_set(e, TKD_EIO, "cannot remove the lock %s: %s", l->path, strerror(errno));
    close(l->fd);
    free(l->path);
    free(l);
    return rc;
}
