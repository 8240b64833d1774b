/*
 * The training loop: LoRA (or full) fine-tuning of a Qwen2 on SFT examples,
 * data-parallel over ranks. Each optimizer step takes G = batch * accum *
 * world rows of the data stream; the loss is the mean over the masked
 * (assistant) tokens of the whole global batch, so any split over ranks and
 * micro-batches gives the same step. Gradients are summed with tkd_comm,
 * clipped, and applied with AdamW on the warmup + decay schedule.
 * Checkpoints (parameters, optimizer moments, step; the data position and
 * the dropout masks follow from the step) make a resumed run identical to an
 * uninterrupted one. The loop sees its device through a small engine
 * (train_priv.h): the CPU reference here, the CUDA twin in train_gpu.c.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tkd/safetensors.h"
#include "train_priv.h"
#ifdef TKD_HAVE_CUDA
#include "cuda/tkd_cuda.h"
#endif

#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void tkd_train_opts_default(tkd_train_opts *o) {
    memset(o, 0, sizeof *o);
    o->lora_r = 16;
    o->lora_alpha = 32;
    o->lora_dropout = 0.05;
    o->lora_targets = (1u << TKD_LORA_NT) - 1;
    o->lr = 2e-4;
    o->weight_decay = 0.0;
    o->clip = 1.0;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->warmup = 0;
    o->schedule = "cosine";
    o->batch = 1;
    o->accum = 1;
    o->seq_len = 512;
    o->epochs = 1;
    o->log_every = 1;
    o->seed = 1234;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *f) {
    (void)sb, (void)flag, (void)f;
    return remove(p);
}

static void rm_tree(const char *p) {
    nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

typedef struct run {
    const tkd_train_opts *o;
    tkd_comm *comm;
    tkd_model m;
    tkd_lora lora;
    int has_lora;
    tkd_engine g; /* the device: params, n and opt are the host state checkpoints read */
    tkd_adamw opt;
    float *params;
    size_t n;
    long G, total;
} run;

/* ---- the CPU engine: the fp32 reference (qwen2*.c, adamw.c, comm.c) ---- */
typedef struct cpu_engine {
    tkd_qwen2 *q;
    float *grads;
} cpu_engine;

static int cpu_micro(tkd_engine *g, const int *tok, const int *tgt, const uint8_t *mask, const int *ds, int B, int T,
                     uint64_t dseed, float scale, double *loss, tkd_err *e) {
    cpu_engine *c = g->impl;
    long nm;
    int rc = tkd_qwen2_forward(c->q, tok, ds, B, T, dseed, e);
    if (rc)
        return rc;
    *loss = tkd_qwen2_loss(c->q, tgt, mask, &nm);
    return tkd_qwen2_backward(c->q, tgt, mask, scale, e);
}

static void cpu_zero_grad(tkd_engine *g) {
    tkd_qwen2_zero_grad(((cpu_engine *)g->impl)->q);
}

static int cpu_allreduce(tkd_engine *g, tkd_comm *c, tkd_err *e) {
    return c->sum_f32(c->ctx, ((cpu_engine *)g->impl)->grads, g->n, e);
}

static int cpu_step(tkd_engine *g, double lr, double max_norm, double *norm, tkd_err *e) {
    (void)e;
    cpu_engine *c = g->impl;
    *norm = tkd_clip_grad_norm(c->grads, g->n, max_norm);
    tkd_adamw_step(g->opt, g->params, c->grads, lr);
    return 0;
}

static int cpu_same(tkd_engine *g, tkd_err *e) { /* the host state is the state */
    return (void)g, (void)e, 0;
}

static size_t cpu_peak(tkd_engine *g) {
    return (void)g, 0;
}

static void cpu_free(tkd_engine *g) {
    cpu_engine *c = g->impl;
    if (c)
        tkd_qwen2_free(c->q);
    free(c);
    g->impl = NULL;
}

static int engine_cpu(tkd_engine *g, tkd_model *m, tkd_lora *lora, const tkd_qwen2_opts *qo, tkd_adamw *opt,
                      tkd_err *e) {
    memset(g, 0, sizeof *g);
    cpu_engine *c = tkd_calloc(1, sizeof *c, e);
    if (!c)
        return TKD_ENOMEM;
    int rc = tkd_qwen2_new(&c->q, m, lora, qo, e);
    if (rc) {
        free(c);
        return rc;
    }
    *g = (tkd_engine){.name = "cpu",
                      .impl = c,
                      .opt = opt,
                      .micro = cpu_micro,
                      .zero_grad = cpu_zero_grad,
                      .allreduce = cpu_allreduce,
                      .step = cpu_step,
                      .to_host = cpu_same,
                      .from_host = cpu_same,
                      .peak_bytes = cpu_peak,
                      .free = cpu_free};
    g->params = tkd_qwen2_params(c->q, &g->n);
    c->grads = tkd_qwen2_grads(c->q, &g->n);
    snprintf(g->device_name, sizeof g->device_name, "CPU");
    return 0;
}

int tkd_train_pick_device(const char *want, int *cuda, char *why, size_t n, tkd_err *e) {
    *cuda = 0;
    if (!want || !strcmp(want, "cpu")) {
        snprintf(why, n, "train.device cpu");
        return 0;
    }
    if (strcmp(want, "auto") && strcmp(want, "cuda"))
        return tkd_err_set(e, TKD_EINVAL, "train.device '%s': want auto, cpu or cuda", want);
#ifdef TKD_HAVE_CUDA
    char reason[512] = "";
    int count = tkd_cuda_device_count(reason, sizeof reason);
    if (count > 0) {
        *cuda = 1;
        snprintf(why, n, "train.device %s: %d CUDA device%s visible", want, count, count > 1 ? "s" : "");
        return 0;
    }
    if (!strcmp(want, "cuda"))
        return tkd_err_set(e, TKD_EINVAL, "train.device cuda: no usable CUDA device (%s); use train.device cpu or auto",
                           *reason ? reason : "none visible");
    snprintf(why, n, "train.device auto: no usable CUDA device (%s), training on the CPU",
             *reason ? reason : "none visible");
#else
    if (!strcmp(want, "cuda"))
        return tkd_err_set(e, TKD_EINVAL,
                           "train.device cuda: this tkd was built without CUDA (CPU-only: no nvcc or NCCL found, or "
                           "-DTKD_CUDA=OFF); rebuild where /usr/local/cuda or CUDA_HOME has nvcc and NCCL, or use "
                           "train.device cpu or auto");
    snprintf(why, n, "train.device auto: this build has no CUDA, training on the CPU");
#endif
    return 0;
}

static int save_checkpoint(run *r, long step, tkd_err *e) {
    char tmp[4096], dst[4096], old[4096], p[4200];
    snprintf(tmp, sizeof tmp, "%s/checkpoint.tmp", r->o->out_dir);
    snprintf(dst, sizeof dst, "%s/checkpoint", r->o->out_dir);
    snprintf(old, sizeof old, "%s/checkpoint.old", r->o->out_dir);
    rm_tree(tmp);
    int rc = r->g.to_host(&r->g, e);
    if (rc || (rc = tkd_mkdirs(tmp, e)))
        return rc;
    tkd_st_entry pe = {"params", r->params, 1, {(int64_t)r->n}};
    snprintf(p, sizeof p, "%s/params.safetensors", tmp);
    if ((rc = tkd_st_write(p, &pe, 1, 0, NULL, e)))
        return rc;
    tkd_st_entry oe[2] = {{"adamw.m", r->opt.m, 1, {(int64_t)r->n}}, {"adamw.v", r->opt.v, 1, {(int64_t)r->n}}};
    snprintf(p, sizeof p, "%s/optimizer.safetensors", tmp);
    if ((rc = tkd_st_write(p, oe, 2, 0, NULL, e)))
        return rc;
    if (r->has_lora) {
        snprintf(p, sizeof p, "%s/adapter", tmp);
        if ((rc = tkd_lora_save(&r->lora, p, r->o->base_name ? r->o->base_name : r->o->model_dir, e)))
            return rc;
    }
    json_t *st = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}", "step", (json_int_t)step, "adam_t",
                           (json_int_t)r->opt.t, "rows_consumed", (json_int_t)(step * r->G), "global_batch",
                           (json_int_t)r->G, "total_steps", (json_int_t)r->total, "n_params", (json_int_t)r->n, "seed",
                           (json_int_t)r->o->seed, "world", (json_int_t)r->comm->world, "device", r->g.name);
    char *js = st ? json_dumps(st, JSON_INDENT(2)) : NULL;
    json_decref(st);
    if (!js)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    snprintf(p, sizeof p, "%s/state.json", tmp);
    rc = tkd_file_write_atomic(p, js, strlen(js), e);
    free(js);
    if (rc)
        return rc;
    rm_tree(old);
    if ((!access(dst, F_OK) && rename(dst, old)) || rename(tmp, dst))
        return tkd_err_set(e, TKD_EIO, "%s: cannot move the new checkpoint in place", dst);
    rm_tree(old);
    return 0;
}

/* Returns the step to start from (0 without a checkpoint). */
static int load_checkpoint(run *r, long *step, tkd_err *e) {
    char p[4200];
    snprintf(p, sizeof p, "%s/checkpoint/state.json", r->o->out_dir);
    *step = 0;
    if (access(p, F_OK))
        return 0;
    json_error_t je;
    json_t *st = json_load_file(p, 0, &je);
    if (!st)
        return tkd_err_set(e, TKD_EFORMAT, "%s: %s", p, je.text);
    long s = (long)json_integer_value(json_object_get(st, "step")),
         t = (long)json_integer_value(json_object_get(st, "adam_t")),
         G = (long)json_integer_value(json_object_get(st, "global_batch"));
    size_t n = (size_t)json_integer_value(json_object_get(st, "n_params"));
    json_decref(st);
    if (G != r->G || n != r->n)
        return tkd_err_set(e, TKD_EINVAL,
                           "%s: checkpoint has global batch %ld and %zu parameters, this run %ld and %zu: resume "
                           "with the same batch, accumulation, ranks and model, or use a new output folder",
                           p, G, n, r->G, r->n);
    tkd_st f;
    int64_t shape[1] = {(int64_t)n};
    snprintf(p, sizeof p, "%s/checkpoint/params.safetensors", r->o->out_dir);
    int rc = tkd_st_open(p, &f, e);
    if (rc)
        return rc;
    rc = tkd_st_read_f32(&f, "params", r->params, shape, 1, e);
    tkd_st_close(&f);
    snprintf(p, sizeof p, "%s/checkpoint/optimizer.safetensors", r->o->out_dir);
    if (rc || (rc = tkd_st_open(p, &f, e)))
        return rc;
    if (!(rc = tkd_st_read_f32(&f, "adamw.m", r->opt.m, shape, 1, e)))
        rc = tkd_st_read_f32(&f, "adamw.v", r->opt.v, shape, 1, e);
    tkd_st_close(&f);
    r->opt.t = t;
    *step = s;
    return rc ? rc : r->g.from_host(&r->g, e);
}

/*
 * The step line and its train_log.jsonl record. On the CPU: step, loss,
 * learning rate, gradient norm, tokens/s (no MFU: the CPU has no stated
 * peak). On a GPU also MFU (the plan's FLOPs per token x tokens/s over the
 * ranks' dense bf16 peak; tokens are the real ones, padding not counted) and
 * the peak GPU memory of this rank.
 */
static void log_step(run *r, FILE *log, long step, double loss, double lr, double norm, double tokens, double dt) {
    const tkd_train_opts *o = r->o;
    tkd_engine *g = &r->g;
    double tps = dt > 0 ? tokens / dt : 0, mfu = -1, gib = (double)g->peak_bytes(g) / (1024.0 * 1024 * 1024);
    if (g->peak_tflops > 0 && g->flops_per_token > 0)
        mfu = g->flops_per_token * tps / (r->comm->world * g->peak_tflops * 1e12);
    if (o->log_every > 0 && ((step + 1) % o->log_every == 0 || step + 1 == r->total)) {
        printf("step %ld/%ld loss %.6f lr %.3e grad_norm %.4f tokens/s %.0f", step + 1, r->total, loss, lr, norm, tps);
        if (mfu >= 0)
            printf(" mfu %.1f%%", 100 * mfu);
        if (gib > 0)
            printf(" gpu_mem %.2fGiB", gib);
        printf("\n");
        fflush(stdout);
    }
    if (!log)
        return;
    fprintf(log, "{\"step\":%ld,\"loss\":%.9g,\"lr\":%.9g,\"grad_norm\":%.9g,\"tokens\":%.0f,\"seconds\":%.4f",
            step + 1, loss, lr, norm, tokens, dt);
    if (strcmp(g->name, "cpu"))
        fprintf(log, ",\"device\":\"%s\",\"tokens_per_s\":%.1f,\"mfu\":%.4f,\"gpu_mem_gib\":%.3f", g->name, tps,
                mfu >= 0 ? mfu : 0, gib);
    fprintf(log, "}\n");
    fflush(log);
}

/* Keep the log lines of steps <= upto (a resumed run rewrites what follows). */
static FILE *open_log(const char *out_dir, long upto) {
    char p[4200];
    snprintf(p, sizeof p, "%s/train_log.jsonl", out_dir);
    tkd_buf keep;
    tkd_buf_init(&keep);
    FILE *f = fopen(p, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f)) {
            const char *s = strstr(line, "\"step\":");
            if (s && atol(s + 7) <= upto)
                tkd_buf_puts(&keep, line);
        }
        fclose(f);
    }
    f = fopen(p, "w");
    if (f && keep.len)
        fwrite(keep.data, 1, keep.len, f);
    tkd_buf_free(&keep);
    return f;
}

static uint64_t mix(uint64_t a, uint64_t b) {
    uint64_t z = a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int train_loop(run *r, const tkd_sft_example *ex, int n_ex, volatile sig_atomic_t *stop, tkd_err *e) {
    const tkd_train_opts *o = r->o;
    tkd_comm *c = r->comm;
    int B = o->batch, T = o->seq_len, rc;
    tkd_stream s;
    if ((rc = tkd_stream_build(&s, ex, n_ex, T, o->packing, o->seed, o->steps, o->epochs, r->G, &r->total, e)))
        return rc;
    long start = 0;
    if ((rc = load_checkpoint(r, &start, e))) {
        tkd_stream_free(&s);
        return rc;
    }
    if (c->rank == 0) {
        if (start)
            tkd_log_info("resuming from step %ld of %ld (%s/checkpoint)", start, r->total, o->out_dir);
        tkd_log_info(
            "training %zu parameters (%s) on %ld rows/epoch; %ld steps of %ld rows x %d tokens on %d rank%s (%s%s)",
            r->n, r->has_lora ? "LoRA" : "full", s.rows_per_epoch, r->total, r->G, T, c->world, c->world > 1 ? "s" : "",
            r->g.device_name, strcmp(r->g.name, "cpu") && c->world > 1 ? " per rank, NCCL" : "");
    }
    FILE *log = c->rank == 0 ? open_log(o->out_dir, start) : NULL;
    size_t NB = (size_t)B * T;
    int *tok = tkd_malloc(NB * sizeof(int) * 3, e);
    uint8_t *mask = tkd_malloc(NB, e);
    if (!tok || !mask) {
        rc = TKD_ENOMEM;
        goto out;
    }
    int *tgt = tok + NB, *ds = tok + 2 * NB;
    for (long step = start; step < r->total; step++) {
        int flag = stop ? (int)*stop : 0;
        if ((rc = c->max_int(c->ctx, &flag, e)))
            goto out;
        if (flag) {
            if (c->rank == 0 && (rc = save_checkpoint(r, step, e)))
                goto out;
            if (c->rank == 0)
                tkd_log_warn("stopped on request at step %ld of %ld; checkpoint written, run again to resume", step,
                             r->total);
            rc = c->max_int(c->ctx, &flag, e); /* everyone waits for the checkpoint */
            rc = rc ? rc : tkd_err_set(e, TKD_ESTOP, "stopped at step %ld (resumable)", step);
            goto out;
        }
        double t0 = tkd_now(), cnt[3] = {0, 0, 0}; /* masked tokens, real tokens, loss sum */
        for (int a = 0; a < o->accum; a++)
            for (int i = 0; i < B; i++) {
                size_t row = (size_t)(step * r->G + ((long)a * c->world + c->rank) * B + i);
                cnt[1] += (double)tkd_stream_fill(&s, ex, row, T, tok, tgt, mask, ds);
                for (int t = 0; t < T; t++)
                    cnt[0] += mask[t];
            }
        if ((rc = c->sum_f64(c->ctx, cnt, 2, e)))
            goto out;
        float scale = cnt[0] > 0 ? (float)(1.0 / cnt[0]) : 0.0f;
        tkd_engine *g = &r->g;
        g->zero_grad(g);
        for (int a = 0; a < o->accum; a++) {
            size_t row0 = (size_t)(step * r->G + ((long)a * c->world + c->rank) * B);
            for (int i = 0; i < B; i++)
                tkd_stream_fill(&s, ex, row0 + (size_t)i, T, tok + i * T, tgt + i * T, mask + i * T, ds + i * T);
            uint64_t dseed = o->lora_dropout > 0 && r->has_lora ? mix(o->seed, row0) | 1 : 0;
            double l = 0;
            if ((rc = g->micro(g, tok, tgt, mask, ds, B, T, dseed, scale, &l, e)))
                goto out;
            cnt[2] += l;
        }
        if ((rc = g->allreduce(g, c, e)) || (rc = c->sum_f64(c->ctx, cnt + 2, 1, e)))
            goto out;
        double norm = 0, lr = tkd_lr_at(o->schedule, o->lr, step, o->warmup, r->total);
        if ((rc = g->step(g, lr, o->clip, &norm, e)))
            goto out;
        double loss = cnt[0] > 0 ? cnt[2] / cnt[0] : 0.0, dt = tkd_now() - t0;
        if (c->rank == 0)
            log_step(r, log, step, loss, lr, norm, cnt[1], dt);
        int ck = o->checkpoint_every > 0 && (step + 1) % o->checkpoint_every == 0;
        if ((ck || step + 1 == r->total) && c->rank == 0 && (rc = save_checkpoint(r, step + 1, e)))
            goto out;
    }
    if (c->rank == 0 && !(rc = r->g.to_host(&r->g, e))) {
        char p[4200];
        if (r->has_lora) {
            snprintf(p, sizeof p, "%s/adapter", o->out_dir);
            rc = tkd_lora_save(&r->lora, p, o->base_name ? o->base_name : o->model_dir, e);
        } else {
            snprintf(p, sizeof p, "%s/model", o->out_dir);
            rc = tkd_model_save(&r->m, p, 0, e);
        }
        if (!rc)
            tkd_log_info("wrote %s", p);
    }
out:
    if (log)
        fclose(log);
    free(tok);
    free(mask);
    tkd_stream_free(&s);
    return rc;
}

/* Examples with no trained token once cut to seq_len (the assistant part
 * lies past it, or there is none) are left out of the rows: say how many and
 * which; when none is left, fail before any work. */
static int check_trainable(const tkd_train_opts *o, const tkd_sft_example *ex, int n_ex, int rank, tkd_err *e) {
    int empty = 0;
    char which[160] = "";
    size_t w = 0;
    for (int i = 0; i < n_ex; i++)
        if (!tkd_stream_trainable(&ex[i], o->seq_len) && ++empty <= 5 && w < sizeof which)
            w += (size_t)snprintf(which + w, sizeof which - w, "%s%d", empty > 1 ? ", " : "", i + 1);
    if (empty == n_ex)
        return tkd_err_set(
            e, TKD_EINVAL,
            "none of the %d training examples has a trained token (an assistant token, loss_mask 1) "
            "within train.seq_len=%d positions: raise train.seq_len, or check the data's roles and masks",
            n_ex, o->seq_len);
    if (empty && rank == 0)
        tkd_log_warn("%d of %d training examples have no trained token within train.seq_len=%d (the assistant part is "
                     "cut off, or there is none) and are left out: example%s %s%s (lines without blank lines)",
                     empty, n_ex, o->seq_len, empty > 1 ? "s" : "", which, empty > 5 ? ", ..." : "");
    return 0;
}

int tkd_train(const tkd_train_opts *o, const tkd_sft_example *ex, int n_ex, tkd_comm *comm, volatile sig_atomic_t *stop,
              tkd_err *e) {
    if (o->batch < 1 || o->accum < 1 || o->seq_len < 2 || !o->out_dir || !o->model_dir)
        return tkd_err_set(e, TKD_EINVAL,
                           "training needs batch >= 1, accumulation >= 1, seq_len >= 2, a model and "
                           "an output folder");
    if (check_trainable(o, ex, n_ex, comm->rank, e))
        return e->code;
    /* every rank decides; they must agree (a mixed allocation is refused) */
    int cuda = 0, rc;
    char why[640];
    if ((rc = tkd_train_pick_device(o->device, &cuda, why, sizeof why, e)))
        return rc;
    int any = cuda, all = -cuda;
    if ((rc = comm->max_int(comm->ctx, &any, e)) || (rc = comm->max_int(comm->ctx, &all, e)))
        return rc;
    if (any != -all)
        return tkd_err_set(e, TKD_EINVAL,
                           "train.device %s: some ranks see a CUDA device and some do not (this rank: %s); give every "
                           "rank a GPU, or set train.device cpu",
                           o->device ? o->device : "cpu", why);
    if (comm->rank == 0)
        tkd_log_info("%s", why);
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.comm = comm;
    r.G = (long)o->batch * o->accum * comm->world;
    rc = tkd_model_load(&r.m, o->model_dir, e);
    if (rc)
        return rc;
    if (o->seq_len > r.m.cfg.max_pos) {
        tkd_model_free(&r.m);
        return tkd_err_set(e, TKD_EINVAL, "seq_len %d exceeds the model's max_position_embeddings %d", o->seq_len,
                           r.m.cfg.max_pos);
    }
    for (int i = 0; i < n_ex; i++) /* bad data is named before any work is done */
        for (int t = 0; t < ex[i].n; t++)
            if (ex[i].ids[t] < 0 || ex[i].ids[t] >= r.m.cfg.vocab) {
                tkd_model_free(&r.m);
                return tkd_err_set(e, TKD_EINVAL,
                                   "training example %d (line %d of the data without blank lines) has token id %d at "
                                   "position %d, outside the model's vocabulary of %d",
                                   i, i + 1, ex[i].ids[t], t, r.m.cfg.vocab);
            }
    if (!o->full) {
        tkd_lora_config lc = {o->lora_r, o->lora_alpha, o->lora_dropout, o->lora_targets};
        if ((rc = tkd_lora_alloc(&r.lora, &r.m.cfg, &lc, e)))
            goto out;
        r.has_lora = 1;
        tkd_lora_init(&r.lora, o->seed);
    }
    tkd_qwen2_opts qo = {.B = o->batch, .T = o->seq_len, .full = o->full, .recompute = o->recompute};
    tkd_lora *lora = r.has_lora ? &r.lora : NULL;
#ifdef TKD_HAVE_CUDA
    if (cuda)
        rc = tkd_engine_cuda(&r.g, &r.m, lora, &qo, comm, &r.opt, e);
    else
#endif
        rc = engine_cpu(&r.g, &r.m, lora, &qo, &r.opt, e);
    int bad = rc != 0; /* a rank that cannot set up (GPU memory) must not leave the others waiting */
    if (comm->max_int(comm->ctx, &bad, NULL) == 0 && bad && !rc)
        rc = tkd_err_set(e, TKD_EIO, "another rank could not set up its %s (see its error)", cuda ? "GPU" : "model");
    if (rc)
        goto out;
    r.params = r.g.params;
    r.n = r.g.n;
    if ((rc = tkd_adamw_init(&r.opt, r.n, o->lr, o->weight_decay, e)))
        goto out;
    r.opt.beta1 = o->beta1;
    r.opt.beta2 = o->beta2;
    r.opt.eps = o->eps;
    if (comm->rank == 0 && (rc = tkd_mkdirs(o->out_dir, e)))
        goto out;
    rc = train_loop(&r, ex, n_ex, stop, e);
out:
    tkd_adamw_free(&r.opt);
    if (r.g.free)
        r.g.free(&r.g);
    if (r.has_lora)
        tkd_lora_free(&r.lora);
    tkd_model_free(&r.m);
    return rc;
}
