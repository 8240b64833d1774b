/*
 * The training data stream: SFT examples, shuffled per epoch with the run's
 * seed and cut into rows of T positions (one example per row, or several
 * packed into one row as separate documents), laid end to end over epochs.
 * Step s of a run with global batch G consumes rows [s*G, (s+1)*G), so the
 * data position after a resume is a pure function of the step, on any number
 * of ranks.
 */
#include "train_priv.h"

#include <stdlib.h>
#include <string.h>

static int push_seg(tkd_stream *s, int ex, int len, tkd_err *e) {
    if (s->n_segs == s->cap_segs) {
        size_t cap = s->cap_segs ? 2 * s->cap_segs : 1024;
        tkd_seg *n = tkd_realloc(s->segs, cap * sizeof *n, e);
        if (!n)
            return TKD_ENOMEM;
        s->segs = n;
        s->cap_segs = cap;
    }
    s->segs[s->n_segs++] = (tkd_seg){ex, len};
    return 0;
}

static int push_row(tkd_stream *s, size_t first, tkd_err *e) {
    if (s->n_rows == s->cap_rows) {
        size_t cap = s->cap_rows ? 2 * s->cap_rows : 1024;
        size_t *n = tkd_realloc(s->row_first, (cap + 1) * sizeof *n, e);
        if (!n)
            return TKD_ENOMEM;
        s->row_first = n;
        s->cap_rows = cap;
    }
    s->row_first[s->n_rows++] = first;
    return 0;
}

int tkd_stream_trainable(const tkd_sft_example *x, int T) {
    int len = x->n - 1 < T ? x->n - 1 : T;
    for (int i = 0; i < len; i++)
        if (x->mask[i + 1])
            return 1;
    return 0;
}

/* Append one epoch's rows: shuffle (Fisher-Yates on the epoch's seed), then pack. */
static int add_epoch(tkd_stream *s, const tkd_sft_example *ex, int n_ex, int T, int packing, uint64_t seed, int epoch,
                     tkd_err *e) {
    int *order = tkd_malloc(sizeof(int) * (size_t)n_ex, e);
    if (!order)
        return TKD_ENOMEM;
    for (int i = 0; i < n_ex; i++)
        order[i] = i;
    tkd_rng r;
    tkd_rng_seed(&r, seed ^ (0x5851f42d4c957f2dULL * (uint64_t)(epoch + 1)));
    for (int i = n_ex - 1; i > 0; i--) {
        int j = (int)tkd_rng_below(&r, (uint64_t)i + 1), t = order[i];
        order[i] = order[j];
        order[j] = t;
    }
    int fill = T, rc = 0; /* positions used in the current row; T: start a new one */
    for (int i = 0; i < n_ex && !rc; i++) {
        const tkd_sft_example *x = &ex[order[i]];
        int len = x->n - 1 < T ? x->n - 1 : T; /* predictions this example gives */
        if (len < 1 || !tkd_stream_trainable(x, T))
            continue;
        if (!packing || fill + len > T) {
            rc = push_row(s, s->n_segs, e);
            fill = 0;
        }
        if (!rc)
            rc = push_seg(s, order[i], len, e);
        fill += len;
    }
    if (!rc && s->n_rows)
        s->row_first[s->n_rows] = s->n_segs; /* sentinel: the end of the last row */
    free(order);
    return rc;
}

int tkd_stream_build(tkd_stream *s, const tkd_sft_example *ex, int n_ex, int T, int packing, uint64_t seed, long steps,
                     double epochs, long G, long *total_steps, tkd_err *e) {
    memset(s, 0, sizeof *s);
    int rc = add_epoch(s, ex, n_ex, T, packing, seed, 0, e);
    if (rc)
        return rc;
    if (!s->n_rows)
        return tkd_err_set(e, TKD_EINVAL, "no training example has 2 or more tokens");
    s->rows_per_epoch = (long)s->n_rows;
    if (steps <= 0) {
        double rows = epochs * (double)s->n_rows;
        steps = (long)((rows + (double)G - 1) / (double)G);
        if (steps < 1)
            steps = 1;
    }
    *total_steps = steps;
    for (int ep = 1; (long)s->n_rows < steps * G && !rc; ep++)
        rc = add_epoch(s, ex, n_ex, T, packing, seed, ep, e);
    return rc;
}

void tkd_stream_free(tkd_stream *s) {
    free(s->segs);
    free(s->row_first);
    memset(s, 0, sizeof *s);
}

long tkd_stream_fill(const tkd_stream *s, const tkd_sft_example *ex, size_t row, int T, int *tokens, int *targets,
                     uint8_t *mask, int *docstart) {
    memset(tokens, 0, sizeof(int) * (size_t)T);
    memset(targets, 0, sizeof(int) * (size_t)T);
    memset(mask, 0, (size_t)T);
    int fill = 0;
    for (size_t k = s->row_first[row]; k < s->row_first[row + 1]; k++) {
        const tkd_seg *g = &s->segs[k];
        const tkd_sft_example *x = &ex[g->ex];
        for (int i = 0; i < g->len; i++) {
            tokens[fill + i] = x->ids[i];
            targets[fill + i] = x->ids[i + 1];
            mask[fill + i] = x->mask[i + 1];
            docstart[fill + i] = fill;
        }
        fill += g->len;
    }
    for (int t = fill; t < T; t++)
        docstart[t] = fill; /* padding is its own document, never trained on */
    return fill;
}
