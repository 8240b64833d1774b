/*
 * The training loop's CUDA engine (src/model/train_gpu.c) without a GPU:
 * train.c and train_gpu.c compiled with TKD_HAVE_CUDA against the CUDA
 * model (model.cu, model_pass.cu) running on tests/cudaemu's CPU emulation
 * of the runtime, cuBLASLt and the kernels (bf16 storage, fp32 arithmetic).
 * It checks the engine's wiring, not the kernels:
 *  - train.device cuda trains (the emulated device is picked, its name logged),
 *    and its loss curve follows the CPU engine's (bf16 tolerance);
 *  - a run stopped mid-way (the stop flag, as SIGTERM sets it) and resumed
 *    gives the same losses and the same adapter bytes as an uninterrupted one:
 *    the checkpoint's copy of the device's parameters and AdamW moments, and
 *    the step count, go to the host and back exactly;
 *  - the train_log.jsonl records carry device, tokens_per_s, mfu and gpu_mem_gib.
 * One rank: NCCL is stubbed below (tkd_nccl_* with world 1 is never called).
 */
#define _GNU_SOURCE
#include "model_fixture.h"
#include "tkd/model.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* NCCL is not emulated: one rank never makes a communicator */
typedef struct tkd_nccl tkd_nccl;
int tkd_nccl_init(tkd_nccl **c, int *device, tkd_err *e);
void tkd_nccl_free(tkd_nccl *c);
int tkd_nccl_sum_f32(tkd_nccl *c, float *buf, size_t n, size_t bucket_bytes, void *s, tkd_err *e);
int tkd_nccl_init(tkd_nccl **c, int *device, tkd_err *e) {
    (void)c, (void)device;
    return tkd_err_set(e, TKD_EINTERNAL, "NCCL is not emulated");
}
void tkd_nccl_free(tkd_nccl *c) {
    (void)c;
}
int tkd_nccl_sum_f32(tkd_nccl *c, float *buf, size_t n, size_t bucket_bytes, void *s, tkd_err *e) {
    (void)buf, (void)n, (void)bucket_bytes, (void)s;
    return c ? tkd_err_set(e, TKD_EINTERNAL, "NCCL is not emulated") : 0;
}

static int failures;
#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        if (cond)                                                                                                      \
            printf("ok   " __VA_ARGS__);                                                                               \
        else {                                                                                                         \
            printf("FAIL " __VA_ARGS__);                                                                               \
            failures++;                                                                                                \
        }                                                                                                              \
        printf("\n");                                                                                                  \
    } while (0)

#define STEPS 12
#define NEX 16

static int read_losses(const char *dir, double *loss, int max, int *has_gpu_fields) {
    char p[512], line[1024];
    snprintf(p, sizeof p, "%s/train_log.jsonl", dir);
    FILE *f = fopen(p, "r");
    int n = 0;
    *has_gpu_fields = 1;
    while (f && n < max && fgets(line, sizeof line, f)) {
        const char *s = strstr(line, "\"loss\":");
        if (s)
            loss[n++] = atof(s + 7);
        if (!strstr(line, "\"device\":\"cuda\"") || !strstr(line, "\"mfu\":") || !strstr(line, "\"gpu_mem_gib\":") ||
            !strstr(line, "\"tokens_per_s\":"))
            *has_gpu_fields = 0;
    }
    if (f)
        fclose(f);
    return n;
}

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    *n = b && fread(b, 1, (size_t)len, f) == (size_t)len ? (size_t)len : 0;
    fclose(f);
    return b;
}

/* sets *stop once the log has `after` lines: what a SIGTERM mid-run does */
typedef struct stopper {
    const char *log;
    int after;
    volatile sig_atomic_t *stop;
    volatile int done;
} stopper;

static void *stop_later(void *arg) {
    stopper *s = arg;
    while (!s->done) {
        FILE *f = fopen(s->log, "r");
        int lines = 0;
        for (int c; f && (c = fgetc(f)) != EOF;)
            lines += c == '\n';
        if (f)
            fclose(f);
        if (lines >= s->after) {
            *s->stop = 1;
            return NULL;
        }
        usleep(1000);
    }
    return NULL;
}

static int train(const char *base, const char *out, const char *device, const tkd_sft_example *ex, int full,
                 volatile sig_atomic_t *stop, tkd_err *e) {
    tkd_train_opts o;
    tkd_train_opts_default(&o);
    o.model_dir = base;
    o.out_dir = out;
    o.device = device;
    o.full = full;
    o.lora_r = 4;
    o.lora_alpha = 8;
    o.lora_dropout = 0.1;
    o.lr = 1e-2;
    o.weight_decay = 0.01;
    o.batch = 2;
    o.accum = 2;
    o.seq_len = 16;
    o.steps = STEPS;
    o.checkpoint_every = 3;
    o.log_every = 0;
    o.seed = 5;
    tkd_comm c;
    tkd_comm_single(&c);
    return tkd_train(&o, ex, NEX, &c, stop, e);
}

int main(void) {
    char root[] = "/tmp/tkd_train_emu_XXXXXX", base[600], d[3][600];
    if (!mkdtemp(root))
        return 1;
    snprintf(base, sizeof base, "%s/base", root);
    const char *names[3] = {"cpu", "gpu", "stopped"};
    for (int i = 0; i < 3; i++)
        snprintf(d[i], sizeof d[i], "%s/%s", root, names[i]);
    tkd_err e = {0};
    tkd_model m;
    tkd_model_config cfg = tkd_fixture_tiny();
    cfg.intermediate = 64;
    cfg.vocab = 48;
    cfg.max_pos = 64;
    if (tkd_model_init_random(&m, &cfg, 3, &e) || tkd_model_save(&m, base, 0, &e)) {
        printf("FAIL model: %s\n", e.msg);
        return 1;
    }
    tkd_model_free(&m);
    tkd_sft_example ex[NEX];
    int ids[NEX][12];
    uint8_t mask[NEX][12];
    for (int i = 0; i < NEX; i++) {
        for (int t = 0; t < 12; t++) {
            ids[i][t] = (i * 7 + t * (i % 3 + 1)) % 48;
            mask[i][t] = t >= 4;
        }
        ex[i] = (tkd_sft_example){ids[i], mask[i], 12};
    }
    double lc[STEPS], lg[STEPS], ls[STEPS];
    int fields = 0;
    volatile sig_atomic_t stop = 0;
    int rc = train(base, d[0], "cpu", ex, 0, &stop, &e);
    CHECK(!rc, "train.device cpu: %s", rc ? e.msg : "trained");
    rc = train(base, d[1], "cuda", ex, 0, &stop, &e);
    CHECK(!rc, "train.device cuda on the emulated GPU: %s", rc ? e.msg : "trained");
    int nc = read_losses(d[0], lc, STEPS, &fields), ng = read_losses(d[1], lg, STEPS, &fields);
    CHECK(fields && ng == STEPS, "the GPU log's records carry device, tokens_per_s, mfu and gpu_mem_gib");
    double worst = 0;
    for (int i = 0; i < nc && i < ng; i++) {
        double r = (lg[i] - lc[i]) / lc[i];
        worst = r < 0 ? (-r > worst ? -r : worst) : (r > worst ? r : worst);
    }
    CHECK(nc == STEPS && ng == STEPS && worst < 0.02, "GPU engine follows the CPU engine: %d steps, losses within %.2e",
          ng, worst);
    /* stopped after 5 logged steps, then resumed */
    char log[700];
    snprintf(log, sizeof log, "%s/train_log.jsonl", d[2]);
    stopper st = {log, 5, &stop, 0};
    pthread_t th;
    pthread_create(&th, NULL, stop_later, &st);
    rc = train(base, d[2], "cuda", ex, 0, &stop, &e);
    st.done = 1;
    pthread_join(th, NULL);
    int ns = read_losses(d[2], ls, STEPS, &fields);
    CHECK(rc == TKD_ESTOP && ns >= 5 && ns < STEPS, "stop flag: the GPU run stopped after %d steps (rc %d: %s)", ns, rc,
          e.msg);
    stop = 0;
    rc = train(base, d[2], "cuda", ex, 0, &stop, &e);
    ns = read_losses(d[2], ls, STEPS, &fields);
    int same = ns == STEPS;
    for (int i = 0; i < ns && same; i++)
        same = ls[i] == lg[i];
    CHECK(!rc && same, "stopped and resumed on the GPU: the same %d losses as the uninterrupted run (%s)", ns,
          rc ? e.msg : "bit for bit");
    char a1[700], a2[700];
    snprintf(a1, sizeof a1, "%s/adapter/adapter_model.safetensors", d[1]);
    snprintf(a2, sizeof a2, "%s/adapter/adapter_model.safetensors", d[2]);
    size_t n1 = 0, n2 = 0;
    char *b1 = slurp(a1, &n1), *b2 = slurp(a2, &n2);
    CHECK(b1 && b2 && n1 == n2 && n1 > 0 && !memcmp(b1, b2, n1), "the resumed adapter is byte-identical (%zu bytes)",
          n1);
    free(b1);
    free(b2);
    /* full fine-tuning: every weight trains (the host model is the GPU's copy), the model folder at the end */
    char fc[700], fg[700], mg[800];
    snprintf(fc, sizeof fc, "%s/full_cpu", root);
    snprintf(fg, sizeof fg, "%s/full_gpu", root);
    int rc1 = train(base, fc, "cpu", ex, 1, &stop, &e), rc2 = rc1 ? rc1 : train(base, fg, "cuda", ex, 1, &stop, &e);
    nc = read_losses(fc, lc, STEPS, &fields);
    ng = read_losses(fg, lg, STEPS, &fields);
    worst = 0;
    for (int i = 0; i < nc && i < ng; i++) {
        double r = (lg[i] - lc[i]) / lc[i];
        worst = r < 0 ? (-r > worst ? -r : worst) : (r > worst ? r : worst);
    }
    snprintf(mg, sizeof mg, "%s/model", fg);
    tkd_model fm;
    int loaded = !rc2 && !tkd_model_load(&fm, mg, &e);
    if (loaded)
        tkd_model_free(&fm);
    CHECK(!rc1 && !rc2 && nc == STEPS && ng == STEPS && worst < 0.02 && loaded,
          "full fine-tuning on the GPU engine: %d steps within %.2e of the CPU's, model folder written (%s)", ng, worst,
          rc1 || rc2 ? e.msg : "loads");
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (!failures && system(cmd))
        printf("note: could not remove %s\n", root);
    printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
