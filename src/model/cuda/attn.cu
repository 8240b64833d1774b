/*
 * Fused causal grouped-query attention with packing, flash style: no (T,T)
 * matrix, an online softmax over tiles of 32 keys, the row's logsumexp saved
 * for the backward, which recomputes the probabilities tile by tile (FA2's
 * split: one kernel for dQ over key tiles, one for dK and dV over query
 * tiles, no atomics, so the result is deterministic). Token t of a row
 * attends keys [docstart[t], t]; the CPU reference is op_attention_fwd/bwd
 * (ops.c), and the tile algorithm (masks, online softmax, lse, dS) is the
 * __host__ __device__ code of kern_math.cuh that tests/cuda/test_kern_host.cu
 * runs on the CPU against it.
 *
 * This first version computes on the CUDA cores in fp32 (bf16 tiles are
 * widened into shared memory): a warp owns 4 query rows (or 4 keys in the
 * dK/dV kernel), a lane owns one key of the tile for the scores and 1/32 of
 * the head dimension for the outputs. It is the correct baseline; tensor
 * cores (mma.sync m16n8k16 bf16) and the comparison with cuDNN's fused
 * attention (cudnn_frontend / backend API, which this toolkit ships) are
 * left to a session with a GPU, where they can be measured and checked.
 * The head dimension is a template bound DM (64, 128, 256); D <= DM is
 * zero-padded, so every D up to 256 runs (Qwen2.5: 64 and 128).
 */
#include "kern_priv.cuh"

#include <limits.h>

#define AT_WARPS 4
#define AT_ROWS 4                  /* query rows (or keys, in dK/dV) per warp */
#define AT_BR (AT_WARPS * AT_ROWS) /* ... per block */
#define AT_BC 32                   /* keys (or queries, in dK/dV) per tile: one per lane */
#define AT_THREADS (32 * AT_WARPS)

/* ---- forward ---- */

template <int DM>
__global__ void __launch_bounds__(AT_THREADS)
    k_attn_fwd(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart,
               int T, int H, int KV, int D, float scale) {
    constexpr int NC = DM / 32, KS = DM + 1; // padded rows: lane j reading K[j][d] hits bank (j+d)%32
    extern __shared__ float sm[];
    float *Ks = sm, *Vs = Ks + AT_BC * KS, *Qs = Vs + AT_BC * KS; // (BC,KS) (BC,KS) (BR,DM)
    __shared__ int s_lo[AT_BR];
    int b = blockIdx.z, h = blockIdx.y, kh = h / (H / KV), QC = H * D, KC = KV * D;
    int q0 = (gridDim.x - 1 - blockIdx.x) * AT_BR; // the longest rows first
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    for (int i = threadIdx.x; i < AT_BR * DM; i += AT_THREADS) {
        int r = i / DM, d = i % DM, t = q0 + r;
        Qs[i] = t < T && d < D ? kp_ld(q + ((size_t)b * T + t) * QC + h * D + d) : 0.0f;
    }
    if (threadIdx.x < AT_BR) {
        int t = q0 + threadIdx.x;
        s_lo[threadIdx.x] = t < T ? km_attn_lo(ds, t) : INT_MAX;
    }
    __syncthreads();
    int kmin = INT_MAX, kmax = min(T - 1, q0 + AT_BR - 1);
    for (int r = 0; r < AT_BR; r++)
        kmin = min(kmin, s_lo[r]);
    float m[AT_ROWS], l[AT_ROWS], o[AT_ROWS][NC];
    int tr[AT_ROWS], lor[AT_ROWS];
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++) {
        tr[rr] = q0 + warp * AT_ROWS + rr;
        lor[rr] = s_lo[warp * AT_ROWS + rr];
        m[rr] = -INFINITY;
        l[rr] = 0.0f;
#pragma unroll
        for (int c = 0; c < NC; c++)
            o[rr][c] = 0.0f;
    }
    const float *qw = Qs + warp * AT_ROWS * DM;
    for (int k0 = kmin / AT_BC * AT_BC; k0 <= kmax; k0 += AT_BC) {
        __syncthreads(); // the previous tile is consumed
        for (int i = threadIdx.x; i < AT_BC * DM; i += AT_THREADS) {
            int j = i / DM, d = i % DM, kj = k0 + j;
            int ok = kj < T && d < D;
            size_t off = ((size_t)b * T + kj) * KC + kh * D + d;
            Ks[j * KS + d] = ok ? kp_ld(k + off) : 0.0f;
            Vs[j * KS + d] = ok ? kp_ld(v + off) : 0.0f;
        }
        __syncthreads();
        float sc[AT_ROWS];
#pragma unroll
        for (int rr = 0; rr < AT_ROWS; rr++)
            sc[rr] = 0.0f;
        const float *kr = Ks + lane * KS;
        for (int d = 0; d < D; d++) {
            float kd = kr[d];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++)
                sc[rr] += qw[rr * DM + d] * kd;
        }
        int kj = k0 + lane;
#pragma unroll
        for (int rr = 0; rr < AT_ROWS; rr++) {
            int ok = tr[rr] < T && kj >= lor[rr] && kj <= tr[rr];
            float s = ok ? sc[rr] * scale : -INFINITY;
            float mt = kp_warp_max(s); // warp-uniform
            if (mt == -INFINITY) {
                sc[rr] = 0.0f;
                continue;
            }
            float alpha = km_online_max(&m[rr], mt);
            float p = ok ? expf(s - m[rr]) : 0.0f;
            l[rr] = l[rr] * alpha + kp_warp_sum(p);
#pragma unroll
            for (int c = 0; c < NC; c++)
                o[rr][c] *= alpha;
            sc[rr] = p;
        }
        for (int j = 0; j < AT_BC; j++) {
            float vv[NC];
#pragma unroll
            for (int c = 0; c < NC; c++)
                vv[c] = Vs[j * KS + lane + 32 * c];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++) {
                float p = __shfl_sync(KP_FULL, sc[rr], j);
#pragma unroll
                for (int c = 0; c < NC; c++)
                    o[rr][c] += p * vv[c];
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++) {
        int t = tr[rr];
        if (t >= T)
            continue;
        float inv = 1.0f / l[rr];
        tkd_bf16 *orow = out + ((size_t)b * T + t) * QC + h * D;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + 32 * c;
            if (d < D)
                kp_st(orow + d, o[rr][c] * inv);
        }
        if (lane == 0)
            lse[((size_t)b * H + h) * T + t] = km_lse(m[rr], l[rr]);
    }
}

/* ---- backward: Dt = rowsum(dO * O), then dQ, then dK and dV ---- */

__global__ void k_attn_dt(float *Dt, const tkd_bf16 *dout, const tkd_bf16 *out, int B, int T, int H, int D) {
    size_t wid = (blockIdx.x * (size_t)blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (wid >= (size_t)B * T * H)
        return;
    size_t n = wid / H; // token b*T+t
    int h = (int)(wid % H);
    const tkd_bf16 *a = dout + n * H * D + h * D, *o = out + n * H * D + h * D;
    float acc = 0;
    for (int d = lane; d < D; d += 32)
        acc += kp_ld(a + d) * kp_ld(o + d);
    acc = kp_warp_sum(acc);
    if (lane == 0) {
        size_t b = n / T, t = n % T;
        Dt[(b * H + h) * T + t] = acc;
    }
}

template <int DM>
__global__ void __launch_bounds__(AT_THREADS)
    k_attn_bwd_dq(tkd_bf16 *dq, const tkd_bf16 *dout, const float *lse, const float *Dt, const tkd_bf16 *q,
                  const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int T, int H, int KV, int D, float scale) {
    constexpr int NC = DM / 32, KS = DM + 1;
    extern __shared__ float sm[];
    float *Ks = sm, *Vs = Ks + AT_BC * KS, *Qs = Vs + AT_BC * KS, *Os = Qs + AT_BR * DM; // Os: dO rows
    __shared__ int s_lo[AT_BR];
    int b = blockIdx.z, h = blockIdx.y, kh = h / (H / KV), QC = H * D, KC = KV * D;
    int q0 = (gridDim.x - 1 - blockIdx.x) * AT_BR;
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    for (int i = threadIdx.x; i < AT_BR * DM; i += AT_THREADS) {
        int r = i / DM, d = i % DM, t = q0 + r;
        size_t off = ((size_t)b * T + t) * QC + h * D + d;
        int ok = t < T && d < D;
        Qs[i] = ok ? kp_ld(q + off) : 0.0f;
        Os[i] = ok ? kp_ld(dout + off) : 0.0f;
    }
    if (threadIdx.x < AT_BR) {
        int t = q0 + threadIdx.x;
        s_lo[threadIdx.x] = t < T ? km_attn_lo(ds, t) : INT_MAX;
    }
    __syncthreads();
    int kmin = INT_MAX, kmax = min(T - 1, q0 + AT_BR - 1);
    for (int r = 0; r < AT_BR; r++)
        kmin = min(kmin, s_lo[r]);
    float acc[AT_ROWS][NC], lr[AT_ROWS], dr[AT_ROWS];
    int tr[AT_ROWS], lor[AT_ROWS];
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++) {
        int t = tr[rr] = q0 + warp * AT_ROWS + rr;
        lor[rr] = s_lo[warp * AT_ROWS + rr];
        size_t cell = ((size_t)b * H + h) * T + (t < T ? t : 0);
        lr[rr] = lse[cell];
        dr[rr] = Dt[cell];
#pragma unroll
        for (int c = 0; c < NC; c++)
            acc[rr][c] = 0.0f;
    }
    const float *qw = Qs + warp * AT_ROWS * DM, *ow = Os + warp * AT_ROWS * DM;
    for (int k0 = kmin / AT_BC * AT_BC; k0 <= kmax; k0 += AT_BC) {
        __syncthreads();
        for (int i = threadIdx.x; i < AT_BC * DM; i += AT_THREADS) {
            int j = i / DM, d = i % DM, kj = k0 + j;
            int ok = kj < T && d < D;
            size_t off = ((size_t)b * T + kj) * KC + kh * D + d;
            Ks[j * KS + d] = ok ? kp_ld(k + off) : 0.0f;
            Vs[j * KS + d] = ok ? kp_ld(v + off) : 0.0f;
        }
        __syncthreads();
        float sc[AT_ROWS], dp[AT_ROWS];
#pragma unroll
        for (int rr = 0; rr < AT_ROWS; rr++)
            sc[rr] = dp[rr] = 0.0f;
        const float *kr = Ks + lane * KS, *vr = Vs + lane * KS;
        for (int d = 0; d < D; d++) {
            float kd = kr[d], vd = vr[d];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++) {
                sc[rr] += qw[rr * DM + d] * kd;
                dp[rr] += ow[rr * DM + d] * vd;
            }
        }
        int kj = k0 + lane;
#pragma unroll
        for (int rr = 0; rr < AT_ROWS; rr++) {
            int ok = tr[rr] < T && kj >= lor[rr] && kj <= tr[rr];
            sc[rr] = ok ? km_attn_ds(km_attn_p(sc[rr] * scale, lr[rr]), dp[rr], dr[rr]) : 0.0f; // dS
        }
        for (int j = 0; j < AT_BC; j++) {
            float kv[NC];
#pragma unroll
            for (int c = 0; c < NC; c++)
                kv[c] = Ks[j * KS + lane + 32 * c];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++) {
                float g = __shfl_sync(KP_FULL, sc[rr], j);
#pragma unroll
                for (int c = 0; c < NC; c++)
                    acc[rr][c] += g * kv[c];
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++) {
        int t = tr[rr];
        if (t >= T)
            continue;
        tkd_bf16 *row = dq + ((size_t)b * T + t) * QC + h * D;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + 32 * c;
            if (d < D)
                kp_st(row + d, acc[rr][c] * scale);
        }
    }
}

/* a block owns 16 keys of KV head kh; it walks the queries of the G heads that share it */
template <int DM>
__global__ void __launch_bounds__(AT_THREADS)
    k_attn_bwd_dkv(tkd_bf16 *dk, tkd_bf16 *dv, const tkd_bf16 *dout, const float *lse, const float *Dt,
                   const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int T, int H, int KV,
                   int D, float scale) {
    constexpr int NC = DM / 32, KS = DM + 1;
    extern __shared__ float sm[];
    float *Qs = sm, *Os = Qs + AT_BC * KS, *Kr = Os + AT_BC * KS, *Vr = Kr + AT_BR * DM;
    int b = blockIdx.z, kh = blockIdx.y, G = H / KV, QC = H * D, KC = KV * D;
    int j0 = blockIdx.x * AT_BR; // the keys with the most queries first
    int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    for (int i = threadIdx.x; i < AT_BR * DM; i += AT_THREADS) {
        int r = i / DM, d = i % DM, j = j0 + r;
        size_t off = ((size_t)b * T + j) * KC + kh * D + d;
        int ok = j < T && d < D;
        Kr[i] = ok ? kp_ld(k + off) : 0.0f;
        Vr[i] = ok ? kp_ld(v + off) : 0.0f;
    }
    int kmax = min(T - 1, j0 + AT_BR - 1);
    float ak[AT_ROWS][NC], av[AT_ROWS][NC];
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++)
#pragma unroll
        for (int c = 0; c < NC; c++)
            ak[rr][c] = av[rr][c] = 0.0f;
    const float *kw = Kr + warp * AT_ROWS * DM, *vw = Vr + warp * AT_ROWS * DM;
    for (int hh = 0; hh < G; hh++) {
        int h = kh * G + hh;
        for (int q0 = j0 / AT_BC * AT_BC; q0 < T; q0 += AT_BC) {
            int it = q0 + (int)threadIdx.x;
            int any = threadIdx.x < AT_BC && it < T && it >= j0 && km_attn_lo(ds, it) <= kmax;
            if (!__syncthreads_or(any)) // also the barrier before the tile is overwritten
                continue;
            for (int i = threadIdx.x; i < AT_BC * DM; i += AT_THREADS) {
                int r = i / DM, d = i % DM, t = q0 + r;
                size_t off = ((size_t)b * T + t) * QC + h * D + d;
                int ok = t < T && d < D;
                Qs[r * KS + d] = ok ? kp_ld(q + off) : 0.0f;
                Os[r * KS + d] = ok ? kp_ld(dout + off) : 0.0f;
            }
            __syncthreads();
            int i = q0 + lane, lo = i < T ? km_attn_lo(ds, i) : INT_MAX;
            size_t cell = ((size_t)b * H + h) * T + (i < T ? i : 0);
            float li = lse[cell], di = Dt[cell];
            float sc[AT_ROWS], dp[AT_ROWS];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++)
                sc[rr] = dp[rr] = 0.0f;
            const float *qr = Qs + lane * KS, *orow = Os + lane * KS;
            for (int d = 0; d < D; d++) {
                float qd = qr[d], od = orow[d];
#pragma unroll
                for (int rr = 0; rr < AT_ROWS; rr++) {
                    sc[rr] += qd * kw[rr * DM + d];
                    dp[rr] += od * vw[rr * DM + d];
                }
            }
            float p[AT_ROWS];
#pragma unroll
            for (int rr = 0; rr < AT_ROWS; rr++) {
                int j = j0 + warp * AT_ROWS + rr;
                int ok = i < T && j < T && j >= lo && j <= i;
                p[rr] = ok ? km_attn_p(sc[rr] * scale, li) : 0.0f;
                sc[rr] = ok ? km_attn_ds(p[rr], dp[rr], di) : 0.0f; // dS
            }
            for (int ii = 0; ii < AT_BC; ii++) {
                float qv[NC], ov[NC];
#pragma unroll
                for (int c = 0; c < NC; c++) {
                    qv[c] = Qs[ii * KS + lane + 32 * c];
                    ov[c] = Os[ii * KS + lane + 32 * c];
                }
#pragma unroll
                for (int rr = 0; rr < AT_ROWS; rr++) {
                    float pv = __shfl_sync(KP_FULL, p[rr], ii), gv = __shfl_sync(KP_FULL, sc[rr], ii);
#pragma unroll
                    for (int c = 0; c < NC; c++) {
                        av[rr][c] += pv * ov[c];
                        ak[rr][c] += gv * qv[c];
                    }
                }
            }
        }
    }
#pragma unroll
    for (int rr = 0; rr < AT_ROWS; rr++) {
        int j = j0 + warp * AT_ROWS + rr;
        if (j >= T)
            continue;
        size_t off = ((size_t)b * T + j) * KC + kh * D;
#pragma unroll
        for (int c = 0; c < NC; c++) {
            int d = lane + 32 * c;
            if (d < D) {
                kp_st(dk + off + d, ak[rr][c] * scale);
                kp_st(dv + off + d, av[rr][c]);
            }
        }
    }
}

/* ---- launchers: the head dimension picks the template bound ---- */

static int attn_check(int B, int T, int H, int KV, int D) {
    if (B <= 0 || T <= 0 || H <= 0 || KV <= 0 || H % KV || D <= 0 || D > 256)
        return (int)cudaErrorInvalidValue;
    return 0;
}

template <int DM>
static int attn_fwd_launch(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                           const int *docstart, int B, int T, int H, int KV, int D, cudaStream_t st) {
    size_t bytes = (2 * AT_BC * (DM + 1) + AT_BR * DM) * sizeof(float);
    cudaError_t e = cudaFuncSetAttribute(k_attn_fwd<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e)
        return (int)e;
    dim3 g((T + AT_BR - 1) / AT_BR, H, B);
    k_attn_fwd<DM><<<g, AT_THREADS, bytes, st>>>(out, lse, q, k, v, docstart, T, H, KV, D, 1.0f / sqrtf((float)D));
    return kp_launched();
}

extern "C" int tkd_k_attn_fwd(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                              const int *docstart, int B, int T, int H, int KV, int D, tkd_stream_t s) {
    int e = attn_check(B, T, H, KV, D);
    if (e)
        return e;
    if (D <= 64)
        return attn_fwd_launch<64>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    if (D <= 128)
        return attn_fwd_launch<128>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    return attn_fwd_launch<256>(out, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
}

extern "C" size_t tkd_k_attn_bwd_scratch(int B, int T, int H, int KV, int D) {
    (void)KV;
    (void)D;
    return (size_t)B * H * T * sizeof(float); // Dt (B,H,T)
}

template <int DM>
static int attn_bwd_launch(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, float *Dt, const tkd_bf16 *dout, const float *lse,
                           const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int B, int T,
                           int H, int KV, int D, cudaStream_t st) {
    float scale = 1.0f / sqrtf((float)D);
    size_t bytes = (2 * AT_BC * (DM + 1) + 2 * AT_BR * DM) * sizeof(float); // both kernels
    cudaError_t e = cudaFuncSetAttribute(k_attn_bwd_dq<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (!e)
        e = cudaFuncSetAttribute(k_attn_bwd_dkv<DM>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)bytes);
    if (e)
        return (int)e;
    dim3 gq((T + AT_BR - 1) / AT_BR, H, B), gk((T + AT_BR - 1) / AT_BR, KV, B);
    k_attn_bwd_dq<DM><<<gq, AT_THREADS, bytes, st>>>(dq, dout, lse, Dt, q, k, v, docstart, T, H, KV, D, scale);
    int r = kp_launched();
    if (r)
        return r;
    k_attn_bwd_dkv<DM><<<gk, AT_THREADS, bytes, st>>>(dk, dv, dout, lse, Dt, q, k, v, docstart, T, H, KV, D, scale);
    return kp_launched();
}

extern "C" int tkd_k_attn_bwd(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, void *scratch, const tkd_bf16 *dout,
                              const tkd_bf16 *out, const float *lse, const tkd_bf16 *q, const tkd_bf16 *k,
                              const tkd_bf16 *v, const int *docstart, int B, int T, int H, int KV, int D,
                              tkd_stream_t s) {
    int e = attn_check(B, T, H, KV, D);
    if (e)
        return e;
    float *Dt = (float *)scratch;
    size_t warps = (size_t)B * T * H;
    k_attn_dt<<<(unsigned)((warps * 32 + KP_THREADS - 1) / KP_THREADS), KP_THREADS, 0, KP_STREAM(s)>>>(Dt, dout, out, B,
                                                                                                       T, H, D);
    if ((e = kp_launched()))
        return e;
    if (D <= 64)
        return attn_bwd_launch<64>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    if (D <= 128)
        return attn_bwd_launch<128>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
    return attn_bwd_launch<256>(dq, dk, dv, Dt, dout, lse, q, k, v, docstart, B, T, H, KV, D, KP_STREAM(s));
}
