/*
 * The elementwise and row kernels of the CUDA twin and their C launchers
 * (tkd_cuda.h, part 1): embedding, RMSNorm, positions, RoPE, SwiGLU, adds and
 * biases, LoRA dropout, chunked cross entropy, conversions, the gradient's
 * sum of squares, clipping and AdamW. Attention is in attn.cu. The math of
 * each element or row is in kern_math.cuh, shared with the host test
 * (tests/cuda/test_kern_host.cu) that checks it against src/model/ops.c.
 * bf16 in memory, fp32 in registers; statistics (norms, softmax, sums) fp32
 * or better.
 */
#include "kern_priv.cuh"

/* ---- embedding ---- */

__global__ void k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C) {
    size_t n = (size_t)N * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / C, c = i % C;
        out[i] = embed[(size_t)tokens[r] * C + c];
    }
}

extern "C" int tkd_k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C, tkd_stream_t s) {
    size_t n = (size_t)N * C;
    if (!n)
        return 0;
    k_embed_fwd<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(out, tokens, embed, N, C);
    return kp_launched();
}

__global__ void k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C) {
    size_t n = (size_t)N * C;
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        size_t r = i / C, c = i % C;
        atomicAdd(dembed + (size_t)tokens[r] * C + c, kp_ld(dout + i));
    }
}

extern "C" int tkd_k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C, tkd_stream_t s) {
    size_t n = (size_t)N * C;
    if (!n)
        return 0;
    k_embed_bwd<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(dembed, dout, tokens, N, C);
    return kp_launched();
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

extern "C" int tkd_k_rmsnorm_fwd(tkd_bf16 *out, float *rstd, const tkd_bf16 *x, const tkd_bf16 *w, int N, int C,
                                 float eps, tkd_stream_t s) {
    if (N <= 0)
        return 0;
    k_rmsnorm_fwd<<<(N + RMS_ROWS - 1) / RMS_ROWS, 32 * RMS_ROWS, 0, KP_STREAM(s)>>>(out, rstd, x, w, N, C, eps);
    return kp_launched();
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

/* dw[c] += sum_n dy*x*rstd: a block sums a column slice over a chunk of rows, one atomic per column */
#define COLSUM_ROWS 256
__global__ void k_rmsnorm_dw(float *dw, const tkd_bf16 *dout, const tkd_bf16 *x, const float *rstd, int N, int C) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, r0 = blockIdx.y * COLSUM_ROWS;
    if (c >= C)
        return;
    int r1 = min(N, r0 + COLSUM_ROWS);
    float acc = 0;
    for (int r = r0; r < r1; r++)
        acc += kp_ld(dout + (size_t)r * C + c) * kp_ld(x + (size_t)r * C + c) * rstd[r];
    atomicAdd(dw + c, acc);
}

extern "C" int tkd_k_rmsnorm_bwd(tkd_bf16 *dx, float *dw, const tkd_bf16 *dout, const tkd_bf16 *x, const tkd_bf16 *w,
                                 const float *rstd, int N, int C, int accumulate, tkd_stream_t s) {
    if (N <= 0)
        return 0;
    k_rmsnorm_bwd<<<(N + RMS_ROWS - 1) / RMS_ROWS, 32 * RMS_ROWS, 0, KP_STREAM(s)>>>(dx, dout, x, w, rstd, N, C,
                                                                                     accumulate);
    if (dw) {
        int e = kp_launched();
        if (e)
            return e;
        dim3 g((C + KP_THREADS - 1) / KP_THREADS, (N + COLSUM_ROWS - 1) / COLSUM_ROWS);
        k_rmsnorm_dw<<<g, KP_THREADS, 0, KP_STREAM(s)>>>(dw, dout, x, rstd, N, C);
    }
    return kp_launched();
}

/* ---- positions and RoPE ---- */

__global__ void k_positions(int *pos, const int *docstart, int B, int T) {
    int n = blockIdx.x * blockDim.x + threadIdx.x;
    if (n >= B * T)
        return;
    int t = n % T;
    pos[n] = t - (docstart ? docstart[n] : 0);
}

extern "C" int tkd_k_positions(int *pos, const int *docstart, int B, int T, tkd_stream_t s) {
    int n = B * T;
    if (n <= 0)
        return 0;
    k_positions<<<(n + KP_THREADS - 1) / KP_THREADS, KP_THREADS, 0, KP_STREAM(s)>>>(pos, docstart, B, T);
    return kp_launched();
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

extern "C" int tkd_k_rope(tkd_bf16 *x, const int *pos, int N, int nh, int D, double theta, int inverse,
                          tkd_stream_t s) {
    size_t n = (size_t)N * (D / 2);
    if (!n || nh <= 0)
        return 0;
    k_rope<<<(unsigned)((n + KP_THREADS - 1) / KP_THREADS), KP_THREADS, 0, KP_STREAM(s)>>>(x, pos, N, nh, D, theta,
                                                                                           inverse);
    return kp_launched();
}

/* ---- SwiGLU, adds, biases ---- */

#define KP_FOR(i, n)                                                                                                   \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

__global__ void k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n) {
    KP_FOR(i, n) kp_st(h + i, km_silu(kp_ld(g + i)) * kp_ld(u + i));
}

extern "C" int tkd_k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_swiglu_fwd<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(h, g, u, n);
    return kp_launched();
}

__global__ void k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u,
                             size_t n) {
    KP_FOR(i, n) {
        float a, b;
        km_swiglu_bwd(kp_ld(dh + i), kp_ld(g + i), kp_ld(u + i), &a, &b);
        kp_st(dg + i, a);
        kp_st(du + i, b);
    }
}

extern "C" int tkd_k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u,
                                size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_swiglu_bwd<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(dg, du, dh, g, u, n);
    return kp_launched();
}

__global__ void k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n) {
    KP_FOR(i, n) kp_st(y + i, kp_ld(a + i) + kp_ld(b + i));
}

extern "C" int tkd_k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_add<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, a, b, n);
    return kp_launched();
}

__global__ void k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC) {
    KP_FOR(i, (size_t)N * OC) kp_st(y + i, kp_ld(y + i) + kp_ld(bias + i % OC));
}

extern "C" int tkd_k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC, tkd_stream_t s) {
    size_t n = (size_t)N * OC;
    if (!n)
        return 0;
    k_bias_add<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, bias, N, OC);
    return kp_launched();
}

__global__ void k_bias_bwd(float *dbias, const tkd_bf16 *dy, int N, int OC) {
    int c = blockIdx.x * blockDim.x + threadIdx.x, r0 = blockIdx.y * COLSUM_ROWS;
    if (c >= OC)
        return;
    int r1 = min(N, r0 + COLSUM_ROWS);
    float acc = 0;
    for (int r = r0; r < r1; r++)
        acc += kp_ld(dy + (size_t)r * OC + c);
    atomicAdd(dbias + c, acc);
}

extern "C" int tkd_k_bias_bwd(float *dbias, const tkd_bf16 *dy, int N, int OC, tkd_stream_t s) {
    if (N <= 0 || OC <= 0)
        return 0;
    dim3 g((OC + KP_THREADS - 1) / KP_THREADS, (N + COLSUM_ROWS - 1) / COLSUM_ROWS);
    k_bias_bwd<<<g, KP_THREADS, 0, KP_STREAM(s)>>>(dbias, dy, N, OC);
    return kp_launched();
}

/* ---- LoRA dropout: the mask of op_dropout_keep, index i of the flat (N,IC) input ---- */

__global__ void k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p,
                          float keep_scale) {
    KP_FOR(i, n) kp_st(y + i, km_dropout_keep(seed, layer, t, i, p) ? kp_ld(x + i) * keep_scale : 0.0f);
}

extern "C" int tkd_k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p,
                             tkd_stream_t s) {
    if (!n)
        return 0;
    float keep_scale = (float)(1.0 / (1.0 - p)); // as qw_proj_fwd
    k_dropout<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, x, n, seed, layer, t, p, keep_scale);
    return kp_launched();
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
__global__ void k_xent(tkd_bf16 *grad, float *loss_sum, const TI *logits, const int *targets, const uint8_t *mask,
                       int V, float scale) {
    __shared__ float sh[33];
    size_t row = blockIdx.x;
    const TI *lg = logits + row * V;
    tkd_bf16 *gr = grad + row * V;
    if (!mask[row]) {
        for (int i = threadIdx.x; i < V; i += blockDim.x)
            gr[i] = 0;
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
    if (threadIdx.x == 0)
        atomicAdd(loss_sum, km_xent_loss(mx, sum, lt));
}

extern "C" int tkd_k_xent_chunk(tkd_bf16 *logits, float *loss_sum, const int *targets, const uint8_t *mask, int rows,
                                int V, float scale, tkd_stream_t s) {
    if (rows <= 0)
        return 0;
    k_xent<tkd_bf16><<<rows, XENT_THREADS, 0, KP_STREAM(s)>>>(logits, loss_sum, logits, targets, mask, V, scale);
    return kp_launched();
}

extern "C" int tkd_k_xent_chunk_f32(tkd_bf16 *dlogits, float *loss_sum, const float *logits, const int *targets,
                                    const uint8_t *mask, int rows, int V, float scale, tkd_stream_t s) {
    if (rows <= 0)
        return 0;
    k_xent<float><<<rows, XENT_THREADS, 0, KP_STREAM(s)>>>(dlogits, loss_sum, logits, targets, mask, V, scale);
    return kp_launched();
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

extern "C" int tkd_k_f32_to_bf16(tkd_bf16 *y, const float *x, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_f32_to_bf16<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, x, n);
    return kp_launched();
}
extern "C" int tkd_k_bf16_to_f32(float *y, const tkd_bf16 *x, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_bf16_to_f32<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, x, n);
    return kp_launched();
}
extern "C" int tkd_k_accum_bf16(float *y, const tkd_bf16 *x, float alpha, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    k_accum_bf16<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(y, x, alpha, n);
    return kp_launched();
}

/* ---- sum of squares (deterministic: fixed partition, fixed trees, fp64 partials), clip, AdamW ---- */

#define SUMSQ_BLOCKS 1024

static unsigned sumsq_blocks(size_t n) {
    size_t b = (n + KP_THREADS * 16 - 1) / (KP_THREADS * 16);
    return (unsigned)(b < 1 ? 1 : b > SUMSQ_BLOCKS ? SUMSQ_BLOCKS : b);
}

extern "C" size_t tkd_k_sumsq_scratch(size_t n) {
    return sumsq_blocks(n) * sizeof(double);
}

__global__ void k_sumsq_part(double *part, const float *g, size_t n) {
    __shared__ double sh[32];
    double acc = 0;
    KP_FOR(i, n) acc += (double)g[i] * g[i];
    acc = kp_warp_sum_d(acc);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0)
        sh[w] = acc;
    __syncthreads();
    if (w == 0) {
        double x = lane < (int)(blockDim.x >> 5) ? sh[lane] : 0.0;
        x = kp_warp_sum_d(x);
        if (lane == 0)
            part[blockIdx.x] = x;
    }
}

__global__ void k_sumsq_final(float *out, const double *part, unsigned nb) {
    __shared__ double sh[32];
    double acc = 0;
    for (unsigned i = threadIdx.x; i < nb; i += blockDim.x)
        acc += part[i];
    acc = kp_warp_sum_d(acc);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    if (lane == 0)
        sh[w] = acc;
    __syncthreads();
    if (w == 0) {
        double x = lane < (int)(blockDim.x >> 5) ? sh[lane] : 0.0;
        x = kp_warp_sum_d(x);
        if (lane == 0)
            *out = (float)x;
    }
}

extern "C" int tkd_k_sumsq(float *out, const float *g, size_t n, void *scratch, size_t scratch_bytes, tkd_stream_t s) {
    unsigned nb = sumsq_blocks(n);
    if (scratch_bytes < nb * sizeof(double))
        return (int)cudaErrorInvalidValue;
    k_sumsq_part<<<nb, KP_THREADS, 0, KP_STREAM(s)>>>((double *)scratch, g, n);
    int e = kp_launched();
    if (e)
        return e;
    k_sumsq_final<<<1, KP_THREADS, 0, KP_STREAM(s)>>>(out, (const double *)scratch, nb);
    return kp_launched();
}

__global__ void k_clip(float *g, size_t n, const float *sumsq, float max_norm) {
    float coef = km_clip_coef(*sumsq, max_norm);
    if (coef >= 1.0f)
        return;
    KP_FOR(i, n) g[i] *= coef;
}

extern "C" int tkd_k_clip(float *g, size_t n, const float *sumsq, float max_norm, tkd_stream_t s) {
    if (!n || max_norm <= 0)
        return 0;
    k_clip<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(g, n, sumsq, max_norm);
    return kp_launched();
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

extern "C" int tkd_k_adamw(float *p, tkd_bf16 *pbf, const float *g, float *m, float *v, size_t n, double lr,
                           double beta1, double beta2, double eps, double wd, long t, tkd_stream_t s) {
    if (!n)
        return 0;
    km_adamw_k k = km_adamw_consts(lr, beta1, beta2, eps, wd, t);
    k_adamw<<<kp_blocks(n), KP_THREADS, 0, KP_STREAM(s)>>>(p, pbf, g, m, v, n, k);
    return kp_launched();
}
