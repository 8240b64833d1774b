/*
 * Internal: the GPU trainer's buffers, where each one lies in the three
 * allocations of tkd_gpu_plan. One function computes every offset; the plan
 * (gpu_plan.c, sizes for `tkd train --dry-run`) and the CUDA model
 * (cuda/model.cu, which adds the offsets to its three device pointers) both
 * call it, so what is planned is exactly what is carved. Plain C, also
 * included by nvcc.
 *
 * N = B*T tokens, C hidden, QC = H*D, KC = KV*D, I intermediate, V vocab,
 * L layers, r LoRA rank. Element types are written next to each buffer.
 */
#ifndef TKD_GPU_LAYOUT_H
#define TKD_GPU_LAYOUT_H

#include "tkd/model.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TKD_GPU_ALIGN 256                       /* bytes: every buffer starts on this boundary */
#define TKD_GPU_LOSS_CHUNK_BYTES (256ull << 20) /* the loss's bf16 logits chunk (rows, V) at most */
#define TKD_GPU_LT_WORKSPACE (32ull << 20)      /* cuBLASLt workspace (NVIDIA's advice for Hopper) */
#define TKD_GPU_SUMSQ_SCRATCH (4ull << 20)      /* partial sums of the gradient norm */
#define TKD_GPU_RESERVE (1ull << 30)            /* CUDA context, cuBLASLt and NCCL: outside the three */
#define TKD_GPU_NO_BUFFER ((size_t)-1)          /* offset of a buffer that does not exist */

/* What one layer's forward keeps for its backward (offsets from the set's start). */
typedef struct tkd_gpu_layer_offs {
    size_t ln1, rstd1;      /* (N,C) bf16, (N) fp32 */
    size_t q, k, v;         /* (N,QC) (N,KC) (N,KC) bf16, q and k after RoPE */
    size_t lse;             /* (B,H,T) fp32 log-sum-exp of the attention rows (flash: no (T,T) probs) */
    size_t atty;            /* (N,QC) bf16 attention output */
    size_t mid;             /* (N,C) bf16 residual after attention */
    size_t ln2, rstd2;      /* (N,C) bf16, (N) fp32 */
    size_t g, u, h;         /* (N,I) bf16 */
    size_t ax[TKD_LORA_NT]; /* (N,r) bf16 A @ dropout(x) per adapted target, else TKD_GPU_NO_BUFFER */
} tkd_gpu_layer_offs;

typedef struct tkd_gpu_layout {
    /* ---- what it was made for ---- */
    tkd_model_config cfg;
    int B, T, N, full, recompute;
    int lora; /* an adapter is trained */
    tkd_lora_config lcfg;

    /* ---- parameter counts and the host layouts they mirror (elements) ---- */
    size_t n_model;                               /* every base weight (tkd_model_alloc's n_params) */
    size_t msize[TKD_P_COUNT], moff[TKD_P_COUNT]; /* as tkd_model_alloc: tensor kinds stacked */
    size_t n_lora;                                /* as tkd_lora_alloc's n_params (0 without an adapter) */
    int lora_in[TKD_LORA_NT], lora_out[TKD_LORA_NT];
    size_t lora_off_a[TKD_LORA_NT], lora_off_b[TKD_LORA_NT]; /* as tkd_lora_alloc's off_a/off_b */
    size_t n_train;                                          /* n_lora, or n_model with full */
    size_t n_frozen;                                         /* n_model, or 0 with full */

    /* ---- allocation 1: weights (byte offsets) ---- */
    size_t w_base;      /* (n_model) bf16: the base in tkd_model's order (full: the bf16 copy of the masters) */
    size_t w_master;    /* (n_train) fp32 trainable masters (adapter, or every weight with full) */
    size_t w_lora_bf16; /* (n_lora) bf16 copy of the adapter for compute (NO_BUFFER with full) */
    size_t weights;     /* bytes */

    /* ---- allocation 2: activations (byte offsets) ---- */
    size_t tokens, docstart, pos, targets, mask; /* (N) int, int, int, int, uint8 */
    size_t resid;                                /* (L+1,N,C) bf16: every layer's input, then the final hidden */
    int nsets;                                   /* L layer sets, or 1 with recompute */
    size_t set0, set_stride;                     /* set l at set0 + l * set_stride */
    tkd_gpu_layer_offs set;                      /* offsets inside a set */
    size_t lnf, rstdf;                           /* (N,C) bf16, (N) fp32: final norm */
    size_t tmp_out;                              /* (N,C) bf16: a recomputed layer's output */
    int chunk_rows;                              /* R: rows of logits made at a time */
    size_t logits;                               /* (R,V) fp32: the loss chunk's logits (the head's output) */
    size_t dlogits;                              /* (R,V) bf16: their gradient */
    size_t loss;                                 /* 2 fp32 cells: the loss sum */
    size_t dresid, dln;                          /* (N,C) bf16 backward: residual gradient, norm-output gradient */
    size_t dq, datty;                            /* (N,QC) bf16 */
    size_t dk, dv;                               /* (N,KC) bf16 */
    size_t dg, du, dh;                           /* (N,I) bf16 */
    size_t dax;                                  /* (N,r) bf16 (NO_BUFFER without an adapter) */
    size_t xdrop, xtmp;                          /* (N,max(C,QC,I)) bf16: dropout input, LoRA dx before its mask */
    size_t attn_scratch, attn_scratch_bytes;     /* flash attention backward's scratch */
    size_t lt_ws, lt_ws_bytes;                   /* cuBLASLt workspace */
    size_t activations;                          /* bytes */

    /* ---- allocation 3: gradients and optimizer state (byte offsets) ---- */
    size_t grads, adam_m, adam_v;              /* (n_train) fp32 each; the NCCL all-reduce runs in place on
                                                * grads in buckets, so it needs no buffer of its own */
    size_t sumsq_scratch, sumsq_scratch_bytes; /* partial sums of the gradient norm */
    size_t norm_cell;                          /* 2 fp32 cells: sum of squares */
    size_t state;                              /* bytes */
} tkd_gpu_layout;

/*
 * Lay out the buffers for config c, adapter config lora (NULL: none), full
 * fine-tuning, B rows of T tokens, recompute. Fails (TKD_EINVAL) on shapes
 * the GPU trainer does not take.
 */
int tkd_gpu_layout_make(const tkd_model_config *c, const tkd_lora_config *lora, int full, int B, int T, int recompute,
                        tkd_gpu_layout *l, tkd_err *e);

/* Bytes the plan gives the flash attention backward for its scratch (the kernel's need must not exceed it). */
size_t tkd_gpu_attn_scratch_bytes(int B, int T, int H, int KV, int D);

#ifdef __cplusplus
}
#endif

#endif
