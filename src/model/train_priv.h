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

/*
 * The device the training loop runs on (train.c): one micro-batch's
 * forward, loss and backward, the gradients' sum over ranks, clipping and
 * the AdamW step, and the trainable state to and from the host for
 * checkpoints and the final adapter. The CPU engine (train.c) wraps
 * tkd_qwen2_*, tkd_adamw_* and tkd_comm; the CUDA engine (train_gpu.c,
 * only in builds with TKD_HAVE_CUDA) wraps tkd_cuda_qwen2_* and tkd_nccl_*.
 */
typedef struct tkd_engine {
    const char *name; /* "cpu" or "cuda" */
    void *impl;
    float *params; /* host trainable parameters (n): the adapter's or model's memory */
    size_t n;
    tkd_adamw *opt; /* host AdamW: hyper-parameters, t, and the moments (the GPU's copy at a checkpoint) */
    /* for the step line: FLOPs per token (plan), dense bf16 peak per device (0: no MFU) */
    double flops_per_token, peak_tflops;
    char device_name[96];
    /* forward, loss and backward of one micro-batch (gradients += (sum NLL) * scale); *loss: the sum */
    int (*micro)(struct tkd_engine *g, const int *tok, const int *tgt, const uint8_t *mask, const int *ds, int B, int T,
                 uint64_t dropout_seed, float scale, double *loss, tkd_err *e);
    void (*zero_grad)(struct tkd_engine *g);
    int (*allreduce)(struct tkd_engine *g, tkd_comm *c, tkd_err *e); /* sum the gradients over ranks */
    /* clip (max_norm > 0) and one AdamW step at lr (opt->t advances); *norm before clipping */
    int (*step)(struct tkd_engine *g, double lr, double max_norm, double *norm, tkd_err *e);
    int (*to_host)(struct tkd_engine *g, tkd_err *e);   /* params, m, v into params and opt */
    int (*from_host)(struct tkd_engine *g, tkd_err *e); /* the reverse, after a checkpoint is read */
    size_t (*peak_bytes)(struct tkd_engine *g);         /* device memory in use at most (0: not tracked) */
    void (*free)(struct tkd_engine *g);
} tkd_engine;

/* Gradients are summed between GPUs in buckets of this many bytes. */
#define TKD_NCCL_BUCKET_BYTES ((size_t)64 << 20)

/* "auto", "cpu", "cuda" (NULL: cpu) -> *cuda (1: the CUDA engine); why gets
 * what auto decided and why (for the log). TKD_EINVAL when cuda is asked for
 * and cannot be had (a CPU-only build, no device, a driver error), naming it. */
int tkd_train_pick_device(const char *want, int *cuda, char *why, size_t n, tkd_err *e);

#ifdef TKD_HAVE_CUDA
/* The CUDA engine over model m (host fp32) and adapter lora (NULL: full
 * fine-tuning): picks this rank's GPU (NCCL between ranks when comm->world >
 * 1), uploads the weights and makes the plan's allocations. params points
 * at lora->mem (or m->mem) as on the CPU. */
int tkd_engine_cuda(tkd_engine *g, tkd_model *m, tkd_lora *lora, const tkd_qwen2_opts *qo, tkd_comm *comm,
                    tkd_adamw *opt, tkd_err *e);
#endif

#endif
