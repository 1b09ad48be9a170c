/*
 * What the kernels of libtts_cpu.so share (int8_kernel.c, attention_kernel.c, decoder_kernel.c): hidden from the
 * library's exports, which are the JNI entry points only.
 */
#ifndef TTS_KERNELS_H
#define TTS_KERNELS_H

#include <stdint.h>
#include <string.h>
#include <emmintrin.h>

#define TTS_INTERNAL __attribute__((visibility("hidden")))

/* int8_kernel.c: instruction-set codes (nn.Int8Kernel.Isa's ordinals) */
enum { ISA_SCALAR = 0, ISA_SSSE3 = 1, ISA_AVX2 = 2, ISA_AVX_VNNI = 3, ISA_AVX512_VNNI = 4 };

/* The ISAs this CPU runs, one bit per code. */
TTS_INTERNAL int tts_int8_detect(void);

/* xq = rint(x / step) with step = max|x| / 127, returned (0 for a zero row, NaN for a non-finite one). */
TTS_INTERNAL float tts_quantize_row(const float* x, long in, int8_t* xq);

/*
 * Columns [n0, n1) of y (m, out) for m quantized rows xq (m, in) with their steps: w (out, in) int8, scale (out),
 * bias (out) or NULL. One thread; the same bits for any split of the columns.
 */
TTS_INTERNAL void tts_int8_product(const int8_t* w, long in, const int8_t* xq, const float* steps, long m,
        const float* scale, const float* bias, float* y, long out, long n0, long n1, int isa);

/*
 * Thread t's share [*a, *z) of the columns [n0, n1) among nt threads: whole groups of four (the products' unit of four
 * far-apart rows), as even as they go; empty for threads past the end.
 */
static inline void tts_share(long n0, long n1, long t, long nt, long* a, long* z) {
    const long per = ((n1 - n0 + 3) / 4 + nt - 1) / nt * 4;
    *a = n0 + t * per < n1 ? n0 + t * per : n1;
    *z = n0 + (t + 1) * per < n1 ? n0 + (t + 1) * per : n1;
}

/* attention_kernel.c: path codes (0 plain C, 1 AVX2 + FMA, 3 AVX-512) */
enum { PATH_SCALAR = 0, PATH_AVX2 = 1, PATH_AVX512 = 3 };

/* The best path this CPU runs. */
TTS_INTERNAL int tts_attention_path(void);

/* The element types of a key/value cache (nn.KvType's codes). An int8 cache's row j of a head holds
   round(x * 127 / max|x|) and that head's row scales ks[j] = max|x| / 127 (tts_quantize_kv_row): key row j is
   ks[j] * k[j], value row j vs[j] * v[j]. */
enum { KV_FP32 = 0, KV_FP16 = 1, KV_INT8 = 2 };

/* Bytes of one cached element of kind `kind`. */
static inline size_t tts_kv_bytes(int kind) {
    return kind == KV_FP32 ? 4 : kind == KV_FP16 ? 2 : 1;
}

/*
 * One head: out (d) = softmax(scale * q k^T) v over len rows of k and v (d values each, of kind `kind`; an int8 cache's
 * row scales in ks and vs, len each, else unused); s: len floats of scratch.
 */
TTS_INTERNAL void tts_attention_head(int path, int kind, const float* q, const void* k, const void* v,
        const float* ks, const float* vs, long d, long len, float scale, float* s, float* out);

/*
 * One row of n values into an int8 cache: amax = max |x|, q[i] = round-to-even(x[i] * (127 / amax)) within +-127, and
 * *scale = amax * (1 / 127.f); a row of zeros gets q = 0 and scale 0, a row with a NaN q = 0 and a NaN scale (so the
 * NaN reaches the attention's output, as with an fp32 or fp16 cache). The same float operations as KvCache's LibTorch
 * form, so both write the same bits.
 */
TTS_INTERNAL void tts_quantize_kv_row(const float* x, int8_t* q, float* scale, long n);

/*
 * exp(x) = 2^n * p(r) (tts_math.c says how): within 2 ulp over the float range, inputs clamped to [-87.3, 88], plain
 * IEEE operations only, so every instruction set gives the same bits. Inline, so each caller's vector clones inline it.
 */
static inline float tts_exp(float x) {
    x = x < -87.33654f ? -87.33654f : x; /* a NaN fails both tests and stays NaN */
    x = x > 88.0f ? 88.0f : x;
    float n = x * 1.44269504088896341f;
    n = (n + 12582912.0f) - 12582912.0f; /* round to nearest even: 1.5 * 2^23 */
    float r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    const float r2 = r * r;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * r2 + r;
    p = p + 1.0f;
    /* 2^n: n in [-126, 127] here (a NaN's garbage exponent is multiplied by a NaN) */
    const uint32_t bits = (uint32_t) ((int32_t) n + 127) << 23;
    float two;
    memcpy(&two, &bits, sizeof two);
    return p * two;
}

/*
 * tts_math.c: which clones of the element-wise loops run (2 AVX-512, 1 AVX2, 0 plain x86-64): the CPU's best, capped
 * by ATEN_CPU_CAPABILITY (avx2, default) as LibTorch's kernels are. The clones give the same bits.
 */
TTS_INTERNAL int tts_clone_level(void);

/* tts_math.c: element-wise functions, the same bits on every path (plain IEEE operations, no contraction) */

/* s[j] = exp(s[j] - m) for j < len; returns their sum (added in a fixed order). */
TTS_INTERNAL float tts_exp_shifted_sum(float* s, long len, float m);

/* y[j] = gelu_tanh(y[j]) = y / (1 + exp(-2 sqrt(2/pi) (y + 0.044715 y^3))) in place (GPT-2's gelu_new). */
TTS_INTERNAL void tts_gelu_tanh(float* y, long n);

/* fp16 <-> fp32: a half converts exactly; a float rounds to nearest even, saturating at +-65504 (NaN stays NaN). */
static inline float tts_half_to_float(uint16_t h) {
    const uint32_t sign = (uint32_t) (h & 0x8000) << 16;
    const uint32_t e = (h >> 10) & 0x1f;
    const uint32_t m = h & 0x3ff;
    uint32_t bits;
    if (e == 0) {
        const float f = (float) m * (1.0f / 16777216.0f); /* subnormal: m * 2^-24, exact */
        return sign ? -f : f;
    }
    bits = sign | (e == 31 ? 0x7f800000u | (m << 13) : ((e + 112) << 23) | (m << 13));
    float f;
    __builtin_memcpy(&f, &bits, sizeof f);
    return f;
}

TTS_INTERNAL void tts_float_to_half(const float* x, uint16_t* h, long n);

/*
 * Four halves (the low 16 bits of each int32 lane) to floats with SSE2 only, exactly and with tts_half_to_float's
 * bits: a normal half's exponent rebased by 112 (an infinity's or NaN's by 224, to 255), a subnormal one m * 2^-24,
 * the sign put back last. CPUs without AVX have no F16C (half_kernel.c's and attention_kernel.c's paths for them).
 */
static inline __m128 tts_half4_sse2(__m128i h) {
    const __m128i sign = _mm_slli_epi32(_mm_and_si128(h, _mm_set1_epi32(0x8000)), 16);
    const __m128i em = _mm_and_si128(h, _mm_set1_epi32(0x7fff));
    const __m128i rebase = _mm_set1_epi32(112 << 23);
    const __m128i top = _mm_cmpgt_epi32(em, _mm_set1_epi32(0x7bff)); /* exponent 31: infinity or NaN */
    const __m128i bits = _mm_add_epi32(_mm_add_epi32(_mm_slli_epi32(em, 13), rebase), _mm_and_si128(top, rebase));
    const __m128 sub = _mm_castsi128_ps(_mm_cmplt_epi32(em, _mm_set1_epi32(0x0400))); /* exponent 0 */
    const __m128 small = _mm_mul_ps(_mm_cvtepi32_ps(em), _mm_set1_ps(1.0f / 16777216.0f));
    const __m128 f = _mm_or_ps(_mm_and_ps(sub, small), _mm_andnot_ps(sub, _mm_castsi128_ps(bits)));
    return _mm_or_ps(f, _mm_castsi128_ps(sign));
}

/*
 * A barrier for the threads of one parallel region that spins, then sleeps on a futex. libgomp's own barrier spins
 * only about a hundred rounds before sleeping whenever the process has more OpenMP threads than CPUs, idle pools of
 * other threads included (nn.ThreadPools), and a decode step crosses 216 barriers, each of which then costs a futex
 * round trip (a step 9.4-11.3 ms with another thread's idle pool against 7.4-10.1 with this barrier,
 * docs/performance.md, "Tenth round"). Here a waiter spins on the generation for up to TTS_BARRIER_SPIN_MAX
 * time-stamp cycles (tens of microseconds, longer than a phase's imbalance), then sleeps until the last thread's wake.
 * The budget adapts: a quarter after a wait that lasted longer than the longest spin (with more threads than CPUs,
 * e.g. T3 decoding beside the flow, a spinning waiter holds the CPU its descheduled teammate needs: a fixed 30 us spin
 * made such steps 26 ms against libgomp's 17.5), double after a shorter one. Acquire/release ordering: what a thread
 * wrote before the barrier is visible to all after it; the sleeper count and the generation are sequentially
 * consistent, so a wake cannot be lost. Zero-initialise one per region, shared by its team; nt is the team's size
 * (omp_get_num_threads()).
 */
#include <immintrin.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <x86intrin.h>

#define TTS_BARRIER_SPIN_MAX 100000ULL
#define TTS_BARRIER_SPIN_MIN 1000ULL

typedef struct {
    atomic_int arrived;
    atomic_int generation;
    atomic_int sleepers;
} tts_barrier;

/* the spin budget in time-stamp cycles, shared by every barrier of the library (decoder_kernel.c) */
extern _Atomic unsigned long long tts_barrier_spin;

static inline void tts_barrier_wait(tts_barrier* b, int nt) {
    if (nt <= 1) {
        return;
    }
    const int g = atomic_load_explicit(&b->generation, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == nt - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        atomic_store_explicit(&b->generation, g + 1, memory_order_seq_cst);
        if (atomic_load_explicit(&b->sleepers, memory_order_seq_cst) > 0) {
            syscall(SYS_futex, &b->generation, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
        }
        return;
    }
    const unsigned long long budget = atomic_load_explicit(&tts_barrier_spin, memory_order_relaxed);
    const unsigned long long start = __rdtsc();
    while (__rdtsc() - start < budget) {
        if (atomic_load_explicit(&b->generation, memory_order_acquire) != g) {
            if (budget < TTS_BARRIER_SPIN_MAX) {
                atomic_store_explicit(&tts_barrier_spin, budget * 2 < TTS_BARRIER_SPIN_MAX ? budget * 2
                        : TTS_BARRIER_SPIN_MAX, memory_order_relaxed);
            }
            return;
        }
        _mm_pause();
    }
    atomic_fetch_add_explicit(&b->sleepers, 1, memory_order_seq_cst);
    while (atomic_load_explicit(&b->generation, memory_order_seq_cst) == g) {
        syscall(SYS_futex, &b->generation, FUTEX_WAIT_PRIVATE, g, NULL, NULL, 0);
    }
    atomic_fetch_sub_explicit(&b->sleepers, 1, memory_order_relaxed);
    /* a wait that ended soon after the budget: spinning longer would have saved the sleep; a long one (a descheduled
       teammate): spin less */
    const unsigned long long waited = __rdtsc() - start;
    const unsigned long long next = waited < TTS_BARRIER_SPIN_MAX ? (budget * 2 < TTS_BARRIER_SPIN_MAX ? budget * 2
            : TTS_BARRIER_SPIN_MAX) : (budget / 4 > TTS_BARRIER_SPIN_MIN ? budget / 4 : TTS_BARRIER_SPIN_MIN);
    atomic_store_explicit(&tts_barrier_spin, next, memory_order_relaxed);
}

#endif
