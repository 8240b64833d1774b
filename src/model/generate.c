/*
 * Generation with a KV cache and continuous batching (tkd_decoder). Every
 * step is one forward pass over a batch of rows: one row (the last sampled
 * token) for each running sequence, plus the whole prompt of each newly
 * admitted sequence (batched prefill, at most TKD_GEN_PREFILL_TOKENS prompt
 * tokens per step). The projections, the MLP and the head are one sgemm over
 * all rows; attention runs per sequence against its own cache. A sequence
 * ends at a stop token, at its max_new, or when the caller ends it; its slot
 * is then free for the next prompt, so the batch stays full.
 *
 * Greedy, or temperature with top-p from a per-sequence RNG seeded by the
 * sequence's own seed, so a sequence's tokens do not depend on what it is
 * batched with. tkd_generate (a fixed set of prompts) runs on the decoder.
 */
#include "ops.h"
#include "tkd/model.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* a slot's life: FREE -> QUEUED (added) -> ADMITTED (prefilled in this step)
 * -> RUNNING -> DONE (stop token, max_new, or ended) -> HANDED (reported by
 * next_done) -> FREE (released) */
enum { SEQ_FREE = 0, SEQ_QUEUED, SEQ_ADMITTED, SEQ_RUNNING, SEQ_DONE, SEQ_HANDED };

typedef struct seq {
    int state, reason;
    int *prompt, n_prompt; /* kept until prefilled */
    int *out, n_out;       /* generated tokens (max_new + 1) */
    int next;              /* sampled, not yet fed (RUNNING) */
    int len;               /* positions in the cache */
    int cap;               /* positions the cache holds */
    float *kc, *vc;        /* (cap, L, KV*D): position-major, so growing is a realloc */
    int max_new;
    double temperature, top_p;
    int *stop_ids, n_stop_ids;
    tkd_rng rng;
    long order; /* admission order (FIFO prefill) */
} seq;

struct tkd_decoder {
    const tkd_model *m;
    int n_seqs;
    seq *s;
    long admitted;
    /* per step */
    int *rows_seq, *batch;                       /* (R) sequence of each row; (n_seqs) sequences in this step */
    int *tokens, *pos;                           /* (R) */
    int R;                                       /* rows the scratch holds */
    float *x, *ln, *q, *k, *v, *att, *o, *g, *u; /* (R, ...) */
    float *scores;
    size_t n_scores;
    float *logits;        /* (n_seqs, V) */
    float *cos_t, *sin_t; /* (max_pos, D/2) */
    struct pi_pair {
        float p;
        int i;
    } * buf; /* (V) top-p scratch */
};

void tkd_decoder_free(tkd_decoder *d) {
    if (!d)
        return;
    for (int i = 0; d->s && i < d->n_seqs; i++) {
        free(d->s[i].prompt);
        free(d->s[i].out);
        free(d->s[i].kc);
        free(d->s[i].vc);
        free(d->s[i].stop_ids);
    }
    free(d->s);
    free(d->rows_seq);
    free(d->batch);
    free(d->tokens);
    free(d->pos);
    free(d->x);
    free(d->scores);
    free(d->logits);
    free(d->cos_t);
    free(d->buf);
    free(d);
}

int tkd_decoder_new(const tkd_model *m, int max_seqs, tkd_decoder **out, tkd_err *e) {
    const tkd_model_config *c = &m->cfg;
    *out = NULL;
    if (max_seqs < 1)
        return tkd_err_set(e, TKD_EINVAL, "the decoder needs at least one sequence slot");
    tkd_decoder *d = tkd_calloc(1, sizeof *d, e);
    if (!d)
        return TKD_ENOMEM;
    d->m = m;
    d->n_seqs = max_seqs;
    size_t D2 = (size_t)c->head_dim / 2;
    d->s = tkd_calloc((size_t)max_seqs, sizeof *d->s, e);
    d->batch = tkd_calloc((size_t)max_seqs, sizeof *d->batch, e);
    d->logits = tkd_malloc(sizeof(float) * (size_t)max_seqs * (size_t)c->vocab, e);
    d->cos_t = tkd_malloc(sizeof(float) * 2 * (size_t)c->max_pos * D2, e);
    d->buf = tkd_malloc(sizeof *d->buf * (size_t)c->vocab, e);
    if (!d->s || !d->batch || !d->logits || !d->cos_t || !d->buf) {
        tkd_decoder_free(d);
        return tkd_err_wrap(e, "decoder buffers");
    }
    d->sin_t = d->cos_t + (size_t)c->max_pos * D2;
    op_rope_table(d->cos_t, d->sin_t, c->max_pos, c->head_dim, c->rope_theta);
    *out = d;
    return 0;
}

/* Scratch for R rows (grows). */
static int ensure_rows(tkd_decoder *d, int R, tkd_err *e) {
    if (R <= d->R)
        return 0;
    const tkd_model_config *c = &d->m->cfg;
    size_t C = (size_t)c->hidden, QC = (size_t)c->n_heads * c->head_dim, KC = (size_t)c->n_kv_heads * c->head_dim,
           I = (size_t)c->intermediate, r = (size_t)R;
    free(d->x);
    free(d->rows_seq);
    free(d->tokens);
    free(d->pos);
    d->x = tkd_malloc(sizeof(float) * r * (3 * C + 2 * QC + 2 * KC + 2 * I), e);
    d->rows_seq = tkd_malloc(sizeof(int) * r, e);
    d->tokens = tkd_malloc(sizeof(int) * r, e);
    d->pos = tkd_malloc(sizeof(int) * r, e);
    if (!d->x || !d->rows_seq || !d->tokens || !d->pos) {
        d->R = 0;
        return tkd_err_wrap(e, "decoder scratch for %d rows", R);
    }
    float *p = d->x + r * C;
    d->ln = p, p += r * C;
    d->o = p, p += r * C;
    d->q = p, p += r * QC;
    d->att = p, p += r * QC;
    d->k = p, p += r * KC;
    d->v = p, p += r * KC;
    d->g = p, p += r * I;
    d->u = p;
    d->R = R;
    return 0;
}

/* Room in sequence s's cache for `need` positions. */
static int ensure_cache(tkd_decoder *d, seq *s, int need, tkd_err *e) {
    if (need <= s->cap)
        return 0;
    const tkd_model_config *c = &d->m->cfg;
    int cap = s->cap ? s->cap : 64;
    while (cap < need)
        cap *= 2;
    int most = s->n_prompt + s->max_new + 1;
    if (cap > most && most >= need)
        cap = most;
    size_t per = (size_t)c->n_layers * c->n_kv_heads * c->head_dim;
    float *k = realloc(s->kc, sizeof(float) * per * (size_t)cap),
          *v = k ? realloc(s->vc, sizeof(float) * per * (size_t)cap) : NULL;
    if (k)
        s->kc = k;
    if (v)
        s->vc = v;
    if (!k || !v)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory for a KV cache of %d positions", cap);
    s->cap = cap;
    return 0;
}

int tkd_decoder_add(tkd_decoder *d, const int *prompt, int n, const tkd_gen_opts *o, int *slot, tkd_err *e) {
    const tkd_model_config *c = &d->m->cfg;
    if (n < 1)
        return tkd_err_set(e, TKD_EINVAL, "the prompt is empty");
    for (int t = 0; t < n; t++)
        if (prompt[t] < 0 || prompt[t] >= c->vocab)
            return tkd_err_set(e, TKD_EINVAL, "token id %d is outside the vocabulary (%d)", prompt[t], c->vocab);
    if (o->max_new < 0 || n + o->max_new > c->max_pos)
        return tkd_err_set(e, TKD_EINVAL, "prompt (%d tokens) + max_new (%d) exceeds max_position_embeddings %d", n,
                           o->max_new, c->max_pos);
    int i = 0;
    while (i < d->n_seqs && d->s[i].state != SEQ_FREE)
        i++;
    if (i == d->n_seqs)
        return tkd_err_set(e, TKD_ELIMIT, "every decoder slot is in use (%d)", d->n_seqs);
    seq *s = &d->s[i];
    s->prompt = tkd_malloc(sizeof(int) * (size_t)n, e);
    int *out = realloc(s->out, sizeof(int) * (size_t)(o->max_new + 1));
    int *stops = o->n_stop_ids ? tkd_malloc(sizeof(int) * (size_t)o->n_stop_ids, e) : NULL;
    if (out)
        s->out = out;
    if (!s->prompt || !out || (o->n_stop_ids && !stops)) {
        free(s->prompt);
        free(stops);
        s->prompt = NULL;
        return tkd_err_set(e, TKD_ENOMEM, "out of memory adding a prompt");
    }
    memcpy(s->prompt, prompt, sizeof(int) * (size_t)n);
    if (o->n_stop_ids)
        memcpy(stops, o->stop_ids, sizeof(int) * (size_t)o->n_stop_ids);
    free(s->stop_ids);
    s->stop_ids = stops;
    s->n_stop_ids = o->n_stop_ids;
    s->n_prompt = n;
    s->n_out = 0;
    s->len = 0;
    s->max_new = o->max_new;
    s->temperature = o->temperature;
    s->top_p = o->top_p;
    tkd_rng_seed(&s->rng, o->seed);
    s->order = d->admitted++;
    s->state = SEQ_QUEUED;
    s->reason = 0;
    if (o->max_new == 0) { /* nothing to generate */
        s->state = SEQ_DONE;
        s->reason = TKD_GEN_LENGTH;
    }
    *slot = i;
    return 0;
}

/* The forward pass over the rows of the sequences batch[0..S): rows_seq,
 * tokens and pos are filled, rows of one sequence are consecutive. Leaves
 * the logits of each sequence's last row in d->logits (S, V). */
static void forward(tkd_decoder *d, int S, int N) {
    const tkd_model *m = d->m;
    const tkd_model_config *c = &m->cfg;
    int C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, I = c->intermediate, QC = H * D,
        KC = KV * D, L = c->n_layers, V = c->vocab, Gq = H / KV;
    size_t LKC = (size_t)L * KC;
    float eps = (float)c->rms_eps, scale = 1.0f / sqrtf((float)D);
    for (int n = 0; n < N; n++)
        memcpy(d->x + (size_t)n * C, m->p[TKD_P_EMBED] + (size_t)d->tokens[n] * C, sizeof(float) * (size_t)C);
    for (int l = 0; l < L; l++) {
        size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC, lI = (size_t)l * I;
        op_rmsnorm_fwd(d->ln, NULL, d->x, m->p[TKD_P_LN1] + lC, N, C, eps);
        op_matmul_fwd(d->q, d->ln, m->p[TKD_P_WQ] + lQ * C, m->p[TKD_P_BQ] + lQ, N, C, QC);
        op_matmul_fwd(d->k, d->ln, m->p[TKD_P_WK] + lK * C, m->p[TKD_P_BK] + lK, N, C, KC);
        op_matmul_fwd(d->v, d->ln, m->p[TKD_P_WV] + lK * C, m->p[TKD_P_BV] + lK, N, C, KC);
        op_rope(d->q, d->pos, N, H, D, d->cos_t, d->sin_t, 0);
        op_rope(d->k, d->pos, N, KV, D, d->cos_t, d->sin_t, 0);
        for (int b = 0, r0 = 0; b < S; b++) {
            seq *s = &d->s[d->batch[b]];
            int cnt = 0;
            while (r0 + cnt < N && d->rows_seq[r0 + cnt] == d->batch[b])
                cnt++;
            int base = s->len, Lk = base + cnt;
            float *kc = s->kc + lK, *vc = s->vc + lK; /* position j of layer l: + j * L*KC */
            for (int i = 0; i < cnt; i++) {
                memcpy(kc + (size_t)(base + i) * LKC, d->k + (size_t)(r0 + i) * KC, sizeof(float) * (size_t)KC);
                memcpy(vc + (size_t)(base + i) * LKC, d->v + (size_t)(r0 + i) * KC, sizeof(float) * (size_t)KC);
            }
            for (int h = 0; h < H; h++) {
                int kh = h / Gq;
                const float *qh = d->q + (size_t)r0 * QC + h * D;
                float *oh = d->att + (size_t)r0 * QC + h * D;
                if (cnt == 1) { // decoding: dot products; an sgemm call per head costs more than it saves
                    float *row = d->scores, mx = -INFINITY;
                    for (int j = 0; j < Lk; j++) {
                        const float *kj = kc + (size_t)j * LKC + kh * D;
                        float dot = 0;
                        for (int i = 0; i < D; i++)
                            dot += qh[i] * kj[i];
                        row[j] = dot * scale;
                        mx = row[j] > mx ? row[j] : mx;
                    }
                    double sum = 0;
                    for (int j = 0; j < Lk; j++)
                        sum += row[j] = expf(row[j] - mx);
                    float inv = (float)(1.0 / sum);
                    memset(oh, 0, sizeof(float) * (size_t)D);
                    for (int j = 0; j < Lk; j++) {
                        const float *vj = vc + (size_t)j * LKC + kh * D;
                        float pj = row[j] * inv;
                        for (int i = 0; i < D; i++)
                            oh[i] += pj * vj[i];
                    }
                    continue;
                }
                // scores (cnt, Lk) = scale * Q_h (cnt,D) @ K^T (D,Lk)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cnt, Lk, D, scale, qh, QC, kc + kh * D, (int)LKC,
                            0.0f, d->scores, Lk);
                for (int i = 0; i < cnt; i++) {
                    float *row = d->scores + (size_t)i * Lk, mx = -INFINITY;
                    int last = base + i; // causal: keys 0..last
                    for (int j = 0; j <= last; j++)
                        mx = row[j] > mx ? row[j] : mx;
                    double sum = 0;
                    for (int j = 0; j <= last; j++)
                        sum += row[j] = expf(row[j] - mx);
                    for (int j = 0; j < Lk; j++)
                        row[j] = j <= last ? (float)(row[j] / sum) : 0.0f;
                }
                // out_h (cnt,D) = P (cnt,Lk) @ V (Lk,D)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cnt, D, Lk, 1.0f, d->scores, Lk, vc + kh * D,
                            (int)LKC, 0.0f, oh, QC);
            }
            r0 += cnt;
        }
        op_matmul_fwd(d->o, d->att, m->p[TKD_P_WO] + lC * QC, NULL, N, QC, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            d->x[i] += d->o[i];
        op_rmsnorm_fwd(d->ln, NULL, d->x, m->p[TKD_P_LN2] + lC, N, C, eps);
        op_matmul_fwd(d->g, d->ln, m->p[TKD_P_WG] + lI * C, NULL, N, C, I);
        op_matmul_fwd(d->u, d->ln, m->p[TKD_P_WU] + lI * C, NULL, N, C, I);
        op_swiglu_fwd(d->g, d->g, d->u, (size_t)N * I);
        op_matmul_fwd(d->o, d->g, m->p[TKD_P_WD] + lC * I, NULL, N, I, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            d->x[i] += d->o[i];
    }
    for (int b = 0, r = 0; b < S; b++) { // last row of each sequence -> (S,C)
        seq *s = &d->s[d->batch[b]];
        int cnt = 0;
        while (r + cnt < N && d->rows_seq[r + cnt] == d->batch[b])
            cnt++;
        memmove(d->ln + (size_t)b * C, d->x + (size_t)(r + cnt - 1) * C, sizeof(float) * (size_t)C);
        s->len += cnt;
        r += cnt;
    }
    op_rmsnorm_fwd(d->x, NULL, d->ln, m->p[TKD_P_NORM], S, C, eps);
    op_matmul_fwd(d->logits, d->x, tkd_model_head(m), NULL, S, C, V); // (S,V)
}

static int by_p_desc(const void *a, const void *b) {
    const struct pi_pair *x = a, *y = b;
    return x->p < y->p ? 1 : x->p > y->p ? -1 : x->i - y->i;
}

static int sample_token(tkd_decoder *d, seq *s, const float *logits) {
    int V = d->m->cfg.vocab, best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    if (s->temperature <= 0)
        return best;
    struct pi_pair *buf = d->buf;
    double sum = 0, inv_t = 1.0 / s->temperature;
    for (int i = 0; i < V; i++) {
        buf[i].p = (float)exp((logits[i] - logits[best]) * inv_t);
        buf[i].i = i;
        sum += buf[i].p;
    }
    int n = V;
    if (s->top_p > 0 && s->top_p < 1) { // smallest prefix with mass >= top_p
        /* Only the largest probabilities can be in the nucleus: gather those
         * >= tau, lowering tau until they hold the mass, and sort only them
         * (a full sort of 151,936 entries per token cost ~15 ms). Their
         * sorted order is the full sort's prefix, so the result is the same;
         * should rounding leave their sorted mass short, the full sort runs. */
        double target = s->top_p * sum, acc = 0;
        float tau = 1.0f; /* the largest p is exp(0) = 1 */
        int m = 0;
        for (;;) {
            tau *= 1.0f / 16;
            double mass = 0;
            for (int i = 0; i < V; i++)
                if (buf[i].p >= tau)
                    mass += buf[i].p;
            if (mass >= target || tau == 0.0f)
                break;
        }
        for (int i = 0; i < V; i++)
            if (buf[i].p >= tau)
                buf[m++] = buf[i];
        qsort(buf, (size_t)m, sizeof *buf, by_p_desc);
        for (n = 0; n < m && acc < target; n++)
            acc += buf[n].p;
        if (acc < target) { /* rounding: the candidates fell short; sort them all */
            for (int i = 0; i < V; i++) {
                buf[i].p = (float)exp((logits[i] - logits[best]) * inv_t);
                buf[i].i = i;
            }
            qsort(buf, (size_t)V, sizeof *buf, by_p_desc);
            for (acc = 0, n = 0; n < V && acc < target; n++)
                acc += buf[n].p;
        }
        sum = acc;
    }
    double u = tkd_rng_uniform(&s->rng) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += buf[i].p;
        if (u < acc)
            return buf[i].i;
    }
    return buf[n - 1].i;
}

/* A token was sampled for s: end at a stop token (not emitted) or max_new. */
static void take_token(seq *s, int t) {
    for (int j = 0; j < s->n_stop_ids; j++)
        if (t == s->stop_ids[j]) {
            s->state = SEQ_DONE;
            s->reason = TKD_GEN_STOP;
            return;
        }
    s->out[s->n_out++] = t;
    if (s->n_out >= s->max_new) {
        s->state = SEQ_DONE;
        s->reason = TKD_GEN_LENGTH;
        return;
    }
    s->next = t;
}

int tkd_decoder_step(tkd_decoder *d, tkd_err *e) {
    int S = 0, N = 0, prefill = 0;
    for (int i = 0; i < d->n_seqs; i++) /* every running sequence decodes one token */
        if (d->s[i].state == SEQ_RUNNING) {
            d->batch[S++] = i;
            N++;
        }
    for (;;) { /* the oldest queued prompts, within the prefill budget (at least one) */
        int best = -1;
        for (int i = 0; i < d->n_seqs; i++)
            if (d->s[i].state == SEQ_QUEUED && (best < 0 || d->s[i].order < d->s[best].order))
                best = i;
        if (best < 0 || (prefill && prefill + d->s[best].n_prompt > TKD_GEN_PREFILL_TOKENS))
            break;
        d->batch[S++] = best;
        prefill += d->s[best].n_prompt;
        N += d->s[best].n_prompt;
        d->s[best].state = SEQ_ADMITTED; /* admitted this step */
    }
    if (!S)
        return 0;
    int rc = ensure_rows(d, N, e);
    size_t need_scores = 0;
    for (int b = 0, r = 0; b < S && !rc; b++) {
        seq *s = &d->s[d->batch[b]];
        int fresh = s->state == SEQ_ADMITTED, cnt = fresh ? s->n_prompt : 1;
        if ((rc = ensure_cache(d, s, s->len + cnt, e)))
            break;
        size_t sc = (size_t)(cnt == 1 ? 1 : cnt) * (size_t)(s->len + cnt);
        need_scores = sc > need_scores ? sc : need_scores;
        for (int i = 0; i < cnt; i++, r++) {
            d->rows_seq[r] = d->batch[b];
            d->tokens[r] = fresh ? s->prompt[i] : s->next;
            d->pos[r] = s->len + i;
        }
    }
    if (!rc && need_scores > d->n_scores) {
        free(d->scores);
        if (!(d->scores = tkd_malloc(sizeof(float) * need_scores, e)))
            rc = TKD_ENOMEM;
        d->n_scores = d->scores ? need_scores : 0;
    }
    if (rc) { /* nothing ran: the admitted prompts wait for the next step */
        for (int b = 0; b < S; b++)
            if (d->s[d->batch[b]].state == SEQ_ADMITTED)
                d->s[d->batch[b]].state = SEQ_QUEUED;
        return rc;
    }
    forward(d, S, N);
    int V = d->m->cfg.vocab;
    for (int b = 0; b < S; b++) {
        seq *s = &d->s[d->batch[b]];
        if (s->state == SEQ_ADMITTED) {
            s->state = SEQ_RUNNING;
            free(s->prompt);
            s->prompt = NULL;
        }
        take_token(s, sample_token(d, s, d->logits + (size_t)b * V));
    }
    return 0;
}

int tkd_decoder_active(const tkd_decoder *d) {
    int n = 0;
    for (int i = 0; i < d->n_seqs; i++)
        n += d->s[i].state == SEQ_QUEUED || d->s[i].state == SEQ_RUNNING;
    return n;
}

int tkd_decoder_free_slots(const tkd_decoder *d) {
    int n = 0;
    for (int i = 0; i < d->n_seqs; i++)
        n += d->s[i].state == SEQ_FREE;
    return n;
}

int tkd_decoder_tokens(const tkd_decoder *d, int slot, const int **toks) {
    *toks = d->s[slot].out;
    return d->s[slot].n_out;
}

int tkd_decoder_next_done(tkd_decoder *d, int *slot, int *reason) {
    int best = -1;
    for (int i = 0; i < d->n_seqs; i++)
        if (d->s[i].state == SEQ_DONE && (best < 0 || d->s[i].order < d->s[best].order))
            best = i;
    if (best < 0)
        return 0;
    *slot = best;
    *reason = d->s[best].reason;
    d->s[best].state = SEQ_HANDED; /* handed back, not yet released */
    return 1;
}

void tkd_decoder_end(tkd_decoder *d, int slot) {
    seq *s = &d->s[slot];
    if (s->state == SEQ_QUEUED || s->state == SEQ_RUNNING) {
        s->state = SEQ_DONE;
        s->reason = TKD_GEN_STOP;
    }
}

void tkd_decoder_release(tkd_decoder *d, int slot) {
    seq *s = &d->s[slot];
    free(s->prompt);
    s->prompt = NULL;
    s->state = SEQ_FREE;
    s->len = 0;
    s->n_out = 0;
}

int tkd_generate(const tkd_model *m, const int *const *prompts, const int *lens, int n, const tkd_gen_opts *o,
                 tkd_gen_stop_fn stop, void *stop_ctx, int **out, int *out_len, tkd_err *e) {
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    tkd_decoder *d = NULL;
    int rc = tkd_decoder_new(m, n > 0 ? n : 1, &d, e), *slot = tkd_calloc((size_t)n + 1, sizeof(int), e);
    if (!rc && !slot)
        rc = TKD_ENOMEM;
    for (int i = 0; i < n && !rc; i++) {
        tkd_gen_opts oi = *o;
        oi.seed = o->seed + 0x9e3779b97f4a7c15ULL * (uint64_t)i;
        if ((rc = tkd_decoder_add(d, prompts[i], lens[i], &oi, &slot[i], e)))
            tkd_err_wrap(e, "prompt %d", i);
    }
    while (!rc && tkd_decoder_active(d)) {
        if ((rc = tkd_decoder_step(d, e)))
            break;
        for (int i = 0; stop && i < n; i++) {
            const int *t;
            int nt = tkd_decoder_tokens(d, slot[i], &t);
            if (d->s[slot[i]].state == SEQ_RUNNING && nt && stop(stop_ctx, i, t, nt))
                tkd_decoder_end(d, slot[i]);
        }
    }
    for (int i = 0; i < n && !rc; i++) {
        const int *t;
        out_len[i] = tkd_decoder_tokens(d, slot[i], &t);
        if (!(out[i] = tkd_malloc(sizeof(int) * (size_t)(out_len[i] + 1), e)))
            rc = TKD_ENOMEM;
        else
            memcpy(out[i], t, sizeof(int) * (size_t)out_len[i]);
    }
    if (rc)
        for (int i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    free(slot);
    tkd_decoder_free(d);
    return rc;
}
