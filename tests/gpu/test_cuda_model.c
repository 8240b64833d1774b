/* gpu: the CUDA model (src/model/cuda) against the CPU reference
 * (tkd_qwen2_*) on small random models of the oracle tests' shapes (hidden
 * 64, 2 layers, 4 heads, intermediate 96, vocabulary 300, 2 rows of 12):
 * tied and untied heads, GQA 4/2, 4/1 and MHA, RoPE theta 1e4 and 1e6,
 * packed rows, LoRA with and without dropout, recompute, full fine-tuning.
 *
 * Tolerances (bf16 weights and activations, fp32 accumulation, against fp32):
 *   logits      max |gpu - cpu| <= 3% of max |cpu logit| (+1e-3), and the
 *               logits' cosine similarity >= 0.9995
 *   loss        within 1% of the CPU's at the first forward and at each of
 *               ten AdamW steps (lr 2e-3, warmup 2, cosine, clip 1, weight
 *               decay 0.1; the gradient norm within 1% at the first)
 *   gradients   cosine similarity >= 0.999, for every adapter tensor
 *               (LoRA) or the whole gradient (full fine-tuning)
 * and an adapter trained on the GPU, saved in the PEFT layout and loaded by
 * the CPU engine, generates (greedy) the tokens the GPU's logits predict
 * (positions where the CPU's top two logits are closer than twice the
 * largest GPU-CPU difference on that sequence are counted, not compared:
 * there the argmax is decided by rounding).
 *
 * The weights are tkd_model_init_random's times 1.5 (TKD_TEST_WSCALE), the
 * learning rate 2e-3 (TKD_TEST_LR): larger weights or rates make the fp32
 * and bf16 trajectories part faster than rounding explains (the CPU
 * emulation, tests/cudaemu, measured: at weights x3 the first layer's LoRA
 * gradients fall to cosine 0.997 through saturated softmaxes).
 *
 * Skips (exit 77) without a CUDA build or a device. tests/cudaemu builds
 * this file against a CPU emulation of the CUDA runtime, cuBLASLt and the
 * kernels, so the model's own code is exercised in CPU-only builds too. */
#include "tkd/model.h"

#include <stdio.h>

#ifndef TKD_HAVE_CUDA
int main(void) {
    printf("skipped: no CUDA device (tkd was built without CUDA)\n");
    return 77;
}
#else
#include "tkd_cuda.h"
#include "tkd_test.h"

#include <stdint.h>
#include <unistd.h>

#define B_ 2
#define T_ 12
#define STEPS 10
#define LR 2e-3

typedef struct gcase {
    const char *name;
    int kv, tie, full, recompute, packed;
    double theta;
    int r; /* 0: no adapter */
    double alpha, drop;
    unsigned targets;
} gcase;

static const gcase cases[] = {
    {"tied, GQA 4/2, theta 1e6, LoRA r4 on all 7 targets", 2, 1, 0, 0, 0, 1e6, 4, 8, 0, 0x7f},
    {"untied, GQA 4/2, theta 1e4, LoRA r2 on q,v, recompute", 2, 0, 0, 1, 0, 1e4, 2, 16, 0,
     (1u << TKD_LORA_Q) | (1u << TKD_LORA_V)},
    {"tied, GQA 4/2, theta 1e4, LoRA r8 on all, dropout 0.1, packed", 2, 1, 0, 0, 1, 1e4, 8, 16, 0.1, 0x7f},
    {"full fine-tuning, tied, MHA 4/4, theta 1e4, packed", 4, 1, 1, 0, 1, 1e4, 0, 0, 0, 0},
    {"full fine-tuning, untied, GQA 4/1, theta 1e6, recompute", 1, 0, 1, 1, 0, 1e6, 0, 0, 0, 0},
};

static int dev = 0;

static tkd_model_config shape(const gcase *g) {
    tkd_model_config c = {.hidden = 64,
                          .n_layers = 2,
                          .n_heads = 4,
                          .n_kv_heads = g->kv,
                          .head_dim = 16,
                          .intermediate = 96,
                          .vocab = 300,
                          .max_pos = 64,
                          .rope_theta = g->theta,
                          .rms_eps = 1e-6,
                          .tie = g->tie,
                          .bos_id = -1,
                          .eos_id = -1};
    return c;
}

static double cosine(const float *a, const float *b, size_t n) {
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : (aa == bb ? 1.0 : 0.0);
}

static double max_abs(const float *a, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

static double max_diff(const float *a, const float *b, size_t n) {
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fabs((double)a[i] - b[i]) > m ? fabs((double)a[i] - b[i]) : m;
    return m;
}

/* the batch: random tokens and targets, the first 3 tokens of each row unmasked (a prompt), packing as the oracle */
static void batch(tkd_rng *r, int V, int packed, int *tokens, int *targets, uint8_t *mask, int *docstart) {
    for (int n = 0; n < B_ * T_; n++) {
        tokens[n] = (int)tkd_rng_below(r, (uint64_t)V);
        targets[n] = (int)tkd_rng_below(r, (uint64_t)V);
        mask[n] = n % T_ >= 3;
        docstart[n] = 0;
    }
    if (packed)
        for (int t = 0; t < T_; t++) {
            docstart[t] = t >= 5 ? 5 : 0;
            docstart[T_ + t] = t >= 7 ? 7 : t >= 3 ? 3 : 0;
        }
}

/* a trained adapter (from the GPU) saved as PEFT, loaded and merged by the CPU engine, generates what the GPU predicts
 */
static void check_generation(const tkd_model *m, const tkd_lora *gpu_trained, tkd_cuda_qwen2 *g) {
    tkd_err e = {0};
    char dir[] = "/tmp/tkd_gpu_adapterXXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    CHECK_INT(tkd_lora_save(gpu_trained, dir, "random-qwen2", &e), 0);
    tkd_lora loaded;
    CHECK_INT(tkd_lora_load(&loaded, dir, &m->cfg, &e), 0);
    tkd_model merged;
    CHECK_INT(tkd_model_alloc(&merged, &m->cfg, &e), 0);
    memcpy(merged.mem, m->mem, m->n_params * sizeof(float));
    CHECK_INT(tkd_lora_merge(&merged, &loaded, &e), 0);
    int prompt[4] = {11, 42, 7, 199}, *pp = prompt, plen = 4, *out[1], olen[1];
    tkd_gen_opts o = {.max_new = 8, .temperature = 0, .top_p = 1};
    CHECK_INT(tkd_generate(&merged, (const int *const *)&pp, &plen, 1, &o, NULL, NULL, out, olen, &e), 0);
    CHECK_INT(olen[0], 8);
    int seq[12], n = 0;
    for (int i = 0; i < plen; i++)
        seq[n++] = prompt[i];
    for (int i = 0; i < olen[0]; i++)
        seq[n++] = out[0][i];
    /* the CPU's logits of the same sequence, for the margins */
    tkd_qwen2_opts qo = {.B = 1, .T = n};
    tkd_qwen2 *cq;
    CHECK_INT(tkd_qwen2_new(&cq, &merged, NULL, &qo, &e), 0);
    CHECK_INT(tkd_qwen2_forward(cq, seq, NULL, 1, n, 0, &e), 0);
    int V = m->cfg.vocab;
    float *gl = malloc((size_t)n * V * sizeof(float));
    CHECK_INT(tkd_cuda_qwen2_forward(g, seq, NULL, 1, n, 0, &e), 0);
    CHECK_INT(tkd_cuda_qwen2_logits(g, 0, n, gl, &e), 0);
    double tol = max_diff(tkd_qwen2_logits(cq), gl, (size_t)n * V);
    int compared = 0, agree = 0, ties = 0;
    for (int i = 0; i < olen[0]; i++) {
        const float *cl = tkd_qwen2_logits(cq) + (size_t)(plen - 1 + i) * V, *row = gl + (size_t)(plen - 1 + i) * V;
        int best = 0, second = -1;
        for (int j = 1; j < V; j++)
            if (cl[j] > cl[best])
                best = j;
        for (int j = 0; j < V; j++)
            if (j != best && (second < 0 || cl[j] > cl[second]))
                second = j;
        CHECK_INT(best, out[0][i]); /* the CPU's greedy token is its own argmax */
        if (cl[best] - cl[second] <= 2 * tol) {
            ties++;
            continue;
        }
        int gbest = 0;
        for (int j = 1; j < V; j++)
            if (row[j] > row[gbest])
                gbest = j;
        compared++;
        agree += gbest == out[0][i];
    }
    printf("    generation: %d of %d greedy tokens compared (%d near-ties within %.4f), %d agree\n", compared, olen[0],
           ties, 2 * tol, agree);
    CHECK(compared >= olen[0] / 2);
    CHECK_INT(agree, compared);
    free(gl);
    free(out[0]);
    tkd_qwen2_free(cq);
    tkd_model_free(&merged);
    tkd_lora_free(&loaded);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

static void run_case(const gcase *gc, uint64_t seed) {
    printf("  %s\n", gc->name);
    tkd_err e = {0};
    tkd_model_config c = shape(gc);
    tkd_model m;
    CHECK_INT(tkd_model_init_random(&m, &c, seed, &e), 0);
    const char *ws = getenv("TKD_TEST_WSCALE");
    float wscale = ws ? (float)atof(ws) : 1.5f;
    for (size_t i = 0; i < m.n_params; i++) /* larger weights: logits less flat */
        m.mem[i] *= wscale;
    tkd_lora lora, *lp = NULL;
    if (gc->r) {
        tkd_lora_config lc = {.r = gc->r, .alpha = gc->alpha, .dropout = gc->drop, .targets = gc->targets};
        CHECK_INT(tkd_lora_alloc(&lora, &c, &lc, &e), 0);
        tkd_lora_init(&lora, seed + 1);
        tkd_rng r; /* B non-zero, so that A has a gradient too */
        tkd_rng_seed(&r, seed + 2);
        for (int l = 0; l < c.n_layers; l++)
            for (int t = 0; t < TKD_LORA_NT; t++) {
                float *Bm = tkd_lora_B(&lora, l, t);
                for (size_t i = 0; Bm && i < (size_t)lora.out[t] * lora.cfg.r; i++)
                    Bm[i] = (float)(0.2 * (2 * tkd_rng_uniform(&r) - 1));
            }
        lp = &lora;
    }
    int N = B_ * T_, V = c.vocab, tokens[B_ * T_], targets[B_ * T_], docstart[B_ * T_];
    uint8_t mask[B_ * T_];
    tkd_rng r;
    tkd_rng_seed(&r, seed + 3);
    batch(&r, V, gc->packed, tokens, targets, mask, docstart);
    const int *ds = gc->packed ? docstart : NULL;
    tkd_qwen2_opts o = {.B = B_, .T = T_, .full = gc->full, .recompute = gc->recompute};
    /* the GPU copies the model and adapter before the CPU trains them */
    tkd_cuda_qwen2 *g;
    CHECK_INT(tkd_cuda_qwen2_new(&g, &m, lp, &o, dev, &e), 0);
    if (e.code) {
        printf("    %s\n", e.msg);
        return;
    }
    tkd_qwen2 *q;
    CHECK_INT(tkd_qwen2_new(&q, &m, lp, &o, &e), 0);
    size_t np = 0, npg = 0;
    float *params = tkd_qwen2_params(q, &np);
    tkd_cuda_qwen2_params_dev(g, &npg);
    CHECK_INT(npg, np);
    float *gl = malloc((size_t)N * V * sizeof(float)), *gg = malloc(np * sizeof(float));
    tkd_adamw opt;
    const char *lrs = getenv("TKD_TEST_LR");
    double base_lr = lrs ? atof(lrs) : LR;
    CHECK_INT(tkd_adamw_init(&opt, np, base_lr, 0.1, &e), 0);
    double worst_loss = 0;
    for (int s = 0; s < STEPS; s++) {
        uint64_t dseed = gc->drop > 0 ? seed * 1000 + (uint64_t)s + 1 : 0;
        double lr = tkd_lr_at("cosine", base_lr, s, 2, STEPS);
        /* CPU */
        CHECK_INT(tkd_qwen2_forward(q, tokens, ds, B_, T_, dseed, &e), 0);
        long cnt = 0, gcnt = 0;
        if (s == 0) { /* logits before the loss overwrites them */
            CHECK_INT(tkd_cuda_qwen2_forward(g, tokens, ds, B_, T_, dseed, &e), 0);
            CHECK_INT(tkd_cuda_qwen2_logits(g, 0, N, gl, &e), 0);
            const float *cl = tkd_qwen2_logits(q);
            double mx = max_abs(cl, (size_t)N * V), md = max_diff(cl, gl, (size_t)N * V),
                   cs = cosine(cl, gl, (size_t)N * V);
            printf("    logits: max |cpu| %.3f, max |gpu - cpu| %.4f (%.2f%%), cosine %.6f\n", mx, md, 100 * md / mx,
                   cs);
            CHECK(md <= 0.03 * mx + 1e-3);
            CHECK(cs >= 0.9995);
        } else {
            CHECK_INT(tkd_cuda_qwen2_forward(g, tokens, ds, B_, T_, dseed, &e), 0);
        }
        double loss = tkd_qwen2_loss(q, targets, mask, &cnt);
        tkd_qwen2_zero_grad(q);
        CHECK_INT(tkd_qwen2_backward(q, targets, mask, 1.0f / (float)cnt, &e), 0);
        /* GPU */
        double gloss = 0;
        tkd_cuda_qwen2_zero_grad(g);
        CHECK_INT(tkd_cuda_qwen2_loss_backward(g, targets, mask, 1.0f / (float)cnt, &gloss, &gcnt, &e), 0);
        CHECK_INT(gcnt, cnt);
        double rel = fabs(gloss - loss) / fabs(loss);
        worst_loss = rel > worst_loss ? rel : worst_loss;
        if (rel > 0.01)
            printf("    step %d: loss cpu %.5f gpu %.5f (%.2f%%)\n", s, loss / cnt, gloss / cnt, 100 * rel);
        CHECK(rel <= 0.01);
        float *cg = tkd_qwen2_grads(q, &np);
        if (s == 0) {
            CHECK_INT(tkd_cuda_qwen2_get_grads(g, gg, &e), 0);
            if (lp) {
                double worst = 1;
                for (int l = 0; l < c.n_layers; l++)
                    for (int t = 0; t < TKD_LORA_NT; t++)
                        for (int isb = 0; isb < 2 && tkd_lora_A(lp, l, t); isb++) {
                            float *pp = isb ? tkd_lora_B(lp, l, t) : tkd_lora_A(lp, l, t);
                            size_t off = (size_t)(pp - lp->mem),
                                   n = isb ? (size_t)lp->out[t] * lp->cfg.r : (size_t)lp->cfg.r * lp->in[t];
                            double cs = cosine(cg + off, gg + off, n);
                            worst = cs < worst ? cs : worst;
                            if (cs < 0.999)
                                printf("    layer %d %s %s: gradient cosine %.6f\n", l, tkd_lora_target_names[t],
                                       isb ? "B" : "A", cs);
                            CHECK(cs >= 0.999);
                        }
                printf("    adapter gradients: worst cosine %.6f\n", worst);
            }
            double all = cosine(cg, gg, np);
            printf("    gradient (%zu values): cosine %.6f\n", np, all);
            CHECK(all >= 0.999);
        }
        double norm = tkd_clip_grad_norm(cg, np, 1.0), gnorm = 0;
        tkd_adamw_step(&opt, params, cg, lr);
        CHECK_INT(tkd_cuda_qwen2_step(g, lr, 0.9, 0.999, 1e-8, 0.1, s + 1, 1.0, &gnorm, &e), 0);
        if (s == 0) { /* later steps follow trajectories apart by rounding: the losses say how far */
            printf("    gradient norm: cpu %.6g gpu %.6g\n", norm, gnorm);
            CHECK(fabs(gnorm - norm) <= 0.01 * norm + 1e-6);
        }
    }
    printf("    loss over %d steps: worst relative difference %.3f%%\n", STEPS, 100 * worst_loss);
    /* the trained parameters agree too */
    CHECK_INT(tkd_cuda_qwen2_get_params(g, gg, &e), 0);
    double pc = cosine(params, gg, np);
    printf("    parameters after %d steps: cosine %.6f\n", STEPS, pc);
    CHECK(pc >= 0.999);
    float *om = malloc(np * sizeof(float)), *ov = malloc(np * sizeof(float));
    CHECK_INT(tkd_cuda_qwen2_get_optim(g, om, ov, &e), 0);
    CHECK(cosine(opt.m, om, np) >= 0.99);
    free(om);
    free(ov);
    if (lp) { /* the GPU's adapter into a host tkd_lora, saved, loaded and generating on the CPU */
        tkd_lora trained;
        CHECK_INT(tkd_lora_alloc(&trained, &c, &lp->cfg, &e), 0);
        CHECK_INT(tkd_cuda_qwen2_get_params(g, trained.mem, &e), 0);
        check_generation(&m, &trained, g);
        tkd_lora_free(&trained);
    }
    tkd_adamw_free(&opt);
    free(gl);
    free(gg);
    tkd_qwen2_free(q);
    tkd_cuda_qwen2_free(g);
    if (lp)
        tkd_lora_free(lp);
    tkd_model_free(&m);
}

TEST(cuda_matches_cpu) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        run_case(&cases[i], 100 + i);
}

TEST(plan_is_what_was_allocated) {
    tkd_err e = {0};
    gcase gc = cases[0];
    tkd_model_config c = shape(&gc);
    tkd_lora_config lc = {.r = 4, .alpha = 8, .dropout = 0, .targets = 0x7f};
    tkd_qwen2_opts o = {.B = 2, .T = 12};
    tkd_cuda_qwen2 *g;
    CHECK_INT(tkd_cuda_qwen2_new_random(&g, &c, &lc, &o, 5, dev, &e), 0);
    tkd_gpu_plan p;
    CHECK_INT(tkd_gpu_plan_make(&c, &lc, 0, 2, 12, 0, &p, &e), 0);
    const tkd_gpu_plan *gp = tkd_cuda_qwen2_plan(g);
    CHECK_INT(gp->weights, p.weights);
    CHECK_INT(gp->activations, p.activations);
    CHECK_INT(gp->state, p.state);
    CHECK(tkd_cuda_qwen2_peak_bytes(g) >= p.weights + p.activations + p.state);
    /* too large a batch is refused by name, not by a crash */
    int tok[3] = {1, 2, 3};
    CHECK_INT(tkd_cuda_qwen2_forward(g, tok, NULL, 3, 1, 0, &e), TKD_EINVAL);
    tkd_cuda_qwen2_free(g);
}

int main(void) {
    char why[256] = "";
    if (tkd_cuda_device_count(why, sizeof why) < 1) {
        printf("skipped: no CUDA device (%s)\n", why);
        return 77;
    }
    char name[128];
    size_t mem = 0;
    double tf = 0;
    tkd_err e = {0};
    if (tkd_cuda_device_info(dev, name, sizeof name, &mem, &tf, &e) == 0)
        printf("device %d: %s, %.1f GiB, %.0f bf16 TFLOP/s\n", dev, name, mem / 1073741824.0, tf);
    RUN(cuda_matches_cpu);
    RUN(plan_is_what_was_allocated);
    return TEST_END();
}
#endif
