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
#include "kern_dev.cuh"

extern "C" int tkd_k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C, tkd_stream_t s) {
    size_t n = (size_t)N * C;
    if (!n)
        return 0;
    KP_LAUNCH(k_embed_fwd, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), out, tokens, embed, N, C);
    return kp_launched();
}

extern "C" int tkd_k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C, tkd_stream_t s) {
    size_t n = (size_t)N * C;
    if (!n)
        return 0;
    KP_LAUNCH(k_embed_bwd, (C + 127) / 128, 128, 0, KP_STREAM(s), dembed, dout, tokens, N, C);
    return kp_launched();
}

extern "C" int tkd_k_rmsnorm_fwd(tkd_bf16 *out, float *rstd, const tkd_bf16 *x, const tkd_bf16 *w, int N, int C,
                                 float eps, tkd_stream_t s) {
    if (N <= 0)
        return 0;
    KP_LAUNCH(k_rmsnorm_fwd, (N + RMS_ROWS - 1) / RMS_ROWS, 32 * RMS_ROWS, 0, KP_STREAM(s), out, rstd, x, w, N, C, eps);
    return kp_launched();
}

extern "C" int tkd_k_rmsnorm_bwd(tkd_bf16 *dx, float *dw, const tkd_bf16 *dout, const tkd_bf16 *x, const tkd_bf16 *w,
                                 const float *rstd, int N, int C, int accumulate, tkd_stream_t s) {
    if (N <= 0)
        return 0;
    KP_LAUNCH(k_rmsnorm_bwd, (N + RMS_ROWS - 1) / RMS_ROWS, 32 * RMS_ROWS, 0, KP_STREAM(s), dx, dout, x, w, rstd, N, C,
              accumulate);
    if (dw) {
        int e = kp_launched();
        if (e)
            return e;
        KP_LAUNCH(k_colsum, (C + COLSUM_COLS - 1) / COLSUM_COLS, 32 * COLSUM_GROUPS, 0, KP_STREAM(s), dw, dout, x, rstd,
                  N, C);
    }
    return kp_launched();
}

extern "C" int tkd_k_positions(int *pos, const int *docstart, int B, int T, tkd_stream_t s) {
    int n = B * T;
    if (n <= 0)
        return 0;
    KP_LAUNCH(k_positions, (n + KP_THREADS - 1) / KP_THREADS, KP_THREADS, 0, KP_STREAM(s), pos, docstart, B, T);
    return kp_launched();
}

extern "C" int tkd_k_rope(tkd_bf16 *x, const int *pos, int N, int nh, int D, double theta, int inverse,
                          tkd_stream_t s) {
    size_t n = (size_t)N * (D / 2);
    if (!n || nh <= 0)
        return 0;
    KP_LAUNCH(k_rope, (unsigned)((n + KP_THREADS - 1) / KP_THREADS), KP_THREADS, 0, KP_STREAM(s), x, pos, N, nh, D,
              theta, inverse);
    return kp_launched();
}

extern "C" int tkd_k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    KP_LAUNCH_VEC(k_swiglu_fwd, kp_vec8(n, h, g, u, NULL), n, s, h, g, u, n);
    return kp_launched();
}

extern "C" int tkd_k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u,
                                size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    int vec8 = kp_vec8(n, dg, du, dh, g) && kp_vec8(n, u, NULL, NULL, NULL);
    KP_LAUNCH_VEC(k_swiglu_bwd, vec8, n, s, dg, du, dh, g, u, n);
    return kp_launched();
}

extern "C" int tkd_k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    KP_LAUNCH_VEC(k_add, kp_vec8(n, y, a, b, NULL), n, s, y, a, b, n);
    return kp_launched();
}

extern "C" int tkd_k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC, tkd_stream_t s) {
    size_t n = (size_t)N * OC;
    if (!n)
        return 0;
    KP_LAUNCH_VEC(k_bias_add, kp_vec8((size_t)OC, y, bias, NULL, NULL), n, s, y, bias, N, OC);
    return kp_launched();
}

extern "C" int tkd_k_bias_bwd(float *dbias, const tkd_bf16 *dy, int N, int OC, tkd_stream_t s) {
    if (N <= 0 || OC <= 0)
        return 0;
    KP_LAUNCH(k_colsum, (OC + COLSUM_COLS - 1) / COLSUM_COLS, 32 * COLSUM_GROUPS, 0, KP_STREAM(s), dbias, dy, NULL,
              NULL, N, OC);
    return kp_launched();
}

extern "C" int tkd_k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p,
                             tkd_stream_t s) {
    if (!n)
        return 0;
    float keep_scale = (float)(1.0 / (1.0 - p)); // as qw_proj_fwd
    KP_LAUNCH_VEC(k_dropout, kp_vec8(n, y, x, NULL, NULL), n, s, y, x, n, seed, layer, t, p, keep_scale);
    return kp_launched();
}

extern "C" int tkd_k_xent_chunk(tkd_bf16 *logits, float *loss_sum, const int *targets, const uint8_t *mask, int rows,
                                int V, float scale, tkd_stream_t s) {
    if (rows <= 0)
        return 0;
    KP_LAUNCH(k_xent<tkd_bf16>, rows, XENT_THREADS, 0, KP_STREAM(s), logits, loss_sum, NULL, logits, targets, mask, V,
              scale);
    return kp_launched();
}

/* tkd_k_xent_chunk_f32 sums the rows' losses with atomics (their order varies);
 * tkd_k_xent_chunk_f32_det writes them to row_loss (rows fp32) and adds them in a fixed order */
static int xent_f32(tkd_bf16 *dlogits, float *loss_sum, float *row_loss, const float *logits, const int *targets,
                    const uint8_t *mask, int rows, int V, float scale, tkd_stream_t s) {
    if (rows <= 0)
        return 0;
    KP_LAUNCH(k_xent<float>, rows, XENT_THREADS, 0, KP_STREAM(s), dlogits, loss_sum, row_loss, logits, targets, mask, V,
              scale);
    if (!row_loss)
        return kp_launched();
    int e = kp_launched();
    if (e)
        return e;
    KP_LAUNCH(k_sum_rows, 1, KP_THREADS, 0, KP_STREAM(s), loss_sum, row_loss, rows);
    return kp_launched();
}

extern "C" int tkd_k_f32_to_bf16(tkd_bf16 *y, const float *x, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    KP_LAUNCH(k_f32_to_bf16, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), y, x, n);
    return kp_launched();
}
extern "C" int tkd_k_bf16_to_f32(float *y, const tkd_bf16 *x, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    KP_LAUNCH(k_bf16_to_f32, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), y, x, n);
    return kp_launched();
}
extern "C" int tkd_k_accum_bf16(float *y, const tkd_bf16 *x, float alpha, size_t n, tkd_stream_t s) {
    if (!n)
        return 0;
    KP_LAUNCH(k_accum_bf16, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), y, x, alpha, n);
    return kp_launched();
}

static unsigned sumsq_blocks(size_t n) {
    size_t b = (n + KP_THREADS * 16 - 1) / (KP_THREADS * 16);
    return (unsigned)(b < 1 ? 1 : b > SUMSQ_BLOCKS ? SUMSQ_BLOCKS : b);
}

extern "C" size_t tkd_k_sumsq_scratch(size_t n) {
    return sumsq_blocks(n) * sizeof(double);
}

extern "C" int tkd_k_sumsq(float *out, const float *g, size_t n, void *scratch, size_t scratch_bytes, tkd_stream_t s) {
    unsigned nb = sumsq_blocks(n);
    if (scratch_bytes < nb * sizeof(double))
        return (int)cudaErrorInvalidValue;
    KP_LAUNCH(k_sumsq_part, nb, KP_THREADS, 0, KP_STREAM(s), (double *)scratch, g, n);
    int e = kp_launched();
    if (e)
        return e;
    KP_LAUNCH(k_sumsq_final, 1, KP_THREADS, 0, KP_STREAM(s), out, (const double *)scratch, nb);
    return kp_launched();
}

extern "C" int tkd_k_clip(float *g, size_t n, const float *sumsq, float max_norm, tkd_stream_t s) {
    if (!n || max_norm <= 0)
        return 0;
    KP_LAUNCH(k_clip, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), g, n, sumsq, max_norm);
    return kp_launched();
}

extern "C" int tkd_k_adamw(float *p, tkd_bf16 *pbf, const float *g, float *m, float *v, size_t n, double lr,
                           double beta1, double beta2, double eps, double wd, long t, tkd_stream_t s) {
    if (!n)
        return 0;
    km_adamw_k k = km_adamw_consts(lr, beta1, beta2, eps, wd, t);
    KP_LAUNCH(k_adamw, kp_blocks(n), KP_THREADS, 0, KP_STREAM(s), p, pbf, g, m, v, n, k);
    return kp_launched();
}

extern "C" int tkd_k_xent_chunk_f32(tkd_bf16 *dlogits, float *loss_sum, const float *logits, const int *targets,
                                    const uint8_t *mask, int rows, int V, float scale, tkd_stream_t s) {
    return xent_f32(dlogits, loss_sum, NULL, logits, targets, mask, rows, V, scale, s);
}

extern "C" int tkd_k_xent_chunk_f32_det(tkd_bf16 *dlogits, float *loss_sum, float *row_loss, const float *logits,
                                        const int *targets, const uint8_t *mask, int rows, int V, float scale,
                                        tkd_stream_t s) {
    return xent_f32(dlogits, loss_sum, row_loss, logits, targets, mask, rows, V, scale, s);
}
