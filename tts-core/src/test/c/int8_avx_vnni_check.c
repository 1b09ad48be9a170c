/*
 * The int8 kernel's AVX-VNNI path (int8_kernel.c, ISA_AVX_VNNI: the T3 decode's products on Intel's 12th to 14th
 * generation desktop CPUs and AMD Zen 5, which have AVX-VNNI without AVX-512 VNNI or beside it) on a CPU without
 * AVX-VNNI: the kernel's source compiled with a model of the one instruction that path adds, VEX-encoded VPDPBUSD
 * (_mm256_dpbusd_avx_epi32), written in C after the pseudocode of Intel's manual, and with the CPU's AVX2 standing in
 * for AVX-VNNI in the kernel's detection. Every path's products are the same integers, so every path must give the
 * same bits as the plain C one. Run by nn.Int8KernelAvxVnniModelTest, which compiles it with gcc and judges what it
 * prints:
 *
 *   skip <why>                          the CPU lacks AVX2 (the path's other instructions)
 *   isa code=<c> cases=<n> same=<n>      of n products on ISA code, how many gave the plain C path's bits
 *   untouched=0|1                       no product wrote outside its rows' columns [n0, n1)
 *   model-calls <n>                     VPDPBUSD instructions the model ran (the path really ran)
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long model_calls;

/* VPDPBUSD ymm (VEX): each 32-bit lane of acc plus the four products of a's unsigned bytes and b's signed bytes of
   that lane, in 32-bit arithmetic that wraps (no saturation). */
__attribute__((target("avx2")))
static inline __m256i model_dpbusd_avx_epi32(__m256i acc, __m256i a, __m256i b) {
    uint8_t ua[32];
    int8_t sb[32];
    uint32_t c[8];
    memcpy(ua, &a, 32);
    memcpy(sb, &b, 32);
    memcpy(c, &acc, 32);
    for (int l = 0; l < 8; l++) {
        int32_t s = 0;
        for (int i = 0; i < 4; i++) {
            s += (int32_t) ua[4 * l + i] * sb[4 * l + i];
        }
        c[l] += (uint32_t) s;
    }
    memcpy(&acc, c, 32);
    __atomic_add_fetch(&model_calls, 1, __ATOMIC_RELAXED);
    return acc;
}

#define _mm256_dpbusd_avx_epi32(acc, a, b) model_dpbusd_avx_epi32((acc), (a), (b))
/* AVX2 stands in for AVX-VNNI (a macro does not expand within itself, so the builtin inside is the real one) */
#define __builtin_cpu_supports(f) \
    (__builtin_strcmp((f), "avxvnni") == 0 ? __builtin_cpu_supports("avx2") : __builtin_cpu_supports(f))
#include "int8_kernel.c"
#undef __builtin_cpu_supports

static uint64_t rng_state = 88172645463325252ull;

static uint64_t next(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static float uniform(void) {
    return (float) ((next() >> 11) * (1.0 / 9007199254740992.0) * 2.0 - 1.0);
}

#define CANARY -12345.0f

int main(void) {
    if (!__builtin_cpu_supports("avx2")) {
        printf("skip no AVX2 on this CPU\n");
        return 0;
    }
    const int mask = tts_int8_detect();
    if (!(mask & (1 << ISA_AVX_VNNI))) {
        printf("failed: the model's AVX-VNNI not detected (mask %d)\n", mask);
        return 1;
    }
    const long ins[] = {1, 31, 32, 33, 63, 64, 65, 100, 1024, 1025, 4096};
    const long outs[] = {1, 3, 4, 7, 64, 1027};
    const long ms[] = {1, 2, 5};
    int cases[5] = {0}, same[5] = {0};
    int untouched = 1;
    for (size_t ii = 0; ii < sizeof ins / sizeof ins[0]; ii++) {
        for (size_t oi = 0; oi < sizeof outs / sizeof outs[0]; oi++) {
            for (size_t mi = 0; mi < sizeof ms / sizeof ms[0]; mi++) {
                const long in = ins[ii], out = outs[oi], m = ms[mi];
                const int variant = (int) ((ii + oi + mi) % 4);
                int8_t* w = malloc((size_t) (out * in));
                float* x = malloc(sizeof(float) * (size_t) (m * in));
                float* scale = malloc(sizeof(float) * (size_t) out);
                float* bias = malloc(sizeof(float) * (size_t) out);
                for (long i = 0; i < out * in; i++) {
                    w[i] = (int8_t) ((long) (next() % 255) - 127); /* the kernel's codes: [-127, 127] */
                }
                for (long i = 0; i < m * in; i++) {
                    x[i] = uniform() * (variant == 3 ? 100.0f : 1.0f);
                }
                for (long n = 0; n < out; n++) {
                    scale[n] = 0.001f + 0.01f * (float) (next() % 100);
                    bias[n] = uniform();
                }
                /* all columns, or an inner range (a thread's share) */
                const long n0 = variant == 2 && out > 8 ? 4 : 0;
                const long n1 = variant == 2 && out > 8 ? out - 1 : out;
                const int threads = variant == 1 ? 3 : 1;
                float* want = NULL;
                for (int isa = ISA_SCALAR; isa <= ISA_AVX512_VNNI; isa++) {
                    if (!(mask & (1 << isa))) {
                        continue;
                    }
                    float* y = malloc(sizeof(float) * (size_t) (m * out));
                    for (long i = 0; i < m * out; i++) {
                        y[i] = CANARY;
                    }
                    const jint rc = Java_dev_localai_tts_core_nn_Int8Kernel_linear(NULL, NULL, (jlong) (intptr_t) x,
                            (jint) m, (jint) in, (jlong) (intptr_t) w, (jlong) (intptr_t) scale,
                            (jlong) (intptr_t) (variant == 0 ? NULL : bias), (jlong) (intptr_t) y, (jint) out,
                            (jint) n0, (jint) n1, isa, threads);
                    if (rc != 0) {
                        printf("failed: rc %d on ISA %d\n", rc, isa);
                        return 1;
                    }
                    for (long r = 0; r < m; r++) {
                        for (long n = 0; n < out; n++) {
                            if ((n < n0 || n >= n1) && y[r * out + n] != CANARY) {
                                untouched = 0;
                            }
                        }
                    }
                    cases[isa]++;
                    if (want == NULL) {
                        want = y;
                        same[isa]++;
                    } else {
                        same[isa] += memcmp(want, y, sizeof(float) * (size_t) (m * out)) == 0;
                        free(y);
                    }
                }
                free(want);
                free(w);
                free(x);
                free(scale);
                free(bias);
            }
        }
    }
    for (int isa = ISA_SCALAR; isa <= ISA_AVX512_VNNI; isa++) {
        if (cases[isa] > 0) {
            printf("isa code=%d cases=%d same=%d\n", isa, cases[isa], same[isa]);
        }
    }
    printf("untouched=%d\n", untouched);
    printf("model-calls %ld\n", model_calls);
    return 0;
}
