/*
 * The per-element and per-row math of the kernels (kern.cu, attn.cu) as
 * __host__ __device__ functions, so tests/cuda/test_kern_host.cu runs the very
 * same code on the CPU against the reference in src/model/ops.c and adamw.c
 * (this machine may have nvcc and no GPU). Each function names the CPU code
 * it must agree with.
 */
#ifndef TKD_KERN_MATH_CUH
#define TKD_KERN_MATH_CUH

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TKD_HD __host__ __device__ __forceinline__

/* ---- bf16 bits <-> fp32, round to nearest even (safetensors.c: tkd_f32_to_bf16) ---- */
TKD_HD float km_bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
TKD_HD uint16_t km_f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) // NaN stays a (quiet) NaN
        return (uint16_t)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

/* ---- LoRA dropout: bit-identical to op_dropout_keep (ops.h) ---- */
TKD_HD int km_dropout_keep(uint64_t seed, int layer, int t, size_t i, double p) {
    uint64_t z = seed ^ ((uint64_t)layer << 48) ^ ((uint64_t)t << 40) ^ ((uint64_t)i * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 >= p;
}

/* ---- rotate-half RoPE (op_rope_table + op_rope): angle and rotation of one pair ---- */
/* cos/sin of position pos, pair i of D, base theta: double like op_rope_table, rounded to fp32 */
TKD_HD void km_rope_cs(int pos, int i, int D, double theta, float *c, float *s) {
    double inv = 1.0 / pow(theta, (2.0 * i) / D);
    double a = pos * inv;
    *c = (float)cos(a);
    *s = (float)sin(a);
}
/* (a, b) -> (a cos - b sin, b cos + a sin); inverse negates sin */
TKD_HD void km_rope_pair(float *a, float *b, float c, float s, int inverse) {
    float x = *a, y = *b, sn = inverse ? -s : s;
    *a = x * c - y * sn;
    *b = y * c + x * sn;
}

/* ---- RMSNorm (op_rmsnorm_fwd/bwd): statistics of a row in fp32 ---- */
TKD_HD float km_rms_rstd(float sumsq, int C, float eps) { return (float)(1.0 / sqrt((double)sumsq / C + eps)); }
/* k of the backward: mean(dy*w*x) * rstd^3 */
TKD_HD float km_rms_k(float dot, int C, float rs) { return dot / (float)C * rs * rs * rs; }
TKD_HD float km_rms_dx(float dy, float w, float x, float rs, float k) { return dy * w * rs - x * k; }

/* ---- SwiGLU (op_swiglu_fwd/bwd) ---- */
TKD_HD float km_silu(float g) { return g / (1.0f + expf(-g)); }
TKD_HD void km_swiglu_bwd(float dh, float g, float u, float *dg, float *du) {
    float s = 1.0f / (1.0f + expf(-g)), silu = g * s;
    *du = dh * silu;
    *dg = dh * u * s * (1.0f + g * (1.0f - s));
}

/* ---- cross entropy of one row (tkd_qwen2_loss + tkd_qwen2_backward) ----
 * mx = max logit, sum = sum exp(logit - mx); loss = log(sum) + mx - logit[target];
 * gradient = scale * (exp(logit - mx) / sum - [i == target]) */
TKD_HD float km_xent_loss(float mx, float sum, float lt) { return logf(sum) + mx - lt; }
TKD_HD float km_xent_grad(float logit, float mx, float inv_sum, int is_target, float scale) {
    return scale * (expf(logit - mx) * inv_sum - (is_target ? 1.0f : 0.0f));
}

/* ---- AdamW (tkd_adamw_step): the per-step constants in double, the update in fp32 ---- */
typedef struct {
    float b1, b2, decay, step, rbc2, eps;
} km_adamw_k;
TKD_HD km_adamw_k km_adamw_consts(double lr, double beta1, double beta2, double eps, double wd, long t) {
    km_adamw_k k;
    double bc1 = 1.0 - pow(beta1, (double)t), bc2 = 1.0 - pow(beta2, (double)t);
    k.b1 = (float)beta1;
    k.b2 = (float)beta2;
    k.decay = (float)(1.0 - lr * wd);
    k.step = (float)(lr / bc1);
    k.rbc2 = (float)(1.0 / sqrt(bc2));
    k.eps = (float)eps;
    return k;
}
/* nvcc contracts a*b+c into one FMA (one rounding) where gcc on x86-64 rounds
 * twice: the AdamW element spells every rounding out, so that the GPU's step
 * is bit-identical to tkd_adamw_step's */
#ifdef __CUDA_ARCH__
#define KM_MUL(a, b) __fmul_rn(a, b)
#define KM_ADD(a, b) __fadd_rn(a, b)
#define KM_SUB(a, b) __fsub_rn(a, b)
#define KM_DIV(a, b) __fdiv_rn(a, b)
#else
#define KM_MUL(a, b) ((a) * (b))
#define KM_ADD(a, b) ((a) + (b))
#define KM_SUB(a, b) ((a) - (b))
#define KM_DIV(a, b) ((a) / (b))
#endif
TKD_HD void km_adamw_elem(float *p, float g, float *m, float *v, const km_adamw_k *k) {
    float mm = *m = KM_ADD(KM_MUL(k->b1, *m), KM_MUL(1.0f - k->b1, g));
    float vv = *v = KM_ADD(KM_MUL(k->b2, *v), KM_MUL(KM_MUL(1.0f - k->b2, g), g));
    float pp = KM_MUL(*p, k->decay);
    *p = KM_SUB(pp, KM_DIV(KM_MUL(k->step, mm), KM_ADD(KM_MUL(sqrtf(vv), k->rbc2), k->eps)));
}
/* clip coefficient of tkd_clip_grad_norm: max_norm / (norm + 1e-6) when below 1 */
TKD_HD float km_clip_coef(float sumsq, float max_norm) {
    if (max_norm <= 0)
        return 1.0f;
    double coef = max_norm / (sqrt((double)sumsq) + 1e-6);
    return coef < 1.0 ? (float)coef : 1.0f;
}

/* ---- flash attention: masks and the online softmax ----
 * Query t of a row attends keys [lo, t], lo = docstart[t] (0 without packing). */
TKD_HD int km_attn_lo(const int *docstart, int t) { return docstart ? docstart[t] : 0; }
/* Online softmax state of one query row: m (running max of the scaled
 * scores), l (sum of exp(s - m)); a tile with max mt rescales the old sum
 * and output by alpha = exp(m - m_new). Returns alpha. */
TKD_HD float km_online_max(float *m, float mt) {
    float mn = *m > mt ? *m : mt;
    float alpha = *m == -INFINITY ? 0.0f : expf(*m - mn);
    *m = mn;
    return alpha;
}
/* lse of a finished row: m + log(l) (natural log, scaled scores) */
TKD_HD float km_lse(float m, float l) { return m + logf(l); }
/* backward: P = exp(s - lse); dS = P * (dP - Dt), Dt = sum_d dO*O of the row */
TKD_HD float km_attn_p(float s, float lse) { return expf(s - lse); }
TKD_HD float km_attn_ds(float p, float dp, float Dt) { return p * (dp - Dt); }

#endif
