/*
 * tkd tool list|call: look at the math toolkit and call it by hand.
 *   tkd tool list [--json]                 names and one-line summaries, or the OpenAI specs
 *   tkd tool call NAME 'JSON-ARGS'         one call in an isolated worker; prints the answer
 *   tkd tool call --jsonl FILE             one call per line {"tool":..,"args":{..}}; one answer per line
 *   tkd tool sandbox-check                 what the node supports for run_python's sandbox
 * Options of call: --workers N (jsonl), --cpu SECONDS, --mem MIB, --direct (no worker: no limits);
 * for run_python: --sandbox strict|allow-weak, --python PATH, --timeout SECONDS.
 * A tool error is still an answer (exit 0); an unknown tool or arguments that
 * are not a JSON object exit 2.
 */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tkd/json.h"
#include "tkd/tools.h"

#define TKD_CLI_TOOLS_MAX 1024

static int usage(void) {
    tkd_cli_usage("tool", NULL, stderr);
    return TKD_EXIT_USAGE;
}

static int cmd_list(int json) {
    if (json) {
        tkd_err e = {0};
        const char *names[TKD_CLI_TOOLS_MAX + 1]; /* every tool, the opt-in ones (run_python) too */
        size_t n = 0;
        for (size_t i = 0; i < tkd_tools_count() && n < TKD_CLI_TOOLS_MAX; i++)
            names[n++] = tkd_tools_name(tkd_tools_at(i));
        names[n] = NULL;
        char *s = tkd_tools_specs_json(names, &e);
        if (!s)
            return tkd_cli_fail(&e);
        printf("%s\n", s);
        free(s);
        return 0;
    }
    const char *group = "";
    for (size_t i = 0, n = tkd_tools_count(); i < n; i++) {
        const tkd_tool *t = tkd_tools_at(i);
        if (strcmp(group, tkd_tools_group(t)))
            printf("%s%s:\n", i ? "\n" : "", group = tkd_tools_group(t));
        printf("  %-32s %s\n", tkd_tools_name(t), tkd_tools_summary(t));
    }
    printf("\n%zu tools; `tkd tool list --json` prints their OpenAI function specs\n", tkd_tools_count());
    return 0;
}

/* Read with the tools' own JSON, so integers of any size pass as written. */
static int args_are_object(const char *s) {
    tkd_arena a;
    tkd_arena_init(&a);
    tkd_json *j;
    int ok = !tkd_json_parse(&a, s, strlen(s), &j, NULL) && j->kind == TKD_JSON_OBJ;
    tkd_arena_free(&a);
    return ok;
}

static int call_one(const char *name, const char *args, const tkd_tool_limits *lim, int direct) {
    if (!tkd_tools_find(name)) {
        fprintf(stderr, "tkd: unknown tool '%s'; `tkd tool list` shows the tools\n", name);
        return TKD_EXIT_USAGE;
    }
    if (!args_are_object(args)) {
        fprintf(stderr, "tkd: the arguments must be one JSON object, e.g. '{\"expression\": \"x**2 - 1\"}'\n");
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    char *answer = NULL;
    int rc = direct ? tkd_tools_call(name, args, strlen(args), &answer, lim, &e)
                    : tkd_tools_call_isolated(name, args, &answer, lim, &e);
    if (!answer)
        return tkd_cli_fail(&e);
    printf("%s\n", answer);
    free(answer);
    (void)rc;
    return 0;
}

static int call_jsonl(const char *path, int workers, const tkd_tool_limits *lim) {
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        fprintf(stderr, "tkd: cannot open %s\n", path);
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_tools_pool *pool;
    if (tkd_tools_pool_create(workers, lim, &pool, &e)) {
        if (f != stdin)
            fclose(f);
        return tkd_cli_fail(&e);
    }
    char **answers = NULL;
    size_t n = 0, cap = 0;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    int rc = 0;
    for (int first = 1; !rc && (len = getline(&line, &lcap, f)) >= 0; first = 0) {
        if (first)
            len = (ssize_t)tkd_text_strip_bom(line, (size_t)len);
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            char **a = realloc(answers, cap * sizeof *a);
            if (!a) {
                rc = TKD_EXIT_FAIL;
                break;
            }
            answers = a;
        }
        answers[n] = NULL;
        tkd_arena ar;
        tkd_arena_init(&ar);
        tkd_json *j = NULL;
        tkd_json_parse(&ar, line, (size_t)len, &j, NULL);
        const char *tool = tkd_json_str(tkd_json_get(j, "tool"));
        tkd_json *args = tkd_json_get(j, "args");
        if (!tool || (args && args->kind != TKD_JSON_OBJ)) {
            answers[n] = tkd_tools_error_json("bad line: expected {\"tool\": NAME, \"args\": {...}}");
        } else {
            tkd_buf a;
            tkd_buf_init(&a);
            if ((args ? tkd_json_write(&a, args) : tkd_buf_puts(&a, "{}")) ||
                tkd_tools_pool_submit(pool, n, tool, a.data, &e))
                rc = TKD_EXIT_FAIL;
            tkd_buf_free(&a);
        }
        tkd_arena_free(&ar);
        n++;
        /* collect as we go, so a long file keeps the workers busy */
        tkd_tool_done d[16];
        int k = 0;
        while (!rc && tkd_tools_pool_pending(pool) >= 4 * workers && !tkd_tools_pool_poll(pool, -1, d, 16, &k, &e))
            for (int i = 0; i < k; i++)
                answers[d[i].id] = d[i].answer;
    }
    while (!rc && tkd_tools_pool_pending(pool)) {
        tkd_tool_done d[16];
        int k = 0;
        if (tkd_tools_pool_poll(pool, -1, d, 16, &k, &e))
            rc = TKD_EXIT_FAIL;
        for (int i = 0; i < k; i++)
            answers[d[i].id] = d[i].answer;
    }
    for (size_t i = 0; i < n; i++) {
        if (!rc)
            printf("%s\n", answers[i] ? answers[i] : "{\"status\":\"error\",\"message\":\"lost\"}");
        free(answers[i]);
    }
    free(answers);
    free(line);
    tkd_tools_pool_free(pool);
    if (f != stdin)
        fclose(f);
    return rc;
}

/* `tkd tool sandbox-check`: exit 0 when the strict sandbox works here. */
static int cmd_sandbox_check(const tkd_code_cfg *c) {
    tkd_sandbox_report r;
    tkd_tools_sandbox_check(c, &r);
    static const char *const yn[] = {"no", "yes"};
    printf("run_python sandbox on this node\n");
    printf("  sysctls:              %s\n", r.sysctl);
    printf("  user namespace:       %s\n", yn[r.userns]);
    printf("  pid namespace:        %s\n", yn[r.pidns]);
    printf("  mount namespace:      %s\n", yn[r.mntns]);
    printf("  network namespace:    %s\n", yn[r.netns]);
    printf("  ipc namespace:        %s\n", yn[r.ipcns]);
    printf("  uts namespace:        %s\n", yn[r.utsns]);
    printf("  seccomp filter:       %s\n", yn[r.seccomp]);
    printf("  python3:              %s%s%s\n", r.python[0] ? r.python : "(none found)", r.python_version[0] ? " " : "",
           r.python_version);
    printf("  sympy importable:     %s\n", yn[r.sympy]);
    printf("  numpy importable:     %s\n", yn[r.numpy]);
    printf("  strict sandbox runs:  %s%s%s\n", yn[r.strict_ok], r.strict_ok ? "" : ": ", r.strict_why);
    printf("  weak sandbox runs:    %s%s%s\n", yn[r.weak_ok], r.weak_ok ? "" : ": ", r.weak_why);
    printf("a job with tools.code.sandbox \"strict\" gets: %s\n",
           r.strict_ok ? "strict" : "an error (run_python fails)");
    printf("a job with tools.code.sandbox \"allow-weak\" gets: %s\n", r.strict_ok ? "strict"
                                                                      : r.weak_ok ? "weak"
                                                                                  : "an error (run_python fails)");
    if (!r.strict_ok) {
        fprintf(stderr, "tkd: the strict sandbox does not work here: %s\n", r.strict_why);
        return 1;
    }
    return 0;
}

int tkd_cmd_tool(int argc, char **argv) {
    if (argc < 1)
        return usage();
    const char *pos[4];
    int npos = 0, json = 0, direct = 0, workers = 1;
    const char *jsonl = NULL;
    tkd_tool_limits lim;
    tkd_tools_limits_default(&lim);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--json"))
            json = 1;
        else if (!strcmp(a, "--direct"))
            direct = 1;
        else if (!strcmp(a, "--jsonl") && i + 1 < argc)
            jsonl = argv[++i];
        else if (!strcmp(a, "--workers") && i + 1 < argc)
            workers = atoi(argv[++i]);
        else if (!strcmp(a, "--cpu") && i + 1 < argc)
            lim.cpu_seconds = atof(argv[++i]);
        else if (!strcmp(a, "--mem") && i + 1 < argc)
            lim.mem_bytes = (size_t)atol(argv[++i]) << 20;
        else if (!strcmp(a, "--sandbox") && i + 1 < argc) {
            const char *m = argv[++i];
            if (strcmp(m, "strict") && strcmp(m, "allow-weak"))
                return usage();
            lim.code.mode = !strcmp(m, "allow-weak") ? TKD_SANDBOX_ALLOW_WEAK : TKD_SANDBOX_STRICT;
        } else if (!strcmp(a, "--python") && i + 1 < argc) {
            const char *py = argv[++i];
            if (py[0] != '/' || strlen(py) >= sizeof lim.code.python)
                return usage();
            snprintf(lim.code.python, sizeof lim.code.python, "%s", py);
        } else if (!strcmp(a, "--timeout") && i + 1 < argc) {
            lim.code.timeout_s = atof(argv[++i]);
            if (!(lim.code.timeout_s > 0 && lim.code.timeout_s <= 3600))
                return usage();
        } else if (a[0] == '-' && a[1] == '-')
            return usage();
        else if (npos < 4)
            pos[npos++] = a;
        else
            return usage();
    }
    if (!strcmp(argv[0], "list") && npos == 0)
        return cmd_list(json);
    if (!strcmp(argv[0], "sandbox-check") && npos == 0)
        return cmd_sandbox_check(&lim.code);
    if (!strcmp(argv[0], "call")) {
        if (jsonl && npos == 0)
            return workers >= 1 && workers <= TKD_TOOL_POOL_MAX ? call_jsonl(jsonl, workers, &lim) : usage();
        if (!jsonl && (npos == 1 || npos == 2))
            return call_one(pos[0], npos == 2 ? pos[1] : "{}", &lim, direct);
    }
    return usage();
}
