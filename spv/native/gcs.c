/*
 * Native BIP158 filter matching for the light client: SipHash-2-4, Golomb-Rice decoding and
 * membership tests, bit-exact with spv/bip158.py (which stays the reference and the fallback).
 *
 * match_many(filters, scripts, start=0, stop=None, backend=None) -> list[int]
 *   filters: sequence of (block_hash: bytes[32], filter: bytes) — the serialized basic filter
 *            (CompactSize N followed by the Golomb-Rice bitstream, P = 19, M = 784931)
 *   scripts: sequence of bytes (the wallet's watched scripts)
 *   start, stop: only filters[start:stop] are matched; indexes in the result (and in the
 *            error for a malformed filter) are indexes into `filters`
 *   backend: "portable", "avx2", "avx512" or None for the default (see below)
 *   returns the indexes of the filters that match at least one script.
 * The GIL is released while filters are decoded and matched, so callers can split a batch
 * across threads (spv.bip158.match_many does).
 *
 * How it is fast. Matching costs one SipHash-2-4 per wallet script per filter (the key is the
 * block hash), so everything is arranged around hashing many scripts under one key:
 * - each script's message words (including the final word with the length byte) are computed
 *   once per call and stored column-wise per word count, so a SIMD register loads word w of
 *   4 (AVX2) or 8 (AVX-512) scripts with one instruction;
 * - SipHash runs in SIMD lanes, two registers interleaved to hide latency; the kernel is
 *   chosen at run time (__builtin_cpu_supports), with a portable C kernel everywhere else;
 * - membership is tested first against a small bitmap indexed by the top bits of the hash
 *   (the filter value is monotonic in the hash), so the 128-bit multiply and the binary search
 *   only run for the few percent of hashes that land in an occupied bucket;
 * - the Golomb-Rice stream is decoded 64 bits at a time (count-leading-zeros for the unary
 *   part).
 *
 * Backends: "portable" is plain C (4 interleaved states; compilers vectorize it with the
 * baseline SIMD unit). On x86-64 with GCC or Clang, "avx2" and "avx512" (AVX-512F + VL) are
 * compiled too and used when the CPU has them. The default is the best one the CPU supports;
 * the environment variable PKT_GCS_BACKEND (read at import) or set_backend() overrides it, so
 * tests can run every kernel against the Python reference.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define GCS_X86 1
#include <immintrin.h>
#else
#define GCS_X86 0
#endif

#define GCS_P 19
#define GCS_M 784931ULL
#define MAX_FILTER_SIZE 262144
#define GROUP_ALIGN 16 /* scripts per group are padded to a multiple of this */

enum { BK_PORTABLE = 0, BK_AVX2 = 1, BK_AVX512 = 2, BK_COUNT = 3 };
static const char *const backend_names[BK_COUNT] = {"portable", "avx2", "avx512"};
static int backend_available[BK_COUNT] = {1, 0, 0};
static int default_backend = BK_PORTABLE;

typedef struct {
    const uint8_t *data;
    size_t len;
    size_t idx; /* position in the caller's sequence */
} span_t;

/* Scripts with the same number of SipHash message words (len / 8 + 1), column-wise:
 * words[w * padded + i] is word w of script i; rows past `count` repeat the last script. */
typedef struct {
    size_t nwords;
    size_t count;
    size_t padded;
    uint64_t *words;
} group_t;

typedef void (*hash_kernel_t)(const group_t *g, uint64_t k0, uint64_t k1, uint64_t *out);

#define IV0 0x736f6d6570736575ULL
#define IV1 0x646f72616e646f6dULL
#define IV2 0x6c7967656e657261ULL
#define IV3 0x7465646279746573ULL

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only: checked at import */
    return v;
}

#define SIPROUND                                                                       \
    do {                                                                               \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                       \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                          \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                          \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                       \
    } while (0)

/* Word w of a message: the full 8-byte words, then the tail with the length in the top byte. */
static uint64_t message_word(const uint8_t *in, size_t len, size_t w) {
    size_t end = len - (len % 8);
    if (w * 8 < end) return load64(in + w * 8);
    uint64_t b = ((uint64_t)len) << 56;
    for (size_t i = 0; i < len % 8; i++) b |= ((uint64_t)in[end + i]) << (8 * i);
    return b;
}

static uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len) {
    uint64_t v0 = k0 ^ IV0, v1 = k1 ^ IV1, v2 = k0 ^ IV2, v3 = k1 ^ IV3;
    size_t nwords = len / 8 + 1;
    for (size_t w = 0; w < nwords; w++) {
        uint64_t m = message_word(in, len, w);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* --- portable kernel: four states interleaved in plain C ------------------------------- */

#define PLANES 4
static void hash_group_portable(const group_t *g, uint64_t k0, uint64_t k1, uint64_t *out) {
    for (size_t i = 0; i < g->padded; i += PLANES) {
        uint64_t v0[PLANES], v1[PLANES], v2[PLANES], v3[PLANES];
        for (int l = 0; l < PLANES; l++) {
            v0[l] = k0 ^ IV0; v1[l] = k1 ^ IV1; v2[l] = k0 ^ IV2; v3[l] = k1 ^ IV3;
        }
#define ROUND4                                                                             \
    for (int l = 0; l < PLANES; l++) {                                                     \
        v0[l] += v1[l]; v1[l] = rotl(v1[l], 13); v1[l] ^= v0[l]; v0[l] = rotl(v0[l], 32);  \
        v2[l] += v3[l]; v3[l] = rotl(v3[l], 16); v3[l] ^= v2[l];                           \
        v0[l] += v3[l]; v3[l] = rotl(v3[l], 21); v3[l] ^= v0[l];                           \
        v2[l] += v1[l]; v1[l] = rotl(v1[l], 17); v1[l] ^= v2[l]; v2[l] = rotl(v2[l], 32);  \
    }
        for (size_t w = 0; w < g->nwords; w++) {
            const uint64_t *m = g->words + w * g->padded + i;
            for (int l = 0; l < PLANES; l++) v3[l] ^= m[l];
            ROUND4 ROUND4
            for (int l = 0; l < PLANES; l++) v0[l] ^= m[l];
        }
        for (int l = 0; l < PLANES; l++) v2[l] ^= 0xff;
        ROUND4 ROUND4 ROUND4 ROUND4
#undef ROUND4
        for (int l = 0; l < PLANES; l++) out[i + l] = v0[l] ^ v1[l] ^ v2[l] ^ v3[l];
    }
}

#if GCS_X86
/* --- AVX2: 4 lanes per register, two registers interleaved (8 scripts per step) -------- */

#define A2_ROTL(x, b) _mm256_or_si256(_mm256_slli_epi64((x), (b)), _mm256_srli_epi64((x), 64 - (b)))
#define A2_ROT32(x) _mm256_shuffle_epi32((x), _MM_SHUFFLE(2, 3, 0, 1))
#define A2_ROT16(x) _mm256_shuffle_epi8((x), rot16)
#define A2_HALF(v0, v1, v2, v3)                                                        \
    v0 = _mm256_add_epi64(v0, v1); v1 = A2_ROTL(v1, 13); v1 = _mm256_xor_si256(v1, v0); \
    v0 = A2_ROT32(v0);                                                                 \
    v2 = _mm256_add_epi64(v2, v3); v3 = A2_ROT16(v3); v3 = _mm256_xor_si256(v3, v2);    \
    v0 = _mm256_add_epi64(v0, v3); v3 = A2_ROTL(v3, 21); v3 = _mm256_xor_si256(v3, v0); \
    v2 = _mm256_add_epi64(v2, v1); v1 = A2_ROTL(v1, 17); v1 = _mm256_xor_si256(v1, v2); \
    v2 = A2_ROT32(v2);
#define A2_ROUND                       \
    do {                               \
        A2_HALF(a0, a1, a2, a3)        \
        A2_HALF(b0, b1, b2, b3)        \
    } while (0)

__attribute__((target("avx2"))) static void hash_group_avx2(const group_t *g, uint64_t k0,
                                                            uint64_t k1, uint64_t *out) {
    const __m256i rot16 = _mm256_setr_epi8(6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13,
                                           6, 7, 0, 1, 2, 3, 4, 5, 14, 15, 8, 9, 10, 11, 12, 13);
    const __m256i i0 = _mm256_set1_epi64x((long long)(k0 ^ IV0));
    const __m256i i1 = _mm256_set1_epi64x((long long)(k1 ^ IV1));
    const __m256i i2 = _mm256_set1_epi64x((long long)(k0 ^ IV2));
    const __m256i i3 = _mm256_set1_epi64x((long long)(k1 ^ IV3));
    const __m256i ff = _mm256_set1_epi64x(0xff);
    for (size_t i = 0; i < g->padded; i += 8) {
        __m256i a0 = i0, a1 = i1, a2 = i2, a3 = i3, b0 = i0, b1 = i1, b2 = i2, b3 = i3;
        for (size_t w = 0; w < g->nwords; w++) {
            const uint64_t *m = g->words + w * g->padded + i;
            __m256i ma = _mm256_loadu_si256((const __m256i *)m);
            __m256i mb = _mm256_loadu_si256((const __m256i *)(m + 4));
            a3 = _mm256_xor_si256(a3, ma);
            b3 = _mm256_xor_si256(b3, mb);
            A2_ROUND;
            A2_ROUND;
            a0 = _mm256_xor_si256(a0, ma);
            b0 = _mm256_xor_si256(b0, mb);
        }
        a2 = _mm256_xor_si256(a2, ff);
        b2 = _mm256_xor_si256(b2, ff);
        A2_ROUND;
        A2_ROUND;
        A2_ROUND;
        A2_ROUND;
        __m256i ha = _mm256_xor_si256(_mm256_xor_si256(a0, a1), _mm256_xor_si256(a2, a3));
        __m256i hb = _mm256_xor_si256(_mm256_xor_si256(b0, b1), _mm256_xor_si256(b2, b3));
        _mm256_storeu_si256((__m256i *)(out + i), ha);
        _mm256_storeu_si256((__m256i *)(out + i + 4), hb);
    }
}

/* --- AVX-512 (F + VL): 8 lanes per register with native 64-bit rotates, two registers ---- */

#define A5_HALF(v0, v1, v2, v3)                                                              \
    v0 = _mm512_add_epi64(v0, v1); v1 = _mm512_rol_epi64(v1, 13); v1 = _mm512_xor_si512(v1, v0); \
    v0 = _mm512_rol_epi64(v0, 32);                                                           \
    v2 = _mm512_add_epi64(v2, v3); v3 = _mm512_rol_epi64(v3, 16); v3 = _mm512_xor_si512(v3, v2); \
    v0 = _mm512_add_epi64(v0, v3); v3 = _mm512_rol_epi64(v3, 21); v3 = _mm512_xor_si512(v3, v0); \
    v2 = _mm512_add_epi64(v2, v1); v1 = _mm512_rol_epi64(v1, 17); v1 = _mm512_xor_si512(v1, v2); \
    v2 = _mm512_rol_epi64(v2, 32);
#define A5_ROUND                       \
    do {                               \
        A5_HALF(a0, a1, a2, a3)        \
        A5_HALF(b0, b1, b2, b3)        \
    } while (0)

__attribute__((target("avx512f,avx512vl"))) static void hash_group_avx512(const group_t *g,
                                                                          uint64_t k0, uint64_t k1,
                                                                          uint64_t *out) {
    const __m512i i0 = _mm512_set1_epi64((long long)(k0 ^ IV0));
    const __m512i i1 = _mm512_set1_epi64((long long)(k1 ^ IV1));
    const __m512i i2 = _mm512_set1_epi64((long long)(k0 ^ IV2));
    const __m512i i3 = _mm512_set1_epi64((long long)(k1 ^ IV3));
    const __m512i ff = _mm512_set1_epi64(0xff);
    for (size_t i = 0; i < g->padded; i += 16) {
        __m512i a0 = i0, a1 = i1, a2 = i2, a3 = i3, b0 = i0, b1 = i1, b2 = i2, b3 = i3;
        for (size_t w = 0; w < g->nwords; w++) {
            const uint64_t *m = g->words + w * g->padded + i;
            __m512i ma = _mm512_loadu_si512((const void *)m);
            __m512i mb = _mm512_loadu_si512((const void *)(m + 8));
            a3 = _mm512_xor_si512(a3, ma);
            b3 = _mm512_xor_si512(b3, mb);
            A5_ROUND;
            A5_ROUND;
            a0 = _mm512_xor_si512(a0, ma);
            b0 = _mm512_xor_si512(b0, mb);
        }
        a2 = _mm512_xor_si512(a2, ff);
        b2 = _mm512_xor_si512(b2, ff);
        A5_ROUND;
        A5_ROUND;
        A5_ROUND;
        A5_ROUND;
        /* v0 ^ v1 ^ v2 ^ v3 in two ternary-logic steps (0x96 = three-way xor) */
        __m512i ha = _mm512_ternarylogic_epi64(_mm512_xor_si512(a0, a1), a2, a3, 0x96);
        __m512i hb = _mm512_ternarylogic_epi64(_mm512_xor_si512(b0, b1), b2, b3, 0x96);
        _mm512_storeu_si512((void *)(out + i), ha);
        _mm512_storeu_si512((void *)(out + i + 8), hb);
    }
}
#endif /* GCS_X86 */

static hash_kernel_t kernel_for(int backend) {
#if GCS_X86
    if (backend == BK_AVX512) return hash_group_avx512;
    if (backend == BK_AVX2) return hash_group_avx2;
#endif
    (void)backend;
    return hash_group_portable;
}

/* --- script preparation ---------------------------------------------------------------- */

typedef struct {
    group_t *groups;
    size_t ngroups;
    size_t total_padded; /* hashes produced per filter */
    size_t nscripts;
} prepared_t;

static void free_prepared(prepared_t *p) {
    for (size_t i = 0; i < p->ngroups; i++) free(p->groups[i].words);
    free(p->groups);
    p->groups = NULL;
    p->ngroups = 0;
}

static int cmp_span_len(const void *a, const void *b) {
    size_t x = ((const span_t *)a)->len, y = ((const span_t *)b)->len;
    return (x > y) - (x < y);
}

/* Sorts `scripts` by length and builds the column-wise groups. Returns -1 when out of memory. */
static int prepare_scripts(span_t *scripts, size_t n, prepared_t *p) {
    memset(p, 0, sizeof(*p));
    p->nscripts = n;
    if (n == 0) return 0;
    qsort(scripts, n, sizeof(span_t), cmp_span_len);
    size_t ngroups = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || scripts[i].len / 8 != scripts[i - 1].len / 8) ngroups++;
    p->groups = calloc(ngroups, sizeof(group_t));
    if (!p->groups) return -1;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        size_t nwords = scripts[i].len / 8 + 1;
        while (j < n && scripts[j].len / 8 + 1 == nwords) j++;
        group_t *g = &p->groups[p->ngroups++];
        g->nwords = nwords;
        g->count = j - i;
        g->padded = (g->count + GROUP_ALIGN - 1) / GROUP_ALIGN * GROUP_ALIGN;
        g->words = malloc(nwords * g->padded * sizeof(uint64_t));
        if (!g->words) { free_prepared(p); return -1; }
        for (size_t s = 0; s < g->padded; s++) {
            const span_t *sc = &scripts[i + (s < g->count ? s : g->count - 1)];
            for (size_t w = 0; w < nwords; w++)
                g->words[w * g->padded + s] = message_word(sc->data, sc->len, w);
        }
        p->total_padded += g->padded;
        i = j;
    }
    return 0;
}

/* --- Golomb-Rice decoding -------------------------------------------------------------- */

/* CompactSize at p (canonical); returns bytes used, 0 on error. */
static size_t read_compact(const uint8_t *p, size_t len, uint64_t *out) {
    if (len < 1) return 0;
    if (p[0] < 0xfd) { *out = p[0]; return 1; }
    if (p[0] == 0xfd) {
        if (len < 3) return 0;
        *out = (uint64_t)p[1] | ((uint64_t)p[2] << 8);
        return *out < 0xfd ? 0 : 3;
    }
    if (p[0] == 0xfe) {
        if (len < 5) return 0;
        *out = (uint64_t)p[1] | ((uint64_t)p[2] << 8) | ((uint64_t)p[3] << 16) | ((uint64_t)p[4] << 24);
        return *out <= 0xffff ? 0 : 5;
    }
    return 0; /* 0xff: more than 2^32 elements is never a valid filter */
}

/* The 64 bits starting at bit `pos` (MSB first), zeros past the end of the data. */
static inline uint64_t peek64(const uint8_t *data, size_t len, size_t pos) {
    size_t byte = pos >> 3;
    uint64_t w;
    if (byte + 8 <= len) {
        memcpy(&w, data + byte, 8);
        w = __builtin_bswap64(w);
    } else {
        w = 0;
        for (size_t k = 0; k < 8; k++) w = (w << 8) | (byte + k < len ? data[byte + k] : 0);
    }
    unsigned s = (unsigned)(pos & 7);
    if (s) {
        uint64_t next = byte + 8 < len ? data[byte + 8] : 0;
        w = (w << s) | (next >> (8 - s));
    }
    return w;
}

/* Decode n values into out (sorted by construction). Returns 0 on success, -1 if the data
 * ends before the last element (the unary part needs its terminating zero bit and the P
 * remainder bits inside the data, as in the reference). */
static int gcs_decode(const uint8_t *data, size_t len, uint64_t n, uint64_t *out) {
    size_t pos = 0, total = len * 8;
    uint64_t value = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t q = 0;
        for (;;) {
            if (pos >= total) return -1;
            uint64_t w = peek64(data, len, pos);
            if (~w == 0) { /* 64 one bits: keep counting */
                q += 64;
                pos += 64;
                continue;
            }
            unsigned ones = (unsigned)__builtin_clzll(~w);
            q += ones;
            pos += ones; /* pos is now at the zero bit */
            break;
        }
        if (pos >= total) return -1; /* the "zero" came from padding past the end */
        pos += 1;
        if (pos + GCS_P > total) return -1;
        uint64_t r = peek64(data, len, pos) >> (64 - GCS_P);
        pos += GCS_P;
        value += (q << GCS_P) | r;
        out[i] = value;
    }
    return 0;
}

/* --- matching -------------------------------------------------------------------------- */

typedef struct {
    uint64_t *values; /* decoded filter */
    uint64_t cap;
    uint64_t *bitmap; /* occupied buckets (top bits of the hash) */
    size_t bitmap_words;
    uint64_t *hashes; /* one per (padded) script */
} scratch_t;

static int contains(const uint64_t *sorted, uint64_t n, uint64_t v) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = (lo + hi) >> 1;
        if (sorted[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && sorted[lo] == v;
}

static unsigned bucket_bits(uint64_t n) {
    unsigned k = 7; /* about 128 buckets per element: few percent of hashes go further */
    while (k < 18 && (1ULL << (k - 7)) < n) k++;
    return k;
}

/* 1 if any script matches, 0 if none, -1 if the filter is malformed, -2 out of memory. */
static int match_one(const uint8_t *hash, const uint8_t *filter, size_t flen,
                     const prepared_t *prep, hash_kernel_t kernel, scratch_t *s) {
    uint64_t n;
    if (flen > MAX_FILTER_SIZE) return -1;
    size_t used = read_compact(filter, flen, &n);
    if (!used) return -1;
    if (n * (GCS_P + 1) > (uint64_t)(flen - used) * 8) return -1;
    if (n == 0) return 0;
    if (n > s->cap) {
        uint64_t *grown = realloc(s->values, n * sizeof(uint64_t));
        if (!grown) return -2;
        s->values = grown;
        s->cap = n;
    }
    if (gcs_decode(filter + used, flen - used, n, s->values) != 0) return -1;
    if (prep->nscripts == 0) return 0;

    /* v = (h * F) >> 64 is monotonic in h, so the hashes that can give value x all have their
     * top k bits in floor(x * 2^k / F) or the next bucket (2^k < F). The estimate in double
     * precision is within one of the true floor; marking est-1 .. est+2 covers both. */
    uint64_t F = n * GCS_M;
    unsigned k = bucket_bits(n);
    size_t words = ((size_t)1 << k) / 64;
    if (words > s->bitmap_words) {
        uint64_t *grown = realloc(s->bitmap, words * sizeof(uint64_t));
        if (!grown) return -2;
        s->bitmap = grown;
        s->bitmap_words = words;
    }
    memset(s->bitmap, 0, words * sizeof(uint64_t));
    const double scale = (double)((uint64_t)1 << k) / (double)F;
    const uint64_t last_bucket = ((uint64_t)1 << k) - 1;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t est = (uint64_t)((double)s->values[i] * scale);
        uint64_t lo = est ? est - 1 : 0, hi = est + 2 < last_bucket ? est + 2 : last_bucket;
        for (uint64_t b = lo; b <= hi; b++) s->bitmap[b >> 6] |= 1ULL << (b & 63);
    }

    uint64_t k0 = load64(hash), k1 = load64(hash + 8);
    const unsigned shift = 64 - k;
    const uint64_t *bitmap = s->bitmap;
    uint64_t *out = s->hashes;
    for (size_t gi = 0; gi < prep->ngroups; gi++) {
        const group_t *g = &prep->groups[gi];
        kernel(g, k0, k1, out);
        for (size_t i = 0; i < g->count; i++) {
            uint64_t b = out[i] >> shift;
            if ((bitmap[b >> 6] >> (b & 63)) & 1) {
                uint64_t v = (uint64_t)(((unsigned __int128)out[i] * F) >> 64);
                if (contains(s->values, n, v)) return 1;
            }
        }
    }
    return 0;
}

static int parse_backend(PyObject *obj, int *out) {
    if (obj == NULL || obj == Py_None) { *out = default_backend; return 0; }
    if (!PyUnicode_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "backend must be a str or None");
        return -1;
    }
    for (int b = 0; b < BK_COUNT; b++) {
        if (PyUnicode_CompareWithASCIIString(obj, backend_names[b]) == 0) {
            if (!backend_available[b]) {
                PyErr_Format(PyExc_ValueError, "backend %s is not supported on this CPU", backend_names[b]);
                return -1;
            }
            *out = b;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown backend %R", obj);
    return -1;
}

static PyObject *match_many(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"filters", "scripts", "start", "stop", "backend", NULL};
    PyObject *filters_obj, *scripts_obj, *stop_obj = Py_None, *backend_obj = Py_None;
    Py_ssize_t start = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|nOO", kwlist, &filters_obj, &scripts_obj,
                                     &start, &stop_obj, &backend_obj))
        return NULL;
    int backend;
    if (parse_backend(backend_obj, &backend) < 0) return NULL;
    PyObject *filters = PySequence_Fast(filters_obj, "filters must be a sequence");
    if (!filters) return NULL;
    PyObject *scripts = PySequence_Fast(scripts_obj, "scripts must be a sequence");
    if (!scripts) { Py_DECREF(filters); return NULL; }
    Py_ssize_t total = PySequence_Fast_GET_SIZE(filters), ns = PySequence_Fast_GET_SIZE(scripts);
    Py_ssize_t stop = total;
    if (stop_obj != Py_None) {
        stop = PyNumber_AsSsize_t(stop_obj, PyExc_OverflowError);
        if (stop == -1 && PyErr_Occurred()) { Py_DECREF(filters); Py_DECREF(scripts); return NULL; }
    }
    if (start < 0 || stop < start || stop > total) {
        PyErr_SetString(PyExc_ValueError, "need 0 <= start <= stop <= len(filters)");
        Py_DECREF(filters); Py_DECREF(scripts);
        return NULL;
    }
    Py_ssize_t nf = stop - start;
    span_t *sspan = calloc(ns ? ns : 1, sizeof(span_t));
    span_t *hashes = calloc(nf ? nf : 1, sizeof(span_t));
    span_t *fdata = calloc(nf ? nf : 1, sizeof(span_t));
    signed char *results = calloc(nf ? nf : 1, 1);
    prepared_t prep;
    memset(&prep, 0, sizeof(prep));
    PyObject *out = NULL;
    if (!sspan || !hashes || !fdata || !results) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *s = PySequence_Fast_GET_ITEM(scripts, i);
        if (!PyBytes_Check(s)) { PyErr_SetString(PyExc_TypeError, "scripts must be bytes"); goto done; }
        sspan[i].data = (const uint8_t *)PyBytes_AS_STRING(s);
        sspan[i].len = (size_t)PyBytes_GET_SIZE(s);
        sspan[i].idx = (size_t)i;
    }
    for (Py_ssize_t i = 0; i < nf; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(filters, start + i);
        PyObject *h, *f;
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 2) {
            PyErr_SetString(PyExc_TypeError, "filters must be (block_hash, filter) tuples");
            goto done;
        }
        h = PyTuple_GET_ITEM(item, 0);
        f = PyTuple_GET_ITEM(item, 1);
        if (!PyBytes_Check(h) || PyBytes_GET_SIZE(h) != 32 || !PyBytes_Check(f)) {
            PyErr_SetString(PyExc_TypeError, "block hash must be 32 bytes and filter bytes");
            goto done;
        }
        hashes[i].data = (const uint8_t *)PyBytes_AS_STRING(h);
        fdata[i].data = (const uint8_t *)PyBytes_AS_STRING(f);
        fdata[i].len = (size_t)PyBytes_GET_SIZE(f);
    }
    int oom = 0;
    hash_kernel_t kernel = kernel_for(backend);
    Py_BEGIN_ALLOW_THREADS
    scratch_t s;
    memset(&s, 0, sizeof(s));
    if (prepare_scripts(sspan, (size_t)ns, &prep) < 0) {
        oom = 1;
    } else {
        s.hashes = malloc((prep.total_padded ? prep.total_padded : 1) * sizeof(uint64_t));
        if (!s.hashes) oom = 1;
    }
    for (Py_ssize_t i = 0; i < nf && !oom; i++) {
        int r = match_one(hashes[i].data, fdata[i].data, fdata[i].len, &prep, kernel, &s);
        if (r == -2) { oom = 1; break; }
        results[i] = (signed char)r;
        if (r == -1) break; /* the first malformed filter ends the call */
    }
    free(s.values); free(s.bitmap); free(s.hashes);
    Py_END_ALLOW_THREADS
    if (oom) { PyErr_NoMemory(); goto done; }
    out = PyList_New(0);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < nf; i++) {
        if (results[i] == -1) {
            Py_CLEAR(out);
            PyErr_Format(PyExc_ValueError, "malformed compact filter at index %zd", start + i);
            goto done;
        }
        if (results[i] == 1) {
            PyObject *idx = PyLong_FromSsize_t(start + i);
            if (!idx || PyList_Append(out, idx) < 0) { Py_XDECREF(idx); Py_CLEAR(out); goto done; }
            Py_DECREF(idx);
        }
    }
done:
    free_prepared(&prep);
    free(sspan); free(hashes); free(fdata); free(results);
    Py_DECREF(filters);
    Py_DECREF(scripts);
    return out;
}

static PyObject *py_siphash24(PyObject *self, PyObject *args) {
    unsigned long long k0, k1;
    Py_buffer data;
    if (!PyArg_ParseTuple(args, "KKy*", &k0, &k1, &data)) return NULL;
    uint64_t h = siphash24(k0, k1, data.buf, (size_t)data.len);
    PyBuffer_Release(&data);
    return PyLong_FromUnsignedLongLong(h);
}

/* siphash24_many(k0, k1, scripts, backend=None) -> list[int]: the batch kernel's hashes, in
 * the order of `scripts` (for testing the SIMD kernels against the reference). */
static PyObject *py_siphash24_many(PyObject *self, PyObject *args, PyObject *kwargs) {
    static char *kwlist[] = {"k0", "k1", "scripts", "backend", NULL};
    unsigned long long k0, k1;
    PyObject *scripts_obj, *backend_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "KKO|O", kwlist, &k0, &k1, &scripts_obj, &backend_obj))
        return NULL;
    int backend;
    if (parse_backend(backend_obj, &backend) < 0) return NULL;
    PyObject *scripts = PySequence_Fast(scripts_obj, "scripts must be a sequence");
    if (!scripts) return NULL;
    Py_ssize_t ns = PySequence_Fast_GET_SIZE(scripts);
    span_t *sspan = calloc(ns ? ns : 1, sizeof(span_t));
    uint64_t *hashes = NULL;
    prepared_t prep;
    memset(&prep, 0, sizeof(prep));
    PyObject *out = NULL;
    if (!sspan) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *s = PySequence_Fast_GET_ITEM(scripts, i);
        if (!PyBytes_Check(s)) { PyErr_SetString(PyExc_TypeError, "scripts must be bytes"); goto done; }
        sspan[i].data = (const uint8_t *)PyBytes_AS_STRING(s);
        sspan[i].len = (size_t)PyBytes_GET_SIZE(s);
        sspan[i].idx = (size_t)i;
    }
    if (prepare_scripts(sspan, (size_t)ns, &prep) < 0) { PyErr_NoMemory(); goto done; }
    hashes = malloc((prep.total_padded ? prep.total_padded : 1) * sizeof(uint64_t));
    if (!hashes) { PyErr_NoMemory(); goto done; }
    hash_kernel_t kernel = kernel_for(backend);
    size_t at = 0;
    for (size_t gi = 0; gi < prep.ngroups; gi++) {
        kernel(&prep.groups[gi], k0, k1, hashes + at);
        at += prep.groups[gi].padded;
    }
    /* sspan is now sorted by length: sorted position i is hashes[slot of i] */
    out = PyList_New(ns);
    if (!out) goto done;
    size_t slot = 0, gi = 0, in_group = 0;
    for (Py_ssize_t i = 0; i < ns; i++) {
        while (in_group >= prep.groups[gi].count) { slot += prep.groups[gi].padded; gi++; in_group = 0; }
        PyObject *h = PyLong_FromUnsignedLongLong(hashes[slot + in_group]);
        if (!h) { Py_CLEAR(out); goto done; }
        PyList_SET_ITEM(out, (Py_ssize_t)sspan[i].idx, h);
        in_group++;
    }
done:
    free_prepared(&prep);
    free(hashes); free(sspan);
    Py_DECREF(scripts);
    return out;
}

static PyObject *py_backends(PyObject *self, PyObject *unused) {
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (int b = 0; b < BK_COUNT; b++) {
        if (!backend_available[b]) continue;
        PyObject *name = PyUnicode_FromString(backend_names[b]);
        if (!name || PyList_Append(out, name) < 0) { Py_XDECREF(name); Py_DECREF(out); return NULL; }
        Py_DECREF(name);
    }
    return out;
}

static int best_backend(void) {
    int best = BK_PORTABLE;
    for (int b = 0; b < BK_COUNT; b++)
        if (backend_available[b]) best = b;
    return best;
}

static PyObject *py_backend(PyObject *self, PyObject *unused) {
    return PyUnicode_FromString(backend_names[default_backend]);
}

/* set_backend(name or None): the kernel match_many uses by default (None: the best). */
static PyObject *py_set_backend(PyObject *self, PyObject *arg) {
    if (arg == Py_None || (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "auto") == 0)) {
        default_backend = best_backend();
        Py_RETURN_NONE;
    }
    int b;
    int saved = default_backend;
    if (parse_backend(arg, &b) < 0) { default_backend = saved; return NULL; }
    default_backend = b;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"match_many", (PyCFunction)(void (*)(void))match_many, METH_VARARGS | METH_KEYWORDS,
     "Indexes of the filters that match any script."},
    {"siphash24", py_siphash24, METH_VARARGS, "SipHash-2-4 with key (k0, k1)."},
    {"siphash24_many", (PyCFunction)(void (*)(void))py_siphash24_many, METH_VARARGS | METH_KEYWORDS,
     "SipHash-2-4 of each script with the batch kernel."},
    {"backends", py_backends, METH_NOARGS, "Kernels this CPU can run."},
    {"backend", py_backend, METH_NOARGS, "The kernel match_many uses by default."},
    {"set_backend", py_set_backend, METH_O, "Choose the default kernel (None: the best)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gcs", NULL, -1, methods};

PyMODINIT_FUNC PyInit__gcs(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "the native filter matcher needs a little-endian CPU");
        return NULL;
    }
#if GCS_X86
    __builtin_cpu_init();
    backend_available[BK_AVX2] = __builtin_cpu_supports("avx2") ? 1 : 0;
    backend_available[BK_AVX512] =
        (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl")) ? 1 : 0;
#endif
    default_backend = best_backend();
    const char *env = getenv("PKT_GCS_BACKEND");
    if (env && *env && strcmp(env, "auto") != 0) {
        int found = 0;
        for (int b = 0; b < BK_COUNT; b++) {
            if (strcmp(env, backend_names[b]) == 0 && backend_available[b]) {
                default_backend = b;
                found = 1;
            }
        }
        if (!found &&
            PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                             "PKT_GCS_BACKEND=%s is not a backend this CPU supports; using %s",
                             env, backend_names[default_backend]) < 0)
            return NULL;
    }
    return PyModule_Create(&module);
}
