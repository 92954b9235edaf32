/*
 * x86-64 vector code paths, compiled with per-function target attributes so the extension
 * still loads (and uses the portable code) on CPUs without AVX2. Each is checked against the
 * reference by tests/miner/test_kernel_native.py (every test runs once per level).
 *
 *   ChaCha20: eight blocks at a time, one state word per register (lanes = blocks), then an
 *             8x8 transpose. The AVX-512 level uses the AVX-512VL rotate on 256-bit registers.
 *   Poly1305: four interleaved accumulators with 26-bit limbs, multiplied by r^4 per 64 bytes,
 *             combined at the end with r^4, r^3, r^2, r.
 *   BLAKE2b:  four independent 2048-byte messages at once (one message per 64-bit lane), for
 *             the final hash of four nonces.
 */
#include "pc.h"

#if PC_X86

#include <immintrin.h>

typedef unsigned __int128 u128;

#define T_AVX2 __attribute__((target("avx2")))
#define T_AVX512 __attribute__((target("avx2,avx512f,avx512vl")))

/* ---- ChaCha20, 8 blocks ------------------------------------------------------------------- */

#define ROT16_AVX2(x) _mm256_shuffle_epi8((x), rot16)
#define ROT8_AVX2(x) _mm256_shuffle_epi8((x), rot8)
#define ROT12_AVX2(x) _mm256_or_si256(_mm256_slli_epi32((x), 12), _mm256_srli_epi32((x), 20))
#define ROT7_AVX2(x) _mm256_or_si256(_mm256_slli_epi32((x), 7), _mm256_srli_epi32((x), 25))
#define ROT16_VL(x) _mm256_rol_epi32((x), 16)
#define ROT8_VL(x) _mm256_rol_epi32((x), 8)
#define ROT12_VL(x) _mm256_rol_epi32((x), 12)
#define ROT7_VL(x) _mm256_rol_epi32((x), 7)

#define QR8(a, b, c, d, R16, R12, R8, R7)                                                     \
    do {                                                                                      \
        a = _mm256_add_epi32(a, b);                                                           \
        d = R16(_mm256_xor_si256(d, a));                                                      \
        c = _mm256_add_epi32(c, d);                                                           \
        b = R12(_mm256_xor_si256(b, c));                                                      \
        a = _mm256_add_epi32(a, b);                                                           \
        d = R8(_mm256_xor_si256(d, a));                                                       \
        c = _mm256_add_epi32(c, d);                                                           \
        b = R7(_mm256_xor_si256(b, c));                                                       \
    } while (0)

/* Transpose words w[0..7] (lanes = blocks) and store them as words 0..7 (or 8..15) of the
 * eight 64-byte blocks at out + off. */
#define STORE8(w, out, off)                                                                   \
    do {                                                                                      \
        __m256i t0 = _mm256_unpacklo_epi32(w[0], w[1]), t1 = _mm256_unpackhi_epi32(w[0], w[1]); \
        __m256i t2 = _mm256_unpacklo_epi32(w[2], w[3]), t3 = _mm256_unpackhi_epi32(w[2], w[3]); \
        __m256i t4 = _mm256_unpacklo_epi32(w[4], w[5]), t5 = _mm256_unpackhi_epi32(w[4], w[5]); \
        __m256i t6 = _mm256_unpacklo_epi32(w[6], w[7]), t7 = _mm256_unpackhi_epi32(w[6], w[7]); \
        __m256i u0 = _mm256_unpacklo_epi64(t0, t2), u1 = _mm256_unpackhi_epi64(t0, t2);       \
        __m256i u2 = _mm256_unpacklo_epi64(t1, t3), u3 = _mm256_unpackhi_epi64(t1, t3);       \
        __m256i u4 = _mm256_unpacklo_epi64(t4, t6), u5 = _mm256_unpackhi_epi64(t4, t6);       \
        __m256i u6 = _mm256_unpacklo_epi64(t5, t7), u7 = _mm256_unpackhi_epi64(t5, t7);       \
        _mm256_storeu_si256((__m256i *)(out + 0 * 64 + off), _mm256_permute2x128_si256(u0, u4, 0x20)); \
        _mm256_storeu_si256((__m256i *)(out + 1 * 64 + off), _mm256_permute2x128_si256(u1, u5, 0x20)); \
        _mm256_storeu_si256((__m256i *)(out + 2 * 64 + off), _mm256_permute2x128_si256(u2, u6, 0x20)); \
        _mm256_storeu_si256((__m256i *)(out + 3 * 64 + off), _mm256_permute2x128_si256(u3, u7, 0x20)); \
        _mm256_storeu_si256((__m256i *)(out + 4 * 64 + off), _mm256_permute2x128_si256(u0, u4, 0x31)); \
        _mm256_storeu_si256((__m256i *)(out + 5 * 64 + off), _mm256_permute2x128_si256(u1, u5, 0x31)); \
        _mm256_storeu_si256((__m256i *)(out + 6 * 64 + off), _mm256_permute2x128_si256(u2, u6, 0x31)); \
        _mm256_storeu_si256((__m256i *)(out + 7 * 64 + off), _mm256_permute2x128_si256(u3, u7, 0x31)); \
    } while (0)

/* Keystream of 8 blocks with the given counters into out[512]. */
#define CHACHA8_BODY(R16, R12, R8, R7)                                                        \
    {                                                                                         \
        __m256i x[16], o[16];                                                                 \
        for (int i = 0; i < 16; i++) o[i] = _mm256_set1_epi32((int)st[i]);                    \
        o[12] = _mm256_loadu_si256((const __m256i *)ctr);                                     \
        for (int i = 0; i < 16; i++) x[i] = o[i];                                             \
        for (int r = 0; r < 10; r++) {                                                        \
            QR8(x[0], x[4], x[8], x[12], R16, R12, R8, R7);                                   \
            QR8(x[1], x[5], x[9], x[13], R16, R12, R8, R7);                                   \
            QR8(x[2], x[6], x[10], x[14], R16, R12, R8, R7);                                  \
            QR8(x[3], x[7], x[11], x[15], R16, R12, R8, R7);                                  \
            QR8(x[0], x[5], x[10], x[15], R16, R12, R8, R7);                                  \
            QR8(x[1], x[6], x[11], x[12], R16, R12, R8, R7);                                  \
            QR8(x[2], x[7], x[8], x[13], R16, R12, R8, R7);                                   \
            QR8(x[3], x[4], x[9], x[14], R16, R12, R8, R7);                                   \
        }                                                                                     \
        for (int i = 0; i < 16; i++) x[i] = _mm256_add_epi32(x[i], o[i]);                    \
        STORE8(x, out, 0);                                                                    \
        STORE8((x + 8), out, 32);                                                             \
    }

T_AVX2 static void chacha8_avx2(const uint32_t st[16], const uint32_t ctr[8], uint8_t *out) {
    const __m256i rot16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13,
                                           2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    const __m256i rot8 = _mm256_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14,
                                          3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    CHACHA8_BODY(ROT16_AVX2, ROT12_AVX2, ROT8_AVX2, ROT7_AVX2)
}

T_AVX512 static void chacha8_avx512(const uint32_t st[16], const uint32_t ctr[8], uint8_t *out) {
    CHACHA8_BODY(ROT16_VL, ROT12_VL, ROT8_VL, ROT7_VL)
}

/* The same with four blocks in 128-bit registers, for the last few blocks of a stream. */
#define ROT16_SSE(x) _mm_shuffle_epi8((x), rot16)
#define ROT8_SSE(x) _mm_shuffle_epi8((x), rot8)
#define ROT12_SSE(x) _mm_or_si128(_mm_slli_epi32((x), 12), _mm_srli_epi32((x), 20))
#define ROT7_SSE(x) _mm_or_si128(_mm_slli_epi32((x), 7), _mm_srli_epi32((x), 25))
#define ROT16_VL4(x) _mm_rol_epi32((x), 16)
#define ROT8_VL4(x) _mm_rol_epi32((x), 8)
#define ROT12_VL4(x) _mm_rol_epi32((x), 12)
#define ROT7_VL4(x) _mm_rol_epi32((x), 7)

#define QR4(a, b, c, d, R16, R12, R8, R7)                                                     \
    do {                                                                                      \
        a = _mm_add_epi32(a, b);                                                              \
        d = R16(_mm_xor_si128(d, a));                                                         \
        c = _mm_add_epi32(c, d);                                                              \
        b = R12(_mm_xor_si128(b, c));                                                         \
        a = _mm_add_epi32(a, b);                                                              \
        d = R8(_mm_xor_si128(d, a));                                                          \
        c = _mm_add_epi32(c, d);                                                              \
        b = R7(_mm_xor_si128(b, c));                                                          \
    } while (0)

#define STORE4(w, out, off)                                                                   \
    do {                                                                                      \
        __m128i t0 = _mm_unpacklo_epi32(w[0], w[1]), t1 = _mm_unpackhi_epi32(w[0], w[1]);    \
        __m128i t2 = _mm_unpacklo_epi32(w[2], w[3]), t3 = _mm_unpackhi_epi32(w[2], w[3]);    \
        _mm_storeu_si128((__m128i *)(out + 0 * 64 + off), _mm_unpacklo_epi64(t0, t2));       \
        _mm_storeu_si128((__m128i *)(out + 1 * 64 + off), _mm_unpackhi_epi64(t0, t2));       \
        _mm_storeu_si128((__m128i *)(out + 2 * 64 + off), _mm_unpacklo_epi64(t1, t3));       \
        _mm_storeu_si128((__m128i *)(out + 3 * 64 + off), _mm_unpackhi_epi64(t1, t3));       \
    } while (0)

#define CHACHA4_BODY(R16, R12, R8, R7)                                                        \
    {                                                                                         \
        __m128i x[16], o[16];                                                                 \
        for (int i = 0; i < 16; i++) o[i] = _mm_set1_epi32((int)st[i]);                       \
        o[12] = _mm_loadu_si128((const __m128i *)ctr);                                        \
        for (int i = 0; i < 16; i++) x[i] = o[i];                                             \
        for (int r = 0; r < 10; r++) {                                                        \
            QR4(x[0], x[4], x[8], x[12], R16, R12, R8, R7);                                   \
            QR4(x[1], x[5], x[9], x[13], R16, R12, R8, R7);                                   \
            QR4(x[2], x[6], x[10], x[14], R16, R12, R8, R7);                                  \
            QR4(x[3], x[7], x[11], x[15], R16, R12, R8, R7);                                  \
            QR4(x[0], x[5], x[10], x[15], R16, R12, R8, R7);                                  \
            QR4(x[1], x[6], x[11], x[12], R16, R12, R8, R7);                                  \
            QR4(x[2], x[7], x[8], x[13], R16, R12, R8, R7);                                   \
            QR4(x[3], x[4], x[9], x[14], R16, R12, R8, R7);                                   \
        }                                                                                     \
        for (int i = 0; i < 16; i++) x[i] = _mm_add_epi32(x[i], o[i]);                        \
        STORE4(x, out, 0);                                                                    \
        STORE4((x + 4), out, 16);                                                             \
        STORE4((x + 8), out, 32);                                                             \
        STORE4((x + 12), out, 48);                                                            \
    }

T_AVX2 static void chacha4_avx2(const uint32_t st[16], const uint32_t ctr[4], uint8_t *out) {
    const __m128i rot16 = _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
    const __m128i rot8 = _mm_setr_epi8(3, 0, 1, 2, 7, 4, 5, 6, 11, 8, 9, 10, 15, 12, 13, 14);
    CHACHA4_BODY(ROT16_SSE, ROT12_SSE, ROT8_SSE, ROT7_SSE)
}

T_AVX512 static void chacha4_avx512(const uint32_t st[16], const uint32_t ctr[4], uint8_t *out) {
    CHACHA4_BODY(ROT16_VL4, ROT12_VL4, ROT8_VL4, ROT7_VL4)
}

static void chacha_setup(uint32_t st[16], const uint8_t key[32], const uint8_t nonce[12]) {
    st[0] = 0x61707865;
    st[1] = 0x3320646e;
    st[2] = 0x79622d32;
    st[3] = 0x6b206574;
    for (int i = 0; i < 8; i++) st[4 + i] = ld32(key + 4 * i);
    st[12] = 0;
    st[13] = ld32(nonce);
    st[14] = ld32(nonce + 4);
    st[15] = ld32(nonce + 8);
}

T_AVX2 static void xor_bytes(uint8_t *dst, const uint8_t *ks, size_t n) {
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m256i a = _mm256_loadu_si256((const __m256i *)(dst + i));
        __m256i b = _mm256_loadu_si256((const __m256i *)(ks + i));
        _mm256_storeu_si256((__m256i *)(dst + i), _mm256_xor_si256(a, b));
    }
    for (; i < n; i++) dst[i] ^= ks[i];
}

/* buf ^= keystream from block `counter`; optionally block 0's first 32 bytes to poly_key.
 * Eight blocks at a time; four when no more are needed. */
#define CHACHA_DRIVER(NAME, KERNEL8, KERNEL4)                                                 \
    T_AVX2 static void NAME(const uint8_t key[32], const uint8_t nonce[12], uint8_t *poly_key, \
                            uint32_t counter, uint8_t *buf, size_t len) {                     \
        uint32_t st[16], ctr[8];                                                              \
        uint8_t ks[512] PC_ALIGN(32);                                                         \
        chacha_setup(st, key, nonce);                                                         \
        int need_poly = poly_key != NULL;                                                     \
        while (need_poly || len > 0) {                                                        \
            size_t blocks = (len + 63) / 64;                                                  \
            int width = (size_t)need_poly + blocks <= 4 ? 4 : 8;                              \
            int k = 0;                                                                        \
            if (need_poly) ctr[k++] = 0;                                                      \
            for (size_t b = 0; k < width; k++, b++) ctr[k] = counter + (uint32_t)b;           \
            if (width == 4)                                                                   \
                KERNEL4(st, ctr, ks);                                                         \
            else                                                                              \
                KERNEL8(st, ctr, ks);                                                         \
            const uint8_t *p = ks;                                                            \
            size_t room = (size_t)width;                                                      \
            if (need_poly) {                                                                  \
                memcpy(poly_key, ks, 32);                                                     \
                p += 64;                                                                      \
                need_poly = 0;                                                                \
                room--;                                                                       \
            }                                                                                 \
            if (blocks > room) blocks = room;                                                 \
            size_t n = blocks * 64 < len ? blocks * 64 : len;                                 \
            xor_bytes(buf, p, n);                                                             \
            buf += n;                                                                         \
            len -= n;                                                                         \
            counter += (uint32_t)blocks;                                                      \
        }                                                                                     \
    }

CHACHA_DRIVER(chacha_drive_avx2, chacha8_avx2, chacha4_avx2)
CHACHA_DRIVER(chacha_drive_avx512, chacha8_avx512, chacha4_avx512)

static void chacha20_xor_avx2(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                              uint8_t *buf, size_t len) {
    chacha_drive_avx2(key, nonce, NULL, counter, buf, len);
}
static void chacha20_xor_avx512(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                                uint8_t *buf, size_t len) {
    chacha_drive_avx512(key, nonce, NULL, counter, buf, len);
}
static void chacha20_pk_avx2(const uint8_t key[32], const uint8_t nonce[12], uint8_t poly_key[32],
                             uint32_t counter, uint8_t *buf, size_t len) {
    chacha_drive_avx2(key, nonce, poly_key, counter, buf, len);
}
static void chacha20_pk_avx512(const uint8_t key[32], const uint8_t nonce[12],
                               uint8_t poly_key[32], uint32_t counter, uint8_t *buf, size_t len) {
    chacha_drive_avx512(key, nonce, poly_key, counter, buf, len);
}

/* ---- Poly1305, four accumulators ----------------------------------------------------------- */

#define M44 0xfffffffffffULL
#define M42 0x3ffffffffffULL
#define M26 0x3ffffffu

/* a * b mod p (partially reduced), three 44/44/42-bit limbs */
static void fe_mul(uint64_t out[3], const uint64_t a[3], const uint64_t b[3]) {
    uint64_t s1 = b[1] * 20, s2 = b[2] * 20;
    u128 d0 = (u128)a[0] * b[0] + (u128)a[1] * s2 + (u128)a[2] * s1;
    u128 d1 = (u128)a[0] * b[1] + (u128)a[1] * b[0] + (u128)a[2] * s2;
    u128 d2 = (u128)a[0] * b[2] + (u128)a[1] * b[1] + (u128)a[2] * b[0];
    uint64_t c = (uint64_t)(d0 >> 44), h0 = (uint64_t)d0 & M44;
    d1 += c;
    c = (uint64_t)(d1 >> 44);
    uint64_t h1 = (uint64_t)d1 & M44;
    d2 += c;
    c = (uint64_t)(d2 >> 42);
    uint64_t h2 = (uint64_t)d2 & M42;
    h0 += c * 5;
    c = h0 >> 44;
    h0 &= M44;
    h1 += c;
    out[0] = h0;
    out[1] = h1;
    out[2] = h2;
}

/* 44/44/42-bit limbs (partially reduced) to five 26-bit limbs */
static void fe_to26(uint32_t l[5], const uint64_t in[3]) {
    uint64_t h0 = in[0], h1 = in[1], h2 = in[2];
    uint64_t c = h0 >> 44;
    h0 &= M44;
    h1 += c;
    c = h1 >> 44;
    h1 &= M44;
    h2 += c; /* now h0, h1 < 2^44 and the value is h0 | h1 << 44 | h2 << 88 */
    u128 lo = (u128)h0 | ((u128)h1 << 44) | ((u128)(h2 & 0xffff) << 88);
    l[0] = (uint32_t)lo & M26;
    l[1] = (uint32_t)(lo >> 26) & M26;
    l[2] = (uint32_t)(lo >> 52) & M26;
    l[3] = (uint32_t)(lo >> 78) & M26;
    l[4] = (uint32_t)(h2 >> 16);
}

#define POLY_NAME poly1305_blocks_last_avx2
#define POLY_TARGET T_AVX2
#include "poly1305_x4.h"
#undef POLY_NAME
#undef POLY_TARGET
#define POLY_NAME poly1305_blocks_last_avx512
#define POLY_TARGET T_AVX512
#include "poly1305_x4.h"
#undef POLY_NAME
#undef POLY_TARGET

/* ---- BLAKE2b of four 2048-byte messages ---------------------------------------------------- */

static const uint64_t B2_IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t B2_SIGMA[12][16] = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
};

#define R32_AVX2(x) _mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define R24_AVX2(x) _mm256_shuffle_epi8((x), r24)
#define R16_AVX2(x) _mm256_shuffle_epi8((x), r16)
#define R63_AVX2(x) _mm256_or_si256(_mm256_srli_epi64((x), 63), _mm256_add_epi64((x), (x)))
#define R32_VL(x) _mm256_ror_epi64((x), 32)
#define R24_VL(x) _mm256_ror_epi64((x), 24)
#define R16_VL(x) _mm256_ror_epi64((x), 16)
#define R63_VL(x) _mm256_ror_epi64((x), 63)

#define G4(a, b, c, d, x, y, R32, R24, R16, R63)                                              \
    do {                                                                                      \
        a = _mm256_add_epi64(_mm256_add_epi64(a, b), x);                                      \
        d = R32(_mm256_xor_si256(d, a));                                                      \
        c = _mm256_add_epi64(c, d);                                                           \
        b = R24(_mm256_xor_si256(b, c));                                                      \
        a = _mm256_add_epi64(_mm256_add_epi64(a, b), y);                                      \
        d = R16(_mm256_xor_si256(d, a));                                                      \
        c = _mm256_add_epi64(c, d);                                                           \
        b = R63(_mm256_xor_si256(b, c));                                                      \
    } while (0)

#define B2X4_BODY(R32, R24, R16, R63)                                                         \
    {                                                                                         \
        __m256i h[8], v[16], m[16];                                                           \
        for (int i = 0; i < 8; i++) h[i] = _mm256_set1_epi64x((long long)B2_IV[i]);           \
        h[0] = _mm256_xor_si256(h[0], _mm256_set1_epi64x(0x01010000LL ^ 32));                 \
        for (int blk = 0; blk < 16; blk++) {                                                  \
            for (int i = 0; i < 16; i += 4) { /* transpose 4 words of the 4 messages */       \
                __m256i a = _mm256_loadu_si256((const __m256i *)(in[0] + 128 * blk + 8 * i)); \
                __m256i b = _mm256_loadu_si256((const __m256i *)(in[1] + 128 * blk + 8 * i)); \
                __m256i c = _mm256_loadu_si256((const __m256i *)(in[2] + 128 * blk + 8 * i)); \
                __m256i d = _mm256_loadu_si256((const __m256i *)(in[3] + 128 * blk + 8 * i)); \
                __m256i ab0 = _mm256_unpacklo_epi64(a, b), ab1 = _mm256_unpackhi_epi64(a, b); \
                __m256i cd0 = _mm256_unpacklo_epi64(c, d), cd1 = _mm256_unpackhi_epi64(c, d); \
                m[i + 0] = _mm256_permute2x128_si256(ab0, cd0, 0x20);                         \
                m[i + 1] = _mm256_permute2x128_si256(ab1, cd1, 0x20);                         \
                m[i + 2] = _mm256_permute2x128_si256(ab0, cd0, 0x31);                         \
                m[i + 3] = _mm256_permute2x128_si256(ab1, cd1, 0x31);                         \
            }                                                                                 \
            for (int i = 0; i < 8; i++) {                                                     \
                v[i] = h[i];                                                                  \
                v[i + 8] = _mm256_set1_epi64x((long long)B2_IV[i]);                           \
            }                                                                                 \
            v[12] = _mm256_xor_si256(v[12], _mm256_set1_epi64x(128LL * (blk + 1)));           \
            if (blk == 15) v[14] = _mm256_xor_si256(v[14], _mm256_set1_epi64x(-1LL));         \
            for (int r = 0; r < 12; r++) {                                                    \
                const uint8_t *sg = B2_SIGMA[r];                                              \
                G4(v[0], v[4], v[8], v[12], m[sg[0]], m[sg[1]], R32, R24, R16, R63);          \
                G4(v[1], v[5], v[9], v[13], m[sg[2]], m[sg[3]], R32, R24, R16, R63);          \
                G4(v[2], v[6], v[10], v[14], m[sg[4]], m[sg[5]], R32, R24, R16, R63);         \
                G4(v[3], v[7], v[11], v[15], m[sg[6]], m[sg[7]], R32, R24, R16, R63);         \
                G4(v[0], v[5], v[10], v[15], m[sg[8]], m[sg[9]], R32, R24, R16, R63);         \
                G4(v[1], v[6], v[11], v[12], m[sg[10]], m[sg[11]], R32, R24, R16, R63);       \
                G4(v[2], v[7], v[8], v[13], m[sg[12]], m[sg[13]], R32, R24, R16, R63);        \
                G4(v[3], v[4], v[9], v[14], m[sg[14]], m[sg[15]], R32, R24, R16, R63);        \
            }                                                                                 \
            for (int i = 0; i < 8; i++)                                                       \
                h[i] = _mm256_xor_si256(h[i], _mm256_xor_si256(v[i], v[i + 8]));              \
        }                                                                                     \
        /* transpose back: the first 4 words of each message's h are its B256 */              \
        __m256i ab0 = _mm256_unpacklo_epi64(h[0], h[1]), ab1 = _mm256_unpackhi_epi64(h[0], h[1]); \
        __m256i cd0 = _mm256_unpacklo_epi64(h[2], h[3]), cd1 = _mm256_unpackhi_epi64(h[2], h[3]); \
        _mm256_storeu_si256((__m256i *)out[0], _mm256_permute2x128_si256(ab0, cd0, 0x20));   \
        _mm256_storeu_si256((__m256i *)out[1], _mm256_permute2x128_si256(ab1, cd1, 0x20));   \
        _mm256_storeu_si256((__m256i *)out[2], _mm256_permute2x128_si256(ab0, cd0, 0x31));   \
        _mm256_storeu_si256((__m256i *)out[3], _mm256_permute2x128_si256(ab1, cd1, 0x31));   \
    }

T_AVX2 static void b2x4_avx2(uint8_t *const out[4], const uint8_t *const in[4]) {
    const __m256i r24 = _mm256_setr_epi8(3, 4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10, 3,
                                         4, 5, 6, 7, 0, 1, 2, 11, 12, 13, 14, 15, 8, 9, 10);
    const __m256i r16 = _mm256_setr_epi8(2, 3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9, 2,
                                         3, 4, 5, 6, 7, 0, 1, 10, 11, 12, 13, 14, 15, 8, 9);
    B2X4_BODY(R32_AVX2, R24_AVX2, R16_AVX2, R63_AVX2)
}

T_AVX512 static void b2x4_avx512(uint8_t *const out[4], const uint8_t *const in[4]) {
    B2X4_BODY(R32_VL, R24_VL, R16_VL, R63_VL)
}

void pc_simd_install_avx2(void) {
    chacha20_xor = chacha20_xor_avx2;
    chacha20_polykey_xor = chacha20_pk_avx2;
    poly1305_blocks_last = poly1305_blocks_last_avx2;
    blake2b256_2048_x4 = b2x4_avx2;
}

void pc_simd_install_avx512(void) {
    chacha20_xor = chacha20_xor_avx512;
    chacha20_polykey_xor = chacha20_pk_avx512;
    poly1305_blocks_last = poly1305_blocks_last_avx512;
    blake2b256_2048_x4 = b2x4_avx512;
}

#else

typedef int pc_simd_x86_unused; /* ISO C: no empty translation unit */

#endif
