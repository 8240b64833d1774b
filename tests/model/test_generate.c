/* model: generation with the KV cache agrees with the full forward (greedy
 * tokens are the argmax of the trainer's logits at every position), a batch
 * of prompts gives what each prompt gives alone, sampling is reproducible by
 * seed, stop tokens stop; recomputation changes nothing; the LoRA dropout
 * backward matches finite differences. */
#include "model_fixture.h"
#include "tkd/model.h"
#include "tkd_test.h"

static tkd_model_config tiny(void) {
    tkd_model_config c = tkd_fixture_tiny();
    c.max_pos = 64;
    return c;
}

TEST(kv_cache_matches_forward) {
    tkd_model_config c = tiny();
    tkd_model m;
    tkd_err e = {0};
    CHECK_INT(tkd_model_init_random(&m, &c, 7, &e), 0);
    for (size_t i = 0; i < m.n_params; i++) /* larger weights: less flat logits */
        m.mem[i] *= 20.0f;
    int p0[] = {1, 5, 9}, p1[] = {3, 3, 3, 3, 8, 2}, *prompts[] = {p0, p1}, lens[] = {3, 6};
    tkd_gen_opts o = {.max_new = 10, .temperature = 0, .top_p = 1};
    int *out[2], olen[2];
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 2, &o, NULL, NULL, out, olen, &e), 0);
    CHECK_INT(olen[0], 10);
    CHECK_INT(olen[1], 10);
    tkd_qwen2_opts qo = {.B = 1, .T = 16};
    tkd_qwen2 *q;
    CHECK_INT(tkd_qwen2_new(&q, &m, NULL, &qo, &e), 0);
    for (int s = 0; s < 2; s++) {
        int seq[16], n = 0;
        for (int i = 0; i < lens[s]; i++)
            seq[n++] = prompts[s][i];
        for (int i = 0; i < olen[s]; i++)
            seq[n++] = out[s][i];
        CHECK_INT(tkd_qwen2_forward(q, seq, NULL, 1, n, 0, &e), 0);
        int agree = 1;
        for (int i = 0; i < olen[s]; i++)
            agree &= tkd_fixture_argmax(tkd_qwen2_logits(q) + (size_t)(lens[s] - 1 + i) * c.vocab, c.vocab) == out[s][i];
        CHECK(agree);
        /* alone = in the batch */
        int *one[1], l1[1];
        CHECK_INT(tkd_generate(&m, (const int *const *)&prompts[s], &lens[s], 1, &o, NULL, NULL, one, l1, &e), 0);
        CHECK(l1[0] == olen[s] && !memcmp(one[0], out[s], sizeof(int) * (size_t)l1[0]));
        free(one[0]);
    }
    /* a stop token ends the sequence before it is emitted */
    int stop = out[0][3];
    tkd_gen_opts so = o;
    so.stop_ids = &stop;
    so.n_stop_ids = 1;
    int *st[1], sl[1];
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 1, &so, NULL, NULL, st, sl, &e), 0);
    int first = 0;
    while (out[0][first] != stop)
        first++;
    CHECK_INT(sl[0], first);
    free(st[0]);
    /* sampling: same seed, same tokens; another seed, (almost surely) others */
    tkd_gen_opts t = {.max_new = 20, .temperature = 50.0, .top_p = 0.95, .seed = 11};
    int *a[1], b[1], *c2[1], la[1], lc[1];
    (void)b;
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 1, &t, NULL, NULL, a, la, &e), 0);
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 1, &t, NULL, NULL, c2, lc, &e), 0);
    CHECK(la[0] == lc[0] && !memcmp(a[0], c2[0], sizeof(int) * (size_t)la[0]));
    free(c2[0]);
    t.seed = 12;
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 1, &t, NULL, NULL, c2, lc, &e), 0);
    CHECK(la[0] != lc[0] || memcmp(a[0], c2[0], sizeof(int) * (size_t)la[0]));
    free(a[0]);
    free(c2[0]);
    /* bad input */
    int badp[] = {99};
    const int *bp[] = {badp};
    int bl[] = {1};
    CHECK_INT(tkd_generate(&m, bp, bl, 1, &o, NULL, NULL, st, sl, &e), TKD_EINVAL);
    o.max_new = 100;
    CHECK_INT(tkd_generate(&m, (const int *const *)prompts, lens, 1, &o, NULL, NULL, st, sl, &e), TKD_EINVAL);
    free(out[0]);
    free(out[1]);
    tkd_qwen2_free(q);
    tkd_model_free(&m);
}

static double loss_of(tkd_qwen2 *q, const int *tok, const int *tgt, const uint8_t *mask, int B, int T, uint64_t seed) {
    tkd_err e = {0};
    long cnt;
    tkd_qwen2_forward(q, tok, NULL, B, T, seed, &e);
    return tkd_qwen2_loss(q, tgt, mask, &cnt) / (double)cnt;
}

TEST(dropout_grad_and_recompute) {
    tkd_model_config c = tiny();
    tkd_model m;
    tkd_err e = {0};
    CHECK_INT(tkd_model_init_random(&m, &c, 8, &e), 0);
    tkd_lora lo;
    tkd_lora_config lc = {2, 4, 0.3, (1u << TKD_LORA_NT) - 1};
    CHECK_INT(tkd_lora_alloc(&lo, &c, &lc, &e), 0);
    tkd_lora_init(&lo, 2);
    tkd_rng r;
    tkd_rng_seed(&r, 5);
    for (size_t i = 0; i < lo.n_params; i++)
        lo.mem[i] += (float)(0.3 * (tkd_rng_uniform(&r) - 0.5));
    enum { B = 2, T = 7 };
    int tok[B * T], tgt[B * T];
    uint8_t mask[B * T];
    for (int i = 0; i < B * T; i++) {
        tok[i] = (int)tkd_rng_below(&r, 40);
        tgt[i] = (int)tkd_rng_below(&r, 40);
        mask[i] = i % 3 != 0;
    }
    tkd_qwen2 *q, *qr;
    tkd_qwen2_opts o = {.B = B, .T = T}, orc = {.B = B, .T = T, .recompute = 1};
    CHECK_INT(tkd_qwen2_new(&q, &m, &lo, &o, &e), 0);
    CHECK_INT(tkd_qwen2_new(&qr, &m, &lo, &orc, &e), 0);
    uint64_t seed = 77;
    long cnt;
    CHECK_INT(tkd_qwen2_forward(q, tok, NULL, B, T, seed, &e), 0);
    double l0 = tkd_qwen2_loss(q, tgt, mask, &cnt) / (double)cnt;
    tkd_qwen2_zero_grad(q);
    CHECK_INT(tkd_qwen2_backward(q, tgt, mask, 1.0f / (float)cnt, &e), 0);
    CHECK(loss_of(q, tok, tgt, mask, B, T, 0) != l0); /* dropout changes the loss */
    size_t n;
    float *g = tkd_qwen2_grads(q, &n);
    /* recompute: same gradients exactly */
    tkd_qwen2_forward(qr, tok, NULL, B, T, seed, &e);
    tkd_qwen2_loss(qr, tgt, mask, &cnt);
    tkd_qwen2_zero_grad(qr);
    tkd_qwen2_backward(qr, tgt, mask, 1.0f / (float)cnt, &e);
    float *gr = tkd_qwen2_grads(qr, &n);
    CHECK(!memcmp(g, gr, n * sizeof(float)));
    /* finite differences on a spread of coordinates */
    int good = 0, tried = 0;
    for (size_t i = 3; i < n; i += n / 23) {
        float save = lo.mem[i];
        double h = 1e-2;
        lo.mem[i] = (float)(save + h);
        double lp = loss_of(q, tok, tgt, mask, B, T, seed);
        lo.mem[i] = (float)(save - h);
        double lm = loss_of(q, tok, tgt, mask, B, T, seed);
        lo.mem[i] = save;
        double fd = (lp - lm) / (2 * h);
        tried++;
        good += fabs(fd - g[i]) <= 2e-3 + 0.03 * fabs(fd);
        if (fabs(fd - g[i]) > 2e-3 + 0.03 * fabs(fd))
            fprintf(stderr, "coord %zu: fd %g backward %g\n", i, fd, g[i]);
    }
    CHECK_INT(good, tried);
    tkd_qwen2_free(q);
    tkd_qwen2_free(qr);
    tkd_lora_free(&lo);
    tkd_model_free(&m);
}

int main(void) {
    RUN(kv_cache_matches_forward);
    RUN(dropout_grad_and_recompute);
    return TEST_END();
}
