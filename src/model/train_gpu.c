/*
 * The training loop's CUDA engine (train_priv.h): the same steps as the
 * CPU engine in train.c on this rank's GPU, with the CUDA twin
 * (tkd_cuda_qwen2_*: bf16 base, fp32 adapter and optimizer state on the
 * device) and the gradients summed between GPUs by NCCL (tkd_nccl_*). The
 * host keeps what checkpoints and the final adapter need: the trainable
 * parameters and the AdamW moments, copied from the device when a
 * checkpoint is written and back when one is read. A CPU-only build
 * compiles nothing here.
 *
 * Overlap: the gradients are all-reduced after the whole backward, in
 * buckets of TKD_NCCL_BUCKET_BYTES issued as one NCCL group on the model's
 * stream. tkd_cuda_qwen2_loss_backward is one call, so no bucket can start
 * while layers are still going backward; for LoRA the gradients are small
 * (a 7B model with r 64 on every projection: 0.65 GB), so this costs
 * little next to the step.
 */
#include "train_priv.h"

#ifdef TKD_HAVE_CUDA
#include "cuda/tkd_cuda.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gpu_engine {
    tkd_cuda_qwen2 *q;
    tkd_nccl *nccl; /* NULL on a single rank */
    int dev;
    float *dgrads; /* device */
} gpu_engine;

static int gpu_micro(tkd_engine *g, const int *tok, const int *tgt, const uint8_t *mask, const int *ds, int B, int T,
                     uint64_t dseed, float scale, double *loss, tkd_err *e) {
    gpu_engine *x = g->impl;
    long count = 0;
    int rc = tkd_cuda_qwen2_forward(x->q, tok, ds, B, T, dseed, e);
    return rc ? rc : tkd_cuda_qwen2_loss_backward(x->q, tgt, mask, scale, loss, &count, e);
}

static void gpu_zero_grad(tkd_engine *g) {
    tkd_cuda_qwen2_zero_grad(((gpu_engine *)g->impl)->q);
}

static int gpu_allreduce(tkd_engine *g, tkd_comm *c, tkd_err *e) {
    (void)c; /* the gradients go through NCCL; the loss and counts stay on MPI */
    gpu_engine *x = g->impl;
    return tkd_nccl_sum_f32(x->nccl, x->dgrads, g->n, TKD_NCCL_BUCKET_BYTES, tkd_cuda_qwen2_stream(x->q), e);
}

static int gpu_step(tkd_engine *g, double lr, double max_norm, double *norm, tkd_err *e) {
    gpu_engine *x = g->impl;
    tkd_adamw *o = g->opt;
    int rc = tkd_cuda_qwen2_step(x->q, lr, o->beta1, o->beta2, o->eps, o->weight_decay, o->t + 1, max_norm, norm, e);
    if (!rc)
        rc = tkd_cuda_sync(tkd_cuda_qwen2_stream(x->q), e); /* the step's time is the device's */
    if (!rc)
        o->t++;
    return rc;
}

static int gpu_to_host(tkd_engine *g, tkd_err *e) {
    gpu_engine *x = g->impl;
    int rc = tkd_cuda_qwen2_get_params(x->q, g->params, e);
    return rc ? rc : tkd_cuda_qwen2_get_optim(x->q, g->opt->m, g->opt->v, e);
}

static int gpu_from_host(tkd_engine *g, tkd_err *e) {
    gpu_engine *x = g->impl;
    int rc = tkd_cuda_qwen2_set_params(x->q, g->params, e);
    return rc ? rc : tkd_cuda_qwen2_set_optim(x->q, g->opt->m, g->opt->v, e);
}

static size_t gpu_peak(tkd_engine *g) {
    return tkd_cuda_qwen2_peak_bytes(((gpu_engine *)g->impl)->q);
}

static void gpu_free(tkd_engine *g) {
    gpu_engine *x = g->impl;
    if (x) {
        tkd_cuda_qwen2_free(x->q);
        tkd_nccl_free(x->nccl);
    }
    free(x);
    g->impl = NULL;
}

int tkd_engine_cuda(tkd_engine *g, tkd_model *m, tkd_lora *lora, const tkd_qwen2_opts *qo, tkd_comm *comm,
                    tkd_adamw *opt, tkd_err *e) {
    memset(g, 0, sizeof *g);
    gpu_engine *x = tkd_calloc(1, sizeof *x, e);
    if (!x)
        return TKD_ENOMEM;
    *g = (tkd_engine){.name = "cuda",
                      .impl = x,
                      .opt = opt,
                      .micro = gpu_micro,
                      .zero_grad = gpu_zero_grad,
                      .allreduce = gpu_allreduce,
                      .step = gpu_step,
                      .to_host = gpu_to_host,
                      .from_host = gpu_from_host,
                      .peak_bytes = gpu_peak,
                      .free = gpu_free};
    /* one rank per GPU: NCCL picks the device from the rank on the node */
    int rc = comm->world > 1 ? tkd_nccl_init(&x->nccl, &x->dev, e) : 0;
    size_t mem = 0;
    char name[80] = "";
    if (!rc)
        rc = tkd_cuda_device_info(x->dev, name, sizeof name, &mem, &g->peak_tflops, e);
    if (!rc)
        rc = tkd_cuda_qwen2_new(&x->q, m, lora, qo, x->dev, e);
    if (rc) {
        gpu_free(g);
        return rc;
    }
    size_t n = 0;
    x->dgrads = tkd_cuda_qwen2_grads_dev(x->q, &n);
    g->n = n;
    g->params = qo->full ? m->mem : lora->mem;
    size_t want = qo->full ? m->n_params : lora->n_params;
    if (n != want) {
        gpu_free(g);
        return tkd_err_set(e, TKD_EINTERNAL, "the CUDA model trains %zu parameters, the host copy has %zu", n, want);
    }
    if (!qo->full) { /* the device holds its own copy of the base: drop the host's fp32 one (28 GiB for 7B) */
        free(m->mem);
        m->mem = NULL;
        memset(m->p, 0, sizeof m->p);
    }
    const tkd_gpu_plan *p = tkd_cuda_qwen2_plan(x->q);
    g->flops_per_token = p ? p->flops_per_token : 0;
    snprintf(g->device_name, sizeof g->device_name, "GPU %d: %s, %.0f GiB, %.0f TFLOP/s bf16", x->dev, name,
             (double)mem / (1024.0 * 1024 * 1024), g->peak_tflops);
    return 0;
}

#else
typedef int tkd_train_gpu_empty; /* ISO C wants a declaration in every file */
#endif
