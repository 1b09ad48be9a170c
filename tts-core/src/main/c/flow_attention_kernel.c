/*
 * The S3Gen flow estimator's attention: bidirectional multi-head attention over bf16 queries, keys and values
 * (nn.Bf16Attention), and at the end of the file the same over fp32 (nn.Fp32Attention, AVX-512, AVX2 FMA, AVX or
 * SSE4.1). For each head h and frame i of one sequence of t frames,
 *
 *   out[i, h] = sum_j p[i, j] v[j, h] / sum_j p[i, j],  p[i, j] = exp(s[i, j] - max_j s[i, j]),
 *   s[i, j] = scale * (q[i, h] . k[j, h])
 *
 * with no mask: S3Gen's flow estimator attends over all frames of one utterance (upstream's static chunk 0). q, k, v
 * and out are rows of heads * 64 bf16 values, `ld` (`ldo`) apart: the outputs of the to_q, to_k, to_v products as they
 * are, and the input of to_out, so no transposes are made around it.
 *
 * How: per head, the keys are first rearranged into the operand layout of q k^T (pairs of head dimensions, sixteen
 * keys wide) and the values likewise (pairs of frames, sixteen dimensions wide), zero beyond the last frame. Then for
 * each block of sixteen query frames: the scores of all keys (bf16 products, fp32 sums), the softmax of each row in
 * fp32 (an exp accurate to 3e-6, the sum in a fixed order), the unnormalized probabilities rounded to bf16 and
 * multiplied with the values (fp32 sums), each row divided by its sum and rounded to bf16 (nearest even). LibTorch's
 * bf16 flash attention computes the same quantities in a different order, so the two differ by rounding;
 * Bf16AttentionTest bounds both against fp32 attention over the same bf16 inputs.
 *
 * Two back ends multiply the same 16 x 32 by 32 x 16 blocks: Intel AMX tiles (path 2: AMX-TILE and AMX-BF16, with the
 * tile data state granted by Linux's arch_prctl) and AVX512-BF16's vdpbf16ps with the 16 x 16 operand held in
 * registers (path 1: AMD Zen 4, Intel Cooper Lake and later). Both sum each dot product's pairs in the same order
 * within a 32-wide block but differ in how the instruction rounds, so their results differ by rounding. The AMX path
 * is also tested where no AMX CPU is: nn.Bf16AttentionAmxModelTest compiles this file with a software model of the
 * tile instructions (src/test/c/amx_tiles.h) on any CPU with AVX512-BF16.
 *
 * Relative positions (nn.Bf16Attention.attendRelative, nn.Fp32Attention.attendRelative): the S3Gen flow encoder's
 * conformer attention (ESPnet's RelPositionMultiHeadedAttention, Transformer-XL's scores) adds a position term,
 *
 *   s[i, j] = scale * (qu[i, h] . k[j, h] + qv[i, h] . p[t - 1 - i + j, h])
 *
 * with qu, qv the queries plus the two learned biases and p the 2t - 1 projected relative positions (upstream's
 * rel_shift picks the same p row for each (i, j)). Per block of sixteen query rows the position term is one more
 * product, qv against the window of t + 15 position rows the block's shifts reach (packed once per head like the
 * keys, from row t - 16 * blocks, zero outside [0, 2t - 1)), added to the raw scores row by row shifted by 15 - i, in
 * fp32, before the softmax. On AMX CPUs that attention runs on the AVX512-BF16 path (the CPUs have both).
 *
 * Threads: the (head, query block) pairs are split over LibTorch's OpenMP threads; each is computed by one thread in
 * a fixed order, so the result does not depend on the thread count. Scratch is written before it is read, padding
 * included (no result depends on what memory held before).
 */
#include <jni.h>
#include <cpuid.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <immintrin.h>
#include <omp.h>
#include "tts_kernels.h"

#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
/* head size the kernel runs (the flow estimator's: 8 heads of 64) */
#define HD 64

/* The lanes of the first min(n, 16) of sixteen values. */
static inline __mmask16 first_lanes(long n) {
    return n >= 16 ? (__mmask16) 0xffff : (__mmask16) ((1u << n) - 1);
}

/* bit 1 (path 1): AVX512-BF16, bit 2 (path 2): AMX; -1 not asked yet; a race between first callers computes the same
   value */
static int paths = -1;

/* Whether the CPU has AVX-512 F and the OS saves the SSE, AVX and AVX-512 register states (OSXSAVE, XCR0). */
static int avx512_state_saved(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d) || !(c >> 27 & 1) || !__get_cpuid_count(7, 0, &a, &b, &c, &d)
            || !(b >> 16 & 1)) {
        return 0;
    }
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void) hi;
    return (lo & 0xe6) == 0xe6;
}

static int detect_paths(void) {
    unsigned a, b, c, d;
    if (!avx512_state_saved() || !__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        return 0;
    }
    const int avx512 = (b >> 16 & 1) && (b >> 30 & 1); /* AVX512F, AVX512BW */
    const int amx = (d >> 22 & 1) && (d >> 24 & 1);    /* AMX-BF16, AMX-TILE */
    unsigned a1, b1, c1, d1;
    if (!avx512 || !__get_cpuid_count(7, 1, &a1, &b1, &c1, &d1) || !(a1 >> 5 & 1)) { /* AVX512-BF16 */
        return 0;
    }
    int mask = 1 << 1;
    /* the tile data state is granted per process, on request (Linux 5.16+); granting it again is harmless */
    if (amx && syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0) {
        mask |= 1 << 2;
    }
    return mask;
}

static int usable_paths(void) {
    if (paths < 0) {
        paths = detect_paths();
    }
    return paths;
}

/* The paths this CPU runs: bit 1 AVX512-BF16, bit 2 AMX. */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Bf16Attention_detect(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return usable_paths();
}

/* LDTILECFG. gcc 12's _tile_loadconfig tells the compiler it reads only the first 8 bytes, which lets it drop the
   stores to the rest: the instruction with the whole 64-byte operand instead. (A test build's model of the tiles,
   src/test/c/amx_tiles.h, defines its own, as it does the tile intrinsics.) */
#ifndef TTS_LOAD_TILE_CONFIG
#define TTS_LOAD_TILE_CONFIG(cfg) __asm__ volatile("ldtilecfg %0" : : "m"(*(const unsigned char(*)[64]) (cfg)))
#endif

typedef struct __attribute__((packed)) {
    uint8_t palette;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

/* eight tiles of 16 rows x 64 bytes: for the scores 1-2 the query block, 0 and 4 two groups' scores, 3, 5, 6, 7
   their keys; for the output 1-2 the probabilities, 0 and 3 the values, 4-7 the four groups of sixteen dimensions */
__attribute__((target("amx-tile")))
static void configure_tiles(void) {
    tile_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int i = 0; i < 8; i++) {
        cfg.colsb[i] = 64;
        cfg.rows[i] = 16;
    }
    TTS_LOAD_TILE_CONFIG(&cfg);
}

__attribute__((target("amx-tile")))
static void release_tiles(void) {
    _tile_release();
}

/* The row that a group starting at row r0 takes its gather indices from: r0 clamped into [0, n), so the indices stay
   within sixteen rows of it and every address formed lies inside the tensor (n >= 1). */
static long anchor_row(long r0, long n) {
    return r0 < 0 ? 0 : (r0 >= n ? n - 1 : r0);
}

/*
 * Rows first .. first + 16 groups - 1 of one head (rows ld apart, n of them; first may be negative) as the B operand
 * of a product against the queries: for each group g of sixteen rows and half c of the head, a 16 x 16 matrix of
 * bf16 pairs, row r holding dimensions (32c + 2r, 32c + 2r + 1) of the sixteen rows; zero for rows outside [0, n).
 * The keys (first 0, n = t) and the relative positions. A group's matrix row is one gather of the sixteen rows' pairs.
 */
__attribute__((target("avx512f")))
static void pack_rows(const uint16_t* k, long ld, long first, long n, long groups, uint32_t* kp) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (long g = 0; g < groups; g++) {
        const long r0 = first + g * 16;
        const long at = anchor_row(r0, n);
        const int* base = (const int*) (k + at * ld);
        const __m512i row = _mm512_add_epi32(lane, _mm512_set1_epi32((int) r0));
        const __mmask16 m = _mm512_cmpge_epi32_mask(row, _mm512_setzero_si512())
                & _mm512_cmplt_epi32_mask(row, _mm512_set1_epi32((int) n));
        const __m512i off = _mm512_mullo_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int) (r0 - at))),
                _mm512_set1_epi32((int) (ld / 2)));
        for (int c = 0; c < 2; c++) {
            uint32_t* blk = kp + (g * 2 + c) * 256;
            for (int r = 0; r < 16; r++) {
                const __m512i idx = _mm512_add_epi32(off, _mm512_set1_epi32(c * 16 + r));
                _mm512_storeu_si512(blk + r * 16, _mm512_mask_i32gather_epi32(_mm512_setzero_si512(), m, idx, base, 4));
            }
        }
    }
}

/*
 * Values of one head as the B operand of p v: for each group of 32 frames and group e of sixteen dimensions, 16 rows
 * of sixteen (frame 2r, frame 2r + 1) pairs of dimension 16e + n; zero past the last frame. A row interleaves the
 * two frames' sixteen values in one permutation.
 */
__attribute__((target("avx512f,avx512bw")))
static void pack_values(const uint16_t* v, long ld, long t, long groups, uint16_t* vp) {
    static const uint16_t order[32] = {0, 32, 1, 33, 2, 34, 3, 35, 4, 36, 5, 37, 6, 38, 7, 39, 8, 40, 9, 41, 10, 42,
            11, 43, 12, 44, 13, 45, 14, 46, 15, 47};
    const __m512i idx = _mm512_loadu_si512(order);
    for (long g = 0; g < groups; g++) {
        for (int r = 0; r < 16; r++) {
            const long f0 = g * 32 + 2L * r;
            for (int e = 0; e < 4; e++) {
                const __m512i a = f0 < t
                        ? _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i*) (v + f0 * ld + e * 16)))
                        : _mm512_setzero_si512();
                const __m512i b = f0 + 1 < t
                        ? _mm512_zextsi256_si512(_mm256_loadu_si256((const __m256i*) (v + (f0 + 1) * ld + e * 16)))
                        : _mm512_setzero_si512();
                _mm512_storeu_si512(vp + ((g * 4 + e) * 16 + r) * 32, _mm512_permutex2var_epi16(a, idx, b));
            }
        }
    }
}

/* The largest of s[0..t) (t >= 1), by lanes (a max is exact: any order gives the same value). */
__attribute__((target("avx512f")))
static float row_max(const float* s, long t) {
    __m512 m0 = _mm512_set1_ps(-INFINITY), m1 = m0;
    long j = 0;
    for (; j + 32 <= t; j += 32) {
        m0 = _mm512_max_ps(m0, _mm512_loadu_ps(s + j));
        m1 = _mm512_max_ps(m1, _mm512_loadu_ps(s + j + 16));
    }
    for (; j < t; j += 16) {
        const __mmask16 k = first_lanes(t - j);
        m0 = _mm512_mask_max_ps(m0, k, m0, _mm512_maskz_loadu_ps(k, s + j));
    }
    return _mm512_reduce_max_ps(_mm512_max_ps(m0, m1));
}

/* fp32 -> bf16, nearest even (NaN stays NaN); n a multiple of 16 */
__attribute__((target("avx512f,avx512bf16")))
static void to_bf16(const float* x, uint16_t* y, long n) {
    for (long i = 0; i < n; i += 16) {
        __m256bh h = _mm512_cvtneps_pbh(_mm512_loadu_ps(x + i));
        memcpy(y + i, &h, 32);
    }
}

/* exp_nonpositive's Taylor coefficients of 2^f (degree 6 down to 1), shared by its AVX-512 and AVX2 forms */
#define EXP2_C6 1.5403530393e-4f
#define EXP2_C5 1.3333558146e-3f
#define EXP2_C4 9.6181291076e-3f
#define EXP2_C3 5.5504108665e-2f
#define EXP2_C2 2.4022650696e-1f
#define EXP2_C1 6.9314718056e-1f
#define LOG2_E 1.44269504088896341f

/*
 * exp(x) for x <= 0 (and NaN): 2^(x log2 e) as 2^n 2^f, n = round(x log2 e), |f| <= 1/2, 2^f by its Taylor polynomial
 * of degree 5 (relative error below 3e-6, against bf16's 2^-9 rounding of the probabilities it feeds) or, with
 * degree6, 6 (about 1.2e-7, fp32's own rounding); scalef makes 2^n without overflow or a clamp (0 far below, NaN
 * stays NaN). degree6 is a constant at every call, so each caller compiles to its own straight line.
 */
__attribute__((target("avx512f")))
static inline __m512 exp_nonpositive(__m512 x, int degree6) {
    const __m512 y = _mm512_mul_ps(x, _mm512_set1_ps(LOG2_E));
    const __m512 n = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m512 f = _mm512_sub_ps(y, n);
    __m512 p = _mm512_set1_ps(EXP2_C5);
    if (degree6) {
        p = _mm512_fmadd_ps(_mm512_set1_ps(EXP2_C6), f, p);
    }
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(EXP2_C4));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(EXP2_C3));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(EXP2_C2));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(EXP2_C1));
    p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(p, n);
}

/*
 * One row of scores (t values, raw q . k): p[j] = bf16(exp(scale (s[j] - max s))) for j < t, 0 for t <= j < sld;
 * returns sum_j exp(...) of the unrounded values, in sixteen lanes then a fixed tree. scale > 0.
 */
__attribute__((target("avx512f,avx512bf16")))
static float softmax_row(const float* s, long t, long sld, float scale, uint16_t* p) {
    const __m512 m = _mm512_set1_ps(row_max(s, t));
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    long j = 0;
    for (; j < t; j += 16) {
        const __mmask16 k = first_lanes(t - j);
        const __m512 e = _mm512_maskz_mov_ps(k,
                exp_nonpositive(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m), sc), 0));
        sum = _mm512_add_ps(sum, e);
        __m256bh h = _mm512_cvtneps_pbh(e);
        memcpy(p + j, &h, 32); /* lanes past t are 0: the padding up to the next 16 */
    }
    for (; j < sld; j += 16) {
        memset(p + j, 0, 32);
    }
    return _mm512_reduce_add_ps(sum);
}

/* One thread's scratch: scores (16 x sld fp32), probabilities (16 x sld bf16), a padded query block, the output. */
typedef struct {
    float* s;
    uint16_t* p;
    uint16_t* q;
    float* o;
    uint16_t* q2; /* a padded block of position queries (relative attention) */
    float* w;     /* the block's position products, 16 x wld (relative attention) */
} scratch_t;

/*
 * The position term of one head (relative attention): qpos, the position queries (rows like q's, NULL for none);
 * packed, the head's positions packed from row t - 16 * blocks (the last block's window start), `window` groups of
 * sixteen per query block's window (t + 15 rows), wld = 16 * window.
 */
typedef struct {
    const void* qpos;
    const void* packed;
    long window;
    long wld;
} positions_t;

/* s[i][j] += w[i][j + 15 - i] for the block's sixteen score rows, j < t: each row's shifted position terms. */
static void add_shifted(float* s, long sld, const float* w, long wld, long t) {
    for (int i = 0; i < 16; i++) {
        float* si = s + i * sld;
        const float* wi = w + i * wld + 15 - i;
        for (long j = 0; j < t; j++) {
            si[j] += wi[j];
        }
    }
}

/* The first group of the position window of the query block starting at frame q0, in the head's packed positions
   (the last block's window starts at group 0, each block before it one group later). */
static long window_group(long qblocks, long q0) {
    return qblocks - 1 - q0 / 16;
}

/* The padded block of sixteen query rows starting at q0 (rows past t zero): in place when all sixteen exist. */
static const uint16_t* query_rows(const uint16_t* q, long ld, long t, long q0, uint16_t* pad, long* stride) {
    const long rows = t - q0 < 16 ? t - q0 : 16;
    if (rows == 16) {
        *stride = ld;
        return q + q0 * ld;
    }
    memset(pad, 0, 16 * HD * sizeof(uint16_t));
    for (long i = 0; i < rows; i++) {
        memcpy(pad + i * HD, q + (q0 + i) * ld, HD * sizeof(uint16_t));
    }
    *stride = HD;
    return pad;
}

/* Softmax of the block's sixteen score rows into bf16 probabilities; their sums. */
static void softmax_rows(const scratch_t* w, long t, long sld, float scale, float* sums) {
    for (int i = 0; i < 16; i++) {
        sums[i] = softmax_row(w->s + i * sld, t, sld, scale, w->p + i * sld);
    }
}

/* The block's valid rows of w->o divided by their sums, rounded to bf16 into out. */
static void emit_rows(const scratch_t* w, long t, long q0, const float* sums, uint16_t* out, long ldo) {
    const long rows = t - q0 < 16 ? t - q0 : 16;
    for (long i = 0; i < rows; i++) {
        float* o = w->o + i * HD;
        const float inv = 1.0f / sums[i];
        for (int d = 0; d < HD; d++) {
            o[d] *= inv;
        }
        to_bf16(o, out + (q0 + i) * ldo, HD);
    }
}

/*
 * Path 2, AMX. Query frames [q0, q0 + 16) of one head (rows past t are computed from zero queries and not written).
 * kp, vp: the head's packed keys and values; sld: score row length (a multiple of 32, at least t).
 */
__attribute__((target("amx-tile,amx-bf16,avx512f,avx512bf16")))
static void query_block_amx(const uint16_t* q, long ld, long t, long q0, const uint32_t* kp, const uint16_t* vp,
        long kgroups, long vgroups, long sld, float scale, uint16_t* out, long ldo, const scratch_t* w) {
    long qs;
    const uint16_t* qa = query_rows(q, ld, t, q0, w->q, &qs);
    _tile_loadd(1, qa, qs * 2);
    _tile_loadd(2, qa + 32, qs * 2);
    /* two groups of sixteen keys at a time, into two accumulators (0, 4), so the tile products overlap */
    long g = 0;
    for (; g + 2 <= kgroups; g += 2) {
        _tile_zero(0);
        _tile_zero(4);
        _tile_loadd(3, kp + (g * 2) * 256, 64);
        _tile_loadd(5, kp + (g * 2 + 2) * 256, 64);
        _tile_dpbf16ps(0, 1, 3);
        _tile_dpbf16ps(4, 1, 5);
        _tile_loadd(6, kp + (g * 2 + 1) * 256, 64);
        _tile_loadd(7, kp + (g * 2 + 3) * 256, 64);
        _tile_dpbf16ps(0, 2, 6);
        _tile_dpbf16ps(4, 2, 7);
        _tile_stored(0, w->s + g * 16, sld * 4);
        _tile_stored(4, w->s + g * 16 + 16, sld * 4);
    }
    if (g < kgroups) {
        _tile_zero(0);
        _tile_loadd(3, kp + (g * 2) * 256, 64);
        _tile_dpbf16ps(0, 1, 3);
        _tile_loadd(6, kp + (g * 2 + 1) * 256, 64);
        _tile_dpbf16ps(0, 2, 6);
        _tile_stored(0, w->s + g * 16, sld * 4);
    }
    float sums[16];
    softmax_rows(w, t, sld, scale, sums);
    _tile_zero(4);
    _tile_zero(5);
    _tile_zero(6);
    _tile_zero(7);
    /* the probabilities alternate between tiles 1 and 2, the values between 0 and 3, so loads overlap products */
    for (g = 0; g < vgroups; g++) {
        const uint16_t* b = vp + g * 4 * 512;
        if ((g & 1) == 0) {
            _tile_loadd(1, w->p + g * 32, sld * 2);
            _tile_loadd(0, b, 64);
            _tile_dpbf16ps(4, 1, 0);
            _tile_loadd(3, b + 512, 64);
            _tile_dpbf16ps(5, 1, 3);
            _tile_loadd(0, b + 1024, 64);
            _tile_dpbf16ps(6, 1, 0);
            _tile_loadd(3, b + 1536, 64);
            _tile_dpbf16ps(7, 1, 3);
        } else {
            _tile_loadd(2, w->p + g * 32, sld * 2);
            _tile_loadd(0, b, 64);
            _tile_dpbf16ps(4, 2, 0);
            _tile_loadd(3, b + 512, 64);
            _tile_dpbf16ps(5, 2, 3);
            _tile_loadd(0, b + 1024, 64);
            _tile_dpbf16ps(6, 2, 0);
            _tile_loadd(3, b + 1536, 64);
            _tile_dpbf16ps(7, 2, 3);
        }
    }
    _tile_stored(4, w->o, HD * 4);
    _tile_stored(5, w->o + 16, HD * 4);
    _tile_stored(6, w->o + 32, HD * 4);
    _tile_stored(7, w->o + 48, HD * 4);
    emit_rows(w, t, q0, sums, out, ldo);
}

/* The bf16 pair at p (two values, any alignment) as one 32-bit lane. */
static inline int load_pair(const uint16_t* p) {
    int v;
    memcpy(&v, p, 4);
    return v;
}

/*
 * Path 1's products, what the AMX tile products compute, for eight rows and one or two groups of sixteen lanes:
 * c[i][16j + n] (i < 8, rows ldc floats apart; j < 2, or j = 0 alone when `two` is 0) = the sum over blk < blocks
 * and r < 16, in that order, of the bf16 pair products of a's pair 16 blk + r in row i (rows lda values apart,
 * broadcast) and bj[blk bblock + 16 r + n] (sixteen pairs each), from 0. In q k^T, a is the query rows (32 pairs: two
 * blocks) and bj key group j; in p v, a is the probability rows and bj the values of sixteen dimensions. The sixteen
 * accumulators stay in registers for the whole sum, each b row loaded once for eight rows, each broadcast pair used
 * twice. (Sixteen rows by one group, as this path ran until 2026-12-06, reloaded and stored the accumulators between
 * blocks and copied the rows of a first; this form is about 2% faster over the whole attention on the Zen 5 VM,
 * docs/performance.md, "Twenty-seventh round".) Each element sums its pairs in the same order as before: the same bits.
 */
__attribute__((target("avx512f,avx512bf16")))
static inline void tile_product(float* c, long ldc, const uint16_t* a, long lda, const uint32_t* b0,
        const uint32_t* b1, long bblock, long blocks, int two) {
    __m512 acc0[8], acc1[8];
    for (int i = 0; i < 8; i++) {
        acc0[i] = _mm512_setzero_ps();
        acc1[i] = _mm512_setzero_ps();
    }
    for (long blk = 0; blk < blocks; blk++) {
        const uint16_t* ab = a + blk * 32;
        const uint32_t* p0 = b0 + blk * bblock;
        const uint32_t* p1 = b1 + blk * bblock;
        for (int r = 0; r < 16; r++) {
            const __m512i v0 = _mm512_loadu_si512(p0 + r * 16);
            __m512bh w0;
            memcpy(&w0, &v0, 64);
            __m512bh w1 = w0;
            if (two) {
                const __m512i v1 = _mm512_loadu_si512(p1 + r * 16);
                memcpy(&w1, &v1, 64);
            }
            for (int i = 0; i < 8; i++) {
                const __m512i x = _mm512_set1_epi32(load_pair(ab + i * lda + 2 * r));
                __m512bh xb;
                memcpy(&xb, &x, 64);
                acc0[i] = _mm512_dpbf16_ps(acc0[i], xb, w0);
                if (two) {
                    acc1[i] = _mm512_dpbf16_ps(acc1[i], xb, w1);
                }
            }
        }
    }
    for (int i = 0; i < 8; i++) {
        _mm512_storeu_ps(c + i * ldc, acc0[i]);
        if (two) {
            _mm512_storeu_ps(c + i * ldc + 16, acc1[i]);
        }
    }
}

/* dst (16 rows, ldd apart; 16 * groups columns) = the sixteen query rows a (rows lda apart) against `groups` packed
   groups of keys (or positions), eight rows by two groups at a time. */
__attribute__((target("avx512f,avx512bf16")))
static void scores_bf16(float* dst, long ldd, const uint16_t* a, long lda, const uint32_t* kp, long groups) {
    for (int i0 = 0; i0 < 16; i0 += 8) {
        long g = 0;
        for (; g + 2 <= groups; g += 2) {
            tile_product(dst + i0 * ldd + g * 16, ldd, a + i0 * lda, lda, kp + g * 512, kp + (g + 1) * 512, 256, 2, 1);
        }
        if (g < groups) {
            tile_product(dst + i0 * ldd + g * 16, ldd, a + i0 * lda, lda, kp + g * 512, kp + g * 512, 256, 2, 0);
        }
    }
}

/* Path 1, AVX512-BF16: query_block_amx's computation with tile_product in place of the tile products, and the
   position term of relative attention where pos is not NULL. */
__attribute__((target("avx512f,avx512bf16")))
static void query_block_avx512(const uint16_t* q, long ld, long t, long q0, const uint32_t* kp, const uint16_t* vp,
        long kgroups, long vgroups, long sld, float scale, uint16_t* out, long ldo, const scratch_t* w,
        const positions_t* pos) {
    long qs;
    const uint16_t* qa = query_rows(q, ld, t, q0, w->q, &qs); /* a row's 64 values are its 32 pairs, in place */
    scores_bf16(w->s, sld, qa, qs, kp, kgroups);
    if (pos != NULL) {
        const uint16_t* pa = query_rows((const uint16_t*) pos->qpos, ld, t, q0, w->q2, &qs);
        scores_bf16(w->w, pos->wld, pa, qs,
                (const uint32_t*) pos->packed + window_group(kgroups, q0) * 512, pos->window);
        add_shifted(w->s, sld, w->w, pos->wld, t);
    }
    float sums[16];
    softmax_rows(w, t, sld, scale, sums);
    /* values: group g's dimensions 16e.. are 256 pairs at pair (4g + e) 256 */
    const uint32_t* vq = (const uint32_t*) vp;
    for (int i0 = 0; i0 < 16; i0 += 8) {
        for (int e = 0; e < 4; e += 2) {
            tile_product(w->o + i0 * HD + e * 16, HD, w->p + i0 * sld, sld, vq + e * 256, vq + (e + 1) * 256, 1024,
                    vgroups, 1);
        }
    }
    emit_rows(w, t, q0, sums, out, ldo);
}

/* The sizes both entry points take: heads of 64 values, rows (ld, ldo apart) that hold every head. */
static int sizes_taken(jint t, jint heads, jint d, jlong ld, jlong ldo) {
    return d == HD && t >= 0 && heads >= 1 && ld >= (long) heads * HD && ldo >= (long) heads * HD;
}

/* The threads to start for `items` units of work: `threads`, at least one, at most one per unit. */
static int team_for(jint threads, long items) {
    const int team = threads < 1 ? 1 : threads;
    return team > items ? (int) items : team;
}

/* Thread th's contiguous run [*from, *to) of items among nt threads, as even as they go. */
static void run_of(long items, int th, int nt, long* from, long* to) {
    const long per = (items + nt - 1) / nt;
    *from = th * per < items ? th * per : items;
    *to = *from + per < items ? *from + per : items;
}

/*
 * q, k, v (and qpos): t rows of heads * d bf16 values, ld apart; out: t rows, ldo apart; d must be 64; path 2 AMX, 1
 * AVX512-BF16; posRows NULL, or the 2t - 1 relative positions (rows ldp apart) with qpos their queries. Returns 0; -1
 * when scratch memory could not be had, -2 for a path this CPU does not run, -3 for sizes it does not take (nothing
 * written then).
 */
static jint attend_bf16(const uint16_t* q, const uint16_t* k, const uint16_t* v, long ld, const uint16_t* qpos,
        const uint16_t* posRows, long ldp, jint t, jint heads, jint d, jfloat scale, uint16_t* out, long ldo,
        jint path, jint threads) {
    if ((path != 1 && path != 2) || !(usable_paths() & (1 << path))) {
        return -2;
    }
    if (!sizes_taken(t, heads, d, ld, ldo) || (posRows != NULL && ldp < (long) heads * HD)) {
        return -3;
    }
    if (t == 0) {
        return 0;
    }
    if (posRows != NULL) {
        path = 1; /* the position term runs on the AVX512-BF16 path (AMX CPUs have it too) */
    }
    const long kgroups = (t + 15) / 16;
    const long vgroups = (t + 31) / 32;
    const long sld = vgroups * 32;
    const long qblocks = kgroups;
    const long window = posRows != NULL ? (t + 15 + 15) / 16 : 0;
    const long wld = window * 16;
    const long pgroups = posRows != NULL ? qblocks - 1 + window : 0;
    const size_t kpHead = (size_t) kgroups * 2 * 256;  /* uint32 */
    const size_t vpHead = (size_t) vgroups * 4 * 512;  /* uint16 */
    const size_t ppHead = (size_t) pgroups * 2 * 256;  /* uint32 */
    const long items = (long) heads * qblocks;
    const int team = team_for(threads, items);
    const size_t perThread = 16 * (size_t) sld * 4 + 16 * (size_t) sld * 2 + 16 * HD * 2 + 16 * HD * 4
            + 16 * HD * 2 + 16 * (size_t) wld * 4 + 256;
    const size_t packed = (size_t) heads * (kpHead * 4 + vpHead * 2 + ppHead * 4);
    unsigned char* mem = aligned_alloc(64, (packed + perThread * (size_t) team + 63) / 64 * 64);
    if (mem == NULL) {
        return -1;
    }
    uint32_t* kp = (uint32_t*) mem;
    uint16_t* vp = (uint16_t*) (mem + (size_t) heads * kpHead * 4);
    uint32_t* pp = (uint32_t*) (mem + (size_t) heads * (kpHead * 4 + vpHead * 2));
    unsigned char* scratch = mem + packed;
#pragma omp parallel num_threads(team)
    {
        const int th = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        for (long h = th; h < heads; h += nt) {
            pack_rows(k + h * HD, ld, 0, t, kgroups, kp + h * kpHead);
            pack_values(v + h * HD, ld, t, vgroups, vp + h * vpHead);
            if (posRows != NULL) {
                pack_rows(posRows + h * HD, ldp, t - 16 * qblocks, 2L * t - 1, pgroups, pp + h * ppHead);
            }
        }
#pragma omp barrier
        unsigned char* mine = scratch + perThread * (size_t) th;
        scratch_t w;
        w.s = (float*) mine;
        w.p = (uint16_t*) (mine + 16 * (size_t) sld * 4);
        w.o = (float*) (mine + 16 * (size_t) sld * 6);
        w.q = (uint16_t*) (mine + 16 * (size_t) sld * 6 + 16 * HD * 4);
        w.q2 = w.q + 16 * HD;
        w.w = (float*) (w.q2 + 16 * HD);
        /* contiguous runs of (head, block) pairs, as even as they go */
        long from, to;
        run_of(items, th, nt, &from, &to);
        if (from < to && path == 2) {
            configure_tiles();
            for (long u = from; u < to; u++) {
                const long h = u / qblocks;
                query_block_amx(q + h * HD, ld, t, (u % qblocks) * 16, kp + h * kpHead, vp + h * vpHead, kgroups,
                        vgroups, sld, scale, out + h * HD, ldo, &w);
            }
            release_tiles();
        } else {
            for (long u = from; u < to; u++) {
                const long h = u / qblocks;
                positions_t pos = {NULL, NULL, window, wld};
                if (posRows != NULL) {
                    pos.qpos = qpos + h * HD;
                    pos.packed = pp + h * ppHead;
                }
                query_block_avx512(q + h * HD, ld, t, (u % qblocks) * 16, kp + h * kpHead, vp + h * vpHead, kgroups,
                        vgroups, sld, scale, out + h * HD, ldo, &w, posRows != NULL ? &pos : NULL);
            }
        }
    }
    free(mem);
    return 0;
}

JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Bf16Attention_attend(JNIEnv* env, jclass cls, jlong qAddr,
        jlong kAddr, jlong vAddr, jlong ld, jint t, jint heads, jint d, jfloat scale, jlong outAddr, jlong ldo,
        jint path, jint threads) {
    (void) env;
    (void) cls;
    return attend_bf16((const uint16_t*) (intptr_t) qAddr, (const uint16_t*) (intptr_t) kAddr,
            (const uint16_t*) (intptr_t) vAddr, ld, NULL, NULL, 0, t, heads, d, scale, (uint16_t*) (intptr_t) outAddr,
            ldo, path, threads);
}

/*
 * Relative attention (the conformer's): qu, qpos (queries plus the two biases), k, v: t rows, ld apart; pos: the 2t - 1
 * projected positions, ldp apart. As attend otherwise.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Bf16Attention_attendRelative(JNIEnv* env, jclass cls,
        jlong qAddr, jlong qposAddr, jlong kAddr, jlong vAddr, jlong ld, jlong posAddr, jlong ldp, jint t, jint heads,
        jint d, jfloat scale, jlong outAddr, jlong ldo, jint path, jint threads) {
    (void) env;
    (void) cls;
    return attend_bf16((const uint16_t*) (intptr_t) qAddr, (const uint16_t*) (intptr_t) kAddr,
            (const uint16_t*) (intptr_t) vAddr, ld, (const uint16_t*) (intptr_t) qposAddr,
            (const uint16_t*) (intptr_t) posAddr, ldp, t, heads, d, scale, (uint16_t*) (intptr_t) outAddr, ldo, path,
            threads);
}

/* ---- fp32 (nn.Fp32Attention): the same attention over fp32 q, k, v with AVX-512, AVX2 FMA, AVX or SSE4.1 ---- */

/* One row of raw scores in place: s[j] = exp(scale (s[j] - max s)) for j < t, 0 up to sld; returns their sum. */
__attribute__((target("avx512f")))
static float softmax_row_f32(float* s, long t, long sld, float scale) {
    const __m512 m = _mm512_set1_ps(row_max(s, t));
    const __m512 sc = _mm512_set1_ps(scale);
    __m512 sum = _mm512_setzero_ps();
    long j = 0;
    for (; j < t; j += 16) {
        const __mmask16 k = first_lanes(t - j);
        const __m512 e = _mm512_maskz_mov_ps(k,
                exp_nonpositive(_mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(k, s + j), m), sc), 1));
        sum = _mm512_add_ps(sum, e);
        _mm512_storeu_ps(s + j, e); /* lanes past t are 0 */
    }
    for (; j < sld; j += 16) {
        _mm512_storeu_ps(s + j, _mm512_setzero_ps());
    }
    return _mm512_reduce_add_ps(sum);
}

/* Rows first .. first + 16 groups - 1 of one head (rows ld apart, n of them; first may be negative) transposed per
   group of sixteen: kt[g][d][j] = k[first + 16g + j][d], 0 for rows outside [0, n). The keys (first 0, n = t) and the
   relative positions. */
__attribute__((target("avx512f")))
static void pack_rows_f32(const float* k, long ld, long first, long n, long groups, float* kt) {
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (long g = 0; g < groups; g++) {
        const long r0 = first + g * 16;
        const long at = anchor_row(r0, n);
        const float* base = k + at * ld;
        const __m512i row = _mm512_add_epi32(lane, _mm512_set1_epi32((int) r0));
        const __mmask16 m = _mm512_cmpge_epi32_mask(row, _mm512_setzero_si512())
                & _mm512_cmplt_epi32_mask(row, _mm512_set1_epi32((int) n));
        const __m512i off = _mm512_mullo_epi32(_mm512_add_epi32(lane, _mm512_set1_epi32((int) (r0 - at))),
                _mm512_set1_epi32((int) ld));
        for (int d = 0; d < HD; d++) {
            const __m512i idx = _mm512_add_epi32(off, _mm512_set1_epi32(d));
            _mm512_storeu_ps(kt + (g * HD + d) * 16, _mm512_mask_i32gather_ps(_mm512_setzero_ps(), m, idx, base, 4));
        }
    }
}

/* The block's rows of q (or of the position queries) copied to 16 contiguous rows of 64 in pad, zero past t: every
   broadcast of the products is then one base register plus a constant. */
static void pad_rows_f32(const float* q, long ld, long t, long q0, float* pad) {
    const long rows = t - q0 < 16 ? t - q0 : 16;
    if (rows < 16) {
        memset(pad, 0, 16 * HD * sizeof(float));
    }
    for (long i = 0; i < rows; i++) {
        memcpy(pad + i * HD, q + (q0 + i) * ld, HD * sizeof(float));
    }
}

/* dst (16 rows, ldd apart; 16 * groups columns) = the sixteen padded rows against `groups` packed groups: sixteen
   accumulators over the 64 dimensions in order per group. */
__attribute__((target("avx512f")))
static void scores_f32(float* dst, long ldd, const float* pad, const float* kt, long groups) {
    for (long g = 0; g < groups; g++) {
        __m512 acc[16];
        for (int i = 0; i < 16; i++) acc[i] = _mm512_setzero_ps();
        const float* b = kt + g * HD * 16;
        for (int d = 0; d < HD; d++) {
            const __m512 bd = _mm512_loadu_ps(b + d * 16);
            for (int i = 0; i < 16; i++) {
                acc[i] = _mm512_fmadd_ps(_mm512_set1_ps(pad[i * HD + d]), bd, acc[i]);
            }
        }
        for (int i = 0; i < 16; i++) _mm512_storeu_ps(dst + i * ldd + g * 16, acc[i]);
    }
}

/*
 * Query frames [q0, q0 + 16) of one head, fp32: scores s (16 x sld) by sixteen accumulators over the 64 dimensions
 * per group of keys, the softmax in place, then o (16 x 64) = p v four rows by 64 dimensions at a time over every
 * key (v: the head's values, contiguous rows of 64). pad: 16 x 64 floats for the block's queries.
 */
__attribute__((target("avx512f")))
static void query_block_f32(const float* q, long ld, long t, long q0, const float* kt, const float* v, long kgroups,
        long sld, float scale, float* out, long ldo, float* s, float* pad, float* o, const positions_t* pos, float* w) {
    const long rows = t - q0 < 16 ? t - q0 : 16;
    pad_rows_f32(q, ld, t, q0, pad);
    scores_f32(s, sld, pad, kt, kgroups);
    if (pos != NULL) {
        pad_rows_f32((const float*) pos->qpos, ld, t, q0, pad);
        scores_f32(w, pos->wld, pad, (const float*) pos->packed + window_group(kgroups, q0) * HD * 16, pos->window);
        add_shifted(s, sld, w, pos->wld, t);
    }
    float sums[16];
    for (int i = 0; i < 16; i++) {
        sums[i] = softmax_row_f32(s + i * sld, t, sld, scale);
    }
    /* four rows by all 64 dimensions at a time: each value row (contiguous) is read once per four rows */
    for (int i0 = 0; i0 < 16; i0 += 4) {
        __m512 acc[4][4];
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
        }
        const float* p0 = s + i0 * sld;
        for (long j = 0; j < t; j++) {
            const float* vj = v + j * HD;
            const __m512 v0 = _mm512_loadu_ps(vj), v1 = _mm512_loadu_ps(vj + 16);
            const __m512 v2 = _mm512_loadu_ps(vj + 32), v3 = _mm512_loadu_ps(vj + 48);
            for (int r = 0; r < 4; r++) {
                const __m512 p = _mm512_set1_ps(p0[r * sld + j]);
                acc[r][0] = _mm512_fmadd_ps(p, v0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(p, v1, acc[r][1]);
                acc[r][2] = _mm512_fmadd_ps(p, v2, acc[r][2]);
                acc[r][3] = _mm512_fmadd_ps(p, v3, acc[r][3]);
            }
        }
        for (int r = 0; r < 4; r++) {
            for (int c = 0; c < 4; c++) _mm512_storeu_ps(o + (i0 + r) * HD + c * 16, acc[r][c]);
        }
    }
    for (long i = 0; i < rows; i++) {
        const __m512 inv = _mm512_set1_ps(1.0f / sums[i]);
        for (int c = 0; c < 4; c++) {
            _mm512_storeu_ps(out + (q0 + i) * ldo + c * 16, _mm512_mul_ps(_mm512_loadu_ps(o + i * HD + c * 16), inv));
        }
    }
}

/* pack_rows_f32 without AVX-512's gather. */
static void pack_rows_f32_c(const float* k, long ld, long first, long t, long groups, float* kt) {
    for (long g = 0; g < groups; g++) {
        for (int n = 0; n < 16; n++) {
            const long key = first + g * 16 + n;
            const int in = key >= 0 && key < t;
            for (int dd = 0; dd < HD; dd++) kt[(g * HD + dd) * 16 + n] = in ? k[key * ld + dd] : 0.0f;
        }
    }
}

/* The SSE4.1 path's multiply-add and 2^n (for n <= 0, 0 below 2^-126); the AVX path builds its 2^n from the latter. */
__attribute__((target("sse4.1")))
static inline __m128 madd_sse41(__m128 a, __m128 b, __m128 c) {
    return _mm_add_ps(_mm_mul_ps(a, b), c);
}

__attribute__((target("sse4.1")))
static inline __m128 pow2_sse41(__m128 n) {
    const __m128i e = _mm_cvtps_epi32(_mm_max_ps(n, _mm_set1_ps(-127.0f)));
    return _mm_castsi128_ps(_mm_slli_epi32(_mm_add_epi32(e, _mm_set1_epi32(127)), 23));
}

/*
 * The AVX2 + FMA path (CPUs without AVX-512: most desktop CPUs, whose flow is fp32). exp_nonpositive's degree-6
 * polynomial on eight lanes, 2^n built in the exponent field (n below -126 gives 0 where scalef gives a subnormal:
 * exp of such x is below 1e-38, which no softmax sum tells apart).
 */
__attribute__((target("avx2,fma")))
static inline __m256 pow2_avx2(__m256 n) {
    const __m256i e = _mm256_max_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(-127));
    return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(e, _mm256_set1_epi32(127)), 23));
}

#define F32_TARGET "avx2,fma"
#define F32_NAME(f) f##_avx2
#define LANES 8
#define MADD(a, b, c) _mm256_fmadd_ps(a, b, c)
#define POW2(n) pow2_avx2(n)
#include "flow_attention_f32.inc"

/*
 * The AVX path (CPUs with AVX but neither AVX2 nor FMA: the Xeon E5 v1/v2 of many home labs). Without it their flow's
 * attention ran on LibTorch's flash attention, its exponentials through libm one at a time: the flow's first block at
 * 2.6x its products' floor (docs/performance.md, "Thirty-ninth round"). The AVX2 path's code with each fused
 * multiply-add a multiply and an add, and 2^n built in two 128-bit halves (AVX has no 256-bit integer operations).
 */
__attribute__((target("avx")))
static inline __m256 madd_avx(__m256 a, __m256 b, __m256 c) {
    return _mm256_add_ps(_mm256_mul_ps(a, b), c);
}

/* 2^n on each 128-bit half as the SSE4.1 path builds it (AVX has no 256-bit integer operations) */
__attribute__((target("avx")))
static inline __m256 pow2_avx(__m256 n) {
    const __m128 lo = pow2_sse41(_mm256_castps256_ps128(n));
    const __m128 hi = pow2_sse41(_mm256_extractf128_ps(n, 1));
    return _mm256_insertf128_ps(_mm256_castps128_ps256(lo), hi, 1);
}

#define F32_TARGET "avx"
#define F32_NAME(f) f##_avx
#define LANES 8
#define MADD(a, b, c) madd_avx(a, b, c)
#define POW2(n) pow2_avx(n)
#include "flow_attention_f32.inc"

/*
 * The SSE4.1 path (CPUs without AVX: the Celeron, Pentium Silver and Atom chips of small home servers and NAS boxes,
 * Goldmont to Tremont, and Core 2 Penryn onwards). Without it their flow's attention ran on LibTorch's flash attention,
 * its exponentials through libm one at a time. The AVX path's arithmetic on four lanes.
 */
#define F32_TARGET "sse4.1"
#define F32_NAME(f) f##_sse41
#define LANES 4
#define MADD(a, b, c) madd_sse41(a, b, c)
#define POW2(n) pow2_sse41(n)
#include "flow_attention_f32.inc"

/*
 * The best fp32 path this CPU runs: 4 AVX-512 F, 3 AVX2 + FMA, 2 AVX, 1 SSE4.1, 0 none (with the OS saving the
 * registers' state).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Fp32Attention_detect(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    if (avx512_state_saved()) {
        return 4;
    }
    unsigned a, b, c, d;
    if (!__get_cpuid_count(1, 0, &a, &b, &c, &d)) {
        return 0;
    }
    const int sse41 = c >> 19 & 1;
    if (!(c >> 27 & 1) || !(c >> 28 & 1)) { /* OSXSAVE, AVX */
        return sse41;
    }
    const int fma = c >> 12 & 1;
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    (void) hi;
    if ((lo & 0x6) != 0x6) { /* the OS saves the XMM and YMM state */
        return sse41;
    }
    if (fma && __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b >> 5 & 1)) { /* AVX2 */
        return 3;
    }
    return 2;
}

/*
 * fp32 q, k, v (and qpos): t rows of heads * d values, ld apart; out: t rows, ldo apart; d must be 64; path 4
 * AVX-512, 3 AVX2 + FMA, 2 AVX, 1 SSE4.1; posRows NULL, or the 2t - 1 relative positions (rows ldp apart) with qpos
 * their queries. Returns 0; -1 when scratch memory could not be had, -2 for a path this CPU does not run, -3 for sizes
 * it does not take.
 */
static jint attend_f32(JNIEnv* env, jclass cls, const float* q, const float* k, const float* v, long ld,
        const float* qpos, const float* posRows, long ldp, jint t, jint heads, jint d, jfloat scale, float* out,
        long ldo, jint path, jint threads) {
    if (path < 1 || path > 4 || path > Java_dev_localai_tts_core_nn_Fp32Attention_detect(env, cls)) {
        return -2;
    }
    if (!sizes_taken(t, heads, d, ld, ldo) || (posRows != NULL && ldp < (long) heads * HD)) {
        return -3;
    }
    if (t == 0) {
        return 0;
    }
    const long kgroups = (t + 15) / 16;
    const long sld = kgroups * 16;
    const long qblocks = kgroups;
    const long window = posRows != NULL ? (t + 15 + 15) / 16 : 0;
    const long wld = window * 16;
    const long pgroups = posRows != NULL ? qblocks - 1 + window : 0;
    const size_t ktHead = (size_t) kgroups * HD * 16; /* floats */
    const size_t vHead = (size_t) t * HD;             /* floats */
    const size_t ptHead = (size_t) pgroups * HD * 16; /* floats */
    const long items = (long) heads * qblocks;
    const int team = team_for(threads, items);
    const size_t perThread = (16 * (size_t) sld + 2 * 16 * HD + 16 * (size_t) wld) * sizeof(float);
    const size_t packed = (size_t) heads * (ktHead + (vHead + 15) / 16 * 16 + ptHead) * sizeof(float);
    unsigned char* mem = aligned_alloc(64, (packed + perThread * (size_t) team + 63) / 64 * 64);
    if (mem == NULL) {
        return -1;
    }
    float* kt = (float*) mem;
    float* vc = kt + (size_t) heads * ktHead;
    float* pt = vc + (size_t) heads * ((vHead + 15) / 16 * 16);
    unsigned char* scratch = mem + packed;
    /* the path's key packing (AVX-512's gathers, else plain C) and query block */
    void (*pack)(const float*, long, long, long, long, float*) = path == 4 ? pack_rows_f32 : pack_rows_f32_c;
    void (*block)(const float*, long, long, long, const float*, const float*, long, long, float, float*, long, float*,
            float*, float*, const positions_t*, float*) = path == 4 ? query_block_f32
            : path == 3 ? query_block_f32_avx2 : path == 2 ? query_block_f32_avx : query_block_f32_sse41;
#pragma omp parallel num_threads(team)
    {
        const int th = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        for (long h = th; h < heads; h += nt) {
            pack(k + h * HD, ld, 0, t, kgroups, kt + h * ktHead);
            if (posRows != NULL) {
                pack(posRows + h * HD, ldp, t - 16 * qblocks, 2L * t - 1, pgroups, pt + h * ptHead);
            }
            /* the head's values contiguous: p v then reads them as one stream, not one cache line per 2 kB row */
            float* vh = vc + h * ((vHead + 15) / 16 * 16);
            for (long j = 0; j < t; j++) {
                memcpy(vh + j * HD, v + j * ld + h * HD, HD * sizeof(float));
            }
        }
#pragma omp barrier
        float* s = (float*) (scratch + perThread * (size_t) th);
        float* pad = s + 16 * sld;
        float* o = pad + 16 * HD;
        float* w = o + 16 * HD;
        long from, to;
        run_of(items, th, nt, &from, &to);
        for (long u = from; u < to; u++) {
            const long h = u / qblocks;
            const float* vh = vc + h * ((vHead + 15) / 16 * 16);
            positions_t pos = {NULL, NULL, window, wld};
            if (posRows != NULL) {
                pos.qpos = qpos + h * HD;
                pos.packed = pt + h * ptHead;
            }
            block(q + h * HD, ld, t, (u % qblocks) * 16, kt + h * ktHead, vh, kgroups, sld, scale, out + h * HD, ldo, s,
                    pad, o, posRows != NULL ? &pos : NULL, w);
        }
    }
    free(mem);
    return 0;
}

/*
 * fp32 q, k, v: t rows of heads * d values, ld apart; out: t rows, ldo apart; d must be 64; path 4 AVX-512, 3 AVX2 +
 * FMA, 2 AVX, 1 SSE4.1. Returns 0; -1 when scratch memory could not be had, -2 for a path this CPU does not run, -3
 * for sizes it does not take.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Fp32Attention_attend(JNIEnv* env, jclass cls, jlong qAddr,
        jlong kAddr, jlong vAddr, jlong ld, jint t, jint heads, jint d, jfloat scale, jlong outAddr, jlong ldo,
        jint path, jint threads) {
    return attend_f32(env, cls, (const float*) (intptr_t) qAddr, (const float*) (intptr_t) kAddr,
            (const float*) (intptr_t) vAddr, ld, NULL, NULL, 0, t, heads, d, scale, (float*) (intptr_t) outAddr, ldo,
            path, threads);
}

/* Relative attention over fp32 rows: as Bf16Attention_attendRelative. */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_Fp32Attention_attendRelative(JNIEnv* env, jclass cls,
        jlong qAddr, jlong qposAddr, jlong kAddr, jlong vAddr, jlong ld, jlong posAddr, jlong ldp, jint t, jint heads,
        jint d, jfloat scale, jlong outAddr, jlong ldo, jint path, jint threads) {
    return attend_f32(env, cls, (const float*) (intptr_t) qAddr, (const float*) (intptr_t) kAddr,
            (const float*) (intptr_t) vAddr, ld, (const float*) (intptr_t) qposAddr, (const float*) (intptr_t) posAddr,
            ldp, t, heads, d, scale, (float*) (intptr_t) outAddr, ldo, path, threads);
}
