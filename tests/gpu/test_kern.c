/*
 * Every CUDA kernel of tkd_cuda.h (part 1) on the GPU against the CPU
 * reference (src/model/ops.c, adamw.c, the loss of qwen2.c) on random inputs.
 * Inputs are rounded to bf16 first, so both sides see the same numbers; the
 * reference computes in fp32 (or double) and the GPU's bf16 outputs must be
 * within the stated tolerance: elementwise kernels within 1 bf16 ulp (2^-7
 * relative, plus 1e-6 absolute), reductions of a row (RMSNorm, attention)
 * within 1e-2 of the largest magnitude of the output (a few bf16 ulps),
 * fp32 results (lse, loss, sums) within 1e-4 relative, masks and AdamW
 * bit-identical. Skips (exit 77) without CUDA or without a device.
 * tests/cuda builds it a second time against the CPU emulator of the kernels
 * (cuda.test_kern_emu), which runs where there is no GPU.
 */
#include <stdio.h>

#ifndef TKD_HAVE_CUDA
int main(void) {
    printf("skipped: no CUDA device (built without CUDA)\n");
    return 77;
}
#else

#include "../../src/model/ops.h"
#include "tkd/model.h"
#include "tkd/safetensors.h"
#include "tkd_cuda.h"

#include <cuda_runtime_api.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define KERN_CHECK_SEED 0x243f6a8885a308d3ULL
#include "../lib/kern_check.h"

/* sizes on the GPU, and under the CPU emulator (tests/cuda/kern_emu.h), which is slow */
#ifdef TKD_KERN_EMU_TEST
#define SIZE(gpu, emu) (emu)
#else
#define SIZE(gpu, emu) (gpu)
#endif

#define CU(x)                                                                                                          \
    do {                                                                                                               \
        int rc_ = (int)(x);                                                                                            \
        if (rc_) {                                                                                                     \
            printf("FAIL %s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString((cudaError_t)rc_));              \
            exit(1);                                                                                                   \
        }                                                                                                              \
    } while (0)
#define SYNC() CU(cudaDeviceSynchronize())

static float bfr(float x) {
    return tkd_bf16_to_f32(tkd_f32_to_bf16(x));
}

static void *dmalloc(size_t bytes) {
    void *p = NULL;
    CU(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}
static void *dup_to(const void *h, size_t bytes) {
    void *d = dmalloc(bytes);
    CU(cudaMemcpy(d, h, bytes, cudaMemcpyHostToDevice));
    return d;
}
/* n random bf16-rounded floats on the host, and their bf16 copy on the device */
static float *rnd(size_t n, float amp) {
    float *x = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        x[i] = bfr(uni() * amp);
    return x;
}
static tkd_bf16 *to_dev(const float *x, size_t n) {
    tkd_bf16 *h = malloc(n * sizeof(tkd_bf16));
    for (size_t i = 0; i < n; i++)
        h[i] = tkd_f32_to_bf16(x[i]);
    tkd_bf16 *d = dup_to(h, n * sizeof(tkd_bf16));
    free(h);
    return d;
}
static float *from_dev(const tkd_bf16 *d, size_t n) {
    tkd_bf16 *h = malloc(n * sizeof(tkd_bf16));
    float *x = malloc(n * sizeof(float));
    CU(cudaMemcpy(h, d, n * sizeof(tkd_bf16), cudaMemcpyDeviceToHost));
    for (size_t i = 0; i < n; i++)
        x[i] = tkd_bf16_to_f32(h[i]);
    free(h);
    return x;
}
static float *from_dev_f32(const float *d, size_t n) {
    float *x = malloc(n * sizeof(float));
    CU(cudaMemcpy(x, d, n * sizeof(float), cudaMemcpyDeviceToHost));
    return x;
}
/* elementwise: every |got - want| <= 2^-7 |want| + 1e-6 (one bf16 ulp); returns the count of misses */
static size_t ulp_misses(const float *got, const float *want, size_t n, size_t *first) {
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(got[i] - want[i]) <= 0x1p-7f * fabsf(want[i]) + 1e-6f) && !bad++)
            *first = i;
    return bad;
}
/* max |got - want| / max |want| */
static float rel_max(const float *got, const float *want, size_t n) {
    float e = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmaxf(e, fabsf(got[i] - want[i]));
        m = fmaxf(m, fabsf(want[i]));
    }
    return m > 0 ? e / m : e;
}

#define ULP_CHECK(name, got, want, n)                                                                                  \
    do {                                                                                                               \
        size_t first_ = 0, bad_ = ulp_misses(got, want, n, &first_);                                                   \
        CHECK(!bad_, "%s: %zu of %zu beyond one bf16 ulp (first at %zu: %g vs %g)", name, bad_, (size_t)(n), first_,   \
              (double)(got)[first_], (double)(want)[first_]);                                                          \
    } while (0)

static void test_embed(void) {
    int V = 97, C = 72, N = 50;
    float *E = rnd((size_t)V * C, 1), *dout = rnd((size_t)N * C, 1);
    int tok[50];
    for (int n = 0; n < N; n++)
        tok[n] = (int)(next_u64() % 20); // repeats: the backward's atomics add up
    tkd_bf16 *dE = to_dev(E, (size_t)V * C), *dO = dmalloc((size_t)N * C * 2), *dd = to_dev(dout, (size_t)N * C);
    int *dt = dup_to(tok, sizeof tok);
    float *dg = dmalloc((size_t)V * C * 4);
    CU(cudaMemset(dg, 0, (size_t)V * C * 4));
    CU(tkd_k_embed_fwd(dO, dt, dE, N, C, NULL));
    CU(tkd_k_embed_bwd(dg, dd, dt, N, C, NULL));
    SYNC();
    float *o = from_dev(dO, (size_t)N * C), *g = from_dev_f32(dg, (size_t)V * C);
    float *want = calloc((size_t)V * C, 4);
    int same = 1;
    for (int n = 0; n < N; n++)
        for (int c = 0; c < C; c++) {
            same &= o[(size_t)n * C + c] == E[(size_t)tok[n] * C + c];
            want[(size_t)tok[n] * C + c] += dout[(size_t)n * C + c];
        }
    CHECK(same, "embed fwd: rows copied exactly");
    CHECK(rel_max(g, want, (size_t)V * C) < 1e-6f, "embed bwd: %g", rel_max(g, want, (size_t)V * C));
    free(E), free(dout), free(o), free(g), free(want);
    cudaFree(dE), cudaFree(dO), cudaFree(dd), cudaFree(dt), cudaFree(dg);
}

static void test_rmsnorm(void) {
    int N = 37, C = 896;
    size_t NC = (size_t)N * C;
    float *x = rnd(NC, 3), *w = rnd(C, 1), *dy = rnd(NC, 1), *dx0 = rnd(NC, 1);
    for (int i = 0; i < C; i++)
        w[i] = bfr(1 + 0.3f * w[i]);
    float *ro = malloc(NC * 4), *rs = malloc(N * 4), *rdx = malloc(NC * 4), *rdw = calloc(C, 4);
    op_rmsnorm_fwd(ro, rs, x, w, N, C, 1e-6f);
    memcpy(rdx, dx0, NC * 4);
    op_rmsnorm_bwd(rdx, rdw, dy, x, w, rs, N, C);
    tkd_bf16 *dX = to_dev(x, NC), *dW = to_dev(w, C), *dO = dmalloc(NC * 2), *dDY = to_dev(dy, NC),
             *dDX = to_dev(dx0, NC);
    float *dR = dmalloc(N * 4), *dDW = dmalloc(C * 4);
    CU(cudaMemset(dDW, 0, C * 4));
    CU(tkd_k_rmsnorm_fwd(dO, dR, dX, dW, N, C, 1e-6f, NULL));
    CU(tkd_k_rmsnorm_bwd(dDX, dDW, dDY, dX, dW, dR, N, C, 1, NULL));
    SYNC();
    float *o = from_dev(dO, NC), *r = from_dev_f32(dR, N), *dx = from_dev(dDX, NC), *dw = from_dev_f32(dDW, C);
    CHECK(rel_max(r, rs, N) < 1e-5f, "rmsnorm rstd %g", rel_max(r, rs, N));
    CHECK(rel_max(o, ro, NC) < 1e-2f, "rmsnorm out %g", rel_max(o, ro, NC));
    CHECK(rel_max(dx, rdx, NC) < 1e-2f, "rmsnorm dx (accumulated) %g", rel_max(dx, rdx, NC));
    CHECK(rel_max(dw, rdw, C) < 1e-4f, "rmsnorm dw %g", rel_max(dw, rdw, C));
    free(x), free(w), free(dy), free(dx0), free(ro), free(rs), free(rdx), free(rdw), free(o), free(r), free(dx),
        free(dw);
    cudaFree(dX), cudaFree(dW), cudaFree(dO), cudaFree(dDY), cudaFree(dDX), cudaFree(dR), cudaFree(dDW);
}

static void test_rope(void) {
    int B = 2, T = 50, N = B * T, nh = 3, Ds[] = {16, 64, 128};
    double thetas[] = {10000.0, 1000000.0};
    int *ds = malloc(N * sizeof(int)), *pos = malloc(N * sizeof(int)), *rpos = malloc(N * sizeof(int));
    for (int n = 0; n < N; n++) {
        int t = n % T;
        ds[n] = n < T ? 0 : (t < 20 ? 0 : t < 31 ? 20 : 31); // row 1 packs three documents
        rpos[n] = t - ds[n];
    }
    int *dds = dup_to(ds, N * sizeof(int)), *dpos = dmalloc(N * sizeof(int));
    CU(tkd_k_positions(dpos, dds, B, T, NULL));
    SYNC();
    CU(cudaMemcpy(pos, dpos, N * sizeof(int), cudaMemcpyDeviceToHost));
    CHECK(!memcmp(pos, rpos, N * sizeof(int)), "positions from docstart");
    for (int di = 0; di < 3; di++)
        for (int ti = 0; ti < 2; ti++)
            for (int inv = 0; inv < 2; inv++) {
                int D = Ds[di];
                size_t n = (size_t)N * nh * D;
                float *x = rnd(n, 2), *ct = malloc((size_t)T * D / 2 * 4), *st = malloc((size_t)T * D / 2 * 4);
                tkd_bf16 *dx = to_dev(x, n);
                op_rope_table(ct, st, T, D, thetas[ti]);
                op_rope(x, rpos, N, nh, D, ct, st, inv);
                CU(tkd_k_rope(dx, dpos, N, nh, D, thetas[ti], inv, NULL));
                SYNC();
                float *y = from_dev(dx, n);
                char name[64];
                snprintf(name, sizeof name, "rope D=%d theta=%g inverse=%d", D, thetas[ti], inv);
                ULP_CHECK(name, y, x, n);
                free(x), free(ct), free(st), free(y);
                cudaFree(dx);
            }
    free(ds), free(pos), free(rpos);
    cudaFree(dds), cudaFree(dpos);
}

static void test_attention(int B, int T, int H, int KV, int D, int packed) {
    int QC = H * D, KC = KV * D;
    size_t nq = (size_t)B * T * QC, nk = (size_t)B * T * KC;
    float *q = rnd(nq, 2), *k = rnd(nk, 2), *v = rnd(nk, 1), *dout = rnd(nq, 1);
    int *ds = NULL;
    if (packed) {
        ds = malloc((size_t)B * T * sizeof(int));
        for (int b = 0; b < B; b++) {
            int start = 0, len = 1 + b * 5;
            for (int t = 0; t < T; t++) {
                if (t - start >= len)
                    start = t, len = len * 2 + 13;
                ds[(size_t)b * T + t] = start;
            }
        }
    }
    float *ref = calloc(nq, 4), *probs = malloc((size_t)B * H * T * T * 4), *rdq = calloc(nq, 4), *rdk = calloc(nk, 4),
          *rdv = calloc(nk, 4), *scr = malloc((size_t)T * T * 4);
    for (int b = 0; b < B; b++) {
        size_t bq = (size_t)b * T * QC, bk = (size_t)b * T * KC;
        op_attention_fwd(ref + bq, probs + (size_t)b * H * T * T, q + bq, k + bk, v + bk,
                         ds ? ds + (size_t)b * T : NULL, T, H, KV, D);
    }
    tkd_bf16 *dq = to_dev(q, nq), *dk = to_dev(k, nk), *dv = to_dev(v, nk), *dO = to_dev(dout, nq);
    tkd_bf16 *dOut = dmalloc(nq * 2), *gq = dmalloc(nq * 2), *gk = dmalloc(nk * 2), *gv = dmalloc(nk * 2);
    float *dlse = dmalloc((size_t)B * H * T * 4);
    int *dds = ds ? dup_to(ds, (size_t)B * T * sizeof(int)) : NULL;
    void *scratch = dmalloc(tkd_k_attn_bwd_scratch(B, T, H, KV, D));
    CU(tkd_k_attn_fwd(dOut, dlse, dq, dk, dv, dds, B, T, H, KV, D, NULL));
    SYNC();
    float *out = from_dev(dOut, nq), *lse = from_dev_f32(dlse, (size_t)B * H * T);
    // the backward's reference runs from the GPU's (bf16) output, as the GPU's does
    for (int b = 0; b < B; b++) {
        size_t bq = (size_t)b * T * QC, bk = (size_t)b * T * KC;
        op_attention_bwd(rdq + bq, rdk + bk, rdv + bk, scr, dout + bq, probs + (size_t)b * H * T * T, q + bq, k + bk,
                         v + bk, T, H, KV, D);
    }
    CU(tkd_k_attn_bwd(gq, gk, gv, scratch, dO, dOut, dlse, dq, dk, dv, dds, B, T, H, KV, D, NULL));
    SYNC();
    float *gdq = from_dev(gq, nq), *gdk = from_dev(gk, nk), *gdv = from_dev(gv, nk);
    // lse: p(t,t) = exp(s_tt - lse) must be the reference's diagonal probability
    float wl = 0, scale = 1.0f / sqrtf((float)D);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                float s = 0;
                for (int d = 0; d < D; d++)
                    s += q[((size_t)b * T + t) * QC + h * D + d] * k[((size_t)b * T + t) * KC + (h / (H / KV)) * D + d];
                float p = expf(s * scale - lse[((size_t)b * H + h) * T + t]);
                wl = fmaxf(wl, fabsf(p - probs[(((size_t)b * H + h) * T + t) * T + t]));
            }
    float eo = rel_max(out, ref, nq), eq = rel_max(gdq, rdq, nq), ek = rel_max(gdk, rdk, nk),
          ev = rel_max(gdv, rdv, nk);
    printf("attention B=%d T=%d H=%d KV=%d D=%d packed=%d: out %.2g, lse %.2g, dq %.2g, dk %.2g, dv %.2g\n", B, T, H,
           KV, D, packed, eo, wl, eq, ek, ev);
    CHECK(eo < 1e-2f, "attention out %g", eo);
    CHECK(wl < 1e-4f, "attention lse (diagonal probability) %g", wl);
    CHECK(eq < 1e-2f && ek < 1e-2f && ev < 1e-2f, "attention dq %g dk %g dv %g", eq, ek, ev);
    free(q), free(k), free(v), free(dout), free(ds), free(ref), free(probs), free(rdq), free(rdk), free(rdv), free(scr);
    free(out), free(lse), free(gdq), free(gdk), free(gdv);
    cudaFree(dq), cudaFree(dk), cudaFree(dv), cudaFree(dO), cudaFree(dOut), cudaFree(gq), cudaFree(gk), cudaFree(gv);
    cudaFree(dlse), cudaFree(dds), cudaFree(scratch);
}

/* n and OC multiples of 8 take the kernels' 16-byte path, others the element-wise one */
static void test_elementwise(size_t n, int OC) {
    int N = 301;
    float *g = rnd(n, 6), *u = rnd(n, 2), *dh = rnd(n, 1), *a = rnd(n, 1);
    float *h = malloc(n * 4), *dg = malloc(n * 4), *du = malloc(n * 4), *sum = malloc(n * 4);
    op_swiglu_fwd(h, g, u, n);
    op_swiglu_bwd(dg, du, dh, g, u, n);
    for (size_t i = 0; i < n; i++)
        sum[i] = g[i] + a[i];
    tkd_bf16 *dG = to_dev(g, n), *dU = to_dev(u, n), *dDH = to_dev(dh, n), *dA = to_dev(a, n);
    tkd_bf16 *dH = dmalloc(n * 2), *dDG = dmalloc(n * 2), *dDU = dmalloc(n * 2), *dS = dmalloc(n * 2);
    CU(tkd_k_swiglu_fwd(dH, dG, dU, n, NULL));
    CU(tkd_k_swiglu_bwd(dDG, dDU, dDH, dG, dU, n, NULL));
    CU(tkd_k_add(dS, dG, dA, n, NULL));
    CU(tkd_k_add(dA, dA, dG, n, NULL)); // aliasing y = a
    SYNC();
    float *oh = from_dev(dH, n), *odg = from_dev(dDG, n), *odu = from_dev(dDU, n), *os = from_dev(dS, n),
          *oa = from_dev(dA, n);
    // the reference's fp32 result rounded to bf16 once; the GPU's exp may differ in the last fp32 bit
    for (size_t i = 0; i < n; i++)
        h[i] = bfr(h[i]), dg[i] = bfr(dg[i]), du[i] = bfr(du[i]), sum[i] = bfr(sum[i]);
    ULP_CHECK("swiglu fwd", oh, h, n);
    ULP_CHECK("swiglu bwd dg", odg, dg, n);
    ULP_CHECK("swiglu bwd du", odu, du, n);
    CHECK(!memcmp(os, sum, n * 4) && !memcmp(oa, sum, n * 4), "add (and in place)");
    // bias add and its backward
    size_t m = (size_t)N * OC;
    float *y = rnd(m, 1), *bias = rnd(OC, 1), *ry = malloc(m * 4), *rdb = calloc(OC, 4);
    for (size_t i = 0; i < m; i++) {
        ry[i] = bfr(y[i] + bias[i % OC]);
        rdb[i % OC] += y[i];
    }
    tkd_bf16 *dY = to_dev(y, m), *dB = to_dev(bias, OC);
    float *dDB = dmalloc(OC * 4);
    CU(cudaMemset(dDB, 0, OC * 4));
    CU(tkd_k_bias_bwd(dDB, dY, N, OC, NULL)); // of y before the add
    CU(tkd_k_bias_add(dY, dB, N, OC, NULL));
    SYNC();
    float *oy = from_dev(dY, m), *odb = from_dev_f32(dDB, OC);
    CHECK(!memcmp(oy, ry, m * 4), "bias add");
    CHECK(rel_max(odb, rdb, OC) < 1e-5f, "bias bwd %g", rel_max(odb, rdb, OC));
    free(g), free(u), free(dh), free(a), free(h), free(dg), free(du), free(sum), free(oh), free(odg), free(odu),
        free(os), free(oa), free(y), free(bias), free(ry), free(rdb), free(oy), free(odb);
    cudaFree(dG), cudaFree(dU), cudaFree(dDH), cudaFree(dA), cudaFree(dH), cudaFree(dDG), cudaFree(dDU), cudaFree(dS);
    cudaFree(dY), cudaFree(dB), cudaFree(dDB);
}

static void test_dropout(size_t n) {
    double ps[] = {0.05, 0.1, 0.5};
    float *x = rnd(n, 1);
    tkd_bf16 *dx = to_dev(x, n), *dy = dmalloc(n * 2);
    for (int k = 0; k < 3; k++) {
        uint64_t seed = next_u64();
        int layer = 3 + k, t = k;
        CU(tkd_k_dropout(dy, dx, n, seed, layer, t, ps[k], NULL));
        SYNC();
        float *y = from_dev(dy, n), ks = (float)(1.0 / (1.0 - ps[k]));
        size_t bad = 0;
        for (size_t i = 0; i < n; i++)
            bad += y[i] != (op_dropout_keep(seed, layer, t, i, ps[k]) ? bfr(x[i] * ks) : 0.0f);
        CHECK(!bad, "dropout p=%g: %zu of %zu elements differ from op_dropout_keep's mask", ps[k], bad, n);
        free(y);
    }
    free(x);
    cudaFree(dx), cudaFree(dy);
}

/* f32: 0 bf16 logits in place, 1 fp32 logits, 2 fp32 logits with the deterministic loss sum */
static void test_xent(int f32) {
    int rows = 13, V = SIZE(10007, 3001);
    size_t n = (size_t)rows * V;
    float *lg = rnd(n, 12), scale = 0.37f;
    int tg[13];
    uint8_t mask[13];
    for (int r = 0; r < rows; r++)
        tg[r] = (int)(next_u64() % V), mask[r] = r % 4 != 1;
    double ref = 0;
    float *rg = calloc(n, 4);
    for (int r = 0; r < rows; r++) { // qwen2.c: tkd_qwen2_loss and the head of tkd_qwen2_backward
        if (!mask[r])
            continue;
        const float *row = lg + (size_t)r * V;
        float mx;
        double s = kern_ref_sumexp(row, V, &mx);
        ref -= log(expf(row[tg[r]] - mx) / s);
        for (int i = 0; i < V; i++)
            rg[(size_t)r * V + i] = bfr(expf(row[i] - mx) * (float)(1.0 / s) * scale - (i == tg[r] ? scale : 0.0f));
    }
    int *dt = dup_to(tg, sizeof tg);
    uint8_t *dm = dup_to(mask, sizeof mask);
    float *dl = dmalloc(4), loss;
    CU(cudaMemset(dl, 0, 4));
    tkd_bf16 *dg;
    float *d32 = NULL;
    if (f32) {
        d32 = dup_to(lg, n * 4);
        dg = dmalloc(n * 2);
        if (f32 == 2) { // twice on top of 1.5: the same bits each time
            float *rl = dmalloc(rows * 4), a, b;
            CU(cudaMemcpy(dl, &(float){1.5f}, 4, cudaMemcpyHostToDevice));
            CU(tkd_k_xent_chunk_f32_det(dg, dl, rl, d32, dt, dm, rows, V, scale, NULL));
            SYNC();
            CU(cudaMemcpy(&a, dl, 4, cudaMemcpyDeviceToHost));
            CU(cudaMemcpy(dl, &(float){1.5f}, 4, cudaMemcpyHostToDevice));
            CU(tkd_k_xent_chunk_f32_det(dg, dl, rl, d32, dt, dm, rows, V, scale, NULL));
            SYNC();
            CU(cudaMemcpy(&b, dl, 4, cudaMemcpyDeviceToHost));
            CHECK(a == b, "xent_f32_det: %.9g then %.9g", a, b);
            ref += 1.5;
            cudaFree(rl);
        } else
            CU(tkd_k_xent_chunk_f32(dg, dl, d32, dt, dm, rows, V, scale, NULL));
    } else {
        dg = to_dev(lg, n);
        CU(tkd_k_xent_chunk(dg, dl, dt, dm, rows, V, scale, NULL));
    }
    SYNC();
    CU(cudaMemcpy(&loss, dl, 4, cudaMemcpyDeviceToHost));
    float *g = from_dev(dg, n);
    CHECK(fabs(loss - ref) <= 1e-4 * fabs(ref), "xent%s loss %g vs %g",
          f32 == 2 ? "_f32_det"
          : f32    ? "_f32"
                   : "",
          loss, ref);
    // softmax values within one bf16 ulp; the target's (p - 1) near -scale within 1e-6 absolute
    size_t first = 0, bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!(fabsf(g[i] - rg[i]) <= 0x1p-7f * fabsf(rg[i]) + 1e-6f * scale) && !bad++)
            first = i;
    CHECK(!bad, "xent%s gradient: %zu of %zu off (first %zu: %g vs %g)",
          f32 == 2 ? "_f32_det"
          : f32    ? "_f32"
                   : "",
          bad, n, first, g[first], rg[first]);
    free(lg), free(rg), free(g);
    cudaFree(dt), cudaFree(dm), cudaFree(dl), cudaFree(dg), cudaFree(d32);
}

static void test_optim(void) {
    size_t n = SIZE(300007, 30011);
    float *x = malloc(n * 4), *y = malloc(n * 4), *acc = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = uni() * 3, acc[i] = uni();
    float *dx = dup_to(x, n * 4), *dy = dmalloc(n * 4), *dacc = dup_to(acc, n * 4);
    tkd_bf16 *db = dmalloc(n * 2);
    CU(tkd_k_f32_to_bf16(db, dx, n, NULL));
    CU(tkd_k_bf16_to_f32(dy, db, n, NULL));
    CU(tkd_k_accum_bf16(dacc, db, 0.5f, n, NULL));
    SYNC();
    CU(cudaMemcpy(y, dy, n * 4, cudaMemcpyDeviceToHost));
    float *a2 = from_dev_f32(dacc, n);
    int same = 1, asame = 1;
    for (size_t i = 0; i < n; i++) {
        same &= y[i] == bfr(x[i]);
        asame &= a2[i] == acc[i] + bfr(x[i]) * 0.5f;
    }
    CHECK(same, "f32 -> bf16 -> f32 rounds to nearest even (tkd_f32_to_bf16)");
    CHECK(asame, "accum_bf16");
    // sum of squares: deterministic and within fp32 rounding of the double sum; clipping
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)x[i] * x[i];
    size_t sb = tkd_k_sumsq_scratch(n);
    void *scr = dmalloc(sb);
    float *dss = dmalloc(4), s1, s2;
    CU(tkd_k_sumsq(dss, dx, n, scr, sb, NULL));
    SYNC();
    CU(cudaMemcpy(&s1, dss, 4, cudaMemcpyDeviceToHost));
    CU(tkd_k_sumsq(dss, dx, n, scr, sb, NULL));
    SYNC();
    CU(cudaMemcpy(&s2, dss, 4, cudaMemcpyDeviceToHost));
    CHECK(fabs(s1 - ss) <= 1e-6 * ss && s1 == s2, "sumsq %.9g vs %.9g (again %.9g)", s1, ss, s2);
    memcpy(y, x, n * 4);
    tkd_clip_grad_norm(y, n, 10.0);
    CU(tkd_k_clip(dx, n, dss, 10.0f, NULL));
    SYNC();
    float *c = from_dev_f32(dx, n);
    CHECK(rel_max(c, y, n) < 1e-6f, "clip %g", rel_max(c, y, n));
    free(c);
    // AdamW: ten steps, bit-identical to tkd_adamw_step
    tkd_adamw o;
    tkd_err e;
    memset(&e, 0, sizeof e);
    CU(tkd_adamw_init(&o, n, 1e-3, 0.01, &e));
    float *p = malloc(n * 4), *g = malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        p[i] = uni();
    float *dp = dup_to(p, n * 4), *dg = dmalloc(n * 4), *dm = dmalloc(n * 4), *dv = dmalloc(n * 4);
    CU(cudaMemset(dm, 0, n * 4));
    CU(cudaMemset(dv, 0, n * 4));
    for (long t = 1; t <= 10; t++) {
        double lr = 1e-3 * (1.0 - 0.05 * t);
        for (size_t i = 0; i < n; i++)
            g[i] = uni() * (i % 7 ? 1e-2f : 10.0f);
        CU(cudaMemcpy(dg, g, n * 4, cudaMemcpyHostToDevice));
        tkd_adamw_step(&o, p, g, lr);
        CU(tkd_k_adamw(dp, t == 10 ? db : NULL, dg, dm, dv, n, lr, o.beta1, o.beta2, o.eps, o.weight_decay, t, NULL));
    }
    SYNC();
    float *gp = from_dev_f32(dp, n), *gm = from_dev_f32(dm, n), *gv = from_dev_f32(dv, n), *gb = from_dev(db, n);
    int bit = !memcmp(gp, p, n * 4) && !memcmp(gm, o.m, n * 4) && !memcmp(gv, o.v, n * 4);
    size_t first = 0;
    for (size_t i = 0; i < n && bit; i++)
        bit &= gb[i] == bfr(p[i]) || (first = i, 0);
    CHECK(bit, "AdamW: ten steps bit-identical to tkd_adamw_step (params, m, v, bf16 copy; first bf16 miss %zu)",
          first);
    if (!bit)
        printf("  AdamW params max rel err %g\n", rel_max(gp, p, n));
    tkd_adamw_free(&o);
    free(x), free(y), free(acc), free(a2), free(p), free(g), free(gp), free(gm), free(gv), free(gb);
    cudaFree(dx), cudaFree(dy), cudaFree(dacc), cudaFree(db), cudaFree(scr), cudaFree(dss), cudaFree(dp), cudaFree(dg);
    cudaFree(dm), cudaFree(dv);
}

int main(void) {
    int ndev = 0;
    cudaError_t ce = cudaGetDeviceCount(&ndev);
    if (ce != cudaSuccess || ndev == 0) {
        printf("skipped: no CUDA device (%s)\n", ce != cudaSuccess ? cudaGetErrorString(ce) : "none visible");
        return 77;
    }
    test_embed();
    test_rmsnorm();
    test_rope();
    test_elementwise(SIZE(100003, 20011), 333);
    test_elementwise(SIZE(100000, 20008), 336);
    test_dropout(SIZE(200000, 30000));
    test_dropout(SIZE(199999, 29999));
    test_xent(0);
    test_xent(1);
    test_xent(2);
    test_optim();
    for (int scalar = 0; scalar < 2; scalar++) { // tensor cores (D <= 128), then the CUDA-core kernels
        setenv("TKD_ATTN_SCALAR", scalar ? "1" : "0", 1);
        printf("attention kernels: %s\n",
               scalar ? "CUDA cores (TKD_ATTN_SCALAR=1)" : "default (tensor cores for D <= 128)");
        test_attention(2, SIZE(77, 50), 4, 2, 64, 1);   // Qwen2.5-0.5B's head size, GQA, packing
        test_attention(1, SIZE(130, 70), 4, 1, 128, 0); // 1.5B/7B's head size
        test_attention(2, 40, 2, 2, 16, 1);             // the CPU oracle tests' small heads
        test_attention(1, SIZE(300, 70), 2, 2, 80, 1);  // D below its template bound, several tiles
        test_attention(1, 40, 2, 1, 12, 1);             // D not a multiple of 8: element-wise tile loads
        if (!scalar)
            test_attention(1, 45, 2, 1, 256, 1); // the largest head size (CUDA cores either way)
    }
    return kern_check_end();
}
#endif
