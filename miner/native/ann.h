/* The mining job and the validator (spec sections 8 to 10). */
#ifndef PC_ANN_H
#define PC_ANN_H

#include "pc.h"

/* Validation results; the order matches miner.kernel's mapping to AnnCheck. */
enum {
    PC_OK = 0,
    PC_INVAL = 1,
    PC_ANN_VERSION_NOT_ALLOWED = 2,
    PC_ANN_VERSION_MISMATCH = 3,
    PC_UNSUPPORTED_VERSION = 4,
    PC_SOFT_NONCE_HIGH = 5,
    PC_BAD_PROGRAM = 6,
    PC_BAD_PROGRAM_EXEC = 7,
    PC_INVAL_ITEM4 = 8,
    PC_BAD_PROGRAM0 = 9,
    PC_BAD_PROGRAM0_EXEC = 10,
    PC_INVAL_MERKLE = 11,
    PC_INSUF_POW = 12,
    PC_NOMEM = -1,
};

/* Job build results. */
enum {
    PC_JOB_OK = 0,
    PC_JOB_TABLE1_PROGRAM = 1,
    PC_JOB_TABLE1_ITEM = 2,
    PC_JOB_TABLE2_PROGRAM = 3,
    PC_JOB_TABLE2_ITEM = 4,
    PC_JOB_STAGE = 5,
    PC_JOB_NOMEM = -1,
};

typedef struct {
    uint8_t header[88]; /* soft nonce zero */
    uint8_t parent_hash[32];
    uint8_t hash0[64], hash1[64], seed2[64], root[64];
    uint8_t *tree;   /* MT_NODES * 64: table1's merkle tree, leaves first */
    uint8_t *table2; /* 8192 items */
    pc_table_ctx *ctx; /* the table being built */
    uint8_t init_state[CC_STATE] PC_ALIGN(64); /* init(annHash1[0:32], 0) */
    uint32_t work_bits, snm;
    int prog1_len, prog2_len;
    int stage;  /* 1: building table1, 2: building table2, 3: ready */
    int status; /* 0, or the first build failure */
} pc_job;

/* Build steps: begin; table1 over [0, 8192) in any split; middle; table2 likewise; end.
 * Disjoint ranges of one table may be built concurrently. */
pc_job *pc_job_new(void);
void pc_job_free(pc_job *j);
int pc_job_begin(pc_job *j, const uint8_t header[88], const uint8_t parent_hash[32]);
int pc_job_table1(pc_job *j, uint32_t start, uint32_t stop);
int pc_job_middle(pc_job *j);
int pc_job_table2(pc_job *j, uint32_t start, uint32_t stop);
int pc_job_end(pc_job *j);

void pc_job_hash_nonce(const pc_job *j, uint32_t nonce, uint8_t S[CC_STATE], uint32_t idx[4]);
void pc_job_assemble(const pc_job *j, uint32_t nonce, const uint8_t S[CC_STATE], uint32_t idx3,
                     uint8_t ann[1024], uint8_t *plain);
/* Scan nonces [start, min(start + count, SNM + 1)); write up to max_results anns to out.
 * Returns the next nonce to scan. */
uint32_t pc_job_mine(const pc_job *j, uint32_t start, uint32_t count, uint32_t max_results,
                     uint8_t *out, uint32_t *found);

int pc_validate(const uint8_t ann[1024], const uint8_t parent_hash[32], int pc_version,
                uint8_t work_hash[32], uint32_t idx_out[4]);

#endif
