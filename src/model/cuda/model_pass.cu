/*
 * The Qwen2 trainer on one GPU, passes half: the forward (qwen2_fwd.c's
 * loops, line for line, in bf16 with flash attention), the loss made chunk
 * by chunk of rows so the (B*T, V) logits never exist at once, and the
 * backward (qwen2_bwd.c's loops): LoRA gradients into fp32, a frozen base
 * gets no weight gradients unless fine-tuned in full. With recompute a
 * layer's activations are rebuilt from its saved input before its backward.
 */
#include "model_priv.h"

#define MM(ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, f32, bias)                                            \
    TRY(tkd_lt_mm(&q->lt, q->s, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc, f32, bias, e))

static int dropping(const tkd_cuda_qwen2 *q) {
    return q->drop_seed && q->lay.lora && q->lay.lcfg.dropout > 0;
}

/* out (N,OC) = x W^T + b + s B A drop(x); ax (N,r) = A drop(x) kept for the backward */
static int proj_fwd(tkd_cuda_qwen2 *q, int l, int t, tkd_bf16 *out, tkd_bf16 *ax, const tkd_bf16 *x, const tkd_bf16 *w,
                    const tkd_bf16 *b, int N, int IC, int OC, tkd_err *e) {
    if (b && (uintptr_t)b % 16 == 0) { /* bias in cuBLASLt's epilogue */
        MM(0, 1, N, OC, IC, 1.0f, x, IC, w, IC, 0.0f, out, OC, 0, b);
    } else {
        MM(0, 1, N, OC, IC, 1.0f, x, IC, w, IC, 0.0f, out, OC, 0, NULL);
        if (b)
            KERNEL_CHECK(tkd_k_bias_add(out, b, N, OC, q->s));
    }
    if (!cm_has_lora(q, t))
        return 0;
    int r = q->lay.lcfg.r;
    float s = (float)(q->lay.lcfg.alpha / r);
    const tkd_bf16 *xd = x;
    if (dropping(q)) { /* inverted dropout on the adapter's input, the CPU's masks */
        KERNEL_CHECK(tkd_k_dropout(q->xdrop, x, (size_t)N * IC, q->drop_seed, l, t, q->lay.lcfg.dropout, q->s));
        xd = q->xdrop;
    }
    const tkd_bf16 *A = q->lora_bf16 + cm_lora_a(q, l, t), *Bm = q->lora_bf16 + cm_lora_b(q, l, t);
    MM(0, 1, N, r, IC, 1.0f, xd, IC, A, IC, 0.0f, ax, r, 0, NULL); // ax (N,r) = xd (N,IC) @ A^T
    MM(0, 1, N, OC, r, s, ax, r, Bm, r, 1.0f, out, OC, 0, NULL);   // out += s * ax @ B^T
    return 0;
}

static int layer_fwd(tkd_cuda_qwen2 *q, int l, const cm_acts *a, const tkd_bf16 *in, tkd_bf16 *out, tkd_err *e) {
    const tkd_model_config *c = &q->lay.cfg;
    int B = q->B, T = q->T, N = B * T, C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim,
        I = c->intermediate, QC = H * D, KC = KV * D;
    size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC, lI = (size_t)l * I;
    size_t NC = (size_t)N * C, NI = (size_t)N * I;
    float eps = (float)c->rms_eps;
    KERNEL_CHECK(tkd_k_rmsnorm_fwd(a->ln1, a->rstd1, in, cm_w(q, TKD_P_LN1) + lC, N, C, eps, q->s));
    TRY(proj_fwd(q, l, TKD_LORA_Q, a->q, a->ax[TKD_LORA_Q], a->ln1, cm_w(q, TKD_P_WQ) + lQ * C, cm_w(q, TKD_P_BQ) + lQ,
                 N, C, QC, e));
    TRY(proj_fwd(q, l, TKD_LORA_K, a->k, a->ax[TKD_LORA_K], a->ln1, cm_w(q, TKD_P_WK) + lK * C, cm_w(q, TKD_P_BK) + lK,
                 N, C, KC, e));
    TRY(proj_fwd(q, l, TKD_LORA_V, a->v, a->ax[TKD_LORA_V], a->ln1, cm_w(q, TKD_P_WV) + lK * C, cm_w(q, TKD_P_BV) + lK,
                 N, C, KC, e));
    KERNEL_CHECK(tkd_k_rope(a->q, q->pos, N, H, D, c->rope_theta, 0, q->s));
    KERNEL_CHECK(tkd_k_rope(a->k, q->pos, N, KV, D, c->rope_theta, 0, q->s));
    KERNEL_CHECK(
        tkd_k_attn_fwd(a->atty, a->lse, a->q, a->k, a->v, q->has_doc ? q->docstart : NULL, B, T, H, KV, D, q->s));
    TRY(proj_fwd(q, l, TKD_LORA_O, a->mid, a->ax[TKD_LORA_O], a->atty, cm_w(q, TKD_P_WO) + lC * QC, NULL, N, QC, C, e));
    KERNEL_CHECK(tkd_k_add(a->mid, a->mid, in, NC, q->s));
    KERNEL_CHECK(tkd_k_rmsnorm_fwd(a->ln2, a->rstd2, a->mid, cm_w(q, TKD_P_LN2) + lC, N, C, eps, q->s));
    TRY(proj_fwd(q, l, TKD_LORA_GATE, a->g, a->ax[TKD_LORA_GATE], a->ln2, cm_w(q, TKD_P_WG) + lI * C, NULL, N, C, I,
                 e));
    TRY(proj_fwd(q, l, TKD_LORA_UP, a->u, a->ax[TKD_LORA_UP], a->ln2, cm_w(q, TKD_P_WU) + lI * C, NULL, N, C, I, e));
    KERNEL_CHECK(tkd_k_swiglu_fwd(a->h, a->g, a->u, NI, q->s));
    TRY(proj_fwd(q, l, TKD_LORA_DOWN, out, a->ax[TKD_LORA_DOWN], a->h, cm_w(q, TKD_P_WD) + lC * I, NULL, N, I, C, e));
    KERNEL_CHECK(tkd_k_add(out, out, a->mid, NC, q->s));
    return 0;
}

static const tkd_bf16 *head_of(tkd_cuda_qwen2 *q) {
    return cm_w(q, q->lay.cfg.tie ? TKD_P_EMBED : TKD_P_HEAD);
}

int tkd_cuda_qwen2_forward(tkd_cuda_qwen2 *q, const int *tokens, const int *docstart, int B, int T,
                           uint64_t dropout_seed, tkd_err *e) {
    const tkd_gpu_layout *lay = &q->lay;
    const tkd_model_config *c = &lay->cfg;
    if (B < 1 || T < 1 || B > lay->B || T > lay->T)
        return tkd_err_set(e, TKD_EINVAL, "batch %dx%d exceeds the GPU trainer's %dx%d", B, T, lay->B, lay->T);
    CUDA_CHECK(cudaSetDevice(q->dev));
    int N = B * T, C = c->hidden, L = c->n_layers, V = c->vocab;
    TRY(op_positions(q->h_pos, tokens, docstart, N, T, V, e));
    q->B = B;
    q->T = T;
    q->drop_seed = dropout_seed;
    q->has_doc = docstart != NULL;
    /* pageable sources: each call returns once its bytes are staged */
    CUDA_CHECK(cudaMemcpyAsync(q->tokens, tokens, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, q->s));
    CUDA_CHECK(cudaMemcpyAsync(q->pos, q->h_pos, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, q->s));
    if (docstart)
        CUDA_CHECK(cudaMemcpyAsync(q->docstart, docstart, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, q->s));
    KERNEL_CHECK(tkd_k_embed_fwd(q->resid, q->tokens, cm_w(q, TKD_P_EMBED), N, C, q->s)); // (N,C)
    for (int l = 0; l < L; l++) {
        cm_acts a;
        cm_acts_of(q, lay->recompute ? 0 : l, &a);
        TRY(layer_fwd(q, l, &a, q->resid + (size_t)l * N * C, q->resid + (size_t)(l + 1) * N * C, e));
    }
    KERNEL_CHECK(tkd_k_rmsnorm_fwd(q->lnf, q->rstdf, q->resid + (size_t)L * N * C, cm_w(q, TKD_P_NORM), N, C,
                                   (float)c->rms_eps, q->s));
    cm_sample_peak(q);
    return 0;
}

int tkd_cuda_qwen2_logits(tkd_cuda_qwen2 *q, int row0, int rows, float *out, tkd_err *e) {
    int N = q->B * q->T, C = q->lay.cfg.hidden, V = q->lay.cfg.vocab, R = q->lay.chunk_rows;
    if (!q->B || row0 < 0 || rows < 1 || row0 + rows > N)
        return tkd_err_set(e, TKD_EINVAL, "logits rows [%d, %d) are outside the last forward's %d rows", row0,
                           row0 + rows, q->B ? N : 0);
    TRY(cm_pending(q, e));
    for (int i = 0; i < rows; i += R) {
        int cr = rows - i < R ? rows - i : R;
        // logits (cr,V) fp32 = lnf rows (cr,C) @ head (V,C)^T, as the loss makes them
        MM(0, 1, cr, V, C, 1.0f, q->lnf + (size_t)(row0 + i) * C, C, head_of(q), C, 0.0f, q->logits, V, 1, NULL);
        CUDA_CHECK(cudaMemcpyAsync(out + (size_t)i * V, q->logits, (size_t)cr * V * sizeof(float),
                                   cudaMemcpyDeviceToHost, q->s));
        CUDA_CHECK(cudaStreamSynchronize(q->s));
    }
    return 0;
}

/* dx (N,IC) = (or += when acc) d/dx; base weight gradients (full) into fp32; adapter gradients (LoRA) */
static int proj_bwd(tkd_cuda_qwen2 *q, int l, int t, tkd_bf16 *dx, int acc, float *dw, float *db, const tkd_bf16 *dout,
                    const tkd_bf16 *ax, const tkd_bf16 *x, const tkd_bf16 *w, int N, int IC, int OC, tkd_err *e) {
    MM(0, 0, N, IC, OC, 1.0f, dout, OC, w, IC, acc ? 1.0f : 0.0f, dx, IC, 0, NULL); // dx (N,IC) = dout @ W
    if (dw)
        MM(1, 0, OC, IC, N, 1.0f, dout, OC, x, IC, 1.0f, dw, IC, 1, NULL); // dW (OC,IC) += dout^T @ x
    if (db)
        KERNEL_CHECK(tkd_k_bias_bwd(db, dout, N, OC, q->s));
    if (!cm_has_lora(q, t))
        return 0;
    int r = q->lay.lcfg.r, drop = dropping(q);
    float s = (float)(q->lay.lcfg.alpha / r);
    size_t oa = cm_lora_a(q, l, t), ob = cm_lora_b(q, l, t), n = (size_t)N * IC;
    const tkd_bf16 *A = q->lora_bf16 + oa, *Bm = q->lora_bf16 + ob;
    float *gA = q->grads + oa, *gB = q->grads + ob;
    const tkd_bf16 *xd = x;
    if (drop) {
        KERNEL_CHECK(tkd_k_dropout(q->xdrop, x, n, q->drop_seed, l, t, q->lay.lcfg.dropout, q->s));
        xd = q->xdrop;
    }
    MM(1, 0, OC, r, N, s, dout, OC, ax, r, 1.0f, gB, r, 1, NULL);       // dB (OC,r) += s * dout^T @ ax
    MM(0, 0, N, r, OC, s, dout, OC, Bm, r, 0.0f, q->dax, r, 0, NULL);   // dax (N,r) = s * dout @ B
    MM(1, 0, r, IC, N, 1.0f, q->dax, r, xd, IC, 1.0f, gA, IC, 1, NULL); // dA (r,IC) += dax^T @ xd
    if (!drop) {
        MM(0, 0, N, IC, r, 1.0f, q->dax, r, A, IC, 1.0f, dx, IC, 0, NULL); // dx += dax @ A
        return 0;
    }
    MM(0, 0, N, IC, r, 1.0f, q->dax, r, A, IC, 0.0f, q->xtmp, IC, 0, NULL); // xtmp = dax @ A, then its mask
    KERNEL_CHECK(tkd_k_dropout(q->xtmp, q->xtmp, n, q->drop_seed, l, t, q->lay.lcfg.dropout, q->s));
    KERNEL_CHECK(tkd_k_add(dx, dx, q->xtmp, n, q->s));
    return 0;
}

static int layer_bwd(tkd_cuda_qwen2 *q, int l, const cm_acts *a, const tkd_bf16 *in, tkd_err *e) {
    const tkd_model_config *c = &q->lay.cfg;
    int B = q->B, T = q->T, N = B * T, C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim,
        I = c->intermediate, QC = H * D, KC = KV * D;
    size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC, lI = (size_t)l * I;
    size_t NI = (size_t)N * I;
    tkd_bf16 *dres = q->dresid; // (N,C) d out, becomes d in
#define GO(k, off) (q->lay.full ? cm_g(q, k) + (off) : NULL)
    // out = mid + down(h)
    TRY(proj_bwd(q, l, TKD_LORA_DOWN, q->dh, 0, GO(TKD_P_WD, lC * I), NULL, dres, a->ax[TKD_LORA_DOWN], a->h,
                 cm_w(q, TKD_P_WD) + lC * I, N, I, C, e));
    KERNEL_CHECK(tkd_k_swiglu_bwd(q->dg, q->du, q->dh, a->g, a->u, NI, q->s));
    TRY(proj_bwd(q, l, TKD_LORA_GATE, q->dln, 0, GO(TKD_P_WG, lI * C), NULL, q->dg, a->ax[TKD_LORA_GATE], a->ln2,
                 cm_w(q, TKD_P_WG) + lI * C, N, C, I, e));
    TRY(proj_bwd(q, l, TKD_LORA_UP, q->dln, 1, GO(TKD_P_WU, lI * C), NULL, q->du, a->ax[TKD_LORA_UP], a->ln2,
                 cm_w(q, TKD_P_WU) + lI * C, N, C, I, e));
    KERNEL_CHECK(tkd_k_rmsnorm_bwd(dres, GO(TKD_P_LN2, lC), q->dln, a->mid, cm_w(q, TKD_P_LN2) + lC, a->rstd2, N, C, 1,
                                   q->s)); // dres = d mid
    // mid = in + o(atty)
    TRY(proj_bwd(q, l, TKD_LORA_O, q->datty, 0, GO(TKD_P_WO, lC * QC), NULL, dres, a->ax[TKD_LORA_O], a->atty,
                 cm_w(q, TKD_P_WO) + lC * QC, N, QC, C, e));
    KERNEL_CHECK(tkd_k_attn_bwd(q->dq, q->dk, q->dv, q->attn_scratch, q->datty, a->atty, a->lse, a->q, a->k, a->v,
                                q->has_doc ? q->docstart : NULL, B, T, H, KV, D, q->s));
    KERNEL_CHECK(tkd_k_rope(q->dq, q->pos, N, H, D, c->rope_theta, 1, q->s)); // a rotation's transpose is its inverse
    KERNEL_CHECK(tkd_k_rope(q->dk, q->pos, N, KV, D, c->rope_theta, 1, q->s));
    TRY(proj_bwd(q, l, TKD_LORA_Q, q->dln, 0, GO(TKD_P_WQ, lQ * C), GO(TKD_P_BQ, lQ), q->dq, a->ax[TKD_LORA_Q], a->ln1,
                 cm_w(q, TKD_P_WQ) + lQ * C, N, C, QC, e));
    TRY(proj_bwd(q, l, TKD_LORA_K, q->dln, 1, GO(TKD_P_WK, lK * C), GO(TKD_P_BK, lK), q->dk, a->ax[TKD_LORA_K], a->ln1,
                 cm_w(q, TKD_P_WK) + lK * C, N, C, KC, e));
    TRY(proj_bwd(q, l, TKD_LORA_V, q->dln, 1, GO(TKD_P_WV, lK * C), GO(TKD_P_BV, lK), q->dv, a->ax[TKD_LORA_V], a->ln1,
                 cm_w(q, TKD_P_WV) + lK * C, N, C, KC, e));
    KERNEL_CHECK(tkd_k_rmsnorm_bwd(dres, GO(TKD_P_LN1, lC), q->dln, in, cm_w(q, TKD_P_LN1) + lC, a->rstd1, N, C, 1,
                                   q->s)); // dres = d in
#undef GO
    return 0;
}

int tkd_cuda_qwen2_loss_backward(tkd_cuda_qwen2 *q, const int *targets, const uint8_t *mask, float scale, double *loss,
                                 long *count, tkd_err *e) {
    const tkd_gpu_layout *lay = &q->lay;
    const tkd_model_config *c = &lay->cfg;
    int N = q->B * q->T, C = c->hidden, L = c->n_layers, V = c->vocab, R = lay->chunk_rows;
    if (!q->B)
        return tkd_err_set(e, TKD_EINVAL, "loss and backward before a forward");
    if (!lay->n_train)
        return tkd_err_set(e, TKD_EINVAL, "nothing to train: no adapter and no full fine-tuning");
    TRY(cm_pending(q, e));
    long cnt = 0;
    for (int n = 0; n < N; n++) {
        if (mask[n] && (targets[n] < 0 || targets[n] >= V))
            return tkd_err_set(e, TKD_EINVAL, "target id %d at position %d is outside the vocabulary (%d)", targets[n],
                               n, V);
        q->h_tgt[n] = mask[n] ? targets[n] : 0; /* unmasked rows' targets are never read, but stay in range */
        cnt += mask[n] != 0;
    }
    CUDA_CHECK(cudaMemcpyAsync(q->targets, q->h_tgt, (size_t)N * sizeof(int), cudaMemcpyHostToDevice, q->s));
    CUDA_CHECK(cudaMemcpyAsync(q->mask, mask, (size_t)N, cudaMemcpyHostToDevice, q->s));
    CUDA_CHECK(cudaMemsetAsync(q->loss, 0, 2 * sizeof(float), q->s));
    const tkd_bf16 *head = head_of(q);
    float *dhead = lay->full ? cm_g(q, c->tie ? TKD_P_EMBED : TKD_P_HEAD) : NULL;
    for (int row0 = 0; row0 < N; row0 += R) {
        int cr = N - row0 < R ? N - row0 : R, any = 0;
        for (int i = row0; i < row0 + cr && !any; i++)
            any = mask[i] != 0;
        tkd_bf16 *dln = q->dln + (size_t)row0 * C;
        if (!any) { /* no loss in these rows (a prompt): their gradient is 0 */
            CUDA_CHECK(cudaMemsetAsync(dln, 0, (size_t)cr * C * sizeof(tkd_bf16), q->s));
            continue;
        }
        const tkd_bf16 *lnf = q->lnf + (size_t)row0 * C;
        MM(0, 1, cr, V, C, 1.0f, lnf, C, head, C, 0.0f, q->logits, V, 1, NULL); // logits (cr,V) fp32 = lnf @ head^T
        KERNEL_CHECK(tkd_k_xent_chunk_f32(q->dlogits, q->loss, q->logits, q->targets + row0, q->mask + row0, cr, V,
                                          scale, q->s));
        MM(0, 0, cr, C, V, 1.0f, q->dlogits, V, head, C, 0.0f, dln, C, 0, NULL); // dlnf (cr,C) = dlogits @ head
        if (dhead)
            MM(1, 0, V, C, cr, 1.0f, q->dlogits, V, lnf, C, 1.0f, dhead, C, 1, NULL); // dhead += dlogits^T @ lnf
    }
    KERNEL_CHECK(tkd_k_rmsnorm_bwd(q->dresid, cm_g(q, TKD_P_NORM), q->dln, q->resid + (size_t)L * N * C,
                                   cm_w(q, TKD_P_NORM), q->rstdf, N, C, 0, q->s));
    for (int l = L - 1; l >= 0; l--) {
        const tkd_bf16 *in = q->resid + (size_t)l * N * C;
        cm_acts a;
        cm_acts_of(q, lay->recompute ? 0 : l, &a);
        if (lay->recompute)
            TRY(layer_fwd(q, l, &a, in, q->tmp_out, e));
        TRY(layer_bwd(q, l, &a, in, e));
    }
    if (lay->full) // embeddings: scatter-add of the input gradient (N,C) -> (V,C)
        KERNEL_CHECK(tkd_k_embed_bwd(cm_g(q, TKD_P_EMBED), q->dresid, q->tokens, N, C, q->s));
    float lsum = 0;
    CUDA_CHECK(cudaMemcpyAsync(&lsum, q->loss, sizeof lsum, cudaMemcpyDeviceToHost, q->s));
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    cm_sample_peak(q);
    *loss = lsum;
    if (count)
        *count = cnt;
    return 0;
}
