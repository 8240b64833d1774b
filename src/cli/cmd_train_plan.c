/*
 * tkd train --dry-run JOB.json: the memory per GPU a training job needs,
 * from the model's config.json alone (no weights, no GPU, any build), so a
 * user picks the partition before queueing. The figures are the CUDA
 * trainer's own plan (tkd_gpu_plan_make): the three allocations it makes
 * before the first step, for the job's batch, seq_len, LoRA rank and
 * targets, full_finetune and recompute.
 */
#include "cli.h"
#include "tkd/model.h"

#include <stdio.h>

#define GIB (1024.0 * 1024.0 * 1024.0)

/* Common per-GPU memory sizes (GiB as nvidia-smi reports them, rounded down),
 * to say at a glance which partitions the job fits. */
static const struct {
    double gib;
    const char *examples;
} gpu_sizes[] = {{24, "L4, A10"},  {40, "A100 40GB"}, {48, "L40S, A6000"}, {79, "A100/H100 80GB"},
                 {93, "H100 NVL"}, {139, "H200"},     {178, "B200"}};

int tkd_cli_train_dry_run(const tkd_job *job) {
    tkd_err e = {0};
    const char *dir = tkd_job_str(job, "train.model_dir");
    if (!*dir) {
        fprintf(stderr, "tkd: error: %s: train.model_dir is required (the model whose config.json sizes the plan)\n",
                job->path);
        return TKD_EXIT_USAGE;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    tkd_model_config c;
    if (tkd_model_config_load(path, &c, &e)) {
        fprintf(stderr, "tkd: error: train.model_dir: %s\n", e.msg);
        return TKD_EXIT_USAGE;
    }
    int full = tkd_job_bool(job, "train.full_finetune"), recompute = tkd_job_bool(job, "train.recompute");
    int B = (int)tkd_job_int(job, "train.batch"), T = (int)tkd_job_int(job, "train.seq_len");
    tkd_lora_config lc = {(int)tkd_job_int(job, "train.lora.r"), tkd_job_num(job, "train.lora.alpha"),
                          tkd_job_num(job, "train.lora.dropout"), 0};
    if (tkd_lora_parse_targets(tkd_job_str(job, "train.lora.targets"), &lc.targets, &e)) {
        fprintf(stderr, "tkd: error: %s: train.lora.targets: %s\n", job->path, e.msg);
        return TKD_EXIT_USAGE;
    }
    if (T > c.max_pos) {
        fprintf(stderr, "tkd: error: %s: train.seq_len %d exceeds the model's max_position_embeddings %d (%s)\n",
                job->path, T, c.max_pos, path);
        return TKD_EXIT_USAGE;
    }
    tkd_gpu_plan p;
    if (tkd_gpu_plan_make(&c, full ? NULL : &lc, full, B, T, recompute, &p, &e)) {
        fprintf(stderr, "tkd: error: %s: %s\n", path, e.msg);
        return tkd_exit_code(e.code);
    }
    printf("model %s: hidden %d, %d layers, %d/%d heads, intermediate %d, vocab %d, %s head\n", dir, c.hidden,
           c.n_layers, c.n_heads, c.n_kv_heads, c.intermediate, c.vocab, c.tie ? "tied" : "untied");
    if (full)
        printf("training: full fine-tuning");
    else {
        printf("training: LoRA r %d on ", lc.r);
        for (int t = 0, first = 1; t < TKD_LORA_NT; t++)
            if (lc.targets & (1u << t)) {
                printf("%s%s", first ? "" : ",", tkd_lora_target_names[t]);
                first = 0;
            }
    }
    printf("; %d row%s x %d tokens per micro-batch per GPU; recompute %s\n", B, B > 1 ? "s" : "", T,
           recompute ? "on" : "off");
    printf("parameters: frozen %zu, trainable %zu\n", p.n_frozen, p.n_trainable);
    printf(
        "FLOPs per token: %.4g (NeMo AutoModel's count: (6 x parameters + attention) x (2 + trainable/frozen) / 3)\n",
        p.flops_per_token);
    printf("memory per GPU: weights %.3f GiB, activations %.3f GiB, state %.3f GiB, total %.3f GiB\n",
           (double)p.weights / GIB, (double)p.activations / GIB, (double)p.state / GIB, (double)p.total / GIB);
    tkd_gpu_plan_print(&p, stdout);
    printf("fits:");
    for (size_t i = 0; i < sizeof gpu_sizes / sizeof gpu_sizes[0]; i++)
        printf("%s %.0f GiB (%s) %s", i ? "," : "", gpu_sizes[i].gib, gpu_sizes[i].examples,
               (double)p.total / GIB <= gpu_sizes[i].gib ? "yes" : "no");
    printf("\n");
    if (!recompute)
        printf("(train.recompute true keeps only each layer's input for the backward: fewer activations, one more "
               "forward pass per step)\n");
    return 0;
}
