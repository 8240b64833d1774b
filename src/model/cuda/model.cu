/*
 * The Qwen2 trainer on one GPU (part 2 of tkd_cuda.h), set-up and
 * optimizer half: the device's name, memory and bf16 peak, the three
 * allocations of the memory plan carved into buffers by the plan's own
 * layout (gpu_layout.h), the model copied from the host (fp32 -> bf16) or
 * made at random on the GPU (benchmarks, model_random.cu), trainable
 * parameters and their
 * gradients, clipping and AdamW. The passes are in model_pass.cu.
 */
#include "model_priv.h"

#include <math.h>

/* ---- devices ---- */

int tkd_cuda_device_count(char *why, size_t n) {
    int count = 0;
    cudaError_t rc = cudaGetDeviceCount(&count);
    if (rc != cudaSuccess || count < 1) {
        if (why && n)
            snprintf(why, n, "%s", rc != cudaSuccess ? cudaGetErrorString(rc) : "no CUDA device visible");
        cudaGetLastError(); /* clear it */
        return 0;
    }
    return count;
}

/* dense bf16 tensor-core FLOPs per SM per clock (fp32 accumulation) by compute capability */
static double flops_per_sm_clock(int major, int minor) {
    if (major == 8 && minor == 0)
        return 2048; /* A100: 108 SMs x 1.41 GHz x 2048 = 312 TFLOP/s */
    if (major == 8)
        return 1024; /* sm_86/sm_89 data-centre parts (A10, L40S) */
    if (major == 9)
        return 4096; /* H100/H200: 132 SMs x 1.83 GHz x 4096 = 989 TFLOP/s */
    if (major == 10)
        return 8192; /* B200 */
    return 0;
}

/* NVIDIA's published dense bf16 peaks (TFLOP/s). They are quoted at a lower
 * clock than the maximum boost the driver reports (H100 SXM: 1.83 GHz, not
 * 1.98), so a known name wins over SMs x clock, which would overstate the
 * peak by 8% and flatter MFU. Longer names first: "H100 PCIe" before "H100". */
static const struct {
    const char *name;
    double tflops;
} published[] = {{"H100 PCIe", 756}, {"H100 NVL", 835}, {"GH200", 989}, {"H200", 989}, {"H100", 989},
                 {"H800", 989},      {"H20", 148},      {"A100", 312},  {"A800", 312}, {"L40S", 362},
                 {"L40", 181},       {"A40", 150},      {"A30", 165},   {"A10", 125},  {"L4", 121},
                 {"B200", 2250},     {"B100", 1750},    {"GB200", 2500}};

int tkd_cuda_device_info(int dev, char *name, size_t n, size_t *mem_bytes, double *bf16_tflops, tkd_err *e) {
    cudaDeviceProp p;
    CUDA_CHECK(cudaGetDeviceProperties(&p, dev));
    int clk_khz = 0;
    CUDA_CHECK(cudaDeviceGetAttribute(&clk_khz, cudaDevAttrClockRate, dev));
    if (name && n)
        snprintf(name, n, "%s", p.name);
    if (mem_bytes)
        *mem_bytes = p.totalGlobalMem;
    double computed = p.multiProcessorCount * (clk_khz * 1e3) * flops_per_sm_clock(p.major, p.minor) / 1e12;
    double known = 0;
    for (size_t i = 0; i < sizeof published / sizeof published[0] && !known; i++)
        if (strstr(p.name, published[i].name))
            known = published[i].tflops;
    if (bf16_tflops)
        *bf16_tflops = known > 0 ? known : computed;
    return 0;
}

/* ---- set-up: the plan's three allocations and their buffers ---- */

#define PTR(base, off) ((off) == TKD_GPU_NO_BUFFER ? NULL : (void *)((base) + (off)))

void cm_acts_of(tkd_cuda_qwen2 *q, int set, cm_acts *a) {
    char *b = q->amem + q->lay.set0 + (size_t)set * q->lay.set_stride;
    const tkd_gpu_layer_offs *o = &q->lay.set;
    a->ln1 = (tkd_bf16 *)(b + o->ln1);
    a->rstd1 = (float *)(b + o->rstd1);
    a->q = (tkd_bf16 *)(b + o->q);
    a->k = (tkd_bf16 *)(b + o->k);
    a->v = (tkd_bf16 *)(b + o->v);
    a->lse = (float *)(b + o->lse);
    a->atty = (tkd_bf16 *)(b + o->atty);
    a->mid = (tkd_bf16 *)(b + o->mid);
    a->ln2 = (tkd_bf16 *)(b + o->ln2);
    a->rstd2 = (float *)(b + o->rstd2);
    a->g = (tkd_bf16 *)(b + o->g);
    a->u = (tkd_bf16 *)(b + o->u);
    a->h = (tkd_bf16 *)(b + o->h);
    for (int t = 0; t < TKD_LORA_NT; t++)
        a->ax[t] = (tkd_bf16 *)PTR(b, o->ax[t]);
}

void cm_sample_peak(tkd_cuda_qwen2 *q) {
    size_t fr = 0, tot = 0;
    if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
        cudaGetLastError(); /* only a figure for the log: never fail a step for it */
        return;
    }
    if (tot - fr > q->peak)
        q->peak = tot - fr;
}

static void carve(tkd_cuda_qwen2 *q) {
    const tkd_gpu_layout *l = &q->lay;
    char *w = q->wmem, *a = q->amem, *s = q->smem;
    q->w = (tkd_bf16 *)(w + l->w_base);
    q->master = (float *)(w + l->w_master);
    q->lora_bf16 = (tkd_bf16 *)PTR(w, l->w_lora_bf16);
    q->tokens = (int *)(a + l->tokens);
    q->docstart = (int *)(a + l->docstart);
    q->pos = (int *)(a + l->pos);
    q->targets = (int *)(a + l->targets);
    q->mask = (uint8_t *)(a + l->mask);
    q->resid = (tkd_bf16 *)(a + l->resid);
    q->lnf = (tkd_bf16 *)(a + l->lnf);
    q->rstdf = (float *)(a + l->rstdf);
    q->tmp_out = (tkd_bf16 *)PTR(a, l->tmp_out);
    q->logits = (float *)(a + l->logits);
    q->dlogits = (tkd_bf16 *)(a + l->dlogits);
    q->loss = (float *)(a + l->loss);
    q->dresid = (tkd_bf16 *)(a + l->dresid);
    q->dln = (tkd_bf16 *)(a + l->dln);
    q->dq = (tkd_bf16 *)(a + l->dq);
    q->datty = (tkd_bf16 *)(a + l->datty);
    q->dk = (tkd_bf16 *)(a + l->dk);
    q->dv = (tkd_bf16 *)(a + l->dv);
    q->dg = (tkd_bf16 *)(a + l->dg);
    q->du = (tkd_bf16 *)(a + l->du);
    q->dh = (tkd_bf16 *)(a + l->dh);
    q->dax = (tkd_bf16 *)PTR(a, l->dax);
    q->xdrop = (tkd_bf16 *)PTR(a, l->xdrop);
    q->xtmp = (tkd_bf16 *)PTR(a, l->xtmp);
    q->attn_scratch = a + l->attn_scratch;
    q->grads = (float *)(s + l->grads);
    q->adam_m = (float *)(s + l->adam_m);
    q->adam_v = (float *)(s + l->adam_v);
    q->sumsq_scratch = s + l->sumsq_scratch;
    q->norm_cell = (float *)(s + l->norm_cell);
}

static int setup(tkd_cuda_qwen2 *q, const tkd_model_config *c, const tkd_lora_config *lc, const tkd_qwen2_opts *o,
                 tkd_err *e) {
    TRY(tkd_gpu_layout_make(c, lc, o->full, o->B, o->T, o->recompute, &q->lay, e));
    TRY(tkd_gpu_plan_make(c, lc, o->full, o->B, o->T, o->recompute, &q->plan, e));
    const tkd_gpu_layout *l = &q->lay;
    /* the kernels' scratch must fit what the plan gave them */
    size_t need_attn = tkd_k_attn_bwd_scratch(o->B, o->T, c->n_heads, c->n_kv_heads, c->head_dim);
    if (need_attn > l->attn_scratch_bytes)
        return tkd_err_set(e, TKD_EINTERNAL,
                           "the attention backward needs %zu bytes of scratch, the memory plan gives %zu "
                           "(tkd_gpu_attn_scratch_bytes in gpu_plan.c must grow)",
                           need_attn, l->attn_scratch_bytes);
    size_t need_ss = tkd_k_sumsq_scratch(l->n_train ? l->n_train : 1);
    if (need_ss > l->sumsq_scratch_bytes)
        return tkd_err_set(e, TKD_EINTERNAL,
                           "the gradient norm needs %zu bytes of scratch, the memory plan gives %zu "
                           "(TKD_GPU_SUMSQ_SCRATCH must grow)",
                           need_ss, l->sumsq_scratch_bytes);
    CUDA_CHECK(cudaSetDevice(q->dev));
    size_t fr = 0, tot = 0;
    CUDA_CHECK(cudaMemGetInfo(&fr, &tot));
    q->mem_total = tot;
    const double G = 1024.0 * 1024.0 * 1024.0;
    size_t need = l->weights + l->activations + l->state;
    if (need > fr)
        return tkd_err_set(e, TKD_ENOMEM,
                           "GPU %d has %.2f GiB free of %.2f, the memory plan needs %.2f GiB (weights %.2f, "
                           "activations %.2f, gradients and optimizer %.2f) for batch %d x %d%s: lower "
                           "train.batch or train.seq_len, turn on recompute, or use a larger GPU",
                           q->dev, fr / G, tot / G, need / G, l->weights / G, l->activations / G, l->state / G, o->B,
                           o->T, o->recompute ? " with recompute" : "");
    CUDA_CHECK(cudaMalloc((void **)&q->wmem, l->weights));
    CUDA_CHECK(cudaMalloc((void **)&q->amem, l->activations));
    CUDA_CHECK(cudaMalloc((void **)&q->smem, l->state));
    CUDA_CHECK(cudaStreamCreateWithFlags(&q->s, cudaStreamNonBlocking));
    carve(q);
    TRY(tkd_lt_init(&q->lt, q->amem + l->lt_ws, l->lt_ws_bytes, e));
    q->h_pos = (int *)calloc((size_t)l->N, sizeof(int));
    q->h_tgt = (int *)calloc((size_t)l->N, sizeof(int));
    if (!q->h_pos || !q->h_tgt)
        return tkd_err_set(e, TKD_ENOMEM, "out of host memory for %d positions", l->N);
    CUDA_CHECK(cudaMemsetAsync(q->smem, 0, l->state, q->s)); /* gradients, m and v start at 0 */
    return 0;
}

static int create(tkd_cuda_qwen2 **out, const tkd_model_config *c, const tkd_lora_config *lc, const tkd_qwen2_opts *o,
                  int dev, tkd_err *e) {
    *out = NULL;
    tkd_cuda_qwen2 *q = (tkd_cuda_qwen2 *)calloc(1, sizeof *q);
    if (!q)
        return tkd_err_set(e, TKD_ENOMEM, "out of host memory for the CUDA model");
    q->dev = dev;
    q->o = *o;
    int rc = setup(q, c, lc, o, e);
    if (rc) {
        tkd_cuda_qwen2_free(q);
        return rc;
    }
    *out = q;
    return 0;
}

/* upload n host floats to bf16 dst, through the activation allocation as staging (unused before a forward) */
static int upload_bf16(tkd_cuda_qwen2 *q, tkd_bf16 *dst, const float *src, size_t n, tkd_err *e) {
    size_t chunk = q->lay.activations / sizeof(float);
    float *stage = (float *)q->amem;
    for (size_t i = 0; i < n; i += chunk) {
        size_t k = n - i < chunk ? n - i : chunk;
        /* ordered after the previous chunk's conversion on the same stream */
        CUDA_CHECK(cudaMemcpyAsync(stage, src + i, k * sizeof(float), cudaMemcpyHostToDevice, q->s));
        KERNEL_CHECK(tkd_k_f32_to_bf16(dst + i, stage, k, q->s));
    }
    return 0;
}

static int load(tkd_cuda_qwen2 *q, const tkd_model *m, const tkd_lora *lora, tkd_err *e) {
    const tkd_gpu_layout *l = &q->lay;
    if (m->n_params != l->n_model)
        return tkd_err_set(e, TKD_EINTERNAL, "host model has %zu parameters, the GPU layout %zu", m->n_params,
                           l->n_model);
    if (lora) {
        if (lora->n_params != l->n_lora || lora->n_layers != m->cfg.n_layers)
            return tkd_err_set(e, TKD_EINVAL, "adapter of %zu parameters does not fit the model (%zu expected)",
                               lora->n_params, l->n_lora);
        for (int t = 0; t < TKD_LORA_NT; t++)
            if ((l->lcfg.targets >> t & 1) &&
                (lora->off_a[t] != l->lora_off_a[t] || lora->off_b[t] != l->lora_off_b[t]))
                return tkd_err_set(e, TKD_EINTERNAL, "adapter layout of %s differs from the GPU's",
                                   tkd_lora_target_names[t]);
    }
    if (l->full) { /* the fp32 masters are the truth; the base is their bf16 copy */
        CUDA_CHECK(cudaMemcpyAsync(q->master, m->mem, l->n_model * sizeof(float), cudaMemcpyHostToDevice, q->s));
        KERNEL_CHECK(tkd_k_f32_to_bf16(q->w, q->master, l->n_model, q->s));
    } else {
        TRY(upload_bf16(q, q->w, m->mem, l->n_model, e));
    }
    if (lora) {
        CUDA_CHECK(cudaMemcpyAsync(q->master, lora->mem, l->n_lora * sizeof(float), cudaMemcpyHostToDevice, q->s));
        KERNEL_CHECK(tkd_k_f32_to_bf16(q->lora_bf16, q->master, l->n_lora, q->s));
    }
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    return 0;
}

int tkd_cuda_qwen2_new(tkd_cuda_qwen2 **out, const tkd_model *m, const tkd_lora *lora, const tkd_qwen2_opts *o, int dev,
                       tkd_err *e) {
    if (o->full && lora)
        return tkd_err_set(e, TKD_EINVAL, "full fine-tuning and a LoRA adapter are exclusive");
    TRY(create(out, &m->cfg, lora ? &lora->cfg : NULL, o, dev, e));
    int rc = load(*out, m, lora, e);
    if (rc) {
        tkd_cuda_qwen2_free(*out);
        *out = NULL;
        return rc;
    }
    cm_sample_peak(*out);
    return 0;
}

static int randomize(tkd_cuda_qwen2 *q, uint64_t seed, tkd_err *e) {
    const tkd_gpu_layout *l = &q->lay;
    for (int k = 0; k < TKD_P_COUNT; k++) {
        int is_norm = k == TKD_P_LN1 || k == TKD_P_LN2 || k == TKD_P_NORM;
        int is_bias = k == TKD_P_BQ || k == TKD_P_BK || k == TKD_P_BV;
        int mode = is_norm || is_bias ? 0 : 1;
        float a = is_norm ? 1.0f : is_bias ? 0.0f : 0.02f; /* as tkd_model_init_random */
        if (l->full)
            KERNEL_CHECK(cm_fill_f32(q->master + l->moff[k], l->msize[k], seed + 1000003ull * (k + 1), mode, a, q->s));
        else
            KERNEL_CHECK(cm_fill_bf16(q->w + l->moff[k], l->msize[k], seed + 1000003ull * (k + 1), mode, a, q->s));
    }
    if (l->full)
        KERNEL_CHECK(tkd_k_f32_to_bf16(q->w, q->master, l->n_model, q->s));
    if (l->lora) { /* PEFT's init: A uniform in +-1/sqrt(in), B zero */
        for (int t = 0; t < TKD_LORA_NT; t++) {
            if (!(l->lcfg.targets >> t & 1))
                continue;
            size_t na = (size_t)l->cfg.n_layers * l->lcfg.r * l->lora_in[t];
            size_t nb = (size_t)l->cfg.n_layers * l->lora_out[t] * l->lcfg.r;
            KERNEL_CHECK(cm_fill_f32(q->master + l->lora_off_a[t], na, seed ^ (0xa11ull << 32 | (unsigned)t), 2,
                                     (float)(1.0 / sqrt((double)l->lora_in[t])), q->s));
            KERNEL_CHECK(cm_fill_f32(q->master + l->lora_off_b[t], nb, 0, 0, 0.0f, q->s));
        }
        KERNEL_CHECK(tkd_k_f32_to_bf16(q->lora_bf16, q->master, l->n_lora, q->s));
    }
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    return 0;
}

int tkd_cuda_qwen2_new_random(tkd_cuda_qwen2 **out, const tkd_model_config *cfg, const tkd_lora_config *lora,
                              const tkd_qwen2_opts *o, uint64_t seed, int dev, tkd_err *e) {
    TRY(create(out, cfg, lora, o, dev, e));
    int rc = randomize(*out, seed, e);
    if (rc) {
        tkd_cuda_qwen2_free(*out);
        *out = NULL;
        return rc;
    }
    cm_sample_peak(*out);
    return 0;
}

void tkd_cuda_qwen2_free(tkd_cuda_qwen2 *q) {
    if (!q)
        return;
    cudaSetDevice(q->dev);
    if (q->s)
        cudaStreamSynchronize(q->s);
    tkd_lt_free(&q->lt);
    if (q->s)
        cudaStreamDestroy(q->s);
    cudaFree(q->wmem);
    cudaFree(q->amem);
    cudaFree(q->smem);
    cudaGetLastError();
    free(q->h_pos);
    free(q->h_tgt);
    free(q);
}

const struct tkd_gpu_plan *tkd_cuda_qwen2_plan(const tkd_cuda_qwen2 *q) {
    return &q->plan;
}

tkd_stream_t tkd_cuda_qwen2_stream(tkd_cuda_qwen2 *q) {
    return (tkd_stream_t)q->s;
}

int tkd_cuda_sync(tkd_stream_t s, tkd_err *e) {
    CUDA_CHECK(cudaStreamSynchronize((cudaStream_t)s));
    CUDA_CHECK(cudaGetLastError());
    return 0;
}

size_t tkd_cuda_qwen2_peak_bytes(const tkd_cuda_qwen2 *q) {
    return q->peak;
}

/* ---- trainable parameters, gradients, optimizer ---- */

float *tkd_cuda_qwen2_params_dev(tkd_cuda_qwen2 *q, size_t *n) {
    *n = q->lay.n_train;
    return q->master;
}

float *tkd_cuda_qwen2_grads_dev(tkd_cuda_qwen2 *q, size_t *n) {
    *n = q->lay.n_train;
    return q->grads;
}

void tkd_cuda_qwen2_zero_grad(tkd_cuda_qwen2 *q) {
    if (!q->lay.n_train)
        return;
    cudaError_t rc = cudaMemsetAsync(q->grads, 0, q->lay.n_train * sizeof(float), q->s);
    if (rc != cudaSuccess && q->pending == cudaSuccess)
        q->pending = rc;
}

int cm_pending(tkd_cuda_qwen2 *q, tkd_err *e) {
    cudaError_t rc = q->pending;
    q->pending = cudaSuccess;
    if (rc != cudaSuccess)
        return tkd_err_set(e, TKD_EIO, "CUDA: zeroing the gradients failed: %s", cudaGetErrorString(rc));
    CUDA_CHECK(cudaSetDevice(q->dev));
    return 0;
}

static int copy_sync(tkd_cuda_qwen2 *q, void *dst, const void *src, size_t bytes, cudaMemcpyKind kind, tkd_err *e) {
    /* on the model's stream: a non-blocking stream does not wait for the legacy default stream of cudaMemcpy */
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind, q->s));
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    return 0;
}

int tkd_cuda_qwen2_get_params(tkd_cuda_qwen2 *q, float *host, tkd_err *e) {
    TRY(cm_pending(q, e));
    return copy_sync(q, host, q->master, q->lay.n_train * sizeof(float), cudaMemcpyDeviceToHost, e);
}

int tkd_cuda_qwen2_set_params(tkd_cuda_qwen2 *q, const float *host, tkd_err *e) {
    TRY(cm_pending(q, e));
    size_t n = q->lay.n_train;
    CUDA_CHECK(cudaMemcpyAsync(q->master, host, n * sizeof(float), cudaMemcpyHostToDevice, q->s));
    if (n) /* the bf16 copy the products read */
        KERNEL_CHECK(tkd_k_f32_to_bf16(q->lay.full ? q->w : q->lora_bf16, q->master, n, q->s));
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    return 0;
}

int tkd_cuda_qwen2_get_grads(tkd_cuda_qwen2 *q, float *host, tkd_err *e) {
    TRY(cm_pending(q, e));
    return copy_sync(q, host, q->grads, q->lay.n_train * sizeof(float), cudaMemcpyDeviceToHost, e);
}

int tkd_cuda_qwen2_get_optim(tkd_cuda_qwen2 *q, float *m, float *v, tkd_err *e) {
    TRY(cm_pending(q, e));
    TRY(copy_sync(q, m, q->adam_m, q->lay.n_train * sizeof(float), cudaMemcpyDeviceToHost, e));
    return copy_sync(q, v, q->adam_v, q->lay.n_train * sizeof(float), cudaMemcpyDeviceToHost, e);
}

int tkd_cuda_qwen2_set_optim(tkd_cuda_qwen2 *q, const float *m, const float *v, tkd_err *e) {
    TRY(cm_pending(q, e));
    TRY(copy_sync(q, q->adam_m, m, q->lay.n_train * sizeof(float), cudaMemcpyHostToDevice, e));
    return copy_sync(q, q->adam_v, v, q->lay.n_train * sizeof(float), cudaMemcpyHostToDevice, e);
}

int tkd_cuda_qwen2_step(tkd_cuda_qwen2 *q, double lr, double beta1, double beta2, double eps, double wd, long t,
                        double max_norm, double *norm, tkd_err *e) {
    TRY(cm_pending(q, e));
    size_t n = q->lay.n_train;
    if (!n)
        return tkd_err_set(e, TKD_EINVAL, "nothing to train: no adapter and no full fine-tuning");
    if (t < 1)
        return tkd_err_set(e, TKD_EINVAL, "AdamW step %ld: steps count from 1", t);
    KERNEL_CHECK(tkd_k_sumsq(q->norm_cell, q->grads, n, q->sumsq_scratch, q->lay.sumsq_scratch_bytes, q->s));
    float ss = 0;
    CUDA_CHECK(cudaMemcpyAsync(&ss, q->norm_cell, sizeof ss, cudaMemcpyDeviceToHost, q->s));
    KERNEL_CHECK(tkd_k_clip(q->grads, n, q->norm_cell, (float)max_norm, q->s));
    KERNEL_CHECK(tkd_k_adamw(q->master, q->lay.full ? q->w : q->lora_bf16, q->grads, q->adam_m, q->adam_v, n, (float)lr,
                             (float)beta1, (float)beta2, (float)eps, (float)wd, t, q->s));
    CUDA_CHECK(cudaStreamSynchronize(q->s));
    cm_sample_peak(q);
    if (norm)
        *norm = sqrt((double)ss);
    return 0;
}
