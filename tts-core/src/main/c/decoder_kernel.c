/*
 * One decode step of a pre-LN GPT-2 block for the CPU (nn.DecoderBlockKernel), for m rows at once, each its own
 * token of its own sequence:
 *
 *   h = ln_1(x);  q|k|v = h Wqkv + b;  k, v -> the row's cache at its position;  a = attention(q, cache);
 *   x += a Wo + b;  h = ln_2(x);  x += gelu_tanh(h Wfc + b) Wproj + b
 *
 * with the four int8 matrices multiplied as int8_kernel.c does (each input row quantized on its own, exact int32
 * sums, one epilogue), the attention as attention_kernel.c does, the layer norms in double-precision sums and the
 * GELU by tts_math.c. Everything runs in one OpenMP parallel region on LibTorch's threads, the phases separated by
 * barriers (tts_barrier_wait, which spins for tens of microseconds before it sleeps: see tts_kernels.h): a step of
 * T3 made of LibTorch operations spends about a quarter of its time between its kernels (creating and dispatching
 * some twenty operations per block); this does none of that.
 *
 * Determinism: a row's result depends only on that row (its products, layer norms and attention are its own), and
 * every value is computed by one thread in a fixed order, so neither the number of threads nor the other rows of a
 * batch change a bit of it. The products give the same bits on every instruction set; the attention's AVX-512 and
 * AVX2 paths differ from plain C by rounding, as in attention_kernel.c.
 */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <omp.h>
#include "tts_kernels.h"

/* tts_barrier_wait's spin budget (tts_kernels.h): the longest spin to begin with */
_Atomic unsigned long long tts_barrier_spin = TTS_BARRIER_SPIN_MAX;

/* the block's tensors, in the order of nn.DecoderBlockKernel's address array */
enum {
    LN1_W, LN1_B, QKV_W, QKV_S, QKV_B, ATTN_W, ATTN_S, ATTN_B, LN2_W, LN2_B, FC_W, FC_S, FC_B, PROJ_W, PROJ_S,
    PROJ_B, N_PARAMS
};

/* y = (x - mean) / sqrt(var + eps) * w + b over d values, the moments summed in double in a fixed order */
static void layer_norm(const float* x, const float* w, const float* b, float eps, long d, float* y) {
    double s[4] = {0, 0, 0, 0};
    long k = 0;
    for (; k + 4 <= d; k += 4) {
        for (int i = 0; i < 4; i++) s[i] += x[k + i];
    }
    for (int i = 0; k < d; k++, i++) s[i] += x[k];
    const double mean = ((s[0] + s[1]) + (s[2] + s[3])) / (double) d;
    double v[4] = {0, 0, 0, 0};
    for (k = 0; k + 4 <= d; k += 4) {
        for (int i = 0; i < 4; i++) {
            const double t = x[k + i] - mean;
            v[i] += t * t;
        }
    }
    for (int i = 0; k < d; k++, i++) {
        const double t = x[k] - mean;
        v[i] += t * t;
    }
    const double var = ((v[0] + v[1]) + (v[2] + v[3])) / (double) d;
    const float rstd = (float) (1.0 / sqrt(var + (double) eps));
    const float m = (float) mean;
    for (k = 0; k < d; k++) {
        y[k] = (x[k] - m) * rstd * w[k] + (b != NULL ? b[k] : 0.0f);
    }
}

/* a work counter, alone on its cache line */
typedef struct {
    atomic_long next;
    char pad[64 - sizeof(atomic_long)];
} counter_t;

/*
 * Load balancing. The two vCPUs of a VM do not run at one speed: with each product split in halves, one thread waited
 * 0.3-1.9 ms a step at the barriers for the other, and which one varied from round to round (AMD EPYC Zen 5 VM). So
 * each phase's work (a product's output rows, the attention's (row, head) pairs) is split into units: every thread
 * first takes its even share of the first three quarters of the units, in one piece, and then claims the rest one
 * unit at a time from the phase's counter, so the faster thread does more of the tail. Whichever thread computes a
 * unit computes it whole, in the same order, so the results are the same bits (docs/performance.md, "Twelfth round").
 */
#define TAIL_NUM 1
#define TAIL_DEN 4
/* a product's unit: about 128 KB of int8 weights (64 KB was slower: short streams), whole groups of four rows */
#define UNIT_BYTES 131072L

/* the first unit of thread t's even share of `fixed` units, and the one after it */
static void fixed_share(long fixed, int t, int nt, long* a, long* z) {
    *a = fixed / nt * t;
    *z = t == nt - 1 ? fixed : fixed / nt * (t + 1);
}

/* units from `fixed` on, one at a time, until there are none */
static long claim(counter_t* next, long fixed) {
    return fixed + atomic_fetch_add_explicit(&next->next, 1, memory_order_relaxed);
}

/* x (m, in) quantized rows -> y (m, n), GELU'd where gelu: this thread's units of output rows */
static void product(const int8_t* w, const float* s, const float* b, long in, const int8_t* xq, const float* steps,
        long m, float* y, long n, int t, int nt, int isa, counter_t* next, int gelu) {
    long per = UNIT_BYTES / in / 4 * 4;
    per = per < 4 ? 4 : per;
    const long units = (n + per - 1) / per;
    const long fixed = units * (TAIL_DEN - TAIL_NUM) / TAIL_DEN;
    long u0, u1;
    fixed_share(fixed, t, nt, &u0, &u1);
    while (u0 < units) {
        const long a = u0 * per;
        const long z = u1 * per < n ? u1 * per : n;
        if (a < z) {
            tts_int8_product(w, in, xq, steps, m, s, b, y, n, a, z, isa);
            if (gelu) {
                for (long r = 0; r < m; r++) tts_gelu_tanh(y + r * n + a, z - a);
            }
        }
        u0 = claim(next, fixed);
        u1 = u0 + 1;
    }
}

/* x[r] += y[r] (d values) */
static void add_row(float* x, const float* y, long d) {
    for (long k = 0; k < d; k++) x[k] += y[k];
}

/* what every thread of one call shares */
typedef struct {
    long m, d, heads, inner, hd;
    float eps, scale;
    int half, isa, attPath;
    const jlong* params;     /* (layers, N_PARAMS) */
    const jlong* k;          /* (layers, m): each row's cache of each layer */
    const jlong* v;
    const jint* pos;         /* (m) */
    const jlong* headStride; /* (m): elements between two heads of a row's cache */
    float* x;                /* (m, d): the caller's residual rows */
    float* qkv;              /* (m, 3d) */
    float* att;              /* (m, d): the heads' outputs */
    float* tmp;              /* (m, d): a projection's output */
    float* inn;              /* (m, inner) */
    float* scores;           /* (team, maxLen) */
    long maxLen;
    counter_t* work;         /* (layers, PHASES): each phase's counter of claimed tail units, from 0 */
} shared_t;

/* the phases of a block whose work is shared out by units */
enum { PH_QKV, PH_ATTENTION, PH_ATTN_PROJ, PH_FC, PH_PROJ, PHASES };

/* where a thread keeps the residual, a layer norm's output and a product's quantized input with its steps: the
   shared ones (rows divided among the threads), or its own copies of every row (own) */
typedef struct {
    float* xr;
    float* h;
    float* steps;
    int8_t* xq;
    int own;
} rows_t;

/* the rows this thread does row work for: all of them in its own copies, else every nt-th */
#define FOR_ROWS(c, w, t, nt, r) for (long r = (w)->own ? 0 : (t); r < (c)->m; r += (w)->own ? 1 : (nt))

/* a product's input rows src (m, width), shared, quantized into this thread's rows (own) or its share of the shared
   ones, then, where shared, the barrier before any thread reads them */
static void quantize_input(const float* src, long width, const shared_t* c, const rows_t* w, int t, int nt,
        tts_barrier* bar) {
    FOR_ROWS(c, w, t, nt, r) {
        w->steps[r] = tts_quantize_row(src + r * width, width, w->xq + r * width);
    }
    if (!w->own) tts_barrier_wait(bar, nt);
}

/* one block (layer l) for thread t of nt; the barriers separate what one thread writes from what another reads */
static void block(const shared_t* c, int l, int t, int nt, tts_barrier* bar, const rows_t* w) {
    const jlong* p = c->params + (long) l * N_PARAMS;
#define F(i) ((const float*) (intptr_t) p[i])
#define W(i) ((const int8_t*) (intptr_t) p[i])
    const long m = c->m, d = c->d, hd = c->hd, inner = c->inner;
    FOR_ROWS(c, w, t, nt, r) {
        layer_norm(w->xr + r * d, F(LN1_W), F(LN1_B), c->eps, d, w->h + r * d);
        w->steps[r] = tts_quantize_row(w->h + r * d, d, w->xq + r * d);
    }
    if (!w->own) tts_barrier_wait(bar, nt);
    counter_t* work = c->work + (long) l * PHASES;
    product(W(QKV_W), F(QKV_S), F(QKV_B), d, w->xq, w->steps, m, c->qkv, 3L * d, t, nt, c->isa, work + PH_QKV, 0);
    tts_barrier_wait(bar, nt);
    /* one (row, head) at a time: its key and value into the cache, then its attention; pairs of the fixed share
       every nt-th (neighbouring heads on different threads), then the tail as claimed */
    const long pairs = m * c->heads;
    const long fixedPairs = pairs * (TAIL_DEN - TAIL_NUM) / TAIL_DEN / nt * nt;
    for (long u = t < fixedPairs ? t : claim(work + PH_ATTENTION, fixedPairs); u < pairs;
            u = u + nt < fixedPairs ? u + nt : claim(work + PH_ATTENTION, fixedPairs)) {
        const long r = u / c->heads;
        const long hh = u % c->heads;
        const float* q = c->qkv + r * 3 * d + hh * hd;
        const long head0 = hh * c->headStride[r];
        const long at = head0 + (long) c->pos[r] * hd; /* this head's row pos, in elements */
        char* kc = (char*) (intptr_t) c->k[(long) l * m + r];
        char* vc = (char*) (intptr_t) c->v[(long) l * m + r];
        if (c->half) {
            tts_float_to_half(q + d, (uint16_t*) kc + at, hd);
            tts_float_to_half(q + 2L * d, (uint16_t*) vc + at, hd);
        } else {
            memcpy((float*) kc + at, q + d, sizeof(float) * (size_t) hd);
            memcpy((float*) vc + at, q + 2L * d, sizeof(float) * (size_t) hd);
        }
        const size_t size = c->half ? sizeof(uint16_t) : sizeof(float);
        tts_attention_head(c->attPath, c->half, q, kc + head0 * size, vc + head0 * size, hd, c->pos[r] + 1L,
                c->scale, c->scores + (long) t * c->maxLen, c->att + r * d + hh * hd);
    }
    tts_barrier_wait(bar, nt);
    quantize_input(c->att, d, c, w, t, nt, bar);
    product(W(ATTN_W), F(ATTN_S), F(ATTN_B), d, w->xq, w->steps, m, c->tmp, d, t, nt, c->isa, work + PH_ATTN_PROJ,
            0);
    tts_barrier_wait(bar, nt);
    FOR_ROWS(c, w, t, nt, r) {
        add_row(w->xr + r * d, c->tmp + r * d, d);
        layer_norm(w->xr + r * d, F(LN2_W), F(LN2_B), c->eps, d, w->h + r * d);
        w->steps[r] = tts_quantize_row(w->h + r * d, d, w->xq + r * d);
    }
    if (!w->own) tts_barrier_wait(bar, nt);
    product(W(FC_W), F(FC_S), F(FC_B), d, w->xq, w->steps, m, c->inn, inner, t, nt, c->isa, work + PH_FC, 1);
    tts_barrier_wait(bar, nt);
    quantize_input(c->inn, inner, c, w, t, nt, bar);
    product(W(PROJ_W), F(PROJ_S), F(PROJ_B), inner, w->xq, w->steps, m, c->tmp, d, t, nt, c->isa, work + PH_PROJ, 0);
    tts_barrier_wait(bar, nt);
    /* the next block's first rows work reads the same rows of xr as this writes: no barrier between blocks */
    FOR_ROWS(c, w, t, nt, r) {
        add_row(w->xr + r * d, c->tmp + r * d, d);
    }
#undef W
#undef F
}

/* bytes rounded up to whole cache lines */
static size_t lines(size_t bytes) {
    return (bytes + 63) & ~(size_t) 63;
}

/*
 * x (m, d) fp32, updated in place by `layers` blocks in turn. params: layers x N_PARAMS addresses (int8 matrices
 * (out, in) row-major with fp32 row scales; biases may be 0). k, v: layers x m addresses, row r of layer l at
 * [l * m + r]. Row r writes its key and value at position pos[r] of its caches (the layer's contiguous (heads, cap[r],
 * d / heads) tensors, fp16 where half, else fp32) and attends over positions 0..pos[r]. An fp16 cache stores the key
 * and value rounded to nearest, saturated at +-65504.
 *
 * The blocks run in one OpenMP region. Where there are fewer rows than threads (one session's step), a thread with
 * no row of its own would only wait while another does the row work (the layer norms, the residual adds, the
 * quantization of a product's input), so every thread does all of it on its own copies of the rows instead: four
 * barriers fewer per block, and the same operations on the same values, so the same bits.
 *
 * Returns 0, -1 when scratch memory could not be had (nothing written), -2 for an ISA this CPU lacks, -3 for a
 * position outside its cache (nothing run).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_steps(JNIEnv* env, jclass cls, jlong xAddr,
        jint m, jint d, jint heads, jint inner, jint layers, jlongArray paramArray, jfloat eps, jfloat scale,
        jlongArray kArray, jlongArray vArray, jintArray capArray, jintArray posArray, jint half, jint isa,
        jint attPath, jint threads) {
    (void) cls;
    if (isa < 0 || isa > ISA_AVX512_VNNI || !(tts_int8_detect() & (1 << isa))) {
        return -2;
    }
    if (m < 1 || layers < 1) {
        return -3;
    }
    const int best = tts_attention_path();
    if (attPath > best) attPath = best;
    const long hd = d / heads;
    const long wide = 3L * d > inner ? 3L * d : inner;
    const int team = threads < 1 ? 1 : threads;
    const int own = m < team;
    /* the addresses (params, k, v), then per row its head stride, then its position and capacity */
    const size_t nAddr = (size_t) layers * N_PARAMS + 2 * (size_t) layers * (size_t) m;
    jlong* meta = malloc(sizeof(jlong) * (nAddr + (size_t) m) + sizeof(jint) * 2 * (size_t) m);
    if (meta == NULL) {
        return -1;
    }
    jlong* prm = meta;
    jlong* kk = prm + (long) layers * N_PARAMS;
    jlong* vv = kk + (long) layers * m;
    jlong* stride = vv + (long) layers * m;
    jint* pos = (jint*) (stride + m);
    (*env)->GetLongArrayRegion(env, paramArray, 0, layers * N_PARAMS, prm);
    (*env)->GetLongArrayRegion(env, kArray, 0, layers * m, kk);
    (*env)->GetLongArrayRegion(env, vArray, 0, layers * m, vv);
    (*env)->GetIntArrayRegion(env, posArray, 0, m, pos);
    (*env)->GetIntArrayRegion(env, capArray, 0, m, pos + m);
    long maxLen = 1;
    int outside = 0;
    for (int r = 0; r < m; r++) {
        maxLen = pos[r] + 1 > maxLen ? pos[r] + 1 : maxLen;
        outside |= pos[r] < 0 || pos[r] >= pos[m + r];
        stride[r] = (jlong) pos[m + r] * hd;
    }
    if (outside) {
        free(meta);
        return -3;
    }
    /* shared: the products' outputs and the attention's scores; then the row buffers, once shared or once per thread */
    const size_t sharedBytes = lines(sizeof(float) * ((size_t) m * (size_t) (3L * d + d + d + inner)
            + (size_t) maxLen * (size_t) team));
    const size_t rowBytes = lines(sizeof(float) * (size_t) m * (size_t) (own ? 2L * d : d))
            + lines(sizeof(float) * (size_t) m) + lines((size_t) m * (size_t) wide);
    const size_t workBytes = sizeof(counter_t) * (size_t) layers * PHASES;
    char* buf = aligned_alloc(64, workBytes + sharedBytes + rowBytes * (size_t) (own ? team : 1));
    if (buf == NULL) {
        free(meta);
        return -1;
    }
    counter_t* work = (counter_t*) buf;
    for (long i = 0; i < (long) layers * PHASES; i++) {
        atomic_init(&work[i].next, 0);
    }
    shared_t c;
    c.m = m;
    c.d = d;
    c.heads = heads;
    c.inner = inner;
    c.hd = hd;
    c.eps = eps;
    c.scale = scale;
    c.half = half;
    c.isa = isa;
    c.attPath = attPath;
    c.params = prm;
    c.k = kk;
    c.v = vv;
    c.pos = pos;
    c.headStride = stride;
    c.x = (float*) (intptr_t) xAddr;
    c.qkv = (float*) (buf + workBytes);
    c.att = c.qkv + 3L * m * d;
    c.tmp = c.att + (long) m * d;
    c.inn = c.tmp + (long) m * d;
    c.scores = c.inn + (long) m * inner;
    c.maxLen = maxLen;
    c.work = work;
    tts_barrier bar = {0, 0, 0};
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        char* mine = buf + workBytes + sharedBytes + (own ? (size_t) t * rowBytes : 0);
        rows_t w;
        w.own = own;
        float* rows = (float*) mine;
        w.xr = own ? rows : c.x;
        w.h = own ? rows + (long) m * d : rows;
        w.steps = (float*) (mine + lines(sizeof(float) * (size_t) m * (size_t) (own ? 2L * d : d)));
        w.xq = (int8_t*) ((char*) w.steps + lines(sizeof(float) * (size_t) m));
        if (own) {
            memcpy(w.xr, c.x, sizeof(float) * (size_t) m * (size_t) d);
        }
        for (int l = 0; l < layers; l++) {
            block(&c, l, t, nt, &bar, &w);
        }
        /* every thread holds the same rows: the first writes them back */
        if (own && t == 0) {
            memcpy(c.x, w.xr, sizeof(float) * (size_t) m * (size_t) d);
        }
    }
    free(buf);
    free(meta);
    return 0;
}
