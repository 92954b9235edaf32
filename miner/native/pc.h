/*
 * PacketCrypt v1 announcement mining kernel: shared declarations.
 *
 * Written for this project from the specification (shared/spec/packetcrypt.md) and
 * checked value by value against the pure-Python reference in miner/reference/.
 *
 * All integers are little-endian; the kernel refuses to build on big-endian hosts.
 */
#ifndef PC_H
#define PC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the PacketCrypt kernel assumes a little-endian host"
#endif

#include "compat.h"

PC_INLINE uint32_t ld32(const uint8_t *p) {
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}
PC_INLINE uint64_t ld64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}
PC_INLINE void st32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
PC_INLINE void st64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

/* ---- SIMD level (runtime detection, overridable for tests) ------------------------------ */

enum { PC_SIMD_PORTABLE = 0, PC_SIMD_AVX2 = 1, PC_SIMD_AVX512 = 2 };
extern int pc_simd_level;     /* the level in use */
int pc_simd_detect(void);     /* the best level this CPU supports */
void pc_simd_select(int lvl); /* set the function pointers (lvl <= detected) */

/* ---- BLAKE2b (unkeyed, no salt / personalization) ----------------------------------------- */

typedef struct {
    uint64_t h[8];
    uint64_t t;
    uint8_t buf[128];
    size_t buflen;
    size_t outlen;
} blake2b_state;

void blake2b_init(blake2b_state *S, size_t outlen);
void blake2b_update(blake2b_state *S, const uint8_t *in, size_t len);
void blake2b_final(blake2b_state *S, uint8_t *out);
void blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t len);
/* B256 of four independent 2048-byte messages (the nonce loop's final step). */
extern void (*blake2b256_2048_x4)(uint8_t *const out[4], const uint8_t *const in[4]);
void blake2b256_2048_x4_portable(uint8_t *const out[4], const uint8_t *const in[4]);

/* ---- ChaCha20 (IETF: 32-bit counter, 96-bit nonce) ------------------------------------------ */

/* buf ^= keystream starting at block `counter` (len bytes, any length). */
extern void (*chacha20_xor)(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                            uint8_t *buf, size_t len);
void chacha20_xor_portable(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                           uint8_t *buf, size_t len);
/* crypt()'s keystream: block 0's first 32 bytes to poly_key, and buf ^= the keystream from
 * block `counter` (>= 1) on. */
extern void (*chacha20_polykey_xor)(const uint8_t key[32], const uint8_t nonce[12],
                                    uint8_t poly_key[32], uint32_t counter, uint8_t *buf,
                                    size_t len);
void chacha20_polykey_xor_portable(const uint8_t key[32], const uint8_t nonce[12],
                                   uint8_t poly_key[32], uint32_t counter, uint8_t *buf,
                                   size_t len);
void chacha20_block(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                    uint8_t out[64]);
void chacha20_keystream(const uint8_t key[32], const uint8_t nonce[12], uint32_t counter,
                        uint8_t *out, size_t len);
/* Expand(len, seed, num): ChaCha20 keystream, nonce u32le(num) || "PC_EXPND", counter 0. */
void pc_expand(uint8_t *out, size_t len, const uint8_t seed[32], uint32_t num);

/* ---- Poly1305 ----------------------------------------------------------------------------- */

void poly1305(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg, size_t len);
/* The tag of `nblocks` full 16-byte blocks followed by one more block `last`. */
extern void (*poly1305_blocks_last)(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg,
                                    size_t nblocks, const uint8_t last[16]);
void poly1305_blocks_last_portable(uint8_t tag[16], const uint8_t key[32], const uint8_t *msg,
                                   size_t nblocks, const uint8_t last[16]);

/* ---- CryptoCycle -------------------------------------------------------------------------- */

#define CC_STATE 2048
#define CC_ITEM 1024

void cc_make_fuzzable(uint8_t *S);
/* crypt(S). `skip_below`: message bytes before this state offset need not be decrypted
 * (they are overwritten next); 0 for the exact operation. */
void cc_crypt(uint8_t *S, size_t skip_below);
void cc_init(uint8_t *S, const uint8_t seed[32], uint64_t nonce);
void cc_update(uint8_t *S, const uint8_t *item, size_t skip_below);
void cc_final(uint8_t *S);
PC_INLINE uint32_t cc_item_no(const uint8_t *S) { return (uint32_t)(ld64(S + 16) % 8192u); }

/* ---- RandGen / RandHash ------------------------------------------------------------------- */

#define RG_MAX_INSNS 2048
#define RH_MAX_OPS 20000

/* Returns the program length (> 0), or -1 if the program is rejected (too big). */
int randgen_generate(uint32_t out[RG_MAX_INSNS], const uint8_t seed[32]);

typedef struct rh_insn rh_insn;
typedef struct {
    rh_insn *insns;
    int len;
} rh_program;

/* Decode `len` words; returns 0, or -1 on an invalid opcode or allocation failure. */
int rh_decode(rh_program *p, const uint32_t *words, int len);
void rh_free(rh_program *p);
/* RandHash(prog, mem, S, cycles). Returns 0, or -1 if a cycle exceeded 20000 operations.
 * op_counts (optional) receives each cycle's executed-instruction count. */
int rh_run(const rh_program *p, const uint32_t mem[256], uint8_t *S, int cycles,
           uint32_t *op_counts);

/* ---- Items and tables --------------------------------------------------------------------- */

typedef struct {
    uint32_t words[RG_MAX_INSNS];
    int prog_len;
    uint32_t memory[2048]; /* Expand(8192, progSeed, 0) with the program words first */
    rh_program prog;
    uint8_t item_seed[32];
    uint8_t init_state[CC_STATE]; /* init(itemSeed, 0) with S[0:8] to be replaced */
} pc_table_ctx;

/* 0 ok, -1 program too big, -2 bad program / allocation failure. */
int pc_table_ctx_init(pc_table_ctx *ctx, const uint8_t prog_seed[32], const uint8_t item_seed[32]);
void pc_table_ctx_free(pc_table_ctx *ctx);
/* 0 ok, -1 when RandHash exceeds its operation limit. */
int pc_make_item(const pc_table_ctx *ctx, uint32_t index, uint8_t item[CC_ITEM],
                 uint32_t *op_counts);

/* ---- Merkle tree (BLAKE2b-512, 8192 leaves) ----------------------------------------------- */

#define MT_DEPTH 13
#define MT_LEAVES 8192
#define MT_NODES (2 * MT_LEAVES - 1)
/* tree: MT_NODES * 64 bytes, level 0 (leaves) first. Leaves must already be filled. */
void mt_build_inner(uint8_t *tree);
void mt_branch(const uint8_t *tree, uint32_t index, uint8_t out[MT_DEPTH * 64]);
int mt_verify(const uint8_t leaf[64], uint32_t index, const uint8_t *siblings,
              const uint8_t root[64]);

/* ---- Difficulty --------------------------------------------------------------------------- */

uint32_t pc_soft_nonce_max(uint32_t compact);
/* Compare LE256(hash) with target(compact): strict (<, mining) or pktd's (<=). */
int pc_hash_meets(const uint8_t hash[32], uint32_t compact, int allow_equal);

#endif
