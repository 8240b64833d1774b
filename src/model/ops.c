/*
 * The transformer's building blocks on the CPU in fp32: linear layers on
 * cblas_sgemm, RMSNorm, rotate-half RoPE, causal grouped-query attention
 * (scores and weighted sums as sgemm per head), SwiGLU. Each has a forward
 * and a backward; backward functions accumulate into their outputs.
 */
#include "ops.h"

#include "tkd/core.h"

#include <cblas.h>
#undef I /* cblas.h pulls in complex.h; I is the intermediate size here */
#include <math.h>
#include <string.h>

void op_matmul_fwd(float *out, const float *inp, const float *w, const float *bias, int N, int IC, int OC) {
    if (N == 1) // one row (decoding one sequence): sgemv streams W once
        cblas_sgemv(CblasRowMajor, CblasNoTrans, OC, IC, 1.0f, w, IC, inp, 1, 0.0f, out, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, OC, IC, 1.0f, inp, IC, w, IC, 0.0f, out, OC);
    if (bias)
        for (int n = 0; n < N; n++) {
            float *o = out + (size_t)n * OC;
            for (int i = 0; i < OC; i++)
                o[i] += bias[i];
        }
}

void op_matmul_bwd(float *dinp, float *dw, float *dbias, const float *dout, const float *inp, const float *w, int N,
                   int IC, int OC) {
    if (dinp) // (N,IC) += (N,OC) @ (OC,IC)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, IC, OC, 1.0f, dout, OC, w, IC, 1.0f, dinp, IC);
    if (dw) // (OC,IC) += (N,OC)^T @ (N,IC)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, OC, IC, N, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
    if (dbias)
        for (int n = 0; n < N; n++)
            for (int i = 0; i < OC; i++)
                dbias[i] += dout[(size_t)n * OC + i];
}

void op_rmsnorm_fwd(float *out, float *rstd, const float *inp, const float *w, int N, int C, float eps) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C;
        float *o = out + (size_t)n * C;
        double ss = 0;
        for (int i = 0; i < C; i++)
            ss += (double)x[i] * x[i];
        float rs = (float)(1.0 / sqrt(ss / C + eps));
        for (int i = 0; i < C; i++)
            o[i] = x[i] * rs * w[i];
        if (rstd)
            rstd[n] = rs;
    }
}

void op_rmsnorm_bwd(float *dinp, float *dw, const float *dout, const float *inp, const float *w, const float *rstd,
                    int N, int C) {
    for (int n = 0; n < N; n++) {
        const float *x = inp + (size_t)n * C, *dy = dout + (size_t)n * C;
        float *dx = dinp + (size_t)n * C, rs = rstd[n];
        // y = x*rs*w ; dx = rs*(dy*w) - x * rs^3 * mean(dy*w*x)
        double dot = 0;
        for (int i = 0; i < C; i++)
            dot += (double)dy[i] * w[i] * x[i];
        float k = (float)(dot / C) * rs * rs * rs;
        for (int i = 0; i < C; i++) {
            dx[i] += dy[i] * w[i] * rs - x[i] * k;
            if (dw)
                dw[i] += dy[i] * x[i] * rs;
        }
    }
}

void op_rope_table(float *cos_t, float *sin_t, int P, int D, double theta) {
    int h = D / 2;
    for (int i = 0; i < h; i++) {
        double inv = 1.0 / pow(theta, (2.0 * i) / D);
        for (int p = 0; p < P; p++) {
            double a = p * inv;
            cos_t[(size_t)p * h + i] = (float)cos(a);
            sin_t[(size_t)p * h + i] = (float)sin(a);
        }
    }
}

void op_rope(float *x, const int *pos, int N, int nh, int D, const float *cos_t, const float *sin_t, int inverse) {
    int h = D / 2;
    for (int n = 0; n < N; n++) {
        const float *c = cos_t + (size_t)pos[n] * h, *s = sin_t + (size_t)pos[n] * h;
        for (int hd = 0; hd < nh; hd++) {
            float *v = x + ((size_t)n * nh + hd) * D;
            for (int i = 0; i < h; i++) {
                float a = v[i], b = v[i + h], sn = inverse ? -s[i] : s[i];
                // rotate_half: (a, b) -> (a cos - b sin, b cos + a sin)
                v[i] = a * c[i] - b * sn;
                v[i + h] = b * c[i] + a * sn;
            }
        }
    }
}

void op_attention_fwd(float *out, float *probs, const float *q, const float *k, const float *v, const int *docstart,
                      int T, int H, int KV, int D) {
    int QC = H * D, KC = KV * D, G = H / KV;
    float scale = 1.0f / sqrtf((float)D);
    for (int h = 0; h < H; h++) {
        int kh = h / G;
        float *P = probs + (size_t)h * T * T; // (T,T)
        // P = scale * Q_h (T,D) @ K_kh^T (D,T)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, scale, q + h * D, QC, k + kh * D, KC, 0.0f, P, T);
        for (int t = 0; t < T; t++) {
            float *row = P + (size_t)t * T;
            int lo = docstart ? docstart[t] : 0;
            float mx = -INFINITY;
            for (int j = lo; j <= t; j++)
                mx = row[j] > mx ? row[j] : mx;
            double sum = 0;
            for (int j = lo; j <= t; j++) {
                row[j] = expf(row[j] - mx);
                sum += row[j];
            }
            float inv = (float)(1.0 / sum);
            for (int j = 0; j < T; j++)
                row[j] = (j >= lo && j <= t) ? row[j] * inv : 0.0f;
        }
        // out_h (T,D) = P (T,T) @ V_kh (T,D)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, 1.0f, P, T, v + kh * D, KC, 0.0f, out + h * D,
                    QC);
    }
}

void op_attention_bwd(float *dq, float *dk, float *dv, float *scratch, const float *dout, const float *probs,
                      const float *q, const float *k, const float *v, int T, int H, int KV, int D) {
    int QC = H * D, KC = KV * D, G = H / KV;
    float scale = 1.0f / sqrtf((float)D);
    for (int h = 0; h < H; h++) {
        int kh = h / G;
        const float *P = probs + (size_t)h * T * T;
        float *dP = scratch; // (T,T)
        // dP = dO_h (T,D) @ V^T (D,T)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, D, 1.0f, dout + h * D, QC, v + kh * D, KC, 0.0f, dP,
                    T);
        // dV (T,D) += P^T (T,T) @ dO_h (T,D)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, 1.0f, P, T, dout + h * D, QC, 1.0f, dv + kh * D,
                    KC);
        // dS = P * (dP - rowsum(P*dP))
        for (int t = 0; t < T; t++) {
            const float *p = P + (size_t)t * T;
            float *d = dP + (size_t)t * T;
            double s = 0;
            for (int j = 0; j <= t; j++)
                s += (double)p[j] * d[j];
            for (int j = 0; j < T; j++)
                d[j] = j <= t ? p[j] * (d[j] - (float)s) : 0.0f;
        }
        // dQ_h (T,D) += scale dS @ K ; dK (T,D) += scale dS^T @ Q_h
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, D, T, scale, dP, T, k + kh * D, KC, 1.0f, dq + h * D,
                    QC);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, D, T, scale, dP, T, q + h * D, QC, 1.0f, dk + kh * D,
                    KC);
    }
}

void op_swiglu_fwd(float *h, const float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++)
        h[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
}

void op_swiglu_bwd(float *dg, float *du, const float *dh, const float *g, const float *u, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-g[i])), silu = g[i] * s;
        du[i] = dh[i] * silu;
        dg[i] = dh[i] * u[i] * s * (1.0f + g[i] * (1.0f - s));
    }
}

int op_positions(int *pos, const int *tokens, const int *docstart, int N, int T, int V, tkd_err *e) {
    for (int n = 0; n < N; n++) {
        int t = n % T, ds = docstart ? docstart[n] : 0;
        if (tokens[n] < 0 || tokens[n] >= V)
            return tkd_err_set(e, TKD_EINVAL, "token id %d at position %d is outside the vocabulary (%d)", tokens[n], n,
                               V);
        if (ds < 0 || ds > t)
            return tkd_err_set(e, TKD_EINVAL, "docstart %d at position %d is not in [0, %d]", ds, n, t);
        pos[n] = t - ds;
    }
    return 0;
}
