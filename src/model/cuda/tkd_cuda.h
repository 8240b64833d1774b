/*
 * The CUDA twin of the CPU trainer (qwen2*.c, adamw.c, comm.c), the way
 * llm.c pairs train_gpt2.cu with train_gpt2.c. Built only when CMake finds
 * nvcc and NCCL (libtkd then defines TKD_HAVE_CUDA); a CPU-only build never
 * includes this file. Plain C types only, so C files (train.c, the CLI,
 * tests/gpu) include it; the implementations are .cu files in this folder.
 *
 * Numerics: the frozen base in bf16, LoRA adapters (and full fine-tuning's
 * master weights) in fp32 with bf16 copies for compute, every matmul and
 * reduction accumulated in fp32 (cuBLASLt, CUBLAS_COMPUTE_32F), activations
 * in bf16, norms' statistics and the loss in fp32. Layouts follow the CPU
 * reference exactly (include/tkd/model.h): row-major (N,C) activations with
 * N = B*T, weights (OC,IC), LoRA A (r,in) and B (out,r), rotate-half RoPE,
 * packing by docstart, LoRA dropout masks from op_dropout_keep (ops.h) so
 * the same seed drops the same elements on both devices.
 *
 * Three parts, three files:
 *   kern.cu    device kernels and their C launchers (this header, part 1)
 *   model.cu   the model: weights on the GPU, cuBLASLt, forward, chunked
 *              loss, backward, AdamW and clipping (part 2)
 *   nccl.cu    gradient all-reduce between ranks (part 3)
 * The memory plan (sizes of the three allocations) is plain C in
 * src/model/gpu_plan.c, declared in include/tkd/model.h, so that
 * `tkd train --dry-run` works on any machine.
 */
#ifndef TKD_CUDA_H
#define TKD_CUDA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" { /* model.h and core.h have no guards of their own: their functions are C's in .cu files too */
#endif

#include "tkd/model.h"

/* bf16 storage type on the C side (the bits of a __nv_bfloat16). */
typedef uint16_t tkd_bf16;
/* An opaque CUDA stream (cudaStream_t) for C callers. */
typedef void *tkd_stream_t;

/* ==== part 1: kernels (kern.cu). Every launcher is asynchronous on stream
 * s, takes device pointers, and returns 0 or a cudaError_t from the launch.
 * Backward launchers ACCUMULATE (+=) into parameter gradients (dw, dbias,
 * lora grads) and OVERWRITE activation gradients unless they say "+=". ==== */

/* out (N,C) bf16 = embed[tokens[n]] (embed (V,C) bf16) */
int tkd_k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C, tkd_stream_t s);
/* full fine-tuning: dembed (V,C) fp32 += dout rows scattered by token (atomics) */
int tkd_k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C, tkd_stream_t s);

/* out (N,C) = x * rstd * w ; rstd (N) fp32 saved; x, out bf16; w bf16 */
int tkd_k_rmsnorm_fwd(tkd_bf16 *out, float *rstd, const tkd_bf16 *x, const tkd_bf16 *w, int N, int C, float eps,
                      tkd_stream_t s);
/* dx (N,C) bf16 (+= when accumulate) from dout; dw (C) fp32 += (NULL: frozen) */
int tkd_k_rmsnorm_bwd(tkd_bf16 *dx, float *dw, const tkd_bf16 *dout, const tkd_bf16 *x, const tkd_bf16 *w,
                      const float *rstd, int N, int C, int accumulate, tkd_stream_t s);

/* pos (N) from docstart (N) (NULL: t within each row of T): pos = t - docstart */
int tkd_k_positions(int *pos, const int *docstart, int B, int T, tkd_stream_t s);
/* x (N, nh, D) bf16 rotated in place (rotate-half) at pos; inverse for backward;
 * theta: rope_theta (cos/sin computed from pos and theta in double as
 * op_rope_table does, rounded to fp32, no table; rotation in fp32) */
int tkd_k_rope(tkd_bf16 *x, const int *pos, int N, int nh, int D, double theta, int inverse, tkd_stream_t s);

/*
 * Fused causal GQA attention, flash style (online softmax, no (T,T) matrix),
 * per row b of B: q (B*T, H*D), k, v (B*T, KV*D) bf16, out (B*T, H*D) bf16,
 * lse (B, H, T) fp32 saved for the backward. Token t attends to
 * [docstart[t], t] when docstart (B*T) is given (packing), else [0, t].
 * scale = 1/sqrt(D). D up to 256.
 */
int tkd_k_attn_fwd(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                   const int *docstart, int B, int T, int H, int KV, int D, tkd_stream_t s);
/* dq (B*T,H*D), dk, dv (B*T,KV*D) bf16 overwritten; scratch: tkd_k_attn_bwd_scratch bytes */
size_t tkd_k_attn_bwd_scratch(int B, int T, int H, int KV, int D);
int tkd_k_attn_bwd(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, void *scratch, const tkd_bf16 *dout,
                   const tkd_bf16 *out, const float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                   const int *docstart, int B, int T, int H, int KV, int D, tkd_stream_t s);

/* h = silu(g) * u over n (bf16) */
int tkd_k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n, tkd_stream_t s);
/* dg, du (bf16, overwritten) from dh */
int tkd_k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u, size_t n,
                     tkd_stream_t s);

/* y = a + b (n, bf16); y may alias a */
int tkd_k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n, tkd_stream_t s);
/* y (N,OC) += bias (OC) broadcast (bf16 y, bf16 bias) */
int tkd_k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC, tkd_stream_t s);
/* dbias (OC) fp32 += column sums of dy (N,OC) bf16 */
int tkd_k_bias_bwd(float *dbias, const tkd_bf16 *dy, int N, int OC, tkd_stream_t s);

/* LoRA dropout: y = keep ? x / (1-p) : 0 with op_dropout_keep(seed, layer, t, i, p) (bit-identical masks) */
int tkd_k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p,
                  tkd_stream_t s);

/*
 * Cross entropy over one chunk of rows: logits (rows, V) bf16 of those rows
 * (computed by the caller with cuBLASLt), targets and mask (rows). For masked
 * rows: loss_sum (one fp32 cell, +=) += logsumexp - logit[target], and the
 * logits are overwritten IN PLACE by their gradient
 * scale * (softmax - onehot(target)); unmasked rows get gradient 0.
 */
int tkd_k_xent_chunk(tkd_bf16 *logits, float *loss_sum, const int *targets, const uint8_t *mask, int rows, int V,
                     float scale, tkd_stream_t s);
/* The same from fp32 logits (cuBLASLt can write the head's output in fp32,
 * which keeps bf16 rounding of ~20-sized logits out of the loss); the
 * gradient goes to dlogits (rows, V) bf16, the input is left as it is. */
int tkd_k_xent_chunk_f32(tkd_bf16 *dlogits, float *loss_sum, const float *logits, const int *targets,
                         const uint8_t *mask, int rows, int V, float scale, tkd_stream_t s);

/* fp32 <-> bf16 (round to nearest even) */
int tkd_k_f32_to_bf16(tkd_bf16 *y, const float *x, size_t n, tkd_stream_t s);
int tkd_k_bf16_to_f32(float *y, const tkd_bf16 *x, size_t n, tkd_stream_t s);
/* y (fp32) += x (bf16) * alpha */
int tkd_k_accum_bf16(float *y, const tkd_bf16 *x, float alpha, size_t n, tkd_stream_t s);

/* sum of squares of g (n, fp32) into *out (fp32 device cell, overwritten; deterministic two-pass) */
int tkd_k_sumsq(float *out, const float *g, size_t n, void *scratch, size_t scratch_bytes, tkd_stream_t s);
size_t tkd_k_sumsq_scratch(size_t n);
/* g *= max_norm / (sqrt(*sumsq) + 1e-6) when that is below 1 (tkd_clip_grad_norm), reading the device cell (no host sync); max_norm <= 0: no-op */
int tkd_k_clip(float *g, size_t n, const float *sumsq, float max_norm, tkd_stream_t s);
/* torch.optim.AdamW step t (1-based) at lr on fp32 params/grads/m/v; bf16 copy of the params refreshed when pbf != NULL.
 * The hyperparameters are double, as tkd_adamw_step's, so the step's constants round the same way (bit-identical). */
int tkd_k_adamw(float *p, tkd_bf16 *pbf, const float *g, float *m, float *v, size_t n, double lr, double beta1,
                double beta2, double eps, double wd, long t, tkd_stream_t s);

/* ==== part 2: the model on one GPU (model.cu) ==== */

typedef struct tkd_cuda_qwen2 tkd_cuda_qwen2;

/* Devices visible to this process (0 when none or no driver); why gets the reason when 0. */
int tkd_cuda_device_count(char *why, size_t n);
/* Name, memory and dense bf16 peak (TFLOP/s, from the SM count, clock and
 * architecture; 0 when unknown) of device dev. */
int tkd_cuda_device_info(int dev, char *name, size_t n, size_t *mem_bytes, double *bf16_tflops, tkd_err *e);

/*
 * Copy model m (host fp32, as tkd_model_load leaves it) to device dev in
 * bf16, with adapter lora (host fp32; NULL with o->full or no adapter) and
 * the three allocations of tkd_gpu_plan (weights; activations; gradients
 * and optimizer state) made once, here, with the sizes the plan gives for
 * o->B, o->T, o->recompute. Fails with TKD_ENOMEM naming the plan's figures
 * when the device lacks the memory.
 */
int tkd_cuda_qwen2_new(tkd_cuda_qwen2 **q, const tkd_model *m, const tkd_lora *lora, const tkd_qwen2_opts *o, int dev,
                       tkd_err *e);
/*
 * Benchmarks: the same, for config cfg, with random bf16 weights made on the
 * GPU (no host copy: a 7B model needs no 30 GB of host fp32) as
 * tkd_model_init_random draws them (normal std 0.02, norms 1, biases 0) and
 * the adapter (lora NULL: none) initialised as PEFT does (A uniform, B 0).
 */
int tkd_cuda_qwen2_new_random(tkd_cuda_qwen2 **q, const tkd_model_config *cfg, const tkd_lora_config *lora,
                              const tkd_qwen2_opts *o, uint64_t seed, int dev, tkd_err *e);
void tkd_cuda_qwen2_free(tkd_cuda_qwen2 *q);
/* The plan it allocated (sizes, and the memory actually in use). */
const struct tkd_gpu_plan *tkd_cuda_qwen2_plan(const tkd_cuda_qwen2 *q);

/* Forward (host arrays, copied): same contract as tkd_qwen2_forward, but
 * the logits are NOT kept (they are made chunk by chunk in the loss). */
int tkd_cuda_qwen2_forward(tkd_cuda_qwen2 *q, const int *tokens, const int *docstart, int B, int T,
                           uint64_t dropout_seed, tkd_err *e);
/* Logits of rows [row0, row0+rows) of the last forward into host fp32 (rows, V): tests only. */
int tkd_cuda_qwen2_logits(tkd_cuda_qwen2 *q, int row0, int rows, float *out, tkd_err *e);
/*
 * Loss and backward of the last forward in one pass: the head's logits are
 * made in chunks of rows (never (B*T, V) at once), cross entropy and its
 * gradient per chunk, then the layers backward. Returns in *loss the sum of
 * -log p over masked tokens (as tkd_qwen2_loss) and accumulates the
 * gradients of (that sum) * scale (as tkd_qwen2_backward).
 */
int tkd_cuda_qwen2_loss_backward(tkd_cuda_qwen2 *q, const int *targets, const uint8_t *mask, float scale,
                                 double *loss, long *count, tkd_err *e);
void tkd_cuda_qwen2_zero_grad(tkd_cuda_qwen2 *q);
/* Device pointers to the fp32 trainable parameters and their gradients
 * (the same order and count n as tkd_qwen2_params on the CPU). */
float *tkd_cuda_qwen2_params_dev(tkd_cuda_qwen2 *q, size_t *n);
float *tkd_cuda_qwen2_grads_dev(tkd_cuda_qwen2 *q, size_t *n);
/* Copy the trainable parameters / gradients to or from host fp32 (n floats). */
int tkd_cuda_qwen2_get_params(tkd_cuda_qwen2 *q, float *host, tkd_err *e);
int tkd_cuda_qwen2_set_params(tkd_cuda_qwen2 *q, const float *host, tkd_err *e);
int tkd_cuda_qwen2_get_grads(tkd_cuda_qwen2 *q, float *host, tkd_err *e);
/* Clip (max_norm > 0) and one AdamW step on the GPU (state allocated by new);
 * returns the norm before clipping in *norm. m and v move with get/set_optim. */
int tkd_cuda_qwen2_step(tkd_cuda_qwen2 *q, double lr, double beta1, double beta2, double eps, double wd, long t,
                        double max_norm, double *norm, tkd_err *e);
int tkd_cuda_qwen2_get_optim(tkd_cuda_qwen2 *q, float *m, float *v, tkd_err *e);
int tkd_cuda_qwen2_set_optim(tkd_cuda_qwen2 *q, const float *m, const float *v, tkd_err *e);
/* The stream everything runs on (for NCCL), and a sync that reports errors. */
tkd_stream_t tkd_cuda_qwen2_stream(tkd_cuda_qwen2 *q);
int tkd_cuda_sync(tkd_stream_t s, tkd_err *e);
/* Peak device memory in use since new (bytes). */
size_t tkd_cuda_qwen2_peak_bytes(const tkd_cuda_qwen2 *q);

/* ==== part 3: NCCL data parallelism (nccl.cu) ==== */

typedef struct tkd_nccl tkd_nccl;
/*
 * One rank per GPU: rank 0 makes the NCCL unique id and broadcasts it over
 * MPI_COMM_WORLD; every rank picks its device (local rank modulo the devices
 * it sees, from OMPI_COMM_WORLD_LOCAL_RANK / SLURM_LOCALID / MPI's shared
 * communicator) and joins the clique. Multi-node goes the same path.
 */
int tkd_nccl_init(tkd_nccl **c, int *device, tkd_err *e);
void tkd_nccl_free(tkd_nccl *c);
/* Sum buf (n fp32, device) across ranks in place on stream s, in buckets of
 * bucket_bytes (0: one call), so a bucket can start while the backward goes on. */
int tkd_nccl_sum_f32(tkd_nccl *c, float *buf, size_t n, size_t bucket_bytes, tkd_stream_t s, tkd_err *e);

#ifdef __cplusplus
}
#endif

#endif
