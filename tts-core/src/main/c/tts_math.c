/*
 * Element-wise functions of the native kernels: exp for the attention's softmax and GPT-2's tanh GELU.
 *
 * exp(x) = 2^n * p(r), n = round(x / ln 2), r = x - n ln 2 (in two parts), p a degree-7 polynomial (Cephes' expf
 * coefficients): within 2 ulp of exp over the float range, inputs clamped to [-87.3, 88] (so 2^n stays a normal
 * float; below, the results are about 1e-38 rather than 0, which no softmax or GELU tells apart). Written with plain
 * IEEE operations only (no libm call, no fused multiply-add: the library is built with -ffp-contract=off), so the
 * compiler's vector clones for AVX-512 and AVX2 and the plain code give the same bits; each loop is compiled for the
 * three and the CPU's best (under ATEN_CPU_CAPABILITY's cap, tts_clone_level) is picked on first use.
 *
 * libm's expf is one call per element: the attention's softmax runs 190 000 of them per T3 decode step at 500
 * positions, the GELU 100 000.
 */
#pragma GCC optimize("no-trapping-math") /* lets the clamps below become vector blends; no result changes */
#include <jni.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "tts_kernels.h"

/* The loops, each compiled for AVX-512, AVX2 and plain x86-64 (the compiler vectorizes each for its target). */
#define CLONES(NAME, PARAMS, BODY) \
    __attribute__((target("avx512f"))) static void NAME##_avx512 PARAMS BODY \
    __attribute__((target("avx2"))) static void NAME##_avx2 PARAMS BODY \
    static void NAME##_plain PARAMS BODY

CLONES(exp_shifted, (float* s, long len, float m), {
    for (long j = 0; j < len; j++) {
        s[j] = tts_exp(s[j] - m);
    }
})

CLONES(gelu, (float* y, long n), {
    for (long j = 0; j < n; j++) {
        const float x = y[j];
        const float u = 0.7978845608028654f * (x + 0.044715f * (x * x * x));
        /* 0.5 (1 + tanh u) = 1 / (1 + exp(-2u)) */
        y[j] = x / (1.0f + tts_exp(-2.0f * u));
    }
})

/* 2 AVX-512, 1 AVX2, 0 plain: read once (a race between first callers writes the same value) */
static int level = -1;

static int cpu_clone_level(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 2 : __builtin_cpu_supports("avx2") ? 1 : 0;
}

int tts_clone_level(void) {
    if (level < 0) {
        int l = cpu_clone_level();
        /* LibTorch's dispatch cap, as nn.NativeKernels.capped reads it for the other kernels: avx2 -> at most the
           AVX2 clones, default -> the plain ones (the same bits either way; a run under the cap then times, and the
           test suite's scalar-dispatch execution tests, the clones such a CPU would run) */
        const char* cap = getenv("ATEN_CPU_CAPABILITY");
        if (cap != NULL && strcasecmp(cap, "avx2") == 0 && l > 1) {
            l = 1;
        } else if (cap != NULL && strcasecmp(cap, "default") == 0) {
            l = 0;
        }
        level = l;
    }
    return level;
}

/*
 * nn.NativeKernels.cloneLevel (tests): with a level >= 0, the clones from now on (at most the CPU's best); returns the
 * level in force. Lets a test run every clone this CPU has on the same input and compare the bits.
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_NativeKernels_cloneLevel(JNIEnv* env, jclass cls, jint wanted) {
    (void) env;
    (void) cls;
    if (wanted >= 0) {
        const int best = cpu_clone_level();
        level = wanted < best ? wanted : best;
    }
    return tts_clone_level();
}

static void exp_shifted(float* s, long len, float m) {
    switch (tts_clone_level()) {
        case 2: exp_shifted_avx512(s, len, m); break;
        case 1: exp_shifted_avx2(s, len, m); break;
        default: exp_shifted_plain(s, len, m); break;
    }
}

float tts_exp_shifted_sum(float* s, long len, float m) {
    exp_shifted(s, len, m);
    /* eight running sums, then a fixed tree: the same order everywhere, and not one long chain of dependent adds */
    float a[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    long j = 0;
    for (; j + 8 <= len; j += 8) {
        for (int i = 0; i < 8; i++) a[i] += s[j + i];
    }
    for (int i = 0; j < len; j++, i++) a[i] += s[j];
    return ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
}

void tts_gelu_tanh(float* y, long n) {
    switch (tts_clone_level()) {
        case 2: gelu_avx512(y, n); break;
        case 1: gelu_avx2(y, n); break;
        default: gelu_plain(y, n); break;
    }
}

void tts_float_to_half(const float* x, uint16_t* h, long n) {
    for (long i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], sizeof b);
        const uint16_t sign = (uint16_t) ((b >> 16) & 0x8000);
        const uint32_t a = b & 0x7fffffffu;
        uint16_t r;
        if (a > 0x7f800000u) {
            r = 0x7e00; /* NaN */
        } else if (a >= 0x477fe000u) {
            r = 0x7bff; /* 65504 and beyond, infinity included: the largest half */
        } else if (a >= 0x38800000u) {
            /* a normal half: rebias the exponent, round the 13 dropped bits to nearest even */
            r = (uint16_t) ((a - 0x38000000u + 0xfffu + ((a >> 13) & 1u)) >> 13);
        } else {
            /* a subnormal half (or zero): the value in units of 2^-24, rounded to nearest even as a float */
            float f;
            memcpy(&f, &a, sizeof f);
            f = f * 16777216.0f;
            f = (f + 8388608.0f) - 8388608.0f;
            r = (uint16_t) f;
        }
        h[i] = sign | r;
    }
}
