/*
 * The flow attention's AMX path (flow_attention_kernel.c, path 2) on a CPU without AMX: the kernel's source compiled
 * with the tile model of amx_tiles.h in place of the tile instructions, run beside the AVX512-BF16 path (path 1, on
 * this CPU's own instructions) and a double-precision reference over the same bf16 inputs. Run by
 * nn.Bf16AttentionAmxModelTest, which compiles it with gcc and judges what it prints:
 *
 *   skip <why>                          the CPU lacks AVX512-BF16 (the AMX path's softmax and packing need it)
 *   case t= heads= ld= ldo= magnitude= threads= amx= avx= paths=
 *                                       max |path - reference| / max |reference| for each path, and between paths
 *   threads t= equal=0|1                the AMX path's bits with 1 thread against 2, 3, 8 and 64
 *   one-frame equal=0|1                 t = 1: the value row comes back to the bit
 *   nan all=0|1                         a NaN value row makes every output NaN
 *   untouched=0|1                       nothing outside the output rows' heads was written, over every case
 *   refused=0|1                         sizes the kernel does not take come back -3, nothing written
 *   tile-ops <n>                        tile instructions the model ran (the AMX path really ran)
 *
 * Scratch memory comes back from aligned_alloc filled with NaN bytes, so a result that reads scratch before writing
 * it shows as NaN.
 */
#define _GNU_SOURCE
#include <immintrin.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "amx_tiles.h"

static void* dirty_aligned_alloc(size_t alignment, size_t size) {
    void* p = aligned_alloc(alignment, size);
    if (p != NULL) {
        memset(p, 0xff, size); /* NaN in fp32 and bf16 */
    }
    return p;
}
#define aligned_alloc dirty_aligned_alloc
#include "flow_attention_kernel.c"
#undef aligned_alloc

static uint64_t rng_state;

static double uniform(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return ((rng_state >> 11) + 0.5) / 9007199254740992.0;
}

static double gaussian(void) {
    return sqrt(-2.0 * log(uniform())) * cos(6.283185307179586 * uniform());
}

static uint16_t to_bf16_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    u += 0x7fff + (u >> 16 & 1);
    return (uint16_t) (u >> 16);
}

static double from_bf16(uint16_t h) {
    const uint32_t u = (uint32_t) h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

/* out[i, h] of the attention over the bf16 rows, in double */
static void reference(const uint16_t* q, const uint16_t* k, const uint16_t* v, long ld, long t, int heads,
        double scale, double* out) {
    double* s = malloc(sizeof(double) * (size_t) t);
    for (int h = 0; h < heads; h++) {
        for (long i = 0; i < t; i++) {
            double m = -INFINITY;
            for (long j = 0; j < t; j++) {
                double d = 0;
                for (int c = 0; c < HD; c++) {
                    d += from_bf16(q[i * ld + h * HD + c]) * from_bf16(k[j * ld + h * HD + c]);
                }
                s[j] = scale * d;
                m = s[j] > m ? s[j] : m;
            }
            double sum = 0;
            for (long j = 0; j < t; j++) {
                s[j] = exp(s[j] - m);
                sum += s[j];
            }
            for (int c = 0; c < HD; c++) {
                double o = 0;
                for (long j = 0; j < t; j++) {
                    o += s[j] * from_bf16(v[j * ld + h * HD + c]);
                }
                out[(i * heads + h) * HD + c] = o / sum;
            }
        }
    }
    free(s);
}

#define CANARY 0x7e57

/* out: t rows of ldo values; the heads' values and a canary in the rest */
static uint16_t* output(long t, long ldo) {
    uint16_t* o = malloc(sizeof(uint16_t) * (size_t) (t * ldo + 1));
    for (long i = 0; i < t * ldo + 1; i++) {
        o[i] = CANARY;
    }
    return o;
}

static int untouched = 1;

static void check_canary(const uint16_t* o, long t, long ldo, int heads) {
    for (long i = 0; i < t; i++) {
        for (long c = (long) heads * HD; c < ldo; c++) {
            untouched &= o[i * ldo + c] == CANARY;
        }
    }
    untouched &= o[t * ldo] == CANARY;
}

/* max |got - ref| / max |ref| over the heads' values */
static double error(const uint16_t* got, long ldo, const double* ref, long t, int heads) {
    double worst = 0, top = 0;
    for (long i = 0; i < t; i++) {
        for (int c = 0; c < heads * HD; c++) {
            const double r = ref[i * heads * HD + c];
            const double d = fabs(from_bf16(got[i * ldo + c]) - r);
            worst = d > worst || isnan(d) ? d : worst;
            top = fabs(r) > top ? fabs(r) : top;
        }
    }
    return worst / top;
}

static double between(const uint16_t* a, const uint16_t* b, long ldo, long t, int heads) {
    double worst = 0, top = 0;
    for (long i = 0; i < t; i++) {
        for (int c = 0; c < heads * HD; c++) {
            const double x = from_bf16(a[i * ldo + c]), y = from_bf16(b[i * ldo + c]);
            const double d = fabs(x - y);
            worst = d > worst || isnan(d) ? d : worst;
            top = fabs(y) > top ? fabs(y) : top;
        }
    }
    return worst / top;
}

static int same_bits(const uint16_t* a, const uint16_t* b, long ldo, long t, int heads) {
    for (long i = 0; i < t; i++) {
        if (memcmp(a + i * ldo, b + i * ldo, sizeof(uint16_t) * (size_t) heads * HD) != 0) {
            return 0;
        }
    }
    return 1;
}

/* q, k, v: one allocation of t rows of ld values, q at column 0, k at heads * 64, v at 2 heads * 64 (a packed qkv
   projection, as the flow's estimator hands over), or three of their own when ld is heads * 64 */
typedef struct {
    uint16_t* mem[3];
    const uint16_t* q;
    const uint16_t* k;
    const uint16_t* v;
} inputs;

static inputs make_inputs(long t, int heads, long ld, double magnitude, uint64_t seed) {
    inputs in;
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    const int packed = ld >= 3L * heads * HD;
    const int count = packed ? 1 : 3;
    for (int a = 0; a < 3; a++) {
        in.mem[a] = NULL;
    }
    for (int a = 0; a < count; a++) {
        in.mem[a] = malloc(sizeof(uint16_t) * (size_t) (t * ld));
        for (long i = 0; i < t * ld; i++) {
            in.mem[a][i] = to_bf16_bits((float) (gaussian() * magnitude));
        }
    }
    in.q = in.mem[0];
    in.k = packed ? in.mem[0] + heads * HD : in.mem[1];
    in.v = packed ? in.mem[0] + 2 * heads * HD : in.mem[2];
    return in;
}

static void free_inputs(inputs* in) {
    for (int a = 0; a < 3; a++) {
        free(in->mem[a]);
    }
}

static int run(const inputs* in, long ld, long t, int heads, float scale, uint16_t* out, long ldo, int path,
        int threads) {
    return attend_bf16(in->q, in->k, in->v, ld, NULL, NULL, 0, (jint) t, heads, HD, scale, out, ldo, path, threads);
}

int main(void) {
    if (!(usable_paths() & (1 << 1))) {
        printf("skip no AVX512-BF16 on this CPU\n");
        return 0;
    }
    paths = usable_paths() | (1 << 2); /* the AMX path, on the model */
    const float scale = 0.125f;
    const long lengths[] = {1, 2, 15, 16, 17, 31, 32, 33, 47, 100, 257, 544, 1006};
    for (int seed = 1; seed <= 2; seed++) {
        for (size_t li = 0; li < sizeof lengths / sizeof lengths[0]; li++) {
            for (int mi = 0; mi < 2; mi++) {
                const long t = lengths[li];
                const double magnitude = mi == 0 ? 1.0 : 4.0;
                const int heads = seed == 2 ? 3 : 8;
                const long ld = seed == 2 ? 3L * heads * HD : heads * HD; /* packed qkv rows, or rows of their own */
                const long ldo = heads * HD + (seed == 2 ? 40 : 0);
                const int threads = (int) (li % 3) + 1;
                inputs in = make_inputs(t, heads, ld, magnitude, (uint64_t) (seed * 1009 + t * 31 + mi));
                double* ref = malloc(sizeof(double) * (size_t) (t * heads * HD));
                reference(in.q, in.k, in.v, ld, t, heads, scale, ref);
                uint16_t* amx = output(t, ldo);
                uint16_t* avx = output(t, ldo);
                if (run(&in, ld, t, heads, scale, amx, ldo, 2, threads) != 0
                        || run(&in, ld, t, heads, scale, avx, ldo, 1, threads) != 0) {
                    printf("failed t=%ld\n", t);
                    return 1;
                }
                check_canary(amx, t, ldo, heads);
                check_canary(avx, t, ldo, heads);
                printf("case t=%ld heads=%d ld=%ld ldo=%ld magnitude=%.0f threads=%d amx=%.3e avx=%.3e paths=%.3e\n",
                        t, heads, ld, ldo, magnitude, threads, error(amx, ldo, ref, t, heads),
                        error(avx, ldo, ref, t, heads), between(amx, avx, ldo, t, heads));
                free(amx);
                free(avx);
                free(ref);
                free_inputs(&in);
            }
        }
    }
    for (long t = 300; t <= 301; t++) {
        const int heads = 8;
        const long ld = heads * HD;
        inputs in = make_inputs(t, heads, ld, 2.0, (uint64_t) t);
        uint16_t* one = output(t, ld);
        run(&in, ld, t, heads, scale, one, ld, 2, 1);
        int equal = 1;
        const int counts[] = {2, 3, 8, 64};
        for (int c = 0; c < 4; c++) {
            uint16_t* many = output(t, ld);
            run(&in, ld, t, heads, scale, many, ld, 2, counts[c]);
            equal &= same_bits(one, many, ld, t, heads);
            free(many);
        }
        printf("threads t=%ld equal=%d\n", t, equal);
        free(one);
        free_inputs(&in);
    }
    {
        inputs in = make_inputs(1, 8, 512, 1.0, 5);
        uint16_t* out = output(1, 512);
        run(&in, 512, 1, 8, scale, out, 512, 2, 2);
        printf("one-frame equal=%d\n", memcmp(out, in.v, 512 * sizeof(uint16_t)) == 0);
        free(out);
        free_inputs(&in);
    }
    {
        const long t = 40;
        inputs in = make_inputs(t, 8, 512, 1.0, 31);
        for (int c = 0; c < 512; c++) {
            in.mem[2][7 * 512 + c] = 0x7fc0; /* NaN */
        }
        uint16_t* out = output(t, 512);
        run(&in, 512, t, 8, scale, out, 512, 2, 2);
        int all = 1;
        for (long i = 0; i < t * 512; i++) {
            all &= isnan(from_bf16(out[i]));
        }
        printf("nan all=%d\n", all);
        free(out);
        free_inputs(&in);
    }
    {
        inputs in = make_inputs(20, 8, 512, 1.0, 7);
        uint16_t* out = output(20, 512);
        const int refused = run(&in, 512, 20, 8, scale, out, 511, 2, 2) == -3 /* rows too short for the heads */
                && attend_bf16(in.q, in.k, in.v, 512, NULL, NULL, 0, 20, 8, 128, scale, out, 512, 2, 2) == -3
                && run(&in, 512, -1, 8, scale, out, 512, 2, 2) == -3;
        int unwritten = 1;
        for (long i = 0; i < 20 * 512; i++) {
            unwritten &= out[i] == CANARY;
        }
        printf("refused=%d\n", refused && unwritten);
        free(out);
        free_inputs(&in);
    }
    printf("untouched=%d\n", untouched);
    printf("tile-ops %ld\n", amx_model_ops);
    return 0;
}
