/*
 * Internal: the trainer's state (activations, gradients, scratch), shared by
 * qwen2.c (allocation, loss), qwen2_fwd.c and qwen2_bwd.c.
 */
#ifndef TKD_QWEN2_PRIV_H
#define TKD_QWEN2_PRIV_H

#include "tkd/model.h"

/* what one layer's forward leaves for its backward; N = B*T */
typedef struct layer_acts {
    float *ln1, *rstd1;     /* (N,C) (N) */
    float *q, *k, *v;       /* (N,H*D) (N,KV*D) (N,KV*D), q and k after RoPE */
    float *probs;           /* (B,H,T,T) */
    float *atty;            /* (N,H*D) */
    float *mid;             /* (N,C) residual after attention */
    float *ln2, *rstd2;     /* (N,C) (N) */
    float *g, *u, *h;       /* (N,I) */
    float *ax[TKD_LORA_NT]; /* (N,r) A @ dropout(x) per target */
} layer_acts;

struct tkd_qwen2 {
    tkd_model *m;
    tkd_lora *lora;
    tkd_qwen2_opts o;
    int B, T;                     /* of the last forward */
    uint64_t drop_seed;           /* 0: no dropout */
    float *cos_t, *sin_t;         /* (T, D/2) */
    int *pos, *docstart, *tokens; /* (N) */
    int has_doc;
    float *act_mem;
    float *resid;       /* (L+1, N, C): the input of every layer, then the final hidden */
    layer_acts *acts;   /* L sets, or 1 with recompute */
    float *lnf, *rstdf; /* (N,C) (N) */
    float *logits;      /* (N,V); after tkd_qwen2_loss exp(logit - max) on masked rows */
    float *rowinv;      /* (N) 1 / sum of those exps: the softmax without a pass to normalise */
    float *tmp_out;     /* (N,C) recompute writes its layer output here */
    /* backward scratch */
    float *dresid, *dln, *dq, *dk, *dv, *datty, *dg, *du, *dh; /* (N,C)x2 (N,QC) (N,KC)x2 (N,QC) (N,I)x3 */
    float *datt;                                               /* (T,T) */
    float *dax;                                                /* (N,r) */
    float *xdrop, *xtmp;                                       /* (N, max(C,I,QC)) dropout inputs and LoRA dx */
    /* trainable parameters and gradients */
    float *grad_mem;
    size_t n_train;
    float *gp[TKD_P_COUNT]; /* full fine-tuning: gradient of each weight kind */
};

/* one projection with its optional adapter: out (N,OC) = x W^T + b + s B A drop(x) */
void qw_proj_fwd(tkd_qwen2 *q, int l, int t, float *out, float *ax, const float *x, const float *w, const float *b,
                 int N, int IC, int OC);
void qw_layer_fwd(tkd_qwen2 *q, int l, layer_acts *a, const float *in, float *out);

#endif
