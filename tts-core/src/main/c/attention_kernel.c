/*
 * One decode step's attention for the CPU (nn.CpuAttention): for each head h, one query q[h] (d) against the first
 * `len` rows of that head's cached keys and values (rows of d floats, heads `stride` floats apart):
 *
 *   s[j] = scale * (q[h] . k[h][j]),  p[j] = exp(s[j] - max s),  out[h] = (sum_j p[j] v[h][j]) / (sum_j p[j])
 *
 * the same sums as softmax(q k^T * scale) v (the exponentials by tts_math.c's exp, in a vector loop). Heads of 64 (GPT-2's) have an AVX-512 path; other sizes that are a
 * multiple of 8 take the AVX2 + FMA one, the rest plain C. Keys and values are read once each, straight from the
 * cache, so the step is bound by memory: LibTorch's plain batched products (baddbmm, softmax, bmm) read them at
 * about half of that on the Intel Xeon VM, its flash kernel slower still (docs/performance.md). Heads are split over
 * LibTorch's OpenMP threads (each head on one thread, so the result does not depend on the thread count). fp32
 * throughout; the AVX-512 and AVX2 paths add in a different order than plain C, so their results differ by rounding
 * only.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <immintrin.h>
#include <omp.h>
#include "tts_kernels.h"

static void head_scalar(const float* q, const float* k, const float* v, long d, long len, float scale, float* s,
        float* out) {
    float m = -INFINITY;
    for (long j = 0; j < len; j++) {
        const float* kj = k + j * d;
        float a = 0.0f;
        for (long i = 0; i < d; i++) a += q[i] * kj[i];
        s[j] = a * scale;
        m = s[j] > m ? s[j] : m;
    }
    const float sum = tts_exp_shifted_sum(s, len, m);
    for (long i = 0; i < d; i++) out[i] = 0.0f;
    for (long j = 0; j < len; j++) {
        const float* vj = v + j * d;
        for (long i = 0; i < d; i++) out[i] += s[j] * vj[i];
    }
    const float inv = 1.0f / sum;
    for (long i = 0; i < d; i++) out[i] *= inv;
}

/* d a multiple of 8 */
__attribute__((target("avx2,fma")))
static void head_avx2(const float* q, const float* k, const float* v, long d, long len, float scale, float* s,
        float* out) {
    float m = -INFINITY;
    for (long j = 0; j < len; j++) {
        const float* kj = k + j * d;
        __m256 a = _mm256_setzero_ps();
        for (long i = 0; i < d; i += 8) a = _mm256_fmadd_ps(_mm256_loadu_ps(q + i), _mm256_loadu_ps(kj + i), a);
        __m128 h = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
        h = _mm_add_ps(h, _mm_movehl_ps(h, h));
        h = _mm_add_ss(h, _mm_movehdup_ps(h));
        s[j] = _mm_cvtss_f32(h) * scale;
        m = s[j] > m ? s[j] : m;
    }
    const float inv = 1.0f / tts_exp_shifted_sum(s, len, m);
    for (long i = 0; i < d; i += 8) {
        __m256 acc = _mm256_setzero_ps();
        for (long j = 0; j < len; j++) acc = _mm256_fmadd_ps(_mm256_set1_ps(s[j]), _mm256_loadu_ps(v + j * d + i), acc);
        _mm256_storeu_ps(out + i, _mm256_mul_ps(acc, _mm256_set1_ps(inv)));
    }
}

/* q . k for d = 64 */
__attribute__((target("avx512f")))
static inline float dot64(const float* q, const float* k) {
    __m512 a = _mm512_mul_ps(_mm512_loadu_ps(q), _mm512_loadu_ps(k));
    a = _mm512_fmadd_ps(_mm512_loadu_ps(q + 16), _mm512_loadu_ps(k + 16), a);
    a = _mm512_fmadd_ps(_mm512_loadu_ps(q + 32), _mm512_loadu_ps(k + 32), a);
    a = _mm512_fmadd_ps(_mm512_loadu_ps(q + 48), _mm512_loadu_ps(k + 48), a);
    return _mm512_reduce_add_ps(a);
}

/*
 * d = 64 (GPT-2's heads): keys and values read as four long sequential streams, one from each quarter of the cache,
 * which the memory serves faster than one stream (as for Int8Kernel's rows).
 */
__attribute__((target("avx512f")))
static void head_avx512_64(const float* q, const float* k, const float* v, long len, float scale, float* s,
        float* out) {
    const long quarter = len / 4;
    float m = -INFINITY;
    for (long i = 0; i < quarter; i++) {
        for (int j = 0; j < 4; j++) {
            const long t = i + j * quarter;
            s[t] = dot64(q, k + t * 64) * scale;
            m = s[t] > m ? s[t] : m;
        }
    }
    for (long t = 4 * quarter; t < len; t++) {
        s[t] = dot64(q, k + t * 64) * scale;
        m = s[t] > m ? s[t] : m;
    }
    const float inv = 1.0f / tts_exp_shifted_sum(s, len, m);
    __m512 o[4][4];
    for (int j = 0; j < 4; j++) {
        for (int c = 0; c < 4; c++) o[j][c] = _mm512_setzero_ps();
    }
    for (long i = 0; i < quarter; i++) {
        for (int j = 0; j < 4; j++) {
            const long t = i + j * quarter;
            const float* vt = v + t * 64;
            const __m512 p = _mm512_set1_ps(s[t]);
            for (int c = 0; c < 4; c++) o[j][c] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vt + 16 * c), o[j][c]);
        }
    }
    for (long t = 4 * quarter; t < len; t++) {
        const float* vt = v + t * 64;
        const __m512 p = _mm512_set1_ps(s[t]);
        for (int c = 0; c < 4; c++) o[0][c] = _mm512_fmadd_ps(p, _mm512_loadu_ps(vt + 16 * c), o[0][c]);
    }
    const __m512 vi = _mm512_set1_ps(inv);
    for (int c = 0; c < 4; c++) {
        __m512 sum = _mm512_add_ps(_mm512_add_ps(o[0][c], o[1][c]), _mm512_add_ps(o[2][c], o[3][c]));
        _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(sum, vi));
    }
}

/* Read once; a race between first callers writes the same value. */
static int best_path = -1;

int tts_attention_path(void) {
    if (best_path < 0) {
        __builtin_cpu_init();
        best_path = __builtin_cpu_supports("avx512f") ? PATH_AVX512
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? PATH_AVX2 : PATH_SCALAR;
    }
    return best_path;
}

void tts_attention_head(int path, const float* q, const float* k, const float* v, long d, long len, float scale,
        float* s, float* out) {
    if (path >= PATH_AVX512 && d == 64) {
        head_avx512_64(q, k, v, len, scale, s, out);
    } else if (path >= PATH_AVX2 && d % 8 == 0) {
        head_avx2(q, k, v, d, len, scale, s, out);
    } else {
        head_scalar(q, k, v, d, len, scale, s, out);
    }
}

/*
 * q (heads, d) contiguous; k, v: head h's rows at k + h * stride, rows of d contiguous floats; out (heads, d).
 * path: 3 AVX-512, 1 AVX2 + FMA, 0 plain C (capped to what the CPU runs). Returns 0, or -1 when no scratch memory.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_CpuAttention_oneQuery(JNIEnv* env, jclass cls, jlong qAddr,
        jlong kAddr, jlong vAddr, jint heads, jint d, jlong stride, jint len, jfloat scale, jlong outAddr, jint path,
        jint threads) {
    (void) env;
    (void) cls;
    const int best = tts_attention_path();
    if (path > best) path = best;
    const float* q = (const float*) (intptr_t) qAddr;
    const float* k = (const float*) (intptr_t) kAddr;
    const float* v = (const float*) (intptr_t) vAddr;
    float* out = (float*) (intptr_t) outAddr;
    int team = threads < heads ? threads : heads;
    if (team < 1) team = 1;
    float* scratch = malloc(sizeof(float) * (size_t) len * (size_t) team);
    if (scratch == NULL) return -1;
#pragma omp parallel for num_threads(team) schedule(static)
    for (int h = 0; h < heads; h++) {
        float* s = scratch + (size_t) omp_get_thread_num() * (size_t) len;
        tts_attention_head(path, q + (long) h * d, k + (long) h * stride, v + (long) h * stride, d, len, scale, s,
                out + (long) h * d);
    }
    free(scratch);
    return 0;
}

JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_CpuAttention_bestPath(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return tts_attention_path();
}
