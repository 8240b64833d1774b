/*
 * The CUDA kernels' math on the CPU: compiled by nvcc, run on the host only
 * (no device call), so it runs on machines with the toolkit and no GPU. It
 * checks the __host__ __device__ functions of src/model/cuda/kern_math.cuh,
 * which the kernels call element by element, against the CPU reference
 * (src/model/ops.c, adamw.c, safetensors.c), and runs the flash attention's
 * tile algorithm (blocks of 16 query rows, tiles of 32 keys, the key range
 * of a block, online softmax, lse, the backward's P and dS from lse and
 * Dt = rowsum(dO*O)) on the host against op_attention_fwd/bwd with GQA and
 * packing. What it cannot check (indexing in the kernels, shared memory,
 * shuffles) is tests/gpu/test_kern.c's job on a GPU.
 */
#include "kern_math.cuh"

#include <cuda_bf16.h>

extern "C" {
#include "ops.h"
#include "tkd/model.h"
#include "tkd/safetensors.h"
}

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KERN_CHECK_SEED 88172645463325252ULL
#define KERN_CHECK_PRINT_MAX 20
#include "../lib/kern_check.h"

static float bfr(float x) {
    return km_bf16_to_f32(km_f32_to_bf16(x));
} // bf16-rounded

static float relerr(float a, float b) {
    return fabsf(a - b) / fmaxf(1e-6f, fmaxf(fabsf(a), fabsf(b)));
}

static void test_bf16(void) {
    for (int i = 0; i < 1000000; i++) {
        uint32_t u = (uint32_t)next_u64();
        float f;
        memcpy(&f, &u, 4);
        uint16_t a = km_f32_to_bf16(f), b = tkd_f32_to_bf16(f);
        CHECK(a == b, "bf16 of %08x: %04x vs tkd_f32_to_bf16 %04x", u, a, b);
        if (!isnan(f)) { // CUDA's own rounding (its host path) agrees on numbers
            __nv_bfloat16 c = __float2bfloat16_rn(f);
            uint16_t cb;
            memcpy(&cb, &c, 2);
            CHECK(a == cb, "bf16 of %08x: %04x vs __float2bfloat16_rn %04x", u, a, cb);
        }
        CHECK(km_bf16_to_f32(a) == tkd_bf16_to_f32(a) || isnan(f), "bf16 -> f32 of %04x", a);
    }
    float ties[] = {1.00390625f /* 1 + 2^-8: tie, to even (1) */,
                    1.01171875f /* tie, to even (up) */,
                    0.0f,
                    -0.0f,
                    INFINITY,
                    -INFINITY,
                    3.4028235e38f /* rounds to inf */};
    for (size_t i = 0; i < sizeof ties / sizeof *ties; i++)
        CHECK(km_f32_to_bf16(ties[i]) == tkd_f32_to_bf16(ties[i]), "bf16 of %g", ties[i]);
    CHECK(km_bf16_to_f32(km_f32_to_bf16(1.00390625f)) == 1.0f, "tie rounds to even");
}

static void test_dropout(void) {
    double ps[] = {0.05, 0.1, 0.5, 0.9};
    for (int k = 0; k < 4; k++)
        for (int rep = 0; rep < 50; rep++) {
            uint64_t seed = next_u64();
            int layer = (int)(next_u64() % 80), t = (int)(next_u64() % 7);
            for (size_t i = 0; i < 5000; i++) {
                size_t idx = rep & 1 ? i : (size_t)(next_u64() >> 20);
                CHECK(km_dropout_keep(seed, layer, t, idx, ps[k]) == op_dropout_keep(seed, layer, t, idx, ps[k]),
                      "dropout mask seed %llu layer %d t %d i %zu", (unsigned long long)seed, layer, t, idx);
            }
        }
}

/* the kernel k_rope's loops: per (token, pair) the cos/sin once, then every head */
static void rope_host(float *x, const int *pos, int N, int nh, int D, double theta, int inverse) {
    int h = D / 2;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < h; i++) {
            float c, s;
            km_rope_cs(pos[n], i, D, theta, &c, &s);
            for (int hd = 0; hd < nh; hd++) {
                float *v = x + ((size_t)n * nh + hd) * D;
                float a = bfr(v[i]), b = bfr(v[i + h]);
                km_rope_pair(&a, &b, c, s, inverse);
                v[i] = a;
                v[i + h] = b;
            }
        }
}

static void test_rope(void) {
    int N = 40, nh = 3, Ds[] = {8, 64, 128};
    double thetas[] = {10000.0, 1000000.0};
    for (int di = 0; di < 3; di++)
        for (int ti = 0; ti < 2; ti++)
            for (int inv = 0; inv < 2; inv++) {
                int D = Ds[di], P = 5000;
                int *pos = (int *)malloc(N * sizeof(int));
                float *x = (float *)malloc((size_t)N * nh * D * sizeof(float)),
                      *y = (float *)malloc((size_t)N * nh * D * sizeof(float));
                float *ct = (float *)malloc((size_t)P * D / 2 * sizeof(float)),
                      *st = (float *)malloc((size_t)P * D / 2 * sizeof(float));
                for (int n = 0; n < N; n++)
                    pos[n] = n < 20 ? n : (int)(next_u64() % P);
                for (int i = 0; i < N * nh * D; i++)
                    x[i] = y[i] = bfr(uni());
                op_rope_table(ct, st, P, D, thetas[ti]);
                op_rope(x, pos, N, nh, D, ct, st, inv);
                rope_host(y, pos, N, nh, D, thetas[ti], inv);
                float worst = 0;
                for (int i = 0; i < N * nh * D; i++)
                    worst = fmaxf(worst, fabsf(x[i] - y[i]));
                // cos/sin of the same double angle rounded to fp32: equal up to libm's last bit on the device
                CHECK(worst <= 1e-6f, "rope D=%d theta=%g inverse=%d: max |diff| %g", D, thetas[ti], inv, worst);
                free(pos), free(x), free(y), free(ct), free(st);
            }
}

static void test_rmsnorm(void) {
    int N = 9, C = 896;
    float eps = 1e-6f;
    size_t NC = (size_t)N * C;
    float *x = (float *)malloc(NC * 4), *w = (float *)malloc(C * 4), *dy = (float *)malloc(NC * 4);
    float *o = (float *)malloc(NC * 4), *rs = (float *)malloc(N * 4), *dx = (float *)calloc(NC, 4),
          *dw = (float *)calloc(C, 4);
    for (size_t i = 0; i < NC; i++)
        x[i] = bfr(uni() * 3), dy[i] = bfr(uni());
    for (int i = 0; i < C; i++)
        w[i] = bfr(1 + 0.2f * uni());
    op_rmsnorm_fwd(o, rs, x, w, N, C, eps);
    op_rmsnorm_bwd(dx, dw, dy, x, w, rs, N, C);
    float wo = 0, wr = 0, wdx = 0, wdw = 0;
    float *gdw = (float *)calloc(C, 4);
    for (int n = 0; n < N; n++) {
        const float *xr = x + (size_t)n * C, *dyr = dy + (size_t)n * C;
        // k_rmsnorm_fwd: 32 lanes accumulate strided partial sums, then a butterfly
        float part[32] = {0}, dpart[32] = {0};
        for (int i = 0; i < C; i++) {
            part[i % 32] += xr[i] * xr[i];
            dpart[i % 32] += dyr[i] * w[i] * xr[i];
        }
        for (int off = 16; off > 0; off >>= 1)
            for (int l = 0; l < off; l++)
                part[l] += part[l + off], dpart[l] += dpart[l + off];
        float r = km_rms_rstd(part[0], C, eps), k = km_rms_k(dpart[0], C, r);
        wr = fmaxf(wr, relerr(r, rs[n]));
        for (int i = 0; i < C; i++) {
            wo = fmaxf(wo, fabsf(bfr(xr[i] * r * w[i]) - o[(size_t)n * C + i]));
            wdx = fmaxf(wdx, fabsf(km_rms_dx(dyr[i], w[i], xr[i], r, k) - dx[(size_t)n * C + i]));
            gdw[i] += dyr[i] * xr[i] * r;
        }
    }
    float dwmax = 0;
    for (int i = 0; i < C; i++)
        wdw = fmaxf(wdw, fabsf(gdw[i] - dw[i])), dwmax = fmaxf(dwmax, fabsf(dw[i]));
    wdw /= dwmax; // relative to the largest: a column's sum of N signed terms can cancel
    CHECK(wr < 1e-5f, "rmsnorm rstd rel err %g", wr);
    CHECK(wo < 0.02f, "rmsnorm out (bf16) max err %g", wo); // |out| < 4: half a bf16 ulp is < 0.016
    CHECK(wdx < 1e-4f, "rmsnorm dx max err %g", wdx);
    CHECK(wdw < 1e-4f, "rmsnorm dw rel err %g", wdw);
    free(x), free(w), free(dy), free(o), free(rs), free(dx), free(dw), free(gdw);
}

static void test_swiglu(void) {
    size_t n = 10000;
    float *g = (float *)malloc(n * 4), *u = (float *)malloc(n * 4), *dh = (float *)malloc(n * 4);
    float *h = (float *)malloc(n * 4), *dg = (float *)malloc(n * 4), *du = (float *)malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        g[i] = bfr(uni() * 8), u[i] = bfr(uni() * 2), dh[i] = bfr(uni());
    op_swiglu_fwd(h, g, u, n);
    op_swiglu_bwd(dg, du, dh, g, u, n);
    for (size_t i = 0; i < n; i++) {
        float a, b;
        km_swiglu_bwd(dh[i], g[i], u[i], &a, &b);
        CHECK(km_silu(g[i]) * u[i] == h[i], "swiglu fwd at %g %g", g[i], u[i]);
        CHECK(a == dg[i] && b == du[i], "swiglu bwd at %g %g", g[i], u[i]);
    }
    free(g), free(u), free(dh), free(h), free(dg), free(du);
}

/* k_xent on one row (fp32 logits) against tkd_qwen2_loss + tkd_qwen2_backward's formulas */
static void test_xent(void) {
    int V = 5003;
    float *lg = (float *)malloc(V * 4);
    for (int rep = 0; rep < 20; rep++) {
        for (int i = 0; i < V; i++)
            lg[i] = bfr(uni() * (rep < 10 ? 4 : 25));
        int tg = (int)(next_u64() % V);
        float scale = 1.0f / (1 + rep);
        // reference (qwen2.c): double sum of fp32 exps, loss = -log(p_t), grad = exp*rowinv*scale - scale at target
        float mx;
        double sum = kern_ref_sumexp(lg, V, &mx);
        float rowinv = (float)(1.0 / sum);
        double ref = -log(expf(lg[tg] - mx) / sum);
        // kernel: 512 threads' strided fp32 partial sums, then a tree
        float part[512] = {0};
        for (int i = 0; i < V; i++)
            part[i % 512] += expf(lg[i] - mx);
        for (int off = 256; off > 0; off >>= 1)
            for (int l = 0; l < off; l++)
                part[l] += part[l + off];
        float ks = part[0], loss = km_xent_loss(mx, ks, lg[tg]), inv = 1.0f / ks, worst = 0;
        CHECK(fabs(loss - ref) < 1e-5 * fmax(1.0, fabs(ref)), "xent loss %g vs %g", loss, ref);
        for (int i = 0; i < V; i++) {
            float want = expf(lg[i] - mx) * rowinv * scale - (i == tg ? scale : 0.0f);
            worst = fmaxf(worst, fabsf(km_xent_grad(lg[i], mx, inv, i == tg, scale) - want));
        }
        CHECK(worst < 1e-6f * scale, "xent grad max err %g (scale %g)", worst, scale);
    }
    free(lg);
}

static void test_adamw(void) {
    size_t n = 4097;
    float *p = (float *)malloc(n * 4), *q = (float *)malloc(n * 4), *g = (float *)malloc(n * 4);
    float *m = (float *)calloc(n, 4), *v = (float *)calloc(n, 4);
    tkd_adamw o;
    tkd_err e;
    memset(&e, 0, sizeof e);
    if (tkd_adamw_init(&o, n, 1e-3, 0.01, &e)) {
        CHECK(0, "tkd_adamw_init");
        return;
    }
    for (size_t i = 0; i < n; i++)
        p[i] = q[i] = uni();
    int same = 1;
    for (long t = 1; t <= 10; t++) {
        double lr = 1e-3 * (1.0 - 0.05 * t);
        for (size_t i = 0; i < n; i++)
            g[i] = uni() * (i % 7 ? 1e-2f : 10.0f);
        tkd_adamw_step(&o, p, g, lr);
        km_adamw_k k = km_adamw_consts(lr, o.beta1, o.beta2, o.eps, o.weight_decay, t);
        for (size_t i = 0; i < n; i++)
            km_adamw_elem(&q[i], g[i], &m[i], &v[i], &k);
        for (size_t i = 0; i < n; i++)
            same &= p[i] == q[i] && m[i] == o.m[i] && v[i] == o.v[i];
    }
    CHECK(same, "AdamW: ten steps bit-identical to tkd_adamw_step");
    // clipping: the coefficient of tkd_clip_grad_norm from the fp32 sum of squares
    for (int rep = 0; rep < 3; rep++) {
        for (size_t i = 0; i < n; i++)
            g[i] = q[i] = uni() * (float)(rep + 1);
        double ss = 0;
        for (size_t i = 0; i < n; i++)
            ss += (double)g[i] * g[i];
        float coef = km_clip_coef((float)ss, 20.0f);
        tkd_clip_grad_norm(g, n, 20.0);
        float worst = 0;
        for (size_t i = 0; i < n; i++)
            worst = fmaxf(worst, relerr(q[i] * coef, g[i]));
        CHECK(worst < 1e-6f, "clip rel err %g", worst);
    }
    CHECK(km_clip_coef(1.0f, 0.0f) == 1.0f && km_clip_coef(1e-4f, 1.0f) == 1.0f, "clip no-ops");
    tkd_adamw_free(&o);
    free(p), free(q), free(g), free(m), free(v);
}

/* ---- attention: attn.cu's tiling on the host ---- */

#define BR 16 /* AT_BR */
#define BC 32 /* AT_BC */

/* k_attn_fwd for one (row b, head h): blocks of BR queries, the block's key range, 32-key tiles */
static void attn_fwd_host(float *out, float *lse, const float *q, const float *k, const float *v, const int *ds, int T,
                          int H, int KV, int D, int h) {
    int kh = h / (H / KV), QC = H * D, KC = KV * D;
    float scale = 1.0f / sqrtf((float)D);
    float *o = (float *)malloc(D * 4);
    for (int q0 = 0; q0 < T; q0 += BR) {
        int kmin = T, kmax = q0 + BR - 1 < T - 1 ? q0 + BR - 1 : T - 1;
        for (int t = q0; t < q0 + BR && t < T; t++)
            kmin = km_attn_lo(ds, t) < kmin ? km_attn_lo(ds, t) : kmin;
        for (int t = q0; t < q0 + BR && t < T; t++) {
            int lo = km_attn_lo(ds, t);
            float m = -INFINITY, l = 0;
            memset(o, 0, D * 4);
            for (int k0 = kmin / BC * BC; k0 <= kmax; k0 += BC) {
                float s[BC], mt = -INFINITY;
                for (int j = 0; j < BC; j++) {
                    int kj = k0 + j;
                    int ok = kj < T && kj >= lo && kj <= t;
                    float acc = 0;
                    for (int d = 0; d < D && ok; d++)
                        acc += q[(size_t)t * QC + h * D + d] * k[(size_t)kj * KC + kh * D + d];
                    s[j] = ok ? acc * scale : -INFINITY;
                    mt = fmaxf(mt, s[j]);
                }
                if (mt == -INFINITY)
                    continue;
                float alpha = km_online_max(&m, mt), ps = 0;
                for (int j = 0; j < BC; j++) {
                    s[j] = s[j] == -INFINITY ? 0.0f : expf(s[j] - m);
                    ps += s[j];
                }
                l = l * alpha + ps;
                for (int d = 0; d < D; d++) {
                    o[d] *= alpha;
                    for (int j = 0; j < BC; j++)
                        if (k0 + j < T)
                            o[d] += s[j] * v[(size_t)(k0 + j) * KC + kh * D + d];
                }
            }
            for (int d = 0; d < D; d++)
                out[(size_t)t * QC + h * D + d] = bfr(o[d] / l);
            lse[t] = km_lse(m, l);
        }
    }
    free(o);
}

/* k_attn_bwd_dq and k_attn_bwd_dkv (their ranges and skips) for one row */
static void attn_bwd_host(float *dq, float *dk, float *dv, const float *dout, const float *out, const float *lse,
                          const float *q, const float *k, const float *v, const int *ds, int T, int H, int KV, int D) {
    int QC = H * D, KC = KV * D, G = H / KV;
    float scale = 1.0f / sqrtf((float)D);
    float *Dt = (float *)malloc((size_t)H * T * 4);
    for (int h = 0; h < H; h++)
        for (int t = 0; t < T; t++) {
            float a = 0;
            for (int d = 0; d < D; d++)
                a += dout[(size_t)t * QC + h * D + d] * out[(size_t)t * QC + h * D + d];
            Dt[(size_t)h * T + t] = a;
        }
        // the score, dP and dS of (query i, key j) of head h, as both kernels make them
#define SCORES(i, j, h, p, dsv)                                                                                        \
    do {                                                                                                               \
        float sc_ = 0, dp_ = 0;                                                                                        \
        for (int d = 0; d < D; d++) {                                                                                  \
            sc_ += q[(size_t)(i)*QC + (h)*D + d] * k[(size_t)(j)*KC + ((h) / G) * D + d];                              \
            dp_ += dout[(size_t)(i)*QC + (h)*D + d] * v[(size_t)(j)*KC + ((h) / G) * D + d];                           \
        }                                                                                                              \
        p = km_attn_p(sc_ * scale, lse[(size_t)(h)*T + (i)]);                                                          \
        dsv = km_attn_ds(p, dp_, Dt[(size_t)(h)*T + (i)]);                                                             \
    } while (0)
    for (int h = 0; h < H; h++) // dQ: blocks of BR queries over their key tiles
        for (int q0 = 0; q0 < T; q0 += BR) {
            int kmin = T, kmax = q0 + BR - 1 < T - 1 ? q0 + BR - 1 : T - 1;
            for (int t = q0; t < q0 + BR && t < T; t++)
                kmin = km_attn_lo(ds, t) < kmin ? km_attn_lo(ds, t) : kmin;
            for (int t = q0; t < q0 + BR && t < T; t++)
                for (int d = 0; d < D; d++) {
                    float acc = 0;
                    for (int k0 = kmin / BC * BC; k0 <= kmax; k0 += BC)
                        for (int j = k0; j < k0 + BC; j++) {
                            if (j >= T || j < km_attn_lo(ds, t) || j > t)
                                continue;
                            float p, g;
                            SCORES(t, j, h, p, g);
                            acc += g * k[(size_t)j * KC + (h / G) * D + d];
                        }
                    dq[(size_t)t * QC + h * D + d] = bfr(acc * scale);
                }
        }
    for (int kh = 0; kh < KV; kh++) // dK, dV: blocks of BR keys over the query tiles of the group's heads
        for (int j0 = 0; j0 < T; j0 += BR) {
            int kmax = j0 + BR - 1 < T - 1 ? j0 + BR - 1 : T - 1;
            for (int j = j0; j < j0 + BR && j < T; j++)
                for (int d = 0; d < D; d++) {
                    float ak = 0, av = 0;
                    for (int hh = 0; hh < G; hh++) {
                        int h = kh * G + hh;
                        for (int q0 = j0 / BC * BC; q0 < T; q0 += BC) {
                            int any = 0;
                            for (int i = q0; i < q0 + BC; i++)
                                any |= i < T && i >= j0 && km_attn_lo(ds, i) <= kmax;
                            if (!any)
                                continue;
                            for (int i = q0; i < q0 + BC && i < T; i++) {
                                if (j < km_attn_lo(ds, i) || j > i)
                                    continue;
                                float p, g;
                                SCORES(i, j, h, p, g);
                                av += p * dout[(size_t)i * QC + h * D + d];
                                ak += g * q[(size_t)i * QC + h * D + d];
                            }
                        }
                    }
                    dk[(size_t)j * KC + kh * D + d] = bfr(ak * scale);
                    dv[(size_t)j * KC + kh * D + d] = bfr(av);
                }
        }
#undef SCORES
    free(Dt);
}

static float *randv(size_t n, float amp) {
    float *x = (float *)malloc(n * 4);
    for (size_t i = 0; i < n; i++)
        x[i] = bfr(uni() * amp);
    return x;
}

static void test_attention(int T, int H, int KV, int D, int packed) {
    int QC = H * D, KC = KV * D;
    float *q = randv((size_t)T * QC, 2), *k = randv((size_t)T * KC, 2), *v = randv((size_t)T * KC, 1);
    float *dout = randv((size_t)T * QC, 1);
    int *ds = NULL;
    if (packed) { // documents of 1, 19, 33, ... tokens
        ds = (int *)malloc(T * sizeof(int));
        int start = 0, len = 1;
        for (int t = 0; t < T; t++) {
            if (t - start >= len)
                start = t, len = len * 3 + 16;
            ds[t] = start;
        }
    }
    float *ref = (float *)calloc((size_t)T * QC, 4), *probs = (float *)malloc((size_t)H * T * T * 4);
    float *out = (float *)calloc((size_t)T * QC, 4), *lse = (float *)malloc((size_t)H * T * 4);
    op_attention_fwd(ref, probs, q, k, v, ds, T, H, KV, D);
    for (int h = 0; h < H; h++)
        attn_fwd_host(out, lse + (size_t)h * T, q, k, v, ds, T, H, KV, D, h);
    float wo = 0, wl = 0;
    for (size_t i = 0; i < (size_t)T * QC; i++)
        wo = fmaxf(wo, fabsf(out[i] - ref[i]));
    for (int h = 0; h < H; h++) // lse against the reference's probabilities: p(t,t) = exp(s_tt - lse)
        for (int t = 0; t < T; t++) {
            float s = 0;
            for (int d = 0; d < D; d++)
                s += q[(size_t)t * QC + h * D + d] * k[(size_t)t * KC + (h / (H / KV)) * D + d];
            float p = km_attn_p(s / sqrtf((float)D), lse[(size_t)h * T + t]);
            wl = fmaxf(wl, fabsf(p - probs[((size_t)h * T + t) * T + t]));
        }
    CHECK(wo < 8e-3f, "attention fwd T=%d H=%d KV=%d D=%d packed=%d: max |out - ref| %g", T, H, KV, D, packed, wo);
    CHECK(wl < 1e-5f, "attention lse T=%d D=%d packed=%d: max |p_tt - ref| %g", T, D, packed, wl);

    float *rdq = (float *)calloc((size_t)T * QC, 4), *rdk = (float *)calloc((size_t)T * KC, 4);
    float *rdv = (float *)calloc((size_t)T * KC, 4), *scr = (float *)malloc((size_t)T * T * 4);
    float *dq = (float *)calloc((size_t)T * QC, 4), *dk = (float *)calloc((size_t)T * KC, 4);
    float *dv = (float *)calloc((size_t)T * KC, 4);
    op_attention_bwd(rdq, rdk, rdv, scr, dout, probs, q, k, v, T, H, KV, D);
    attn_bwd_host(dq, dk, dv, dout, out, lse, q, k, v, ds, T, H, KV, D);
    float e[3] = {0, 0, 0}, mag[3] = {0, 0, 0};
    for (size_t i = 0; i < (size_t)T * QC; i++)
        e[0] = fmaxf(e[0], fabsf(dq[i] - rdq[i])), mag[0] = fmaxf(mag[0], fabsf(rdq[i]));
    for (size_t i = 0; i < (size_t)T * KC; i++) {
        e[1] = fmaxf(e[1], fabsf(dk[i] - rdk[i])), mag[1] = fmaxf(mag[1], fabsf(rdk[i]));
        e[2] = fmaxf(e[2], fabsf(dv[i] - rdv[i])), mag[2] = fmaxf(mag[2], fabsf(rdv[i]));
    }
    // bf16 outputs (half an ulp: 2^-9 relative) and Dt from the bf16-rounded O
    printf("attention T=%d H=%d KV=%d D=%d packed=%d: |out-ref| %.2g, |dq| %.2g/%.2g, |dk| %.2g/%.2g, |dv| %.2g/%.2g "
           "(max err / max value)\n",
           T, H, KV, D, packed, wo, e[0], mag[0], e[1], mag[1], e[2], mag[2]);
    const char *nm[3] = {"dq", "dk", "dv"};
    for (int c = 0; c < 3; c++)
        CHECK(e[c] <= 1e-2f * mag[c], "attention bwd %s T=%d H=%d KV=%d D=%d packed=%d: max err %g of max %g", nm[c], T,
              H, KV, D, packed, e[c], mag[c]);
    free(q), free(k), free(v), free(dout), free(ds), free(ref), free(probs), free(out), free(lse);
    free(rdq), free(rdk), free(rdv), free(scr), free(dq), free(dk), free(dv);
}

int main(void) {
    test_bf16();
    test_dropout();
    test_rope();
    test_rmsnorm();
    test_swiglu();
    test_xent();
    test_adamw();
    test_attention(70, 4, 2, 24, 0);
    test_attention(70, 4, 2, 24, 1);
    test_attention(45, 2, 1, 64, 1);
    test_attention(33, 6, 6, 16, 0);
    return kern_check_end();
}
