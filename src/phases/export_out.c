/*
 * What the export phase writes for a variant: OUT/sft/<variant>/train.jsonl
 * and valid.jsonl (temporary names, fsync, rename: a reader never sees half a
 * file), manifest.json (counts at every stage, inputs with their sha256, the
 * settings, the decontaminated problems and what they matched, the job) and a
 * README.md card. Nothing in them depends on the clock, so a re-run of the
 * same job on the same inputs gives the same bytes.
 */
#include "export_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const exp_variant_name[EXP_N_VARIANTS] = {"nl", "tir", "gold"};

static const char *const variant_about[EXP_N_VARIANTS] = {
    "Back-translated natural-language solutions (the paper's training data): the student's prompt, then one "
    "assistant turn that solves the problem by hand and ends with the answer in \\boxed{}.",
    "Tool-integrated traces (agent distillation): the teacher's replies with native tool_calls (arguments as JSON "
    "objects) and the toolkit's results as tool messages, with the tool specs on each line in \"tools\".",
    "The dataset's own written solutions (the standard SFT baseline): the student's prompt, then the reference "
    "solution."};

static char *join(const char *a, const char *b) {
    size_t n = strlen(a) + strlen(b) + 2;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s/%s", a, b);
    return s;
}

int exp_out_open(exp_ctx *x, exp_run *r, tkd_err *e) {
    static const char *const names[2] = {"train.jsonl", "valid.jsonl"};
    if (!(r->dir = join(x->out_dir, exp_variant_name[r->variant])))
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    int rc = tkd_mkdirs(r->dir, e);
    for (int k = 0; k < 2 && !rc; k++) {
        r->path[k] = join(r->dir, names[k]);
        tkd_buf t;
        tkd_buf_init(&t);
        if (!r->path[k] || tkd_buf_printf(&t, "%s.tmp.%ld", r->path[k], (long)getpid()))
            return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
        r->tmp[k] = tkd_buf_steal(&t);
        if (!(r->f[k] = fopen(r->tmp[k], "wb")))
            return tkd_err_set(e, TKD_EIO, "export: cannot write %s: %s", r->tmp[k], strerror(errno));
        tkd_sha256_init(&r->sha[k]);
    }
    return rc;
}

int exp_out_write(exp_ctx *x, exp_run *r, uint64_t pid, const char *line, size_t n, tkd_err *e) {
    uint64_t h = exp_mix64(x->seed * 0x9e3779b97f4a7c15ULL ^ exp_mix64(pid ^ 0x73706c6974ULL));
    int k = (double)(h >> 11) * 0x1.0p-53 < x->valid_fraction;
    if (fwrite(line, 1, n, r->f[k]) != n)
        return tkd_err_set(e, TKD_EIO, "export: writing %s: %s", r->tmp[k], strerror(errno));
    tkd_sha256_update(&r->sha[k], line, n);
    r->lines[k]++;
    r->bytes[k] += n;
    return 0;
}

int exp_out_close(exp_ctx *x, exp_run *r, tkd_err *e) {
    (void)x;
    for (int k = 0; k < 2; k++) {
        uint8_t d[32];
        tkd_sha256_final(&r->sha[k], d);
        for (int i = 0; i < 32; i++)
            snprintf(r->sha_hex[k] + 2 * i, 3, "%02x", d[i]);
        int bad = fflush(r->f[k]) || fsync(fileno(r->f[k]));
        bad |= fclose(r->f[k]);
        r->f[k] = NULL;
        if (bad || rename(r->tmp[k], r->path[k]))
            return tkd_err_set(e, TKD_EIO, "export: cannot write %s: %s", r->path[k], strerror(errno));
    }
    return 0;
}

void exp_out_abort(exp_run *r) {
    for (int k = 0; k < 2; k++) {
        if (r->f[k])
            fclose(r->f[k]);
        r->f[k] = NULL;
        if (r->tmp[k])
            unlink(r->tmp[k]);
    }
}

void exp_out_free_run(exp_run *r) {
    for (int k = 0; k < 2; k++) {
        free(r->tmp[k]);
        free(r->path[k]);
    }
    free(r->dir);
}

int exp_out_add_bench(exp_ctx *x, const char *name, const char *path, size_t problems, tkd_err *e) {
    exp_bench *b = tkd_realloc(x->bench, (x->n_bench + 1) * sizeof *b, e);
    if (!b)
        return TKD_ENOMEM;
    x->bench = b;
    b[x->n_bench].name = strdup(name);
    b[x->n_bench].path = strdup(path);
    b[x->n_bench].problems = problems;
    if (!b[x->n_bench].name || !b[x->n_bench].path) {
        free(b[x->n_bench].name);
        free(b[x->n_bench].path);
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory");
    }
    x->n_bench++;
    return 0;
}

void exp_out_free_bench(exp_ctx *x) {
    for (size_t i = 0; i < x->n_bench; i++) {
        free(x->bench[i].name);
        free(x->bench[i].path);
    }
    free(x->bench);
}

/* ---- manifest.json ---- */
/* Inputs are hashed once per run, however many variants name them. */
static json_t *input(exp_ctx *x, const char *role, const char *path, tkd_err *e) {
    if (!x->sha_cache && !(x->sha_cache = json_object()))
        return NULL;
    const char *sha = json_string_value(json_object_get(x->sha_cache, path));
    char buf[65] = "";
    if (!sha) {
        if (tkd_sha256_file(path, buf, e))
            return NULL;
        json_object_set_new(x->sha_cache, path, json_string(buf));
        sha = buf;
    }
    return json_pack("{s:s, s:s, s:s}", "role", role, "path", path, "sha256", sha);
}

static int add_input(exp_ctx *x, json_t *arr, const char *role, const char *path, tkd_err *e) {
    if (!path || !*path)
        return 0;
    json_t *j = input(x, role, path, e);
    if (!j)
        return e->code ? e->code : TKD_ENOMEM;
    return json_array_append_new(arr, j) ? TKD_ENOMEM : 0;
}

static json_t *settings(exp_ctx *x, int v) {
    const tkd_job *job = x->job;
    json_t *s = json_pack("{s:s?, s:s, s:I, s:I, s:f, s:I, s:b}", "system_prompt", x->prompt.system, "user_template",
                          x->prompt.user_template, "max_tokens", (json_int_t)x->max_tokens, "per_problem",
                          (json_int_t)x->per_problem, "valid_fraction", x->valid_fraction, "seed", (json_int_t)x->seed,
                          "check_answer", x->check_answer);
    if (!s)
        return NULL;
    json_object_set_new(s, "tokenizer", x->tok_path && x->max_tokens > 0 ? json_string(x->tok_path) : json_null());
    json_object_set_new(s, "dedup",
                        json_pack("{s:b, s:b, s:f, s:i, s:i}", "exact", x->dedup_exact, "near", x->dedup_near,
                                  "threshold", x->near_threshold, "shingle_words", x->shingle, "minhash_bins",
                                  EXP_MINHASH_BINS));
    if (v == EXP_NL)
        json_object_set_new(s, "allow_partial", json_boolean(x->allow_partial));
    if (v == EXP_TIR) {
        json_object_set(s, "statuses", tkd_job_get(job, "export.tir_statuses"));
        json_object_set_new(s, "follow_ups", json_string(x->keep_follow_ups ? "keep" : "merge"));
        json_object_set_new(s, "tools", json_string(x->tools_used_only ? "used" : "offered"));
    }
    return s;
}

static json_t *decon_json(exp_ctx *x, int v) {
    json_t *d = json_pack("{s:I, s:f, s:s}", "ngram", (json_int_t)tkd_job_int(x->job, "export.ngram"), "overlap",
                          tkd_job_num(x->job, "export.decontaminate_overlap"), "words",
                          "lower-case letter/digit runs and LaTeX control words; spacing commands dropped");
    json_t *bl = json_array(), *dl = json_array();
    if (!d || !bl || !dl) {
        json_decref(d);
        json_decref(bl);
        json_decref(dl);
        return NULL;
    }
    json_object_set_new(d, "benchmarks", bl);
    json_object_set_new(d, "dropped", dl);
    for (size_t i = 0; i < x->n_bench; i++) {
        json_t *b = input(x, "benchmark", x->bench[i].path, &(tkd_err){0});
        if (!b)
            b = json_pack("{s:s, s:s}", "path", x->bench[i].path, "sha256", "");
        json_object_set_new(b, "name", json_string(x->bench[i].name));
        json_object_set_new(b, "problems", json_integer((json_int_t)x->bench[i].problems));
        json_object_del(b, "role");
        json_array_append_new(bl, b);
    }
    for (size_t p = 0; p < x->problems.n; p++) {
        const exp_pstate *s = &x->pstate[p];
        if (!s->dropped_in[v] || !s->match)
            continue;
        char pid[17];
        snprintf(pid, sizeof pid, "%016llx", (unsigned long long)x->problems.items[p].pid);
        json_array_append_new(
            dl, json_pack("{s:s, s:s, s:I, s:s, s:s, s:f, s:I, s:I, s:s}", "id", x->problems.items[p].id, "pid", pid,
                          "examples", (json_int_t)s->dropped_in[v], "benchmark", s->match->bench, "benchmark_id",
                          s->match->doc_id, "overlap", s->match->overlap, "matched", (json_int_t)s->match->matched,
                          "grams", (json_int_t)s->match->total, "ngram", s->match->gram));
    }
    return d;
}

static int write_card(exp_ctx *x, exp_run *r, const json_t *counts, tkd_err *e);

int exp_out_manifest(exp_ctx *x, exp_run *r, tkd_err *e) {
    int v = r->variant, rc = 0;
    json_t *m = json_pack("{s:s, s:s, s:s}", "variant", exp_variant_name[v], "tkd_version", TKD_VERSION, "git_commit",
                          TKD_GIT_COMMIT);
    json_t *files = json_object(), *counts = json_object(), *drop = json_object(), *bys = json_object();
    json_t *stages = json_array(), *inputs = json_array();
    if (!m || !files || !counts || !drop || !bys || !stages || !inputs)
        rc = TKD_ENOMEM;
    static const char *const fn[2] = {"train.jsonl", "valid.jsonl"};
    for (int k = 0; k < 2 && !rc; k++)
        json_object_set_new(files, fn[k],
                            json_pack("{s:I, s:I, s:s}", "lines", (json_int_t)r->lines[k], "bytes",
                                      (json_int_t)r->bytes[k], "sha256", r->sha_hex[k]));
    size_t left = r->records_in, total_dropped = 0;
    for (int s = 0; s < TKD_ST_COUNT && !rc; s++)
        if (r->by_status[s])
            json_object_set_new(bys, tkd_status_name((tkd_status)s), json_integer((json_int_t)r->by_status[s]));
    for (int k = 0; k < EXP_N_STAGES && !rc; k++) {
        left -= r->dropped[k];
        total_dropped += r->dropped[k];
        json_object_set_new(drop, exp_stage_name[k], json_integer((json_int_t)r->dropped[k]));
        json_array_append_new(stages, json_pack("{s:s, s:I, s:I}", "stage", exp_stage_name[k], "dropped",
                                                (json_int_t)r->dropped[k], "left", (json_int_t)left));
    }
    if (!rc) {
        json_object_set_new(counts, "records_in", json_integer((json_int_t)r->records_in));
        if (v != EXP_GOLD)
            json_object_set_new(counts, "by_status", json_incref(bys));
        json_object_set_new(counts, "dropped", drop);
        json_object_set_new(counts, "dropped_total", json_integer((json_int_t)total_dropped));
        json_object_set_new(counts, "kept", json_integer((json_int_t)(r->lines[0] + r->lines[1])));
        json_object_set_new(counts, "train", json_integer((json_int_t)r->lines[0]));
        json_object_set_new(counts, "valid", json_integer((json_int_t)r->lines[1]));
        drop = NULL;
    }
    json_decref(bys);
    if (!rc)
        rc = add_input(x, inputs, "problems", x->problems_path, e);
    if (!rc && v == EXP_NL)
        rc = add_input(x, inputs, "backtranslate", x->bt_path, e);
    if (!rc && v == EXP_TIR)
        rc = add_input(x, inputs, "solve", x->solve_path, e);
    if (!rc && x->tok)
        rc = add_input(x, inputs, "tokenizer", tkd_tokenizer_path(x->tok), e);
    if (!rc)
        rc = add_input(x, inputs, "student.system_prompt", tkd_job_str(x->job, "student.system_prompt"), e);
    if (!rc)
        rc = add_input(x, inputs, "student.user_template", tkd_job_str(x->job, "student.user_template"), e);
    if (!rc) {
        json_object_set_new(m, "files", files);
        json_object_set_new(m, "counts", counts);
        json_object_set_new(m, "stages", stages);
        json_object_set_new(m, "inputs", inputs);
        json_object_set_new(m, "settings", settings(x, v));
        json_object_set_new(m, "decontamination", decon_json(x, v));
        json_object_set_new(m, "job_sha256", json_string(x->job->sha256));
        json_object_set(m, "job", x->job->root);
        files = counts = stages = inputs = NULL;
    }
    char *text = rc ? NULL : json_dumps(m, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
    if (!rc && !text)
        rc = tkd_err_set(e, TKD_ENOMEM, "export: out of memory writing the manifest");
    char *path = text ? join(r->dir, "manifest.json") : NULL;
    if (!rc) {
        size_t n = strlen(text);
        text[n] = '\n'; /* json_dumps leaves room for its NUL */
        rc = path ? tkd_file_write_atomic(path, text, n + 1, e) : TKD_ENOMEM;
    }
    if (!rc)
        rc = write_card(x, r, json_object_get(m, "counts"), e);
    free(text);
    free(path);
    json_decref(m);
    json_decref(files);
    json_decref(counts);
    json_decref(drop);
    json_decref(stages);
    json_decref(inputs);
    if (rc == TKD_ENOMEM && !e->msg[0])
        tkd_err_set(e, TKD_ENOMEM, "export: out of memory writing the manifest");
    return rc;
}

/* ---- README.md: the dataset card ---- */
static int write_card(exp_ctx *x, exp_run *r, const json_t *counts, tkd_err *e) {
    int v = r->variant;
    const char *name = exp_variant_name[v];
    tkd_buf b;
    tkd_buf_init(&b);
    int bad = tkd_buf_printf(&b, "# tkd SFT set `%s`\n\n%s\n\n", name, variant_about[v]);
    bad |= tkd_buf_printf(&b,
                          "Made by `tkd export` (tkd %s, %s) from job `%s` (sha256 %.12s...). Every number below is "
                          "in `manifest.json`, with the inputs' sha256.\n\n",
                          TKD_VERSION, TKD_GIT_COMMIT, x->job->path ? x->job->path : "?", x->job->sha256);
    bad |= tkd_buf_printf(&b, "| file | examples | bytes | sha256 |\n|---|---:|---:|---|\n");
    static const char *const fn[2] = {"train.jsonl", "valid.jsonl"};
    for (int k = 0; k < 2; k++)
        bad |= tkd_buf_printf(&b, "| %s | %zu | %llu | `%.16s...` |\n", fn[k], r->lines[k],
                              (unsigned long long)r->bytes[k], r->sha_hex[k]);
    bad |= tkd_buf_printf(&b,
                          "\n## How the examples were chosen\n\n%zu %s in; each stage drops some:\n\n"
                          "| stage | dropped | left |\n|---|---:|---:|\n",
                          r->records_in, v == EXP_GOLD ? "problems" : "records");
    size_t left = r->records_in;
    for (int k = 0; k < EXP_N_STAGES; k++) {
        left -= r->dropped[k];
        bad |= tkd_buf_printf(&b, "| %s | %zu | %zu |\n", exp_stage_name[k], r->dropped[k], left);
    }
    (void)counts;
    bad |= tkd_buf_printf(&b,
                          "\nDecontamination: word %lld-grams of the normalized problem text against %zu benchmark "
                          "problems (",
                          (long long)tkd_job_int(x->job, "export.ngram"), exp_decon_docs(x->decon));
    for (size_t i = 0; i < x->n_bench; i++)
        bad |= tkd_buf_printf(&b, "%s%s: %zu", i ? ", " : "", x->bench[i].name, x->bench[i].problems);
    bad |= tkd_buf_printf(&b,
                          "%s); a problem holding at least %.2f of a benchmark problem's grams is dropped "
                          "(`manifest.json` lists each with the benchmark problem and an n-gram it matched). The split "
                          "is by problem (seed %llu, valid fraction %.3f): a problem's samples are all in one file.\n",
                          x->n_bench ? "" : "none", tkd_job_num(x->job, "export.decontaminate_overlap"),
                          (unsigned long long)x->seed, x->valid_fraction);
    bad |= tkd_buf_printf(&b, "\n## Prompt\n\nSystem: %s%s%s\n\nUser template: `%s`\n", x->prompt.system ? "`" : "",
                          x->prompt.system ? x->prompt.system : "(none)", x->prompt.system ? "`" : "",
                          x->prompt.user_template);
    bad |= tkd_buf_printf(&b,
                          "\n## Training on it\n\nWith tkd (loss on assistant tokens only%s):\n\n"
                          "```sh\ntkd train JOB.json --set train.data=%s/train.jsonl\n```\n\n"
                          "With TRL (the `messages`%s columns are the conversational format it reads; its "
                          "`assistant_only_loss=True` needs a chat template with `{%% generation %%}` markers, which "
                          "Qwen2.5's own template lacks):\n\n"
                          "```python\nfrom datasets import load_dataset\nfrom trl import SFTConfig, SFTTrainer\n"
                          "ds = load_dataset(\"json\", data_files={\"train\": \"%s/train.jsonl\", "
                          "\"validation\": \"%s/valid.jsonl\"})\n"
                          "trainer = SFTTrainer(model=\"Qwen/Qwen2.5-1.5B-Instruct\", train_dataset=ds[\"train\"],\n"
                          "                     eval_dataset=ds[\"validation\"], "
                          "args=SFTConfig(output_dir=\"sft-out\"))\ntrainer.train()\n```\n",
                          v == EXP_TIR ? "; tool calls and results in Qwen2.5's tool format" : "", r->dir,
                          v == EXP_TIR ? " and `tools`" : "", r->dir, r->dir);
    if (bad) {
        tkd_buf_free(&b);
        return tkd_err_set(e, TKD_ENOMEM, "export: out of memory writing the card");
    }
    char *path = join(r->dir, "README.md");
    int rc = path ? tkd_file_write_atomic(path, b.data, b.len, e) : tkd_err_set(e, TKD_ENOMEM, "out of memory");
    free(path);
    tkd_buf_free(&b);
    return rc;
}
