/*
 * The int8 weight x fp32 activation product of T3's decode steps (nn.Int8Kernel), for x86-64.
 *
 * y[r][n] = (step_r * scale[n]) * sum_k w[n][k] * xq[r][k] + bias[n], where w is the (out, in) int8 weight (one
 * scale per output row, made by nn.Int8Matrix) and xq[r] = rint(x[r] / step_r) in [-127, 127] with
 * step_r = max|x[r]| / 127: every input row is quantized on its own, so a row's result never depends on the other
 * rows of the call, nor on how the output rows are split over threads.
 *
 * The integer dot products are exact (|sum| <= in * 127 * 127 < 2^31 for in <= 65536), so every instruction set gives
 * the same int32 and, through one shared epilogue compiled without contraction into fused multiply-adds, the same
 * float bits: AVX-512 VNNI (vpdpbusd, 64 bytes per instruction), AVX-VNNI (its 256-bit form), AVX2 (vpmaddubsw +
 * vpmaddwd), SSSE3 (their 128-bit forms: the CPUs without AVX2, such as the Xeons of 2012-2013 and the Celeron and
 * Pentium Silver chips of small home servers) and plain C. The unsigned-by-signed byte products take |x| and w with
 * x's sign, so no pair can saturate pmaddubsw's int16 (2 * 127 * 127 < 32768).
 *
 * A row holding NaN or an infinity gives NaN outputs (the caller's checks see them); a zero row gives the bias.
 * Threads: OpenMP, the same libgomp as LibTorch's (the library is loaded after LibTorch, whose libgomp.so.1 then
 * serves it), so the products run on LibTorch's intra-op threads, already awake between its other operations,
 * rather than on threads of their own that would compete with them for the cores.
 *
 * Written for this project (issue 13): LibTorch's int8 kernels (FBGEMM, oneDNN) read the weights at 7 GB/s per core
 * for one row, compute-bound; this one is bound by memory.
 */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <immintrin.h>
#include <omp.h>
#include "tts_kernels.h"

/* Output rows per block of a several-row product: the block's weights stay in cache while every input row passes. */
#define BLOCK 64

/* ---- quantization of one input row (SSE2, part of every x86-64): the same code and bits for every ISA ---- */

/* Lanes of v that are NaN or infinite. */
static inline __m128 tts_nonfinite(__m128 v) {
    const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    return _mm_or_ps(_mm_cmpunord_ps(v, v), _mm_cmpeq_ps(_mm_and_ps(v, absmask), _mm_set1_ps(__builtin_inff())));
}

/* max |x[k]| over a row, and *nonfinite set when one of them is NaN or infinite (its maximum is then of no use). */
static inline float tts_row_absmax(const float* x, long in, int* nonfinite) {
    __m128 mx = _mm_setzero_ps();
    __m128 bad = _mm_setzero_ps();
    const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    long k = 0;
    for (; k + 4 <= in; k += 4) {
        __m128 v = _mm_loadu_ps(x + k);
        bad = _mm_or_ps(bad, tts_nonfinite(v));
        mx = _mm_max_ps(mx, _mm_and_ps(v, absmask));
    }
    float m4[4];
    _mm_storeu_ps(m4, mx);
    float m = m4[0];
    for (int i = 1; i < 4; i++) m = m4[i] > m ? m4[i] : m;
    int b = _mm_movemask_ps(bad) != 0;
    for (; k < in; k++) {
        float a = x[k] < 0 ? -x[k] : x[k];
        b |= !(a <= 3.4028234663852886e38f);
        m = a > m ? a : m;
    }
    *nonfinite = b;
    return m;
}

float tts_quantize_row(const float* x, long in, int8_t* xq) {
    int nonfinite;
    const float m = tts_row_absmax(x, in, &nonfinite);
    if (nonfinite) {
        return __builtin_nanf("");
    }
    if (m == 0.0f) {
        memset(xq, 0, (size_t) in);
        return 0.0f;
    }
    const float inv = 127.0f / m;
    const __m128 vinv = _mm_set1_ps(inv);
    long k = 0;
    for (; k + 16 <= in; k += 16) {
        /* cvtps2dq rounds to nearest even, as rintf; |x * inv| < 127.5, so the packs never saturate */
        __m128i a = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + k), vinv));
        __m128i b = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + k + 4), vinv));
        __m128i c = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + k + 8), vinv));
        __m128i d = _mm_cvtps_epi32(_mm_mul_ps(_mm_loadu_ps(x + k + 12), vinv));
        _mm_storeu_si128((__m128i*) (xq + k), _mm_packs_epi16(_mm_packs_epi32(a, b), _mm_packs_epi32(c, d)));
    }
    for (; k < in; k++) {
        xq[k] = (int8_t) _mm_cvtss_si32(_mm_set_ss(x[k] * inv));
    }
    return m / 127.0f;
}

/* ---- exact int32 dot products of four weight rows with one quantized row ---- */

/*
 * Software prefetch of each stream's bytes this far ahead (past a row's end: the start of the stream's next row, which
 * is what it reads next). The hardware prefetchers alone kept the 96 products of a decode step at 17.5-18.1 GB/s on
 * the Intel Xeon VM; 1-4 kB ahead gave 19.8-20.2 GB/s (a C harness, the distances by turns, 40 rounds). A prefetch
 * changes no arithmetic and never faults, so results and their bits are unchanged.
 */
#define PREFETCH_AHEAD 1024

/* The four rows are far apart (quarters of the caller's range): four long sequential streams, which the memory
   system serves at about 1.5x the rate of four adjacent rows read side by side (measured for 1024-byte rows). */

static int32_t dot1(const int8_t* r, const int8_t* xq, long from, long in) {
    int32_t s = 0;
    for (long k = from; k < in; k++) s += r[k] * xq[k];
    return s;
}

static void dot4_scalar(const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3, const int8_t* xq,
        long in, int32_t* s) {
    s[0] = dot1(r0, xq, 0, in);
    s[1] = dot1(r1, xq, 0, in);
    s[2] = dot1(r2, xq, 0, in);
    s[3] = dot1(r3, xq, 0, in);
}

static inline int32_t hsum128(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0x4e));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, 0xb1));
    return _mm_cvtsi128_si32(v);
}

/*
 * The 16-byte path (SSSE3: pmaddubsw + pmaddwd, 128-bit; Intel's x86-64 CPUs have it since 2006, AMD's since 2011),
 * for CPUs without AVX2. In plain C (which gcc vectorizes with SSE2's widening multiplies) the products were over half
 * of a decode step there; this path reads the weights about as fast as the AVX2 one (docs/performance.md,
 * "Thirty-ninth round").
 */
__attribute__((target("ssse3")))
static void dot4_ssse3(const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3, const int8_t* xq,
        long in, int32_t* s) {
    const long vin = in & ~15L;
    const long v64 = in & ~63L;
    const __m128i ones = _mm_set1_epi16(1);
    __m128i a0 = _mm_setzero_si128(), a1 = a0, a2 = a0, a3 = a0;
/* the 16 bytes at K of the four rows: |x| times each row's bytes with x's sign, into the row's int32 lanes */
#define TTS_STEP16(A, R, K) A = _mm_add_epi32(A, _mm_madd_epi16(_mm_maddubs_epi16(ax, \
            _mm_sign_epi8(_mm_loadu_si128((const __m128i*) ((R) + (K))), xv)), ones))
#define TTS_CHUNK16(K) do { \
            const __m128i xv = _mm_loadu_si128((const __m128i*) (xq + (K))); \
            const __m128i ax = _mm_sign_epi8(xv, xv); \
            TTS_STEP16(a0, r0, K); TTS_STEP16(a1, r1, K); TTS_STEP16(a2, r2, K); TTS_STEP16(a3, r3, K); \
        } while (0)
    long k = 0;
    /* a cache line of each row per round: one prefetch per line, no test per 16 bytes */
    for (; k < v64; k += 64) {
        _mm_prefetch((const char*) (r0 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r1 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r2 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r3 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        for (long c = k; c < k + 64; c += 16) {
            TTS_CHUNK16(c);
        }
    }
    for (; k < vin; k += 16) {
        TTS_CHUNK16(k);
    }
#undef TTS_CHUNK16
#undef TTS_STEP16
    s[0] = hsum128(a0) + dot1(r0, xq, vin, in);
    s[1] = hsum128(a1) + dot1(r1, xq, vin, in);
    s[2] = hsum128(a2) + dot1(r2, xq, vin, in);
    s[3] = hsum128(a3) + dot1(r3, xq, vin, in);
}

__attribute__((target("avx2")))
static int32_t hsum256(__m256i v) {
    __m128i h = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0x4e));
    h = _mm_add_epi32(h, _mm_shuffle_epi32(h, 0xb1));
    return _mm_cvtsi128_si32(h);
}

/* What the two 32-byte paths add per 32 bytes: |x| times w with x's sign, into int32 lanes. */
__attribute__((target("avx2")))
static inline __m256i acc_avx2(__m256i a, __m256i ax, __m256i w) {
    return _mm256_add_epi32(a, _mm256_madd_epi16(_mm256_maddubs_epi16(ax, w), _mm256_set1_epi16(1)));
}

__attribute__((target("avx2,avxvnni")))
static inline __m256i acc_avx_vnni(__m256i a, __m256i ax, __m256i w) {
    return _mm256_dpbusd_avx_epi32(a, ax, w);
}

/* The 32-byte paths (AVX2, AVX-VNNI): one body, each compiled for its own instruction set with its own ACC. */
#define DOT4_256(NAME, TARGET, ACC) \
    __attribute__((target(TARGET))) \
    static void NAME(const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3, const int8_t* xq, \
            long in, int32_t* s) { \
        const long vin = in & ~31L; \
        const int8_t* r[4] = {r0, r1, r2, r3}; \
        __m256i a[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(), \
            _mm256_setzero_si256()}; \
        for (long k = 0; k < vin; k += 32) { \
            if ((k & 63) == 0) { \
                for (int j = 0; j < 4; j++) _mm_prefetch((const char*) (r[j] + k + PREFETCH_AHEAD), _MM_HINT_T0); \
            } \
            __m256i xv = _mm256_loadu_si256((const __m256i*) (xq + k)); \
            __m256i ax = _mm256_sign_epi8(xv, xv); \
            for (int j = 0; j < 4; j++) { \
                a[j] = ACC(a[j], ax, _mm256_sign_epi8(_mm256_loadu_si256((const __m256i*) (r[j] + k)), xv)); \
            } \
        } \
        for (int j = 0; j < 4; j++) { \
            s[j] = hsum256(a[j]) + dot1(r[j], xq, vin, in); \
        } \
    }

DOT4_256(dot4_avx2, "avx2", acc_avx2)
DOT4_256(dot4_avx_vnni, "avx2,avxvnni", acc_avx_vnni)

__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void dot4_avx512_vnni(const int8_t* r0, const int8_t* r1, const int8_t* r2, const int8_t* r3,
        const int8_t* xq, long in, int32_t* s) {
    const long vin = in & ~63L;
    const __m512i zero = _mm512_setzero_si512();
    __m512i a0 = zero, a1 = zero, a2 = zero, a3 = zero;
    for (long k = 0; k < vin; k += 64) {
        _mm_prefetch((const char*) (r0 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r1 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r2 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        _mm_prefetch((const char*) (r3 + k + PREFETCH_AHEAD), _MM_HINT_T0);
        __m512i xv = _mm512_loadu_si512(xq + k);
        __m512i ax = _mm512_abs_epi8(xv);
        __mmask64 neg = _mm512_movepi8_mask(xv);
#define STEP(A, R) { __m512i wv = _mm512_loadu_si512((R) + k); \
            A = _mm512_dpbusd_epi32(A, ax, _mm512_mask_sub_epi8(wv, neg, zero, wv)); }
        STEP(a0, r0); STEP(a1, r1); STEP(a2, r2); STEP(a3, r3);
#undef STEP
    }
    s[0] = _mm512_reduce_add_epi32(a0) + dot1(r0, xq, vin, in);
    s[1] = _mm512_reduce_add_epi32(a1) + dot1(r1, xq, vin, in);
    s[2] = _mm512_reduce_add_epi32(a2) + dot1(r2, xq, vin, in);
    s[3] = _mm512_reduce_add_epi32(a3) + dot1(r3, xq, vin, in);
}

/*
 * Four weight rows with four quantized input rows at once (several-row products: a prefill, a batch of decode steps),
 * AVX-512 VNNI: each weight vector is loaded once for the four inputs and used as vpdpbusd's signed operand, the inputs
 * offset to unsigned (xq + 128, by flipping the sign bit as they are loaded) as the other; sum (xq + 128) w - 128 sum w
 * is the same exact int32 as sum xq w, so the results are the single-row path's bits. The weight rows' sums (sw, over
 * the first vin bytes) come from row_sums, once per block of weight rows rather than once per four inputs, and the
 * sixteen accumulators are named variables: with the sums inside and the accumulators an array, gcc 12 copied and
 * spilled registers in the loop (32 rows through a GPT-2 medium's 24 layers of products: 51-57 ms against 26-27 now on
 * a Zen 5 EPYC, docs/performance.md). |sum (xq + 128) w| <= in * 255 * 127 < 2^31 for in <= 65536. s[i][j] =
 * dot(weight row i, input row j).
 */
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void dot4x4_avx512_vnni(const int8_t* const* r, const int8_t* const* x, long in, const int32_t* sw,
        int32_t s[4][4]) {
    const long vin = in & ~63L;
    const __m512i flip = _mm512_set1_epi8((char) 0x80);
    /* sixteen named accumulators: as an array, gcc 12 copied each to a fresh register and back at every step */
    __m512i a00 = _mm512_setzero_si512(), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00,
            a13 = a00, a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
    for (long k = 0; k < vin; k += 64) {
        const __m512i x0 = _mm512_xor_si512(_mm512_loadu_si512(x[0] + k), flip);
        const __m512i x1 = _mm512_xor_si512(_mm512_loadu_si512(x[1] + k), flip);
        const __m512i x2 = _mm512_xor_si512(_mm512_loadu_si512(x[2] + k), flip);
        const __m512i x3 = _mm512_xor_si512(_mm512_loadu_si512(x[3] + k), flip);
#define TTS_ROW4(I)                                                                                             \
        do {                                                                                                    \
            _mm_prefetch((const char*) (r[I] + k + PREFETCH_AHEAD), _MM_HINT_T0);                             \
            const __m512i w = _mm512_loadu_si512(r[I] + k);                                                     \
            a##I##0 = _mm512_dpbusd_epi32(a##I##0, x0, w);                                                      \
            a##I##1 = _mm512_dpbusd_epi32(a##I##1, x1, w);                                                      \
            a##I##2 = _mm512_dpbusd_epi32(a##I##2, x2, w);                                                      \
            a##I##3 = _mm512_dpbusd_epi32(a##I##3, x3, w);                                                      \
        } while (0)
        TTS_ROW4(0);
        TTS_ROW4(1);
        TTS_ROW4(2);
        TTS_ROW4(3);
#undef TTS_ROW4
    }
    const __m512i acc[4][4] = {{a00, a01, a02, a03}, {a10, a11, a12, a13}, {a20, a21, a22, a23},
            {a30, a31, a32, a33}};
    /* the sixteen horizontal sums at once (a transposing tree of adds; int32 adds in any order give the same
       integers): lane 4i + j of t = the sum of acc[i][j] */
    __m512i h8[8];
    for (int p = 0; p < 8; p++) {
        const __m512i a = acc[(2 * p) / 4][(2 * p) % 4];
        const __m512i b = acc[(2 * p + 1) / 4][(2 * p + 1) % 4];
        h8[p] = _mm512_add_epi32(_mm512_unpacklo_epi32(a, b), _mm512_unpackhi_epi32(a, b));
    }
    __m512i h4[4];
    for (int p = 0; p < 4; p++) {
        h4[p] = _mm512_add_epi32(_mm512_unpacklo_epi64(h8[2 * p], h8[2 * p + 1]),
                _mm512_unpackhi_epi64(h8[2 * p], h8[2 * p + 1]));
    }
    __m512i h2[2];
    for (int p = 0; p < 2; p++) {
        h2[p] = _mm512_add_epi32(_mm512_shuffle_i32x4(h4[2 * p], h4[2 * p + 1], 0x88),
                _mm512_shuffle_i32x4(h4[2 * p], h4[2 * p + 1], 0xdd));
    }
    const __m512i t = _mm512_add_epi32(_mm512_shuffle_i32x4(h2[0], h2[1], 0x88),
            _mm512_shuffle_i32x4(h2[0], h2[1], 0xdd));
    int32_t sums[16];
    _mm512_storeu_si512(sums, t);
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 4; j++) {
            s[i][j] = (int32_t) ((uint32_t) sums[4 * i + j] - 128u * (uint32_t) sw[i])
                    + (vin < in ? dot1(r[i], x[j], vin, in) : 0);
        }
    }
}

/* sw[n - b] = the sum of weight row n's first vin bytes (vin a multiple of 64), for n in [b, e) (AVX-512 VNNI). */
__attribute__((target("avx512f,avx512bw,avx512vnni")))
static void row_sums(const int8_t* w, long in, long b, long e, int32_t* sw) {
    const long vin = in & ~63L;
    const __m512i ones = _mm512_set1_epi8(1);
    for (long n = b; n < e; n++) {
        const int8_t* r = w + n * in;
        __m512i a0 = _mm512_setzero_si512(), a1 = a0;
        long k = 0;
        for (; k + 128 <= vin; k += 128) {
            a0 = _mm512_dpbusd_epi32(a0, ones, _mm512_loadu_si512(r + k));
            a1 = _mm512_dpbusd_epi32(a1, ones, _mm512_loadu_si512(r + k + 64));
        }
        for (; k < vin; k += 64) {
            a0 = _mm512_dpbusd_epi32(a0, ones, _mm512_loadu_si512(r + k));
        }
        sw[n - b] = _mm512_reduce_add_epi32(_mm512_add_epi32(a0, a1));
    }
}

/*
 * The paths this CPU runs, one bit per ISA code: not a ladder (a Zen 4 has AVX-512 VNNI but not AVX-VNNI). Read
 * once; a race between first callers writes the same value.
 */
static int detected = 0;

int tts_int8_detect(void) {
    if (detected != 0) {
        return detected;
    }
    __builtin_cpu_init();
    int mask = 1 << ISA_SCALAR;
    if (__builtin_cpu_supports("ssse3")) {
        mask |= 1 << ISA_SSSE3;
    }
    if (__builtin_cpu_supports("avx2")) {
        mask |= 1 << ISA_AVX2;
        if (__builtin_cpu_supports("avxvnni")) {
            mask |= 1 << ISA_AVX_VNNI;
        }
    }
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vnni")) {
        mask |= 1 << ISA_AVX512_VNNI;
    }
    detected = mask;
    return mask;
}

JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Int8Kernel_detect(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return tts_int8_detect();
}

/* one output value: the shared epilogue, compiled without contraction (the same bits on every path) */
static inline void emit(float* yr, long n, int32_t d, float step, const float* scale, const float* bias) {
    float v = (float) d * (step * scale[n]);
    yr[n] = bias != NULL ? v + bias[n] : v;
}

/* columns [b, e) of one output row yr from one quantized input row: rows four at a time, one from each quarter */
static void rows(int isa, const int8_t* w, long in, const int8_t* q, float step, const float* scale,
        const float* bias, float* yr, long b, long e) {
    const long quarter = (e - b) / 4;
    int32_t s[4];
    for (long i = 0; i < quarter; i++) {
        const long n = b + i;
        const int8_t* r0 = w + n * in;
        const int8_t* r1 = r0 + quarter * in;
        const int8_t* r2 = r1 + quarter * in;
        const int8_t* r3 = r2 + quarter * in;
        switch (isa) {
            case ISA_AVX512_VNNI: dot4_avx512_vnni(r0, r1, r2, r3, q, in, s); break;
            case ISA_AVX_VNNI: dot4_avx_vnni(r0, r1, r2, r3, q, in, s); break;
            case ISA_AVX2: dot4_avx2(r0, r1, r2, r3, q, in, s); break;
            case ISA_SSSE3: dot4_ssse3(r0, r1, r2, r3, q, in, s); break;
            default: dot4_scalar(r0, r1, r2, r3, q, in, s); break;
        }
        for (int j = 0; j < 4; j++) {
            emit(yr, n + j * quarter, s[j], step, scale, bias);
        }
    }
    for (long n = b + 4 * quarter; n < e; n++) {
        emit(yr, n, dot1(w + n * in, q, 0, in), step, scale, bias);
    }
}

/* columns [b, e) of input rows r0..r0+3 (AVX-512 VNNI): four weight rows (one from each quarter) by four inputs;
   sw: the weight rows' sums from b on */
static void rows4(const int8_t* w, long in, const int8_t* xq, const int32_t* sw, const float* steps, long r0,
        const float* scale, const float* bias, float* y, long out, long b, long e) {
    const long quarter = (e - b) / 4;
    const int8_t* x[4] = {xq + r0 * in, xq + (r0 + 1) * in, xq + (r0 + 2) * in, xq + (r0 + 3) * in};
    int32_t s[4][4];
    for (long i = 0; i < quarter; i++) {
        const long n = b + i;
        const int8_t* r[4] = {w + n * in, w + (n + quarter) * in, w + (n + 2 * quarter) * in,
                w + (n + 3 * quarter) * in};
        const int32_t sums[4] = {sw[i], sw[i + quarter], sw[i + 2 * quarter], sw[i + 3 * quarter]};
        dot4x4_avx512_vnni(r, x, in, sums, s);
        for (int a = 0; a < 4; a++) {
            for (int j = 0; j < 4; j++) {
                emit(y + (r0 + j) * out, n + a * quarter, s[a][j], steps[r0 + j], scale, bias);
            }
        }
    }
    for (long n = b + 4 * quarter; n < e; n++) {
        for (int j = 0; j < 4; j++) {
            emit(y + (r0 + j) * out, n, dot1(w + n * in, x[j], 0, in), steps[r0 + j], scale, bias);
        }
    }
}

/*
 * columns [n0, n1) of y for every quantized row. One input row: the whole range at once (its quarters are the
 * streams). Several: blocks of BLOCK output rows, each passed by every input row while its weights are in cache,
 * four input rows at a time where AVX-512 VNNI runs (the same integers, so the same bits).
 */
void tts_int8_product(const int8_t* w, long in, const int8_t* xq, const float* steps, long m,
        const float* scale, const float* bias, float* y, long out, long n0, long n1, int isa) {
    const long block = m == 1 ? n1 - n0 : BLOCK;
    const long fours = isa == ISA_AVX512_VNNI && in <= 65536 ? m / 4 * 4 : 0;
    int32_t sw[BLOCK];
    for (long b = n0; b < n1; b += block) {
        const long e = b + block < n1 ? b + block : n1;
        if (fours > 0) {
            row_sums(w, in, b, e, sw);
        }
        for (long r = 0; r < fours; r += 4) {
            rows4(w, in, xq, sw, steps, r, scale, bias, y, out, b, e);
        }
        for (long r = fours; r < m; r++) {
            rows(isa, w, in, xq + r * in, steps[r], scale, bias, y + r * out, b, e);
        }
    }
}

/*
 * y (m, out), row-major, columns [n0, n1) of each row written; x (m, in); w (out, in) int8; scale (out); bias (out)
 * or 0; on up to `threads` OpenMP threads, each its own groups of four output rows. Returns 0, or -1 when scratch
 * memory could not be had (nothing written), -2 for an ISA this CPU lacks (nothing run).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Int8Kernel_linear(JNIEnv* env, jclass cls, jlong xAddr, jint m,
        jint in, jlong wAddr, jlong scaleAddr, jlong biasAddr, jlong yAddr, jint out, jint n0, jint n1, jint isa,
        jint threads) {
    (void) env;
    (void) cls;
    if (isa < 0 || isa > ISA_AVX512_VNNI || !(tts_int8_detect() & (1 << isa))) {
        return -2;
    }
    const float* x = (const float*) (intptr_t) xAddr;
    const int8_t* w = (const int8_t*) (intptr_t) wAddr;
    const float* scale = (const float*) (intptr_t) scaleAddr;
    const float* bias = (const float*) (intptr_t) biasAddr;
    float* y = (float*) (intptr_t) yAddr;
    size_t need = (size_t) m * (size_t) in + (size_t) m * sizeof(float) + 64;
    _Alignas(64) unsigned char stack[32768];
    unsigned char* scratch = need <= sizeof(stack) ? stack : malloc(need);
    if (scratch == NULL) {
        return -1;
    }
    float* steps = (float*) scratch;
    int8_t* xq = (int8_t*) (scratch + ((size_t) m * sizeof(float) + 63) / 64 * 64);
    for (long r = 0; r < m; r++) {
        steps[r] = tts_quantize_row(x + r * (long) in, in, xq + r * (long) in);
    }
    const long quads = (n1 - n0 + 3) / 4;
    if (threads <= 1 || quads < 2) {
        tts_int8_product(w, in, xq, steps, m, scale, bias, y, out, n0, n1, isa);
    } else {
        const int team = threads < quads ? threads : (int) quads;
#pragma omp parallel num_threads(team)
        {
            long a, z;
            tts_share(n0, n1, omp_get_thread_num(), omp_get_num_threads(), &a, &z);
            if (a < z) {
                tts_int8_product(w, in, xq, steps, m, scale, bias, y, out, a, z, isa);
            }
        }
    }
    if (scratch != stack) {
        free(scratch);
    }
    return 0;
}

/* ---- weight quantization (nn.Int8Matrix): LibTorch's operations, bit for bit, in one pass per matrix ---- */

/* The row's scale as Int8Matrix makes it: max|w| / 127 in float, 1 for a zero row. */
static inline float tts_weight_scale(float m) {
    float s = m / 127.0f;
    return s == 0.0f ? 1.0f : s;
}

/* rint(v) within [-127, 127] (cvtss2si rounds to nearest even, as LibTorch's round; the caller's v is finite). */
static inline int8_t tts_weight_code(float v) {
    int r = _mm_cvtss_si32(_mm_set_ss(v));
    return (int8_t) (r < -127 ? -127 : r > 127 ? 127 : r);
}

/* int16 lanes held within [-127, 127]. */
static inline __m128i tts_clamp127_epi16(__m128i h) {
    return _mm_min_epi16(_mm_max_epi16(h, _mm_set1_epi16(-127)), _mm_set1_epi16(127));
}

/* Four codes rint(v / s) within [-127, 127], as int32 lanes. */
static inline __m128i tts_weight_codes4(__m128 v, __m128 s) {
    __m128i r = _mm_cvtps_epi32(_mm_div_ps(v, s));
    /* SSE2 has no 32-bit min/max: through int16 (|r| <= 128 here, so the saturating pack changes nothing) */
    __m128i h = _mm_packs_epi32(r, r);
    h = tts_clamp127_epi16(h);
    return _mm_srai_epi32(_mm_unpacklo_epi16(h, h), 16);
}

/* Rows [n0, n1) of a matrix whose rows are contiguous (element (n, k) at w[n * sn + k]). Returns 1 if any is not
 * finite. */
static int tts_quantize_rows(const float* w, long sn, long in, long n0, long n1, int8_t* q, float* scale) {
    for (long n = n0; n < n1; n++) {
        const float* x = w + n * sn;
        int nonfinite;
        const float s = tts_weight_scale(tts_row_absmax(x, in, &nonfinite));
        if (nonfinite) {
            return 1;
        }
        scale[n] = s;
        const __m128 vs = _mm_set1_ps(s);
        int8_t* qr = q + n * in;
        long k;
        for (k = 0; k + 16 <= in; k += 16) {
            __m128i a = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(x + k), vs));
            __m128i b = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(x + k + 4), vs));
            __m128i c = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(x + k + 8), vs));
            __m128i d = _mm_cvtps_epi32(_mm_div_ps(_mm_loadu_ps(x + k + 12), vs));
            __m128i lo = tts_clamp127_epi16(_mm_packs_epi32(a, b));
            __m128i hi = tts_clamp127_epi16(_mm_packs_epi32(c, d));
            _mm_storeu_si128((__m128i*) (qr + k), _mm_packs_epi16(lo, hi));
        }
        for (; k < in; k++) {
            qr[k] = tts_weight_code(x[k] / s);
        }
    }
    return 0;
}

/* Rows [n0, n1) of a matrix whose columns are contiguous (element (n, k) at w[n + k * sk]: a checkpoint's transposed
 * (in, out) matrix). First the maxima, kept in scale[n0, n1) and turned into scales, over the stored rows in order;
 * then the codes 64 stored rows at a time: for each four columns the 64 values of each, written as 64 consecutive
 * bytes of four rows of q. Both passes read w in order, a few pages at a time (a tile of 64 x 64 took 3x as long, a
 * page walk per value read). Returns 1 if any element is not finite. */
static int tts_quantize_columns(const float* w, long sk, long in, long n0, long n1, int8_t* q, float* scale) {
    const __m128 absmask = _mm_castsi128_ps(_mm_set1_epi32(0x7fffffff));
    __m128 bad = _mm_setzero_ps();
    int nonfinite = 0;
    const long n4 = n0 + (n1 - n0) / 4 * 4;
    for (long n = n0; n < n1; n++) {
        scale[n] = 0.0f;
    }
    for (long k = 0; k < in; k++) {
        const float* x = w + k * sk;
        for (long n = n0; n < n4; n += 4) {
            __m128 v = _mm_loadu_ps(x + n);
            bad = _mm_or_ps(bad, tts_nonfinite(v));
            _mm_storeu_ps(scale + n, _mm_max_ps(_mm_loadu_ps(scale + n), _mm_and_ps(v, absmask)));
        }
        for (long n = n4; n < n1; n++) {
            float a = x[n] < 0 ? -x[n] : x[n];
            nonfinite |= !(a <= 3.4028234663852886e38f);
            scale[n] = a > scale[n] ? a : scale[n];
        }
    }
    if (nonfinite || _mm_movemask_ps(bad) != 0) {
        return 1;
    }
    for (long n = n0; n < n1; n++) {
        scale[n] = tts_weight_scale(scale[n]);
    }
    enum { BLOCK_K = 64 };
    for (long kb = 0; kb < in; kb += BLOCK_K) {
        const long ke = kb + BLOCK_K < in ? kb + BLOCK_K : in;
        for (long n = n0; n < n4; n += 4) {
            const __m128 s4 = _mm_loadu_ps(scale + n);
            int8_t* q0 = q + n * in;
            for (long k = kb; k < ke; k++) {
                int32_t c[4];
                _mm_storeu_si128((__m128i*) c, tts_weight_codes4(_mm_loadu_ps(w + k * sk + n), s4));
                q0[k] = (int8_t) c[0];
                q0[in + k] = (int8_t) c[1];
                q0[2 * in + k] = (int8_t) c[2];
                q0[3 * in + k] = (int8_t) c[3];
            }
        }
        for (long n = n4; n < n1; n++) {
            for (long k = kb; k < ke; k++) {
                q[n * in + k] = tts_weight_code(w[k * sk + n] / scale[n]);
            }
        }
    }
    return 0;
}

/*
 * q (out, in) int8 row-major and scale (out) from the fp32 matrix w (out, in) whose element (n, k) is at
 * w[n * sn + k * sk], with its rows (sk == 1) or its columns (sn == 1) contiguous: per row, scale = max|w| / 127 in
 * float (1 for a zero row) and q = w / scale (a true division, as LibTorch's) rounded to nearest even within
 * [-127, 127]. These are Int8Matrix's LibTorch operations bit for bit, in one pass over the matrix instead of six and
 * with no temporaries. On up to `threads` OpenMP threads, each its own rows. Returns 0; 1 when an element is NaN or
 * infinite (what was written is then of no use: the caller quantizes such a matrix LibTorch's way); -1 for another
 * layout (nothing written).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Int8Kernel_quantizeWeights(JNIEnv* env, jclass cls, jlong wAddr,
        jlong out, jlong in, jlong sn, jlong sk, jlong qAddr, jlong scaleAddr, jint threads) {
    (void) env;
    (void) cls;
    const float* w = (const float*) (intptr_t) wAddr;
    int8_t* q = (int8_t*) (intptr_t) qAddr;
    float* scale = (float*) (intptr_t) scaleAddr;
    const int rows = sk == 1 || in == 1;
    if (!rows && sn != 1) {
        return -1;
    }
    int bad = 0;
    const long tiles = (out + 63) / 64;
    const int team = threads < 1 ? 1 : threads < tiles ? threads : (int) (tiles < 1 ? 1 : tiles);
#pragma omp parallel num_threads(team) reduction(| : bad)
    {
        const long t = omp_get_thread_num();
        const long nt = omp_get_num_threads();
        /* whole tiles of 64 rows per thread */
        const long per = (tiles + nt - 1) / nt * 64;
        const long a = t * per < out ? t * per : out;
        const long z = (t + 1) * per < out ? (t + 1) * per : out;
        if (a < z) {
            bad |= rows ? tts_quantize_rows(w, sn, in, a, z, q, scale)
                        : tts_quantize_columns(w, sk, in, a, z, q, scale);
        }
    }
    return bad;
}
