/*
 * The elementwise and row kernels (device code only, no launch syntax):
 * included by kern.cu, whose launchers implement tkd_cuda.h part 1, and by
 * tests/cuda/test_kern_emu.cpp, which runs these very kernels on the CPU
 * under a small emulation of CUDA's threads, shared memory and shuffles.
 */
#ifndef TKD_KERN_DEV_CUH
#define TKD_KERN_DEV_CUH

#include "kern_priv.cuh"

/* ---- embedding ---- */

__global__ void k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C) {
    size_t n = (size_t)N * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / C, c = i % C;
        out[i] = embed[(size_t)tokens[r] * C + c];
    }
}

/* scatter-add without atomics: a thread owns one column and walks the tokens
 * in order, so repeated tokens add up in the same order every run */
__global__ void k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= C)
        return;
    for (int n = 0; n < N; n++)
        dembed[(size_t)tokens[n] * C + c] += kp_ld(dout + (size_t)n * C + c);
}

/* ---- RMSNorm: one warp per row, 8 rows per block ---- */

#define RMS_ROWS 8

__global__ void k_rmsnorm_fwd(tkd_bf16 *out, float *rstd, const tkd_bf16 *x, const tkd_bf16 *w, int N, int C,
                              float eps) {
    int row = blockIdx.x * RMS_ROWS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N)
        return;
    const tkd_bf16 *xr = x + (size_t)row * C;
    tkd_bf16 *o = out + (size_t)row * C;
    float ss = 0;
    for (int i = lane; i < C; i += 32) {
        float v = kp_ld(xr + i);
        ss += v * v;
    }
    ss = kp_warp_sum(ss);
    float rs = km_rms_rstd(ss, C, eps);
    for (int i = lane; i < C; i += 32)
        kp_st(o + i, kp_ld(xr + i) * rs * kp_ld(w + i));
    if (rstd && lane == 0)
        rstd[row] = rs;
}

__global__ void k_rmsnorm_bwd(tkd_bf16 *dx, const tkd_bf16 *dout, const tkd_bf16 *x, const tkd_bf16 *w,
                              const float *rstd, int N, int C, int accumulate) {
    int row = blockIdx.x * RMS_ROWS + (threadIdx.x >> 5), lane = threadIdx.x & 31;
    if (row >= N)
        return;
    const tkd_bf16 *xr = x + (size_t)row * C, *dy = dout + (size_t)row * C;
    tkd_bf16 *d = dx + (size_t)row * C;
    float rs = rstd[row], dot = 0;
    for (int i = lane; i < C; i += 32)
        dot += kp_ld(dy + i) * kp_ld(w + i) * kp_ld(xr + i);
    dot = kp_warp_sum(dot);
    float k = km_rms_k(dot, C, rs);
    for (int i = lane; i < C; i += 32) {
        float v = km_rms_dx(kp_ld(dy + i), kp_ld(w + i), kp_ld(xr + i), rs, k);
        kp_st(d + i, accumulate ? kp_ld(d + i) + v : v);
    }
}

/* Column sums without atomics, so full fine-tuning's norm and bias gradients
 * are deterministic: a block owns 32 columns; its 8 warps take every 8th
 * row, then add their 8 partial sums in a fixed order. dy*x*rstd for RMSNorm's
 * weight (x != NULL), dy alone for a bias. */
#define COLSUM_COLS 32
#define COLSUM_GROUPS 8
__global__ void k_colsum(float *dst, const tkd_bf16 *dy, const tkd_bf16 *x, const float *rstd, int N, int C) {
    __shared__ float part[COLSUM_GROUPS][COLSUM_COLS];
    int lane = threadIdx.x & 31, grp = threadIdx.x >> 5, c = blockIdx.x * COLSUM_COLS + lane;
    float acc = 0;
    if (c < C)
        for (int r = grp; r < N; r += COLSUM_GROUPS) {
            float v = kp_ld(dy + (size_t)r * C + c);
            acc += x ? v * kp_ld(x + (size_t)r * C + c) * rstd[r] : v;
        }
    part[grp][lane] = acc;
    __syncthreads();
    if (grp == 0 && c < C) {
        float t = 0;
        for (int g = 0; g < COLSUM_GROUPS; g++)
            t += part[g][lane];
        dst[c] += t;
    }
}

/* ---- positions and RoPE ---- */

__global__ void k_positions(int *pos, const int *docstart, int B, int T) {
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= B * T)
        return;
    int t = n % T;
    pos[n] = t - (docstart ? docstart[n] : 0);
}

/* one thread per (token, pair i): cos/sin once, applied to every head */
__global__ void k_rope(tkd_bf16 *x, const int *pos, int N, int nh, int D, double theta, int inverse) {
    int h = D / 2;
    size_t idx = blockIdx.x * (size_t)blockDim.x + threadIdx.x;
    if (idx >= (size_t)N * h)
        return;
    int n = (int)(idx / h), i = (int)(idx % h);
    float c, sn;
    km_rope_cs(pos[n], i, D, theta, &c, &sn);
    for (int hd = 0; hd < nh; hd++) {
        tkd_bf16 *v = x + ((size_t)n * nh + hd) * D;
        float a = kp_ld(v + i), b = kp_ld(v + i + h);
        km_rope_pair(&a, &b, c, sn, inverse);
        kp_st(v + i, a);
        kp_st(v + i + h, b);
    }
}

/* ---- SwiGLU, adds, biases ---- */

#define KP_FOR(i, n)                                                                                                   \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* V bf16 at a time: V = 8 is one 16-byte access (the launcher checks n and the
 * pointers with kp_vec8), V = 1 the plain fallback */
template <int V> __device__ __forceinline__ void kp_ldv(float *f, const tkd_bf16 *p) {
    if constexpr (V == 1) {
        f[0] = kp_ld(p);
    } else {
        static_assert(V == 8, "8 bf16 per 16-byte access");
        uint4 u = *(const uint4 *)p;
        uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
        for (int i = 0; i < 4; i++) {
            f[2 * i] = km_bf16_to_f32((uint16_t)(w[i] & 0xffffu));
            f[2 * i + 1] = km_bf16_to_f32((uint16_t)(w[i] >> 16));
        }
    }
}
template <int V> __device__ __forceinline__ void kp_stv(tkd_bf16 *p, const float *f) {
    if constexpr (V == 1) {
        kp_st(p, f[0]);
    } else {
        uint32_t w[4];
#pragma unroll
        for (int i = 0; i < 4; i++)
            w[i] = (uint32_t)km_f32_to_bf16(f[2 * i]) | (uint32_t)km_f32_to_bf16(f[2 * i + 1]) << 16;
        uint4 u = {w[0], w[1], w[2], w[3]};
        *(uint4 *)p = u;
    }
}

template <int V> __global__ void k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n) {
    KP_FOR(j, n / V) {
        float gf[V], uf[V];
        kp_ldv<V>(gf, g + j * V);
        kp_ldv<V>(uf, u + j * V);
#pragma unroll
        for (int e = 0; e < V; e++)
            gf[e] = km_silu(gf[e]) * uf[e];
        kp_stv<V>(h + j * V, gf);
    }
}

template <int V>
__global__ void k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u,
                             size_t n) {
    KP_FOR(j, n / V) {
        float hf[V], gf[V], uf[V], a[V], b[V];
        kp_ldv<V>(hf, dh + j * V);
        kp_ldv<V>(gf, g + j * V);
        kp_ldv<V>(uf, u + j * V);
#pragma unroll
        for (int e = 0; e < V; e++)
            km_swiglu_bwd(hf[e], gf[e], uf[e], &a[e], &b[e]);
        kp_stv<V>(dg + j * V, a);
        kp_stv<V>(du + j * V, b);
    }
}

template <int V> __global__ void k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n) {
    KP_FOR(j, n / V) {
        float af[V], bf[V];
        kp_ldv<V>(af, a + j * V);
        kp_ldv<V>(bf, b + j * V);
#pragma unroll
        for (int e = 0; e < V; e++)
            af[e] += bf[e];
        kp_stv<V>(y + j * V, af);
    }
}

/* V = 8 needs OC % 8 == 0: a group of 8 never straddles two rows */
template <int V> __global__ void k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC) {
    KP_FOR(j, (size_t)N * OC / V) {
        float yf[V], bf[V];
        kp_ldv<V>(yf, y + j * V);
        kp_ldv<V>(bf, bias + j * V % OC);
#pragma unroll
        for (int e = 0; e < V; e++)
            yf[e] += bf[e];
        kp_stv<V>(y + j * V, yf);
    }
}

/* ---- LoRA dropout: the mask of op_dropout_keep, index i of the flat (N,IC) input ---- */

template <int V>
__global__ void k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p,
                          float keep_scale) {
    KP_FOR(j, n / V) {
        float xf[V];
        kp_ldv<V>(xf, x + j * V);
#pragma unroll
        for (int e = 0; e < V; e++)
            xf[e] = km_dropout_keep(seed, layer, t, j * V + e, p) ? xf[e] * keep_scale : 0.0f;
        kp_stv<V>(y + j * V, xf);
    }
}

/* ---- cross entropy of a chunk of rows: one block per row, three passes over the row ---- */

#define XENT_THREADS 512

__device__ __forceinline__ float xent_in(const tkd_bf16 *p) {
    return kp_ld(p);
}
__device__ __forceinline__ float xent_in(const float *p) {
    return *p;
}

template <typename TI>
__global__ void k_xent(tkd_bf16 *grad, float *loss_sum, float *row_loss, const TI *logits, const int *targets,
                       const uint8_t *mask, int V, float scale) {
    __shared__ float sh[33];
    size_t row = blockIdx.x;
    const TI *lg = logits + row * V;
    tkd_bf16 *gr = grad + row * V;
    if (!mask[row]) {
        for (int i = threadIdx.x; i < V; i += blockDim.x)
            gr[i] = 0;
        if (row_loss && threadIdx.x == 0)
            row_loss[row] = 0.0f;
        return;
    }
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < V; i += blockDim.x)
        mx = fmaxf(mx, xent_in(lg + i));
    mx = kp_block_max(mx, sh);
    float sum = 0;
    for (int i = threadIdx.x; i < V; i += blockDim.x)
        sum += expf(xent_in(lg + i) - mx);
    sum = kp_block_sum(sum, sh);
    int tg = targets[row];
    float lt = xent_in(lg + tg); // read before the row is overwritten (grad may alias logits)
    __syncthreads();
    float inv = 1.0f / sum;
    for (int i = threadIdx.x; i < V; i += blockDim.x)
        kp_st(gr + i, km_xent_grad(xent_in(lg + i), mx, inv, i == tg, scale));
    if (threadIdx.x == 0) {
        if (row_loss) // deterministic: k_sum_rows adds them in a fixed order
            row_loss[row] = km_xent_loss(mx, sum, lt);
        else
            atomicAdd(loss_sum, km_xent_loss(mx, sum, lt));
    }
}

/* *out += x[0] + ... + x[n-1] in a fixed order (one block, fixed trees) */
__global__ void k_sum_rows(float *out, const float *x, int n) {
    __shared__ float sh[33];
    float acc = 0;
    for (int i = threadIdx.x; i < n; i += blockDim.x)
        acc += x[i];
    acc = kp_block_sum(acc, sh);
    if (threadIdx.x == 0)
        *out += acc;
}

/* ---- conversions ---- */

__global__ void k_f32_to_bf16(tkd_bf16 *y, const float *x, size_t n) {
    KP_FOR(i, n) kp_st(y + i, x[i]);
}
__global__ void k_bf16_to_f32(float *y, const tkd_bf16 *x, size_t n) {
    KP_FOR(i, n) y[i] = kp_ld(x + i);
}
__global__ void k_accum_bf16(float *y, const tkd_bf16 *x, float alpha, size_t n) {
    KP_FOR(i, n) y[i] += kp_ld(x + i) * alpha;
}

/* ---- sum of squares (deterministic: fixed partition, fixed trees, fp64 partials), clip, AdamW ---- */

#define SUMSQ_BLOCKS 1024

__global__ void k_sumsq_part(double *part, const float *g, size_t n) {
    __shared__ double sh[33];
    double acc = 0;
    KP_FOR(i, n) acc += (double)g[i] * g[i];
    acc = kp_block_sum(acc, sh);
    if (threadIdx.x == 0)
        part[blockIdx.x] = acc;
}

__global__ void k_sumsq_final(float *out, const double *part, unsigned nb) {
    __shared__ double sh[33];
    double acc = 0;
    for (unsigned i = threadIdx.x; i < nb; i += blockDim.x)
        acc += part[i];
    acc = kp_block_sum(acc, sh);
    if (threadIdx.x == 0)
        *out = (float)acc;
}

__global__ void k_clip(float *g, size_t n, const float *sumsq, float max_norm) {
    float coef = km_clip_coef(*sumsq, max_norm);
    if (coef >= 1.0f)
        return;
    KP_FOR(i, n) g[i] *= coef;
}

__global__ void k_adamw(float *p, tkd_bf16 *pbf, const float *g, float *m, float *v, size_t n, km_adamw_k k) {
    KP_FOR(i, n) {
        float pp = p[i], mm = m[i], vv = v[i];
        km_adamw_elem(&pp, g[i], &mm, &vv, &k);
        p[i] = pp;
        m[i] = mm;
        v[i] = vv;
        if (pbf)
            kp_st(pbf + i, pp);
    }
}

#endif
