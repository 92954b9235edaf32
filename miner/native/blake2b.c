/*
 * BLAKE2b (RFC 7693), unkeyed, with a variable digest length: B512 and B256 of the spec.
 * Also a 4-message form for the nonce loop's final B256 over 2048-byte states.
 */
#include "pc.h"

static const uint64_t IV[8] = {
    0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL, 0xa54ff53a5f1d36f1ULL,
    0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL, 0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
};

static const uint8_t SIGMA[12][16] = {
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

PC_INLINE uint64_t rotr64(uint64_t x, int n) { return (x >> n) | (x << (64 - n)); }

#define G(r, i, a, b, c, d)                                                                   \
    do {                                                                                      \
        a = a + b + m[SIGMA[r][2 * i]];                                                       \
        d = rotr64(d ^ a, 32);                                                                \
        c = c + d;                                                                            \
        b = rotr64(b ^ c, 24);                                                                \
        a = a + b + m[SIGMA[r][2 * i + 1]];                                                   \
        d = rotr64(d ^ a, 16);                                                                \
        c = c + d;                                                                            \
        b = rotr64(b ^ c, 63);                                                                \
    } while (0)

#define ROUND(r)                                                                              \
    do {                                                                                      \
        G(r, 0, v[0], v[4], v[8], v[12]);                                                     \
        G(r, 1, v[1], v[5], v[9], v[13]);                                                     \
        G(r, 2, v[2], v[6], v[10], v[14]);                                                    \
        G(r, 3, v[3], v[7], v[11], v[15]);                                                    \
        G(r, 4, v[0], v[5], v[10], v[15]);                                                    \
        G(r, 5, v[1], v[6], v[11], v[12]);                                                    \
        G(r, 6, v[2], v[7], v[8], v[13]);                                                     \
        G(r, 7, v[3], v[4], v[9], v[14]);                                                     \
    } while (0)

static void compress(uint64_t h[8], const uint8_t block[128], uint64_t t, int last) {
    uint64_t m[16], v[16];
    for (int i = 0; i < 16; i++) m[i] = ld64(block + 8 * i);
    for (int i = 0; i < 8; i++) {
        v[i] = h[i];
        v[i + 8] = IV[i];
    }
    v[12] ^= t;
    if (last) v[14] = ~v[14];
    ROUND(0);
    ROUND(1);
    ROUND(2);
    ROUND(3);
    ROUND(4);
    ROUND(5);
    ROUND(6);
    ROUND(7);
    ROUND(8);
    ROUND(9);
    ROUND(10);
    ROUND(11);
    for (int i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

void blake2b_init(blake2b_state *S, size_t outlen) {
    memcpy(S->h, IV, sizeof IV);
    S->h[0] ^= 0x01010000ULL ^ (uint64_t)outlen;
    S->t = 0;
    S->buflen = 0;
    S->outlen = outlen;
}

void blake2b_update(blake2b_state *S, const uint8_t *in, size_t len) {
    while (len > 0) {
        if (S->buflen == 128) { /* only compress when more input follows */
            S->t += 128;
            compress(S->h, S->buf, S->t, 0);
            S->buflen = 0;
        }
        size_t take = 128 - S->buflen;
        if (take > len) take = len;
        memcpy(S->buf + S->buflen, in, take);
        S->buflen += take;
        in += take;
        len -= take;
    }
}

void blake2b_final(blake2b_state *S, uint8_t *out) {
    S->t += S->buflen;
    memset(S->buf + S->buflen, 0, 128 - S->buflen);
    compress(S->h, S->buf, S->t, 1);
    uint8_t full[64];
    for (int i = 0; i < 8; i++) st64(full + 8 * i, S->h[i]);
    memcpy(out, full, S->outlen);
}

void blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t len) {
    blake2b_state S;
    blake2b_init(&S, outlen);
    blake2b_update(&S, in, len);
    blake2b_final(&S, out);
}

void blake2b256_2048_x4_portable(uint8_t *const out[4], const uint8_t *const in[4]) {
    for (int k = 0; k < 4; k++) {
        uint64_t h[8];
        memcpy(h, IV, sizeof IV);
        h[0] ^= 0x01010000ULL ^ 32;
        for (int b = 0; b < 16; b++) compress(h, in[k] + 128 * b, 128 * (uint64_t)(b + 1), b == 15);
        for (int i = 0; i < 4; i++) st64(out[k] + 8 * i, h[i]);
    }
}

void (*blake2b256_2048_x4)(uint8_t *const out[4],
                           const uint8_t *const in[4]) = blake2b256_2048_x4_portable;
