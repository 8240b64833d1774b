/* model: the GPU memory plan (gpu_plan.c) on the CPU. A tiny config's three
 * allocations against sums written out by hand, parameter counts and
 * offsets against tkd_model_alloc and tkd_lora_alloc, the layout's buffers
 * disjoint and inside their allocation, recompute keeping one layer set,
 * and the Qwen2.5-7B shape with LoRA r64 on every linear layer (exact
 * counts from the shapes, FLOPs per token by NeMo AutoModel's count). */
#include "../../src/model/gpu_layout.h"
#include "model_fixture.h"
#include "tkd/model.h"
#include "tkd_test.h"

#include <stdint.h>

#define AL(n) (((size_t)(n) + 255) / 256 * 256)

static tkd_model_config tiny(int tie) {
    tkd_model_config c = tkd_fixture_tiny();
    c.tie = tie;
    return c;
}

static const tkd_lora_config lora_all4 = {.r = 4, .alpha = 8, .dropout = 0.1, .targets = 0x7f};

TEST(tiny_counts_match_the_host_allocators) {
    for (int tie = 0; tie <= 1; tie++) {
        tkd_model_config c = tiny(tie);
        tkd_err e = {0};
        tkd_model m;
        tkd_lora a;
        CHECK_INT(tkd_model_alloc(&m, &c, &e), 0);
        tkd_lora_config lc = lora_all4;
        lc.targets = (1u << TKD_LORA_Q) | (1u << TKD_LORA_V) | (1u << TKD_LORA_DOWN);
        for (int pass = 0; pass < 2; pass++) {
            if (pass)
                lc.targets = 0x7f;
            CHECK_INT(tkd_lora_alloc(&a, &c, &lc, &e), 0);
            tkd_gpu_layout l;
            CHECK_INT(tkd_gpu_layout_make(&c, &lc, 0, 2, 16, 0, &l, &e), 0);
            CHECK_INT(l.n_model, m.n_params);
            CHECK_INT(l.n_lora, a.n_params);
            CHECK_INT(l.n_train, a.n_params);
            CHECK_INT(l.n_frozen, m.n_params);
            for (int k = 0; k < TKD_P_COUNT; k++) {
                CHECK_INT(l.msize[k], m.size[k]);
                CHECK_INT(l.moff[k], m.p[k] - m.mem);
            }
            for (int t = 0; t < TKD_LORA_NT; t++) {
                CHECK_INT(l.lora_in[t], a.in[t]);
                CHECK_INT(l.lora_out[t], a.out[t]);
                if (lc.targets >> t & 1) {
                    CHECK_INT(l.lora_off_a[t], a.off_a[t]);
                    CHECK_INT(l.lora_off_b[t], a.off_b[t]);
                    CHECK(l.set.ax[t] != TKD_GPU_NO_BUFFER);
                } else {
                    CHECK(l.set.ax[t] == TKD_GPU_NO_BUFFER);
                }
            }
            tkd_gpu_plan p;
            CHECK_INT(tkd_gpu_plan_make(&c, &lc, 0, 2, 16, 0, &p, &e), 0);
            CHECK_INT(p.n_trainable, a.n_params);
            tkd_lora_free(&a);
        }
        tkd_model_free(&m);
    }
}

/* the same sums, written out by hand for C 32, L 2, H 4, KV 2, D 8, I 48, V 40, tied, r 4, B 2, T 16 */
TEST(tiny_sizes_by_hand) {
    tkd_model_config c = tiny(1);
    tkd_err e = {0};
    tkd_gpu_plan p;
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 0, 2, 16, 0, &p, &e), 0);
    size_t C = 32, L = 2, QC = 32, KC = 16, I = 48, V = 40, r = 4, N = 32, B = 2, H = 4, T = 16;
    size_t n_model = V * C + L * (C + QC * C + QC + 2 * (KC * C + KC) + C * QC + C + 3 * I * C) + C;
    size_t n_lora = L * r * ((C + QC) + (C + KC) * 2 + (QC + C) + (C + I) * 2 + (I + C));
    CHECK_INT(n_model, 40 * 32 + 2 * (32 + 1024 + 32 + 2 * (512 + 16) + 1024 + 32 + 3 * 1536) + 32);
    CHECK_INT(p.n_frozen, n_model);
    CHECK_INT(p.n_trainable, n_lora);
    CHECK_INT(p.weights, AL(n_model * 2) + AL(n_lora * 4) + AL(n_lora * 2));
    size_t set = AL(N * C * 2) + AL(N * 4) + AL(N * QC * 2) + 2 * AL(N * KC * 2) + AL(B * H * T * 4) + AL(N * QC * 2) +
                 2 * AL(N * C * 2) + AL(N * 4) + 3 * AL(N * I * 2) + 7 * AL(N * r * 2);
    size_t maxin = I;
    size_t attn = N * QC * 4 + 2 * N * KC * 4 + B * H * T * 4;
    size_t scratch = AL(N * C * 2) + AL(N * 4) /* lnf rstdf */ + AL(N * V * 4) +
                     AL(N * V * 2) /* logits fp32 and their gradient: all 32 rows */ + AL(8) /* loss */ +
                     2 * AL(N * C * 2) + 2 * AL(N * QC * 2) + 2 * AL(N * KC * 2) + 3 * AL(N * I * 2) + AL(N * r * 2) +
                     2 * AL(N * maxin * 2) + AL(attn) + AL(32u << 20);
    size_t ints = 4 * AL(N * 4) + AL(N);
    CHECK_INT(p.activations, ints + AL((L + 1) * N * C * 2) + L * set + scratch);
    CHECK_INT(p.state, 3 * AL(n_lora * 4) + AL(4u << 20) + AL(8));
    CHECK_INT(p.total, p.weights + p.activations + p.state + (1ull << 30));
    CHECK_INT(p.loss_chunk_rows, 32);
    /* recompute: one layer set and a layer output instead of L sets */
    tkd_gpu_plan pr;
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 0, 2, 16, 1, &pr, &e), 0);
    CHECK_INT(pr.activations, p.activations - (L - 1) * set + AL(N * C * 2));
    CHECK_INT(pr.weights, p.weights);
    CHECK_INT(pr.state, p.state);
    /* full fine-tuning: fp32 masters beside the bf16 base, state for every weight */
    tkd_gpu_plan pf;
    CHECK_INT(tkd_gpu_plan_make(&c, NULL, 1, 2, 16, 0, &pf, &e), 0);
    CHECK_INT(pf.n_trainable, n_model);
    CHECK_INT(pf.n_frozen, 0);
    CHECK_INT(pf.weights, AL(n_model * 2) + AL(n_model * 4));
    CHECK_INT(pf.state, 3 * AL(n_model * 4) + AL(4u << 20) + AL(8));
    /* FLOPs per token: 6 x matmul parameters + 6 L H D T, times (2 + trainable/frozen)/3 with a frozen base */
    double mp = L * (C * QC * 2 + 2 * C * KC + 3 * C * I) + (double)V * C;
    CHECK_NEAR(pf.flops_per_token, 6 * mp + 6.0 * L * QC * T, 1e-6);
    CHECK_NEAR(p.flops_per_token, (6 * mp + 6.0 * L * QC * T) * (2 + (double)n_lora / n_model) / 3, 1e-6);
}

static int cmp_range(const void *a, const void *b) {
    const size_t *x = a, *y = b;
    return x[0] < y[0] ? -1 : x[0] > y[0];
}

/* every buffer aligned, inside its allocation and disjoint from the others */
static void check_disjoint(size_t (*rg)[2], int n, size_t total) {
    qsort(rg, (size_t)n, sizeof rg[0], cmp_range);
    for (int i = 0; i < n; i++) {
        CHECK(rg[i][0] % 256 == 0);
        CHECK(rg[i][0] + rg[i][1] <= total);
        if (i)
            CHECK(rg[i - 1][0] + rg[i - 1][1] <= rg[i][0]);
    }
}

TEST(layout_disjoint) {
    tkd_model_config c = tiny(0);
    tkd_err e = {0};
    for (int rec = 0; rec <= 1; rec++) {
        tkd_gpu_layout l;
        CHECK_INT(tkd_gpu_layout_make(&c, &lora_all4, 0, 3, 20, rec, &l, &e), 0);
        size_t N = 60, C = 32, QC = 32, KC = 16, I = 48, r = 4, V = 40;
        size_t rg[128][2];
        int n = 0;
#define R(off, bytes) (rg[n][0] = (off), rg[n][1] = (bytes), n++)
        R(l.w_base, l.n_model * 2);
        R(l.w_master, l.n_train * 4);
        R(l.w_lora_bf16, l.n_lora * 2);
        check_disjoint(rg, n, l.weights);
        n = 0;
        R(l.tokens, N * 4);
        R(l.docstart, N * 4);
        R(l.pos, N * 4);
        R(l.targets, N * 4);
        R(l.mask, N);
        R(l.resid, 3 * N * C * 2);
        for (int s = 0; s < l.nsets; s++) {
            size_t b = l.set0 + (size_t)s * l.set_stride;
            const tkd_gpu_layer_offs *o = &l.set;
            R(b + o->ln1, N * C * 2);
            R(b + o->rstd1, N * 4);
            R(b + o->q, N * QC * 2);
            R(b + o->k, N * KC * 2);
            R(b + o->v, N * KC * 2);
            R(b + o->lse, 3 * 4 * 20 * 4);
            R(b + o->atty, N * QC * 2);
            R(b + o->mid, N * C * 2);
            R(b + o->ln2, N * C * 2);
            R(b + o->rstd2, N * 4);
            R(b + o->g, N * I * 2);
            R(b + o->u, N * I * 2);
            R(b + o->h, N * I * 2);
            for (int t = 0; t < TKD_LORA_NT; t++)
                R(b + o->ax[t], N * r * 2);
        }
        CHECK_INT(l.nsets, rec ? 1 : 2);
        R(l.lnf, N * C * 2);
        R(l.rstdf, N * 4);
        if (rec)
            R(l.tmp_out, N * C * 2);
        else
            CHECK(l.tmp_out == TKD_GPU_NO_BUFFER);
        R(l.logits, (size_t)l.chunk_rows * V * 4);
        R(l.dlogits, (size_t)l.chunk_rows * V * 2);
        R(l.loss, 8);
        R(l.dresid, N * C * 2);
        R(l.dln, N * C * 2);
        R(l.dq, N * QC * 2);
        R(l.datty, N * QC * 2);
        R(l.dk, N * KC * 2);
        R(l.dv, N * KC * 2);
        R(l.dg, N * I * 2);
        R(l.du, N * I * 2);
        R(l.dh, N * I * 2);
        R(l.dax, N * r * 2);
        R(l.xdrop, N * I * 2);
        R(l.xtmp, N * I * 2);
        R(l.attn_scratch, l.attn_scratch_bytes);
        R(l.lt_ws, l.lt_ws_bytes);
        check_disjoint(rg, n, l.activations);
        n = 0;
        R(l.grads, l.n_train * 4);
        R(l.adam_m, l.n_train * 4);
        R(l.adam_v, l.n_train * 4);
        R(l.sumsq_scratch, l.sumsq_scratch_bytes);
        R(l.norm_cell, 8);
        check_disjoint(rg, n, l.state);
#undef R
    }
}

TEST(refuses_bad_shapes) {
    tkd_model_config c = tiny(1);
    tkd_err e = {0};
    tkd_gpu_plan p;
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 1, 2, 16, 0, &p, &e), TKD_EINVAL); /* full and LoRA */
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 0, 0, 16, 0, &p, &e), TKD_EINVAL);
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 0, 1, 129, 0, &p, &e), TKD_EINVAL); /* > max_pos */
    c.n_kv_heads = 3;
    CHECK_INT(tkd_gpu_plan_make(&c, &lora_all4, 0, 1, 16, 0, &p, &e), TKD_EINVAL);
    CHECK(strstr(e.msg, "key-value heads") != NULL);
    c = tiny(1);
    tkd_lora_config bad = lora_all4;
    bad.r = 0;
    CHECK_INT(tkd_gpu_plan_make(&c, &bad, 0, 1, 16, 0, &p, &e), TKD_EINVAL);
}

TEST(qwen25_7b_lora_r64) {
    tkd_model_config c = {0};
    CHECK_INT(tkd_fixture_qwen25("7b", &c), 0);
    tkd_lora_config lc = {.r = 64, .alpha = 128, .dropout = 0.05, .targets = 0x7f};
    tkd_err e = {0};
    tkd_gpu_plan p;
    CHECK_INT(tkd_gpu_plan_make(&c, &lc, 0, 1, 4096, 0, &p, &e), 0);
    /* base: embed and head 152064 x 3584 each; per layer q,o 3584^2, k,v 512x3584, 3 x 18944x3584, biases, norms */
    size_t layer = 2 * 3584ull * 3584 + 2 * 512ull * 3584 + 3 * 18944ull * 3584 + 3584 + 512 + 512 + 2 * 3584;
    CHECK_INT(layer, 233057792ull);
    CHECK_INT(p.n_frozen, 2 * 152064ull * 3584 + 28 * layer + 3584);
    CHECK_INT(p.n_frozen, 7615616512ull);
    CHECK(p.n_frozen > 7.07e9 && p.n_frozen < 7.62e9);
    /* LoRA: r (in + out) per target and layer */
    size_t lora = 28ull * 64 * ((3584 + 3584) + 2 * (3584 + 512) + (3584 + 3584) + 3 * (3584 + 18944));
    CHECK_INT(p.n_trainable, lora);
    CHECK_INT(p.n_trainable, 161480704ull);
    const double G = 1024.0 * 1024 * 1024;
    CHECK_NEAR(7615616512.0 * 2 / G, 14.18, 0.01); /* the bf16 base */
    CHECK_NEAR(p.weights / G, (7615616512.0 * 2 + 161480704.0 * 6) / G, 1e-3);
    CHECK_NEAR(p.state / G, (161480704.0 * 12 + (4 << 20)) / G, 1e-3);
    CHECK_INT(p.loss_chunk_rows, 256); /* 256 MiB / (152064 x 6 bytes) = 294, down to a multiple of 64 */
    double mp = 28.0 * (3584.0 * 3584 * 2 + 2 * 3584.0 * 512 + 3 * 3584.0 * 18944) + 152064.0 * 3584;
    CHECK_NEAR(mp, 7070285824.0, 0.5);
    double f = (6 * mp + 6.0 * 28 * 3584 * 4096) * (2 + 161480704.0 / 7615616512.0) / 3;
    CHECK_NEAR(p.flops_per_token / f, 1.0, 1e-12);
    CHECK_NEAR(p.flops_per_token / 1e9, 30.24, 0.01);
    /* activations: about 0.62 GB a layer kept for the backward; recompute keeps the layer inputs only */
    tkd_gpu_plan pr;
    CHECK_INT(tkd_gpu_plan_make(&c, &lc, 0, 1, 4096, 1, &pr, &e), 0);
    CHECK(p.activations > 27 * (pr.activations / 28));
    CHECK(p.activations / G > 18 && p.activations / G < 22);
    CHECK(pr.activations / G > 2 && pr.activations / G < 4);
    tkd_gpu_plan_print(&p, stdout);
    tkd_gpu_plan_print(&pr, stdout);
}

int main(void) {
    RUN(tiny_counts_match_the_host_allocators);
    RUN(tiny_sizes_by_hand);
    RUN(layout_disjoint);
    RUN(refuses_bad_shapes);
    RUN(qwen25_7b_lora_r64);
    return TEST_END();
}
