/*
 * Qwen2 forward for training: embeddings, L decoder layers (RMSNorm, q/k/v
 * with bias and LoRA, RoPE, causal GQA attention, o_proj, RMSNorm, SwiGLU
 * MLP), final norm and the tied or untied head. Activations are kept for the
 * backward (or only the layer inputs, with recomputation).
 */
#include "ops.h"
#include "qwen2_priv.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <string.h>

void qw_proj_fwd(tkd_qwen2 *q, int l, int t, float *out, float *ax, const float *x, const float *w, const float *b,
                 int N, int IC, int OC) {
    op_matmul_fwd(out, x, w, b, N, IC, OC); // (N,OC)
    const tkd_lora *lo = q->lora;
    if (!lo || !(lo->cfg.targets >> t & 1))
        return;
    int r = lo->cfg.r;
    const float *xd = x;
    if (q->drop_seed && lo->cfg.dropout > 0) { // inverted dropout on the adapter's input
        float keep_scale = (float)(1.0 / (1.0 - lo->cfg.dropout));
        size_t n = (size_t)N * IC;
        for (size_t i = 0; i < n; i++)
            q->xdrop[i] = op_dropout_keep(q->drop_seed, l, t, i, lo->cfg.dropout) ? x[i] * keep_scale : 0.0f;
        xd = q->xdrop;
    }
    // ax (N,r) = xd (N,IC) @ A^T ; out += s * ax @ B^T
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, r, IC, 1.0f, xd, IC, tkd_lora_A(lo, l, t), IC, 0.0f, ax, r);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, r, tkd_lora_scale(lo), ax, r, tkd_lora_B(lo, l, t), r,
                1.0f, out, OC);
}

void qw_layer_fwd(tkd_qwen2 *q, int l, layer_acts *a, const float *in, float *out) {
    const tkd_model *m = q->m;
    const tkd_model_config *c = &m->cfg;
    int B = q->B, T = q->T, N = B * T, C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim,
        I = c->intermediate, QC = H * D, KC = KV * D;
    size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC;
    op_rmsnorm_fwd(a->ln1, a->rstd1, in, m->p[TKD_P_LN1] + lC, N, C, (float)c->rms_eps);
    qw_proj_fwd(q, l, TKD_LORA_Q, a->q, a->ax[TKD_LORA_Q], a->ln1, m->p[TKD_P_WQ] + lQ * C, m->p[TKD_P_BQ] + lQ, N, C,
                QC);
    qw_proj_fwd(q, l, TKD_LORA_K, a->k, a->ax[TKD_LORA_K], a->ln1, m->p[TKD_P_WK] + lK * C, m->p[TKD_P_BK] + lK, N, C,
                KC);
    qw_proj_fwd(q, l, TKD_LORA_V, a->v, a->ax[TKD_LORA_V], a->ln1, m->p[TKD_P_WV] + lK * C, m->p[TKD_P_BV] + lK, N, C,
                KC);
    op_rope(a->q, q->pos, N, H, D, q->cos_t, q->sin_t, 0);
    op_rope(a->k, q->pos, N, KV, D, q->cos_t, q->sin_t, 0);
    for (int b = 0; b < B; b++) { // (T,QC) per row
        size_t bt = (size_t)b * T;
        op_attention_fwd(a->atty + bt * QC, a->probs + (size_t)b * H * T * T, a->q + bt * QC, a->k + bt * KC,
                         a->v + bt * KC, q->has_doc ? q->docstart + bt : NULL, T, H, KV, D);
    }
    qw_proj_fwd(q, l, TKD_LORA_O, a->mid, a->ax[TKD_LORA_O], a->atty, m->p[TKD_P_WO] + lC * QC, NULL, N, QC, C);
    size_t NC = (size_t)N * C, NI = (size_t)N * I;
    for (size_t i = 0; i < NC; i++)
        a->mid[i] += in[i];
    op_rmsnorm_fwd(a->ln2, a->rstd2, a->mid, m->p[TKD_P_LN2] + lC, N, C, (float)c->rms_eps);
    size_t lI = (size_t)l * I;
    qw_proj_fwd(q, l, TKD_LORA_GATE, a->g, a->ax[TKD_LORA_GATE], a->ln2, m->p[TKD_P_WG] + lI * C, NULL, N, C, I);
    qw_proj_fwd(q, l, TKD_LORA_UP, a->u, a->ax[TKD_LORA_UP], a->ln2, m->p[TKD_P_WU] + lI * C, NULL, N, C, I);
    op_swiglu_fwd(a->h, a->g, a->u, NI);
    qw_proj_fwd(q, l, TKD_LORA_DOWN, out, a->ax[TKD_LORA_DOWN], a->h, m->p[TKD_P_WD] + lC * I, NULL, N, I, C);
    for (size_t i = 0; i < NC; i++)
        out[i] += a->mid[i];
}

int tkd_qwen2_forward(tkd_qwen2 *q, const int *tokens, const int *docstart, int B, int T, uint64_t dropout_seed,
                      tkd_err *e) {
    const tkd_model *m = q->m;
    const tkd_model_config *c = &m->cfg;
    if (B < 1 || T < 1 || B > q->o.B || T > q->o.T)
        return tkd_err_set(e, TKD_EINVAL, "batch %dx%d exceeds the trainer's %dx%d", B, T, q->o.B, q->o.T);
    q->B = B;
    q->T = T;
    q->drop_seed = dropout_seed;
    int N = B * T, C = c->hidden, L = c->n_layers, V = c->vocab;
    q->has_doc = docstart != NULL;
    int rc = op_positions(q->pos, tokens, docstart, N, T, V, e);
    if (rc)
        return rc;
    for (int n = 0; n < N; n++) {
        q->docstart[n] = docstart ? docstart[n] : 0;
        q->tokens[n] = tokens[n];
    }
    // embeddings (N,C)
    for (int n = 0; n < N; n++)
        memcpy(q->resid + (size_t)n * C, m->p[TKD_P_EMBED] + (size_t)tokens[n] * C, sizeof(float) * (size_t)C);
    for (int l = 0; l < L; l++) {
        const float *in = q->resid + (size_t)l * N * C;
        float *out = q->resid + (size_t)(l + 1) * N * C;
        qw_layer_fwd(q, l, &q->acts[q->o.recompute ? 0 : l], in, out);
    }
    op_rmsnorm_fwd(q->lnf, q->rstdf, q->resid + (size_t)L * N * C, m->p[TKD_P_NORM], N, C, (float)c->rms_eps);
    op_matmul_fwd(q->logits, q->lnf, tkd_model_head(m), NULL, N, C, V); // (N,V)
    return 0;
}
