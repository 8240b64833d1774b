/*
 * model: the Qwen2 student on the CPU in fp32 (the reference the CUDA twin is
 * tested against). Config and weights in the Hugging Face layout
 * (config.json, model.safetensors), LoRA adapters in the PEFT layout, a
 * forward and backward pass for training, AdamW, and generation with a KV
 * cache. All matmuls go through OpenBLAS cblas_sgemm.
 *
 * Shapes in comments: B batch, T sequence, C hidden, H heads, KV kv-heads,
 * D head dim (C/H), I intermediate, V vocab, L layers, r LoRA rank.
 */
#ifndef TKD_MODEL_H
#define TKD_MODEL_H

#include "tkd/core.h"

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

/* ---- config.json ---- */
typedef struct tkd_model_config {
    int hidden;       /* C  hidden_size */
    int n_layers;     /* L  num_hidden_layers */
    int n_heads;      /* H  num_attention_heads */
    int n_kv_heads;   /* KV num_key_value_heads (GQA when < H) */
    int head_dim;     /* D  = hidden / heads */
    int intermediate; /* I  intermediate_size */
    int vocab;        /* V  vocab_size */
    int max_pos;      /* max_position_embeddings */
    double rope_theta;
    double rms_eps;
    int tie;            /* tie_word_embeddings */
    int bos_id, eos_id; /* -1 when the config has none */
} tkd_model_config;

#define TKD_MODEL_MAX_LAYERS 512

/* Parse a Qwen2 config.json (text or file); errors name the file and key. */
int tkd_model_config_parse(const char *name, const char *json, tkd_model_config *c, tkd_err *e);
int tkd_model_config_load(const char *path, tkd_model_config *c, tkd_err *e);
/* The config as Hugging Face config.json text (caller frees). */
char *tkd_model_config_json(const tkd_model_config *c);

/* ---- weights: one allocation, tensors stacked over layers (llm.c style) ---- */
enum {
    TKD_P_EMBED, /* (V,C)      model.embed_tokens.weight */
    TKD_P_LN1,   /* (L,C)      input_layernorm */
    TKD_P_WQ,    /* (L,H*D,C)  q_proj */
    TKD_P_BQ,    /* (L,H*D) */
    TKD_P_WK,    /* (L,KV*D,C) */
    TKD_P_BK,    /* (L,KV*D) */
    TKD_P_WV,    /* (L,KV*D,C) */
    TKD_P_BV,    /* (L,KV*D) */
    TKD_P_WO,    /* (L,C,H*D)  o_proj (no bias) */
    TKD_P_LN2,   /* (L,C)      post_attention_layernorm */
    TKD_P_WG,    /* (L,I,C)    mlp.gate_proj */
    TKD_P_WU,    /* (L,I,C)    mlp.up_proj */
    TKD_P_WD,    /* (L,C,I)    mlp.down_proj */
    TKD_P_NORM,  /* (C)        model.norm */
    TKD_P_HEAD,  /* (V,C)      lm_head (empty when tied) */
    TKD_P_COUNT
};

typedef struct tkd_model {
    tkd_model_config cfg;
    size_t size[TKD_P_COUNT]; /* floats per tensor kind (all layers) */
    size_t n_params;
    float *mem;            /* one allocation for everything */
    float *p[TKD_P_COUNT]; /* into mem */
} tkd_model;

/* Allocate the parameters of cfg (zeroed). */
int tkd_model_alloc(tkd_model *m, const tkd_model_config *cfg, tkd_err *e);
void tkd_model_free(tkd_model *m);
/* The head matrix (V,C): lm_head, or the embeddings when tied. */
const float *tkd_model_head(const tkd_model *m);
/* Random init as HF does (normal std 0.02, norms 1, biases 0). */
int tkd_model_init_random(tkd_model *m, const tkd_model_config *cfg, uint64_t seed, tkd_err *e);
/* Load MODEL_DIR (config.json + model.safetensors or a sharded index). */
int tkd_model_load(tkd_model *m, const char *dir, tkd_err *e);
/* Write config.json and model.safetensors (fp32, or bf16) into dir. */
int tkd_model_save(const tkd_model *m, const char *dir, int bf16, tkd_err *e);
/* HF tensor name of kind k at layer l ("model.layers.3.self_attn.q_proj.weight"). */
void tkd_model_tensor_name(int k, int l, char *out, size_t n);
/* Shape of one layer's slice of kind k (ndim returned). */
int tkd_model_tensor_shape(const tkd_model_config *c, int k, int64_t shape[2]);

/* ---- LoRA ---- */
enum { TKD_LORA_Q, TKD_LORA_K, TKD_LORA_V, TKD_LORA_O, TKD_LORA_GATE, TKD_LORA_UP, TKD_LORA_DOWN, TKD_LORA_NT };
extern const char *const tkd_lora_target_names[TKD_LORA_NT]; /* "q_proj", ... */

typedef struct tkd_lora_config {
    int r;
    double alpha;
    double dropout;
    unsigned targets; /* bit t set: target t has an adapter */
} tkd_lora_config;

/* Parse "q,k,v,o,gate,up,down" or "q_proj,v_proj" or "all" into a bit mask. */
int tkd_lora_parse_targets(const char *s, unsigned *mask, tkd_err *e);

typedef struct tkd_lora {
    tkd_lora_config cfg;
    int n_layers;
    int in[TKD_LORA_NT], out[TKD_LORA_NT];         /* the projection's shape */
    size_t off_a[TKD_LORA_NT], off_b[TKD_LORA_NT]; /* into mem; per layer: + l*r*in / + l*out*r */
    size_t n_params;
    float *mem; /* A (L,r,in) and B (L,out,r) of every target */
} tkd_lora;

int tkd_lora_alloc(tkd_lora *a, const tkd_model_config *c, const tkd_lora_config *lc, tkd_err *e);
void tkd_lora_free(tkd_lora *a);
/* PEFT's init: A kaiming-uniform(a=sqrt(5)) i.e. U(-1/sqrt(in), 1/sqrt(in)), B zero. */
void tkd_lora_init(tkd_lora *a, uint64_t seed);
float *tkd_lora_A(const tkd_lora *a, int layer, int t); /* (r,in) or NULL if t is not a target */
float *tkd_lora_B(const tkd_lora *a, int layer, int t); /* (out,r) */
static inline float tkd_lora_scale(const tkd_lora *a) {
    return (float)(a->cfg.alpha / a->cfg.r);
}

/* PEFT layout: adapter_config.json + adapter_model.safetensors in dir. */
int tkd_lora_save(const tkd_lora *a, const char *dir, const char *base_model, tkd_err *e);
/* Load an adapter saved by tkd or PEFT for the model config c. */
int tkd_lora_load(tkd_lora *a, const char *dir, const tkd_model_config *c, tkd_err *e);
/* PEFT tensor name: base_model.model.model.layers.L.self_attn.q_proj.lora_A.weight */
void tkd_lora_tensor_name(int layer, int t, int is_b, char *out, size_t n);
/* W += scale * B A for every adapted projection (merge-adapter). */
int tkd_lora_merge(tkd_model *m, const tkd_lora *a, tkd_err *e);

/* ---- forward and backward for training ---- */
typedef struct tkd_qwen2_opts {
    int B, T;      /* the largest batch and sequence the trainer will see */
    int full;      /* full fine-tuning: gradients for every weight */
    int recompute; /* keep only layer inputs; recompute the rest in backward */
} tkd_qwen2_opts;

typedef struct tkd_qwen2 tkd_qwen2; /* activations, gradients, scratch */

/* lora may be NULL (no adapter); with opts.full, gradients go to all weights. */
int tkd_qwen2_new(tkd_qwen2 **q, tkd_model *m, tkd_lora *lora, const tkd_qwen2_opts *o, tkd_err *e);
void tkd_qwen2_free(tkd_qwen2 *q);
/*
 * Forward tokens (B,T) to logits (B,T,V). docstart (B,T) may be NULL: for
 * packed rows, token t of a row attends only to [docstart[t], t] and its
 * position is t - docstart[t]. dropout_seed picks the LoRA dropout masks
 * (train mode when the adapter's dropout > 0 and seed != 0).
 */
int tkd_qwen2_forward(tkd_qwen2 *q, const int *tokens, const int *docstart, int B, int T, uint64_t dropout_seed,
                      tkd_err *e);
const float *tkd_qwen2_logits(const tkd_qwen2 *q); /* (B,T,V) after forward */
/*
 * Cross entropy of the last forward against targets (B,T) where mask (B,T) is
 * set: returns the sum of -log p over masked tokens (the logits of masked
 * rows are overwritten for the backward). *count gets the number of masked tokens.
 */
double tkd_qwen2_loss(tkd_qwen2 *q, const int *targets, const uint8_t *mask, long *count);
/* Backward of (sum masked NLL) * scale; gradients accumulate (+=). */
int tkd_qwen2_backward(tkd_qwen2 *q, const int *targets, const uint8_t *mask, float scale, tkd_err *e);
/* The trainable parameters and their gradients (adapter, or all weights). */
float *tkd_qwen2_params(tkd_qwen2 *q, size_t *n);
float *tkd_qwen2_grads(tkd_qwen2 *q, size_t *n);
void tkd_qwen2_zero_grad(tkd_qwen2 *q);

/* ---- AdamW and the learning-rate schedule ---- */
typedef struct tkd_adamw {
    double lr, beta1, beta2, eps, weight_decay;
    long t; /* steps taken */
    size_t n;
    float *m, *v; /* (n) each, one allocation */
} tkd_adamw;

int tkd_adamw_init(tkd_adamw *o, size_t n, double lr, double wd, tkd_err *e);
void tkd_adamw_free(tkd_adamw *o);
/* One step of torch.optim.AdamW at learning rate lr. */
void tkd_adamw_step(tkd_adamw *o, float *params, const float *grads, double lr);
/* torch.nn.utils.clip_grad_norm_: scale grads to norm <= max (if max > 0); returns the norm before. */
double tkd_clip_grad_norm(float *grads, size_t n, double max_norm);
/* HF schedules: warmup from 0, then "cosine", "linear" or "constant". */
double tkd_lr_at(const char *schedule, double base_lr, long step, long warmup, long total);

/* ---- generation with a KV cache ---- */
typedef struct tkd_gen_opts {
    int max_new;        /* new tokens per prompt */
    double temperature; /* 0: greedy */
    double top_p;       /* 1: off */
    uint64_t seed;
    const int *stop_ids; /* stop tokens (the EOS of the chat format, ...) */
    int n_stop_ids;
} tkd_gen_opts;

/*
 * Continue n prompts at once (batched decode). prompts[i] has lens[i] tokens;
 * out[i] receives the new tokens (malloc'd, caller frees) and out_len[i] its
 * length. A stop token ends a sequence (and is not included). stop(...) if
 * non-NULL is asked after each token whether sequence i should stop (for stop
 * strings, decoded by the caller).
 */
typedef int (*tkd_gen_stop_fn)(void *ctx, int seq, const int *toks, int n);
int tkd_generate(const tkd_model *m, const int *const *prompts, const int *lens, int n, const tkd_gen_opts *o,
                 tkd_gen_stop_fn stop, void *stop_ctx, int **out, int *out_len, tkd_err *e);

/*
 * Continuous batching: a decoder holds up to max_seqs sequences, each with
 * its own KV cache (grown as it needs), sampling settings and seed (o->seed
 * is the sequence's own). tkd_decoder_step runs one forward pass: one token
 * for every running sequence plus the whole prompt of the oldest queued ones
 * (at most TKD_GEN_PREFILL_TOKENS prompt tokens per step, at least one
 * prompt), so finished sequences make room for new prompts at once. A
 * sequence ends at a stop token (TKD_GEN_STOP, the token not emitted), at
 * max_new (TKD_GEN_LENGTH) or by tkd_decoder_end.
 *
 *   tkd_decoder_new(m, 64, &d, &e);
 *   while (more prompts or tkd_decoder_active(d)) {
 *       while (tkd_decoder_free_slots(d) && more prompts) tkd_decoder_add(d, ids, n, &o, &slot, &e);
 *       tkd_decoder_step(d, &e);
 *       while (tkd_decoder_next_done(d, &slot, &reason)) {
 *           n = tkd_decoder_tokens(d, slot, &toks); ...; tkd_decoder_release(d, slot);
 *       }
 *   }
 */
#define TKD_GEN_PREFILL_TOKENS 2048
enum { TKD_GEN_STOP = 1, TKD_GEN_LENGTH = 2 };
typedef struct tkd_decoder tkd_decoder;
int tkd_decoder_new(const tkd_model *m, int max_seqs, tkd_decoder **out, tkd_err *e);
void tkd_decoder_free(tkd_decoder *d);
/* Queue a prompt (copied) into a free slot (*slot); TKD_ELIMIT when none is free. */
int tkd_decoder_add(tkd_decoder *d, const int *prompt, int n, const tkd_gen_opts *o, int *slot, tkd_err *e);
int tkd_decoder_step(tkd_decoder *d, tkd_err *e);
int tkd_decoder_active(const tkd_decoder *d);     /* queued or running */
int tkd_decoder_free_slots(const tkd_decoder *d); /* slots free for tkd_decoder_add */
/* A finished sequence (oldest first): 1 with its slot and TKD_GEN_* reason. */
int tkd_decoder_next_done(tkd_decoder *d, int *slot, int *reason);
/* The tokens generated so far in a slot (borrowed until release). */
int tkd_decoder_tokens(const tkd_decoder *d, int slot, const int **toks);
void tkd_decoder_end(tkd_decoder *d, int slot);     /* end a sequence now (a stop string) */
void tkd_decoder_release(tkd_decoder *d, int slot); /* free the slot for the next prompt */

/* Bytes to UTF-8 as Hugging Face tokenizers decode them (Rust's
 * from_utf8_lossy, Python's errors="replace"): each maximal ill-formed
 * subsequence becomes one U+FFFD. NUL-terminated, malloc'd (NULL: out of memory). */
char *tkd_utf8_lossy(const char *s, size_t n);

/*
 * Text in, text out (the eval phase's entry): n prompts, each a chat (JSON
 * array of messages, or {"messages": [...], "tools": [...]}, rendered with
 * the generation prompt) when chat is set, else plain text. Generation stops
 * at <|im_end|>, <|endoftext|>, the config's eos, o->stop_ids, or a stop
 * string (the text is cut before it). out[i] is malloc'd UTF-8 (ill-formed
 * sequences become U+FFFD as tkd_utf8_lossy does); the caller frees each.
 */
struct tkd_tokenizer;
int tkd_generate_text(const tkd_model *m, struct tkd_tokenizer *tok, const char *const *prompts, int n, int chat,
                      const tkd_gen_opts *o, const char *const *stops, int n_stops, char **out, tkd_err *e);

/* ---- gradient all-reduce between data-parallel ranks (MPI now, NCCL later) ---- */
typedef struct tkd_comm {
    int rank, world;
    void *ctx;
    int (*sum_f32)(void *ctx, float *buf, size_t n, tkd_err *e); /* in place, all ranks */
    int (*sum_f64)(void *ctx, double *buf, size_t n, tkd_err *e);
    int (*max_int)(void *ctx, int *v, tkd_err *e);
} tkd_comm;

/* A communicator over MPI_COMM_WORLD (initialises MPI if needed), or a single rank. */
int tkd_comm_mpi(tkd_comm *c, tkd_err *e);
void tkd_comm_single(tkd_comm *c);
/* MPI_Finalize if MPI is up (call once, at exit of the program). */
void tkd_comm_finalize(void);

/* ---- SFT examples and the training loop ---- */
typedef struct tkd_sft_example {
    int *ids;      /* tokens (n) */
    uint8_t *mask; /* (n): 1 where the token is trained on (assistant tokens) */
    int n;
} tkd_sft_example;

typedef struct tkd_train_opts {
    const char *model_dir;
    const char *out_dir; /* adapter, checkpoints, log */
    int lora_r;
    double lora_alpha, lora_dropout;
    unsigned lora_targets;
    int full; /* full fine-tuning instead of LoRA */
    int recompute;
    double lr, weight_decay, clip, beta1, beta2, eps;
    long warmup;
    const char *schedule; /* cosine|linear|constant */
    int batch;            /* rows per micro-batch per rank */
    int accum;            /* micro-batches per optimizer step */
    int seq_len;          /* T */
    int packing;          /* pack short examples into rows */
    long steps;           /* optimizer steps (0: from epochs) */
    double epochs;
    long checkpoint_every; /* 0: only at the end and on stop */
    long log_every;
    uint64_t seed;
    const char *base_name; /* base_model_name_or_path in adapter_config.json */
    const char *device;    /* "auto", "cpu" or "cuda" (NULL: cpu); see tkd_train */
} tkd_train_opts;

void tkd_train_opts_default(tkd_train_opts *o);

/*
 * Read SFT JSONL: per line either {"messages": [...], "tools": [...]} (the
 * whole record is turned into tokens and an assistant-token mask by enc;
 * NULL: chat records are refused) or
 * pre-tokenized {"input_ids": [...], "loss_mask": [...]} (mask optional, all
 * ones). Errors name file:line. Free with tkd_sft_free.
 */
struct json_t;
typedef int (*tkd_sft_encode_fn)(void *ctx, const struct json_t *record, tkd_sft_example *out, tkd_err *e);
int tkd_sft_load(const char *path, tkd_sft_encode_fn enc, void *ctx, tkd_sft_example **ex, int *n, tkd_err *e);
void tkd_sft_free(tkd_sft_example *ex, int n);

/*
 * Train on examples (every rank passes the same list) on o->device: "cpu"
 * (the fp32 reference), "cuda" (the CUDA twin, one GPU per rank, gradients
 * summed with NCCL; TKD_EINVAL naming the reason when the build has no CUDA
 * or no GPU is visible) or "auto" (cuda when both are there, else cpu; the
 * log says which). Both devices run the same loop, checkpoints and adapter
 * files; on the GPU the step line adds MFU and peak GPU memory. Resumes from
 * out_dir/checkpoint when it exists. *stop is polled between steps (set it
 * from a SIGTERM handler): the loop writes a checkpoint and returns
 * TKD_ESTOP. Rank 0 prints a line per step (step, loss, learning rate,
 * tokens/s), appends it to out_dir/train_log.jsonl, and at the end writes
 * out_dir/adapter (PEFT layout) or, with full fine-tuning, out_dir/model.
 */
int tkd_train(const tkd_train_opts *o, const tkd_sft_example *ex, int n_ex, tkd_comm *comm, volatile sig_atomic_t *stop,
              tkd_err *e);

/* ---- the GPU trainer's memory plan (plain C: `tkd train --dry-run` needs
 * neither weights nor a GPU). The CUDA twin (src/model/cuda/tkd_cuda.h)
 * makes exactly these three allocations, sized here, before the first step. ---- */
#include <stdio.h>
typedef struct tkd_gpu_plan {
    /* bytes per GPU */
    size_t weights;     /* frozen base in bf16, trainable fp32 masters and their bf16 copies */
    size_t activations; /* what the forward keeps for the backward for B x T tokens (only the layer
                         * inputs plus one layer's worth with recompute), backward scratch, the loss
                         * chunk's logits, attention scratch, the cuBLASLt workspace */
    size_t state;       /* fp32 gradients, AdamW m and v, the gradient all-reduce bucket */
    size_t total;       /* the sum, plus the CUDA context and library reserve (stated in the print) */
    size_t n_frozen, n_trainable; /* parameters */
    int loss_chunk_rows;          /* rows of logits made at a time by the loss */
    /* FLOPs per trained token as NeMo AutoModel counts them for a frozen base:
     * (6 x parameters + attention) x (2 + trainable/frozen) / 3 */
    double flops_per_token;
} tkd_gpu_plan;

/* lora NULL with full set: full fine-tuning. B, T: rows per micro-batch and tokens per row. */
int tkd_gpu_plan_make(const tkd_model_config *c, const tkd_lora_config *lora, int full, int B, int T, int recompute,
                      tkd_gpu_plan *p, tkd_err *e);
/* The plan as a readable table in GiB, one line per allocation and the total. */
void tkd_gpu_plan_print(const tkd_gpu_plan *p, FILE *f);

#endif
