/*
 * Internal: the transformer's building blocks, forward and backward, shared by
 * the trainer (qwen2_fwd.c, qwen2_bwd.c) and generation (generate.c).
 * Every matmul is cblas_sgemm; backward functions accumulate (+=).
 */
#ifndef TKD_MODEL_OPS_H
#define TKD_MODEL_OPS_H

#include <stddef.h>
#include <stdint.h>

/* out (N,OC) = inp (N,IC) @ w(OC,IC)^T + bias(OC) */
void op_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int N, int IC, int OC);
/* dinp (N,IC) += dout @ w ; dw (OC,IC) += dout^T @ inp ; dbias += colsum(dout). NULLs skip. */
void op_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w, int N,
                   int IC, int OC);
/* out (N,C) = x / rms(x) * w ; rstd (N) saved */
void op_rmsnorm_fwd(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps);
void op_rmsnorm_bwd(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                    int N, int C);
/* cos/sin tables (P, D/2) of rotate-half RoPE with base theta */
void op_rope_table(float *cos_t, float *sin_t, int P, int D, double theta);
/* x (N, nh, D) rotated in place at positions pos (N); inverse rotates back (backward) */
void op_rope(float *x, const int *pos, int N, int nh, int D, const float *cos_t, const float *sin_t, int inverse);
/*
 * Causal GQA attention for one row b: q (T,H*D), k, v (T,KV*D) -> out (T,H*D);
 * probs (H,T,T) saved. docstart (T) may be NULL.
 */
void op_attention_fwd(float *out, float *probs, const float *q, const float *k, const float *v, const int *docstart,
                      int T, int H, int KV, int D);
/* backward of the above: dq, dk, dv (+=); scratch (T,T) */
void op_attention_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *probs,
                      const float *q, const float *k, const float *v, int T, int H, int KV, int D);
/* h = silu(g) * u over n */
void op_swiglu_fwd(float *h, const float *g, const float *u, size_t n);
/* dg, du (=) from dh */
void op_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n);
/*
 * A batch's positions, for the CPU trainer and the CUDA model alike: every token
 * id (N = B*T of them, rows of T) within the vocabulary V, every docstart[n]
 * (NULL: one document a row) in [0, n % T]; pos[n] = n % T - docstart[n].
 * 0, or TKD_EINVAL with e naming the first bad position.
 */
struct tkd_err;
int op_positions(int *pos, const int *tokens, const int *docstart, int N, int T, int V, struct tkd_err *e);
/* keep-mask of LoRA dropout: deterministic in (seed, layer, target, index) */
static inline int op_dropout_keep(uint64_t seed, int layer, int t, size_t i, double p) {
    uint64_t z = seed ^ ((uint64_t)layer << 48) ^ ((uint64_t)t << 40) ^ (i * 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 >= p;
}

#endif
