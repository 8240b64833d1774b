/*
 * AdamW exactly as torch.optim.AdamW computes it (decoupled weight decay,
 * bias-corrected moments), gradient-norm clipping as clip_grad_norm_, and the
 * Hugging Face learning-rate schedules (linear warmup, then cosine, linear or
 * constant).
 */
#include "tkd/model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int tkd_adamw_init(tkd_adamw *o, size_t n, double lr, double wd, tkd_err *e) {
    memset(o, 0, sizeof *o);
    o->lr = lr;
    o->beta1 = 0.9;
    o->beta2 = 0.999;
    o->eps = 1e-8;
    o->weight_decay = wd;
    o->n = n;
    o->m = tkd_calloc(2 * (n ? n : 1), sizeof(float), e);
    if (!o->m)
        return tkd_err_wrap(e, "AdamW state for %zu parameters", n);
    o->v = o->m + n;
    return 0;
}

void tkd_adamw_free(tkd_adamw *o) {
    free(o->m);
    memset(o, 0, sizeof *o);
}

void tkd_adamw_step(tkd_adamw *o, float *p, const float *g, double lr) {
    o->t++;
    double bc1 = 1.0 - pow(o->beta1, (double)o->t), bc2 = 1.0 - pow(o->beta2, (double)o->t);
    float b1 = (float)o->beta1, b2 = (float)o->beta2, decay = (float)(1.0 - lr * o->weight_decay);
    float step = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2)), eps = (float)o->eps;
    for (size_t i = 0; i < o->n; i++) {
        float m = o->m[i] = b1 * o->m[i] + (1.0f - b1) * g[i];
        float v = o->v[i] = b2 * o->v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] *= decay;
        p[i] -= step * m / (sqrtf(v) * rbc2 + eps);
    }
}

double tkd_clip_grad_norm(float *g, size_t n, double max_norm) {
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)g[i] * g[i];
    double norm = sqrt(ss);
    if (max_norm > 0) {
        double coef = max_norm / (norm + 1e-6);
        if (coef < 1.0)
            for (size_t i = 0; i < n; i++)
                g[i] = (float)(g[i] * coef);
    }
    return norm;
}

double tkd_lr_at(const char *schedule, double base, long step, long warmup, long total) {
    if (step < warmup)
        return base * (double)step / (double)(warmup > 1 ? warmup : 1);
    if (!strcmp(schedule, "constant"))
        return base;
    double span = (double)(total - warmup > 1 ? total - warmup : 1);
    double progress = (double)(step - warmup) / span;
    if (!strcmp(schedule, "linear"))
        return base * fmax(0.0, 1.0 - progress);
    return base * fmax(0.0, 0.5 * (1.0 + cos(M_PI * progress))); // cosine
}
