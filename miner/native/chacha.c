/*
 * ChaCha20 (RFC 8439): 20 rounds, 32-bit block counter, 96-bit nonce. Portable version; the
 * SIMD versions live in simd_x86.c and are selected at run time.
 */
#include "pc.h"

PC_INLINE uint32_t rotl32(uint32_t x, int n) { return (x << n) | (x >> (32 - n)); }

#define QR(a, b, c, d)                                                                        \
    do {                                                                                      \
        a += b;                                                                               \
        d = rotl32(d ^ a, 16);                                                                \
        c += d;                                                                               \
        b = rotl32(b ^ c, 12);                                                                \
        a += b;                                                                               \
        d = rotl32(d ^ a, 8);                                                                 \
        c += d;                                                                               \
        b = rotl32(b ^ c, 7);                                                                 \
    } while (0)

static void block_words(const uint32_t in[16], uint32_t out[16]) {
    uint32_t x[16];
    memcpy(x, in, sizeof x);
    for (int i = 0; i < 10; i++) {
        QR(x[0], x[4], x[8], x[12]);
        QR(x[1], x[5], x[9], x[13]);
        QR(x[2], x[6], x[10], x[14]);
        QR(x[3], x[7], x[11], x[15]);
        QR(x[0], x[5], x[10], x[15]);
        QR(x[1], x[6], x[11], x[12]);
        QR(x[2], x[7], x[8], x[13]);
        QR(x[3], x[4], x[9], x[14]);
    }
    for (int i = 0; i < 16; i++) out[i] = x[i] + in[i];
}

static void setup(uint32_t st[16], const uint8_t key[32], const uint8_t nonce[12],
                  uint32_t counter) {
    st[0] = 0x61707865;
    st[1] = 0x3320646e;
    st[2] = 0x79622d32;
    st[3] = 0x6b206574;
    for (int i = 0; i < 8; i++) st[4 + i] = ld32(key + 4 * i);
    st[12] = counter;
    st[13] = ld32(nonce);
    st[14] = ld32(nonce + 4);
    st[15] = ld32(nonce + 8);
}

void chacha20_block(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                    uint8_t out[64]) {
    uint32_t st[16], ks[16];
    setup(st, key, nonce, counter);
    block_words(st, ks);
    for (int i = 0; i < 16; i++) st32(out + 4 * i, ks[i]);
}

/* Four blocks with one array column per block: written so the compiler vectorizes the lane
 * loops with whatever 128-bit vectors the target has (SSE2, NEON), without intrinsics. */
#define QRL(a, b, c, d)                                                                       \
    for (int l = 0; l < 4; l++) {                                                             \
        x[a][l] += x[b][l];                                                                   \
        x[d][l] = rotl32(x[d][l] ^ x[a][l], 16);                                              \
        x[c][l] += x[d][l];                                                                   \
        x[b][l] = rotl32(x[b][l] ^ x[c][l], 12);                                              \
        x[a][l] += x[b][l];                                                                   \
        x[d][l] = rotl32(x[d][l] ^ x[a][l], 8);                                               \
        x[c][l] += x[d][l];                                                                   \
        x[b][l] = rotl32(x[b][l] ^ x[c][l], 7);                                               \
    }

static void blocks4(const uint32_t st[16], uint32_t counter, uint8_t out[256]) {
    uint32_t x[16][4], o[16][4];
    for (int i = 0; i < 16; i++)
        for (int l = 0; l < 4; l++) o[i][l] = st[i];
    for (int l = 0; l < 4; l++) o[12][l] = counter + (uint32_t)l;
    memcpy(x, o, sizeof x);
    for (int r = 0; r < 10; r++) {
        QRL(0, 4, 8, 12);
        QRL(1, 5, 9, 13);
        QRL(2, 6, 10, 14);
        QRL(3, 7, 11, 15);
        QRL(0, 5, 10, 15);
        QRL(1, 6, 11, 12);
        QRL(2, 7, 8, 13);
        QRL(3, 4, 9, 14);
    }
    for (int b = 0; b < 4; b++)
        for (int i = 0; i < 16; i++) st32(out + 64 * b + 4 * i, x[i][b] + o[i][b]);
}

void chacha20_xor_portable(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                           uint8_t *buf, size_t len) {
    uint32_t st[16], ks[16];
    uint8_t ks4[256];
    setup(st, key, nonce, counter);
    while (len >= 256) {
        blocks4(st, st[12], ks4);
        for (size_t i = 0; i < 256; i++) buf[i] ^= ks4[i];
        st[12] += 4;
        buf += 256;
        len -= 256;
    }
    while (len >= 64) {
        block_words(st, ks);
        for (int i = 0; i < 16; i++) st32(buf + 4 * i, ld32(buf + 4 * i) ^ ks[i]);
        st[12]++;
        buf += 64;
        len -= 64;
    }
    if (len) {
        uint8_t tmp[64];
        block_words(st, ks);
        for (int i = 0; i < 16; i++) st32(tmp + 4 * i, ks[i]);
        for (size_t i = 0; i < len; i++) buf[i] ^= tmp[i];
    }
}

void (*chacha20_xor)(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                     uint8_t *buf, size_t len) = chacha20_xor_portable;

void chacha20_polykey_xor_portable(const uint8_t key[32], const uint8_t nonce[12],
                                   uint8_t poly_key[32], uint32_t counter, uint8_t *buf,
                                   size_t len) {
    uint8_t block[64];
    chacha20_block(key, nonce, 0, block);
    memcpy(poly_key, block, 32);
    chacha20_xor_portable(key, nonce, counter, buf, len);
}

void (*chacha20_polykey_xor)(const uint8_t key[32], const uint8_t nonce[12],
                             uint8_t poly_key[32], uint32_t counter, uint8_t *buf,
                             size_t len) = chacha20_polykey_xor_portable;

void chacha20_keystream(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                        uint8_t *out, size_t len) {
    memset(out, 0, len);
    chacha20_xor(key, nonce, counter, out, len);
}

void pc_expand(uint8_t *out, size_t len, const uint8_t seed[32], uint32_t num) {
    uint8_t nonce[12];
    st32(nonce, num);
    memcpy(nonce + 4, "PC_EXPND", 8);
    chacha20_keystream(seed, nonce, 0, out, len);
}
