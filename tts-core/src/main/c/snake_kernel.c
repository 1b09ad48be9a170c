/*
 * HiFT's Snake activation (nn.SnakeKernel, model/hift/Snake): out = x + inv * sin(alpha x)^2, alpha and inv = 1 /
 * (alpha + 1e-9) one per channel, in one pass over the tensor. LibTorch takes five (the product, sin, the square,
 * the scale, the sum), each reading and writing the whole tensor: 72 of them per 64-frame window of HiFT, 8 MB each
 * at its last level.
 *
 * The operations are LibTorch's, in its order (y = x alpha, rounded; its sine; the square; times inv; plus x), with
 * one difference: the sine. sin(y)^2 has period pi, so y is reduced to r = y - n pi, n = rint(y / pi), with pi in
 * four parts of 12, 12, 12 and 24 bits (n pi's first three parts are exact products for |n| < 4096), and sin(r) on
 * [-pi/2, pi/2] is r + r^3 P(r^2), P of degree 3 fitted to sine's relative error (6e-9 in exact arithmetic; within
 * 2.4 ulp in float over |y| <= 8192, against 3.5 for the SLEEF sine LibTorch's vector paths call). |y| beyond 8192,
 * and a non-finite y, take libm's sinf instead (a second, scalar pass over the few elements that need it). Plain
 * IEEE operations only (the library is built with -ffp-contract=off), each loop compiled for AVX-512, AVX2 and plain
 * x86-64: every CPU and thread count gives the same bits.
 */
#pragma GCC optimize("no-trapping-math")
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <omp.h>
#include "tts_kernels.h"

#define CLONES(NAME, PARAMS, BODY) \
    __attribute__((target("avx512f"))) static void NAME##_avx512 PARAMS BODY \
    __attribute__((target("avx2"))) static void NAME##_avx2 PARAMS BODY \
    static void NAME##_plain PARAMS BODY

/* the largest |y| the reduction below is exact for: n = rint(y / pi) stays under 4096 */
#define SNAKE_REDUCED_MAX 8192.0f

/* sin(y)^2 for |y| <= SNAKE_REDUCED_MAX (other y give garbage here and are redone with sinf) */
static inline float sin_squared(float y) {
    float n = y * 0.318309886183790672f;
    n = (n + 12582912.0f) - 12582912.0f; /* round to nearest even: 1.5 * 2^23 */
    float r = y - n * 3.1416015625f;     /* pi = 0x1.922p+1 - 0x1.2aep-17 - 0x1.deap-30 + 0x1.18p-43 */
    r = r - n * -8.90716910362243652e-06f;
    r = r - n * -1.74122760654427111e-09f;
    r = r - n * 1.24344978758017532e-13f;
    const float s = r * r;
    float p = 2.60582851296931040e-06f;
    p = p * s + -1.98096240637823939e-04f;
    p = p * s + 8.33306647837162018e-03f;
    p = p * s + -1.66666597127914429e-01f;
    const float sn = r + (r * s) * p;
    return sn * sn;
}

/* n values of one channel: out = x + inv sin(a x)^2; returns whether any needs sinf (|a x| too large or not finite) */
CLONES(snake_channel, (const float* x, long n, float a, float inv, float* out, int* far), {
    int f = 0;
    for (long j = 0; j < n; j++) {
        const float y = x[j] * a;
        f |= !(fabsf(y) <= SNAKE_REDUCED_MAX);
        out[j] = sin_squared(y) * inv + x[j];
    }
    *far = f;
})

/* c channels of one time step (channels innermost): out[k] = x[k] + inv[k] sin(a[k] x[k])^2 */
CLONES(snake_step, (const float* x, long c, const float* a, const float* inv, float* out, int* far), {
    int f = 0;
    for (long k = 0; k < c; k++) {
        const float y = x[k] * a[k];
        f |= !(fabsf(y) <= SNAKE_REDUCED_MAX);
        out[k] = sin_squared(y) * inv[k] + x[k];
    }
    *far = f;
})

/*
 * What the vector loops left to sinf, in LibTorch's order with libm's sine: the elements of a run of n whose |a x| is
 * beyond the reduction's range (or not finite). The run's alpha and inv are a[k * stride], inv[k * stride]: stride 0
 * for one channel's steps, 1 for one step's channels.
 */
static void redo_far(const float* x, long n, const float* a, const float* inv, long stride, float* out) {
    for (long k = 0; k < n; k++) {
        const float y = x[k] * a[k * stride];
        if (!(fabsf(y) <= SNAKE_REDUCED_MAX)) {
            const float s = sinf(y);
            out[k] = (s * s) * inv[k * stride] + x[k];
        }
    }
}

static void channel(const float* x, long n, float a, float inv, float* out) {
    int far = 0;
    switch (tts_clone_level()) {
        case 2: snake_channel_avx512(x, n, a, inv, out, &far); break;
        case 1: snake_channel_avx2(x, n, a, inv, out, &far); break;
        default: snake_channel_plain(x, n, a, inv, out, &far); break;
    }
    if (far) {
        redo_far(x, n, &a, &inv, 0, out);
    }
}

static void step(const float* x, long c, const float* a, const float* inv, float* out) {
    int far = 0;
    switch (tts_clone_level()) {
        case 2: snake_step_avx512(x, c, a, inv, out, &far); break;
        case 1: snake_step_avx2(x, c, a, inv, out, &far); break;
        default: snake_step_plain(x, c, a, inv, out, &far); break;
    }
    if (far) {
        redo_far(x, c, a, inv, 1, out);
    }
}

/*
 * x, out: b batches of c channels by t steps, fp32: channelsLast == 0 each channel's t values contiguous (strides
 * c t, t, 1), else each step's c channels (strides c t, 1, c); out laid out as x (it may be x itself). alpha, inv: c
 * floats. Returns 0, or -3 for sizes it does not take (nothing written then).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_SnakeKernel_snake(JNIEnv* env, jclass cls, jlong xAddr, jlong b,
        jlong c, jlong t, jint channelsLast, jlong alphaAddr, jlong invAddr, jlong outAddr, jint threads) {
    (void) env;
    (void) cls;
    if (b < 0 || c < 0 || t < 0) {
        return -3;
    }
    if (b == 0 || c == 0 || t == 0) {
        return 0;
    }
    const float* x = (const float*) (intptr_t) xAddr;
    const float* a = (const float*) (intptr_t) alphaAddr;
    const float* inv = (const float*) (intptr_t) invAddr;
    float* out = (float*) (intptr_t) outAddr;
    const long runs = channelsLast ? b * t : b * c; /* contiguous runs: time steps of c, or channels of t */
    const int team = threads < 1 ? 1 : (threads > runs ? (int) runs : threads);
#pragma omp parallel for num_threads(team) schedule(static)
    for (long i = 0; i < runs; i++) {
        if (channelsLast) {
            step(x + i * c, c, a, inv, out + i * c);
        } else {
            const long k = i % c;
            channel(x + i * t, t, a[k], inv[k], out + i * t);
        }
    }
    return 0;
}
