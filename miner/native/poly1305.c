/*
 * Poly1305 (RFC 8439 section 2.5), portable version with three 44/44/42-bit limbs and
 * 128-bit products. The AVX2 version (four interleaved accumulators) is in simd_x86.c.
 */
#include "pc.h"


#define M44 0xfffffffffffULL
#define M42 0x3ffffffffffULL

typedef struct {
    uint64_t r0, r1, r2, s1, s2;
    uint64_t h0, h1, h2;
} poly_state;

static void poly_init(poly_state *st, const uint8_t key[32]) {
    uint64_t t0 = ld64(key), t1 = ld64(key + 8);
    st->r0 = t0 & 0xffc0fffffffULL;
    st->r1 = ((t0 >> 44) | (t1 << 20)) & 0xfffffc0ffffULL;
    st->r2 = (t1 >> 24) & 0x00ffffffc0fULL;
    st->s1 = st->r1 * (5 << 2);
    st->s2 = st->r2 * (5 << 2);
    st->h0 = st->h1 = st->h2 = 0;
}

static void poly_blocks(poly_state *st, const uint8_t *m, size_t nblocks, uint64_t hibit) {
    uint64_t r0 = st->r0, r1 = st->r1, r2 = st->r2, s1 = st->s1, s2 = st->s2;
    uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2;
    while (nblocks--) {
        uint64_t t0 = ld64(m), t1 = ld64(m + 8);
        h0 += t0 & M44;
        h1 += ((t0 >> 44) | (t1 << 20)) & M44;
        h2 += ((t1 >> 24) & M42) | hibit;
        /* pc_u128: unsigned __int128 with GCC/Clang, two 64-bit halves elsewhere (compat.h) */
        pc_u128 d0 = pc_add_128(pc_add_128(pc_mul_64x64(h0, r0), pc_mul_64x64(h1, s2)),
                                pc_mul_64x64(h2, s1));
        pc_u128 d1 = pc_add_128(pc_add_128(pc_mul_64x64(h0, r1), pc_mul_64x64(h1, r0)),
                                pc_mul_64x64(h2, s2));
        pc_u128 d2 = pc_add_128(pc_add_128(pc_mul_64x64(h0, r2), pc_mul_64x64(h1, r1)),
                                pc_mul_64x64(h2, r0));
        uint64_t c = pc_shr_128_lo(d0, 44);
        h0 = pc_lo64(d0) & M44;
        d1 = pc_add_128_64(d1, c);
        c = pc_shr_128_lo(d1, 44);
        h1 = pc_lo64(d1) & M44;
        d2 = pc_add_128_64(d2, c);
        c = pc_shr_128_lo(d2, 42);
        h2 = pc_lo64(d2) & M42;
        h0 += c * 5;
        c = h0 >> 44;
        h0 &= M44;
        h1 += c;
        m += 16;
    }
    st->h0 = h0;
    st->h1 = h1;
    st->h2 = h2;
}

static void poly_finish(poly_state *st, const uint8_t key[32], uint8_t tag[16]) {
    uint64_t h0 = st->h0, h1 = st->h1, h2 = st->h2, c;
    c = h1 >> 44;
    h1 &= M44;
    h2 += c;
    c = h2 >> 42;
    h2 &= M42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= M44;
    h1 += c;
    c = h1 >> 44;
    h1 &= M44;
    h2 += c;
    c = h2 >> 42;
    h2 &= M42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= M44;
    h1 += c;

    /* g = h + 5 - 2^130: if it does not go negative, h >= p and g is the reduced value */
    uint64_t g0 = h0 + 5;
    c = g0 >> 44;
    g0 &= M44;
    uint64_t g1 = h1 + c;
    c = g1 >> 44;
    g1 &= M44;
    uint64_t g2 = h2 + c - (1ULL << 42);
    uint64_t mask = (g2 >> 63) - 1; /* all ones when g2 >= 0 */
    h0 = (h0 & ~mask) | (g0 & mask);
    h1 = (h1 & ~mask) | (g1 & mask);
    h2 = (h2 & ~mask) | (g2 & mask);

    uint64_t t0 = ld64(key + 16), t1 = ld64(key + 24);
    h0 += t0 & M44;
    c = h0 >> 44;
    h0 &= M44;
    h1 += (((t0 >> 44) | (t1 << 20)) & M44) + c;
    c = h1 >> 44;
    h1 &= M44;
    h2 += ((t1 >> 24) & M42) + c;
    h2 &= M42;
    st64(tag, h0 | (h1 << 44));
    st64(tag + 8, (h1 >> 20) | (h2 << 24));
}

void poly1305(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg, size_t len) {
    poly_state st;
    poly_init(&st, key);
    poly_blocks(&st, msg, len / 16, 1ULL << 40);
    size_t rest = len % 16;
    if (rest) {
        uint8_t last[16] = {0};
        memcpy(last, msg + len - rest, rest);
        last[rest] = 1;
        poly_blocks(&st, last, 1, 0);
    }
    poly_finish(&st, key, tag);
}

void poly1305_blocks_last_portable(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg,
                                   size_t nblocks, const uint8_t last[16]) {
    poly_state st;
    poly_init(&st, key);
    poly_blocks(&st, msg, nblocks, 1ULL << 40);
    poly_blocks(&st, last, 1, 1ULL << 40);
    poly_finish(&st, key, tag);
}

void (*poly1305_blocks_last)(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg,
                             size_t nblocks,
                             const uint8_t last[16]) = poly1305_blocks_last_portable;
