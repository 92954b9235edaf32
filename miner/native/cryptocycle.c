/*
 * CryptoCycle, the 2048-byte state machine (spec section 3).
 *
 *   S[0:12] nonce | S[12:16] header word W | S[16:48] key (S[16:32] receives the tag)
 *   S[48:2048] payload: additional data then message, 125 blocks of 16
 */
#include "pc.h"

#define W_DECRYPT (1u << 12)
#define W_TRUNCATED (1u << 16)
#define W_FAILED (1u << 24)

void cc_make_fuzzable(uint8_t *S) {
    uint32_t w = ld32(S + 16);
    w &= ~(W_FAILED | (0x7fu << 25));
    w |= 32u << 17;
    st32(S + 12, w);
}

void cc_crypt(uint8_t *S, size_t skip_below) {
    uint32_t w = ld32(S + 12);
    if ((w >> 25) || (w & W_FAILED)) {
        st32(S + 12, w | W_FAILED);
        return;
    }
    uint8_t key[32], nonce[12], poly_key[32], last[16];
    memcpy(key, S + 16, 32);
    memcpy(nonce, S, 12);

    uint32_t add_len = (w >> 13) & 7, len = (w >> 17) & 0x7f;
    uint32_t final_len = len < 125 - add_len ? len : 125 - add_len;
    w &= ~(W_TRUNCATED | (0x7fu << 17));
    w |= (final_len != len ? W_TRUNCATED : 0) | (final_len << 17);
    st32(S + 12, w);

    size_t ad_bytes = 16 * (size_t)add_len, msg_bytes = 16 * (size_t)final_len;
    uint32_t tzc = (w >> 8) & 15, azc = w & 15;
    uint8_t *msg = S + 48 + ad_bytes;
    size_t nblocks = (ad_bytes + msg_bytes) / 16;
    st64(last, (uint64_t)ad_bytes - azc);
    st64(last + 8, (uint64_t)msg_bytes - tzc);

    if (w & W_DECRYPT) {
        /* authenticate the ciphertext, then decrypt; nothing is zeroed. The keystream (with
         * block 0, the poly key) goes to a buffer first; only the blocks kept are made. */
        size_t start = 0;
        if (skip_below > 48 + ad_bytes) {
            start = ((skip_below - 48 - ad_bytes) / 64) * 64;
            if (start > msg_bytes) start = msg_bytes;
        }
        size_t n = msg_bytes - start;
        uint8_t ks[CC_STATE] PC_ALIGN(32);
        memset(ks, 0, n);
        chacha20_polykey_xor(key, nonce, poly_key, 1 + (uint32_t)(start / 64), ks, n);
        poly1305_blocks_last(S + 16, poly_key, S + 48, nblocks, last);
        uint8_t *p = msg + start;
        for (size_t i = 0; i < n; i++) p[i] ^= ks[i];
    } else {
        /* encrypt, zero the last tzc bytes, then authenticate the ciphertext */
        chacha20_polykey_xor(key, nonce, poly_key, 1, msg, msg_bytes);
        size_t z = tzc < msg_bytes ? tzc : msg_bytes;
        memset(msg + msg_bytes - z, 0, z);
        poly1305_blocks_last(S + 16, poly_key, S + 48, nblocks, last);
    }
}

void cc_init(uint8_t *S, const uint8_t seed[32], uint64_t nonce) {
    pc_expand(S, CC_STATE, seed, 0);
    st64(S, nonce);
    cc_make_fuzzable(S);
}

void cc_update(uint8_t *S, const uint8_t *item, size_t skip_below) {
    memcpy(S + 32, item, CC_ITEM);
    cc_make_fuzzable(S);
    cc_crypt(S, skip_below);
}

void cc_final(uint8_t *S) {
    uint8_t h[32];
    blake2b(h, 32, S, CC_STATE);
    memcpy(S, h, 32);
}
