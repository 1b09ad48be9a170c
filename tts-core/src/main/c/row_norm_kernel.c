/*
 * The flow estimator's CausalBlock1D tail over rows (nn.LayerNorm.forwardMish): for each row x of c channels (fp32 or
 * bf16),
 *
 *   y = (x - mean) * rstd * gamma + beta,  rstd = 1 / sqrt(var + eps),  out = mish(y) [+ add]
 *
 * mean and var (the biased one, as LibTorch's layer_norm) by sums in eight running lanes then a fixed tree, in fp32;
 * mish(y) = y tanh(softplus(y)) = y n / (n + 2) with n = e (e + 2), e = exp(min(y, 20)) (at 20 the ratio is 1 in fp32,
 * so larger y give y; a NaN stays NaN); add (c values, or none) is added after the activation (the resnet's time
 * embedding). bf16 values are widened exactly and the result rounded to nearest even once, at the end, where LibTorch
 * rounds after the norm and again after the mish. Plain IEEE operations only (tts_math.c's exp, no contraction: the
 * library is built with -ffp-contract=off), each loop compiled for AVX-512, AVX2 and plain x86-64, so every CPU gives
 * the same bits; rows are independent, so the thread count changes nothing either.
 */
#pragma GCC optimize("no-trapping-math")
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "tts_kernels.h"

static inline float bf16_to_float(uint16_t h) {
    const uint32_t bits = (uint32_t) h << 16;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline uint16_t float_to_bf16(float f) {
    uint32_t b;
    memcpy(&b, &f, sizeof b);
    if ((b & 0x7fffffffu) > 0x7f800000u) {
        return (uint16_t) ((b >> 16) | 0x40); /* NaN stays a (quiet) NaN */
    }
    return (uint16_t) ((b + 0x7fffu + ((b >> 16) & 1u)) >> 16);
}

/* The sum of v[0..n) in eight lanes, then ((0+1)+(2+3))+((4+5)+(6+7)): one order on every path. */
#define LANE_SUM(EXPR, N, OUT) do { \
        float a_[8] = {0, 0, 0, 0, 0, 0, 0, 0}; \
        long j_ = 0; \
        for (; j_ + 8 <= (N); j_ += 8) { \
            for (int i_ = 0; i_ < 8; i_++) { const long j = j_ + i_; a_[i_] += (EXPR); } \
        } \
        for (int i_ = 0; j_ < (N); j_++, i_++) { const long j = j_; a_[i_] += (EXPR); } \
        (OUT) = ((a_[0] + a_[1]) + (a_[2] + a_[3])) + ((a_[4] + a_[5]) + (a_[6] + a_[7])); \
    } while (0)

#define CLONES(NAME, PARAMS, BODY) \
    __attribute__((target("avx512f"))) static void NAME##_avx512 PARAMS BODY \
    __attribute__((target("avx2"))) static void NAME##_avx2 PARAMS BODY \
    static void NAME##_plain PARAMS BODY

/* One row: x (c floats, widened) -> out (c floats); gamma, beta, add widened too (add may be NULL). */
CLONES(norm_mish_row, (const float* x, long c, const float* gamma, const float* beta, float eps, const float* add,
        float* out), {
    float sum;
    LANE_SUM(x[j], c, sum);
    const float mean = sum / (float) c;
    float sq;
    LANE_SUM((x[j] - mean) * (x[j] - mean), c, sq);
    const float rstd = 1.0f / sqrtf(sq / (float) c + eps);
    for (long j = 0; j < c; j++) {
        const float y = (x[j] - mean) * rstd * gamma[j] + beta[j];
        const float e = tts_exp(y < 20.0f ? y : 20.0f);
        const float n = e * (e + 2.0f);
        out[j] = y * (n / (n + 2.0f));
    }
    if (add != NULL) {
        for (long j = 0; j < c; j++) {
            out[j] = out[j] + add[j];
        }
    }
})

static void norm_mish_row(const float* x, long c, const float* gamma, const float* beta, float eps, const float* add,
        float* out) {
    switch (tts_clone_level()) {
        case 2: norm_mish_row_avx512(x, c, gamma, beta, eps, add, out); break;
        case 1: norm_mish_row_avx2(x, c, gamma, beta, eps, add, out); break;
        default: norm_mish_row_plain(x, c, gamma, beta, eps, add, out); break;
    }
}

static void widen(const void* p, int bf16, long n, float* f) {
    if (bf16) {
        const uint16_t* h = (const uint16_t*) p;
        for (long j = 0; j < n; j++) {
            f[j] = bf16_to_float(h[j]);
        }
    } else {
        memcpy(f, p, (size_t) n * sizeof(float));
    }
}

/*
 * x, out: rows rows of c values (fp32, or bf16 when bf16 != 0), contiguous; gamma, beta: c values of the same type;
 * add: c values of the same type or 0. Returns 0, -1 when scratch memory could not be had, -3 for sizes it does not
 * take (nothing written then).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_NormMishKernel_normMish(JNIEnv* env, jclass cls, jlong xAddr,
        jlong rows, jint c, jlong gammaAddr, jlong betaAddr, jfloat eps, jlong addAddr, jlong outAddr, jint bf16,
        jint threads) {
    (void) env;
    (void) cls;
    if (rows < 0 || c < 1 || !(eps >= 0)) {
        return -3;
    }
    if (rows == 0) {
        return 0;
    }
    const size_t esize = bf16 ? 2 : 4;
    /* gamma, beta, add widened once (3c), then per thread a row in and a row out (2c each) */
    const int team = threads < 1 ? 1 : (threads > rows ? (int) rows : threads);
    float* mem = malloc(((size_t) 3 + 4 * (size_t) team) * (size_t) c * sizeof(float));
    if (mem == NULL) {
        return -1;
    }
    float* gamma = mem;
    float* beta = mem + c;
    float* add = addAddr != 0 ? mem + 2 * (size_t) c : NULL;
    widen((const void*) (intptr_t) gammaAddr, bf16, c, gamma);
    widen((const void*) (intptr_t) betaAddr, bf16, c, beta);
    if (add != NULL) {
        widen((const void*) (intptr_t) addAddr, bf16, c, add);
    }
    const unsigned char* x = (const unsigned char*) (intptr_t) xAddr;
    unsigned char* out = (unsigned char*) (intptr_t) outAddr;
#pragma omp parallel num_threads(team)
    {
        const int th = omp_get_thread_num();
        float* in = mem + (3 + 4 * (size_t) th) * (size_t) c;
        float* res = in + 2 * (size_t) c;
#pragma omp for schedule(static)
        for (long r = 0; r < rows; r++) {
            widen(x + (size_t) r * c * esize, bf16, c, in);
            norm_mish_row(in, c, gamma, beta, eps, add, res);
            if (bf16) {
                uint16_t* o = (uint16_t*) (out + (size_t) r * c * esize);
                for (long j = 0; j < c; j++) {
                    o[j] = float_to_bf16(res[j]);
                }
            } else {
                memcpy(out + (size_t) r * c * esize, res, (size_t) c * sizeof(float));
            }
        }
    }
    free(mem);
    return 0;
}
