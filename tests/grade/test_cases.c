/*
 * The grading case file: every line of tests/grade/cases.tsv (gold, pred,
 * expected equal|different, the rule it exercises) through tkd_grade_equal.
 * Adding a case means adding a line. Failures print the line, the verdict
 * and its reason.
 */
#include "tkd/grade.h"
#include "tkd/job.h"
#include "tkd_test.h"

static int n_cases;

TEST(case_file) {
    FILE *f = fopen("cases.tsv", "r");
    CHECK(f != NULL);
    if (!f)
        return;
    char line[4096];
    int lineno = 0;
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *fields[4] = {0};
        char *p = line;
        int nf = 0;
        while (nf < 4) {
            fields[nf++] = p;
            char *t = strchr(p, '\t');
            if (!t)
                break;
            *t = '\0';
            p = t + 1;
        }
        if (nf < 3) {
            fprintf(stderr, "cases.tsv:%d: needs gold<TAB>pred<TAB>equal|different<TAB>note\n", lineno);
            CHECK(nf >= 3);
            continue;
        }
        int want = !strcmp(fields[2], "equal");
        CHECK(want || !strcmp(fields[2], "different"));
        tkd_grade_verdict v;
        CHECK_INT(tkd_grade_equal(fields[0], fields[1], &o, &v), 0);
        int got = v.result == TKD_GRADE_EQUAL;
        if (got != want)
            fprintf(stderr, "cases.tsv:%d: [%s] vs [%s]: expected %s, got %s (%s)  -- %s\n", lineno, fields[0],
                    fields[1], fields[2], got ? "equal" : "different", v.reason, nf > 3 ? fields[3] : "");
        CHECK_INT(got, want);
        n_cases++;
    }
    fclose(f);
    fprintf(stderr, "%d cases\n", n_cases);
    CHECK(n_cases >= 200);
}

TEST(parse_print) {
    /* the parser's shape on a few answers, printed fully parenthesised */
    static const char *const in[][2] = {
        {"\\frac12", "(1/2)"},
        {"2\\pi", "(2*pi)"},
        {"918\\frac12", "(918+(1/2))"},
        {"\\sqrt[3]{x}", "root(x,3)"},
        {"[1,2)", "[1, 2)"},
        {"\\{1,2\\}", "{1, 2}"},
        {"x \\le 3", "x<=3"},
        {"\\sin^2 x", "(sin(x)^2)"},
        {"\\log_2 8", "log(8,2)"},
        {"1,234", "1234"},
        {"-x^2", "(-(x^2))"},
        {"20\\%", "20%"},
        {"\\pm 2", "(+-2)"},
        {"(x+1)(x-1)", "((x+1)*(x+(-1)))"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        tkd_gnode *g = NULL;
        tkd_err e = {0};
        int rc = tkd_grade_parse_latex(in[i][0], &g, &e);
        CHECK_INT(rc, 0);
        if (rc) {
            fprintf(stderr, "  %s: %s\n", in[i][0], e.msg);
            continue;
        }
        tkd_buf b;
        tkd_buf_init(&b);
        tkd_grade_node_print(g, &b);
        CHECK_STR(b.data, in[i][1]);
        tkd_buf_free(&b);
        tkd_grade_node_free(g);
    }
}

TEST(timeout_never_hangs) {
    /* a huge tower: decided or undecided within about the budget, never a hang */
    tkd_grade_opts o;
    tkd_grade_opts_default(&o);
    o.timeout_s = 0.2;
    double t0 = tkd_now();
    tkd_grade_verdict v;
    tkd_grade_equal("2^{2^{2^{2^{2^{2}}}}}", "3^{3^{3^{3^{3}}}}+\\sin(10^{10^{5}})", &o, &v);
    CHECK(tkd_now() - t0 < 2.0);
    CHECK(v.result != TKD_GRADE_EQUAL);
    t0 = tkd_now();
    tkd_grade_equal("1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20",
                    "x_1,x_2,x_3,x_4,x_5,x_6,x_7,x_8,x_9,x_10,x_11,x_12,x_13,x_14,x_15,x_16,x_17,x_18,x_19,x_20", &o,
                    &v);
    CHECK(tkd_now() - t0 < 2.0);
    CHECK(v.result != TKD_GRADE_EQUAL);
}

TEST(to_expr) {
    /* the same answers as expr trees, printed in SymPy syntax */
    static const char *const in[][2] = {
        {"\\frac{1}{2}", "1/2"},
        {"2\\pi", "2*pi"},
        {"\\sqrt[3]{x}", "x**(1/3)"},
        {"\\log_2 8", "log(8, 2)"},
        {"x \\in [1,2)", "Contains(x, Interval.Ropen(1, 2))"},
        {"\\begin{pmatrix}1&2\\\\3&4\\end{pmatrix}", "Matrix([[1, 2], [3, 4]])"},
        {"(-\\infty,2)\\cup(3,\\infty)", "Union(Interval.open(-oo, 2), Interval.open(3, oo))"},
        {"1 < x \\le 3", "And(1 < x, x <= 3)"},
        {"\\binom{5}{2}", "binomial(5, 2)"},
        {"|x|", "Abs(x)"},
    };
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        tkd_expr *x = NULL;
        tkd_err e = {0};
        int rc = tkd_grade_parse_latex_expr(in[i][0], &x, &e);
        CHECK_INT(rc, 0);
        if (rc) {
            fprintf(stderr, "  %s: %s\n", in[i][0], e.msg);
            continue;
        }
        char *s = tkd_expr_to_str(x);
        CHECK_STR(s, in[i][1]);
        free(s);
        tkd_expr_free(x);
    }
}

TEST(job_settings) {
    const char *text = "{\"output_dir\": \"o\", \"grade\": {\"extract\": \"boxed\", \"timeout_ms\": 250},"
                       " \"data\": {\"sources\": [{\"path\": \"a\", \"extract\": \"gsm8k\"}, {\"path\": \"b\"}]}}";
    tkd_job job;
    tkd_err e = {0};
    int rc = tkd_job_load_text("job.json", text, NULL, 0, &job, &e);
    CHECK_INT(rc, 0);
    if (rc) {
        fprintf(stderr, "  %s\n", e.msg);
        return;
    }
    tkd_grade_opts o;
    tkd_grade_opts_from_job(&job, &o);
    CHECK_NEAR(o.timeout_s, 0.25, 1e-12);
    CHECK_INT(tkd_grade_mode_for_source(&job, 0), TKD_GRADE_GSM8K);
    CHECK_INT(tkd_grade_mode_for_source(&job, 1), TKD_GRADE_BOXED);
    CHECK_INT(tkd_grade_mode_for_source(&job, 7), TKD_GRADE_BOXED); /* no such source: the default */
    tkd_job_free(&job);
    /* defaults: 1 s, auto */
    rc = tkd_job_load_text("job.json", "{\"output_dir\": \"o\"}", NULL, 0, &job, &e);
    CHECK_INT(rc, 0);
    if (rc)
        return;
    tkd_grade_opts_from_job(&job, &o);
    CHECK_NEAR(o.timeout_s, 1.0, 1e-12);
    CHECK_INT(tkd_grade_mode_for_source(&job, 0), TKD_GRADE_AUTO);
    tkd_job_free(&job);
}

int main(void) {
    RUN(case_file);
    RUN(parse_print);
    RUN(timeout_never_hangs);
    RUN(to_expr);
    RUN(job_settings);
    return TEST_END();
}
