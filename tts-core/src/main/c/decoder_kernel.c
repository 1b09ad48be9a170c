/*
 * One decode step of a pre-LN GPT-2 block for the CPU (nn.DecoderBlockKernel), for m rows at once, each its own
 * token of its own sequence:
 *
 *   h = ln_1(x);  q|k|v = h Wqkv + b;  k, v -> the row's cache at its position;  a = attention(q, cache);
 *   x += a Wo + b;  h = ln_2(x);  x += gelu_tanh(h Wfc + b) Wproj + b
 *
 * with the four int8 matrices multiplied as int8_kernel.c does (each input row quantized on its own, exact int32
 * sums, one epilogue), the attention as attention_kernel.c does, the layer norms in double-precision sums and the
 * GELU by tts_math.c. Everything runs in one OpenMP parallel region on LibTorch's threads: a step of T3 made of
 * LibTorch operations spends about a quarter of its time between its kernels (creating and dispatching some twenty
 * operations per block); this does none of that. Two ways to share the work:
 *
 * - a step of fewer rows than threads (one session's) or of at most OWN_ROWS rows (block_own): every thread does
 *   the row work on its own copy of the rows, and the threads share out each phase's units with no barrier: a thread
 *   that has done its part and sees a teammate's units open and the teammate showing no sign of work computes them
 *   itself (the same bits, written over the same bits), so a thread the scheduler or the hypervisor has taken away
 *   stalls no one for long (docs/performance.md, "Twenty-fourth round" and "Twenty-fifth round");
 * - a larger batch (block_shared): the threads divide the rows' row work and meet at barriers between the phases
 *   (tts_barrier_wait, which spins for tens of microseconds before it sleeps: see tts_kernels.h).
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
#include <sched.h>
#include <time.h>
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

/*
 * A phase's meeting point, alone on its cache line: the threads that have done all they took (as a barrier's
 * arrivals), and whether a thread has helped (then the others check a unit's flags before they compute it).
 */
typedef struct {
    atomic_int arrived;
    atomic_int helped;
    char pad[64 - 2 * sizeof(atomic_int)];
} meet_t;

/* a thread's heartbeat, alone on its cache line: counted up (by that thread only) as it enters a phase and as it
   finishes a run of units */
typedef struct {
    atomic_long beat;
    char pad[64 - sizeof(atomic_long)];
} progress_t;

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
    int kind, isa, attPath;  /* kind: the caches' element type (KV_FP32, KV_FP16, KV_INT8) */
    const jlong* params;     /* (layers, N_PARAMS) */
    const jlong* k;          /* (layers, m): each row's cache of each layer */
    const jlong* v;
    const jint* pos;         /* (m) */
    const jlong* headStride; /* (m): elements between two heads of a row's cache */
    float* x;                /* (m, d): the caller's residual rows */
    /* a batch's products' outputs, one set for every layer; one session's, one set per layer (block_own) */
    float* qkv;              /* (m, 3d) */
    float* att;              /* (m, d): the heads' outputs */
    float* tmp;              /* (m, d): a projection's output */
    float* inn;              /* (m, inner) */
    float* tmp2;             /* (m, d): the second projection's output (block_own; the batch reuses tmp) */
    long layerFloats;        /* block_own: floats from one layer's set of outputs to the next's */
    float* scores;           /* (team, maxLen) */
    long maxLen;
    counter_t* work;         /* (layers, PHASES): each phase's counter of claimed tail units, from 0 */
    /* block_own's bookkeeping: each phase's meeting point and its threads' flags, each thread's progress */
    meet_t* meets;           /* (layers, PHASES) */
    char* flags;             /* (layers, PHASES, team) lanes of flagBytes each */
    long flagBytes;
} shared_t;

/* the phases of a block whose work is shared out by units */
enum { PH_QKV, PH_ATTENTION, PH_ATTN_PROJ, PH_FC, PH_PROJ, PHASES };

/* row r's head hh at layer l: its key and value (from the row's q|k|v, qkv) into the row's cache at its position, then
   its attention over the cache into out (hd values); scores: maxLen floats of this thread's */
static void attend(const shared_t* c, int l, long r, long hh, const float* qkv, float* scores, float* out) {
    const long d = c->d, hd = c->hd;
    const float* q = qkv + hh * hd;
    const long head0 = hh * c->headStride[r];
    const long at = head0 + (long) c->pos[r] * hd; /* this head's row pos, in elements */
    char* kc = (char*) (intptr_t) c->k[(long) l * c->m + r];
    char* vc = (char*) (intptr_t) c->v[(long) l * c->m + r];
    float* ks = NULL;
    float* vs = NULL;
    if (c->kind == KV_INT8) {
        /* the row scales (heads, capacity) follow the values: this head's from its first row's index on */
        const long rows0 = head0 / hd;
        ks = (float*) (kc + c->heads * c->headStride[r]) + rows0;
        vs = (float*) (vc + c->heads * c->headStride[r]) + rows0;
        tts_quantize_kv_row(q + d, (int8_t*) kc + at, ks + c->pos[r], hd);
        tts_quantize_kv_row(q + 2L * d, (int8_t*) vc + at, vs + c->pos[r], hd);
    } else if (c->kind == KV_FP16) {
        tts_float_to_half(q + d, (uint16_t*) kc + at, hd);
        tts_float_to_half(q + 2L * d, (uint16_t*) vc + at, hd);
    } else {
        memcpy((float*) kc + at, q + d, sizeof(float) * (size_t) hd);
        memcpy((float*) vc + at, q + 2L * d, sizeof(float) * (size_t) hd);
    }
    const size_t size = tts_kv_bytes(c->kind);
    tts_attention_head(c->attPath, c->kind, q, kc + head0 * size, vc + head0 * size, ks, vs, hd, c->pos[r] + 1L,
            c->scale, scores, out);
}

/* ---------------------------------------- a batch: rows divided, barriers ---------------------------------------- */

/* where a thread of a batch's step finds the rows (shared: it does the row work of every nt-th) */
typedef struct {
    float* xr;
    float* h;
    float* steps;
    int8_t* xq;
} rows_t;

/* the rows this thread does row work for: every nt-th */
#define FOR_ROWS(c, t, nt, r) for (long r = (t); r < (c)->m; r += (nt))

/* a product's input rows src (m, width), shared, quantized (this thread's share of them), then the barrier before
   any thread reads them */
static void quantize_input(const float* src, long width, const shared_t* c, const rows_t* w, int t, int nt,
        tts_barrier* bar) {
    FOR_ROWS(c, t, nt, r) {
        w->steps[r] = tts_quantize_row(src + r * width, width, w->xq + r * width);
    }
    tts_barrier_wait(bar, nt);
}

/* one block (layer l) of a batch for thread t of nt; the barriers separate what one thread writes from what another
   reads */
static void block_shared(const shared_t* c, int l, int t, int nt, tts_barrier* bar, const rows_t* w) {
    const jlong* p = c->params + (long) l * N_PARAMS;
#define F(i) ((const float*) (intptr_t) p[i])
#define W(i) ((const int8_t*) (intptr_t) p[i])
    const long m = c->m, d = c->d, hd = c->hd, inner = c->inner;
    FOR_ROWS(c, t, nt, r) {
        layer_norm(w->xr + r * d, F(LN1_W), F(LN1_B), c->eps, d, w->h + r * d);
        w->steps[r] = tts_quantize_row(w->h + r * d, d, w->xq + r * d);
    }
    tts_barrier_wait(bar, nt);
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
        attend(c, l, r, hh, c->qkv + r * 3 * d, c->scores + (long) t * c->maxLen, c->att + r * d + hh * hd);
    }
    tts_barrier_wait(bar, nt);
    quantize_input(c->att, d, c, w, t, nt, bar);
    product(W(ATTN_W), F(ATTN_S), F(ATTN_B), d, w->xq, w->steps, m, c->tmp, d, t, nt, c->isa, work + PH_ATTN_PROJ,
            0);
    tts_barrier_wait(bar, nt);
    FOR_ROWS(c, t, nt, r) {
        add_row(w->xr + r * d, c->tmp + r * d, d);
        layer_norm(w->xr + r * d, F(LN2_W), F(LN2_B), c->eps, d, w->h + r * d);
        w->steps[r] = tts_quantize_row(w->h + r * d, d, w->xq + r * d);
    }
    tts_barrier_wait(bar, nt);
    product(W(FC_W), F(FC_S), F(FC_B), d, w->xq, w->steps, m, c->inn, inner, t, nt, c->isa, work + PH_FC, 1);
    tts_barrier_wait(bar, nt);
    quantize_input(c->inn, inner, c, w, t, nt, bar);
    product(W(PROJ_W), F(PROJ_S), F(PROJ_B), inner, w->xq, w->steps, m, c->tmp, d, t, nt, c->isa, work + PH_PROJ, 0);
    tts_barrier_wait(bar, nt);
    /* the next block's first rows work reads the same rows of xr as this writes: no barrier between blocks */
    FOR_ROWS(c, t, nt, r) {
        add_row(w->xr + r * d, c->tmp + r * d, d);
    }
#undef W
#undef F
}

/* ------------------------------- one session: own rows, units shared out, no barrier ------------------------------ */

/*
 * One session's step shares each phase's units out as a batch's does (every thread its even share of the first three
 * quarters, in runs of RUN_UNITS units per product call, then the tail one unit at a time, claimed), but the threads
 * never wait for one another at a barrier. Every value a phase writes for others to read (each layer has its own set
 * of outputs) is computed in the thread's own buffers and then copied out whole, and each thread flags the units it
 * has done; a thread counts up a heartbeat as it enters a phase and after each run of units. A thread that has done
 * its part arrives and waits for the others as at a barrier, but when a teammate that has not arrived shows no
 * heartbeat for longer than any run of units takes (HELP_CYCLES plus a cycle per four bytes a run reads: 80-240 us
 * for T3's products, more for a head's attention over thousands of positions), it is
 * held up (descheduled, or its vCPU taken by the hypervisor, which on a 2-vCPU VM held decode steps up by 2-29 ms at
 * a time: docs/performance.md, "Twenty-fourth round"), and the waiter computes every unit not yet flagged itself. A
 * unit computed twice gives the same bits both times (its inputs are final when the phase starts, its arithmetic the
 * same on every thread), so a late thread that finishes it writes what is there already; it then finds the phases the
 * others have finished done and only brings its own rows up to date (the residual adds). The step still waits for
 * every thread at the end of the OpenMP region, so nothing is written after the call returns. While a teammate has
 * not moved since the last look the waiter yields its CPU: with more threads than CPUs (T3 beside the flow) the
 * teammate may be waiting for it.
 */
#define HELP_CYCLES 100000ULL
/* how often (time-stamp cycles, a few microseconds) a waiting thread reads its teammates' heartbeats */
#define LOOK_CYCLES 8000ULL
/* a thread's share runs through a product call in runs of at most this many units: T3's shares (3-12 units) in one
   call each, as the barriers' version ran them (one call per unit cost 4-5% of a step; runs of 4 units cost the AVX2
   kernel 6%) */
#define RUN_UNITS 16

/*
 * A batch of up to this many rows takes one session's way (block_own) even with as many rows as threads or more (two
 * or three requests at once on a 2-core machine): every thread then does every row's row work (a layer's norms,
 * quantized inputs and residual adds, about 7 us a row), but no thread waits at a barrier for one the scheduler has
 * taken away. T3 at Turbo's sizes, 2 threads, batches of 2, 3 and 4 rows by turns in one process (AMD EPYC Zen 5
 * VM): quiet, 1.4%, 1.1% and 3.5% slower than the barriers' way; beside another program's bursts (5 ms busy in every
 * 20), 12.6%, 10% and 13% faster. Larger batches, whose row work on every thread grows with them (16 rows on 8
 * threads would cost each thread eight times its share), keep the barriers.
 */
#define OWN_ROWS 3

/* units computed by a thread for a teammate that had not done them (for tests: DecoderBlockKernel.recomputedUnits) */
static atomic_long recomputed_units;

/* for tests: thread stall_thread sleeps stall_us after claiming its first unit of layer stall_layer's first
   feed-forward product, as if taken away (DecoderBlockKernel.stallForTests; stall_thread -1: never) */
static atomic_int stall_thread = -1;
static atomic_int stall_layer;
static atomic_int stall_us;
static atomic_long stalls; /* how many times the hook has slept */

/* where a thread of one session's step keeps its own copy of the rows, and its private outputs */
typedef struct {
    float* xr;     /* (m, d): the residual */
    float* h;      /* (m, d): a layer norm's output */
    float* steps;  /* (m) */
    int8_t* xq;    /* (m, wide): a product's quantized input */
    float* y;      /* (m, wide): a unit's product before it is copied out */
    float* out;    /* (hd): a head's attention before it is copied out */
    float* scores; /* (maxLen) */
    long* seen;    /* (nt): each teammate's heartbeat when this thread last looked, -1 before the first look */
    unsigned long long* since; /* (nt): the time-stamp when this thread first saw that heartbeat */
    progress_t* me;
} own_t;

/* one phase of one layer: its units, how they are shared out, and its bookkeeping */
typedef struct {
    const shared_t* c;
    int l, p;
    long units;
    long fixed;       /* the first `fixed` units are shared out in advance; the rest are claimed one at a time */
    int interleaved;  /* thread t's share: units t, t + nt, ... (the heads) instead of one run */
    meet_t* meet;
    counter_t* tail;
    char* flags;      /* nt lanes of flagBytes: thread t's lane has a flag per unit it finished, its arrival last */
    long flagBytes;
    long unitBytes;   /* about the most bytes a unit reads (a product's weights, a head's keys and values) */
    /* a product phase */
    const int8_t* w;
    const float* s;
    const float* b;
    long in, n, per;
    float* yOut;
    int gelu;
} phase_t;

static atomic_uchar* lane(const phase_t* ph, int t) {
    return (atomic_uchar*) (ph->flags + (long) t * ph->flagBytes);
}

static int unit_done(const phase_t* ph, long u, int nt) {
    for (int t = 0; t < nt; t++) {
        if (atomic_load_explicit(lane(ph, t) + u, memory_order_acquire)) {
            return 1;
        }
    }
    return 0;
}

/* whether every unit of the phase is done and visible to this thread: every thread arrived, or, after a help, every
   unit's flag set */
static int phase_done(const phase_t* ph, int nt) {
    if (atomic_load_explicit(&ph->meet->arrived, memory_order_acquire) >= nt) {
        return 1;
    }
    if (!atomic_load_explicit(&ph->meet->helped, memory_order_acquire)) {
        return 0;
    }
    for (long u = 0; u < ph->units; u++) {
        if (!unit_done(ph, u, nt)) {
            return 0;
        }
    }
    return 1;
}

/*
 * Units u..u+count-1 (a product's in one call; the attention's one head at a time), each computed into this thread's
 * own buffers and then copied out whole (a thread that computes it again writes the same bits over them), then
 * flagged in this thread's lane, and the thread's heartbeat counted up once.
 */
static void run_units(const phase_t* ph, long u, long count, int t, const own_t* w) {
    const shared_t* c = ph->c;
    if (ph->p == PH_ATTENTION) {
        for (long v = u; v < u + count; v++) {
            const long r = v / c->heads;
            const long hh = v % c->heads;
            const long off = ph->l * c->layerFloats;
            attend(c, ph->l, r, hh, c->qkv + off + r * 3 * c->d, w->scores, w->out);
            memcpy(c->att + off + r * c->d + hh * c->hd, w->out, sizeof(float) * (size_t) c->hd);
        }
    } else {
        const long a = u * ph->per;
        const long z = (u + count) * ph->per < ph->n ? (u + count) * ph->per : ph->n;
        tts_int8_product(ph->w, ph->in, w->xq, w->steps, c->m, ph->s, ph->b, w->y, ph->n, a, z, c->isa);
        for (long r = 0; r < c->m; r++) {
            if (ph->gelu) tts_gelu_tanh(w->y + r * ph->n + a, z - a);
            memcpy(ph->yOut + r * ph->n + a, w->y + r * ph->n + a, sizeof(float) * (size_t) (z - a));
        }
    }
    for (long v = u; v < u + count; v++) {
        atomic_store_explicit(lane(ph, t) + v, 1, memory_order_release);
    }
    atomic_store_explicit(&w->me->beat, atomic_load_explicit(&w->me->beat, memory_order_relaxed) + 1,
            memory_order_relaxed);
}

static void run_unit(const phase_t* ph, long u, int t, const own_t* w) {
    run_units(ph, u, 1, t, w);
}

/* the test hook: this thread's first unit of the stalled phase waits first */
static void maybe_stall(const phase_t* ph, int t, int* first) {
    if (*first && ph->p == PH_FC && atomic_load_explicit(&stall_thread, memory_order_relaxed) == t
            && atomic_load_explicit(&stall_layer, memory_order_relaxed) == ph->l) {
        const int us = atomic_load_explicit(&stall_us, memory_order_relaxed);
        struct timespec ts = {us / 1000000, (long) (us % 1000000) * 1000L};
        nanosleep(&ts, NULL);
        atomic_fetch_add(&stalls, 1);
    }
    *first = 0;
}

/* unit u, unless a helper has done it already */
static void take_unit(const phase_t* ph, long u, int t, int nt, const own_t* w, int* first) {
    if (atomic_load_explicit(&ph->meet->helped, memory_order_relaxed) && unit_done(ph, u, nt)) {
        return;
    }
    maybe_stall(ph, t, first);
    run_unit(ph, u, t, w);
}

/* a teammate's flag for having arrived at the phase, after its lane's unit flags */
static atomic_uchar* arrival(const phase_t* ph, int t) {
    return lane(ph, t) + ph->flagBytes - 1;
}

/*
 * Thread t's part of a phase: its share of the fixed units, then the tail as claimed; then it arrives and waits for
 * the others to arrive, as at a barrier. It stops waiting when a teammate that has not arrived has shown no heartbeat
 * for `patience` since this thread first saw its last one (in this phase or an earlier one: a teammate found held up
 * before is helped at once): then it computes every unit not yet flagged itself (those the teammate had claimed, and
 * the rest of its share). Returns when every unit of the phase is done, so what the phase wrote can be read.
 */
static void run_phase(const phase_t* ph, int t, int nt, const own_t* w, const progress_t* progress) {
    int first = 1;
    if (ph->interleaved) {
        for (long u = t; u < ph->fixed; u += nt) take_unit(ph, u, t, nt, w, &first);
    } else {
        long a, z;
        fixed_share(ph->fixed, t, nt, &a, &z);
        /* runs of RUN_UNITS units in one product call while no one has helped (then unit by unit, as flagged) */
        for (long u = a; u < z;) {
            if (atomic_load_explicit(&ph->meet->helped, memory_order_relaxed)) {
                take_unit(ph, u++, t, nt, w, &first);
                continue;
            }
            const long e = z - u < RUN_UNITS ? z : u + RUN_UNITS;
            maybe_stall(ph, t, &first);
            run_units(ph, u, e - u, t, w);
            u = e;
        }
    }
    for (long u = claim(ph->tail, ph->fixed); u < ph->units; u = claim(ph->tail, ph->fixed)) {
        maybe_stall(ph, t, &first);
        run_unit(ph, u, t, w);
    }
    atomic_store_explicit(arrival(ph, t), 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ph->meet->arrived, 1, memory_order_acq_rel);
    const long share = (ph->fixed + nt - 1) / nt;
    const long run = ph->interleaved ? 1 : share < 1 ? 1 : share < RUN_UNITS ? share : RUN_UNITS;
    const unsigned long long patience = HELP_CYCLES + (unsigned long long) (ph->unitBytes * run / 4);
    unsigned long long looked = 0;
    while (atomic_load_explicit(&ph->meet->arrived, memory_order_acquire) < nt) {
        const unsigned long long now = __rdtsc();
        if (now - looked > LOOK_CYCLES) {
            looked = now;
            int stuck = 0;
            int idle = 0;
            for (int o = 0; o < nt; o++) {
                if (o == t || atomic_load_explicit(arrival(ph, o), memory_order_relaxed)) {
                    continue;
                }
                const long b = atomic_load_explicit(&progress[o].beat, memory_order_relaxed);
                if (b != w->seen[o]) {
                    w->seen[o] = b;
                    w->since[o] = now;
                } else if (now - w->since[o] > patience) {
                    stuck = 1;
                } else {
                    idle = 1;
                }
            }
            if (stuck) {
                atomic_store_explicit(&ph->meet->helped, 1, memory_order_release);
                /* from the last unit back, towards whatever a slow (not stopped) teammate is working up through */
                for (long u = ph->units - 1; u >= 0; u--) {
                    if (!unit_done(ph, u, nt)) {
                        run_unit(ph, u, t, w);
                        atomic_fetch_add_explicit(&recomputed_units, 1, memory_order_relaxed);
                    }
                }
                return;
            }
            if (idle) {
                /* a teammate that has not moved since the last look may be waiting for this CPU (yielding only
                   after a longer stillness lost the gain with 4 threads on 2 CPUs, 8-10%, and saved nothing quiet) */
                sched_yield();
            }
        }
        _mm_pause();
    }
}

/* phase p of layer l: a product's (w != NULL) or the attention's */
static phase_t phase_of(const shared_t* c, int l, int p, int nt, const int8_t* wt, const float* s, const float* b,
        long in, long n, float* yOut, int gelu) {
    phase_t ph;
    memset(&ph, 0, sizeof ph);
    ph.c = c;
    ph.l = l;
    ph.p = p;
    const long index = (long) l * PHASES + p;
    ph.meet = c->meets + index;
    ph.tail = c->work + index;
    ph.flagBytes = c->flagBytes;
    ph.flags = c->flags + index * nt * c->flagBytes;
    if (p == PH_ATTENTION) {
        ph.units = c->m * c->heads;
        ph.fixed = ph.units * (TAIL_DEN - TAIL_NUM) / TAIL_DEN / nt * nt;
        ph.interleaved = 1;
        ph.unitBytes = 2L * c->maxLen * c->hd * (long) tts_kv_bytes(c->kind);
    } else {
        ph.w = wt;
        ph.s = s;
        ph.b = b;
        ph.in = in;
        ph.n = n;
        ph.per = UNIT_BYTES / in / 4 * 4 < 4 ? 4 : UNIT_BYTES / in / 4 * 4;
        ph.units = (n + ph.per - 1) / ph.per;
        ph.fixed = ph.units * (TAIL_DEN - TAIL_NUM) / TAIL_DEN;
        ph.yOut = yOut;
        ph.gelu = gelu;
        ph.unitBytes = ph.per * in;
    }
    return ph;
}

/* the most units a phase of one session's step has: the products' and the heads' */
static long max_units(long m, long d, long heads, long inner) {
    const long dims[4][2] = {{d, 3 * d}, {d, d}, {d, inner}, {inner, d}};
    long most = m * heads;
    for (int i = 0; i < 4; i++) {
        const long per = UNIT_BYTES / dims[i][0] / 4 * 4 < 4 ? 4 : UNIT_BYTES / dims[i][0] / 4 * 4;
        const long units = (dims[i][1] + per - 1) / per;
        most = units > most ? units : most;
    }
    return most;
}

/* whether phase ph is still to be run by this thread (not done by the others already); if so, the thread says it
   is in it */
static int enter(const phase_t* ph, int t, int nt, progress_t* progress) {
    if (phase_done(ph, nt)) {
        return 0;
    }
    atomic_store_explicit(&progress[t].beat, atomic_load_explicit(&progress[t].beat, memory_order_relaxed) + 1,
            memory_order_relaxed);
    return 1;
}

/* this thread's rows through a layer norm, then quantized as a product's input */
static void norm_rows(const shared_t* c, const own_t* w, const float* lnW, const float* lnB) {
    for (long r = 0; r < c->m; r++) {
        layer_norm(w->xr + r * c->d, lnW, lnB, c->eps, c->d, w->h + r * c->d);
        w->steps[r] = tts_quantize_row(w->h + r * c->d, c->d, w->xq + r * c->d);
    }
}

/* a phase's m output rows src (width values each) quantized as this thread's input to the next product */
static void quantize_rows(const own_t* w, const float* src, long width, long m) {
    for (long r = 0; r < m; r++) {
        w->steps[r] = tts_quantize_row(src + r * width, width, w->xq + r * width);
    }
}

/* this thread's rows x += y, row by row (m rows of d) */
static void add_rows(float* x, const float* y, long d, long m) {
    for (long r = 0; r < m; r++) {
        add_row(x + r * d, y + r * d, d);
    }
}

/* phase p of layer l, its outputs in the layer's set (off: the set's offset) */
static phase_t phase_for(const shared_t* c, int l, int p, int nt, long off) {
    const jlong* q = c->params + (long) l * N_PARAMS;
#define F(i) ((const float*) (intptr_t) q[i])
#define W(i) ((const int8_t*) (intptr_t) q[i])
    const long d = c->d, inner = c->inner;
    switch (p) {
        case PH_QKV: return phase_of(c, l, p, nt, W(QKV_W), F(QKV_S), F(QKV_B), d, 3L * d, c->qkv + off, 0);
        case PH_ATTN_PROJ: return phase_of(c, l, p, nt, W(ATTN_W), F(ATTN_S), F(ATTN_B), d, d, c->tmp + off, 0);
        case PH_FC: return phase_of(c, l, p, nt, W(FC_W), F(FC_S), F(FC_B), d, inner, c->inn + off, 1);
        case PH_PROJ: return phase_of(c, l, p, nt, W(PROJ_W), F(PROJ_S), F(PROJ_B), inner, d, c->tmp2 + off, 0);
        default: return phase_of(c, l, PH_ATTENTION, nt, NULL, NULL, NULL, 0, 0, NULL, 0);
    }
#undef W
#undef F
}

/* a product phase's input from this thread's rows: a layer norm's output, or the previous phase's, quantized */
static void prepare(const shared_t* c, int l, int p, long off, const own_t* w) {
    const jlong* q = c->params + (long) l * N_PARAMS;
    switch (p) {
        case PH_QKV: norm_rows(c, w, (const float*) (intptr_t) q[LN1_W], (const float*) (intptr_t) q[LN1_B]); break;
        case PH_ATTN_PROJ: quantize_rows(w, c->att + off, c->d, c->m); break;
        case PH_FC: norm_rows(c, w, (const float*) (intptr_t) q[LN2_W], (const float*) (intptr_t) q[LN2_B]); break;
        case PH_PROJ: quantize_rows(w, c->inn + off, c->inner, c->m); break;
        default: break; /* the attention reads the shared q|k|v */
    }
}

/*
 * One block (layer l) of one session's step for thread t of nt. Each phase that the others have not finished already
 * (a thread that was away finds them past it) is prepared from the thread's own rows and run; the residual adds are
 * made either way, so every thread's rows stay those of the layer the step is in.
 */
static void block_own(const shared_t* c, int l, int t, int nt, const own_t* w, progress_t* progress) {
    const long off = l * c->layerFloats;
    for (int p = 0; p < PHASES; p++) {
        const phase_t ph = phase_for(c, l, p, nt, off);
        if (enter(&ph, t, nt, progress)) {
            prepare(c, l, p, off, w);
            run_phase(&ph, t, nt, w, progress);
        }
        if (p == PH_ATTN_PROJ) add_rows(w->xr, c->tmp + off, c->d, c->m);
        if (p == PH_PROJ) add_rows(w->xr, c->tmp2 + off, c->d, c->m);
    }
}

/* bytes rounded up to whole cache lines */
static size_t lines(size_t bytes) {
    return (bytes + 63) & ~(size_t) 63;
}

/*
 * x (m, d) fp32, updated in place by `layers` blocks in turn. params: layers x N_PARAMS addresses (int8 matrices
 * (out, in) row-major with fp32 row scales; biases may be 0). k, v: layers x m addresses, row r of layer l at
 * [l * m + r]. Row r writes its key and value at position pos[r] of its caches (the layer's contiguous (heads, cap[r],
 * d / heads) tensors of kind `kind`: KV_FP32, KV_FP16 or KV_INT8) and attends over positions 0..pos[r]. An fp16
 * cache stores the key and value rounded to nearest, saturated at +-65504; an int8 cache each head's row quantized on
 * its own (tts_quantize_kv_row), its row scales (heads, cap[r]) floats right after the values.
 *
 * The blocks run in one OpenMP region. Where there are fewer rows than threads (one session's step), a thread with
 * no row of its own would only wait while another does the row work (the layer norms, the residual adds, the
 * quantization of a product's input), so every thread does all of it on its own copies of the rows instead, and the
 * phases' units are shared out without barriers (block_own); the same operations on the same values, so the same bits.
 * A batch of at most OWN_ROWS rows does the same on a team of two or more, so that a thread taken away stalls no one.
 *
 * Returns 0, -1 when scratch memory could not be had (nothing written), -2 for an ISA this CPU lacks, -3 for a
 * position outside its cache (nothing run).
 */
JNIEXPORT jint JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_steps(JNIEnv* env, jclass cls, jlong xAddr,
        jint m, jint d, jint heads, jint inner, jint layers, jlongArray paramArray, jfloat eps, jfloat scale,
        jlongArray kArray, jlongArray vArray, jintArray capArray, jintArray posArray, jint kind, jint isa,
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
    const int own = m < team || (m <= OWN_ROWS && team > 1);
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
    shared_t c;
    memset(&c, 0, sizeof c);
    c.m = m;
    c.d = d;
    c.heads = heads;
    c.inner = inner;
    c.hd = hd;
    c.eps = eps;
    c.scale = scale;
    c.kind = kind;
    c.isa = isa;
    c.attPath = attPath;
    c.params = prm;
    c.k = kk;
    c.v = vv;
    c.pos = pos;
    c.headStride = stride;
    c.x = (float*) (intptr_t) xAddr;
    c.maxLen = maxLen;
    const size_t workBytes = sizeof(counter_t) * (size_t) layers * PHASES;
    progress_t* progress = NULL;
    /* one allocation: the bookkeeping (zeroed), the products' outputs, then the rows' buffers */
    size_t meetBytes = 0;
    size_t flagBytes = 0;
    size_t bookBytes;
    size_t outBytes;
    size_t rowBytes;
    int copies;
    if (own) {
        /* the counters, meeting points, flags and heartbeats; every layer's own outputs; each thread's own rows,
           private outputs and attention scores */
        c.flagBytes = (long) lines((size_t) max_units(m, d, heads, inner) + 1);
        meetBytes = sizeof(meet_t) * (size_t) layers * PHASES;
        flagBytes = (size_t) c.flagBytes * (size_t) layers * PHASES * (size_t) team;
        bookBytes = workBytes + meetBytes + flagBytes + sizeof(progress_t) * (size_t) team;
        c.layerFloats = (long) m * (3L * d + d + d + inner + d);
        outBytes = lines(sizeof(float) * (size_t) c.layerFloats * (size_t) layers);
        rowBytes = lines(sizeof(float) * (size_t) m * 2 * (size_t) d) + lines(sizeof(float) * (size_t) m)
                + lines((size_t) m * (size_t) wide) + lines(sizeof(float) * (size_t) m * (size_t) wide)
                + lines(sizeof(float) * (size_t) hd) + lines(sizeof(float) * (size_t) maxLen)
                + 2 * lines(sizeof(long) * (size_t) team);
        copies = team;
    } else {
        /* the counters; one set of outputs and the attention's scores, shared; the rows' buffers */
        bookBytes = workBytes;
        outBytes = lines(sizeof(float) * ((size_t) m * (size_t) (3L * d + d + d + inner)
                + (size_t) maxLen * (size_t) team));
        rowBytes = lines(sizeof(float) * (size_t) m * (size_t) d) + lines(sizeof(float) * (size_t) m)
                + lines((size_t) m * (size_t) wide);
        copies = 1;
    }
    char* buf = aligned_alloc(64, bookBytes + outBytes + rowBytes * (size_t) copies);
    if (buf == NULL) {
        free(meta);
        return -1;
    }
    memset(buf, 0, bookBytes);
    c.work = (counter_t*) buf;
    c.qkv = (float*) (buf + bookBytes);
    c.att = c.qkv + 3L * m * d;
    c.tmp = c.att + (long) m * d;
    c.inn = c.tmp + (long) m * d;
    char* rowBase = buf + bookBytes + outBytes;
    if (own) {
        c.meets = (meet_t*) (buf + workBytes);
        c.flags = buf + workBytes + meetBytes;
        progress = (progress_t*) (buf + workBytes + meetBytes + flagBytes);
        c.tmp2 = c.inn + (long) m * inner;
    } else {
        c.scores = c.inn + (long) m * inner;
    }
    tts_barrier bar = {0, 0, 0};
#pragma omp parallel num_threads(team)
    {
        const int t = omp_get_thread_num();
        const int nt = omp_get_num_threads();
        if (own) {
            /* a team smaller than asked for still shares out by its own size: nt, here and in block_own */
            char* mine = rowBase + (size_t) t * rowBytes;
            own_t w;
            w.xr = (float*) mine;
            w.h = w.xr + (long) m * d;
            mine += lines(sizeof(float) * (size_t) m * 2 * (size_t) d);
            w.steps = (float*) mine;
            mine += lines(sizeof(float) * (size_t) m);
            w.xq = (int8_t*) mine;
            mine += lines((size_t) m * (size_t) wide);
            w.y = (float*) mine;
            mine += lines(sizeof(float) * (size_t) m * (size_t) wide);
            w.out = (float*) mine;
            mine += lines(sizeof(float) * (size_t) hd);
            w.scores = (float*) mine;
            mine += lines(sizeof(float) * (size_t) maxLen);
            w.seen = (long*) mine;
            mine += lines(sizeof(long) * (size_t) team);
            w.since = (unsigned long long*) mine;
            for (int o = 0; o < nt; o++) {
                w.seen[o] = -1;
                w.since[o] = 0;
            }
            w.me = progress + t;
            memcpy(w.xr, c.x, sizeof(float) * (size_t) m * (size_t) d);
            for (int l = 0; l < layers; l++) {
                block_own(&c, l, t, nt, &w, progress);
            }
            /* every thread holds the same rows: the first writes them back */
            if (t == 0) {
                memcpy(c.x, w.xr, sizeof(float) * (size_t) m * (size_t) d);
            }
        } else {
            rows_t w;
            w.xr = c.x;
            w.h = (float*) rowBase;
            w.steps = (float*) (rowBase + lines(sizeof(float) * (size_t) m * (size_t) d));
            w.xq = (int8_t*) ((char*) w.steps + lines(sizeof(float) * (size_t) m));
            for (int l = 0; l < layers; l++) {
                block_shared(&c, l, t, nt, &bar, &w);
            }
        }
    }
    free(buf);
    free(meta);
    return 0;
}

JNIEXPORT void JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_stallForTests(JNIEnv* env, jclass cls,
        jint thread, jint layer, jint micros) {
    (void) env;
    (void) cls;
    atomic_store(&stall_layer, layer);
    atomic_store(&stall_us, micros);
    atomic_store(&stall_thread, thread);
}

JNIEXPORT jlong JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_recomputedUnits(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return atomic_load(&recomputed_units);
}

JNIEXPORT jlong JNICALL Java_dev_localai_tts_core_nn_DecoderBlockKernel_stallsForTests(JNIEnv* env, jclass cls) {
    (void) env;
    (void) cls;
    return atomic_load(&stalls);
}
