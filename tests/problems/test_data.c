/* data: problem import from the fixtures in tests/data/problems, and from the
 * real files in $TKD_SHARED/data when they are there (counts per file match
 * the line counts; every MATH record gets a gold answer). */
#include "tkd/data.h"
#include "tkd_test.h"

#include <dirent.h>

#define FIX "../data/problems/"

static const tkd_problem *find(const tkd_problem_set *s, const char *id) {
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->items[i].id, id))
            return &s->items[i];
    return NULL;
}

TEST(math_fixture) {
    tkd_problem_set set;
    tkd_problem_set_init(&set);
    tkd_data_stats st = {0};
    tkd_data_opts o = {0};
    tkd_err e = {0};
    CHECK_INT(tkd_data_load(FIX "math_small.jsonl", &o, &set, &st, &e), 0);
    CHECK_INT(set.n, 4);
    CHECK_INT(st.lines, 4);
    CHECK_INT(st.no_answer, 1);
    const tkd_problem *p = find(&set, "problems/math_small/8");
    CHECK(p != NULL);
    if (p) {
        CHECK_STR(p->answer, "\\frac{1}{2}");
        CHECK_STR(p->subject, "Algebra");
        CHECK_INT(p->level, 2);
        CHECK(p->pid == tkd_hash64(p->id, strlen(p->id)));
    }
    p = find(&set, "problems/math_small/9");
    CHECK(p && p->answer && !strcmp(p->answer, "\\{1,2\\}") && p->level == 0);
    p = find(&set, "problems/math_small/10");
    CHECK(p && p->answer == NULL);
    tkd_problem_set_free(&set);
}

TEST(bench_and_gsm8k) {
    tkd_problem_set set;
    tkd_problem_set_init(&set);
    tkd_data_stats st = {0};
    tkd_data_opts o = {0};
    tkd_err e = {0};
    CHECK_INT(tkd_data_load(FIX "bench_small.jsonl", &o, &set, &st, &e), 0);
    CHECK_INT(tkd_data_load(FIX "gsm8k_small.jsonl", &o, &set, &st, &e), 0);
    CHECK_INT(st.duplicates, 1);
    CHECK_INT(set.n, 5);
    const tkd_problem *p = find(&set, "aime/0073");
    CHECK(p && !strcmp(p->answer, "\\textbf{(540)}"));
    p = find(&set, "amc/1");
    CHECK(p && !strcmp(p->answer, "17") && !strcmp(p->problem, "Short answer"));
    int hashed = 0;
    for (size_t i = 0; i < set.n; i++)
        hashed += !strncmp(set.items[i].id, "olympiad/h", 10) && strlen(set.items[i].id) == 10 + 12;
    CHECK_INT(hashed, 1);
    int g = 0;
    for (size_t i = 0; i < set.n; i++)
        if (!strncmp(set.items[i].id, "problems/gsm8k_small/h", 22)) {
            g++;
            if (strstr(set.items[i].problem, "apples"))
                CHECK_STR(set.items[i].answer, "1003");
            else
                CHECK(set.items[i].answer == NULL);
        }
    CHECK_INT(g, 2);
    /* JSON round trip, as stored */
    for (size_t i = 0; i < set.n; i++) {
        char *js = tkd_problem_to_json(&set.items[i]);
        tkd_problem q;
        CHECK(js != NULL);
        CHECK_INT(tkd_problem_from_json(js, &q, &e), 0);
        CHECK_STR(q.id, set.items[i].id);
        CHECK(q.pid == set.items[i].pid);
        CHECK((q.answer == NULL) == (set.items[i].answer == NULL));
        CHECK_STR(q.problem, set.items[i].problem);
        tkd_problem_clear(&q);
        free(js);
    }
    tkd_problem_set_free(&set);
}

TEST(bad_lines) {
    tkd_problem_set set;
    tkd_problem_set_init(&set);
    tkd_data_stats st = {0};
    tkd_data_opts o = {0};
    tkd_err e = {0};
    CHECK_INT(tkd_data_load(FIX "bad.jsonl", &o, &set, &st, &e), 0);
    CHECK_INT(set.n, 1);
    CHECK_INT(st.bad, 5);
    tkd_problem_set_free(&set);
    o.fail_on_bad_line = 1;
    CHECK_INT(tkd_data_load(FIX "bad.jsonl", &o, &set, &st, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "bad.jsonl:2: invalid JSON") != NULL);
    tkd_problem_set_free(&set);
    CHECK_INT(tkd_data_load(FIX "missing.jsonl", &o, &set, &st, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "does not exist") != NULL);
    tkd_problem_set_free(&set);
}

static size_t count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    size_t n = 0;
    int c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

/* Every real file: one problem per line, ids unique; MATH: every gold found. */
TEST(gold_boxes) {
    struct {
        const char *sol;
        tkd_data_format fmt;
        const char *want; /* NULL: no answer */
    } cases[] = {
        {"so $\\boxed{5}$.", TKD_DATA_MATH, "5"},
        {"first \\boxed{1}, then \\boxed{\\frac{1}{2}}", TKD_DATA_MATH, "\\frac{1}{2}"},
        {"so $\\boxed{}$.", TKD_DATA_MATH, NULL},
        {"so $\\boxed{ }$.", TKD_DATA_BENCH, NULL},
        {"so $\\boxed{5$.", TKD_DATA_MATH, NULL},
        {"\\boxed{5", TKD_DATA_BENCH, NULL},                /* short, but not an answer */
        {"\\boxed{3} then \\boxed{4", TKD_DATA_MATH, NULL}, /* the last box is open */
        {"\\fbox{7}", TKD_DATA_BENCH, "7"},
        {"\\boxed 9", TKD_DATA_BENCH, "9"},
        {"42", TKD_DATA_BENCH, "42"},
        {"no box here", TKD_DATA_MATH, NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *a = tkd_data_gold_answer(cases[i].sol, cases[i].fmt);
        if (cases[i].want)
            CHECK_STR(a, cases[i].want);
        else if (a) {
            fprintf(stderr, "case %zu: expected no answer, got '%s'\n", i, a);
            CHECK(a == NULL);
        }
        free(a);
    }
}

TEST(real_data) {
    const char *shared = getenv("TKD_SHARED");
    char root[4096];
    snprintf(root, sizeof root, "%s/data", shared ? shared : "../../../shared");
    DIR *d = opendir(root);
    if (!d) {
        printf("skip real_data: %s is absent\n", root);
        return;
    }
    closedir(d);
    static const char *files[] = {"math/train/algebra", "math/train/counting_and_probability",
                                  "math/train/geometry", "math/train/intermediate_algebra",
                                  "math/train/number_theory", "math/train/prealgebra", "math/train/precalculus",
                                  "math/test/algebra", "math/test/counting_and_probability", "math/test/geometry",
                                  "math/test/intermediate_algebra", "math/test/number_theory",
                                  "math/test/prealgebra", "math/test/precalculus", "bench/math500", "bench/aime",
                                  "bench/gsm8k"};
    tkd_problem_set all;
    tkd_problem_set_init(&all);
    size_t total_lines = 0, math_train = 0, math_test = 0;
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/%s.jsonl", root, files[i]);
        tkd_data_stats st = {0};
        tkd_data_opts o = {.fail_on_bad_line = 1};
        tkd_err e = {0};
        size_t before = all.n, lines = count_lines(path);
        CHECK_INT(tkd_data_load(path, &o, &all, &st, &e), 0);
        CHECK_INT(all.n - before, lines); /* count per source matches the file */
        CHECK_INT(st.bad, 0);
        total_lines += lines;
        if (!strncmp(files[i], "math/", 5)) {
            /* every MATH record gets a gold answer but two whose box is empty
             * ("so the answer is $\\boxed{}$."): those have none */
            CHECK_INT(st.no_answer, strcmp(files[i], "math/train/number_theory") ? 0 : 2);
            if (strstr(files[i], "/train/"))
                math_train += lines;
            else
                math_test += lines;
        }
        if (!strcmp(files[i], "bench/math500"))
            CHECK_INT(st.no_answer, 0);
        if (!strcmp(files[i], "bench/gsm8k"))
            CHECK_INT(st.no_answer, 0);
    }
    CHECK_INT(math_train, 7500);
    CHECK_INT(math_test, 5000);
    CHECK_INT(all.n, total_lines); /* ids unique across all files */
    printf("real data: %zu problems from %zu files\n", all.n, sizeof files / sizeof *files);
    tkd_problem_set_free(&all);
}

int main(void) {
    RUN(math_fixture);
    RUN(bench_and_gsm8k);
    RUN(bad_lines);
    RUN(gold_boxes);
    RUN(real_data);
    return TEST_END();
}
