/* export: the text machinery behind decontamination and deduplication
 * (src/phases/export_text.c): words that ignore whitespace, case and LaTeX
 * spacing; the n-gram overlap rule and the tiny-text rule; MinHash estimates
 * against exact Jaccard similarities; the normalized hash. */
#include "../../src/phases/export_int.h"
#include "tkd_test.h"

static int same_words(const char *a, const char *b) {
    exp_words x = {0}, y = {0};
    tkd_err e = {0};
    int ok = !exp_words_of(&x, a, &e) && !exp_words_of(&y, b, &e) && x.n == y.n &&
             (x.n == 0 || !memcmp(x.h, y.h, x.n * sizeof *x.h));
    exp_words_free(&x);
    exp_words_free(&y);
    return ok;
}

TEST(words) {
    CHECK(same_words("Let $x + y = \\frac{1}{2}$.", "LET  x+y=\\dfrac12 ?") == 0); /* 12 is one word, 1 2 two */
    CHECK(same_words("Let $x + y = \\frac{1}{2}$.", "let\n\n$x+y\\,=\\;\\tfrac{1}{2}$"));
    CHECK(same_words("$\\left( a \\right)\\quad b \\le c$", "(a) b \\leq C"));
    CHECK(same_words("\\displaystyle\\sum_{k=1}^n k", "\\SUM_{K = 1}^{N} K"));
    CHECK(!same_words("\\frac{1}{2}", "frac 1 2")); /* a command is not the word */
    CHECK(same_words("caf\xc3\xa9 au lait", "CAF\xc3\xa9  au\tlait"));
    exp_words w = {0};
    tkd_err e = {0};
    CHECK(!exp_words_of(&w, "", &e) && w.n == 0);
    CHECK(!exp_words_of(&w, "\\", &e) && w.n == 0); /* a lone backslash at the end */
    exp_words_free(&w);
}

TEST(decontamination) {
    exp_decon *d;
    tkd_err e = {0};
    CHECK(!exp_decon_new(8, 0.5, &d, &e));
    const char *bench = "In triangle $ABC$, the side lengths are $AB = 13$, $BC = 14$ and $CA = 15$. Find the "
                        "radius of the circle inscribed in the triangle, and express it as a common fraction.";
    CHECK(!exp_decon_add(d, "b", "b/1", bench, &e));
    CHECK(!exp_decon_add(d, "b", "b/2", "Compute $\\dbinom{31}{28}$.", &e));
    CHECK(!exp_decon_add(d, "b", "b/3", "What is $1^{(2^{235423523})}$?", &e));
    CHECK_INT(exp_decon_docs(d), 3);
    exp_decon_match m;
    /* whitespace, case, LaTeX spacing and a reworded opening */
    CHECK(exp_decon_check(d,
                          "CONSIDER triangle $ABC$,  the side lengths are $AB\\,=\\,13$, $BC=14$ and $CA = 15$. "
                          "Find the radius of the circle inscribed in the triangle, and express it as a common "
                          "fraction.",
                          &m, &e) == 1);
    CHECK_STR(m.doc_id, "b/1");
    CHECK(m.overlap > 0.8 && m.overlap < 1.0 && m.gram[0]);
    CHECK(exp_decon_check(d, "Calculate $\\binom{31}{28}$.", &m, &e) == 1 && !strcmp(m.doc_id, "b/2"));
    CHECK(exp_decon_check(d, "Find $1^{(2^{235423523})}$.", &m, &e) == 1 && !strcmp(m.doc_id, "b/3"));
    /* a text that shares boilerplate only */
    CHECK(exp_decon_check(d,
                          "A bag has 3 red and 5 blue marbles. What is the probability that two drawn marbles "
                          "are red? Express it as a common fraction.",
                          &m, &e) == 0);
    CHECK(m.doc == -1);
    /* the tiny rule wants a short training text: a long one holding b/3's tail is no match */
    CHECK(exp_decon_check(d,
                          "Find the last digit of $1^{(2^{235423523})}$ plus the number of primes below twenty, "
                          "and explain every step of the computation.",
                          &m, &e) == 0);
    exp_decon_free(d);
    /* overlap 0: any one shared gram (open-r1's rule) */
    CHECK(!exp_decon_new(8, 0, &d, &e));
    CHECK(!exp_decon_add(d, "b", "b/1", bench, &e));
    CHECK(exp_decon_check(d, "Something else entirely: find the radius of the circle inscribed in a square.", &m, &e) ==
          1);
    CHECK(m.matched == 1);
    exp_decon_free(d);
}

/* Jaccard of 5-word shingle sets, exactly. */
static double jaccard(const char *a, const char *b) {
    exp_words x = {0}, y = {0};
    tkd_err e = {0};
    exp_words_of(&x, a, &e);
    exp_words_of(&y, b, &e);
    exp_set sx = {0}, both = {0};
    size_t nx = 0, ny = 0, inter = 0;
    for (size_t i = 0; i + 5 <= x.n; i++)
        nx += exp_set_add(&sx, exp_gram_hash(&x, i, 5, 7)) == 1;
    for (size_t i = 0; i + 5 <= y.n; i++) {
        uint64_t h = exp_gram_hash(&y, i, 5, 7);
        if (exp_set_add(&both, h) == 1) {
            ny++;
            inter += exp_set_add(&sx, h) == 0;
        }
    }
    exp_set_free(&sx);
    exp_set_free(&both);
    exp_words_free(&x);
    exp_words_free(&y);
    return (double)inter / (double)(nx + ny - inter);
}

static double estimate(const char *a, const char *b) {
    exp_words x = {0}, y = {0};
    tkd_err e = {0};
    uint32_t sa[EXP_MINHASH_BINS], sb[EXP_MINHASH_BINS];
    exp_words_of(&x, a, &e);
    exp_words_of(&y, b, &e);
    exp_minhash(&x, 5, sa);
    exp_minhash(&y, 5, sb);
    exp_words_free(&x);
    exp_words_free(&y);
    return exp_minhash_jaccard(sa, sb);
}

TEST(minhash) {
    char a[8192], b[8192], c[8192];
    size_t na = 0, nb = 0, nc = 0;
    for (int i = 0; i < 300; i++) { /* b: every 10th word of a changed; c: another text */
        na += (size_t)snprintf(a + na, sizeof a - na, "w%d ", i);
        nb += (size_t)snprintf(b + nb, sizeof b - nb, i % 10 == 3 ? "x%d " : "w%d ", i);
        nc += (size_t)snprintf(c + nc, sizeof c - nc, "v%d ", i);
    }
    CHECK(estimate(a, a) == 1.0);
    double j = jaccard(a, b), est = estimate(a, b);
    printf("   Jaccard %.3f, MinHash estimate %.3f\n", j, est);
    CHECK(fabs(j - est) < 0.12);
    CHECK(estimate(a, c) < 0.05);
    CHECK(estimate("short text", "short text") == 1.0); /* fewer words than a shingle */
}

TEST(normalized_hash) {
    CHECK(exp_norm_hash("  The Answer\n is 4. ", 1) == exp_norm_hash("the answer is 4.", 1));
    CHECK(exp_norm_hash("the answer is 4.", 1) != exp_norm_hash("the answer is 5.", 1));
    CHECK(exp_norm_hash("x", 1) != exp_norm_hash("x", 2));
    exp_set s = {0};
    for (uint64_t i = 0; i < 5000; i++)
        CHECK_INT(exp_set_add(&s, i * 0x9e3779b97f4a7c15ULL), 1);
    CHECK_INT(exp_set_add(&s, 0), 0); /* 0 * k is key 0, added first */
    CHECK_INT(exp_set_add(&s, 3 * 0x9e3779b97f4a7c15ULL), 0);
    CHECK_INT(s.n, 5000);
    exp_set_free(&s);
}

int main(void) {
    RUN(words);
    RUN(decontamination);
    RUN(minhash);
    RUN(normalized_hash);
    return TEST_END();
}
