/*
 * The GPU trainer's memory plan: where every buffer of the CUDA model lies
 * in its three allocations (weights; activations; gradients and optimizer
 * state), their sizes, and the FLOPs per token for MFU. Plain C so that
 * `tkd train --dry-run` answers from config.json alone, on any machine; the
 * CUDA model (cuda/model.cu) carves its buffers with the same function.
 */
#include "gpu_layout.h"

#include <stdint.h>
#include <string.h>

/* a buffer of n bytes at the aligned end of an allocation */
static size_t take(size_t *end, size_t n) {
    size_t at = (*end + TKD_GPU_ALIGN - 1) / TKD_GPU_ALIGN * TKD_GPU_ALIGN;
    *end = at + n;
    return at;
}

static size_t align_up(size_t n) {
    return (n + TKD_GPU_ALIGN - 1) / TKD_GPU_ALIGN * TKD_GPU_ALIGN;
}

size_t tkd_gpu_attn_scratch_bytes(int B, int T, int H, int KV, int D) {
    size_t N = (size_t)B * T;
    /* fp32 accumulators for dq (N,H*D), dk and dv (N,KV*D), and the row dot products D_i = rowsum(dO * O) (B,H,T) */
    return N * (size_t)H * D * 4 + 2 * N * (size_t)KV * D * 4 + (size_t)B * H * T * 4;
}

static int check_shape(const tkd_model_config *c, const tkd_lora_config *lora, int full, int B, int T, tkd_err *e) {
    if (c->hidden < 1 || c->n_layers < 1 || c->n_heads < 1 || c->n_kv_heads < 1 || c->intermediate < 1 ||
        c->vocab < 1 || c->head_dim < 2)
        return tkd_err_set(e, TKD_EINVAL, "model config has a non-positive size");
    if (c->n_heads % c->n_kv_heads)
        return tkd_err_set(e, TKD_EINVAL, "%d attention heads are not a multiple of %d key-value heads", c->n_heads,
                           c->n_kv_heads);
    if (c->head_dim % 2 || c->head_dim > 256)
        return tkd_err_set(e, TKD_EINVAL, "head dimension %d: the GPU attention takes even sizes up to 256",
                           c->head_dim);
    if (B < 1 || T < 1 || (c->max_pos > 0 && T > c->max_pos))
        return tkd_err_set(e, TKD_EINVAL, "batch %d and sequence %d must be >= 1, sequence <= %d positions", B, T,
                           c->max_pos);
    if ((size_t)B * T > INT32_MAX / 2)
        return tkd_err_set(e, TKD_EINVAL, "batch %d x sequence %d tokens is too many for one micro-batch", B, T);
    if (full && lora)
        return tkd_err_set(e, TKD_EINVAL, "full fine-tuning and a LoRA adapter are exclusive");
    if (lora && (lora->r < 1 || lora->r > 4096 || lora->alpha <= 0 || lora->dropout < 0 || lora->dropout >= 1 ||
                 !lora->targets || lora->targets >> TKD_LORA_NT))
        return tkd_err_set(e, TKD_EINVAL, "LoRA needs r in [1,4096], alpha > 0, dropout in [0,1) and a target");
    return 0;
}

int tkd_gpu_layout_make(const tkd_model_config *c, const tkd_lora_config *lora, int full, int B, int T, int recompute,
                        tkd_gpu_layout *l, tkd_err *e) {
    memset(l, 0, sizeof *l);
    int rc = check_shape(c, lora, full, B, T, e);
    if (rc)
        return rc;
    l->cfg = *c;
    l->B = B;
    l->T = T;
    l->N = B * T;
    l->full = !!full;
    l->recompute = !!recompute;
    l->lora = lora != NULL;
    if (lora)
        l->lcfg = *lora;
    size_t N = (size_t)B * T, L = (size_t)c->n_layers, C = (size_t)c->hidden, H = (size_t)c->n_heads,
           QC = (size_t)c->n_heads * c->head_dim, KC = (size_t)c->n_kv_heads * c->head_dim, I = (size_t)c->intermediate,
           V = (size_t)c->vocab, r = lora ? (size_t)lora->r : 0;

    /* parameters, in tkd_model_alloc's and tkd_lora_alloc's order */
    for (int k = 0; k < TKD_P_COUNT; k++) {
        int64_t s[2] = {1, 1};
        int nd = tkd_model_tensor_shape(c, k, s);
        size_t slice = nd == 2 ? (size_t)(s[0] * s[1]) : (size_t)s[0];
        int per_layer = k != TKD_P_EMBED && k != TKD_P_NORM && k != TKD_P_HEAD;
        l->msize[k] = (k == TKD_P_HEAD && c->tie) ? 0 : slice * (per_layer ? L : 1);
        l->moff[k] = l->n_model;
        l->n_model += l->msize[k];
    }
    int in[TKD_LORA_NT] = {(int)C, (int)C, (int)C, (int)QC, (int)C, (int)C, (int)I};
    int out[TKD_LORA_NT] = {(int)QC, (int)KC, (int)KC, (int)C, (int)I, (int)I, (int)C};
    for (int t = 0; t < TKD_LORA_NT; t++) {
        l->lora_in[t] = in[t];
        l->lora_out[t] = out[t];
        if (!lora || !(lora->targets >> t & 1))
            continue;
        l->lora_off_a[t] = l->n_lora;
        l->n_lora += L * r * (size_t)in[t];
        l->lora_off_b[t] = l->n_lora;
        l->n_lora += L * (size_t)out[t] * r;
    }
    l->n_train = full ? l->n_model : l->n_lora;
    l->n_frozen = full ? 0 : l->n_model;

    /* 1: weights */
    size_t end = 0;
    l->w_base = take(&end, l->n_model * 2);
    l->w_master = take(&end, l->n_train * 4);
    l->w_lora_bf16 = lora ? take(&end, l->n_lora * 2) : TKD_GPU_NO_BUFFER;
    l->weights = align_up(end);

    /* 2: activations */
    end = 0;
    l->tokens = take(&end, N * 4);
    l->docstart = take(&end, N * 4);
    l->pos = take(&end, N * 4);
    l->targets = take(&end, N * 4);
    l->mask = take(&end, N);
    l->resid = take(&end, (L + 1) * N * C * 2);
    size_t s = 0; /* one layer set */
    tkd_gpu_layer_offs *o = &l->set;
    o->ln1 = take(&s, N * C * 2);
    o->rstd1 = take(&s, N * 4);
    o->q = take(&s, N * QC * 2);
    o->k = take(&s, N * KC * 2);
    o->v = take(&s, N * KC * 2);
    o->lse = take(&s, (size_t)B * H * T * 4);
    o->atty = take(&s, N * QC * 2);
    o->mid = take(&s, N * C * 2);
    o->ln2 = take(&s, N * C * 2);
    o->rstd2 = take(&s, N * 4);
    o->g = take(&s, N * I * 2);
    o->u = take(&s, N * I * 2);
    o->h = take(&s, N * I * 2);
    for (int t = 0; t < TKD_LORA_NT; t++)
        o->ax[t] = lora && (lora->targets >> t & 1) ? take(&s, N * r * 2) : TKD_GPU_NO_BUFFER;
    l->set_stride = align_up(s);
    l->nsets = recompute ? 1 : (int)L;
    l->set0 = take(&end, l->set_stride * (size_t)l->nsets);
    l->lnf = take(&end, N * C * 2);
    l->rstdf = take(&end, N * 4);
    l->tmp_out = recompute ? take(&end, N * C * 2) : TKD_GPU_NO_BUFFER;
    size_t rows = TKD_GPU_LOSS_CHUNK_BYTES / (V * 6); /* fp32 logits + bf16 gradient */
    if (rows > 64)
        rows = rows / 64 * 64;
    if (rows < 1)
        rows = 1;
    if (rows > N)
        rows = N;
    l->chunk_rows = (int)rows;
    l->logits = take(&end, rows * V * 4);
    l->dlogits = take(&end, rows * V * 2);
    l->loss = take(&end, 2 * 4);
    l->dresid = take(&end, N * C * 2);
    l->dln = take(&end, N * C * 2);
    l->dq = take(&end, N * QC * 2);
    l->datty = take(&end, N * QC * 2);
    l->dk = take(&end, N * KC * 2);
    l->dv = take(&end, N * KC * 2);
    l->dg = take(&end, N * I * 2);
    l->du = take(&end, N * I * 2);
    l->dh = take(&end, N * I * 2);
    l->dax = lora ? take(&end, N * r * 2) : TKD_GPU_NO_BUFFER;
    size_t maxin = C > I ? C : I;
    maxin = maxin > QC ? maxin : QC;
    int drop = lora && lora->dropout > 0;
    l->xdrop = drop ? take(&end, N * maxin * 2) : TKD_GPU_NO_BUFFER;
    l->xtmp = drop ? take(&end, N * maxin * 2) : TKD_GPU_NO_BUFFER;
    l->attn_scratch_bytes = tkd_gpu_attn_scratch_bytes(B, T, c->n_heads, c->n_kv_heads, c->head_dim);
    l->attn_scratch = take(&end, l->attn_scratch_bytes);
    l->lt_ws_bytes = TKD_GPU_LT_WORKSPACE;
    l->lt_ws = take(&end, l->lt_ws_bytes);
    l->activations = align_up(end);

    /* 3: gradients and AdamW state */
    end = 0;
    l->grads = take(&end, l->n_train * 4);
    l->adam_m = take(&end, l->n_train * 4);
    l->adam_v = take(&end, l->n_train * 4);
    l->sumsq_scratch_bytes = TKD_GPU_SUMSQ_SCRATCH;
    l->sumsq_scratch = take(&end, l->sumsq_scratch_bytes);
    l->norm_cell = take(&end, 2 * 4);
    l->state = align_up(end);
    return 0;
}

int tkd_gpu_plan_make(const tkd_model_config *c, const tkd_lora_config *lora, int full, int B, int T, int recompute,
                      tkd_gpu_plan *p, tkd_err *e) {
    memset(p, 0, sizeof *p);
    tkd_gpu_layout l;
    int rc = tkd_gpu_layout_make(c, lora, full, B, T, recompute, &l, e);
    if (rc)
        return rc;
    p->weights = l.weights;
    p->activations = l.activations;
    p->state = l.state;
    p->total = l.weights + l.activations + l.state + TKD_GPU_RESERVE;
    p->n_frozen = l.n_frozen;
    p->n_trainable = l.n_train;
    p->loss_chunk_rows = l.chunk_rows;
    /*
     * FLOPs per token as NeMo AutoModel counts Qwen2 (qwen3_flops in
     * nemo_automodel/components/utils/flops_utils.py, per token): 6 x the
     * matmul parameters (q, k, v, o, gate, up, down of every layer and the
     * head once; no embeddings lookup, norms or biases) plus attention
     * 6 x L x H x D x T: QK^T and PV, 2 FLOPs per multiply-add, forward plus
     * a backward of twice its cost, over the causal half of the (T,T)
     * scores (the non-causal count would be 12 x L x H x D x T). With a
     * frozen base the backward skips the weight gradients: NeMo's factor
     * (2 + trainable/frozen) / 3; full fine-tuning keeps the full count.
     */
    double Cd = c->hidden, QCd = (double)c->n_heads * c->head_dim, KCd = (double)c->n_kv_heads * c->head_dim,
           Id = c->intermediate, Vd = c->vocab, Ld = c->n_layers;
    double matmul_params = Ld * (Cd * QCd + 2 * Cd * KCd + QCd * Cd + 3 * Cd * Id) + Vd * Cd;
    double attn = 6.0 * Ld * QCd * T;
    double f = 6.0 * matmul_params + attn;
    if (!full && l.n_frozen)
        f *= (2.0 + (double)l.n_train / (double)l.n_frozen) / 3.0;
    p->flops_per_token = f;
    return 0;
}

void tkd_gpu_plan_print(const tkd_gpu_plan *p, FILE *f) {
    const double G = 1024.0 * 1024.0 * 1024.0;
    fprintf(f, "GPU memory plan (per GPU)                            GiB\n");
    fprintf(f, "  weights (bf16 base, fp32 trainable + bf16 copy) %7.2f\n", p->weights / G);
    fprintf(f, "  activations (kept for backward, scratch, loss)  %7.2f\n", p->activations / G);
    fprintf(f, "  gradients and AdamW state (fp32)                %7.2f\n", p->state / G);
    fprintf(f, "  CUDA context and libraries (reserve)            %7.2f\n", (double)TKD_GPU_RESERVE / G);
    fprintf(f, "  total                                           %7.2f\n", p->total / G);
    fprintf(f, "  parameters: %zu frozen, %zu trainable; loss chunk %d rows; %.3g FLOPs/token\n", p->n_frozen,
            p->n_trainable, p->loss_chunk_rows, p->flops_per_token);
}
