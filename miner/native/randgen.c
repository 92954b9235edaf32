/*
 * RandGen, the random program generator (spec section 4). The order in which random words
 * are drawn is consensus; every draw below happens where the spec draws it.
 */
#include <stdlib.h>

#include "pc.h"

#define MARKER 0xFFFFFFFFu
#define OP_IN 64
#define OP_MEMORY 65
#define OP_LOOP 66
#define OP_IF_LIKELY 67
#define OP_IF_RANDOM 68
#define OP_JMP 69
#define OP_END 70

enum { T11 = 0, T21, T22, T42, T44 };
static const uint32_t TYPE_FIRST[5] = {1, 12, 36, 51, 59};
static const uint32_t TYPE_COUNT[5] = {11, 24, 15, 8, 5};
static const int TYPE_COST[5] = {1, 2, 4, 8, 16};
static const int TYPE_OUT[5] = {1, 1, 2, 2, 4};

typedef struct {
    const uint8_t *seed;
    uint32_t words[16];
    int next;
    uint32_t ctr;
    uint32_t *insns;
    int count;
    int too_big;
    uint32_t *vars;
    size_t nvars, cap;
    int depth;
    int error;
} gen_t;

static uint32_t rnd(gen_t *g) {
    if (g->next >= 16) {
        uint8_t buf[64];
        pc_expand(buf, 64, g->seed, g->ctr++);
        for (int i = 0; i < 16; i++) g->words[i] = ld32(buf + 4 * i);
        g->next = 0;
    }
    return g->words[g->next++];
}

static int toss(gen_t *g, uint32_t n) { return rnd(g) % n == 0; }
static uint32_t range(gen_t *g, uint32_t a, uint32_t b) { return rnd(g) % (b - a) + a; }

static void emit(gen_t *g, uint32_t insn) {
    if (g->count >= RG_MAX_INSNS) {
        g->too_big = 1;
        return;
    }
    g->insns[g->count++] = insn;
}

static void push(gen_t *g, uint32_t v) {
    if (g->nvars == g->cap) {
        size_t cap = g->cap ? 2 * g->cap : 1024;
        uint32_t *nv = realloc(g->vars, cap * sizeof *nv);
        if (!nv) {
            g->error = 1;
            return;
        }
        g->vars = nv;
        g->cap = cap;
    }
    g->vars[g->nvars++] = v;
}

static void scope(gen_t *g) {
    g->depth++;
    push(g, MARKER);
}

static void end(gen_t *g) {
    emit(g, OP_END);
    g->depth--;
    while (g->nvars > 0 && g->vars[--g->nvars] != MARKER) {
    }
}

static uint32_t get_var(gen_t *g, int dbl) {
    uint32_t *v = g->vars;
    long eof = (long)g->nvars, bof = eof - 1;
    while (bof >= 0) {
        if (v[bof] != MARKER) {
            bof--;
            continue;
        }
        int too_small = bof >= eof - (dbl ? 2 : 1);
        if (!too_small && (bof == 0 || !toss(g, 4))) break;
        eof = bof;
        bof--;
    }
    if (bof < 0) {
        g->error = 1;
        return 0;
    }
    long j = (long)range(g, (uint32_t)(bof + 1), (uint32_t)eof) + 1;
    for (;;) {
        if (j >= eof) j = bof + 1;
        if ((!dbl || j > bof + 1) && toss(g, 8)) break;
        if (!(v[j] & 1) && (!dbl || !(v[j - 1] & 1))) break;
        j++;
    }
    v[j] |= 1;
    if (dbl) v[j - 1] |= 1;
    return (uint32_t)j;
}

static uint32_t get_a(gen_t *g, int dbl) { return get_var(g, dbl) << 9; }

static uint32_t get_b(gen_t *g, int dbl) {
    if (toss(g, 4)) return (rnd(g) << 20) | (1u << 18);
    return get_var(g, dbl) << 20;
}

static int op(gen_t *g, int type, int *budget) {
    uint32_t r = rnd(g);
    if (*budget < TYPE_COST[type]) return 0;
    *budget -= TYPE_COST[type];
    int dbl = type >= T42;
    uint32_t insn = TYPE_FIRST[type] + r % TYPE_COUNT[type];
    insn |= get_a(g, dbl);
    if (type != T11) insn |= get_b(g, dbl);
    emit(g, insn);
    for (int i = 0; i < TYPE_OUT[type]; i++) push(g, 0);
    return 1;
}

static int input(gen_t *g, int *budget) {
    if (*budget < 2) return 0;
    *budget -= 2;
    push(g, 0);
    emit(g, (rnd(g) << 8) | OP_IN);
    return 1;
}

static int body(gen_t *g, int *budget, int new_scope);

static int branch(gen_t *g, int *budget) {
    if (*budget < 50) return 0;
    *budget -= 50;
    uint32_t opcode = toss(g, 2) ? OP_IF_RANDOM : OP_IF_LIKELY;
    emit(g, get_a(g, 0) | opcode | (2u << 20));
    int j1 = g->count;
    emit(g, OP_JMP);
    int b1 = *budget * 7 / 32;
    body(g, &b1, 1);
    int j2 = g->count;
    emit(g, OP_JMP);
    int b2 = *budget * 7 / 32;
    body(g, &b2, 1);
    if (j1 < g->count) g->insns[j1] = ((uint32_t)(j2 - j1) << 8) | OP_JMP;
    if (j2 < g->count) g->insns[j2] = ((uint32_t)(g->count - j2 - 1) << 8) | OP_JMP;
    return 1;
}

static int loop(gen_t *g, int *budget) {
    uint32_t cycles = range(g, 2, 7 + 29 * (uint32_t)g->depth);
    uint32_t reads = range(g, 2, 4);
    if ((int64_t)*budget < 20 * (int64_t)cycles) return 0;
    *budget /= (int)cycles;
    emit(g, (cycles << 20) | OP_LOOP);
    scope(g);
    uint32_t tmpl = (rnd(g) << 8) | OP_MEMORY;
    for (uint32_t i = 0; i < reads; i++) {
        if (*budget < 20) break;
        *budget -= 20;
        push(g, 0);
        uint32_t carry = rnd(g) & 15;
        emit(g, (tmpl & ~(15u << 9)) | (carry << 9));
    }
    body(g, budget, 0);
    end(g);
    return 0;
}

static int body(gen_t *g, int *budget, int new_scope) {
    if (new_scope) scope(g);
    for (;;) {
        if (g->error) break;
        uint32_t mx = range(g, 2, 12);
        int out = 0;
        for (uint32_t i = 1; i <= mx; i++) {
            if (toss(g, 4 * mx / i) && op(g, T44, budget)) continue;
            if (toss(g, 3 * mx / i) && op(g, T42, budget)) continue;
            if (toss(g, 3 * mx / i) && op(g, T22, budget)) continue;
            if (toss(g, 2 * mx / i) && op(g, T21, budget)) continue;
            if (toss(g, i) && input(g, budget)) continue;
            if (op(g, T11, budget)) continue;
            out = 1;
            break;
        }
        if (out) break;
        if ((rnd(g) % 64 + (uint32_t)g->count * 25 / RG_MAX_INSNS) < 50 && !branch(g, budget))
            break;
        if (rnd(g) % 32 < 23 && !loop(g, budget)) break;
    }
    if (new_scope) end(g);
    return 0;
}

int randgen_generate(uint32_t out[RG_MAX_INSNS], const uint8_t seed[32]) {
    gen_t g;
    memset(&g, 0, sizeof g);
    g.seed = seed;
    g.next = 16;
    g.insns = out;
    int budget = 20000;
    loop(&g, &budget);
    free(g.vars);
    if (g.too_big || g.error) return -1;
    return g.count;
}
