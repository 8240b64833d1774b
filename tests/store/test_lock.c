/*
 * The output folder's lock (src/store/lock.c): taken once, refused to a
 * second taker with a message naming the holder, released; stale locks
 * (a dead pid on this host, a reused pid, an old heartbeat from another
 * host, an earlier run of a requeued Slurm job) taken over; live ones from
 * another host kept; the heartbeat refreshes the mtime; a release never
 * removes a lock another run took over.
 */
#include "tkd/store.h"
#include "tkd_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256], lockpath[300];

static void write_lock(const char *host, long long pid, long long pid_start, const char *job, int restarts,
                       double age_s) {
    FILE *f = fopen(lockpath, "w");
    fprintf(f,
            "{\"host\":\"%s\",\"pid\":%lld,\"pid_start\":%lld,\"slurm_job_id\":\"%s\",\"slurm_restart_count\":%d,"
            "\"what\":\"solve\",\"since\":\"2026-01-02T03:04:05Z\",\"since_unix\":1}\n",
            host, pid, pid_start, job, restarts);
    fclose(f);
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= (time_t)age_s;
    tv[1] = tv[0];
    utimes(lockpath, tv);
}

static int exists(const char *p) {
    struct stat sb;
    return stat(p, &sb) == 0;
}

static double mtime_age(const char *p) {
    struct stat sb;
    struct timeval now;
    gettimeofday(&now, NULL);
    if (stat(p, &sb) != 0)
        return -1;
    return (double)now.tv_sec + 1e-6 * (double)now.tv_usec - (double)sb.st_mtim.tv_sec -
           1e-9 * (double)sb.st_mtim.tv_nsec;
}

static char *host(void) {
    static char h[256];
    gethostname(h, sizeof h);
    return h;
}

TEST(take_refuse_release) {
    tkd_err e = {0};
    tkd_store_lock *a = NULL, *b = NULL;
    CHECK_INT(tkd_store_lock_take(dir, "solve", 0, &a, &e), 0);
    CHECK(exists(lockpath));
    char *text = NULL;
    size_t len = 0;
    CHECK_INT(tkd_file_read(lockpath, &text, &len, &e), 0);
    char pid[32];
    snprintf(pid, sizeof pid, "\"pid\":%d,", (int)getpid());
    CHECK(text && strstr(text, pid) && strstr(text, host()) && strstr(text, "\"what\":\"solve\""));
    free(text);
    /* a second run: refused, naming the holder */
    CHECK_INT(tkd_store_lock_take(dir, "testwork", 0, &b, &e), TKD_EBUSY);
    CHECK(b == NULL);
    snprintf(pid, sizeof pid, "pid %d", (int)getpid());
    CHECK(strstr(e.msg, "in use by another run") && strstr(e.msg, host()) && strstr(e.msg, pid) &&
          strstr(e.msg, "since 20") && strstr(e.msg, "Slurm job none"));
    CHECK_INT(tkd_exit_code(TKD_EBUSY), 2);
    CHECK_INT(tkd_store_lock_release(a, &e), 0);
    CHECK(!exists(lockpath));
    CHECK_INT(tkd_store_lock_take(dir, "solve", 0, &a, &e), 0);
    CHECK_INT(tkd_store_lock_release(a, &e), 0);
    CHECK_INT(tkd_store_lock_release(NULL, &e), 0);
}

TEST(stale_same_host) {
    tkd_err e = {0};
    tkd_store_lock *l = NULL;
    /* a pid that is gone: a child that exited */
    pid_t c = fork();
    if (c == 0)
        _exit(0);
    waitpid(c, NULL, 0);
    write_lock(host(), c, -1, "", 0, 0);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 0, &l, &e), 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    /* a live pid with another start time: reused */
    write_lock(host(), getpid(), 12345, "", 0, 0);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 0, &l, &e), 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    /* a live pid, an old heartbeat: same host trusts the pid */
    write_lock(host(), getppid(), -1, "", 0, 1000);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 1, &l, &e), TKD_EBUSY);
    unlink(lockpath);
}

TEST(other_host) {
    tkd_err e = {0};
    tkd_store_lock *l = NULL;
    write_lock("elsewhere.invalid", 4242, 1, "991", 0, 0);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), TKD_EBUSY);
    CHECK(strstr(e.msg, "host elsewhere.invalid, pid 4242, Slurm job 991, since 2026-01-02T03:04:05Z"));
    write_lock("elsewhere.invalid", 4242, 1, "991", 0, 30); /* heartbeat 30 s old, limit 60 s: live */
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), TKD_EBUSY);
    write_lock("elsewhere.invalid", 4242, 1, "991", 0, 90); /* older than the limit: stale */
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    /* an earlier run of this requeued Slurm job, however fresh its heartbeat */
    setenv("SLURM_JOB_ID", "991", 1);
    setenv("SLURM_RESTART_COUNT", "1", 1);
    write_lock("elsewhere.invalid", 4242, 1, "991", 0, 0);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    write_lock("elsewhere.invalid", 4242, 1, "991", 1, 0); /* same incarnation: another step, live */
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), TKD_EBUSY);
    unsetenv("SLURM_JOB_ID");
    unsetenv("SLURM_RESTART_COUNT");
    /* an unreadable lock: live while fresh, stale when old */
    FILE *f = fopen(lockpath, "w");
    fputs("{\"host\": \"elsew", f);
    fclose(f);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), TKD_EBUSY);
    CHECK(strstr(e.msg, "unreadable"));
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 100;
    tv[1] = tv[0];
    utimes(lockpath, tv);
    CHECK_INT(tkd_store_lock_take(dir, "solve", 60, &l, &e), 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    CHECK(!exists(lockpath));
}

TEST(heartbeat) {
    tkd_err e = {0};
    tkd_store_lock *l = NULL;
    CHECK_INT(tkd_store_lock_take(dir, "solve", 0.6, &l, &e), 0); /* a beat every 0.1 s */
    struct timeval tv[2];
    gettimeofday(&tv[0], NULL);
    tv[0].tv_sec -= 100;
    tv[1] = tv[0];
    utimes(lockpath, tv);
    CHECK(mtime_age(lockpath) > 90);
    struct timespec ts = {0, 400000000};
    nanosleep(&ts, NULL);
    CHECK(mtime_age(lockpath) < 5);
    /* taken over behind our back: the release leaves the new holder's file */
    unlink(lockpath);
    write_lock("elsewhere.invalid", 4242, 1, "", 0, 0);
    CHECK_INT(tkd_store_lock_release(l, &e), 0);
    CHECK(exists(lockpath));
    unlink(lockpath);
}

int main(void) {
    snprintf(dir, sizeof dir, "%s/tkd-lock-test.%d/out", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
    snprintf(lockpath, sizeof lockpath, "%s/%s", dir, TKD_STORE_LOCK_NAME);
    tkd_log_set_level(TKD_LOG_ERROR);
    unsetenv("SLURM_JOB_ID"); /* the holder this process describes is not a Slurm task */
    unsetenv("SLURM_RESTART_COUNT");
    RUN(take_refuse_release);
    RUN(stale_same_host);
    RUN(other_host);
    RUN(heartbeat);
    char parent[300];
    snprintf(parent, sizeof parent, "%.*s", (int)(strrchr(dir, '/') - dir), dir);
    rmdir(dir);
    rmdir(parent);
    return TEST_END();
}
