/*
 * The training loop: LoRA (or full) fine-tuning of a Qwen2 on SFT examples,
 * data-parallel over ranks. Each optimizer step takes G = batch * accum *
 * world rows of the data stream; the loss is the mean over the masked
 * (assistant) tokens of the whole global batch, so any split over ranks and
 * micro-batches gives the same step. Gradients are summed with tkd_comm,
 * clipped, and applied with AdamW on the warmup + decay schedule.
 * Checkpoints (parameters, optimizer moments, step; the data position and
 * the dropout masks follow from the step) make a resumed run identical to an
 * uninterrupted one.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include "tkd/safetensors.h"
#include "train_priv.h"

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
    tkd_qwen2 *q;
    tkd_adamw opt;
    float *params, *grads;
    size_t n;
    long G, total;
} run;

static int save_checkpoint(run *r, long step, tkd_err *e) {
    char tmp[4096], dst[4096], old[4096], p[4200];
    snprintf(tmp, sizeof tmp, "%s/checkpoint.tmp", r->o->out_dir);
    snprintf(dst, sizeof dst, "%s/checkpoint", r->o->out_dir);
    snprintf(old, sizeof old, "%s/checkpoint.old", r->o->out_dir);
    rm_tree(tmp);
    int rc = tkd_mkdirs(tmp, e);
    if (rc)
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
    json_t *st = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "step", (json_int_t)step, "adam_t",
                           (json_int_t)r->opt.t, "rows_consumed", (json_int_t)(step * r->G), "global_batch",
                           (json_int_t)r->G, "total_steps", (json_int_t)r->total, "n_params", (json_int_t)r->n, "seed",
                           (json_int_t)r->o->seed, "world", (json_int_t)r->comm->world);
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
    return rc;
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
        tkd_log_info("training %zu parameters (%s) on %ld rows/epoch; %ld steps of %ld rows x %d tokens on %d rank%s",
                     r->n, r->has_lora ? "LoRA" : "full", s.rows_per_epoch, r->total, r->G, T, c->world,
                     c->world > 1 ? "s" : "");
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
        tkd_qwen2_zero_grad(r->q);
        for (int a = 0; a < o->accum; a++) {
            size_t row0 = (size_t)(step * r->G + ((long)a * c->world + c->rank) * B);
            for (int i = 0; i < B; i++)
                tkd_stream_fill(&s, ex, row0 + (size_t)i, T, tok + i * T, tgt + i * T, mask + i * T, ds + i * T);
            uint64_t dseed = o->lora_dropout > 0 && r->has_lora ? mix(o->seed, row0) | 1 : 0;
            long nm;
            if ((rc = tkd_qwen2_forward(r->q, tok, ds, B, T, dseed, e)))
                goto out;
            cnt[2] += tkd_qwen2_loss(r->q, tgt, mask, &nm);
            if ((rc = tkd_qwen2_backward(r->q, tgt, mask, scale, e)))
                goto out;
        }
        if ((rc = c->sum_f32(c->ctx, r->grads, r->n, e)) || (rc = c->sum_f64(c->ctx, cnt + 2, 1, e)))
            goto out;
        double norm = tkd_clip_grad_norm(r->grads, r->n, o->clip);
        double lr = tkd_lr_at(o->schedule, o->lr, step, o->warmup, r->total);
        tkd_adamw_step(&r->opt, r->params, r->grads, lr);
        double loss = cnt[0] > 0 ? cnt[2] / cnt[0] : 0.0, dt = tkd_now() - t0;
        if (c->rank == 0) {
            if (o->log_every > 0 && ((step + 1) % o->log_every == 0 || step + 1 == r->total)) {
                printf("step %ld/%ld loss %.6f lr %.3e grad_norm %.4f tokens/s %.0f\n", step + 1, r->total, loss, lr,
                       norm, cnt[1] / dt);
                fflush(stdout);
            }
            if (log) {
                fprintf(
                    log,
                    "{\"step\":%ld,\"loss\":%.9g,\"lr\":%.9g,\"grad_norm\":%.9g,\"tokens\":%.0f,\"seconds\":%.4f}\n",
                    step + 1, loss, lr, norm, cnt[1], dt);
                fflush(log);
            }
        }
        int ck = o->checkpoint_every > 0 && (step + 1) % o->checkpoint_every == 0;
        if ((ck || step + 1 == r->total) && c->rank == 0 && (rc = save_checkpoint(r, step + 1, e)))
            goto out;
    }
    if (c->rank == 0) {
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
    run r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.comm = comm;
    r.G = (long)o->batch * o->accum * comm->world;
    int rc = tkd_model_load(&r.m, o->model_dir, e);
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
    if ((rc = tkd_qwen2_new(&r.q, &r.m, r.has_lora ? &r.lora : NULL, &qo, e)))
        goto out;
    r.params = tkd_qwen2_params(r.q, &r.n);
    r.grads = tkd_qwen2_grads(r.q, &r.n);
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
    tkd_qwen2_free(r.q);
    if (r.has_lora)
        tkd_lora_free(&r.lora);
    tkd_model_free(&r.m);
    return rc;
}
