/*
 * A software model of Intel AMX-TILE and AMX-BF16, for testing the flow attention's AMX path (path 2 of
 * flow_attention_kernel.c) on CPUs without AMX. Included after <immintrin.h> and before the kernel's source, it
 * replaces the intrinsics the kernel uses (_tile_loadd, _tile_stored, _tile_zero, _tile_dpbf16ps, _tile_release) and
 * the kernel's tile-configuration hook (TTS_LOAD_TILE_CONFIG) with C functions that follow the instructions' pseudocode
 * in Intel's Software Developer's Manual (volume 2, LDTILECFG, TILELOADD, TILESTORED, TILEZERO, TDPBF16PS):
 *
 * - eight tiles per thread (the tile state is per logical processor; here per OpenMP thread), shaped by the
 *   configuration: palette 1, rows <= 16, colsb <= 64 bytes, a multiple of 4;
 * - a load reads exactly rows x colsb bytes, row r at base + r * stride, and zeroes the rest of the tile; a store
 *   writes exactly rows x colsb bytes;
 * - TDPBF16PS: for each row m and fp32 column n of the destination, for k in order, two fp32 additions of the exact
 *   bf16 pair products (a.row[m] pair k, b.row[k] pair n), each rounded to nearest even, with bf16 inputs and fp32
 *   results below the normal range taken as zero (DAZ, FTZ; MXCSR ignored);
 * - every #UD or #GP condition of those instructions that the kernel could meet (no configuration, a tile past the
 *   configured ones, shapes that do not chain, an invalid palette) aborts with a message instead.
 *
 * The model is a specification, not the hardware: the real instruction may sum the pairs of one k in another order or
 * with one rounding, so results can differ from a real AMX CPU's by rounding (as the AMX and AVX512-BF16 paths differ
 * from each other). What it checks is everything else: which bytes each tile operation reads and writes, the layout of
 * the packed operands, the order of the tile products and the handling of partial blocks.
 */
#ifndef TTS_AMX_TILES_H
#define TTS_AMX_TILES_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int configured;
    uint8_t rows[8];
    uint16_t colsb[8];
    unsigned char data[8][16][64];
} amx_model_state;

static __thread amx_model_state amx_model;
/* how many tile operations ran, over all threads (a harness checks that the AMX path really ran) */
static long amx_model_ops;

static void amx_model_fault(const char* what) {
    fprintf(stderr, "AMX model: %s\n", what);
    abort();
}

static void amx_model_tile(int t) {
    if (!amx_model.configured) {
        amx_model_fault("a tile instruction without a tile configuration (#UD)");
    }
    if (t < 0 || t > 7 || amx_model.rows[t] == 0 || amx_model.colsb[t] == 0) {
        amx_model_fault("a tile that is not configured (#UD)");
    }
    __atomic_add_fetch(&amx_model_ops, 1, __ATOMIC_RELAXED);
}

/* LDTILECFG: the 64-byte configuration; palette 0 releases, palette 1 configures (8 tiles of at most 16 x 64 B). */
static void amx_model_load_config(const void* cfg) {
    const unsigned char* c = (const unsigned char*) cfg;
    if (c[0] == 0) {
        memset(&amx_model, 0, sizeof amx_model);
        return;
    }
    if (c[0] != 1) {
        amx_model_fault("palette other than 0 and 1 (#GP)");
    }
    for (int i = 2; i < 16; i++) {
        if (c[i] != 0) {
            amx_model_fault("reserved configuration bytes not zero (#GP)");
        }
    }
    for (int t = 8; t < 16; t++) {
        if (c[16 + 2 * t] != 0 || c[17 + 2 * t] != 0 || c[48 + t] != 0) {
            amx_model_fault("a shape for a tile past palette 1's eight (#GP)");
        }
    }
    memset(&amx_model, 0, sizeof amx_model);
    for (int t = 0; t < 8; t++) {
        uint16_t colsb;
        memcpy(&colsb, c + 16 + 2 * t, 2);
        const uint8_t rows = c[48 + t];
        if (rows > 16 || colsb > 64 || colsb % 4 != 0 || (rows == 0) != (colsb == 0)) {
            amx_model_fault("a tile shape palette 1 does not allow (#GP)");
        }
        amx_model.rows[t] = rows;
        amx_model.colsb[t] = colsb;
    }
    amx_model.configured = 1;
}

static void amx_model_release(void) {
    memset(&amx_model, 0, sizeof amx_model);
}

static void amx_model_loadd(int t, const void* base, long stride) {
    amx_model_tile(t);
    memset(amx_model.data[t], 0, sizeof amx_model.data[t]);
    for (int r = 0; r < amx_model.rows[t]; r++) {
        memcpy(amx_model.data[t][r], (const unsigned char*) base + r * stride, amx_model.colsb[t]);
    }
}

static void amx_model_stored(int t, void* base, long stride) {
    amx_model_tile(t);
    for (int r = 0; r < amx_model.rows[t]; r++) {
        memcpy((unsigned char*) base + r * stride, amx_model.data[t][r], amx_model.colsb[t]);
    }
}

static void amx_model_zero(int t) {
    amx_model_tile(t);
    memset(amx_model.data[t], 0, sizeof amx_model.data[t]);
}

/* fp32 with a zero in place of a subnormal (DAZ on the inputs, FTZ on the results), keeping the sign */
static float amx_model_flush(float x) {
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0) {
        u &= 0x80000000u;
        memcpy(&x, &u, 4);
    }
    return x;
}

static float amx_model_bf16(const unsigned char* p) {
    uint16_t h;
    memcpy(&h, p, 2);
    const uint32_t u = (uint32_t) h << 16;
    float x;
    memcpy(&x, &u, 4);
    return amx_model_flush(x);
}

/* each addition rounded on its own: no contraction into a fused multiply-add (nor reassociation, which C forbids) */
__attribute__((optimize("fp-contract=off")))
static void amx_model_dpbf16ps(int dst, int a, int b) {
    amx_model_tile(dst);
    amx_model_tile(a);
    amx_model_tile(b);
    const int k = amx_model.colsb[a] / 4;
    if (amx_model.rows[dst] != amx_model.rows[a] || amx_model.rows[b] != k
            || amx_model.colsb[dst] != amx_model.colsb[b] || dst == a || dst == b || a == b) {
        amx_model_fault("TDPBF16PS operand shapes that do not chain, or a tile used twice (#UD)");
    }
    const int n = amx_model.colsb[dst] / 4;
    for (int m = 0; m < amx_model.rows[dst]; m++) {
        float acc[16];
        memcpy(acc, amx_model.data[dst][m], sizeof acc);
        for (int kk = 0; kk < k; kk++) {
            const float a0 = amx_model_bf16(amx_model.data[a][m] + 4 * kk);
            const float a1 = amx_model_bf16(amx_model.data[a][m] + 4 * kk + 2);
            for (int j = 0; j < n; j++) {
                float s = acc[j] + a0 * amx_model_bf16(amx_model.data[b][kk] + 4 * j);
                s = amx_model_flush(s);
                s = s + a1 * amx_model_bf16(amx_model.data[b][kk] + 4 * j + 2);
                acc[j] = amx_model_flush(s);
            }
        }
        memset(amx_model.data[dst][m], 0, 64);
        memcpy(amx_model.data[dst][m], acc, (size_t) n * 4);
    }
    for (int m = amx_model.rows[dst]; m < 16; m++) {
        memset(amx_model.data[dst][m], 0, 64);
    }
}

#undef _tile_loadd
#undef _tile_stored
#undef _tile_zero
#undef _tile_dpbf16ps
#undef _tile_release
#define _tile_loadd(dst, base, stride) amx_model_loadd((dst), (base), (long) (stride))
#define _tile_stored(dst, base, stride) amx_model_stored((dst), (base), (long) (stride))
#define _tile_zero(dst) amx_model_zero(dst)
#define _tile_dpbf16ps(dst, a, b) amx_model_dpbf16ps((dst), (a), (b))
#define _tile_release() amx_model_release()
#define TTS_LOAD_TILE_CONFIG(cfg) amx_model_load_config(cfg)

#endif
