/*
 * Extraction on 1,000 made-up responses from a seeded RNG: each hides one
 * intended answer among distractor numbers, earlier boxes and trailing
 * remarks, in one of the formats models use (\boxed, Minerva's "final answer
 * is $...$", "The answer is", GSM8K "####", a bare last number). The
 * extracted answer must grade equal to the intended one, and a few fixed
 * cases pin the rules (joined boxes, brace matching, no answer).
 */
#include "tkd/grade.h"
#include "tkd_test.h"

#define N_RESPONSES 1000

static const char *const fillers[] = {
    "First we compute $3 + 4 = 7$ and note that 12 is even.",
    "Let $x = 5$; then $2x = 10$.",
    "We try $\\boxed{17}$ as a first guess, but it fails the check.",
    "There are 24 cases, 6 of which repeat.",
    "Using $\\frac{1}{2}\\cdot 8 = 4$ we simplify.",
    "Step 2: subtract 9 from 30 to get 21.",
    "The discriminant is $b^2-4ac = 49 - 40 = 9$.",
    "Hence the intermediate value $\\boxed{\\frac{3}{4}}$ is not final.",
};

static const char *const closers[] = {"", " This matches the 2 checks above.", " (We used 3 identities.)",
                                      "\n\nNote: 100 trials confirm it.", " Done in 4 steps."};

/* An intended answer: text, whether it is a plain number (for #### and last-number). */
static void make_answer(tkd_rng *r, char *out, size_t cap, int *plain_number) {
    long a = (long)tkd_rng_below(r, 2000) - 500, b = (long)tkd_rng_below(r, 97) + 2;
    *plain_number = 0;
    switch (tkd_rng_below(r, 9)) {
    case 0:
        snprintf(out, cap, "%ld", a);
        *plain_number = 1;
        break;
    case 1: snprintf(out, cap, "\\frac{%ld}{%ld}", a, b); break;
    case 2: snprintf(out, cap, "%ld\\sqrt{%ld}", labs(a) + 1, b); break;
    case 3: snprintf(out, cap, "(%ld, %ld]", a, a + b); break;
    case 4: snprintf(out, cap, "%ld, %ld", a, a + b); break;
    case 5: snprintf(out, cap, "\\frac{\\sqrt{%ld}}{%ld}", b, labs(a) + 2); break;
    case 6:
        snprintf(out, cap, "%ld.%02ld", a, b % 100);
        *plain_number = 1;
        break;
    case 7: snprintf(out, cap, "x^{2}+%ldx-%ld", b, labs(a)); break;
    default: snprintf(out, cap, "\\text{(%c)}", (char)('A' + tkd_rng_below(r, 5))); break;
    }
}

TEST(made_up_responses) {
    tkd_rng r;
    tkd_rng_seed(&r, 20261122);
    int ok = 0;
    for (int k = 0; k < N_RESPONSES; k++) {
        char ans[128];
        int plain;
        make_answer(&r, ans, sizeof ans, &plain);
        tkd_buf b;
        tkd_buf_init(&b);
        int nf = 1 + (int)tkd_rng_below(&r, 4);
        for (int i = 0; i < nf; i++)
            tkd_buf_printf(&b, "%s ", fillers[tkd_rng_below(&r, sizeof fillers / sizeof fillers[0])]);
        int fmt = (int)tkd_rng_below(&r, plain ? 6 : 4);
        tkd_grade_mode mode = TKD_GRADE_AUTO;
        const char *closer = closers[tkd_rng_below(&r, sizeof closers / sizeof closers[0])];
        switch (fmt) {
        case 0: tkd_buf_printf(&b, "Therefore the answer is $\\boxed{%s}$.%s", ans, closer); break;
        case 1: tkd_buf_printf(&b, "So we get \\[\\boxed{%s}\\]%s", ans, closer); break;
        case 2:
            /* Minerva: no boxes allowed in the body for this source, the job says "final" */
            tkd_buf_printf(&b, "\nFinal Answer: The final answer is $%s$. I hope it is correct.%s", ans, closer);
            mode = TKD_GRADE_FINAL;
            break;
        case 3:
            tkd_buf_printf(&b, "The answer is $%s$.%s", ans, closer);
            mode = TKD_GRADE_FINAL;
            break;
        case 4:
            tkd_buf_printf(&b, "\n#### %s", ans);
            mode = TKD_GRADE_GSM8K;
            break;
        default:
            tkd_buf_printf(&b, "In total that makes %s", ans);
            mode = TKD_GRADE_LAST_NUMBER;
            break;
        }
        char *got = NULL;
        tkd_err e = {0};
        int rc = tkd_grade_extract(b.data, mode, &got, &e);
        tkd_grade_verdict v = {0};
        if (rc == 0)
            tkd_grade_equal(ans, got, NULL, &v);
        if (rc == 0 && v.result == TKD_GRADE_EQUAL)
            ok++;
        else
            fprintf(stderr, "  response %d (%s): wanted [%s], extracted [%s] (%s)\n  ---\n%s\n  ---\n", k,
                    tkd_grade_mode_name(mode), ans, got ? got : "(none)", rc ? e.msg : v.reason, b.data);
        free(got);
        tkd_buf_free(&b);
    }
    fprintf(stderr, "extraction: %d of %d responses gave the intended answer\n", ok, N_RESPONSES);
    CHECK_INT(ok, N_RESPONSES);
}

static void expect(const char *resp, tkd_grade_mode mode, const char *want) {
    char *got = NULL;
    int rc = tkd_grade_extract(resp, mode, &got, NULL);
    if (want) {
        CHECK_INT(rc, 0);
        CHECK_STR(got, want);
    } else {
        CHECK_INT(rc, TKD_ENOTFOUND);
        CHECK(got == NULL);
    }
    free(got);
}

TEST(fixed_rules) {
    expect("so $\\boxed{1}$ and $\\boxed{2}$", TKD_GRADE_BOXED, "1, 2");
    expect("guess \\boxed{9}. After more work we find \\boxed{4}", TKD_GRADE_BOXED, "4");
    expect("\\boxed{\\frac{1}{\\sqrt{2}}}", TKD_GRADE_AUTO, "\\frac{1}{\\sqrt{2}}");
    expect("\\fbox{\\{1,2\\}}", TKD_GRADE_AUTO, "\\{1,2\\}");
    expect("so $\\framebox{204}$ minutes", TKD_GRADE_AUTO, "204");
    expect("\\boxed{unclosed", TKD_GRADE_BOXED, NULL);
    expect("no answer here", TKD_GRADE_BOXED, NULL);
    expect("The final answer is $\\frac{3}{4}$. I hope it is correct.", TKD_GRADE_AUTO, "\\frac{3}{4}");
    expect("Final Answer: The final answer is $\\boxed{7}$.", TKD_GRADE_FINAL, "7");
    expect("The answer is 42. Checked 3 times.", TKD_GRADE_AUTO, "42");
    expect("She pays 3*4=12 dollars.\n#### 1,200", TKD_GRADE_GSM8K, "1,200");
    expect("the total is -3.5 and then 7 more, so 10.25", TKD_GRADE_LAST_NUMBER, "10.25");
    expect("a ratio of 3/4", TKD_GRADE_LAST_NUMBER, "3/4");
    expect("nothing numeric", TKD_GRADE_LAST_NUMBER, NULL);
    expect("", TKD_GRADE_AUTO, NULL);
    tkd_grade_mode m;
    CHECK_INT(tkd_grade_mode_parse("gsm8k", &m, NULL), 0);
    CHECK_INT(m, TKD_GRADE_GSM8K);
    CHECK_INT(tkd_grade_mode_parse("boxes", &m, NULL), TKD_EINVAL);
}

int main(void) {
    RUN(made_up_responses);
    RUN(fixed_rules);
    return TEST_END();
}
