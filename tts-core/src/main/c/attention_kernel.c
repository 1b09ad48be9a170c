/*
 * One decode step's attention for the CPU (nn.CpuAttention): for each head h, one query q[h] (d) against the first
 * `len` rows of that head's cached keys and values (rows of d floats, heads `stride` floats apart):
 *
 *   s[j] = scale * (q[h] . k[h][j]),  p[j] = exp(s[j] - max s),  out[h] = (sum_j p[j] v[h][j]) / (sum_j p[j])
 *
 * the same sums as softmax(q k^T * scale) v (the exponentials by tts_math.c's exp, in a vector loop). Heads of 64
 * (GPT-2's) have AVX-512, AVX2 + FMA and SSE2 paths (the last for CPUs without AVX2); other sizes that are a multiple
 * of 8 take the AVX2 + FMA one where it runs, the rest plain C. Keys and values are read once each, straight from the
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

#define ELEM float
#define SUFFIX _f32
#define LOAD_1(p) (*(p))
#define LOAD_8(p) _mm256_loadu_ps(p)
#define LOAD_16(p) _mm512_loadu_ps(p)
#define LOAD_16_SSE(p, w) do { (w)[0] = _mm_loadu_ps(p); (w)[1] = _mm_loadu_ps((p) + 4); \
        (w)[2] = _mm_loadu_ps((p) + 8); (w)[3] = _mm_loadu_ps((p) + 12); } while (0)
#include "attention_head.inc"
#undef ELEM
#undef SUFFIX
#undef LOAD_1
#undef LOAD_8
#undef LOAD_16
#undef LOAD_16_SSE

#define ELEM uint16_t
#define SUFFIX _f16
#define LOAD_1(p) tts_half_to_float(*(p))
#define LOAD_8(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i*) (p)))
#define LOAD_16(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i*) (p)))
#define LOAD_16_SSE(p, w) do { const __m128i h0_ = _mm_loadu_si128((const __m128i*) (p)); \
        const __m128i h1_ = _mm_loadu_si128((const __m128i*) ((p) + 8)); const __m128i z_ = _mm_setzero_si128(); \
        (w)[0] = tts_half4_sse2(_mm_unpacklo_epi16(h0_, z_)); (w)[1] = tts_half4_sse2(_mm_unpackhi_epi16(h0_, z_)); \
        (w)[2] = tts_half4_sse2(_mm_unpacklo_epi16(h1_, z_)); (w)[3] = tts_half4_sse2(_mm_unpackhi_epi16(h1_, z_)); \
        } while (0)
#include "attention_head.inc"
#undef ELEM
#undef SUFFIX
#undef LOAD_1
#undef LOAD_8
#undef LOAD_16
#undef LOAD_16_SSE

/* int8 caches (ROW_SCALES): the scores and the weights times their rows' scales */
static float tts_scale_scores(float* s, const float* ks, long len) {
    float m = -INFINITY;
    for (long j = 0; j < len; j++) {
        s[j] *= ks[j];
        m = s[j] > m ? s[j] : m;
    }
    return m;
}

static void tts_scale_weights(float* s, const float* vs, long len) {
    for (long j = 0; j < len; j++) s[j] *= vs[j];
}

#define ELEM int8_t
#define SUFFIX _i8
#define ROW_SCALES
#define LOAD_1(p) ((float) *(p))
#define LOAD_8(p) _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i*) (p))))
#define LOAD_16(p) _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128((const __m128i*) (p))))
/* sixteen int8 to floats with SSE2: each byte doubled into the top of a 32-bit lane, then shifted down with its sign */
#define LOAD_16_SSE(p, w) do { const __m128i b_ = _mm_loadu_si128((const __m128i*) (p)); \
        const __m128i lo_ = _mm_unpacklo_epi8(b_, b_), hi_ = _mm_unpackhi_epi8(b_, b_); \
        (w)[0] = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(lo_, lo_), 24)); \
        (w)[1] = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(lo_, lo_), 24)); \
        (w)[2] = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpacklo_epi16(hi_, hi_), 24)); \
        (w)[3] = _mm_cvtepi32_ps(_mm_srai_epi32(_mm_unpackhi_epi16(hi_, hi_), 24)); } while (0)
#include "attention_head.inc"
#undef ELEM
#undef SUFFIX
#undef ROW_SCALES
#undef LOAD_1
#undef LOAD_8
#undef LOAD_16
#undef LOAD_16_SSE

void tts_quantize_kv_row(const float* x, int8_t* q, float* scale, long n) {
    float amax = 0.0f;
    for (long i = 0; i < n; i++) {
        const float a = fabsf(x[i]);
        amax = a > amax || a != a ? a : amax; /* a NaN stays: the row's scale is NaN, as LibTorch's amax gives */
    }
    const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
    for (long i = 0; i < n; i++) {
        float y = x[i] * inv;
        y = y > 127.0f ? 127.0f : y < -127.0f ? -127.0f : y;
        q[i] = y == y ? (int8_t) nearbyintf(y) : 0; /* NaN: 0, the scale carrying the NaN */
    }
    *scale = amax * (1.0f / 127.0f);
}

/* Read once; a race between first callers writes the same value. */
static int best_path = -1;

int tts_attention_path(void) {
    if (best_path < 0) {
        __builtin_cpu_init();
        best_path = __builtin_cpu_supports("avx512f") ? PATH_AVX512
                : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c")
                ? PATH_AVX2 : PATH_SCALAR;
    }
    return best_path;
}

void tts_attention_head(int path, int kind, const float* q, const void* k, const void* v, const float* ks,
        const float* vs, long d, long len, float scale, float* s, float* out) {
    if (kind == KV_INT8) {
        head_i8(path, q, (const int8_t*) k, (const int8_t*) v, ks, vs, d, len, scale, s, out);
    } else if (kind == KV_FP16) {
        head_f16(path, q, (const uint16_t*) k, (const uint16_t*) v, NULL, NULL, d, len, scale, s, out);
    } else {
        head_f32(path, q, (const float*) k, (const float*) v, NULL, NULL, d, len, scale, s, out);
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
        tts_attention_head(path, KV_FP32, q + (long) h * d, k + (long) h * stride, v + (long) h * stride, NULL, NULL,
                d, len, scale, s, out + (long) h * d);
    }
    free(scratch);
    return 0;
}

JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_CpuAttention_bestPath(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return tts_attention_path();
}

/*
 * A prefill's attention over a cache: query row r (of rows) sits at position from + r and attends, per head, over the
 * cache rows 0..from + r (causal), which hold its own and every earlier row's keys and values already. q: row r's
 * heads * d query values at q + r * ldq; k, v: (heads, capacity, d) of kind `kind` (KV_FP32, KV_FP16, KV_INT8), the
 * head stride (capacity * d) given; an int8 cache's row scales (heads, capacity) floats right after its values;
 * out (rows, heads * d). Each (row, head) is one tts_attention_head call, whatever thread runs it: the same bits for
 * any thread count. Returns 0, or -1 when scratch memory cannot be had (nothing written).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_CpuAttention_prefill(JNIEnv* env, jclass cls, jlong qAddr,
        jlong ldq, jint rows, jint from, jlong kAddr, jlong vAddr, jint heads, jint d, jlong stride, jint kind,
        jfloat scale, jlong outAddr, jint path, jint threads) {
    (void) env;
    (void) cls;
    const int best = tts_attention_path();
    if (path > best) path = best;
    const float* q = (const float*) (intptr_t) qAddr;
    const size_t elem = tts_kv_bytes(kind);
    const char* k = (const char*) (intptr_t) kAddr;
    const char* v = (const char*) (intptr_t) vAddr;
    const long capacity = stride / d;
    const float* ks = kind == KV_INT8 ? (const float*) (k + (size_t) heads * (size_t) stride) : NULL;
    const float* vs = kind == KV_INT8 ? (const float*) (v + (size_t) heads * (size_t) stride) : NULL;
    float* out = (float*) (intptr_t) outAddr;
    const long pairs = (long) rows * heads;
    const long maxLen = (long) from + rows;
    int team = threads < pairs ? threads : (int) pairs;
    if (team < 1) team = 1;
    float* scratch = malloc(sizeof(float) * (size_t) maxLen * (size_t) team);
    if (scratch == NULL) return -1;
    /* head-major: a thread's consecutive pairs share one head's keys and values, which stay in its cache (a cached
       voice's 33-row prefill 1.3-1.6 ms faster, docs/performance.md, "Twelfth round") */
#pragma omp parallel for num_threads(team) schedule(static)
    for (long p = 0; p < pairs; p++) {
        const long r = p % rows;
        const long h = p / rows;
        float* s = scratch + (size_t) omp_get_thread_num() * (size_t) maxLen;
        tts_attention_head(path, kind, q + r * ldq + h * d, k + (size_t) (h * stride) * elem,
                v + (size_t) (h * stride) * elem, ks == NULL ? NULL : ks + h * capacity,
                vs == NULL ? NULL : vs + h * capacity, d, from + r + 1, scale, s, out + r * (long) heads * d + h * d);
    }
    free(scratch);
    return 0;
}
