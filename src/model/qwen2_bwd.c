/*
 * Qwen2 backward: from the masked cross-entropy through the head, the final
 * norm and every layer in reverse, into the LoRA adapters (base frozen) or,
 * with full fine-tuning, into every weight. With recomputation a layer's
 * activations are rebuilt from its saved input just before its backward.
 */
#include "ops.h"
#include "qwen2_priv.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <string.h>

/* dx (N,IC) += d/dx ; base weight grads (full) ; adapter grads (LoRA) */
static void proj_bwd(tkd_qwen2 *q, int l, int t, float *dx, float *dw, float *db, const float *dout, const float *ax,
                     const float *x, const float *w, int N, int IC, int OC) {
    op_matmul_bwd(dx, dw, db, dout, x, w, N, IC, OC);
    const tkd_lora *lo = q->lora;
    if (!lo || !(lo->cfg.targets >> t & 1))
        return;
    int r = lo->cfg.r, drop = q->drop_seed && lo->cfg.dropout > 0;
    float s = tkd_lora_scale(lo);
    float *gA = q->grad_mem + (tkd_lora_A(lo, l, t) - lo->mem), *gB = q->grad_mem + (tkd_lora_B(lo, l, t) - lo->mem);
    const float *A = tkd_lora_A(lo, l, t), *Bm = tkd_lora_B(lo, l, t);
    size_t n = (size_t)N * IC;
    float keep_scale = drop ? (float)(1.0 / (1.0 - lo->cfg.dropout)) : 1.0f;
    const float *xd = x;
    if (drop) {
        for (size_t i = 0; i < n; i++)
            q->xdrop[i] = op_dropout_keep(q->drop_seed, l, t, i, lo->cfg.dropout) ? x[i] * keep_scale : 0.0f;
        xd = q->xdrop;
    }
    // dB (OC,r) += s * dout^T (OC,N) @ ax (N,r)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, r, N, s, dout, OC, ax, r, 1.0f, gB, r);
    // dax (N,r) = s * dout (N,OC) @ B (OC,r)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, r, OC, s, dout, OC, Bm, r, 0.0f, q->dax, r);
    // dA (r,IC) += dax^T (r,N) @ xd (N,IC)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r, IC, N, 1.0f, q->dax, r, xd, IC, 1.0f, gA, IC);
    if (!drop) { // dx (N,IC) += dax @ A
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, r, 1.0f, q->dax, r, A, IC, 1.0f, dx, IC);
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, r, 1.0f, q->dax, r, A, IC, 0.0f, q->xtmp, IC);
    for (size_t i = 0; i < n; i++)
        if (op_dropout_keep(q->drop_seed, l, t, i, lo->cfg.dropout))
            dx[i] += q->xtmp[i] * keep_scale;
}

#define G(k) (q->o.full ? q->gp[k] : NULL)

static void layer_bwd(tkd_qwen2 *q, int l, const layer_acts *a, const float *in) {
    const tkd_model *m = q->m;
    const tkd_model_config *c = &m->cfg;
    int B = q->B, T = q->T, N = B * T, C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim,
        I = c->intermediate, QC = H * D, KC = KV * D, full = q->o.full;
    size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC, lI = (size_t)l * I;
    size_t NC = (size_t)N * C, NI = (size_t)N * I;
    float *dres = q->dresid; // (N,C) d out, becomes d in
#define GO(k, off) (full ? q->gp[k] + (off) : NULL)
    // out = mid + down(h)
    memset(q->dh, 0, NI * sizeof(float));
    proj_bwd(q, l, TKD_LORA_DOWN, q->dh, GO(TKD_P_WD, lC * I), NULL, dres, a->ax[TKD_LORA_DOWN], a->h,
             m->p[TKD_P_WD] + lC * I, N, I, C);
    op_swiglu_bwd(q->dg, q->du, q->dh, a->g, a->u, NI);
    memset(q->dln, 0, NC * sizeof(float));
    proj_bwd(q, l, TKD_LORA_GATE, q->dln, GO(TKD_P_WG, lI * C), NULL, q->dg, a->ax[TKD_LORA_GATE], a->ln2,
             m->p[TKD_P_WG] + lI * C, N, C, I);
    proj_bwd(q, l, TKD_LORA_UP, q->dln, GO(TKD_P_WU, lI * C), NULL, q->du, a->ax[TKD_LORA_UP], a->ln2,
             m->p[TKD_P_WU] + lI * C, N, C, I);
    op_rmsnorm_bwd(dres, GO(TKD_P_LN2, lC), q->dln, a->mid, m->p[TKD_P_LN2] + lC, a->rstd2, N, C); // dres = d mid
    // mid = in + o(atty)
    memset(q->datty, 0, (size_t)N * QC * sizeof(float));
    proj_bwd(q, l, TKD_LORA_O, q->datty, GO(TKD_P_WO, lC * QC), NULL, dres, a->ax[TKD_LORA_O], a->atty,
             m->p[TKD_P_WO] + lC * QC, N, QC, C);
    memset(q->dq, 0, (size_t)N * QC * sizeof(float));
    memset(q->dk, 0, (size_t)N * KC * sizeof(float));
    memset(q->dv, 0, (size_t)N * KC * sizeof(float));
    for (int b = 0; b < B; b++) {
        size_t bt = (size_t)b * T;
        op_attention_bwd(q->dq + bt * QC, q->dk + bt * KC, q->dv + bt * KC, q->datt, q->datty + bt * QC,
                         a->probs + (size_t)b * H * T * T, a->q + bt * QC, a->k + bt * KC, a->v + bt * KC, T, H, KV, D);
    }
    op_rope(q->dq, q->pos, N, H, D, q->cos_t, q->sin_t, 1); // the transpose of a rotation is its inverse
    op_rope(q->dk, q->pos, N, KV, D, q->cos_t, q->sin_t, 1);
    memset(q->dln, 0, NC * sizeof(float));
    proj_bwd(q, l, TKD_LORA_Q, q->dln, GO(TKD_P_WQ, lQ * C), GO(TKD_P_BQ, lQ), q->dq, a->ax[TKD_LORA_Q], a->ln1,
             m->p[TKD_P_WQ] + lQ * C, N, C, QC);
    proj_bwd(q, l, TKD_LORA_K, q->dln, GO(TKD_P_WK, lK * C), GO(TKD_P_BK, lK), q->dk, a->ax[TKD_LORA_K], a->ln1,
             m->p[TKD_P_WK] + lK * C, N, C, KC);
    proj_bwd(q, l, TKD_LORA_V, q->dln, GO(TKD_P_WV, lK * C), GO(TKD_P_BV, lK), q->dv, a->ax[TKD_LORA_V], a->ln1,
             m->p[TKD_P_WV] + lK * C, N, C, KC);
    op_rmsnorm_bwd(dres, GO(TKD_P_LN1, lC), q->dln, in, m->p[TKD_P_LN1] + lC, a->rstd1, N, C); // dres = d in
#undef GO
}

int tkd_qwen2_backward(tkd_qwen2 *q, const int *targets, const uint8_t *mask, float scale, tkd_err *e) {
    const tkd_model *m = q->m;
    const tkd_model_config *c = &m->cfg;
    int N = q->B * q->T, C = c->hidden, L = c->n_layers, V = c->vocab;
    if (!q->grad_mem)
        return tkd_err_set(e, TKD_EINVAL, "nothing to train: no adapter and no full fine-tuning");
    // dlogits (N,V) in place: (softmax - onehot) * scale on masked rows
    for (int n = 0; n < N; n++) {
        float *row = q->logits + (size_t)n * V;
        if (!mask[n]) {
            memset(row, 0, sizeof(float) * (size_t)V);
            continue;
        }
        float k = q->rowinv[n] * scale; // softmax = exp * rowinv
        for (int i = 0; i < V; i++)
            row[i] *= k;
        row[targets[n]] -= scale;
    }
    // head: dlnf (N,C) = dlogits @ W_head ; dW_head += dlogits^T @ lnf
    memset(q->dln, 0, (size_t)N * C * sizeof(float));
    float *dhead = q->o.full ? (c->tie ? q->gp[TKD_P_EMBED] : q->gp[TKD_P_HEAD]) : NULL;
    op_matmul_bwd(q->dln, dhead, NULL, q->logits, q->lnf, tkd_model_head(m), N, C, V);
    memset(q->dresid, 0, (size_t)N * C * sizeof(float));
    op_rmsnorm_bwd(q->dresid, G(TKD_P_NORM), q->dln, q->resid + (size_t)L * N * C, m->p[TKD_P_NORM], q->rstdf, N, C);
    for (int l = L - 1; l >= 0; l--) {
        const float *in = q->resid + (size_t)l * N * C;
        layer_acts *a = &q->acts[q->o.recompute ? 0 : l];
        if (q->o.recompute)
            qw_layer_fwd(q, l, a, in, q->tmp_out);
        layer_bwd(q, l, a, in);
    }
    if (q->o.full) // embeddings: scatter-add of the input gradient (N,C) -> (V,C)
        for (int n = 0; n < N; n++) {
            float *g = q->gp[TKD_P_EMBED] + (size_t)q->tokens[n] * C;
            const float *d = q->dresid + (size_t)n * C;
            for (int i = 0; i < C; i++)
                g[i] += d[i];
        }
    return 0;
}
