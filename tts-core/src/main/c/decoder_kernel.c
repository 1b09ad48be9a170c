/*
 * One decode step of a pre-LN GPT-2 block for the CPU (nn.DecoderBlockKernel), for m rows at once, each its own
 * token of its own sequence:
 *
 *   h = ln_1(x);  q|k|v = h Wqkv + b;  k, v -> the row's cache at its position;  a = attention(q, cache);
 *   x += a Wo + b;  h = ln_2(x);  x += gelu_tanh(h Wfc + b) Wproj + b
 *
 * with the four int8 matrices multiplied as int8_kernel.c does (each input row quantized on its own, exact int32
 * sums, one epilogue), the attention as attention_kernel.c does, the layer norms in double-precision sums and the
 * GELU by tts_math.c. Everything runs in one OpenMP parallel region on LibTorch's threads, the phases separated by
 * barriers (tts_barrier_wait, which spins for tens of microseconds before it sleeps: see tts_kernels.h): a step of
 * T3 made of LibTorch operations spends about a quarter of its time between its kernels (creating and dispatching
 * some twenty operations per block); this does none of that.
 *
 * Determinism: a row's result depends only on that row (its products, layer norms and attention are its own), and
 * every value is computed by one thread in a fixed order, so neither the number of threads nor the other rows of a
 * batch change a bit of it. The products give the same bits on every instruction set; the attention's AVX-512 and
 * AVX2 paths differ from plain C by rounding, as in attention_kernel.c.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "tts_kernels.h"

/* tts_barrier_wait's spin budget (tts_kernels.h): the longest spin to begin with */
_Atomic unsigned long long tts_barrier_spin = TTS_BARRIER_SPIN_MAX;

/* the block's tensors, in the order of nn.DecoderBlockKernel's address array */
enum {
    LN1_W, LN1_B, QKV_W, QKV_S, QKV_B, ATTN_W, ATTN_S, ATTN_B, LN2_W, LN2_B, FC_W, FC_S, FC_B, PROJ_W, PROJ_S,
    PROJ_B, N_PARAMS
};

/* y = (x - mean) / sqrt(var + eps) * w + b over d values, the moments summed in double in a fixed order */
static void layer_norm(const float* x, const float* w, const float* b, float eps, long d, float* y) {
    double s[4] = {0, 0, 0, 0};
    long k = 0;
    for (; k + 4 <= d; k += 4) {
        for (int i = 0; i < 4; i++) s[i] += x[k + i];
    }
    for (int i = 0; k < d; k++, i++) s[i] += x[k];
    const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / (double) d;
    double v[4] = {0, 0, 0, 0};
    for (k = 0; k + 4 <= d; k += 4) {
        for (int i = 0; i < 4; i++) {
            const double t = x[k + i] - mean;
            v[i] += t * t;
        }
    }
    for (int i = 0; k < d; k++, i++) {
        const double t = x[k] - mean;
        v[i] += t * t;
    }
    const double var = ((v[0] + v[1]) + (v[2] + v[3])) / (double) d;
    const float rstd = (float) (1.0 / sqrt(var + (double) eps));
    const float m = (float) mean;
    for (k = 0; k < d; k++) {
        y[k] = (x[k] - m) * rstd * w[k] + (b != NULL ? b[k] : 0.0f);
    }
}

/* x (m, in) quantized rows -> y (m, n): this thread's columns */
static void product(const int8_t* w, const float* s, const float* b, long in, const int8_t* xq, const float* steps,
        long m, float* y, long n, int t, int nt, int isa) {
    long a, z;
    tts_share(0, n, t, nt, &a, &z);
    if (a < z) {
        tts_int8_product(w, in, xq, steps, m, s, b, y, n, a, z, isa);
    }
}

/* this thread's rows of src (m, width): quantized into xq (m, width) with their steps */
static void quantize_rows(const float* src, long m, long width, float* steps, int8_t* xq, int t, int nt) {
    for (long r = t; r < m; r += nt) {
        steps[r] = tts_quantize_row(src + r * width, width, xq + r * width);
    }
}

/* x[r] += y[r] (d values) */
static void add_row(float* x, const float* y, long d) {
    for (long k = 0; k < d; k++) x[k] += y[k];
}

/*
 * x (m, d) fp32, updated in place. params: N_PARAMS addresses (int8 matrices (out, in) row-major with fp32 row
 * scales; biases may be 0). Row r writes its key and value at position pos[r] of its cache (k[r], v[r]: the layer's
 * contiguous (heads, cap[r], d / heads) tensors, fp16 where half, else fp32) and attends over positions 0..pos[r].
 * An fp16 cache stores the key and value rounded to nearest, saturated at +-65504. Returns 0, -1 when scratch
 * memory could not be had (nothing written), -2 for an ISA this CPU lacks, -3 for a position outside its cache
 * (nothing run).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_step(JNIEnv* env, jclass cls, jlong xAddr,
        jint m, jint d, jint heads, jint inner, jlongArray paramArray, jfloat eps, jfloat scale, jlongArray kArray,
        jlongArray vArray, jintArray capArray, jintArray posArray, jint half, jint isa, jint attPath, jint threads) {
    (void) cls;
    if (isa < 0 || isa > ISA_AVX512_VNNI || !(tts_int8_detect() & (1 << isa))) {
        return -2;
    }
    const int best = tts_attention_path();
    if (attPath > best) attPath = best;
    jlong p[N_PARAMS];
    (*env)->GetLongArrayRegion(env, paramArray, 0, N_PARAMS, p);
    const long hd = d / heads;
    const long wide = 3L * d > inner ? 3L * d : inner;
    int team = threads < 1 ? 1 : threads;
    /* per row: its cache addresses and head stride (meta), position and capacity (pos) */
    jlong* meta = malloc(sizeof(jlong) * 3 * (size_t) m + sizeof(jint) * 2 * (size_t) m);
    if (meta == NULL) {
        return -1;
    }
    jint* pos = (jint*) (meta + 3L * m);
    (*env)->GetIntArrayRegion(env, posArray, 0, m, pos);
    (*env)->GetIntArrayRegion(env, capArray, 0, m, pos + m);
    (*env)->GetLongArrayRegion(env, kArray, 0, m, meta);
    (*env)->GetLongArrayRegion(env, vArray, 0, m, meta + m);
    long maxLen = 1;
    int outside = 0;
    for (int r = 0; r < m; r++) {
        maxLen = pos[r] + 1 > maxLen ? pos[r] + 1 : maxLen;
        outside |= pos[r] < 0 || pos[r] >= pos[m + r];
        meta[2L * m + r] = (jlong) pos[m + r] * hd; /* floats between heads */
    }
    if (outside) {
        free(meta);
        return -3;
    }
    /* the activations, the attention's scores (maxLen per thread), then the quantized inputs */
    const size_t floats = (size_t) m * (size_t) (d + 3L * d + d + d + inner + 1) + (size_t) maxLen * (size_t) team;
    float* buf = malloc(sizeof(float) * floats + (size_t) m * (size_t) wide);
    if (buf == NULL) {
        free(meta);
        return -1;
    }
    float* x = (float*) (intptr_t) xAddr;
    float* h = buf;                        /* (m, d): a layer norm's output */
    float* qkv = h + (long) m * d;         /* (m, 3d) */
    float* att = qkv + 3L * m * d;         /* (m, d): the heads' outputs */
    float* tmp = att + (long) m * d;       /* (m, d): a projection's output */
    float* inn = tmp + (long) m * d;       /* (m, inner) */
    float* steps = inn + (long) m * inner; /* (m) */
    float* scores = steps + m;             /* (team, maxLen) */
    int8_t* xq = (int8_t*) (scores + maxLen * team); /* (m, wide): the quantized input of a product */
    const int8_t* qkvW = (const int8_t*) (intptr_t) p[QKV_W];
    const int8_t* attnW = (const int8_t*) (intptr_t) p[ATTN_W];
    const int8_t* fcW = (const int8_t*) (intptr_t) p[FC_W];
    const int8_t* projW = (const int8_t*) (intptr_t) p[PROJ_W];
#define F(i) ((const float*) (intptr_t) p[i])
    tts_barrier bar = {0, 0, 0};
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        for (long r = t; r < m; r += nt) {
            layer_norm(x + r * d, F(LN1_W), F(LN1_B), eps, d, h + r * d);
            steps[r] = tts_quantize_row(h + r * d, d, xq + r * d);
        }
        tts_barrier_wait(&bar, nt);
        product(qkvW, F(QKV_S), F(QKV_B), d, xq, steps, m, qkv, 3L * d, t, nt, isa);
        tts_barrier_wait(&bar, nt);
        /* one (row, head) at a time: its key and value into the cache, then its attention */
        for (long u = t; u < (long) m * heads; u += nt) {
            const long r = u / heads;
            const long hh = u % heads;
            const float* q = qkv + r * 3 * d + hh * hd;
            const long at = hh * meta[2L * m + r] + (long) pos[r] * hd; /* this head's row pos, in elements */
            char* kc = (char*) (intptr_t) meta[r];
            char* vc = (char*) (intptr_t) meta[m + r];
            if (half) {
                tts_float_to_half(q + d, (uint16_t*) kc + at, hd);
                tts_float_to_half(q + 2L * d, (uint16_t*) vc + at, hd);
            } else {
                memcpy((float*) kc + at, q + d, sizeof(float) * (size_t) hd);
                memcpy((float*) vc + at, q + 2L * d, sizeof(float) * (size_t) hd);
            }
            const size_t size = half ? sizeof(uint16_t) : sizeof(float);
            const long head0 = hh * meta[2L * m + r];
            tts_attention_head(attPath, half, q, kc + head0 * size, vc + head0 * size, hd, pos[r] + 1L, scale,
                    scores + (long) t * maxLen, att + r * d + hh * hd);
        }
        tts_barrier_wait(&bar, nt);
        quantize_rows(att, m, d, steps, xq, t, nt);
        tts_barrier_wait(&bar, nt);
        product(attnW, F(ATTN_S), F(ATTN_B), d, xq, steps, m, tmp, d, t, nt, isa);
        tts_barrier_wait(&bar, nt);
        for (long r = t; r < m; r += nt) {
            add_row(x + r * d, tmp + r * d, d);
            layer_norm(x + r * d, F(LN2_W), F(LN2_B), eps, d, h + r * d);
            steps[r] = tts_quantize_row(h + r * d, d, xq + r * d);
        }
        tts_barrier_wait(&bar, nt);
        {
            long a, z;
            tts_share(0, inner, t, nt, &a, &z);
            if (a < z) {
                tts_int8_product(fcW, d, xq, steps, m, F(FC_S), F(FC_B), inn, inner, a, z, isa);
                for (long r = 0; r < m; r++) tts_gelu_tanh(inn + r * inner + a, z - a);
            }
        }
        tts_barrier_wait(&bar, nt);
        quantize_rows(inn, m, inner, steps, xq, t, nt);
        tts_barrier_wait(&bar, nt);
        product(projW, F(PROJ_S), F(PROJ_B), inner, xq, steps, m, tmp, d, t, nt, isa);
        tts_barrier_wait(&bar, nt);
        for (long r = t; r < m; r += nt) {
            add_row(x + r * d, tmp + r * d, d);
        }
    }
#undef F
    free(buf);
    free(meta);
    return 0;
}
