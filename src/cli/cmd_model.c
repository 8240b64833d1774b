/*
 * The student model on the command line:
 *   tkd model init CONFIG.json OUT_DIR [--seed N] [--bf16] [--tokenizer PATH|--no-tokenizer]
 *                                                             random Qwen2 of any shape, with a tokenizer
 *   tkd model info MODEL_DIR                                  shape and parameter count
 *   tkd train JOB.json [--set train.KEY=VALUE ...]            LoRA / full fine-tuning (MPI ranks, CPU or GPUs)
 *   tkd train --dry-run JOB.json                              memory per GPU from config.json (cmd_train_plan.c)
 *   tkd generate MODEL_DIR [--adapter DIR] --prompt TEXT|--chat JSON|--ids 1,2 [...]
 *                                                             continue prompts with a KV cache
 *   tkd merge-adapter MODEL_DIR ADAPTER_DIR OUT_DIR [--bf16]  W += alpha/r B A, written as a model
 */
#include "cli.h"
#include "tkd/model.h"
#include "tkd/phases.h"
#include "tkd/store.h"
#include "tkd/tokenizer.h"

#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Set by SIGTERM/SIGUSR1 (Slurm preemption or time limit); the training loop
 * polls it between steps, checkpoints and returns TKD_ESTOP (exit 3). */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static const char *opt_val(const tkd_cli_opts *o, const char *flag) {
    for (int i = 0; i + 1 < o->n_pos; i++)
        if (!strcmp(o->pos[i], flag))
            return o->pos[i + 1];
    return NULL;
}

static int has_flag(const tkd_cli_opts *o, const char *flag) {
    for (int i = 0; i < o->n_pos; i++)
        if (!strcmp(o->pos[i], flag))
            return 1;
    return 0;
}

/* positional arguments that are neither flags nor flag values */
static int plain_args(const tkd_cli_opts *o, const char *const *valued, const char **out, int max) {
    int n = 0;
    for (int i = 0; i < o->n_pos; i++) {
        int is_valued = 0;
        for (const char *const *v = valued; *v; v++)
            is_valued |= !strcmp(o->pos[i], *v);
        if (is_valued) {
            i++;
            continue;
        }
        if (o->pos[i][0] == '-' && o->pos[i][1] == '-')
            continue;
        if (n < max)
            out[n] = o->pos[i];
        n++;
    }
    return n;
}

#define INIT_MAX_MERGES 2000 /* self-made tokenizers: merges learned for a model's vocabulary, at most */
#define INIT_ADDED 22        /* Qwen2.5's added tokens after the BPE vocabulary */

/* A tokenizer for a new model: copied from --tokenizer, or a byte-level BPE
 * sized to the model's vocabulary (256 bytes + merges + Qwen's added tokens). */
static int init_tokenizer(const tkd_cli_opts *o, const tkd_model_config *c, const char *dir, tkd_err *e) {
    tkd_tokenizer_spec spec = {0};
    spec.source = opt_val(o, "--tokenizer");
    if (!spec.source) {
        int room = c->vocab - 256 - INIT_ADDED;
        if (room < 0) {
            fprintf(stderr, "tkd model init: vocab_size %d < %d: no tokenizer written (models with --ids only)\n",
                    c->vocab, 256 + INIT_ADDED);
            return 0;
        }
        spec.n_merges = room < INIT_MAX_MERGES ? room : INIT_MAX_MERGES;
    }
    int32_t v = 0;
    int rc = tkd_tokenizer_write(dir, &spec, &v, e);
    if (!rc && v > c->vocab)
        rc = tkd_err_set(e, TKD_EINVAL, "%s: the tokenizer has %d tokens but vocab_size is %d", dir, (int)v, c->vocab);
    return rc;
}

static int model_init(const tkd_cli_opts *o) {
    static const char *const valued[] = {"--seed", "--tokenizer", NULL};
    const char *a[3];
    if (plain_args(o, valued, a, 3) != 3) {
        tkd_cli_usage("model", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_model_config c;
    tkd_model m;
    const char *seed = opt_val(o, "--seed");
    if (tkd_model_config_load(a[1], &c, &e) ||
        tkd_model_init_random(&m, &c, seed ? strtoull(seed, NULL, 10) : 1234, &e))
        return tkd_cli_fail(&e);
    int rc = tkd_model_save(&m, a[2], has_flag(o, "--bf16"), &e);
    if (!rc && !has_flag(o, "--no-tokenizer"))
        rc = init_tokenizer(o, &c, a[2], &e);
    if (!rc)
        printf("%s: Qwen2 with %zu parameters (hidden %d, %d layers, %d/%d heads, intermediate %d, vocab %d, %s)\n",
               a[2], m.n_params, c.hidden, c.n_layers, c.n_heads, c.n_kv_heads, c.intermediate, c.vocab,
               c.tie ? "tied head" : "untied head");
    tkd_model_free(&m);
    return rc ? tkd_cli_fail(&e) : 0;
}

static int model_info(const tkd_cli_opts *o) {
    if (o->n_pos != 2) {
        tkd_cli_usage("model", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_model m;
    if (tkd_model_load(&m, o->pos[1], &e))
        return tkd_cli_fail(&e);
    const tkd_model_config *c = &m.cfg;
    printf("hidden %d layers %d heads %d kv_heads %d head_dim %d intermediate %d vocab %d max_pos %d rope_theta %g "
           "rms_eps %g tied %d params %zu\n",
           c->hidden, c->n_layers, c->n_heads, c->n_kv_heads, c->head_dim, c->intermediate, c->vocab, c->max_pos,
           c->rope_theta, c->rms_eps, c->tie, m.n_params);
    tkd_model_free(&m);
    return 0;
}

int tkd_cmd_model(int argc, char **argv) {
    static const char *const keep[] = {"--seed", "--tokenizer", NULL};
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, keep, &o);
    if (rc)
        return rc;
    const char *sub = o.n_pos ? o.pos[0] : "";
    if (!strcmp(sub, "init"))
        return model_init(&o);
    if (!strcmp(sub, "info"))
        return model_info(&o);
    tkd_cli_usage("model", NULL, stderr);
    return TKD_EXIT_USAGE;
}

int tkd_cmd_merge_adapter(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    static const char *const valued[] = {NULL};
    const char *a[3];
    if (plain_args(&o, valued, a, 3) != 3) {
        tkd_cli_usage("merge-adapter", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_model m;
    tkd_lora l;
    if (tkd_model_load(&m, a[0], &e))
        return tkd_cli_fail(&e);
    if (tkd_lora_load(&l, a[1], &m.cfg, &e)) {
        tkd_model_free(&m);
        return tkd_cli_fail(&e);
    }
    rc = tkd_lora_merge(&m, &l, &e);
    if (!rc)
        rc = tkd_model_save(&m, a[2], has_flag(&o, "--bf16"), &e);
    if (!rc)
        printf("%s: merged %s (r %d, alpha %g) into %s\n", a[2], a[1], l.cfg.r, l.cfg.alpha, a[0]);
    tkd_lora_free(&l);
    tkd_model_free(&m);
    return rc ? tkd_cli_fail(&e) : 0;
}

/* chat records -> tokens and the assistant mask, with the model's tokenizer */
static int encode_chat(void *ctx, const json_t *rec, tkd_sft_example *out, tkd_err *e) {
    int32_t *ids;
    uint8_t *mask;
    size_t n;
    int rc = tkd_chat_encode_json(ctx, json_object_get(rec, "messages"), json_object_get(rec, "tools"), 0, &ids, &mask,
                                  &n, e);
    if (rc)
        return rc;
    _Static_assert(sizeof(int32_t) == sizeof(int), "token ids are int");
    out->ids = (int *)ids;
    out->mask = mask;
    out->n = (int)n;
    return 0;
}

int tkd_cmd_train(int argc, char **argv) {
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, NULL, &o);
    if (rc)
        return rc;
    int dry = 0, n = 0; /* --dry-run: the GPU memory plan from config.json, no MPI, no weights */
    for (int i = 0; i < o.n_pos; i++)
        if (!strcmp(o.pos[i], "--dry-run"))
            dry = 1;
        else
            o.pos[n++] = o.pos[i];
    o.n_pos = n;
    tkd_job job;
    if ((rc = tkd_cli_load_job(&o, &job)))
        return rc;
    if (dry) {
        rc = tkd_cli_train_dry_run(&job);
        tkd_job_free(&job);
        return rc;
    }
    tkd_err e = {0};
    tkd_comm comm;
    if (tkd_comm_mpi(&comm, &e)) {
        tkd_job_free(&job);
        return tkd_cli_fail(&e);
    }
    if (comm.world > 1)
        tkd_log_set_rank(comm.rank);
    tkd_train_opts t;
    tkd_train_opts_default(&t);
    char out_dir[4096];
    const char *od = tkd_job_str(&job, "train.out_dir");
    if (*od)
        snprintf(out_dir, sizeof out_dir, "%s", od);
    else
        snprintf(out_dir, sizeof out_dir, "%s/train", tkd_job_str(&job, "output_dir"));
    t.model_dir = tkd_job_str(&job, "train.model_dir");
    t.out_dir = out_dir;
    t.lora_r = (int)tkd_job_int(&job, "train.lora.r");
    t.lora_alpha = tkd_job_num(&job, "train.lora.alpha");
    t.lora_dropout = tkd_job_num(&job, "train.lora.dropout");
    t.full = tkd_job_bool(&job, "train.full_finetune");
    t.recompute = tkd_job_bool(&job, "train.recompute");
    t.lr = tkd_job_num(&job, "train.lr");
    t.warmup = (long)tkd_job_int(&job, "train.warmup_steps");
    t.schedule = tkd_job_str(&job, "train.schedule");
    t.weight_decay = tkd_job_num(&job, "train.weight_decay");
    t.beta1 = tkd_job_num(&job, "train.beta1");
    t.beta2 = tkd_job_num(&job, "train.beta2");
    t.clip = tkd_job_num(&job, "train.clip");
    t.batch = (int)tkd_job_int(&job, "train.batch");
    t.accum = (int)tkd_job_int(&job, "train.grad_accum");
    t.seq_len = (int)tkd_job_int(&job, "train.seq_len");
    t.packing = tkd_job_bool(&job, "train.packing");
    t.steps = (long)tkd_job_int(&job, "train.steps");
    t.epochs = tkd_job_num(&job, "train.epochs");
    t.checkpoint_every = (long)tkd_job_int(&job, "train.checkpoint_every");
    t.log_every = (long)tkd_job_int(&job, "train.log_every");
    t.seed = (uint64_t)tkd_job_int(&job, "seed");
    t.device = tkd_job_str(&job, "train.device");
    tkd_sft_example *ex = NULL;
    int n_ex = 0;
    tkd_store_lock *lock = NULL;
    char *data = tkd_phase_train_data(&job, &e); /* train.data, or export's nl set */
    if (!data)
        rc = TKD_ENOMEM;
    else if (!*t.model_dir)
        rc = tkd_err_set(&e, TKD_EINVAL, "%s: train.model_dir is required for tkd train", job.path);
    /* a complete training (its marker current: same keys, same data) is not redone */
    int done_before = !rc && comm.rank == 0 && tkd_phase_is_complete(&job, "train", &e);
    /* one run per folder: rank 0 locks the folder training writes into */
    if (!rc) {
        int held = 0;
        if (comm.rank == 0)
            held = -tkd_store_lock_take(*od ? od : tkd_job_str(&job, "output_dir"), "train",
                                        tkd_job_num(&job, "store.lock_stale_s"), &lock, &e);
        comm.max_int(comm.ctx, &held, NULL);
        comm.max_int(comm.ctx, &done_before, NULL);
        if (held) {
            if (comm.rank == 0)
                fprintf(stderr, "tkd: error: %s\n", e.msg);
            tkd_job_free(&job);
            tkd_comm_finalize();
            return tkd_exit_code(-held);
        }
    }
    if (!rc && done_before) {
        if (comm.rank == 0)
            tkd_log_info("train: already complete (%s/train.complete.json matches its data and keys): nothing to do; "
                         "remove the marker to train again",
                         tkd_job_str(&job, "output_dir"));
    }
    int work = !done_before; /* else nothing to do: exit 0 */
    if (!rc && work)
        rc = tkd_lora_parse_targets(tkd_job_str(&job, "train.lora.targets"), &t.lora_targets, &e);
    tkd_tokenizer *tok = NULL;
    char tp[4200];
    snprintf(tp, sizeof tp, "%s/tokenizer.json", t.model_dir);
    FILE *tf = rc || !work ? NULL : fopen(tp, "r");
    if (tf) {
        fclose(tf);
        rc = tkd_tokenizer_load(tp, &tok, &e);
    }
    if (!rc && work)
        rc = tkd_sft_load(data, tok ? encode_chat : NULL, tok, &ex, &n_ex, &e);
    tkd_tokenizer_free(tok);
    if (!rc && work) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop;
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGUSR1, &sa, NULL);
        rc = tkd_train(&t, ex, n_ex, &comm, &stop_requested, &e);
    }
    if (!rc && work && t.full && comm.rank == 0) /* the trained model folder gets the tokenizer too */
        for (int i = 0; i < 2 && !rc; i++) {
            static const char *const files[] = {"tokenizer.json", "tokenizer_config.json"};
            char src[4200], dst[4200], *data;
            size_t len;
            snprintf(src, sizeof src, "%s/%s", t.model_dir, files[i]);
            snprintf(dst, sizeof dst, "%s/model/%s", t.out_dir, files[i]);
            tkd_err e2 = {0};
            if (!tkd_file_read(src, &data, &len, &e2)) {
                rc = tkd_file_write_atomic(dst, data, len, &e);
                free(data);
            }
        }
    if (!rc && work && comm.rank == 0) { /* every step done: the marker (the adapter, from this data) */
        char ad[4200];
        snprintf(ad, sizeof ad, "%s/%s", t.out_dir, t.full ? "model" : "adapter");
        const char *inputs[1] = {data};
        rc = tkd_phase_mark_complete(&job, "train", ad, inputs, 1, &e);
    }
    free(data);
    int code = rc ? (rc == TKD_EINVAL ? TKD_EXIT_USAGE : tkd_exit_code(rc)) : 0;
    if (rc && (comm.rank == 0 || rc != TKD_ESTOP))
        fprintf(stderr, "tkd: %s: %s\n", rc == TKD_ESTOP ? "stopped" : "error", e.msg);
    tkd_sft_free(ex, n_ex);
    tkd_err le = {0};
    if (tkd_store_lock_release(lock, &le))
        tkd_log_warn("%s", le.msg);
    tkd_job_free(&job);
    tkd_comm_finalize();
    return code;
}

/* "1,2,3" -> ids */
static int parse_ids(const char *s, int **ids, int *n, tkd_err *e) {
    int cap = 16;
    *n = 0;
    *ids = malloc(sizeof(int) * (size_t)cap);
    if (!*ids)
        return tkd_err_set(e, TKD_ENOMEM, "out of memory");
    while (*s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s || v < 0 || v > (1 << 30))
            return tkd_err_set(e, TKD_EINVAL, "--ids: '%s' is not a comma-separated list of token ids", s);
        if (*n == cap) {
            int *p = realloc(*ids, sizeof(int) * (size_t)(cap *= 2));
            if (!p)
                return tkd_err_set(e, TKD_ENOMEM, "out of memory");
            *ids = p;
        }
        (*ids)[(*n)++] = (int)v;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return *n ? 0 : tkd_err_set(e, TKD_EINVAL, "--ids is empty");
}

#define GEN_MAX_PROMPTS 256
#define GEN_MAX_STOPS 16

/* one chat per line of a JSONL file, appended to prompts (owned: *owned) */
static int read_chat_file(const char *path, char **prompts, int *n, tkd_err *e) {
    FILE *f = fopen(path, "r");
    if (!f)
        return tkd_err_set(e, TKD_ENOTFOUND, "%s: cannot open the chat file", path);
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    for (int first = 1; !rc && (len = getline(&line, &cap, f)) >= 0; first = 0) {
        if (first)
            len = (ssize_t)tkd_text_strip_bom(line, (size_t)len);
        if (strspn(line, " \t\r\n") == (size_t)len)
            continue;
        if (*n == GEN_MAX_PROMPTS)
            rc = tkd_err_set(e, TKD_EUSAGE, "%s: at most %d prompts at once", path, GEN_MAX_PROMPTS);
        else if (!(prompts[(*n)++] = strdup(line)))
            rc = tkd_err_set(e, TKD_ENOMEM, "out of memory");
    }
    free(line);
    fclose(f);
    return rc;
}

static void print_text(const char *text, int as_json, int last) {
    if (as_json) {
        json_t *j = json_pack("{s:s}", "text", text);
        char *js = j ? json_dumps(j, JSON_COMPACT) : NULL;
        printf("%s\n", js ? js : "{}");
        free(js);
        json_decref(j);
    } else {
        printf("%s%s\n", text, last ? "" : "\n");
    }
}

int tkd_cmd_generate(int argc, char **argv) {
    static const char *const keep[] = {"--adapter", "--ids",  "--prompt",  "--chat", "--max-new",   "--temperature",
                                       "--top-p",   "--seed", "--stop-id", "--stop", "--chat-file", NULL};
    tkd_cli_opts o;
    int rc = tkd_cli_parse(argc, argv, keep, &o);
    if (rc)
        return rc;
    const char *a[1];
    if (plain_args(&o, keep, a, 1) != 1) {
        tkd_cli_usage("generate", NULL, stderr);
        return TKD_EXIT_USAGE;
    }
    tkd_err e = {0};
    tkd_model m;
    if (tkd_model_load(&m, a[0], &e))
        return tkd_cli_fail(&e);
    const char *ad = opt_val(&o, "--adapter");
    if (ad) {
        tkd_lora l;
        if (tkd_lora_load(&l, ad, &m.cfg, &e) || tkd_lora_merge(&m, &l, &e)) {
            tkd_model_free(&m);
            return tkd_cli_fail(&e);
        }
        tkd_lora_free(&l);
    }
    tkd_gen_opts g = {.max_new = 256, .temperature = 0, .top_p = 1, .seed = 0};
    int stop_ids[GEN_MAX_STOPS + 3], n_stop_ids = 0, n = 0, kind = 0; /* kind: 1 text, 2 chat, 3 ids */
    const char *stops[GEN_MAX_STOPS];
    int n_stops = 0;
    char *texts[GEN_MAX_PROMPTS];
    int *ids[GEN_MAX_PROMPTS], lens[GEN_MAX_PROMPTS];
    for (int i = 0; i + 1 < o.n_pos && !rc; i++) {
        const char *f = o.pos[i], *v = o.pos[i + 1];
        int k = !strcmp(f, "--prompt")                                ? 1
                : (!strcmp(f, "--chat") || !strcmp(f, "--chat-file")) ? 2
                : !strcmp(f, "--ids")                                 ? 3
                                                                      : 0;
        if (k && kind && k != kind) {
            rc = tkd_err_set(&e, TKD_EUSAGE, "prompts of one kind at a time: --prompt, --chat/--chat-file or --ids");
        } else if (k && n == GEN_MAX_PROMPTS) {
            rc = tkd_err_set(&e, TKD_EUSAGE, "at most %d prompts at once", GEN_MAX_PROMPTS);
        } else if (!strcmp(f, "--chat-file")) {
            kind = 2;
            rc = read_chat_file(v, texts, &n, &e);
        } else if (k == 3) {
            kind = 3;
            rc = parse_ids(v, &ids[n], &lens[n], &e);
            texts[n++] = NULL;
        } else if (k) {
            kind = k;
            if (!(texts[n++] = strdup(v)))
                rc = tkd_err_set(&e, TKD_ENOMEM, "out of memory");
        } else if (!strcmp(f, "--max-new")) {
            g.max_new = atoi(v);
        } else if (!strcmp(f, "--temperature")) {
            g.temperature = atof(v);
        } else if (!strcmp(f, "--top-p")) {
            g.top_p = atof(v);
        } else if (!strcmp(f, "--seed")) {
            g.seed = strtoull(v, NULL, 10);
        } else if (!strcmp(f, "--stop-id") && n_stop_ids < GEN_MAX_STOPS) {
            stop_ids[n_stop_ids++] = atoi(v);
        } else if (!strcmp(f, "--stop") && n_stops < GEN_MAX_STOPS) {
            stops[n_stops++] = v;
        }
    }
    if (!rc && !n)
        rc = tkd_err_set(&e, TKD_EUSAGE, "give a prompt: --prompt TEXT, --chat JSON, --chat-file F or --ids 1,2,3");
    g.stop_ids = stop_ids;
    g.n_stop_ids = n_stop_ids;
    int as_json = has_flag(&o, "--json");
    if (!rc && kind == 3) { /* token ids in, token ids out */
        int *out[GEN_MAX_PROMPTS], out_len[GEN_MAX_PROMPTS];
        if (m.cfg.eos_id >= 0)
            stop_ids[g.n_stop_ids++] = m.cfg.eos_id;
        /* the chat end tokens stop ids too, as with --prompt and --chat, when the
         * model folder has a tokenizer (a model made with --no-tokenizer has none) */
        tkd_tokenizer *tok = NULL;
        tkd_err te = {0};
        if (!tkd_tokenizer_load(a[0], &tok, &te)) {
            const char *ends[2] = {"<|im_end|>", "<|endoftext|>"};
            for (int i = 0; i < 2; i++) {
                int32_t id = tkd_tokenizer_token_id(tok, ends[i]);
                if (id >= 0)
                    stop_ids[g.n_stop_ids++] = id;
            }
            tkd_tokenizer_free(tok);
        }
        rc = tkd_generate(&m, (const int *const *)ids, lens, n, &g, NULL, NULL, out, out_len, &e);
        for (int i = 0; i < n && !rc; i++) {
            for (int t = 0; t < out_len[i]; t++)
                printf("%s%d", t ? "," : "", out[i][t]);
            printf("\n");
            free(out[i]);
        }
    } else if (!rc) {
        tkd_tokenizer *tok = NULL;
        char *out[GEN_MAX_PROMPTS];
        if (!(rc = tkd_tokenizer_load(a[0], &tok, &e)))
            rc = tkd_generate_text(&m, tok, (const char *const *)texts, n, kind == 2, &g, stops, n_stops, out, &e);
        for (int i = 0; i < n && !rc; i++) {
            print_text(out[i], as_json, i + 1 == n);
            free(out[i]);
        }
        tkd_tokenizer_free(tok);
    }
    for (int i = 0; i < n; i++) {
        free(texts[i]);
        if (kind == 3)
            free(ids[i]);
    }
    tkd_model_free(&m);
    return rc ? tkd_cli_fail(&e) : 0;
}
