/*
 * T3's token sampling for one row of speech logits (nn.LogitsKernel): upstream's logits warpers for Turbo, in its
 * order (temperature, top-k, top-p, repetition penalty), and the inverse-CDF draw. As LibTorch operations these are
 * about fifteen kernel launches over 6563 values per decode step (a sort among them), about a millisecond; here one
 * pass or two over the row, on the caller's thread.
 *
 * What is exact: the temperature's division, the top-k threshold (the k-th largest value, duplicates counted) and its
 * mask, the penalty (score * p below zero, score / p otherwise, once per distinct id: a gather then a scatter of the
 * gathered values, as upstream) and the draw (the cumulative sum accumulated in double and stored in float, the
 * threshold fl32(u * c[n-1]), the token = how many c[i] <= threshold): the same bits as LibTorch's operations. The
 * top-p cut is decided in double (exp and the cumulative sum) where LibTorch uses its vectorized float softmax (whose
 * exp differs between its AVX2 and AVX-512 builds), so the two agree except where a cumulative probability lies within
 * float rounding of 1 - top_p, and equal values the cut falls between are kept together (LibTorch's order of equal
 * values, hence which of them it removes, is unspecified); this form gives the same decision on every CPU.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "tts_kernels.h"

typedef struct {
    uint32_t key;
    int32_t i;
} entry;

/* An order-preserving key: a < b as floats (no NaN) implies key(a) < key(b); -0 sorts just before +0. */
static inline uint32_t key_of(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : u | 0x80000000u;
}

static inline float value_of(uint32_t key) {
    const uint32_t u = (key & 0x80000000u) ? key & 0x7fffffffu : ~key;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

#define RADIX_BITS 11
#define RADIX (1 << RADIX_BITS)

/*
 * Sorts e[0..m) ascending by key (stable: equal keys keep their order) with three passes of 11 bits, using tmp[0..m);
 * the result is in e. Branch-free, about 3m moves: the row's order without a comparison sort.
 */
static void radix_sort(entry* e, entry* tmp, long m) {
    static const int shifts[3] = {0, 11, 22};
    uint32_t count[RADIX];
    entry* src = e;
    entry* dst = tmp;
    for (int pass = 0; pass < 3; pass++) {
        const int sh = shifts[pass];
        memset(count, 0, sizeof count);
        for (long j = 0; j < m; j++) {
            count[(src[j].key >> sh) & (RADIX - 1)]++;
        }
        uint32_t at = 0;
        for (int b = 0; b < RADIX; b++) {
            const uint32_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (long j = 0; j < m; j++) {
            dst[count[(src[j].key >> sh) & (RADIX - 1)]++] = src[j];
        }
        entry* t = src;
        src = dst;
        dst = t;
    }
    if (src != e) {
        memcpy(e, src, (size_t) m * sizeof(entry));
    }
}

/*
 * The key of ascending rank r (0-based) among keys[0..m), by histograms of 11, 11 and 10 bits: each level counts the
 * candidates' digits and keeps those of the digit that holds rank r (copied to tmp[0..m)). keys is left as it was.
 */
static uint32_t radix_select(const uint32_t* keys, uint32_t* tmp, long m, long r) {
    static const int shifts[3] = {21, 10, 0};
    static const uint32_t masks[3] = {0x7ffu, 0x7ffu, 0x3ffu};
    uint32_t count[RADIX];
    const uint32_t* c = keys;
    uint32_t prefix = 0;   /* the digits chosen so far, in place */
    uint32_t known = 0;    /* which bits of the key they fix */
    for (int level = 0; level < 3; level++) {
        const int sh = shifts[level];
        const uint32_t mk = masks[level];
        memset(count, 0, sizeof count);
        for (long j = 0; j < m; j++) {
            count[(c[j] >> sh) & mk]++;
        }
        uint32_t d = 0;
        while (r >= (long) count[d]) {
            r -= count[d];
            d++;
        }
        prefix |= d << sh;
        known |= mk << sh;
        if (level == 2) break;
        long k = 0;
        for (long j = 0; j < m; j++) {
            if ((c[j] & known) == prefix) tmp[k++] = c[j];
        }
        c = tmp;
        m = k;
    }
    return prefix;
}

/*
 * out[0..n) = the warped logits[0..n). temperature: divides when > 0 and != 1; top_k: active when in (0, n);
 * top_p_threshold (fl32(1 - top_p)): active when >= 0, the sorted prefix whose cumulative probability is <= it is
 * removed (never the largest); penalty: active when != 1, over history[0..h) (ids in [0, n)). out may be logits.
 * Returns how many outputs are finite (0: all -inf), -1 when the input holds NaN or +inf (or the division makes
 * one), -2 for an id outside [0, n), -3 when scratch memory cannot be had.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_LogitsKernel_warp(JNIEnv* env, jclass cls, jlong logitsAddr,
        jint n, jfloat temperature, jint topK, jfloat topPThreshold, jfloat penalty, jlong historyAddr, jint h,
        jlong outAddr) {
    (void) env;
    (void) cls;
    const float* logits = (const float*) (intptr_t) logitsAddr;
    const int64_t* history = (const int64_t*) (intptr_t) historyAddr;
    float* s = (float*) (intptr_t) outAddr;
    const int divide = temperature > 0 && temperature != 1.0f;
    for (long i = 0; i < h; i++) {
        if (history[i] < 0 || history[i] >= n) return -2;
    }
    for (long i = 0; i < n; i++) {
        const float v = divide ? logits[i] / temperature : logits[i];
        if (v != v || v == INFINITY) return -1;
        s[i] = v;
    }
    const int topk = topK > 0 && topK < n;
    const int topp = topPThreshold >= 0;
    const int penalise = penalty != 1.0f && h > 0;
    /* one scratch block, 16 bytes a value (105 kB for T3's row, under malloc's threshold for fresh pages every
       call): the keys and the selection's scratch, then the sorted entries and the sort's scratch, then the kept
       values' exps, then the penalty's marks */
    entry* e = NULL;
    if (topk || topp || penalise) {
        e = (entry*) malloc((size_t) n * 2 * sizeof(entry));
        if (e == NULL) return -3;
    }
    if (topk || topp) {
        entry* tmp = e + n;
        if (topk) {
            /* the k-th largest value, duplicates counted; everything below it goes (equal values stay) */
            uint32_t* keys = (uint32_t*) tmp;
            for (long i = 0; i < n; i++) {
                keys[i] = key_of(s[i]);
            }
            const float kth = value_of(radix_select(keys, (uint32_t*) e, n, (long) n - topK));
            for (long i = 0; i < n; i++) {
                if (s[i] < kth) s[i] = -INFINITY;
            }
        }
        if (topp) {
            long m = 0; /* the values still there, in ascending order (-inf has probability 0: removed already) */
            for (long i = 0; i < n; i++) {
                if (s[i] != -INFINITY) {
                    e[m].key = key_of(s[i]);
                    e[m].i = (int32_t) i;
                    m++;
                }
            }
            if (m > 1) {
                radix_sort(e, tmp, m);
                double* ex = (double*) tmp;
                const float max = value_of(e[m - 1].key);
                double sum = 0;
                for (long j = 0; j < m; j++) {
                    ex[j] = exp((double) (value_of(e[j].key) - max));
                    sum += ex[j];
                }
                /*
                 * Whole groups of equal values, smallest first, while the cumulative probability up to a group's end
                 * is <= the cut. A group the cut falls inside is kept whole: upstream's sort leaves the order of
                 * equal values unspecified (its introsort scrambles them), so which of them it removes is arbitrary;
                 * here equal logits are treated alike, as top-k treats duplicates of its k-th value. The largest
                 * value is never removed.
                 */
                const double limit = (double) topPThreshold * sum;
                double cum = 0;
                long j = 0;
                while (j < m) {
                    const float v = value_of(e[j].key);
                    long g = j;
                    while (g < m && value_of(e[g].key) == v) {
                        cum += ex[g];
                        g++;
                    }
                    if (g >= m || cum > limit) break;
                    for (; j < g; j++) {
                        s[e[j].i] = -INFINITY;
                    }
                }
            }
        }
    }
    if (penalise) {
        /* every occurrence of an id reads the value before any write (a gather, then a scatter): once per id */
        uint8_t* seen = (uint8_t*) e;
        memset(seen, 0, (size_t) n);
        for (long i = 0; i < h; i++) {
            const long id = (long) history[i];
            if (!seen[id]) {
                seen[id] = 1;
                const float v = s[id];
                s[id] = v < 0 ? v * penalty : v / penalty;
            }
        }
    }
    free(e);
    jint finite = 0;
    for (long i = 0; i < n; i++) {
        finite += s[i] != -INFINITY;
    }
    return finite;
}

/*
 * The inverse-CDF draw from probs[0..n): c[i] = fl32 of the cumulative sum accumulated in double, threshold
 * t = fl32(u * c[n-1]), token = how many c[i] <= t; when that is n, the last token with a probability > 0. Returns
 * the token, or -1 when no probability is > 0.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_LogitsKernel_draw(JNIEnv* env, jclass cls, jlong probsAddr,
        jint n, jfloat u) {
    (void) env;
    (void) cls;
    const float* p = (const float*) (intptr_t) probsAddr;
    double acc = 0;
    for (long i = 0; i < n; i++) {
        acc += p[i];
    }
    const float t = u * (float) acc;
    acc = 0;
    jint count = 0;
    for (long i = 0; i < n; i++) {
        acc += p[i];
        count += (float) acc <= t;
    }
    if (count < n) return count;
    for (long i = n - 1; i >= 0; i--) {
        if (p[i] > 0) return (jint) i;
    }
    return -1;
}
