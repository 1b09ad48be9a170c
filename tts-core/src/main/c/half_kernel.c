/*
 * fp16 weight x fp32 activation product (nn.HalfMatrix), for a matrix read whole every decode step (T3's speech
 * head: 27 MB in fp32, half of it in fp16):
 *
 *   y[r][n] = sum_k w[n][k] x[r][k] + bias[n]
 *
 * w (out, in) fp16 row-major, converted exactly to fp32; the sum in fp32 over 16 lanes (lane j adds the terms with
 * k = j mod 16, in order of k), each term a rounded product added with a separate rounding (no fused multiply-add: the
 * library is built with -ffp-contract=off), the lanes added in one fixed tree: the same bits on the AVX-512, AVX2 +
 * F16C and SSE2 paths, and for any split of the output rows over threads. Rows are read four at a time from the
 * four quarters of a thread's range (four long sequential streams, as int8_kernel.c does).
 */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <immintrin.h>
#include <omp.h>
#include "tts_kernels.h"

#define BLOCK 64
/* Software prefetch this many weights (1 kB) ahead in each stream: the fp16 head read 13-15.7 GB/s without, about
   20 with, in a C harness on the Intel Xeon VM (int8_kernel.c's note); no arithmetic changes. */
#define PREFETCH_AHEAD 512

static float tree16(const float* l) {
    return (((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7])))
            + (((l[8] + l[9]) + (l[10] + l[11])) + ((l[12] + l[13]) + (l[14] + l[15])));
}

/* the terms past the last whole 16, into their lanes (every path) */
static void tail(const uint16_t* w, const float* x, long from, long in, float* lanes) {
    for (long k = from; k < in; k++) {
        const float p = tts_half_to_float(w[k]) * x[k];
        lanes[k & 15] = lanes[k & 15] + p;
    }
}

/*
 * The path of CPUs without AVX2 + F16C (SSE2, part of every x86-64): the same sixteen lanes in four vectors, two
 * rows at a time (four rows' accumulators would not fit SSE's sixteen registers).
 */
static void dot4_sse2(const uint16_t* const* r, const float* x, long in, float* out) {
    const long vin = in & ~15L;
    const __m128i zero = _mm_setzero_si128();
    for (int j = 0; j < 4; j += 2) {
        const uint16_t* r0 = r[j];
        const uint16_t* r1 = r[j + 1];
        __m128 a0 = _mm_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
        for (long k = 0; k < vin; k += 16) {
            if ((k & 31) == 0) {
                _mm_prefetch((const char*) (r0 + k + PREFETCH_AHEAD), _MM_HINT_T0);
                _mm_prefetch((const char*) (r1 + k + PREFETCH_AHEAD), _MM_HINT_T0);
            }
            const __m128 x0 = _mm_loadu_ps(x + k), x1 = _mm_loadu_ps(x + k + 4), x2 = _mm_loadu_ps(x + k + 8),
                    x3 = _mm_loadu_ps(x + k + 12);
            __m128i h = _mm_loadu_si128((const __m128i*) (r0 + k));
            a0 = _mm_add_ps(a0, _mm_mul_ps(tts_half4_sse2(_mm_unpacklo_epi16(h, zero)), x0));
            a1 = _mm_add_ps(a1, _mm_mul_ps(tts_half4_sse2(_mm_unpackhi_epi16(h, zero)), x1));
            h = _mm_loadu_si128((const __m128i*) (r0 + k + 8));
            a2 = _mm_add_ps(a2, _mm_mul_ps(tts_half4_sse2(_mm_unpacklo_epi16(h, zero)), x2));
            a3 = _mm_add_ps(a3, _mm_mul_ps(tts_half4_sse2(_mm_unpackhi_epi16(h, zero)), x3));
            h = _mm_loadu_si128((const __m128i*) (r1 + k));
            b0 = _mm_add_ps(b0, _mm_mul_ps(tts_half4_sse2(_mm_unpacklo_epi16(h, zero)), x0));
            b1 = _mm_add_ps(b1, _mm_mul_ps(tts_half4_sse2(_mm_unpackhi_epi16(h, zero)), x1));
            h = _mm_loadu_si128((const __m128i*) (r1 + k + 8));
            b2 = _mm_add_ps(b2, _mm_mul_ps(tts_half4_sse2(_mm_unpacklo_epi16(h, zero)), x2));
            b3 = _mm_add_ps(b3, _mm_mul_ps(tts_half4_sse2(_mm_unpackhi_epi16(h, zero)), x3));
        }
        float lanes[16];
        _mm_storeu_ps(lanes, a0);
        _mm_storeu_ps(lanes + 4, a1);
        _mm_storeu_ps(lanes + 8, a2);
        _mm_storeu_ps(lanes + 12, a3);
        tail(r0, x, vin, in, lanes);
        out[j] = tree16(lanes);
        _mm_storeu_ps(lanes, b0);
        _mm_storeu_ps(lanes + 4, b1);
        _mm_storeu_ps(lanes + 8, b2);
        _mm_storeu_ps(lanes + 12, b3);
        tail(r1, x, vin, in, lanes);
        out[j + 1] = tree16(lanes);
    }
}

__attribute__((target("avx2,f16c")))
static void dot4_avx2(const uint16_t* const* r, const float* x, long in, float* out) {
    const long vin = in & ~15L;
    __m256 lo[4], hi[4];
    for (int j = 0; j < 4; j++) lo[j] = hi[j] = _mm256_setzero_ps();
    for (long k = 0; k < vin; k += 16) {
        if ((k & 31) == 0) {
            for (int j = 0; j < 4; j++) _mm_prefetch((const char*) (r[j] + k + PREFETCH_AHEAD), _MM_HINT_T0);
        }
        const __m256 x0 = _mm256_loadu_ps(x + k);
        const __m256 x1 = _mm256_loadu_ps(x + k + 8);
        for (int j = 0; j < 4; j++) {
            const __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*) (r[j] + k)));
            const __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*) (r[j] + k + 8)));
            lo[j] = _mm256_add_ps(lo[j], _mm256_mul_ps(w0, x0));
            hi[j] = _mm256_add_ps(hi[j], _mm256_mul_ps(w1, x1));
        }
    }
    for (int j = 0; j < 4; j++) {
        float lanes[16];
        _mm256_storeu_ps(lanes, lo[j]);
        _mm256_storeu_ps(lanes + 8, hi[j]);
        tail(r[j], x, vin, in, lanes);
        out[j] = tree16(lanes);
    }
}

__attribute__((target("avx512f")))
static void dot4_avx512(const uint16_t* const* r, const float* x, long in, float* out) {
    const long vin = in & ~15L;
    __m512 a[4];
    for (int j = 0; j < 4; j++) a[j] = _mm512_setzero_ps();
    for (long k = 0; k < vin; k += 16) {
        if ((k & 31) == 0) {
            for (int j = 0; j < 4; j++) _mm_prefetch((const char*) (r[j] + k + PREFETCH_AHEAD), _MM_HINT_T0);
        }
        const __m512 xv = _mm512_loadu_ps(x + k);
        for (int j = 0; j < 4; j++) {
            const __m512 w = _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*) (r[j] + k)));
            a[j] = _mm512_add_ps(a[j], _mm512_mul_ps(w, xv));
        }
    }
    for (int j = 0; j < 4; j++) {
        float lanes[16];
        _mm512_storeu_ps(lanes, a[j]);
        tail(r[j], x, vin, in, lanes);
        out[j] = tree16(lanes);
    }
}

static void dot4(int path, const uint16_t* const* r, const float* x, long in, float* out) {
    switch (path) {
        case PATH_AVX512: dot4_avx512(r, x, in, out); break;
        case PATH_AVX2: dot4_avx2(r, x, in, out); break;
        default: dot4_sse2(r, x, in, out); break;
    }
}

/* columns [b, e) of one output row y from one input row x: rows four at a time, one from each quarter */
static void rows(int path, const uint16_t* w, long in, const float* x, const float* bias, float* y, long b, long e) {
    const long quarter = (e - b) / 4;
    float s[4];
    for (long i = 0; i < quarter; i++) {
        const uint16_t* r[4];
        for (int j = 0; j < 4; j++) r[j] = w + (b + i + j * quarter) * in;
        dot4(path, r, x, in, s);
        for (int j = 0; j < 4; j++) {
            const long n = b + i + j * quarter;
            y[n] = bias != NULL ? s[j] + bias[n] : s[j];
        }
    }
    for (long n = b + 4 * quarter; n < e; n++) {
        const uint16_t* r[4] = {w + n * in, w + n * in, w + n * in, w + n * in};
        dot4(path, r, x, in, s);
        y[n] = bias != NULL ? s[0] + bias[n] : s[0];
    }
}

static void product(int path, const uint16_t* w, long in, const float* x, long m, const float* bias, float* y,
        long out, long n0, long n1) {
    const long block = m == 1 ? n1 - n0 : BLOCK;
    for (long b = n0; b < n1; b += block) {
        const long e = b + block < n1 ? b + block : n1;
        for (long r = 0; r < m; r++) {
            rows(path, w, in, x + r * in, bias, y + r * out, b, e);
        }
    }
}

/*
 * y (m, out) = x (m, in) w^T + bias, all contiguous; bias may be 0. path: 3 AVX-512, 1 AVX2 + F16C, 0 SSE2 (capped
 * to what the CPU runs: tts_attention_path's codes and test). Returns 0.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_HalfMatrix_linear(JNIEnv* env, jclass cls, jlong xAddr, jint m,
        jint in, jlong wAddr, jlong biasAddr, jlong yAddr, jint out, jint path, jint threads) {
    (void) env;
    (void) cls;
    const int best = tts_attention_path();
    if (path > best) path = best;
    const float* x = (const float*) (intptr_t) xAddr;
    const uint16_t* w = (const uint16_t*) (intptr_t) wAddr;
    const float* bias = (const float*) (intptr_t) biasAddr;
    float* y = (float*) (intptr_t) yAddr;
    const long quads = ((long) out + 3) / 4;
    if (threads <= 1 || quads < 2) {
        product(path, w, in, x, m, bias, y, out, 0, out);
        return 0;
    }
    const int team = threads < quads ? threads : (int) quads;
#pragma omp parallel num_threads(team)
    {
        long a, z;
        tts_share(0, out, omp_get_thread_num(), omp_get_num_threads(), &a, &z);
        if (a < z) {
            product(path, w, in, x, m, bias, y, out, a, z);
        }
    }
    return 0;
}
