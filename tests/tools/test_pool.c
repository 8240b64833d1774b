/* tools: the worker pool under adversarial calls. Every hostile input must
 * answer a tool error within its limits (never crash the caller), timeouts
 * and crashes must answer errors and replace the worker, and the pool must
 * answer a normal call correctly afterwards. Also: the registry's specs are
 * valid JSON, every tool rejects missing arguments cleanly, and submit/poll
 * do not block. */
#include <dirent.h>
#include <signal.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tkd/tools.h"
#include "tkd_test.h"

/* One call through the pool; returns the answer (caller frees) and the time. */
static char *call(tkd_tools_pool *p, const char *name, const char *args, double *secs, int *status) {
    tkd_err e = {0};
    static uint64_t id = 100;
    uint64_t my = ++id;
    double t0 = tkd_now();
    if (tkd_tools_pool_submit(p, my, name, args, &e))
        return NULL;
    tkd_tool_done d;
    int n = 0;
    while (n == 0)
        if (tkd_tools_pool_poll(p, -1, &d, 1, &n, &e))
            return NULL;
    if (secs)
        *secs = tkd_now() - t0;
    if (status)
        *status = d.status;
    return d.id == my ? d.answer : (free(d.answer), NULL);
}

static int is_error(const char *answer) {
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    int ok =
        j &&
        !strcmp(json_string_value(json_object_get(j, "status")) ? json_string_value(json_object_get(j, "status")) : "",
                "error") &&
        json_string_length(json_object_get(j, "message")) > 10;
    json_decref(j);
    return ok;
}

static int result_is(const char *answer, const char *want) {
    json_t *j = answer ? json_loads(answer, 0, NULL) : NULL;
    const char *r = json_string_value(json_object_get(j, "result"));
    int ok = r && !strcmp(r, want);
    json_decref(j);
    return ok;
}

static char *nested_parens(int depth) {
    char *s = malloc((size_t)depth * 2 + 64);
    size_t n = 0;
    n += (size_t)sprintf(s, "{\"expression\": \"");
    for (int i = 0; i < depth; i++)
        s[n++] = '(';
    s[n++] = 'x';
    for (int i = 0; i < depth; i++)
        s[n++] = ')';
    strcpy(s + n, "\"}");
    return s;
}

static char *big_matrix(int dim, int digits) {
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_buf_puts(&b, "{\"matrix\": [");
    char num[128];
    memset(num, '7', (size_t)digits);
    num[digits] = 0;
    for (int i = 0; i < dim; i++) {
        tkd_buf_puts(&b, i ? ",[" : "[");
        for (int j = 0; j < dim; j++)
            tkd_buf_printf(&b, "%s\"%s\"", j ? "," : "", num);
        tkd_buf_putc(&b, ']');
    }
    tkd_buf_puts(&b, "]}");
    return tkd_buf_steal(&b);
}

TEST(adversarial_inputs) {
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(2, NULL, &p, &e), 0);
    char *nest = nested_parens(10000), *mat = big_matrix(500, 100);
    char *mega = malloc(1 << 20 | 64);
    strcpy(mega, "{\"expression\": \"");
    memset(mega + 16, '1', 1 << 20);
    strcpy(mega + 16 + (1 << 20), "\"}");
    struct {
        const char *name, *args;
    } cases[] = {
        {"expand_expression", "{\"expression\": \"2**(10**10)\"}"},
        {"simplify_expression", "{\"expression\": \"2**(10**10)\"}"},
        {"expand_expression", "{\"expression\": \"(x+1)**100000\"}"},
        {"simplify_expression", nest},
        {"evaluate", "{\"expression\": \"factorial(10**9)\"}"},
        {"factorial", "{\"n\": 1000000000}"},
        {"compute_determinant", mat},
        {"simplify_expression", mega},
        {"simplify_expression", "{\"expression\": \"\xff\xfe x\"}"},
        {"simplify_expression", "{\"expression\": \"nan\"}"},
        {"simplify_expression", "{\"expression\": \"zoo + 1\"}"},
        {"evaluate", "{\"expression\": \"inf\"}"},
        {"simplify_expression", "{\"expression\": NaN}"},
        {"simplify_expression", "{\"expression\": \"\"}"},
        {"simplify_expression", "{}"},
        {"simplify_expression", ""},
        {"simplify_expression", "[1, 2]"},
        {"", "{}"},
        {"no_such_tool", "{}"},
        {"gcd", "{\"numbers\": []}"},
        {"compute_inverse", "{\"matrix\": [[1, 2], [3]]}"},
        {"solve_equation", "{\"sympy_equation\": \"x**2 = 4\", \"variable\": \"x; rm -rf\"}"},
        {"is_prime", "{\"n\": \"1e400\"}"},
        {"compute_limit", "{\"expression\": \"x\", \"point\": 0, \"direction\": \"up\"}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double s = 0;
        char *a = call(p, cases[i].name, cases[i].args, &s, NULL);
        int ok = is_error(a) && s < TKD_TOOL_WALL_SECONDS + 2;
        if (!ok)
            fprintf(stderr, "case %zu (%s): %.200s in %.2fs\n", i, cases[i].name, a ? a : "(null)", s);
        CHECK(ok);
        free(a);
    }
    /* still healthy: a normal call, and no worker was lost */
    char *a = call(p, "factor_expression", "{\"expression\": \"x**2 - 1\"}", NULL, NULL);
    CHECK(result_is(a, "(x - 1)*(x + 1)") || result_is(a, "(x + 1)*(x - 1)"));
    free(a);
    CHECK_INT(tkd_tools_pool_spawned(p), 2);
    tkd_tools_pool_free(p);
    free(nest);
    free(mat);
    free(mega);
}

static const char *SEMIPRIME = "{\"n\": \"30000000000000000000000000096400000000000000000000000002233\"}";

TEST(cpu_limit_and_replacement) {
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.cpu_seconds = 0.3;
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(1, &lim, &p, &e), 0);
    int st = 0;
    double s = 0;
    char *a = call(p, "factor_integer", SEMIPRIME, &s, &st);
    CHECK(is_error(a));
    CHECK(a && strstr(a, "CPU-time limit"));
    CHECK_INT(st, TKD_ETIMEOUT);
    free(a);
    a = call(p, "gcd", "{\"numbers\": [12, 18]}", NULL, NULL);
    CHECK(result_is(a, "6"));
    free(a);
    CHECK_INT(tkd_tools_pool_spawned(p), 2);
    tkd_tools_pool_free(p);
}

/* Entries of a folder ("." and ".." aside), -1 when it cannot be read; the
 * first one's name into first when given. */
static int entries(const char *dir, char *first, size_t cap) {
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *en; (en = readdir(d));)
        if (strcmp(en->d_name, ".") && strcmp(en->d_name, "..")) {
            if (!n && first)
                snprintf(first, cap, "%s", en->d_name);
            n++;
        }
    closedir(d);
    return n;
}

/* 30000000000000000041 * 700000000000000012531: beyond the elliptic-curve
 * budget, so FLINT's quadratic sieve factors it, writing NNNsiqs.dat into
 * the working folder while it runs. */
static const char *QS_ARGS = "{\"n\": \"21000000000000000404630000000000000513771\"}";
/* 30000000000000000000029 * 70000000000000000000003: a longer sieve */
static const char *QS_LONG_ARGS = "{\"n\": \"2100000000000000000002120000000000000000000087\"}";

TEST(private_working_folder) {
    char top[] = "/tmp/tkd-test-pool-XXXXXX", name[256] = "", path[600];
    CHECK(mkdtemp(top) != NULL);
    const char *was = getenv("TMPDIR");
    char *old = was ? strdup(was) : NULL;
    setenv("TMPDIR", top, 1);
    /* the caller works in a folder of its own: other tests share the build folder */
    char here[] = "/tmp/tkd-test-cwd-XXXXXX", back[4096];
    CHECK(mkdtemp(here) != NULL && getcwd(back, sizeof back) != NULL && chdir(here) == 0);
    int cwd_before = entries(".", NULL, 0);
    tkd_tools_pool *p;
    tkd_err e = {0};
    /* a sieve that completes: the answer is right, the caller's folder untouched */
    CHECK_INT(tkd_tools_pool_create(1, NULL, &p, &e), 0);
    CHECK_INT(entries(top, name, sizeof name), 1); /* the worker's own folder */
    char *a = call(p, "factor_integer", QS_ARGS, NULL, NULL);
    CHECK(a && strstr(a, "\"30000000000000000041\"") && strstr(a, "\"700000000000000012531\"") && !strstr(a, "error"));
    free(a);
    CHECK_INT(entries(".", NULL, 0), cwd_before);
    tkd_tools_pool_free(p);
    CHECK_INT(entries(top, NULL, 0), 0); /* removed with the pool */
    /* a worker killed mid-sieve: its folder goes, with what was left in it */
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.cpu_seconds = 0.1;
    CHECK_INT(tkd_tools_pool_create(1, &lim, &p, &e), 0);
    CHECK_INT(entries(top, name, sizeof name), 1);
    snprintf(path, sizeof path, "%s/%s/12345siqs.dat", top, name);
    FILE *f = fopen(path, "w"); /* what a killed sieve leaves */
    CHECK(f != NULL);
    if (f)
        fclose(f);
    int st = 0;
    a = call(p, "factor_integer", QS_LONG_ARGS, NULL, &st);
    CHECK_INT(st, TKD_ETIMEOUT);
    free(a);
    char now[256] = "";
    CHECK_INT(entries(top, now, sizeof now), 1); /* the replacement's folder only */
    CHECK(strcmp(now, name) != 0);
    CHECK_INT(entries(".", NULL, 0), cwd_before);
    tkd_tools_pool_free(p);
    CHECK_INT(entries(top, NULL, 0), 0);
    rmdir(top);
    CHECK(chdir(back) == 0);
    rmdir(here);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
}

/* A rank killed with SIGKILL cannot remove its workers' folders: the next
 * pool on the host removes those whose owner process is gone, and only those. */
TEST(stale_folders_of_killed_owner) {
    char top[] = "/tmp/tkd-test-stale-XXXXXX", name[256] = "", path[800];
    CHECK(mkdtemp(top) != NULL);
    const char *was = getenv("TMPDIR");
    char *old = was ? strdup(was) : NULL;
    setenv("TMPDIR", top, 1);
    int ready[2];
    CHECK(pipe(ready) == 0);
    pid_t child = fork();
    if (child == 0) { /* a rank with a pool, killed before it can clean up */
        tkd_tools_pool *cp;
        tkd_err ce = {0};
        char c = tkd_tools_pool_create(1, NULL, &cp, &ce) ? 'x' : 'k';
        if (write(ready[1], &c, 1) != 1)
            _exit(1);
        for (;;)
            pause();
    }
    char c = 0;
    CHECK(read(ready[0], &c, 1) == 1 && c == 'k');
    close(ready[0]);
    close(ready[1]);
    CHECK(entries(top, name, sizeof name) == 1);
    snprintf(path, sizeof path, "%s/%s/12345siqs.dat", top, name);
    FILE *f = fopen(path, "w"); /* what a killed sieve leaves */
    CHECK(f != NULL);
    if (f)
        fclose(f);
    kill(child, SIGKILL);
    int st;
    waitpid(child, &st, 0);
    CHECK_INT(entries(top, NULL, 0), 1); /* left behind */
    /* folders that must stay: a live owner (this process), another host, an old name */
    char live[300], other[300], plain[300];
    const char *tag = strchr(name + strlen("tkd-tool-"), '-'); /* "-HOST-NS-XXXXXX" */
    CHECK(tag != NULL);
    snprintf(live, sizeof live, "%s/tkd-tool-%ld%.*s-AAAAAA", top, (long)getpid(), (int)(strlen(tag ? tag : "") - 7),
             tag ? tag : "");
    snprintf(other, sizeof other, "%s/tkd-tool-%ld-elsewhere-1-BBBBBB", top, (long)child);
    snprintf(plain, sizeof plain, "%s/tkd-tool-CCCCCC", top);
    CHECK(mkdir(live, 0700) == 0 && mkdir(other, 0700) == 0 && mkdir(plain, 0700) == 0);
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(1, NULL, &p, &e), 0);
    snprintf(path, sizeof path, "%s/%s", top, name);
    struct stat sb;
    CHECK(stat(path, &sb) != 0); /* the killed owner's folder is gone */
    CHECK(stat(live, &sb) == 0 && stat(other, &sb) == 0 && stat(plain, &sb) == 0);
    CHECK_INT(entries(top, NULL, 0), 4); /* the three kept and the new worker's */
    char *a = call(p, "gcd", "{\"numbers\": [12, 18]}", NULL, NULL);
    CHECK(result_is(a, "6"));
    free(a);
    tkd_tools_pool_free(p);
    CHECK_INT(entries(top, NULL, 0), 3);
    rmdir(live);
    rmdir(other);
    rmdir(plain);
    CHECK(rmdir(top) == 0);
    if (old)
        setenv("TMPDIR", old, 1);
    else
        unsetenv("TMPDIR");
    free(old);
}

TEST(wall_watchdog) {
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.cpu_seconds = 60;
    lim.wall_seconds = 0.5;
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(1, &lim, &p, &e), 0);
    int st = 0;
    double s = 0;
    char *a = call(p, "factor_integer", SEMIPRIME, &s, &st);
    CHECK(is_error(a));
    CHECK(a && strstr(a, "wall time"));
    CHECK_INT(st, TKD_ETIMEOUT);
    CHECK(s < 3);
    free(a);
    a = call(p, "lcm", "{\"numbers\": [4, 6]}", NULL, NULL);
    CHECK(result_is(a, "12"));
    free(a);
    tkd_tools_pool_free(p);
}

TEST(crash_answers_error) {
#if !defined(__SANITIZE_ADDRESS__)
    /* 1 MiB on top of what the worker maps at start: factorial(10^6), 5.5
     * million digits, cannot be allocated and the worker dies; the call still
     * gets an error answer */
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.mem_bytes = 1 << 20;
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(1, &lim, &p, &e), 0);
    int st = 0;
    char *a = call(p, "factorial", "{\"n\": 1000000}", NULL, &st);
    CHECK(is_error(a));
    CHECK(st != 0);
    free(a);
    CHECK(tkd_tools_pool_spawned(p) >= 2);
    tkd_tools_pool_free(p);
#endif
}

TEST(nonblocking) {
    tkd_tools_pool *p;
    tkd_err e = {0};
    CHECK_INT(tkd_tools_pool_create(2, NULL, &p, &e), 0);
    double t0 = tkd_now();
    for (int i = 0; i < 20; i++)
        CHECK_INT(tkd_tools_pool_submit(p, (uint64_t)i, "factorial", "{\"n\": 2000}", &e), 0);
    tkd_tool_done d[32];
    int n = 0;
    CHECK_INT(tkd_tools_pool_poll(p, 0, d, 32, &n, &e), 0);
    CHECK(tkd_now() - t0 < 0.5);
    int got = n, seen[20] = {0};
    for (int i = 0; i < n; i++) {
        seen[d[i].id] = 1;
        free(d[i].answer);
    }
    int fds[8];
    CHECK_INT(tkd_tools_pool_fds(p, fds, 8), 2);
    while (tkd_tools_pool_pending(p)) {
        CHECK_INT(tkd_tools_pool_poll(p, 1000, d, 32, &n, &e), 0);
        for (int i = 0; i < n; i++) {
            seen[d[i].id] = 1;
            CHECK(d[i].status == 0 && strstr(d[i].answer, "\"result\""));
            free(d[i].answer);
        }
        got += n;
    }
    CHECK_INT(got, 20);
    int all = 1;
    for (int i = 0; i < 20; i++)
        all &= seen[i];
    CHECK(all);
    tkd_tools_pool_free(p);
}

TEST(registry_and_specs) {
    tkd_err e = {0};
    char *s = tkd_tools_specs_json(NULL, &e);
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    CHECK(json_is_array(j));
    size_t n_default = 0; /* all tools but the opt-in ones (run_python) */
    for (size_t i = 0; i < tkd_tools_count(); i++)
        n_default += !tkd_tools_opt_in(tkd_tools_at(i));
    CHECK_INT(json_array_size(j), n_default);
    CHECK_INT(n_default + 1, tkd_tools_count());
    CHECK(tkd_tools_count() >= 60);
    int good = 1;
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *f = json_object_get(json_array_get(j, i), "function");
        const char *name = json_string_value(json_object_get(f, "name"));
        good &= name && tkd_tools_find(name) == tkd_tools_at(i);
        good &= json_string_length(json_object_get(f, "description")) > 40;
        good &= json_is_object(json_object_get(json_object_get(f, "parameters"), "properties"));
        /* no arguments at all: a clean error naming what is missing (or a default answer) */
        char *a = NULL;
        tkd_tools_call(name, "{}", 2, &a, NULL, &e);
        json_t *aj = a ? json_loads(a, 0, NULL) : NULL;
        good &= json_is_object(aj) && (json_object_get(aj, "result") || json_object_get(aj, "message"));
        json_decref(aj);
        free(a);
    }
    CHECK(good);
    json_decref(j);
    free(s);
    /* the output cap keeps the answer valid JSON with a note */
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    lim.output_max = 300;
    char *a = NULL;
    CHECK_INT(tkd_tools_call("factorial", "{\"n\": 5000}", 11, &a, &lim, &e), 0);
    json_t *aj = a ? json_loads(a, 0, NULL) : NULL;
    CHECK(aj && strlen(a) <= 300 && json_string_value(json_object_get(aj, "result")) &&
          strstr(json_string_value(json_object_get(aj, "result")), "truncated"));
    json_decref(aj);
    free(a);
    /* unknown tool and non-JSON arguments: distinct codes, still an answer */
    CHECK_INT(tkd_tools_call("nope", "{}", 2, &a, NULL, &e), TKD_ENOTFOUND);
    CHECK(is_error(a));
    free(a);
    CHECK_INT(tkd_tools_call("gcd", "{oops", 5, &a, NULL, &e), TKD_EINVAL);
    CHECK(is_error(a));
    free(a);
}

int main(void) {
    RUN(registry_and_specs);
    RUN(adversarial_inputs);
    RUN(cpu_limit_and_replacement);
    RUN(private_working_folder);
    RUN(stale_folders_of_killed_owner);
    RUN(wall_watchdog);
    RUN(crash_answers_error);
    RUN(nonblocking);
    return TEST_END();
}
