/*
 * What the kernels of libtts_cpu.so share (int8_kernel.c, attention_kernel.c, decoder_kernel.c): hidden from the
 * library's exports, which are the JNI entry points only.
 */
#ifndef TTS_KERNELS_H
#define TTS_KERNELS_H

#include <stdint.h>
#include <string.h>

#define TTS_INTERNAL __attribute__((visibility("hidden")))

/* int8_kernel.c: instruction-set codes (nn.Int8Kernel.Isa's ordinals) */
enum { ISA_SCALAR = 0, ISA_AVX2 = 1, ISA_AVX_VNNI = 2, ISA_AVX512_VNNI = 3 };

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

/*
 * One head: out (d) = softmax(scale * q k^T) v over len rows of k and v (d values each: fp32, or fp16 where half);
 * s: len floats of scratch.
 */
TTS_INTERNAL void tts_attention_head(int path, int half, const float* q, const void* k, const void* v, long d,
        long len, float scale, float* s, float* out);

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

#endif
