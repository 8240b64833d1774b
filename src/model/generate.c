/*
 * Generation with a KV cache: each prompt is prefilled on its own (all its
 * tokens in one pass), then all unfinished sequences decode together, one
 * token each per step, so the projections and the head are one sgemm over
 * the batch. Greedy, or temperature with top-p sampling from a per-sequence
 * RNG (so a sequence's output does not depend on what it is batched with).
 */
#include "ops.h"
#include "tkd/model.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct gen {
    const tkd_model *m;
    int maxlen;           /* cache positions per sequence */
    float *kc, *vc;       /* (n, L, maxlen, KV*D) */
    int *len;             /* (n) tokens in each cache */
    float *cos_t, *sin_t; /* (maxlen, D/2) */
    /* scratch for up to R rows */
    int R;
    float *x, *ln, *q, *k, *v, *att, *o, *g, *u, *scores, *logits;
    int *pos;
} gen;

/* Run `cnt` new tokens of each sequence in seqs[0..S) through the model;
 * logits (S,V) of each sequence's last new token. */
static void step(gen *G, const int *seqs, int S, const int *tokens, int cnt) {
    const tkd_model *m = G->m;
    const tkd_model_config *c = &m->cfg;
    int C = c->hidden, H = c->n_heads, KV = c->n_kv_heads, D = c->head_dim, I = c->intermediate, QC = H * D,
        KC = KV * D, L = c->n_layers, V = c->vocab, N = S * cnt, Gq = H / KV;
    float eps = (float)c->rms_eps, scale = 1.0f / sqrtf((float)D);
    for (int s = 0; s < S; s++)
        for (int i = 0; i < cnt; i++) {
            int n = s * cnt + i;
            G->pos[n] = G->len[seqs[s]] + i;
            memcpy(G->x + (size_t)n * C, m->p[TKD_P_EMBED] + (size_t)tokens[n] * C, sizeof(float) * (size_t)C);
        }
    for (int l = 0; l < L; l++) {
        size_t lC = (size_t)l * C, lQ = (size_t)l * QC, lK = (size_t)l * KC, lI = (size_t)l * I;
        op_rmsnorm_fwd(G->ln, NULL, G->x, m->p[TKD_P_LN1] + lC, N, C, eps);
        op_matmul_fwd(G->q, G->ln, m->p[TKD_P_WQ] + lQ * C, m->p[TKD_P_BQ] + lQ, N, C, QC);
        op_matmul_fwd(G->k, G->ln, m->p[TKD_P_WK] + lK * C, m->p[TKD_P_BK] + lK, N, C, KC);
        op_matmul_fwd(G->v, G->ln, m->p[TKD_P_WV] + lK * C, m->p[TKD_P_BV] + lK, N, C, KC);
        op_rope(G->q, G->pos, N, H, D, G->cos_t, G->sin_t, 0);
        op_rope(G->k, G->pos, N, KV, D, G->cos_t, G->sin_t, 0);
        for (int s = 0; s < S; s++) {
            int sq = seqs[s], base = G->len[sq], Lk = base + cnt;
            float *kc = G->kc + ((size_t)sq * L + l) * G->maxlen * KC,
                  *vc = G->vc + ((size_t)sq * L + l) * G->maxlen * KC;
            memcpy(kc + (size_t)base * KC, G->k + (size_t)s * cnt * KC, sizeof(float) * (size_t)cnt * KC);
            memcpy(vc + (size_t)base * KC, G->v + (size_t)s * cnt * KC, sizeof(float) * (size_t)cnt * KC);
            for (int h = 0; h < H; h++) {
                int kh = h / Gq;
                const float *qh = G->q + (size_t)s * cnt * QC + h * D;
                float *oh = G->att + (size_t)s * cnt * QC + h * D;
                if (cnt == 1) { // decoding: dot products; an sgemm call per head costs more than it saves
                    float *row = G->scores, mx = -INFINITY;
                    for (int j = 0; j < Lk; j++) {
                        const float *kj = kc + (size_t)j * KC + kh * D;
                        float d = 0;
                        for (int i = 0; i < D; i++)
                            d += qh[i] * kj[i];
                        row[j] = d * scale;
                        mx = row[j] > mx ? row[j] : mx;
                    }
                    double sum = 0;
                    for (int j = 0; j < Lk; j++)
                        sum += row[j] = expf(row[j] - mx);
                    float inv = (float)(1.0 / sum);
                    memset(oh, 0, sizeof(float) * (size_t)D);
                    for (int j = 0; j < Lk; j++) {
                        const float *vj = vc + (size_t)j * KC + kh * D;
                        float pj = row[j] * inv;
                        for (int i = 0; i < D; i++)
                            oh[i] += pj * vj[i];
                    }
                    continue;
                }
                // scores (cnt, Lk) = scale * Q_h (cnt,D) @ K^T (D,Lk)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cnt, Lk, D, scale, qh, QC, kc + kh * D, KC, 0.0f,
                            G->scores, Lk);
                for (int i = 0; i < cnt; i++) {
                    float *row = G->scores + (size_t)i * Lk, mx = -INFINITY;
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
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, cnt, D, Lk, 1.0f, G->scores, Lk, vc + kh * D, KC,
                            0.0f, oh, QC);
            }
        }
        op_matmul_fwd(G->o, G->att, m->p[TKD_P_WO] + lC * QC, NULL, N, QC, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            G->x[i] += G->o[i];
        op_rmsnorm_fwd(G->ln, NULL, G->x, m->p[TKD_P_LN2] + lC, N, C, eps);
        op_matmul_fwd(G->g, G->ln, m->p[TKD_P_WG] + lI * C, NULL, N, C, I);
        op_matmul_fwd(G->u, G->ln, m->p[TKD_P_WU] + lI * C, NULL, N, C, I);
        op_swiglu_fwd(G->g, G->g, G->u, (size_t)N * I);
        op_matmul_fwd(G->o, G->g, m->p[TKD_P_WD] + lC * I, NULL, N, I, C);
        for (size_t i = 0; i < (size_t)N * C; i++)
            G->x[i] += G->o[i];
    }
    for (int s = 0; s < S; s++) { // last row of each sequence -> (S,C)
        memmove(G->ln + (size_t)s * C, G->x + ((size_t)s * cnt + cnt - 1) * C, sizeof(float) * (size_t)C);
        G->len[seqs[s]] += cnt;
    }
    op_rmsnorm_fwd(G->x, NULL, G->ln, m->p[TKD_P_NORM], S, C, eps);
    op_matmul_fwd(G->logits, G->x, tkd_model_head(m), NULL, S, C, V); // (S,V)
}

typedef struct {
    float p;
    int i;
} pi_pair;

static int by_p_desc(const void *a, const void *b) {
    float x = ((const pi_pair *)a)->p, y = ((const pi_pair *)b)->p;
    return x < y ? 1 : x > y ? -1 : ((const pi_pair *)a)->i - ((const pi_pair *)b)->i;
}

static int sample(const float *logits, int V, const tkd_gen_opts *o, tkd_rng *rng, pi_pair *buf) {
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    if (o->temperature <= 0)
        return best;
    double sum = 0, inv_t = 1.0 / o->temperature;
    for (int i = 0; i < V; i++) {
        buf[i].p = (float)exp((logits[i] - logits[best]) * inv_t);
        buf[i].i = i;
        sum += buf[i].p;
    }
    int n = V;
    if (o->top_p > 0 && o->top_p < 1) { // smallest prefix with mass >= top_p
        qsort(buf, (size_t)V, sizeof *buf, by_p_desc);
        double acc = 0;
        for (n = 0; n < V && acc < o->top_p * sum; n++)
            acc += buf[n].p;
        sum = acc;
    }
    double u = tkd_rng_uniform(rng) * sum, acc = 0;
    for (int i = 0; i < n; i++) {
        acc += buf[i].p;
        if (u < acc)
            return buf[i].i;
    }
    return buf[n - 1].i;
}

int tkd_generate(const tkd_model *m, const int *const *prompts, const int *lens, int n, const tkd_gen_opts *o,
                 tkd_gen_stop_fn stop, void *stop_ctx, int **out, int *out_len, tkd_err *e) {
    const tkd_model_config *c = &m->cfg;
    int maxp = 0, C = c->hidden, QC = c->n_heads * c->head_dim, KC = c->n_kv_heads * c->head_dim, I = c->intermediate,
        V = c->vocab;
    for (int i = 0; i < n; i++) {
        if (lens[i] < 1)
            return tkd_err_set(e, TKD_EINVAL, "prompt %d is empty", i);
        for (int t = 0; t < lens[i]; t++)
            if (prompts[i][t] < 0 || prompts[i][t] >= V)
                return tkd_err_set(e, TKD_EINVAL, "prompt %d: token id %d is outside the vocabulary (%d)", i,
                                   prompts[i][t], V);
        maxp = lens[i] > maxp ? lens[i] : maxp;
    }
    if (o->max_new < 0 || maxp + o->max_new > c->max_pos)
        return tkd_err_set(e, TKD_EINVAL, "prompt (%d tokens) + max_new (%d) exceeds max_position_embeddings %d", maxp,
                           o->max_new, c->max_pos);
    gen G = {.m = m, .maxlen = maxp + o->max_new + 1};
    G.R = maxp > n ? maxp : n;
    size_t R = (size_t)G.R, cache = (size_t)n * c->n_layers * G.maxlen * KC, D2 = (size_t)c->head_dim / 2;
    size_t total = 2 * cache + 2 * (size_t)G.maxlen * D2 + R * (3 * C + 2 * QC + 2 * KC + 2 * I) +
                   R * (size_t)G.maxlen + (size_t)n * V;
    float *mem = tkd_malloc(total * sizeof(float), e);
    G.len = tkd_calloc((size_t)n, sizeof(int), e);
    G.pos = tkd_calloc(R, sizeof(int), e);
    pi_pair *buf = tkd_malloc(sizeof(pi_pair) * (size_t)V, e);
    int *active = tkd_malloc(sizeof(int) * 4 * (size_t)n, e), *toks = active ? active + n : NULL,
        *feed = active ? active + 2 * n : NULL, *seqs = active ? active + 3 * n : NULL;
    tkd_rng *rng = tkd_malloc(sizeof(tkd_rng) * (size_t)n, e);
    int rc = 0;
    for (int i = 0; i < n; i++)
        out[i] = NULL;
    if (!mem || !G.len || !G.pos || !buf || !active || !rng) {
        rc = tkd_err_wrap(e, "generation buffers (%zu MB)", total * 4 >> 20);
        goto done;
    }
    float *p = mem;
    G.kc = p, p += cache;
    G.vc = p, p += cache;
    G.cos_t = p, p += (size_t)G.maxlen * D2;
    G.sin_t = p, p += (size_t)G.maxlen * D2;
    G.x = p, p += R * C;
    G.ln = p, p += R * C;
    G.o = p, p += R * C;
    G.q = p, p += R * QC;
    G.att = p, p += R * QC;
    G.k = p, p += R * KC;
    G.v = p, p += R * KC;
    G.g = p, p += R * I;
    G.u = p, p += R * I;
    G.scores = p, p += R * G.maxlen;
    G.logits = p;
    op_rope_table(G.cos_t, G.sin_t, G.maxlen, c->head_dim, c->rope_theta);
    int n_active = 0;
    for (int i = 0; i < n; i++) {
        out_len[i] = 0;
        out[i] = tkd_malloc(sizeof(int) * (size_t)(o->max_new + 1), e);
        if (!out[i]) {
            rc = TKD_ENOMEM;
            goto done;
        }
        tkd_rng_seed(&rng[i], o->seed + 0x9e3779b97f4a7c15ULL * (uint64_t)i);
        step(&G, &i, 1, prompts[i], lens[i]); // prefill
        if (o->max_new > 0) {
            toks[i] = sample(G.logits, V, o, &rng[i], buf);
            active[n_active++] = i;
        }
    }
    while (n_active > 0) {
        /* record the sampled token of each active sequence; drop finished ones */
        int k = 0;
        for (int a = 0; a < n_active; a++) {
            int s = active[a], t = toks[s], done = 0;
            for (int j = 0; j < o->n_stop_ids; j++)
                done |= t == o->stop_ids[j];
            if (!done) {
                out[s][out_len[s]++] = t;
                done = out_len[s] >= o->max_new || (stop && stop(stop_ctx, s, out[s], out_len[s]));
            }
            if (!done) {
                seqs[k] = s;
                feed[k++] = t;
            }
        }
        n_active = k;
        if (!k)
            break;
        step(&G, seqs, k, feed, 1); // (k,V) logits
        for (int a = 0; a < k; a++) {
            active[a] = seqs[a];
            toks[seqs[a]] = sample(G.logits + (size_t)a * V, V, o, &rng[seqs[a]], buf);
        }
    }
done:
    if (rc)
        for (int i = 0; i < n; i++) {
            free(out[i]);
            out[i] = NULL;
        }
    free(mem);
    free(G.len);
    free(G.pos);
    free(buf);
    free(active);
    free(rng);
    return rc;
}
