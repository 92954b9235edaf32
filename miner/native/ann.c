/*
 * Items and tables (spec section 6.1), the announcement merkle tree (section 7), difficulty
 * (section 11), the mining job and nonce loop (sections 8, 9) and validation (section 10).
 */
#include <stdlib.h>

#include "ann.h"

/* ---- items and tables ---------------------------------------------------------------------- */

int pc_table_ctx_init(pc_table_ctx *ctx, const uint8_t prog_seed[32],
                      const uint8_t item_seed[32]) {
    ctx->prog.insns = NULL;
    ctx->prog.len = 0;
    ctx->prog_len = randgen_generate(ctx->words, prog_seed);
    if (ctx->prog_len < 0) return -1;
    pc_expand((uint8_t *)ctx->memory, sizeof ctx->memory, prog_seed, 0);
    memcpy(ctx->memory, ctx->words, (size_t)ctx->prog_len * 4);
    if (rh_decode(&ctx->prog, ctx->words, ctx->prog_len) != 0) return -2;
    memcpy(ctx->item_seed, item_seed, 32);
    /* init(itemSeed, i) differs between items only in S[0:8]: keep the keystream once */
    cc_init(ctx->init_state, item_seed, 0);
    return 0;
}

void pc_table_ctx_free(pc_table_ctx *ctx) { rh_free(&ctx->prog); }

int pc_make_item(const pc_table_ctx *ctx, uint32_t index, uint8_t item[CC_ITEM],
                 uint32_t *op_counts) {
    uint8_t S[CC_STATE] PC_ALIGN(64);
    memcpy(S, ctx->init_state, CC_STATE);
    st64(S, index);
    if (rh_run(&ctx->prog, ctx->memory + index % 1792, S, 2, op_counts) != 0) return -1;
    cc_make_fuzzable(S);
    cc_crypt(S, 0);
    memcpy(item, S, CC_ITEM);
    return 0;
}

/* ---- merkle tree ----------------------------------------------------------------------------- */

static size_t level_offset(int level) {
    size_t off = 0;
    for (int l = 0; l < level; l++) off += (size_t)MT_LEAVES >> l;
    return off;
}

void mt_build_inner(uint8_t *tree) {
    for (int l = 1; l <= MT_DEPTH; l++) {
        const uint8_t *child = tree + 64 * level_offset(l - 1);
        uint8_t *node = tree + 64 * level_offset(l);
        size_t n = (size_t)MT_LEAVES >> l;
        for (size_t i = 0; i < n; i++) blake2b(node + 64 * i, 64, child + 128 * i, 128);
    }
}

void mt_branch(const uint8_t *tree, uint32_t index, uint8_t out[MT_DEPTH * 64]) {
    for (int l = 0; l < MT_DEPTH; l++) {
        memcpy(out + 64 * l, tree + 64 * (level_offset(l) + (index ^ 1)), 64);
        index >>= 1;
    }
}

int mt_verify(const uint8_t leaf[64], uint32_t index, const uint8_t *siblings,
              const uint8_t root[64]) {
    uint8_t buf[128], cur[64];
    memcpy(cur, leaf, 64);
    for (int l = 0; l < MT_DEPTH; l++) {
        if (index & 1) {
            memcpy(buf, siblings + 64 * l, 64);
            memcpy(buf + 64, cur, 64);
        } else {
            memcpy(buf, cur, 64);
            memcpy(buf + 64, siblings + 64 * l, 64);
        }
        blake2b(cur, 64, buf, 128);
        index >>= 1;
    }
    return memcmp(cur, root, 64) == 0;
}

/* ---- difficulty ------------------------------------------------------------------------------ */

uint32_t pc_soft_nonce_max(uint32_t compact) {
    uint32_t mant = compact & 0x7fffff;
    int64_t lg = mant ? 31 - (int)pc_clz32(mant) : -1;
    int64_t bits = 22 - lg + 8 * (0x20 - (int64_t)(compact >> 24)) + 10;
    if (bits >= 24) return 0xffffff;
    if (bits <= 0) return 0;
    return 0xffffffu >> (24 - bits);
}

int pc_hash_meets(const uint8_t hash[32], uint32_t compact, int allow_equal) {
    uint32_t e = compact >> 24, m = compact & 0x7fffff;
    uint8_t t[32] = {0};
    if (e <= 3) {
        uint32_t v = e == 0 ? 0 : m >> (8 * (3 - e));
        t[0] = v & 0xff;
        t[1] = (v >> 8) & 0xff;
        t[2] = (v >> 16) & 0xff;
    } else {
        for (uint32_t k = 0; k < 3; k++) {
            uint8_t byte = (m >> (8 * k)) & 0xff;
            uint32_t pos = e - 3 + k;
            if (pos < 32)
                t[pos] = byte;
            else if (byte)
                return (compact & 0x800000) ? 0 : 1; /* |target| >= 2^256 */
        }
    }
    int zero = 1;
    for (int i = 0; i < 32; i++) zero &= t[i] == 0;
    if ((compact & 0x800000) && !zero) return 0; /* negative target */
    for (int i = 31; i >= 0; i--)
        if (hash[i] != t[i]) return hash[i] < t[i];
    return allow_equal;
}

/* ---- the mining job ------------------------------------------------------------------------- */

static int job_fail(pc_job *j, int rc) {
    if (!j->status) j->status = rc;
    return rc;
}

pc_job *pc_job_new(void) {
    pc_job *j = calloc(1, sizeof *j);
    return j;
}

void pc_job_free(pc_job *j) {
    if (!j) return;
    if (j->ctx) {
        pc_table_ctx_free(j->ctx);
        free(j->ctx);
    }
    free(j->tree);
    free(j->table2);
    free(j);
}

int pc_job_begin(pc_job *j, const uint8_t header[88], const uint8_t parent_hash[32]) {
    uint8_t buf[152];
    memcpy(j->header, header, 88);
    j->header[1] = j->header[2] = j->header[3] = 0;
    memcpy(j->parent_hash, parent_hash, 32);
    memcpy(buf, j->header, 88);
    memcpy(buf + 88, parent_hash, 32);
    memset(buf + 120, 0, 32);
    blake2b(j->hash0, 64, buf, 152);
    j->work_bits = ld32(j->header + 8);
    j->snm = pc_soft_nonce_max(j->work_bits);
    j->tree = malloc((size_t)MT_NODES * 64);
    j->table2 = malloc((size_t)MT_LEAVES * CC_ITEM);
    j->ctx = calloc(1, sizeof *j->ctx);
    if (!j->tree || !j->table2 || !j->ctx) return job_fail(j, PC_JOB_NOMEM);
    int rc = pc_table_ctx_init(j->ctx, j->hash0, j->hash0 + 32);
    if (rc == -2) return job_fail(j, PC_JOB_NOMEM);
    j->prog1_len = j->ctx->prog_len;
    if (rc != 0) return job_fail(j, PC_JOB_TABLE1_PROGRAM);
    j->stage = 1;
    return PC_JOB_OK;
}

int pc_job_table1(pc_job *j, uint32_t start, uint32_t stop) {
    if (j->stage != 1) return PC_JOB_STAGE;
    uint8_t item[CC_ITEM];
    for (uint32_t i = start; i < stop && i < MT_LEAVES; i++) {
        if (pc_make_item(j->ctx, i, item, NULL) != 0) return job_fail(j, PC_JOB_TABLE1_ITEM);
        blake2b(j->tree + 64 * (size_t)i, 64, item, CC_ITEM);
    }
    return PC_JOB_OK;
}

int pc_job_middle(pc_job *j) {
    if (j->stage != 1) return PC_JOB_STAGE;
    uint8_t buf[152];
    mt_build_inner(j->tree);
    memcpy(j->root, j->tree + 64 * (size_t)(MT_NODES - 1), 64);
    memcpy(buf, j->header, 88);
    memcpy(buf + 88, j->root, 64);
    blake2b(j->hash1, 64, buf, 152);
    memcpy(buf, j->root, 64);
    memcpy(buf + 64, j->hash0, 64);
    blake2b(j->seed2, 64, buf, 128);
    pc_table_ctx_free(j->ctx);
    int rc = pc_table_ctx_init(j->ctx, j->seed2, j->seed2 + 32);
    if (rc == -2) return job_fail(j, PC_JOB_NOMEM);
    j->prog2_len = j->ctx->prog_len;
    if (rc != 0) return job_fail(j, PC_JOB_TABLE2_PROGRAM);
    j->stage = 2;
    return PC_JOB_OK;
}

int pc_job_table2(pc_job *j, uint32_t start, uint32_t stop) {
    if (j->stage != 2) return PC_JOB_STAGE;
    for (uint32_t i = start; i < stop && i < MT_LEAVES; i++)
        if (pc_make_item(j->ctx, i, j->table2 + (size_t)CC_ITEM * i, NULL) != 0)
            return job_fail(j, PC_JOB_TABLE2_ITEM);
    return PC_JOB_OK;
}

int pc_job_end(pc_job *j) {
    if (j->stage != 2) return PC_JOB_STAGE;
    pc_table_ctx_free(j->ctx);
    free(j->ctx);
    j->ctx = NULL;
    cc_init(j->init_state, j->hash1, 0);
    j->stage = 3;
    return PC_JOB_OK;
}

/* init and the four lookups of one nonce, without the final hash */
static void nonce_lookups(const pc_job *j, uint32_t nonce, uint8_t S[CC_STATE], uint32_t idx[4]) {
    memcpy(S, j->init_state, CC_STATE);
    st64(S, nonce);
    for (int r = 0; r < 4; r++) {
        idx[r] = cc_item_no(S);
        /* the next update overwrites S[32:1056]: a decrypting crypt may skip those bytes */
        cc_update(S, j->table2 + (size_t)CC_ITEM * idx[r], r < 3 ? 32 + CC_ITEM : 0);
    }
}

void pc_job_hash_nonce(const pc_job *j, uint32_t nonce, uint8_t S[CC_STATE], uint32_t idx[4]) {
    nonce_lookups(j, nonce, S, idx);
    cc_final(S);
}

void pc_job_assemble(const pc_job *j, uint32_t nonce, const uint8_t S[CC_STATE], uint32_t idx3,
                     uint8_t ann[1024], uint8_t *plain) {
    uint8_t p[1024];
    memcpy(p, j->header, 88);
    p[1] = nonce & 0xff;
    p[2] = (nonce >> 8) & 0xff;
    p[3] = (nonce >> 16) & 0xff;
    mt_branch(j->tree, idx3, p + 88);
    memcpy(p + 920, j->root, 64);
    memset(p + 984, 0, 40);
    if (plain) memcpy(plain, p, 1024);
    memcpy(ann, p, 1024);
    for (int i = 0; i < 832; i++) ann[88 + i] ^= S[i];
    for (int i = 0; i < 40; i++) ann[984 + i] ^= S[832 + i];
}

/* Four nonces in lockstep: after each update the next item of that nonce is known, and it is
 * prefetched while the other three nonces are updated (table2 is 8 MiB, mostly outside the
 * caches). The final hashes are done together (4-way BLAKE2b). */
static void nonces_x4(const pc_job *j, uint32_t n0, int k, uint8_t *const S[4],
                      uint32_t idx[4][4]) {
    for (int i = 0; i < k; i++) {
        /* init: the keystream is the same for every nonce; S[32:1056] is overwritten by the
         * first update, so only the rest is copied */
        memcpy(S[i], j->init_state, 32);
        memcpy(S[i] + 32 + CC_ITEM, j->init_state + 32 + CC_ITEM, CC_STATE - 32 - CC_ITEM);
        st64(S[i], n0 + (uint32_t)i);
    }
    for (int r = 0; r < 4; r++) {
        for (int i = 0; i < k; i++) {
            const uint8_t *src = r == 0 ? j->init_state : S[i];
            uint32_t x = idx[i][r] = cc_item_no(src);
            cc_update(S[i], j->table2 + (size_t)CC_ITEM * x, r < 3 ? 32 + CC_ITEM : 0);
            if (r < 3) {
                const uint8_t *next = j->table2 + (size_t)CC_ITEM * cc_item_no(S[i]);
                for (int l = 0; l < CC_ITEM; l += 64) PC_PREFETCH(next + l);
            }
        }
    }
    if (k == 4)
        blake2b256_2048_x4(S, (const uint8_t *const *)S);
    else
        for (int i = 0; i < k; i++) cc_final(S[i]);
}

uint32_t pc_job_mine(const pc_job *j, uint32_t start, uint32_t count, uint32_t max_results,
                     uint8_t *out, uint32_t *found) {
    uint64_t end = (uint64_t)start + count;
    if (end > (uint64_t)j->snm + 1) end = (uint64_t)j->snm + 1;
    uint8_t buf[4][CC_STATE] PC_ALIGN(64);
    uint8_t *const S[4] = {buf[0], buf[1], buf[2], buf[3]};
    uint32_t idx[4][4];
    uint32_t got = 0;
    uint64_t n = start;
    while (n < end && got < max_results) {
        int k = end - n < 4 ? (int)(end - n) : 4;
        nonces_x4(j, (uint32_t)n, k, S, idx);
        for (int i = 0; i < k; i++) {
            if (!pc_hash_meets(S[i], j->work_bits, 0)) continue;
            pc_job_assemble(j, (uint32_t)(n + i), S[i], idx[i][3], out + 1024 * (size_t)got, NULL);
            if (++got == max_results) {
                *found = got;
                return (uint32_t)(n + i + 1);
            }
        }
        n += (uint64_t)k;
    }
    *found = got;
    return (uint32_t)n;
}

/* ---- validation ------------------------------------------------------------------------------ */

int pc_validate(const uint8_t ann[1024], const uint8_t parent_hash[32], int pc_version,
                uint8_t work_hash[32], uint32_t idx_out[4]) {
    uint32_t version = ann[0];
    uint32_t soft_nonce = ann[1] | (uint32_t)ann[2] << 8 | (uint32_t)ann[3] << 16;
    uint32_t work_bits = ld32(ann + 8), parent_height = ld32(ann + 12);
    if (version > 0 && parent_height < 103869) return PC_ANN_VERSION_NOT_ALLOWED;
    if (pc_version > 1 && version == 0) return PC_ANN_VERSION_MISMATCH;
    if (version == 0) return PC_UNSUPPORTED_VERSION;

    uint8_t buf[152], hash0[64], hash1[64], seed2[64];
    memcpy(buf, ann, 88);
    buf[1] = buf[2] = buf[3] = 0;
    memcpy(buf + 88, parent_hash, 32);
    memset(buf + 120, 0, 32);
    blake2b(hash0, 64, buf, 152);
    memcpy(buf + 88, ann + 920, 64);
    blake2b(hash1, 64, buf, 152);
    if (soft_nonce > pc_soft_nonce_max(work_bits)) return PC_SOFT_NONCE_HIGH;
    memcpy(buf, ann + 920, 64);
    memcpy(buf + 64, hash0, 64);
    blake2b(seed2, 64, buf, 128);

    pc_table_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx) return PC_NOMEM;
    int rc = pc_table_ctx_init(ctx, seed2, seed2 + 32);
    if (rc != 0) {
        pc_table_ctx_free(ctx);
        free(ctx);
        return rc == -2 ? PC_NOMEM : PC_BAD_PROGRAM;
    }
    uint8_t S[CC_STATE] PC_ALIGN(64), item[CC_ITEM], plain[1024];
    cc_init(S, hash1, soft_nonce);
    uint32_t index = 0;
    for (int r = 0; r < 4; r++) {
        index = cc_item_no(S);
        if (idx_out) idx_out[r] = index;
        if (pc_make_item(ctx, index, item, NULL) != 0) {
            pc_table_ctx_free(ctx);
            free(ctx);
            return PC_BAD_PROGRAM_EXEC;
        }
        cc_update(S, item, 0);
    }
    cc_final(S);
    memcpy(work_hash, S, 32);
    pc_table_ctx_free(ctx);

    memcpy(plain, ann, 1024);
    for (int i = 0; i < 832; i++) plain[88 + i] ^= S[i];
    int nonzero = 0;
    for (int i = 0; i < 40; i++) {
        plain[984 + i] ^= S[832 + i];
        nonzero |= plain[984 + i];
    }
    if (nonzero) {
        free(ctx);
        return PC_INVAL_ITEM4;
    }

    rc = pc_table_ctx_init(ctx, hash0, hash0 + 32);
    if (rc != 0) {
        pc_table_ctx_free(ctx);
        free(ctx);
        return rc == -2 ? PC_NOMEM : PC_BAD_PROGRAM0;
    }
    rc = pc_make_item(ctx, index, item, NULL);
    pc_table_ctx_free(ctx);
    free(ctx);
    if (rc != 0) return PC_BAD_PROGRAM0_EXEC;
    uint8_t leaf[64];
    blake2b(leaf, 64, item, CC_ITEM);
    if (!mt_verify(leaf, index, plain + 88, ann + 920)) return PC_INVAL_MERKLE;
    if (!pc_hash_meets(work_hash, work_bits, 1)) return PC_INSUF_POW;
    return PC_OK;
}
