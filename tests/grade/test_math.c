/*
 * Grading on the real MATH test set ($TKD_SHARED/data/math/test, every .jsonl,
 * and the train split the same way):
 * the gold of every solution (its last \boxed{}) must parse, and must grade
 * equal to itself rewritten the ways models rewrite it (\frac <-> \dfrac,
 * spaces, $...$, \left( \right)), with the text shortcut off so the parser
 * and the comparer do the work. Skips (passes) when the data is absent.
 */
#include "tkd/grade.h"
#include "tkd_test.h"

#include <dirent.h>
#include <jansson.h>

/* Golds the parser may fail on (each is listed on stderr with the reason).
 * All 5,000 parse today, so the threshold is 0: a regression shows at once.
 */
#define MAX_PARSE_FAILURES 0

static char *replace_all(const char *s, const char *from, const char *to) {
    tkd_buf b;
    tkd_buf_init(&b);
    size_t fl = strlen(from);
    for (const char *p = s; *p;) {
        if (!strncmp(p, from, fl)) {
            tkd_buf_puts(&b, to);
            p += fl;
        } else {
            tkd_buf_putc(&b, *p++);
        }
    }
    return tkd_buf_steal(&b);
}

/* Spaces after commas and around + and =, and before commands. */
static char *spaced(const char *s) {
    tkd_buf b;
    tkd_buf_init(&b);
    for (const char *p = s; *p; p++) {
        if (*p == '\\' && p[1] >= 'a' && p[1] <= 'z' && (p == s || p[-1] != '\\'))
            tkd_buf_putc(&b, ' ');
        tkd_buf_putc(&b, *p);
        /* not inside a number: 1,\!000 and 1{,}000 stay whole */
        if ((*p == ',' && !(p[1] >= '0' && p[1] <= '9') && p[1] != '\\' && p[1] != '}') || *p == '+' || *p == '=')
            tkd_buf_putc(&b, ' ');
    }
    return tkd_buf_steal(&b);
}

static int n_gold, n_parse_fail, n_rewrite_fail, n_rewrites, n_expr_fail;

static void check_gold(const char *file, const char *id, const char *gold) {
    n_gold++;
    tkd_gnode *g = NULL;
    tkd_err e = {0};
    if (tkd_grade_parse_latex(gold, &g, &e)) {
        n_parse_fail++;
        fprintf(stderr, "  parse failure %s id %s: [%s]: %s\n", file, id, gold, e.msg);
        return;
    }
    tkd_expr *x = NULL;
    if (tkd_grade_to_expr(g, &x, &e)) {
        n_expr_fail++;
        fprintf(stderr, "  expr conversion failure %s id %s: [%s]: %s\n", file, id, gold, e.msg);
    }
    tkd_expr_free(x);
    tkd_grade_node_free(g);
    char *rw[5];
    char *t1 = replace_all(gold, "\\dfrac", "\\FRAC");
    char *t2 = replace_all(t1, "\\frac", "\\dfrac");
    rw[0] = replace_all(t2, "\\FRAC", "\\frac");
    free(t1);
    free(t2);
    rw[1] = spaced(gold);
    tkd_buf b;
    tkd_buf_init(&b);
    tkd_buf_printf(&b, "$%s$", gold);
    rw[2] = tkd_buf_steal(&b);
    t1 = replace_all(gold, "(", "\\left(");
    rw[3] = replace_all(t1, ")", "\\right)");
    free(t1);
    rw[4] = NULL;
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    o.no_shortcut = 1;
    o.timeout_s = 5.0; /* a loaded CI machine must not turn this into timeouts */
    for (int i = 0; rw[i]; i++) {
        tkd_grade_verdict v;
        n_rewrites++;
        tkd_grade_equal(gold, rw[i], &o, &v);
        if (v.result != TKD_GRADE_EQUAL) {
            n_rewrite_fail++;
            fprintf(stderr, "  rewrite failure %s id %s: [%s] vs [%s]: %s\n", file, id, gold, rw[i], v.reason);
        }
        free(rw[i]);
    }
}

/* Every gold of one MATH split; returns 0 when the folder is absent. */
static int run_split(const char *split) {
    const char *shared = getenv("TKD_SHARED");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/data/math/%s", shared ? shared : "../../../shared", split);
    DIR *d = opendir(dir);
    if (!d) {
        printf("skip: %s not found (set TKD_SHARED)\n", dir);
        return 0;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t n = strlen(de->d_name);
        if (n < 7 || strcmp(de->d_name + n - 6, ".jsonl"))
            continue;
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        CHECK(f != NULL);
        if (!f)
            continue;
        char *line = NULL;
        size_t cap = 0;
        while (getline(&line, &cap, f) > 0) {
            json_t *r = json_loads(line, 0, NULL);
            const char *sol = json_string_value(json_object_get(r, "solution"));
            const char *id = json_string_value(json_object_get(r, "id"));
            char *gold = sol ? tkd_text_last_boxed(sol) : NULL;
            if (gold && !gold[0])
                fprintf(stderr, "  empty \\boxed{} in %s/%s id %s (a broken record; skipped)\n", split, de->d_name,
                        id ? id : "?");
            else if (gold)
                check_gold(de->d_name, id ? id : "?", gold);
            else
                fprintf(stderr, "  no boxed gold in %s/%s id %s\n", split, de->d_name, id ? id : "?");
            free(gold);
            json_decref(r);
        }
        free(line);
        fclose(f);
    }
    closedir(d);
    fprintf(stderr, "MATH %s: %d golds, %d do not parse, %d not convertible to expr; %d rewrites, %d not equal\n",
            split, n_gold, n_parse_fail, n_expr_fail, n_rewrites, n_rewrite_fail);
    return 1;
}

TEST(math_test_set) {
    n_gold = n_parse_fail = n_rewrite_fail = n_rewrites = n_expr_fail = 0;
    if (!run_split("test"))
        return;
    CHECK(n_gold >= 4900);
    CHECK(n_parse_fail <= MAX_PARSE_FAILURES);
    CHECK_INT(n_rewrite_fail, 0);
    CHECK_INT(n_expr_fail, 0); /* every parsed gold also becomes an expr tree */
}

TEST(math_train_set) {
    /* the 7,500 training golds too: the teacher's problems are graded with them */
    n_gold = n_parse_fail = n_rewrite_fail = n_rewrites = n_expr_fail = 0;
    if (!run_split("train"))
        return;
    CHECK(n_gold >= 7000);
    CHECK(n_parse_fail <= MAX_PARSE_FAILURES);
    CHECK_INT(n_rewrite_fail, 0);
    CHECK_INT(n_expr_fail, 0);
}

int main(void) {
    RUN(math_test_set);
    RUN(math_train_set);
    return TEST_END();
}
