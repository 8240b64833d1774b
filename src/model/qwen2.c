/*
 * The Qwen2 trainer: allocation of activations, gradients and scratch (one
 * block each, sized for the largest batch), the trainable parameter view
 * (adapter or all weights) and the masked cross-entropy loss.
 */
#include "qwen2_priv.h"

#include "ops.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static size_t layer_floats(const tkd_model_config *c, const tkd_lora *lora, size_t N, size_t B, size_t T) {
    size_t C = (size_t)c->hidden, QC = (size_t)c->n_heads * c->head_dim, KC = (size_t)c->n_kv_heads * c->head_dim,
           I = (size_t)c->intermediate;
    size_t n = N * C * 4 + N * 2 + N * QC * 2 + N * KC * 2 + B * (size_t)c->n_heads * T * T + N * I * 3;
    if (lora)
        n += TKD_LORA_NT * N * (size_t)lora->cfg.r;
    return n;
}

static void layer_carve(layer_acts *a, float **p, const tkd_model_config *c, const tkd_lora *lora, size_t N, size_t B,
                        size_t T) {
    size_t C = (size_t)c->hidden, QC = (size_t)c->n_heads * c->head_dim, KC = (size_t)c->n_kv_heads * c->head_dim,
           I = (size_t)c->intermediate;
#define TAKE(x, n) (a->x = *p, *p += (n))
    TAKE(ln1, N * C);
    TAKE(rstd1, N);
    TAKE(q, N * QC);
    TAKE(k, N * KC);
    TAKE(v, N * KC);
    TAKE(probs, B * (size_t)c->n_heads * T * T);
    TAKE(atty, N * QC);
    TAKE(mid, N * C);
    TAKE(ln2, N * C);
    TAKE(rstd2, N);
    TAKE(g, N * I);
    TAKE(u, N * I);
    TAKE(h, N * I);
#undef TAKE
    for (int t = 0; t < TKD_LORA_NT; t++) {
        a->ax[t] = NULL;
        if (lora && (lora->cfg.targets >> t & 1)) {
            a->ax[t] = *p;
            *p += N * (size_t)lora->cfg.r;
        } else if (lora) {
            *p += N * (size_t)lora->cfg.r;
        }
    }
}

int tkd_qwen2_new(tkd_qwen2 **out, tkd_model *m, tkd_lora *lora, const tkd_qwen2_opts *o, tkd_err *e) {
    const tkd_model_config *c = &m->cfg;
    if (o->B < 1 || o->T < 1 || o->T > c->max_pos)
        return tkd_err_set(e, TKD_EINVAL, "batch %d and sequence %d must be >= 1, sequence <= %d positions", o->B, o->T,
                           c->max_pos);
    if (o->full && lora)
        return tkd_err_set(e, TKD_EINVAL, "full fine-tuning and a LoRA adapter are exclusive");
    tkd_qwen2 *q = tkd_calloc(1, sizeof *q, e);
    if (!q)
        return TKD_ENOMEM;
    q->m = m;
    q->lora = lora;
    q->o = *o;
    size_t B = (size_t)o->B, T = (size_t)o->T, N = B * T, L = (size_t)c->n_layers, C = (size_t)c->hidden,
           QC = (size_t)c->n_heads * c->head_dim, KC = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate,
           V = (size_t)c->vocab, D2 = (size_t)c->head_dim / 2;
    size_t r = lora ? (size_t)lora->cfg.r : 0, maxin = C > I ? C : I;
    maxin = maxin > QC ? maxin : QC;
    size_t nsets = o->recompute ? 1 : L;
    size_t total = 2 * T * D2 + (L + 1) * N * C + nsets * layer_floats(c, lora, N, B, T) + N * C + 2 * N + N * V +
                   N * C + 2 * N * C + 2 * N * QC + 2 * N * KC + 3 * N * I + T * T + N * r + 2 * N * maxin;
    q->act_mem = tkd_malloc(total * sizeof(float), e);
    q->acts = tkd_calloc(nsets, sizeof(layer_acts), e);
    q->pos = tkd_calloc(N, sizeof(int), e);
    q->docstart = tkd_calloc(N, sizeof(int), e);
    q->tokens = tkd_calloc(N, sizeof(int), e);
    if (!q->act_mem || !q->acts || !q->pos || !q->docstart || !q->tokens) {
        tkd_qwen2_free(q);
        return tkd_err_wrap(e, "trainer activations (%zu MB)", total * 4 >> 20);
    }
    float *p = q->act_mem;
    q->cos_t = p, p += T * D2;
    q->sin_t = p, p += T * D2;
    op_rope_table(q->cos_t, q->sin_t, (int)T, c->head_dim, c->rope_theta);
    q->resid = p, p += (L + 1) * N * C;
    for (size_t l = 0; l < nsets; l++)
        layer_carve(&q->acts[l], &p, c, lora, N, B, T);
    q->lnf = p, p += N * C;
    q->rstdf = p, p += N;
    q->rowinv = p, p += N;
    q->logits = p, p += N * V;
    q->tmp_out = p, p += N * C;
    q->dresid = p, p += N * C;
    q->dln = p, p += N * C;
    q->dq = p, p += N * QC;
    q->datty = p, p += N * QC;
    q->dk = p, p += N * KC;
    q->dv = p, p += N * KC;
    q->dg = p, p += N * I;
    q->du = p, p += N * I;
    q->dh = p, p += N * I;
    q->datt = p, p += T * T;
    q->dax = p, p += N * r;
    q->xdrop = p, p += N * maxin;
    q->xtmp = p, p += N * maxin;
    /* gradients */
    q->n_train = o->full ? m->n_params : lora ? lora->n_params : 0;
    if (q->n_train) {
        q->grad_mem = tkd_calloc(q->n_train, sizeof(float), e);
        if (!q->grad_mem) {
            tkd_qwen2_free(q);
            return tkd_err_wrap(e, "gradients");
        }
    }
    if (o->full)
        for (int k = 0; k < TKD_P_COUNT; k++)
            q->gp[k] = q->grad_mem + (m->p[k] - m->mem);
    *out = q;
    return 0;
}

void tkd_qwen2_free(tkd_qwen2 *q) {
    if (!q)
        return;
    free(q->act_mem);
    free(q->acts);
    free(q->pos);
    free(q->docstart);
    free(q->tokens);
    free(q->grad_mem);
    free(q);
}

const float *tkd_qwen2_logits(const tkd_qwen2 *q) {
    return q->logits;
}

float *tkd_qwen2_params(tkd_qwen2 *q, size_t *n) {
    *n = q->n_train;
    return q->o.full ? q->m->mem : q->lora ? q->lora->mem : NULL;
}

float *tkd_qwen2_grads(tkd_qwen2 *q, size_t *n) {
    *n = q->n_train;
    return q->grad_mem;
}

void tkd_qwen2_zero_grad(tkd_qwen2 *q) {
    if (q->grad_mem)
        memset(q->grad_mem, 0, q->n_train * sizeof(float));
}

double tkd_qwen2_loss(tkd_qwen2 *q, const int *targets, const uint8_t *mask, long *count) {
    size_t N = (size_t)q->B * q->T, V = (size_t)q->m->cfg.vocab;
    double loss = 0;
    long cnt = 0;
    for (size_t n = 0; n < N; n++) {
        if (!mask[n])
            continue;
        float *row = q->logits + n * V;
        float mx = -INFINITY;
        for (size_t i = 0; i < V; i++)
            mx = row[i] > mx ? row[i] : mx;
        double sum = 0;
        for (size_t i = 0; i < V; i++) {
            row[i] = expf(row[i] - mx);
            sum += row[i];
        }
        q->rowinv[n] = (float)(1.0 / sum); // the backward normalises as it scales
        double pt = row[targets[n]] / sum;
        loss -= log(pt > 0 ? pt : 1e-45);
        cnt++;
    }
    *count = cnt;
    return loss;
}
