/* model: continuous batching (tkd_decoder) gives every sequence the tokens
 * it gets alone: greedy and seeded sampling, prompts admitted while others
 * decode, a batch of 16 against batch 1 against tkd_generate; a sequence
 * cut at max_new says so; decoded bytes follow Hugging Face's U+FFFD rule
 * (expected values from Python's bytes.decode("utf-8", "replace")). */
#include "model_fixture.h"
#include "tkd/model.h"
#include "tkd_test.h"

#include <math.h>

#define NP 20
#define MAXNEW 12

/* Generate every prompt with a decoder of `slots` sequences, adding a prompt
 * whenever a slot is free; out[i] gets prompt i's tokens, reason[i] why it ended. */
static int run(const tkd_model *m, int slots, int **prompts, const int *lens, const tkd_gen_opts *o,
               int out[NP][MAXNEW + 1], int *n_out, int *reason) {
    tkd_decoder *d;
    tkd_err e = {0};
    if (tkd_decoder_new(m, slots, &d, &e))
        return -1;
    int next = 0, slot_of[64];
    while (next < NP || tkd_decoder_active(d)) {
        while (next < NP && tkd_decoder_free_slots(d)) {
            tkd_gen_opts oi = *o;
            oi.seed = o->seed + (uint64_t)next;
            int s;
            if (tkd_decoder_add(d, prompts[next], lens[next], &oi, &s, &e))
                return -1;
            slot_of[s] = next++;
        }
        if (tkd_decoder_step(d, &e))
            return -1;
        int s, r;
        while (tkd_decoder_next_done(d, &s, &r)) {
            const int *t;
            int i = slot_of[s], n = tkd_decoder_tokens(d, s, &t);
            memcpy(out[i], t, sizeof(int) * (size_t)n);
            n_out[i] = n;
            reason[i] = r;
            tkd_decoder_release(d, s);
        }
    }
    tkd_decoder_free(d);
    return 0;
}

TEST(continuous_batching_matches_batch_1) {
    tkd_model_config c = tkd_fixture_tiny();
    tkd_model m;
    tkd_err e = {0};
    CHECK_INT(tkd_model_init_random(&m, &c, 11, &e), 0);
    for (size_t i = 0; i < m.n_params; i++)
        m.mem[i] *= 20.0f;
    int *prompts[NP], lens[NP];
    tkd_rng r;
    tkd_rng_seed(&r, 5);
    for (int i = 0; i < NP; i++) {
        lens[i] = 1 + (int)tkd_rng_below(&r, 30);
        prompts[i] = malloc(sizeof(int) * (size_t)lens[i]);
        for (int t = 0; t < lens[i]; t++)
            prompts[i][t] = (int)tkd_rng_below(&r, (uint64_t)c.vocab);
    }
    int stop = 7;
    for (int sampled = 0; sampled < 2; sampled++) {
        tkd_gen_opts o = {.max_new = MAXNEW,
                          .temperature = sampled ? 3.0 : 0,
                          .top_p = sampled ? 0.9 : 1,
                          .seed = 99,
                          .stop_ids = &stop,
                          .n_stop_ids = 1};
        static int a[NP][MAXNEW + 1], b[NP][MAXNEW + 1];
        int na[NP], nb[NP], ra[NP], rb[NP];
        CHECK_INT(run(&m, 1, prompts, lens, &o, a, na, ra), 0);
        CHECK_INT(run(&m, 16, prompts, lens, &o, b, nb, rb), 0);
        int same = 1, cut = 0, stopped = 0;
        for (int i = 0; i < NP; i++) {
            same &= na[i] == nb[i] && ra[i] == rb[i] && !memcmp(a[i], b[i], sizeof(int) * (size_t)na[i]);
            cut += ra[i] == TKD_GEN_LENGTH && na[i] == MAXNEW;
            stopped += ra[i] == TKD_GEN_STOP && na[i] < MAXNEW;
        }
        CHECK(same);
        CHECK_INT(cut + stopped, NP); /* every sequence ended for a reason it says */
        if (!sampled) {               /* tkd_generate (every prompt at once) gives the same greedy tokens */
            int *g[NP], gl[NP];
            CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, NP, &o, NULL, NULL, g, gl, &e), 0);
            int eq = 1;
            for (int i = 0; i < NP; i++) {
                eq &= gl[i] == na[i] && !memcmp(g[i], a[i], sizeof(int) * (size_t)gl[i]);
                free(g[i]);
            }
            CHECK(eq);
        }
    }
    for (int i = 0; i < NP; i++)
        free(prompts[i]);
    tkd_model_free(&m);
}

/* Top-p sampling as the plain definition writes it: sort all, take the
 * smallest prefix with mass >= top_p, draw one uniform. */
typedef struct {
    float p;
    int i;
} ref_pair;
static int ref_desc(const void *a, const void *b) {
    const ref_pair *x = a, *y = b;
    return x->p < y->p ? 1 : x->p > y->p ? -1 : x->i - y->i;
}
static int ref_sample(const float *logits, int V, double temp, double top_p, tkd_rng *rng) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    ref_pair *buf = malloc(sizeof *buf * (size_t)V);
    double sum = 0;
    for (int i = 0; i < V; i++) {
        buf[i].p = (float)exp((logits[i] - logits[best]) * (1.0 / temp));
        buf[i].i = i;
        sum += buf[i].p;
    }
    qsort(buf, (size_t)V, sizeof *buf, ref_desc);
    double acc = 0;
    int n;
    for (n = 0; n < V && acc < top_p * sum; n++)
        acc += buf[n].p;
    double u = tkd_rng_uniform(rng) * acc, c = 0;
    int t = buf[n - 1].i;
    for (int i = 0; i < n; i++) {
        c += buf[i].p;
        if (u < c) {
            t = buf[i].i;
            break;
        }
    }
    free(buf);
    return t;
}

/* Sampled tokens equal the plain top-p definition on the full forward's logits. */
TEST(top_p_matches_definition) {
    tkd_model_config c = tkd_fixture_tiny();
    c.vocab = 300;
    tkd_model m;
    tkd_err e = {0};
    CHECK_INT(tkd_model_init_random(&m, &c, 13, &e), 0);
    for (size_t i = 0; i < m.n_params; i++)
        m.mem[i] *= 10.0f;
    tkd_qwen2_opts qo = {.B = 1, .T = 64};
    tkd_qwen2 *q;
    CHECK_INT(tkd_qwen2_new(&q, &m, NULL, &qo, &e), 0);
    double temps[] = {0.3, 1.0, 2.0}, tops[] = {0.5, 0.9, 0.99};
    int agree = 1, total = 0;
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            int prompt[] = {3, 1, 4, 1, 5}, *out[1], olen[1];
            const int *pp[1] = {prompt};
            int len = 5;
            tkd_gen_opts o = {.max_new = 20, .temperature = temps[a], .top_p = tops[b], .seed = 17};
            CHECK_INT(tkd_generate(&m, pp, &len, 1, &o, NULL, NULL, out, olen, &e), 0);
            int seq[64], n = 5;
            memcpy(seq, prompt, sizeof prompt);
            tkd_rng r;
            tkd_rng_seed(&r, 17);
            for (int t = 0; t < olen[0]; t++) {
                CHECK_INT(tkd_qwen2_forward(q, seq, NULL, 1, n, 0, &e), 0);
                int want = ref_sample(tkd_qwen2_logits(q) + (size_t)(n - 1) * c.vocab, c.vocab, temps[a], tops[b], &r);
                agree &= want == out[0][t];
                total++;
                seq[n++] = out[0][t];
            }
            free(out[0]);
        }
    CHECK(agree);
    CHECK(total == 9 * 20);
    tkd_qwen2_free(q);
    tkd_model_free(&m);
}

TEST(utf8_lossy_as_hf) {
    static const struct {
        const char *in;
        size_t n;
        const char *want;
    } cases[] = {
        {"\x61\x62\x63", 3, "\x61\x62\x63"},
        {"\xe4\xb8", 2, "\xef\xbf\xbd"},
        {"\xf0\x9f\x98", 3, "\xef\xbf\xbd"},
        {"\x61\xf0\x9f\x98\x62", 5, "\x61\xef\xbf\xbd\x62"},
        {"\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xc0\xaf", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xf4\x90\x80\x80", 4, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xff\xfe", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
        {"\xe2\x82\xac\xe2\x82", 5, "\xe2\x82\xac\xef\xbf\xbd"},
        {"\xf0\x9f\x98\x80", 4, "\xf0\x9f\x98\x80"},
        {"\xc3\x28", 2, "\xef\xbf\xbd\x28"},
        {"\xe1\x80\xe2\xf0\x91\x92\xf1\xbf\x41", 9, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\x41"},
        {"\x80\x80", 2, "\xef\xbf\xbd\xef\xbf\xbd"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *o = tkd_utf8_lossy(cases[i].in, cases[i].n);
        CHECK(o && !strcmp(o, cases[i].want));
        free(o);
    }
}

int main(void) {
    RUN(continuous_batching_matches_batch_1);
    RUN(top_p_matches_definition);
    RUN(utf8_lossy_as_hf);
    return TEST_END();
}
