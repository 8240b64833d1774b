/*
 * The attention kernels on the tensor cores (mma.m16n8k16, bf16 in, fp32
 * accumulation), FlashAttention-2's scheme: a warp owns 16 rows (queries, or
 * keys in dK/dV), a block 64, the inner tile is 32 keys (or queries). Two
 * warp-level products cover all three kernels:
 *   mm_xyT  C (16 x 8NT) += X (16 x DM) Y^T        X, Y rows in shared memory
 *   mm_py   O (16 x DM)  += P (16 x 8NT, C layout) Y  Y rows (8NT x DM) in shared memory
 * forward: S = Q K^T, online softmax, O += P V;
 * dQ:      S = Q K^T, dP = dO V^T, dS = P (dP - Dt), dQ += dS K;
 * dK, dV:  S^T = K Q^T, dP^T = V dO^T, dV += P^T dO, dK += dS^T Q.
 * P and dS are rounded to bf16 for their product, as FlashAttention does.
 * Shared-memory rows are bf16 with a stride of DM + 8 elements, so the
 * fragment loads of a warp hit 32 different banks. Device code only:
 * included by attn.cu and by the CPU emulator's test (tests/cuda/kern_emu.h
 * implements kp_mma from the PTX ISA's fragment layout). Head sizes up to
 * 128 (DM 64 or 128, zero-padded); larger ones use attn_dev.cuh's kernels.
 */
#ifndef TKD_ATTN_MMA_DEV_CUH
#define TKD_ATTN_MMA_DEV_CUH

#include "kern_priv.cuh"

#include <limits.h>

#define MM_WARPS 4
#define MM_BR 64 /* rows of a block: 16 per warp */
#define MM_BC 32 /* inner tile */
#define MM_NT (MM_BC / 8)
#define MM_THREADS (32 * MM_WARPS)

__device__ __forceinline__ uint32_t mm_pack(float lo, float hi) {
    return (uint32_t)km_f32_to_bf16(lo) | (uint32_t)km_f32_to_bf16(hi) << 16;
}
__device__ __forceinline__ uint32_t mm_ld2(const uint16_t *p) { // two adjacent bf16, 4-byte aligned
#ifdef TKD_KERN_EMU
    uint32_t u; // no type punning for g++'s aliasing rules
    memcpy(&u, p, 4);
    return u;
#else
    return *(const uint32_t *)p;
#endif
}
__device__ __forceinline__ uint32_t mm_ld2s(const uint16_t *lo, const uint16_t *hi) {
    return (uint32_t)*lo | (uint32_t)*hi << 16;
}

/* c[nt] (16 x 8 each) += X (the warp's 16 rows) . Y (rows nt*8 .. nt*8+7) over k < DM */
template <int NT, int DM> __device__ __forceinline__ void mm_xyT(float (*c)[4], const uint16_t *X, const uint16_t *Y) {
    constexpr int SS = DM + 8;
    int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int k0 = 0; k0 < DM; k0 += 16) {
        uint32_t a[4];
        a[0] = mm_ld2(X + g * SS + k0 + 2 * t);
        a[1] = mm_ld2(X + (g + 8) * SS + k0 + 2 * t);
        a[2] = mm_ld2(X + g * SS + k0 + 8 + 2 * t);
        a[3] = mm_ld2(X + (g + 8) * SS + k0 + 8 + 2 * t);
#pragma unroll
        for (int nt = 0; nt < NT; nt++) {
            uint32_t b[2];
            b[0] = mm_ld2(Y + (nt * 8 + g) * SS + k0 + 2 * t);
            b[1] = mm_ld2(Y + (nt * 8 + g) * SS + k0 + 8 + 2 * t);
            kp_mma(c[nt], a, b);
        }
    }
}

/* o[dt] (16 x 8 each, dt < DM/8) += P (16 x 8NT, fragments p[nt] in the C layout) . Y (8NT rows x DM) */
template <int NT, int DM> __device__ __forceinline__ void mm_py(float (*o)[4], const float (*p)[4], const uint16_t *Y) {
    constexpr int SS = DM + 8;
    int lane = threadIdx.x & 31, g = lane >> 2, t = lane & 3;
#pragma unroll
    for (int kk = 0; kk < NT / 2; kk++) {
        // the C fragments of n-tiles 2kk and 2kk+1 are the A fragment of k-step kk
        uint32_t a[4] = {mm_pack(p[2 * kk][0], p[2 * kk][1]), mm_pack(p[2 * kk][2], p[2 * kk][3]),
                         mm_pack(p[2 * kk + 1][0], p[2 * kk + 1][1]), mm_pack(p[2 * kk + 1][2], p[2 * kk + 1][3])};
        const uint16_t *y = Y + (kk * 16 + 2 * t) * SS + g;
#pragma unroll
        for (int dt = 0; dt < DM / 8; dt++) {
            uint32_t b[2];
            b[0] = mm_ld2s(y + dt * 8, y + SS + dt * 8);
            b[1] = mm_ld2s(y + 8 * SS + dt * 8, y + 9 * SS + dt * 8);
            kp_mma(o[dt], a, b);
        }
    }
}

/* rows [r0, r0+n) of a (.., ld) bf16 matrix, columns [0, D), into shared rows of DM (+8) zero-padded;
 * 16-byte loads when D, ld and the source allow (always at Qwen's shapes), else one element at a time */
template <int DM>
__device__ __forceinline__ void mm_load(uint16_t *dst, const tkd_bf16 *src, size_t ld, int r0, int n, int T, int D) {
    constexpr int SS = DM + 8;
    if (!(D & 7) && !(ld & 7) && !((uintptr_t)src & 15)) {
        for (int i = threadIdx.x; i < n * (DM / 8); i += MM_THREADS) {
            int r = i / (DM / 8), d = i % (DM / 8) * 8, t = r0 + r;
            uint4 v = {0, 0, 0, 0};
            if (t < T && d < D)
                v = *(const uint4 *)(src + (size_t)t * ld + d);
            *(uint4 *)(dst + r * SS + d) = v;
        }
        return;
    }
    for (int i = threadIdx.x; i < n * DM; i += MM_THREADS) {
        int r = i / DM, d = i % DM, t = r0 + r;
        dst[r * SS + d] = t < T && d < D ? src[(size_t)t * ld + d] : (uint16_t)0;
    }
}

/* element e of n-tile nt of a C fragment: row g (+8 for e >= 2), column nt*8 + 2t + (e & 1) */
#define MM_ROW(e) ((int)((threadIdx.x & 31) >> 2) + ((e) >= 2 ? 8 : 0))
#define MM_COL(nt, e) ((nt)*8 + 2 * (int)(threadIdx.x & 3) + ((e)&1))

template <int DM>
__global__ void __launch_bounds__(MM_THREADS)
    k_attn_fwd_mma(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                   const int *docstart, int T, int H, int KV, int D, float scale) {
    constexpr int SS = DM + 8, DT = DM / 8;
    KP_DYN_SMEM(smf);
    uint16_t *Qs = (uint16_t *)smf, *Ks = Qs + MM_BR * SS, *Vs = Ks + MM_BC * SS;
    __shared__ int s_lo[MM_BR];
    int b = blockIdx.z, h = blockIdx.y, kh = h / (H / KV), QC = H * D, KC = KV * D;
    int q0 = (gridDim.x - 1 - blockIdx.x) * MM_BR, warp = threadIdx.x >> 5;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    mm_load<DM>(Qs, q + (size_t)b * T * QC + h * D, QC, q0, MM_BR, T, D);
    if (threadIdx.x < MM_BR) {
        int t = q0 + threadIdx.x;
        s_lo[threadIdx.x] = t < T ? km_attn_lo(ds, t) : INT_MAX;
    }
    __syncthreads();
    int kmin = INT_MAX, kmax = min(T - 1, q0 + MM_BR - 1);
    for (int r = 0; r < MM_BR; r++)
        kmin = min(kmin, s_lo[r]);
    int wr = warp * 16, tr[2], lor[2];
    float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.0f, 0.0f}, o[DT][4];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        tr[i] = q0 + wr + MM_ROW(2 * i);
        lor[i] = s_lo[wr + MM_ROW(2 * i)];
    }
#pragma unroll
    for (int dt = 0; dt < DT; dt++)
        o[dt][0] = o[dt][1] = o[dt][2] = o[dt][3] = 0.0f;
    for (int k0 = kmin / MM_BC * MM_BC; k0 <= kmax; k0 += MM_BC) {
        __syncthreads();
        mm_load<DM>(Ks, k + (size_t)b * T * KC + kh * D, KC, k0, MM_BC, T, D);
        mm_load<DM>(Vs, v + (size_t)b * T * KC + kh * D, KC, k0, MM_BC, T, D);
        __syncthreads();
        float s[MM_NT][4];
#pragma unroll
        for (int nt = 0; nt < MM_NT; nt++)
            s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.0f;
        mm_xyT<MM_NT, DM>(s, Qs + wr * SS, Ks);
        float mt[2] = {-INFINITY, -INFINITY};
#pragma unroll
        for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int i = e >> 1, kj = k0 + MM_COL(nt, e);
                int ok = tr[i] < T && kj >= lor[i] && kj <= tr[i];
                s[nt][e] = ok ? s[nt][e] * scale : -INFINITY;
                mt[i] = fmaxf(mt[i], s[nt][e]);
            }
        float alpha[2], ps[2] = {0.0f, 0.0f};
#pragma unroll
        for (int i = 0; i < 2; i++) { // the row is spread over the 4 lanes of a quad
            mt[i] = fmaxf(mt[i], __shfl_xor_sync(KP_FULL, mt[i], 1));
            mt[i] = fmaxf(mt[i], __shfl_xor_sync(KP_FULL, mt[i], 2));
            alpha[i] = km_online_max(&m[i], mt[i]);
        }
#pragma unroll
        for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int i = e >> 1;
                s[nt][e] = s[nt][e] == -INFINITY ? 0.0f : expf(s[nt][e] - m[i]);
                ps[i] += s[nt][e];
            }
#pragma unroll
        for (int i = 0; i < 2; i++) {
            ps[i] += __shfl_xor_sync(KP_FULL, ps[i], 1);
            ps[i] += __shfl_xor_sync(KP_FULL, ps[i], 2);
            l[i] = l[i] * alpha[i] + ps[i];
        }
#pragma unroll
        for (int dt = 0; dt < DT; dt++) {
            o[dt][0] *= alpha[0], o[dt][1] *= alpha[0];
            o[dt][2] *= alpha[1], o[dt][3] *= alpha[1];
        }
        mm_py<MM_NT, DM>(o, s, Vs);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (tr[i] >= T)
            continue;
        float inv = 1.0f / l[i];
        tkd_bf16 *row = out + ((size_t)b * T + tr[i]) * QC + h * D;
#pragma unroll
        for (int dt = 0; dt < DT; dt++)
#pragma unroll
            for (int e = 2 * i; e < 2 * i + 2; e++) {
                int d = MM_COL(dt, e);
                if (d < D)
                    kp_st(row + d, o[dt][e] * inv);
            }
        if ((threadIdx.x & 3) == 0)
            lse[((size_t)b * H + h) * T + tr[i]] = km_lse(m[i], l[i]);
    }
}

template <int DM>
__global__ void __launch_bounds__(MM_THREADS)
    k_attn_bwd_dq_mma(tkd_bf16 *dq, const tkd_bf16 *dout, const float *lse, const float *Dt, const tkd_bf16 *q,
                      const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int T, int H, int KV, int D,
                      float scale) {
    constexpr int SS = DM + 8, DT = DM / 8;
    KP_DYN_SMEM(smf);
    uint16_t *Qs = (uint16_t *)smf, *Os = Qs + MM_BR * SS, *Ks = Os + MM_BR * SS, *Vs = Ks + MM_BC * SS;
    __shared__ int s_lo[MM_BR];
    int b = blockIdx.z, h = blockIdx.y, kh = h / (H / KV), QC = H * D, KC = KV * D;
    int q0 = (gridDim.x - 1 - blockIdx.x) * MM_BR, warp = threadIdx.x >> 5;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    mm_load<DM>(Qs, q + (size_t)b * T * QC + h * D, QC, q0, MM_BR, T, D);
    mm_load<DM>(Os, dout + (size_t)b * T * QC + h * D, QC, q0, MM_BR, T, D);
    if (threadIdx.x < MM_BR) {
        int t = q0 + threadIdx.x;
        s_lo[threadIdx.x] = t < T ? km_attn_lo(ds, t) : INT_MAX;
    }
    __syncthreads();
    int kmin = INT_MAX, kmax = min(T - 1, q0 + MM_BR - 1);
    for (int r = 0; r < MM_BR; r++)
        kmin = min(kmin, s_lo[r]);
    int wr = warp * 16, tr[2], lor[2];
    float lr[2], dr[2], acc[DT][4];
#pragma unroll
    for (int i = 0; i < 2; i++) {
        int t = tr[i] = q0 + wr + MM_ROW(2 * i);
        lor[i] = s_lo[wr + MM_ROW(2 * i)];
        size_t cell = ((size_t)b * H + h) * T + (t < T ? t : 0);
        lr[i] = lse[cell];
        dr[i] = Dt[cell];
    }
#pragma unroll
    for (int dt = 0; dt < DT; dt++)
        acc[dt][0] = acc[dt][1] = acc[dt][2] = acc[dt][3] = 0.0f;
    for (int k0 = kmin / MM_BC * MM_BC; k0 <= kmax; k0 += MM_BC) {
        __syncthreads();
        mm_load<DM>(Ks, k + (size_t)b * T * KC + kh * D, KC, k0, MM_BC, T, D);
        mm_load<DM>(Vs, v + (size_t)b * T * KC + kh * D, KC, k0, MM_BC, T, D);
        __syncthreads();
        float s[MM_NT][4], dp[MM_NT][4];
#pragma unroll
        for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++)
                s[nt][e] = dp[nt][e] = 0.0f;
        mm_xyT<MM_NT, DM>(s, Qs + wr * SS, Ks);
        mm_xyT<MM_NT, DM>(dp, Os + wr * SS, Vs);
#pragma unroll
        for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
            for (int e = 0; e < 4; e++) {
                int i = e >> 1, kj = k0 + MM_COL(nt, e);
                int ok = tr[i] < T && kj >= lor[i] && kj <= tr[i];
                s[nt][e] = ok ? km_attn_ds(km_attn_p(s[nt][e] * scale, lr[i]), dp[nt][e], dr[i]) : 0.0f; // dS
            }
        mm_py<MM_NT, DM>(acc, s, Ks);
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        if (tr[i] >= T)
            continue;
        tkd_bf16 *row = dq + ((size_t)b * T + tr[i]) * QC + h * D;
#pragma unroll
        for (int dt = 0; dt < DT; dt++)
#pragma unroll
            for (int e = 2 * i; e < 2 * i + 2; e++) {
                int d = MM_COL(dt, e);
                if (d < D)
                    kp_st(row + d, acc[dt][e] * scale);
            }
    }
}

/* a block owns 64 keys of KV head kh (16 per warp) and walks the queries of the G heads sharing it */
template <int DM>
__global__ void __launch_bounds__(MM_THREADS)
    k_attn_bwd_dkv_mma(tkd_bf16 *dk, tkd_bf16 *dv, const tkd_bf16 *dout, const float *lse, const float *Dt,
                       const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart, int T, int H,
                       int KV, int D, float scale) {
    constexpr int SS = DM + 8, DT = DM / 8;
    KP_DYN_SMEM(smf);
    uint16_t *Ks = (uint16_t *)smf, *Vs = Ks + MM_BR * SS, *Qs = Vs + MM_BR * SS, *Os = Qs + MM_BC * SS;
    __shared__ int s_lo[MM_BC];
    __shared__ float s_lse[MM_BC], s_dt[MM_BC];
    int b = blockIdx.z, kh = blockIdx.y, G = H / KV, QC = H * D, KC = KV * D;
    int j0 = blockIdx.x * MM_BR, warp = threadIdx.x >> 5, wr = warp * 16;
    const int *ds = docstart ? docstart + (size_t)b * T : NULL;
    mm_load<DM>(Ks, k + (size_t)b * T * KC + kh * D, KC, j0, MM_BR, T, D);
    mm_load<DM>(Vs, v + (size_t)b * T * KC + kh * D, KC, j0, MM_BR, T, D);
    int kmax = min(T - 1, j0 + MM_BR - 1), jr[2] = {j0 + wr + MM_ROW(0), j0 + wr + MM_ROW(2)};
    float ak[DT][4], av[DT][4];
#pragma unroll
    for (int dt = 0; dt < DT; dt++)
#pragma unroll
        for (int e = 0; e < 4; e++)
            ak[dt][e] = av[dt][e] = 0.0f;
    for (int hh = 0; hh < G; hh++) {
        int h = kh * G + hh;
        for (int q0 = j0 / MM_BC * MM_BC; q0 < T; q0 += MM_BC) {
            int it = q0 + (int)threadIdx.x;
            int any = threadIdx.x < MM_BC && it < T && it >= j0 && km_attn_lo(ds, it) <= kmax;
            if (!__syncthreads_or(any)) // also the barrier before the tile is overwritten
                continue;
            mm_load<DM>(Qs, q + (size_t)b * T * QC + h * D, QC, q0, MM_BC, T, D);
            mm_load<DM>(Os, dout + (size_t)b * T * QC + h * D, QC, q0, MM_BC, T, D);
            if (threadIdx.x < MM_BC) {
                size_t cell = ((size_t)b * H + h) * T + (it < T ? it : 0);
                s_lo[threadIdx.x] = it < T ? km_attn_lo(ds, it) : INT_MAX;
                s_lse[threadIdx.x] = lse[cell];
                s_dt[threadIdx.x] = Dt[cell];
            }
            __syncthreads();
            float st[MM_NT][4], dpt[MM_NT][4];
#pragma unroll
            for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++)
                    st[nt][e] = dpt[nt][e] = 0.0f;
            mm_xyT<MM_NT, DM>(st, Ks + wr * SS, Qs);  // S^T (keys x queries)
            mm_xyT<MM_NT, DM>(dpt, Vs + wr * SS, Os); // dP^T
#pragma unroll
            for (int nt = 0; nt < MM_NT; nt++)
#pragma unroll
                for (int e = 0; e < 4; e++) {
                    int c = MM_COL(nt, e), i = q0 + c, j = jr[e >> 1];
                    int ok = i < T && j < T && j >= s_lo[c] && j <= i;
                    float p = ok ? km_attn_p(st[nt][e] * scale, s_lse[c]) : 0.0f;
                    dpt[nt][e] = ok ? km_attn_ds(p, dpt[nt][e], s_dt[c]) : 0.0f; // dS^T
                    st[nt][e] = p;                                               // P^T
                }
            mm_py<MM_NT, DM>(av, st, Os);  // dV += P^T dO
            mm_py<MM_NT, DM>(ak, dpt, Qs); // dK += dS^T Q
        }
    }
#pragma unroll
    for (int i = 0; i < 2; i++) {
        int j = jr[i];
        if (j >= T)
            continue;
        size_t off = ((size_t)b * T + j) * KC + kh * D;
#pragma unroll
        for (int dt = 0; dt < DT; dt++)
#pragma unroll
            for (int e = 2 * i; e < 2 * i + 2; e++) {
                int d = MM_COL(dt, e);
                if (d < D) {
                    kp_st(dk + off + d, ak[dt][e] * scale);
                    kp_st(dv + off + d, av[dt][e]);
                }
            }
    }
}

#endif
