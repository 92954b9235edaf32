/*
 * RandHash, the interpreter of RandGen programs (spec section 5).
 *
 * Programs are decoded once (operands, immediates and jump targets pre-computed) and then run
 * for every item of a table. The interpreter keeps the reference's structure: a recursive
 * run(pc) per frame, register numbers as absolute indexes into the variable stack (scope
 * markers included), one global loopCycle, and at most 20000 executed instructions per cycle,
 * every instruction counted. The limit is always enforced.
 *
 * Compiler features come from compat.h: GCC/Clang dispatch with computed goto and compute the
 * 64x64 -> 128-bit operations with unsigned __int128; other compilers (MSVC) and
 * PC_FORCE_PORTABLE builds use a switch and pc_u128's two 64-bit halves.
 */
#include <stdlib.h>

#include "pc.h"

#define MARKER 0xFFFFFFFFu
#define VARS_CAP 16384

enum {
    OP_POPCNT8 = 1, OP_POPCNT16, OP_POPCNT32, OP_CLZ8, OP_CLZ16, OP_CLZ32, OP_CTZ8, OP_CTZ16,
    OP_CTZ32, OP_BSWAP16, OP_BSWAP32,
    OP_ADD8, OP_ADD16, OP_ADD32, OP_SUB8, OP_SUB16, OP_SUB32, OP_SHLL8, OP_SHLL16, OP_SHLL32,
    OP_SHRL8, OP_SHRL16, OP_SHRL32, OP_SHRA8, OP_SHRA16, OP_SHRA32, OP_ROTL8, OP_ROTL16,
    OP_ROTL32, OP_MUL8, OP_MUL16, OP_MUL32, OP_AND, OP_OR, OP_XOR,
    OP_ADD8C, OP_ADD16C, OP_ADD32C, OP_SUB8C, OP_SUB16C, OP_SUB32C, OP_MUL8C, OP_MUL16C,
    OP_MUL32C, OP_MULSU8C, OP_MULSU16C, OP_MULSU32C, OP_MULU8C, OP_MULU16C, OP_MULU32C,
    OP_ADD64, OP_SUB64, OP_SHLL64, OP_SHRL64, OP_SHRA64, OP_ROTL64, OP_ROTR64, OP_MUL64,
    OP_ADD64C, OP_SUB64C, OP_MUL64C, OP_MULSU64C, OP_MULU64C,
    OP_IN, OP_MEMORY, OP_LOOP, OP_IF_LIKELY, OP_IF_RANDOM, OP_JMP, OP_END,
};

struct rh_insn {
    uint8_t op;
    uint8_t dispatch; /* op, + 128 when operand B is an immediate */
    uint8_t has_imm;
    uint16_t a;   /* regA (IF: the tested register) */
    uint16_t b;   /* regB */
    uint32_t arg; /* IN: word index; LOOP: count; JMP: offset; IF: mask; MEMORY: base */
    uint32_t carry, step; /* MEMORY */
    uint64_t imm; /* decoded immediate, 64 bits */
};

static uint64_t decode_imm(uint32_t insn) {
    uint32_t v = (insn >> 20) & 0xfff;
    if (insn & (1u << 19)) {
        uint32_t a = v & 31, b = (v >> 5) & 31, i = (v >> 10) & 1, s = v >> 11;
        uint64_t out = (((uint64_t)i << 63) - 1) ^ (1ULL << b) ^ (1ULL << a);
        return out | ((uint64_t)s << 63);
    }
    return (uint64_t)(int64_t)((int32_t)insn >> 20);
}

int rh_decode(rh_program *p, const uint32_t *words, int len) {
    p->insns = NULL;
    p->len = 0;
    if (len <= 0) return -1;
    rh_insn *d = calloc((size_t)len, sizeof *d);
    if (!d) return -1;
    for (int i = 0; i < len; i++) {
        uint32_t w = words[i];
        uint32_t op = w & 0xff;
        rh_insn *x = &d[i];
        if (op == 0 || op > OP_END) {
            free(d);
            return -1;
        }
        x->op = (uint8_t)op;
        x->a = (w >> 9) & 0x1ff;
        x->b = (w >> 20) & 0x1ff;
        x->has_imm = (w >> 18) & 1;
        x->imm = decode_imm(w);
        x->dispatch = (uint8_t)(op | ((x->has_imm && op >= OP_ADD8 && op <= OP_MULU64C) ? 128 : 0));
        switch (op) {
        case OP_IN:
            x->arg = (uint32_t)x->imm & 0xff;
            break;
        case OP_MEMORY:
            x->arg = w >> 17;
            x->carry = (w >> 9) & 15;
            x->step = (w >> 13) & 15;
            break;
        case OP_LOOP: {
            int32_t count = (int32_t)(uint32_t)x->imm;
            x->arg = count < 0 ? 0 : (uint32_t)count;
            break;
        }
        case OP_IF_LIKELY:
            x->arg = 7;
            break;
        case OP_IF_RANDOM:
            x->arg = 1;
            break;
        case OP_JMP:
            x->arg = w >> 8;
            break;
        default:
            break;
        }
    }
    p->insns = d;
    p->len = len;
    return 0;
}

void rh_free(rh_program *p) {
    free(p->insns);
    p->insns = NULL;
    p->len = 0;
}

typedef struct {
    const rh_insn *prog;
    int last_pc;
    const uint32_t *mem;
    const uint32_t *hin;
    uint32_t *hout;
    uint32_t *vars; /* vars[-1] exists (zero) so a 64-bit operand at register 0 is defined */
    int nvars;
    uint32_t op_ctr, hash_ctr, loop_cycle;
} machine;

/* ---- operation semantics (spec section 5.4) ---------------------------------------------- */

PC_INLINE uint32_t popcnt8(uint32_t a) {
    uint32_t x = a - ((a >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    return (x + (x >> 4)) & 0x0f0f0f0fu;
}
PC_INLINE uint32_t popcnt16(uint32_t a) {
    uint32_t x = popcnt8(a);
    return (x & 0x00ff00ffu) + ((x >> 8) & 0x00ff00ffu);
}
PC_INLINE uint32_t clz8(uint32_t a) {
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        uint32_t x = (a >> i) & 0xff;
        r |= (x ? pc_clz32(x) - 24 : 8u) << i;
    }
    return r;
}
PC_INLINE uint32_t clz16(uint32_t a) {
    uint32_t lo = a & 0xffff, hi = a >> 16;
    return (lo ? pc_clz32(lo) - 16 : 16u) |
           ((hi ? pc_clz32(hi) - 16 : 16u) << 16);
}
PC_INLINE uint32_t ctz8(uint32_t a) {
    uint32_t r = 0;
    for (int i = 0; i < 32; i += 8) {
        uint32_t x = (a >> i) & 0xff;
        r |= (x ? pc_ctz32(x) : 8u) << i;
    }
    return r;
}
PC_INLINE uint32_t ctz16(uint32_t a) {
    uint32_t lo = a & 0xffff, hi = a >> 16;
    return (lo ? pc_ctz32(lo) : 16u) | ((hi ? pc_ctz32(hi) : 16u) << 16);
}

#define LANES2(W, EXPR)                                                                       \
    do {                                                                                      \
        uint32_t r_ = 0;                                                                      \
        for (int i_ = 0; i_ < 32; i_ += (W)) {                                                \
            uint32_t x = (a >> i_) & ((1u << (W)) - 1), y = (b >> i_) & ((1u << (W)) - 1);    \
            r_ |= ((uint32_t)(EXPR) & ((1u << (W)) - 1)) << i_;                               \
            (void)x;                                                                          \
            (void)y;                                                                          \
        }                                                                                     \
        out = r_;                                                                             \
    } while (0)

#define CARRY(W, EXPR)                                                                        \
    do {                                                                                      \
        uint64_t r_ = 0;                                                                      \
        for (int l_ = 0; l_ < 32 / (W); l_++) {                                               \
            uint32_t x = (a >> (l_ * (W))) & ((1u << (W)) - 1);                               \
            uint32_t y = (b >> (l_ * (W))) & ((1u << (W)) - 1);                               \
            r_ |= ((uint64_t)(EXPR) & ((1ULL << (2 * (W))) - 1)) << (2 * (W) * l_);           \
            (void)x;                                                                          \
            (void)y;                                                                          \
        }                                                                                     \
        out = r_;                                                                             \
    } while (0)

static uint32_t op_2_1(int op, uint32_t a, uint32_t b) {
    uint32_t out = 0;
    switch (op) {
    case OP_ADD8: LANES2(8, x + y); break;
    case OP_ADD16: LANES2(16, x + y); break;
    case OP_ADD32: out = a + b; break;
    case OP_SUB8: LANES2(8, x - y); break;
    case OP_SUB16: LANES2(16, x - y); break;
    case OP_SUB32: out = a - b; break;
    case OP_SHLL8: LANES2(8, x << (y & 7)); break;
    case OP_SHLL16: LANES2(16, x << (y & 15)); break;
    case OP_SHLL32: out = a << (b & 31); break;
    case OP_SHRL8: LANES2(8, x >> (y & 7)); break;
    case OP_SHRL16: LANES2(16, x >> (y & 15)); break;
    case OP_SHRL32: out = a >> (b & 31); break;
    case OP_SHRA8: LANES2(8, (int32_t)(int8_t)x >> (y & 7)); break;
    case OP_SHRA16: LANES2(16, (int32_t)(int16_t)x >> (y & 15)); break;
    case OP_SHRA32: out = (uint32_t)((int32_t)a >> (b & 31)); break;
    case OP_ROTL8: LANES2(8, (x << (y & 7)) | (x >> (8 - (y & 7)))); break;
    case OP_ROTL16: LANES2(16, (x << (y & 15)) | (x >> (16 - (y & 15)))); break;
    case OP_ROTL32: out = (a << (b & 31)) | (a >> ((32 - (b & 31)) & 31)); break;
    case OP_MUL8: LANES2(8, x * y); break;
    case OP_MUL16: LANES2(16, x * y); break;
    case OP_MUL32: out = a * b; break;
    case OP_AND: out = a & b; break;
    case OP_OR: out = a | b; break;
    case OP_XOR: out = a ^ b; break;
    default: break;
    }
    return out;
}

static uint64_t op_2_2(int op, uint32_t a, uint32_t b) {
    uint64_t out = 0;
    switch (op) {
    case OP_ADD8C: CARRY(8, x + y); break;
    case OP_ADD16C: CARRY(16, (uint64_t)x + y); break;
    case OP_ADD32C: out = (uint64_t)a + b; break;
    case OP_SUB8C: CARRY(8, x - y); break;
    case OP_SUB16C: CARRY(16, (uint64_t)x - y); break;
    case OP_SUB32C: out = (uint64_t)a - b; break;
    case OP_MUL8C: CARRY(8, (int32_t)(int8_t)x * (int32_t)(int8_t)y); break;
    case OP_MUL16C: CARRY(16, (int64_t)(int16_t)x * (int16_t)y); break;
    case OP_MUL32C: out = (uint64_t)((int64_t)(int32_t)a * (int32_t)b); break;
    case OP_MULSU8C: CARRY(8, (int32_t)(int8_t)x * (int32_t)y); break;
    case OP_MULSU16C: CARRY(16, (int64_t)(int16_t)x * (int64_t)y); break;
    case OP_MULSU32C: out = (uint64_t)((int64_t)(int32_t)a * (int64_t)b); break;
    case OP_MULU8C: CARRY(8, x * y); break;
    case OP_MULU16C: CARRY(16, (uint64_t)x * y); break;
    case OP_MULU32C: out = (uint64_t)a * b; break;
    default: break;
    }
    return out;
}

static uint64_t op_4_2(int op, uint64_t a, uint64_t b) {
    switch (op) {
    case OP_ADD64: return a + b;
    case OP_SUB64: return a - b;
    case OP_SHLL64: return a << (b & 63);
    case OP_SHRL64: return a >> (b & 63);
    case OP_SHRA64: return (uint64_t)((int64_t)a >> (b & 63));
    case OP_ROTL64: return (a << (b & 63)) | (a >> ((64 - (b & 63)) & 63));
    case OP_ROTR64: return (a >> (b & 63)) | (a << ((64 - (b & 63)) & 63));
    case OP_MUL64: return a * b;
    default: return 0;
    }
}

#if PC_HAVE_INT128
typedef unsigned __int128 u128;
typedef __int128 s128;

static pc_u128 op_4_4(int op, uint64_t a, uint64_t b) {
    switch (op) {
    case OP_ADD64C: return (u128)a + b;
    case OP_SUB64C: return (u128)a - (u128)b;
    case OP_MUL64C: return (u128)((s128)(int64_t)a * (s128)(int64_t)b);
    case OP_MULSU64C: return (u128)(s128)(int64_t)a * (u128)b;
    case OP_MULU64C: return (u128)a * b;
    default: return 0;
    }
}
#else
/* The same results from 64-bit halves: a signed operand x is x_u - 2^64 (x < 0), so the
 * signed product's high half is the unsigned one minus the other operand for each negative
 * signed operand (mod 2^64). */
static pc_u128 op_4_4(int op, uint64_t a, uint64_t b) {
    pc_u128 r;
    switch (op) {
    case OP_ADD64C: return pc_make_128(a + b < a, a + b);
    case OP_SUB64C: return pc_make_128(a < b ? ~0ULL : 0, a - b);
    case OP_MUL64C:
        r = pc_mul_64x64(a, b);
        r.hi -= ((int64_t)a < 0 ? b : 0) + ((int64_t)b < 0 ? a : 0);
        return r;
    case OP_MULSU64C:
        r = pc_mul_64x64(a, b);
        r.hi -= (int64_t)a < 0 ? b : 0;
        return r;
    case OP_MULU64C: return pc_mul_64x64(a, b);
    default: return pc_make_128(0, 0);
    }
}
#endif

/* 32-bit word k (0 = least significant) of a pc_u128 */
#if PC_HAVE_INT128
#define U128_WORD(r, k) ((uint32_t)((r) >> (32 * (k))))
#else
#define U128_WORD(r, k) ((uint32_t)(((k) < 2 ? (r).lo : (r).hi) >> (32 * ((k) & 1))))
#endif

/* ---- the interpreter ----------------------------------------------------------------------- */

PC_INLINE uint32_t popcnt32(uint32_t x) {
    x = x - ((x >> 1) & 0x55555555u);
    x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
    x = (x + (x >> 4)) & 0x0f0f0f0fu;
    return (x * 0x01010101u) >> 24;
}

PC_INLINE uint32_t op_1_1(int op, uint32_t a) {
    switch (op) {
    case OP_POPCNT8: return popcnt8(a);
    case OP_POPCNT16: return popcnt16(a);
    case OP_POPCNT32: return popcnt32(a);
    case OP_CLZ8: return clz8(a);
    case OP_CLZ16: return clz16(a);
    case OP_CLZ32: return a ? pc_clz32(a) : 32u;
    case OP_CTZ8: return ctz8(a);
    case OP_CTZ16: return ctz16(a);
    case OP_CTZ32: return a ? pc_ctz32(a) : 32u;
    case OP_BSWAP16: return ((a & 0x00ff00ffu) << 8) | ((a >> 8) & 0x00ff00ffu);
    default: return pc_bswap32(a);
    }
}

/* Direct-threaded dispatch: every opcode has its own label, and operations whose operand B is
 * an immediate have a second label (dispatch index opcode + 128), so no handler tests
 * HAS_IMM at run time. Without computed goto (PC_COMPUTED_GOTO 0: MSVC, PC_FORCE_PORTABLE) the
 * same handlers are the cases of one switch on that dispatch index, and DISPATCH jumps back to
 * it.
 *
 * The reference's run(pc) is recursive (LOOP calls it once per iteration, IF once). Here the
 * calls are frames on an explicit stack: entering a frame pushes a scope marker and sets
 * `base`; END adds the frame's values into hashOut, pops them and the marker, and "returns"
 * its pc to the frame's caller (the LOOP, which starts the next iteration or continues after
 * the loop, or the IF, which continues after the returned pc). */
#define IMM 128
#define MAX_FRAMES (RG_MAX_INSNS + 8)

typedef struct {
    int loop_pc;    /* -1 for an IF */
    uint32_t base;  /* the caller's base */
    uint32_t i, count;
} frame_t;

static int run(machine *m) {
    uint32_t *const vars = m->vars;
    const rh_insn *const prog = m->prog;
    const int last_pc = m->last_pc;
    const uint32_t *const hin = m->hin, *const mem = m->mem;
    uint32_t nv = 0, ops = 0, base = 0, loop_cycle = 0;
    int pc = 0, ret = 0, depth = 0;
    const rh_insn *in;
    frame_t frames[MAX_FRAMES];

#if PC_COMPUTED_GOTO
#define L1(OP) [OP] = &&l_##OP, [OP + IMM] = &&l_##OP
#define L2(OP) [OP] = &&l_##OP, [OP + IMM] = &&li_##OP
    static const void *const labels[256] = {
        [0 ... 255] = &&fail,
        L1(OP_POPCNT8), L1(OP_POPCNT16), L1(OP_POPCNT32), L1(OP_CLZ8), L1(OP_CLZ16),
        L1(OP_CLZ32), L1(OP_CTZ8), L1(OP_CTZ16), L1(OP_CTZ32), L1(OP_BSWAP16), L1(OP_BSWAP32),
        L2(OP_ADD8), L2(OP_ADD16), L2(OP_ADD32), L2(OP_SUB8), L2(OP_SUB16), L2(OP_SUB32),
        L2(OP_SHLL8), L2(OP_SHLL16), L2(OP_SHLL32), L2(OP_SHRL8), L2(OP_SHRL16), L2(OP_SHRL32),
        L2(OP_SHRA8), L2(OP_SHRA16), L2(OP_SHRA32), L2(OP_ROTL8), L2(OP_ROTL16), L2(OP_ROTL32),
        L2(OP_MUL8), L2(OP_MUL16), L2(OP_MUL32), L2(OP_AND), L2(OP_OR), L2(OP_XOR),
        L2(OP_ADD8C), L2(OP_ADD16C), L2(OP_ADD32C), L2(OP_SUB8C), L2(OP_SUB16C), L2(OP_SUB32C),
        L2(OP_MUL8C), L2(OP_MUL16C), L2(OP_MUL32C), L2(OP_MULSU8C), L2(OP_MULSU16C),
        L2(OP_MULSU32C), L2(OP_MULU8C), L2(OP_MULU16C), L2(OP_MULU32C),
        L2(OP_ADD64), L2(OP_SUB64), L2(OP_SHLL64), L2(OP_SHRL64), L2(OP_SHRA64), L2(OP_ROTL64),
        L2(OP_ROTR64), L2(OP_MUL64),
        L2(OP_ADD64C), L2(OP_SUB64C), L2(OP_MUL64C), L2(OP_MULSU64C), L2(OP_MULU64C),
        L1(OP_IN), L1(OP_MEMORY), L1(OP_LOOP), L1(OP_IF_LIKELY), L1(OP_IF_RANDOM), L1(OP_JMP),
        L1(OP_END),
    };
#define GOTO_HANDLER() goto *labels[in->dispatch]
/* handler entry points: the register form, the immediate form, one handler for both */
#define H_REG(OP) l_##OP:
#define H_IMM(OP) li_##OP:
#define H_ANY(OP) l_##OP:
#else
#define GOTO_HANDLER() goto dispatch
#define H_REG(OP) case OP:
#define H_IMM(OP) case OP + IMM:
#define H_ANY(OP) case OP: case OP + IMM:
#endif

#define PUSH(v)                                                                               \
    do {                                                                                      \
        if (PC_UNLIKELY(nv >= VARS_CAP)) goto fail;                                           \
        vars[nv++] = (v);                                                                     \
    } while (0)
#define DISPATCH()                                                                            \
    do {                                                                                      \
        if (PC_UNLIKELY(ops > RH_MAX_OPS)) goto fail;                                         \
        ops++;                                                                                \
        in = &prog[pc];                                                                       \
        GOTO_HANDLER();                                                                       \
    } while (0)
#define NEXT()                                                                                \
    do {                                                                                      \
        pc++;                                                                                 \
        if (PC_UNLIKELY(pc > last_pc)) goto fail;                                             \
        DISPATCH();                                                                           \
    } while (0)
/* start a frame (a call of the reference's run) at `target` */
#define ENTER(target)                                                                         \
    do {                                                                                      \
        PUSH(MARKER);                                                                         \
        base = nv;                                                                            \
        pc = (target);                                                                        \
        if (PC_UNLIKELY(pc > last_pc)) goto fail;                                             \
        DISPATCH();                                                                           \
    } while (0)
#define A32 vars[in->a]
#define A64 ((uint64_t)vars[(int)in->a - 1] | (uint64_t)vars[in->a] << 32)
#define B64R ((uint64_t)vars[(int)in->b - 1] | (uint64_t)vars[in->b] << 32)

#define OP11(OP)                                                                              \
    H_ANY(OP) PUSH(op_1_1(OP, A32));                                                          \
    NEXT();
#define OP21(OP)                                                                              \
    H_REG(OP) PUSH(op_2_1(OP, A32, vars[in->b]));                                             \
    NEXT();                                                                                   \
    H_IMM(OP) PUSH(op_2_1(OP, A32, (uint32_t)in->imm));                                       \
    NEXT();
#define OP22(OP)                                                                              \
    H_REG(OP) {                                                                               \
        uint64_t r = op_2_2(OP, A32, vars[in->b]);                                            \
        PUSH((uint32_t)r);                                                                    \
        PUSH((uint32_t)(r >> 32));                                                            \
    }                                                                                         \
    NEXT();                                                                                   \
    H_IMM(OP) {                                                                               \
        uint64_t r = op_2_2(OP, A32, (uint32_t)in->imm);                                      \
        PUSH((uint32_t)r);                                                                    \
        PUSH((uint32_t)(r >> 32));                                                            \
    }                                                                                         \
    NEXT();
#define OP42(OP)                                                                              \
    H_REG(OP) {                                                                               \
        uint64_t r = op_4_2(OP, A64, B64R);                                                   \
        PUSH((uint32_t)r);                                                                    \
        PUSH((uint32_t)(r >> 32));                                                            \
    }                                                                                         \
    NEXT();                                                                                   \
    H_IMM(OP) {                                                                               \
        uint64_t r = op_4_2(OP, A64, in->imm);                                                \
        PUSH((uint32_t)r);                                                                    \
        PUSH((uint32_t)(r >> 32));                                                            \
    }                                                                                         \
    NEXT();
#define OP44(OP)                                                                              \
    H_REG(OP) {                                                                               \
        pc_u128 r = op_4_4(OP, A64, B64R);                                                    \
        PUSH(U128_WORD(r, 0));                                                                \
        PUSH(U128_WORD(r, 1));                                                                \
        PUSH(U128_WORD(r, 2));                                                                \
        PUSH(U128_WORD(r, 3));                                                                \
    }                                                                                         \
    NEXT();                                                                                   \
    H_IMM(OP) {                                                                               \
        pc_u128 r = op_4_4(OP, A64, in->imm);                                                 \
        PUSH(U128_WORD(r, 0));                                                                \
        PUSH(U128_WORD(r, 1));                                                                \
        PUSH(U128_WORD(r, 2));                                                                \
        PUSH(U128_WORD(r, 3));                                                                \
    }                                                                                         \
    NEXT();

    DISPATCH(); /* the top-level frame: no marker, base 0 */

#if !PC_COMPUTED_GOTO
dispatch:
    switch (in->dispatch) {
    default:
        goto fail;
#endif

    OP11(OP_POPCNT8)
    OP11(OP_POPCNT16)
    OP11(OP_POPCNT32)
    OP11(OP_CLZ8)
    OP11(OP_CLZ16)
    OP11(OP_CLZ32)
    OP11(OP_CTZ8)
    OP11(OP_CTZ16)
    OP11(OP_CTZ32)
    OP11(OP_BSWAP16)
    OP11(OP_BSWAP32)
    OP21(OP_ADD8)
    OP21(OP_ADD16)
    OP21(OP_ADD32)
    OP21(OP_SUB8)
    OP21(OP_SUB16)
    OP21(OP_SUB32)
    OP21(OP_SHLL8)
    OP21(OP_SHLL16)
    OP21(OP_SHLL32)
    OP21(OP_SHRL8)
    OP21(OP_SHRL16)
    OP21(OP_SHRL32)
    OP21(OP_SHRA8)
    OP21(OP_SHRA16)
    OP21(OP_SHRA32)
    OP21(OP_ROTL8)
    OP21(OP_ROTL16)
    OP21(OP_ROTL32)
    OP21(OP_MUL8)
    OP21(OP_MUL16)
    OP21(OP_MUL32)
    OP21(OP_AND)
    OP21(OP_OR)
    OP21(OP_XOR)
    OP22(OP_ADD8C)
    OP22(OP_ADD16C)
    OP22(OP_ADD32C)
    OP22(OP_SUB8C)
    OP22(OP_SUB16C)
    OP22(OP_SUB32C)
    OP22(OP_MUL8C)
    OP22(OP_MUL16C)
    OP22(OP_MUL32C)
    OP22(OP_MULSU8C)
    OP22(OP_MULSU16C)
    OP22(OP_MULSU32C)
    OP22(OP_MULU8C)
    OP22(OP_MULU16C)
    OP22(OP_MULU32C)
    OP42(OP_ADD64)
    OP42(OP_SUB64)
    OP42(OP_SHLL64)
    OP42(OP_SHRL64)
    OP42(OP_SHRA64)
    OP42(OP_ROTL64)
    OP42(OP_ROTR64)
    OP42(OP_MUL64)
    OP44(OP_ADD64C)
    OP44(OP_SUB64C)
    OP44(OP_MUL64C)
    OP44(OP_MULSU64C)
    OP44(OP_MULU64C)

    H_ANY(OP_IN)
    PUSH(hin[in->arg]);
    NEXT();
    H_ANY(OP_MEMORY)
    PUSH(mem[(in->arg + (loop_cycle + in->carry) * in->step) & 0xff]);
    NEXT();
    H_ANY(OP_LOOP)
    if (in->arg == 0) { /* no iteration: the reference's ret stays the LOOP's own pc */
        ret = pc;
        goto loop_done;
    }
    if (PC_UNLIKELY(depth >= MAX_FRAMES)) goto fail;
    frames[depth++] = (frame_t){pc, base, 0, in->arg};
    loop_cycle = 0;
    ENTER(pc + 1);
    H_ANY(OP_IF_LIKELY)
    H_ANY(OP_IF_RANDOM)
    if (PC_UNLIKELY(depth >= MAX_FRAMES)) goto fail;
    frames[depth++] = (frame_t){-1, base, 0, 0};
    ENTER((vars[in->a] & in->arg) ? pc + 2 : pc + 1);
    H_ANY(OP_JMP)
    pc += (int)in->arg;
    NEXT();
    H_ANY(OP_END) {
    /* hashOut[hashctr++ mod 256] += each value: contiguous runs, so the loop vectorizes */
    uint32_t ctr = m->hash_ctr;
    uint32_t *PC_RESTRICT hout = m->hout;
    const uint32_t *PC_RESTRICT src = vars + base;
    uint32_t left = nv - base;
    while (left > 0) {
        uint32_t run_len = 256 - ctr < left ? 256 - ctr : left;
        uint32_t *PC_RESTRICT dst = hout + ctr;
        for (size_t i = 0; i < run_len; i++) dst[i] += src[i];
        src += run_len;
        left -= run_len;
        ctr = (ctr + run_len) & 0xff;
    }
    m->hash_ctr = ctr;
    /* pop the frame's values and its marker (the reference's del vars[base-1:]) */
    if (base > 0)
        nv = base - 1;
    else if (nv > 0)
        nv--;
    ret = pc;
    goto frame_return;
}
frame_return:
    /* the current frame returned `ret` to its caller */
    if (depth == 0) goto done;
    {
        frame_t *f = &frames[depth - 1];
        if (f->loop_pc < 0) { /* IF: continue after the returned pc */
            depth--;
            base = f->base;
            pc = ret;
            NEXT();
        }
        if (++f->i < f->count) { /* LOOP: next iteration */
            loop_cycle = f->i;
            ENTER(f->loop_pc + 1);
        }
        depth--;
        base = f->base;
    }
loop_done:
    if (ops > RH_MAX_OPS) goto fail;
    pc = ret;
    if (pc == last_pc) goto frame_return; /* the reference returns here without an END */
    NEXT();
#if !PC_COMPUTED_GOTO
    }
#endif
done:
    m->op_ctr = ops;
    return 0;
fail:
    m->op_ctr = ops;
    return -1;
}

int rh_run(const rh_program *p, const uint32_t mem[256], uint8_t *S, int cycles,
           uint32_t *op_counts) {
    uint32_t lo[256], hi[256];
    uint32_t stack[VARS_CAP + 1];
    memcpy(lo, S, 1024);
    memcpy(hi, S + 1024, 1024);
    uint32_t *hin = lo, *hout = hi;
    int rc = 0;
    for (int c = 0; c < cycles; c++) {
        machine m;
        m.prog = p->insns;
        m.last_pc = p->len - 1;
        m.mem = mem;
        m.hin = hin;
        m.hout = hout;
        stack[0] = 0;
        memset(stack + 1, 0, 1024 * sizeof(uint32_t));
        m.vars = stack + 1;
        m.nvars = 0;
        m.op_ctr = 0;
        m.hash_ctr = 0;
        m.loop_cycle = 0;
        int r = run(&m);
        if (op_counts) op_counts[c] = m.op_ctr;
        if (r < 0 || m.op_ctr > RH_MAX_OPS) {
            rc = -1;
            break;
        }
        uint32_t *t = hin;
        hin = hout;
        hout = t;
    }
    memcpy(S, lo, 1024);
    memcpy(S + 1024, hi, 1024);
    return rc;
}
