/* store: a writer killed with SIGKILL mid-stream leaves a shard that opens
 * and holds at least every row flushed before the kill, each with its exact
 * text; the done-set over a folder of finished, crashed, empty-crashed and
 * garbage shards holds every durable problem id. */
#include "store_fixture.h"
#include "tkd_test.h"

#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

static char *dir;

/* Child: append rows forever, flushing every `every` rows and reporting the
 * durable row count on fd after each flush. Never returns. */
static void writer_child(const char *path, int fd, size_t every, int rank) {
    tkd_store_meta m = {TKD_PHASE_SOLVE, rank, 0, "{}", NULL, NULL};
    tkd_store *s;
    tkd_err e = {0};
    if (tkd_store_create(path, &m, &s, &e)) {
        fprintf(stderr, "child: %s\n", e.msg);
        _exit(1);
    }
    tkd_store_set_flush_every(s, (size_t)1 << 30);
    for (size_t i = 0;; i += every) {
        if (fx_append(s, i, i + every, TKD_PHASE_SOLVE, &e) || tkd_store_flush(s, &e)) {
            fprintf(stderr, "child: %s\n", e.msg);
            _exit(1);
        }
        uint64_t n = i + every;
        if (write(fd, &n, sizeof n) != (ssize_t)sizeof n)
            _exit(0);
    }
}

/* Run a writer, kill it once it reports at least `target` durable rows;
 * returns the last count it reported (0 on error). */
static uint64_t run_and_kill(const char *path, size_t every, uint64_t target, int rank) {
    int p[2];
    if (pipe(p) != 0)
        return 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        writer_child(path, p[1], every, rank);
    }
    close(p[1]);
    uint64_t last = 0, n;
    while (last < target && read(p[0], &n, sizeof n) == (ssize_t)sizeof n)
        last = n;
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    /* reports may still sit in the pipe: they were durable before the kill */
    while (read(p[0], &n, sizeof n) == (ssize_t)sizeof n)
        last = n;
    close(p[0]);
    return WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL ? last : 0;
}

TEST(kill9) {
    struct {
        size_t every;
        uint64_t target;
    } runs[] = {{1, 300}, {16, 1500}, {64, 2500}, {7, 777}};
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        tkd_err e = {0};
        char *path = tkd_store_shard_path(dir, 100 + (int)k, 0, &e);
        uint64_t durable = run_and_kill(path, runs[k].every, runs[k].target, 100 + (int)k);
        CHECK(durable >= runs[k].target);
        tkd_store *s;
        CHECK_INT(tkd_store_open(path, &s, &e), 0);
        if (!s) {
            fprintf(stderr, "  %s\n", e.msg);
            free(path);
            continue;
        }
        size_t cnt = tkd_store_count(s);
        CHECK(cnt >= durable);
        int all = 1;
        for (size_t i = 0; i < cnt; i++)
            all &= fx_row_ok(s, i, i, TKD_PHASE_SOLVE);
        CHECK(all);
        CHECK_INT(tkd_store_close(s, &e), 0);
        size_t problems = 1;
        CHECK_INT(tkd_store_verify(path, &problems, &e), 0);
        CHECK_INT(problems, 0);
        free(path);
    }
}

TEST(done_set) {
    tkd_err e = {0};
    /* rank 0: finished; rank 1: the crashed shards of kill9 (ranks 100..);
     * rank 2: crashed before its first flush; a garbage file; a non-.h5 file */
    char *p0 = tkd_store_shard_path(dir, 0, 0, &e);
    tkd_store_meta m = {TKD_PHASE_SOLVE, 0, 0, NULL, NULL, NULL};
    tkd_store *s;
    CHECK_INT(tkd_store_create(p0, &m, &s, &e), 0);
    CHECK_INT(fx_append(s, 100000, 100500, TKD_PHASE_SOLVE, &e), 0);
    CHECK_INT(tkd_store_close(s, &e), 0);
    char *p2 = tkd_store_shard_path(dir, 2, 0, &e);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) { /* dies holding 10 unflushed rows */
        tkd_store_meta m2 = {TKD_PHASE_SOLVE, 2, 0, NULL, NULL, NULL};
        if (tkd_store_create(p2, &m2, &s, &e) || fx_append(s, 200000, 200010, TKD_PHASE_SOLVE, &e))
            _exit(1);
        raise(SIGKILL);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    CHECK(WIFSIGNALED(st));
    char *g = fx_path(dir, "r00009.a0.h5");
    FILE *f = fopen(g, "wb");
    fputs("this is not an HDF5 file", f);
    fclose(f);
    char *other = fx_path(dir, "notes.txt");
    f = fopen(other, "wb");
    fputs("x", f);
    fclose(f);

    tkd_idset *done = tkd_idset_new();
    CHECK_INT(tkd_store_done_set(dir, done, &e), 0);
    /* a row is in the done-set exactly when its status is final (api_error is redone) */
    int all = 1, transient = 0;
    for (size_t i = 100000; i < 100500; i++) {
        tkd_record r = fx_record(i, TKD_PHASE_SOLVE);
        all &= tkd_idset_has(done, r.pid) == tkd_status_is_final(r.status);
        transient += !tkd_status_is_final(r.status);
    }
    CHECK(all);
    CHECK(transient > 0);
    /* the first 300 rows of the first crashed shard were durable */
    for (size_t i = 0; i < 300; i++) {
        tkd_record r = fx_record(i, TKD_PHASE_SOLVE);
        all &= tkd_idset_has(done, r.pid) == tkd_status_is_final(r.status);
    }
    CHECK(all);
    CHECK(tkd_idset_has(done, fx_record(2499, TKD_PHASE_SOLVE).pid) ==
          tkd_status_is_final(fx_record(2499, TKD_PHASE_SOLVE).status));
    CHECK(!tkd_idset_has(done, fx_record(200000, TKD_PHASE_SOLVE).pid));
    CHECK(!tkd_idset_has(done, fx_record(999999, TKD_PHASE_SOLVE).pid));
    tkd_idset_free(done);
    CHECK_INT(tkd_store_open(p2, &s, &e), 0); /* opens, holds nothing */
    CHECK_INT(tkd_store_count(s), 0);
    CHECK_INT(tkd_store_close(s, &e), 0);
    /* a missing folder is an empty done-set (a fresh run) */
    char *none = fx_path(dir, "none");
    done = tkd_idset_new();
    CHECK_INT(tkd_store_done_set(none, done, &e), 0);
    CHECK_INT(tkd_idset_size(done), 0);
    tkd_idset_free(done);
    CHECK_INT(tkd_store_done_set(other, done = tkd_idset_new(), &e), TKD_EINVAL); /* not a folder */
    tkd_idset_free(done);
    free(none);
    free(p0);
    free(p2);
    free(g);
    free(other);
}

/* A reader in another process opens a shard whose writer is alive and holds
 * it open (file locking on, as on a local disk), then sees later flushes. */
TEST(live_other_process) {
    tkd_err e = {0};
    char *path = tkd_store_shard_path(dir, 50, 0, &e);
    int up[2], down[2];
    CHECK(pipe(up) == 0 && pipe(down) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(up[0]);
        close(down[1]);
        tkd_store_meta m = {TKD_PHASE_SOLVE, 50, 0, NULL, NULL, NULL};
        tkd_store *s;
        char c = 0;
        if (tkd_store_create(path, &m, &s, &e) || fx_append(s, 0, 100, TKD_PHASE_SOLVE, &e) || tkd_store_flush(s, &e) ||
            write(up[1], "1", 1) != 1 || read(down[0], &c, 1) != 1 || fx_append(s, 100, 150, TKD_PHASE_SOLVE, &e) ||
            tkd_store_flush(s, &e) || write(up[1], "2", 1) != 1 || read(down[0], &c, 1) != 1 || tkd_store_close(s, &e))
            _exit(1);
        _exit(0);
    }
    close(up[1]);
    close(down[0]);
    char c = 0;
    CHECK(read(up[0], &c, 1) == 1 && c == '1');
    tkd_store *r = NULL;
    CHECK_INT(tkd_store_open(path, &r, &e), 0);
    if (r) {
        CHECK_INT(tkd_store_count(r), 100);
        CHECK(fx_row_ok(r, 99, 99, TKD_PHASE_SOLVE));
        CHECK(write(down[1], "go", 1) == 1 && read(up[0], &c, 1) == 1 && c == '2');
        CHECK_INT(tkd_store_refresh(r, &e), 0);
        CHECK_INT(tkd_store_count(r), 150);
        int all = 1;
        for (size_t i = 0; i < 150; i++)
            all &= fx_row_ok(r, i, i, TKD_PHASE_SOLVE);
        CHECK(all);
        CHECK_INT(tkd_store_close(r, &e), 0);
    } else {
        fprintf(stderr, "  %s\n", e.msg);
    }
    CHECK(write(down[1], "x", 1) == 1);
    int st = 1;
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(up[0]);
    close(down[1]);
    free(path);
}

int main(void) {
    dir = fx_tmpdir();
    if (!dir)
        return 1;
    RUN(kill9);
    RUN(live_other_process);
    RUN(done_set);
    fx_rmrf(dir);
    free(dir);
    return TEST_END();
}
