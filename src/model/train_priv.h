/*
 * Internal: the training data stream (train_data.c) used by the loop (train.c).
 */
#ifndef TKD_TRAIN_PRIV_H
#define TKD_TRAIN_PRIV_H

#include "tkd/model.h"

typedef struct tkd_seg {
    int ex;  /* example index */
    int len; /* positions (predictions) it fills: min(n-1, T) */
} tkd_seg;

typedef struct tkd_stream {
    tkd_seg *segs;
    size_t n_segs, cap_segs;
    size_t *row_first; /* (n_rows+1): row i holds segs [row_first[i], row_first[i+1]) */
    size_t n_rows, cap_rows;
    long rows_per_epoch; /* of epoch 0 */
} tkd_stream;

/* True when x has a trained position (loss_mask 1 on a target) among the
 * first T predictions: what a row of T positions keeps of it. An example
 * without one adds nothing to the loss, and the stream leaves it out. */
int tkd_stream_trainable(const tkd_sft_example *x, int T);
/* Rows for `steps` steps of G rows (steps <= 0: from epochs); *total_steps set. */
int tkd_stream_build(tkd_stream *s, const tkd_sft_example *ex, int n_ex, int T, int packing, uint64_t seed, long steps,
                     double epochs, long G, long *total_steps, tkd_err *e);
void tkd_stream_free(tkd_stream *s);
/* Fill one row (T positions); returns the positions holding real tokens. */
long tkd_stream_fill(const tkd_stream *s, const tkd_sft_example *ex, size_t row, int T, int *tokens, int *targets,
                     uint8_t *mask, int *docstart);

#endif
