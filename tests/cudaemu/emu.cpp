/*
 * The CPU emulation of what the CUDA model (src/model/cuda/model.cu,
 * model_pass.cu) calls: the runtime (device memory is host memory, streams
 * run at once), the kernels of tkd_cuda.h part 1 written as plain loops
 * over bf16 storage with fp32 arithmetic (round to nearest even on every
 * store, as the kernels do), cuBLASLt's products (tkd_lt_mm: bf16 operands,
 * fp32 accumulation, bf16 or fp32 output) and the random fills.
 *
 * With it, tests/gpu/test_cuda_model.c runs without a GPU against the CPU
 * reference: it checks the model's own code (buffers carved from the plan,
 * offsets, strides, leading dimensions, the order of the passes,
 * recompute, LoRA, dropout, packing, full fine-tuning, the chunked loss),
 * not the kernels (tests/gpu/test_kern.c) nor cuBLASLt's column-major
 * hand-over (tests/model/test_lt_map.c).
 */
#include "model_priv.h"

extern "C" {
#include "ops.h"
}

#include <math.h>

/* ---- bf16 ---- */

static float b2f(tkd_bf16 b) {
    uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static tkd_bf16 f2b(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    if ((u & 0x7fffffffu) > 0x7f800000u) /* NaN stays NaN */
        return (tkd_bf16)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (tkd_bf16)(u >> 16);
}

/* ---- runtime ---- */

static size_t emu_used;
static const size_t emu_total = (size_t)64 << 30;
static char emu_stream_obj;

extern "C" {
const char *cudaGetErrorString(cudaError_t e) {
    return e == cudaSuccess ? "no error" : e == cudaErrorMemoryAllocation ? "out of memory" : "invalid value";
}
cudaError_t cudaGetLastError(void) {
    return cudaSuccess;
}
cudaError_t cudaGetDeviceCount(int *n) {
    *n = 1;
    return cudaSuccess;
}
cudaError_t cudaGetDeviceProperties(cudaDeviceProp *p, int dev) {
    if (dev != 0)
        return cudaErrorInvalidValue;
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "CPU emulation of a CUDA device");
    p->totalGlobalMem = emu_total;
    return cudaSuccess;
}
cudaError_t cudaDeviceGetAttribute(int *v, enum cudaDeviceAttr a, int dev) {
    (void)a;
    (void)dev;
    *v = 0;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int dev) {
    return dev == 0 ? cudaSuccess : cudaErrorInvalidValue;
}
cudaError_t cudaMemGetInfo(size_t *free_b, size_t *total_b) {
    *free_b = emu_total - emu_used;
    *total_b = emu_total;
    return cudaSuccess;
}
cudaError_t cudaMalloc(void **p, size_t n) {
    /* poisoned, as fresh device memory is garbage: a buffer read before it is written shows as NaN */
    size_t *m = (size_t *)malloc(n + 16);
    if (!m)
        return cudaErrorMemoryAllocation;
    m[0] = n;
    memset(m + 2, 0xff, n);
    emu_used += n;
    *p = m + 2;
    return cudaSuccess;
}
cudaError_t cudaFree(void *p) {
    if (p) {
        size_t *m = (size_t *)p - 2;
        emu_used -= m[0];
        free(m);
    }
    return cudaSuccess;
}
cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind k, cudaStream_t s) {
    (void)k;
    (void)s;
    memmove(dst, src, n);
    return cudaSuccess;
}
cudaError_t cudaMemsetAsync(void *p, int v, size_t n, cudaStream_t s) {
    (void)s;
    memset(p, v, n);
    return cudaSuccess;
}
cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags) {
    (void)flags;
    *s = (cudaStream_t)&emu_stream_obj;
    return cudaSuccess;
}
cudaError_t cudaStreamDestroy(cudaStream_t s) {
    (void)s;
    return cudaSuccess;
}
cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    (void)s;
    return cudaSuccess;
}
}

/* ---- cuBLASLt's products ---- */

int tkd_lt_init(tkd_lt *lt, void *ws, size_t ws_bytes, tkd_err *e) {
    (void)e;
    memset(lt, 0, sizeof *lt);
    lt->ws = ws;
    lt->ws_bytes = ws_bytes;
    return 0;
}

void tkd_lt_free(tkd_lt *lt) {
    memset(lt, 0, sizeof *lt);
}

int tkd_lt_mm(tkd_lt *lt, cudaStream_t s, int ta, int tb, int m, int n, int k, float alpha, const void *A, int lda,
              const void *B, int ldb, float beta, void *C, int ldc, int c_f32, const void *bias, tkd_err *e) {
    (void)lt;
    (void)s;
    if (m < 1 || n < 1 || k < 1 || lda < (ta ? m : k) || ldb < (tb ? k : n) || ldc < n || (bias && beta != 0.0f))
        return tkd_err_set(e, TKD_EINTERNAL, "emulated matmul: bad shape (%d,%d,%d) ld %d %d %d", m, n, k, lda, ldb,
                           ldc);
    const tkd_bf16 *a = (const tkd_bf16 *)A, *b = (const tkd_bf16 *)B, *bi = (const tkd_bf16 *)bias;
    float *ak = (float *)malloc(sizeof(float) * (size_t)k), *bt = (float *)malloc(sizeof(float) * (size_t)k * n);
    for (int q = 0; q < k; q++) /* op(B) (k,n), transposed once for a contiguous inner loop */
        for (int j = 0; j < n; j++)
            bt[(size_t)j * k + q] = b2f(tb ? b[(size_t)j * ldb + q] : b[(size_t)q * ldb + j]);
    for (int i = 0; i < m; i++) {
        for (int q = 0; q < k; q++)
            ak[q] = b2f(ta ? a[(size_t)q * lda + i] : a[(size_t)i * lda + q]);
        for (int j = 0; j < n; j++) {
            float acc = 0;
            const float *bj = bt + (size_t)j * k;
            for (int q = 0; q < k; q++)
                acc += ak[q] * bj[q];
            float d = alpha * acc + (bi ? b2f(bi[j]) : 0.0f);
            if (c_f32) {
                float *c = (float *)C + (size_t)i * ldc + j;
                *c = d + (beta != 0.0f ? beta * *c : 0.0f);
            } else {
                tkd_bf16 *c = (tkd_bf16 *)C + (size_t)i * ldc + j;
                *c = f2b(d + (beta != 0.0f ? beta * b2f(*c) : 0.0f));
            }
        }
    }
    free(ak);
    free(bt);
    return 0;
}

/* ---- the kernels of part 1 ---- */

extern "C" {
int tkd_k_embed_fwd(tkd_bf16 *out, const int *tokens, const tkd_bf16 *embed, int N, int C, tkd_stream_t s) {
    (void)s;
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * C, embed + (size_t)tokens[n] * C, sizeof(tkd_bf16) * (size_t)C);
    return 0;
}

int tkd_k_embed_bwd(float *dembed, const tkd_bf16 *dout, const int *tokens, int N, int C, tkd_stream_t s) {
    (void)s;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < C; i++)
            dembed[(size_t)tokens[n] * C + i] += b2f(dout[(size_t)n * C + i]);
    return 0;
}

int tkd_k_rmsnorm_fwd(tkd_bf16 *out, float *rstd, const tkd_bf16 *x, const tkd_bf16 *w, int N, int C, float eps,
                      tkd_stream_t s) {
    (void)s;
    for (int n = 0; n < N; n++) {
        const tkd_bf16 *xr = x + (size_t)n * C;
        float ss = 0;
        for (int i = 0; i < C; i++)
            ss += b2f(xr[i]) * b2f(xr[i]);
        float rs = 1.0f / sqrtf(ss / C + eps);
        for (int i = 0; i < C; i++)
            out[(size_t)n * C + i] = f2b(b2f(xr[i]) * rs * b2f(w[i]));
        if (rstd)
            rstd[n] = rs;
    }
    return 0;
}

int tkd_k_rmsnorm_bwd(tkd_bf16 *dx, float *dw, const tkd_bf16 *dout, const tkd_bf16 *x, const tkd_bf16 *w,
                      const float *rstd, int N, int C, int accumulate, tkd_stream_t s) {
    (void)s;
    for (int n = 0; n < N; n++) {
        const tkd_bf16 *xr = x + (size_t)n * C, *dy = dout + (size_t)n * C;
        tkd_bf16 *d = dx + (size_t)n * C;
        float rs = rstd[n], dot = 0;
        for (int i = 0; i < C; i++)
            dot += b2f(dy[i]) * b2f(w[i]) * b2f(xr[i]);
        float k = dot / C * rs * rs * rs;
        for (int i = 0; i < C; i++) {
            float v = b2f(dy[i]) * b2f(w[i]) * rs - b2f(xr[i]) * k;
            d[i] = f2b(accumulate ? b2f(d[i]) + v : v);
            if (dw)
                dw[i] += b2f(dy[i]) * b2f(xr[i]) * rs;
        }
    }
    return 0;
}

int tkd_k_rope(tkd_bf16 *x, const int *pos, int N, int nh, int D, double theta, int inverse, tkd_stream_t s) {
    (void)s;
    int h = D / 2;
    for (int n = 0; n < N; n++)
        for (int hd = 0; hd < nh; hd++) {
            tkd_bf16 *v = x + ((size_t)n * nh + hd) * D;
            for (int i = 0; i < h; i++) {
                double ang = pos[n] * (1.0 / pow(theta, (2.0 * i) / D));
                float c = (float)cos(ang), sn = (float)sin(ang) * (inverse ? -1.0f : 1.0f);
                float a = b2f(v[i]), b = b2f(v[i + h]);
                v[i] = f2b(a * c - b * sn);
                v[i + h] = f2b(b * c + a * sn);
            }
        }
    return 0;
}

static float dot_bf(const tkd_bf16 *a, const tkd_bf16 *b, int D) {
    float s = 0;
    for (int d = 0; d < D; d++)
        s += b2f(a[d]) * b2f(b[d]);
    return s;
}

int tkd_k_attn_fwd(tkd_bf16 *out, float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v,
                   const int *docstart, int B, int T, int H, int KV, int D, tkd_stream_t s) {
    (void)s;
    int QC = H * D, KC = KV * D, G = H / KV;
    float scale = 1.0f / sqrtf((float)D), *p = (float *)malloc(sizeof(float) * (size_t)T),
          *o = (float *)malloc(sizeof(float) * (size_t)D);
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                size_t bt = (size_t)b * T;
                int lo = docstart ? docstart[bt + t] : 0, kh = h / G;
                const tkd_bf16 *qr = q + (bt + t) * QC + h * D;
                float mx = -INFINITY, sum = 0;
                for (int j = lo; j <= t; j++) {
                    p[j] = scale * dot_bf(qr, k + (bt + j) * KC + kh * D, D);
                    mx = p[j] > mx ? p[j] : mx;
                }
                for (int j = lo; j <= t; j++)
                    sum += p[j] = expf(p[j] - mx);
                for (int d = 0; d < D; d++)
                    o[d] = 0;
                for (int j = lo; j <= t; j++)
                    for (int d = 0; d < D; d++)
                        o[d] += p[j] / sum * b2f(v[(bt + j) * KC + kh * D + d]);
                for (int d = 0; d < D; d++)
                    out[(bt + t) * QC + h * D + d] = f2b(o[d]);
                lse[((size_t)b * H + h) * T + t] = mx + logf(sum);
            }
    free(p);
    free(o);
    return 0;
}

size_t tkd_k_attn_bwd_scratch(int B, int T, int H, int KV, int D) {
    (void)KV;
    (void)D;
    return (size_t)B * H * T * sizeof(float);
}

int tkd_k_attn_bwd(tkd_bf16 *dq, tkd_bf16 *dk, tkd_bf16 *dv, void *scratch, const tkd_bf16 *dout, const tkd_bf16 *out,
                   const float *lse, const tkd_bf16 *q, const tkd_bf16 *k, const tkd_bf16 *v, const int *docstart,
                   int B, int T, int H, int KV, int D, tkd_stream_t s) {
    (void)s;
    int QC = H * D, KC = KV * D, G = H / KV;
    size_t N = (size_t)B * T;
    float scale = 1.0f / sqrtf((float)D), *Dt = (float *)scratch;
    float *fq = (float *)calloc(N * QC, sizeof(float)), *fk = (float *)calloc(N * KC, sizeof(float)),
          *fv = (float *)calloc(N * KC, sizeof(float));
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                size_t r = (size_t)b * T + t;
                Dt[((size_t)b * H + h) * T + t] = dot_bf(dout + r * QC + h * D, out + r * QC + h * D, D);
            }
    for (int b = 0; b < B; b++)
        for (int h = 0; h < H; h++)
            for (int t = 0; t < T; t++) {
                size_t bt = (size_t)b * T, r = bt + t;
                int lo = docstart ? docstart[r] : 0, kh = h / G;
                float L = lse[((size_t)b * H + h) * T + t], Dr = Dt[((size_t)b * H + h) * T + t];
                const tkd_bf16 *qr = q + r * QC + h * D, *dor = dout + r * QC + h * D;
                for (int j = lo; j <= t; j++) {
                    const tkd_bf16 *kj = k + (bt + j) * KC + kh * D, *vj = v + (bt + j) * KC + kh * D;
                    float p = expf(scale * dot_bf(qr, kj, D) - L), dp = dot_bf(dor, vj, D), ds = p * (dp - Dr);
                    for (int d = 0; d < D; d++) {
                        fq[r * QC + h * D + d] += scale * ds * b2f(kj[d]);
                        fk[(bt + j) * KC + kh * D + d] += scale * ds * b2f(qr[d]);
                        fv[(bt + j) * KC + kh * D + d] += p * b2f(dor[d]);
                    }
                }
            }
    for (size_t i = 0; i < N * QC; i++)
        dq[i] = f2b(fq[i]);
    for (size_t i = 0; i < N * KC; i++) {
        dk[i] = f2b(fk[i]);
        dv[i] = f2b(fv[i]);
    }
    free(fq);
    free(fk);
    free(fv);
    return 0;
}

int tkd_k_swiglu_fwd(tkd_bf16 *h, const tkd_bf16 *g, const tkd_bf16 *u, size_t n, tkd_stream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++) {
        float x = b2f(g[i]);
        h[i] = f2b(x / (1.0f + expf(-x)) * b2f(u[i]));
    }
    return 0;
}

int tkd_k_swiglu_bwd(tkd_bf16 *dg, tkd_bf16 *du, const tkd_bf16 *dh, const tkd_bf16 *g, const tkd_bf16 *u, size_t n,
                     tkd_stream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++) {
        float x = b2f(g[i]), sg = 1.0f / (1.0f + expf(-x)), d = b2f(dh[i]);
        du[i] = f2b(d * x * sg);
        dg[i] = f2b(d * b2f(u[i]) * sg * (1.0f + x * (1.0f - sg)));
    }
    return 0;
}

int tkd_k_add(tkd_bf16 *y, const tkd_bf16 *a, const tkd_bf16 *b, size_t n, tkd_stream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++)
        y[i] = f2b(b2f(a[i]) + b2f(b[i]));
    return 0;
}

int tkd_k_bias_add(tkd_bf16 *y, const tkd_bf16 *bias, int N, int OC, tkd_stream_t s) {
    (void)s;
    for (size_t i = 0; i < (size_t)N * OC; i++)
        y[i] = f2b(b2f(y[i]) + b2f(bias[i % OC]));
    return 0;
}

int tkd_k_bias_bwd(float *dbias, const tkd_bf16 *dy, int N, int OC, tkd_stream_t s) {
    (void)s;
    for (int n = 0; n < N; n++)
        for (int i = 0; i < OC; i++)
            dbias[i] += b2f(dy[(size_t)n * OC + i]);
    return 0;
}

int tkd_k_dropout(tkd_bf16 *y, const tkd_bf16 *x, size_t n, uint64_t seed, int layer, int t, double p, tkd_stream_t s) {
    (void)s;
    float ks = (float)(1.0 / (1.0 - p));
    for (size_t i = 0; i < n; i++)
        y[i] = op_dropout_keep(seed, layer, t, i, p) ? f2b(b2f(x[i]) * ks) : 0;
    return 0;
}

int tkd_k_xent_chunk_f32(tkd_bf16 *dlogits, float *loss_sum, const float *logits, const int *targets,
                         const uint8_t *mask, int rows, int V, float scale, tkd_stream_t s) {
    (void)s;
    for (int r = 0; r < rows; r++) {
        const float *lg = logits + (size_t)r * V;
        tkd_bf16 *gr = dlogits + (size_t)r * V;
        if (!mask[r]) {
            memset(gr, 0, sizeof(tkd_bf16) * (size_t)V);
            continue;
        }
        float mx = -INFINITY, sum = 0;
        for (int i = 0; i < V; i++)
            mx = lg[i] > mx ? lg[i] : mx;
        for (int i = 0; i < V; i++)
            sum += expf(lg[i] - mx);
        *loss_sum += logf(sum) + mx - lg[targets[r]];
        for (int i = 0; i < V; i++)
            gr[i] = f2b(scale * (expf(lg[i] - mx) / sum - (i == targets[r] ? 1.0f : 0.0f)));
    }
    return 0;
}

int tkd_k_f32_to_bf16(tkd_bf16 *y, const float *x, size_t n, tkd_stream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++)
        y[i] = f2b(x[i]);
    return 0;
}

size_t tkd_k_sumsq_scratch(size_t n) {
    (void)n;
    return sizeof(double);
}

int tkd_k_sumsq(float *out, const float *g, size_t n, void *scratch, size_t scratch_bytes, tkd_stream_t s) {
    (void)s;
    (void)scratch;
    (void)scratch_bytes;
    double ss = 0;
    for (size_t i = 0; i < n; i++)
        ss += (double)g[i] * g[i];
    *out = (float)ss;
    return 0;
}

int tkd_k_clip(float *g, size_t n, const float *sumsq, float max_norm, tkd_stream_t s) {
    (void)s;
    if (max_norm <= 0)
        return 0;
    double coef = max_norm / (sqrt((double)*sumsq) + 1e-6);
    if (coef < 1.0)
        for (size_t i = 0; i < n; i++)
            g[i] = (float)(g[i] * coef);
    return 0;
}

int tkd_k_adamw(float *p, tkd_bf16 *pbf, const float *g, float *m, float *v, size_t n, double lr, double beta1,
                double beta2, double eps, double wd, long t, tkd_stream_t s) {
    (void)s;
    double bc1 = 1.0 - pow(beta1, (double)t), bc2 = 1.0 - pow(beta2, (double)t);
    float b1 = (float)beta1, b2 = (float)beta2, decay = (float)(1.0 - lr * wd);
    float step = (float)(lr / bc1), rbc2 = (float)(1.0 / sqrt(bc2)), ep = (float)eps;
    for (size_t i = 0; i < n; i++) {
        float mm = m[i] = b1 * m[i] + (1.0f - b1) * g[i];
        float vv = v[i] = b2 * v[i] + (1.0f - b2) * g[i] * g[i];
        p[i] *= decay;
        p[i] -= step * mm / (sqrtf(vv) * rbc2 + ep);
        if (pbf)
            pbf[i] = f2b(p[i]);
    }
    return 0;
}
}

/* ---- random fills (model_random.cu's hash) ---- */

static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static float fill_value(size_t i, uint64_t seed, int mode, float a) {
    if (!mode)
        return a;
    uint64_t h = mix64(seed + (i + 1) * 0x9e3779b97f4a7c15ULL);
    float u1 = ((float)(h >> 40) + 0.5f) * 0x1.0p-24f, u2 = ((float)(h & 0xffffff) + 0.5f) * 0x1.0p-24f;
    return mode == 1 ? a * sqrtf(-2.0f * logf(u1)) * cosf(2.0f * (float)M_PI * u2) : a * (2.0f * u1 - 1.0f);
}

int cm_fill_f32(float *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++)
        p[i] = fill_value(i, seed, mode, a);
    return 0;
}

int cm_fill_bf16(tkd_bf16 *p, size_t n, uint64_t seed, int mode, float a, cudaStream_t s) {
    (void)s;
    for (size_t i = 0; i < n; i++)
        p[i] = f2b(fill_value(i, seed, mode, a));
    return 0;
}
