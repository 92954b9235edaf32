/*
 * Native header validation for the light client: the hot loop of HeaderChain._validate
 * (spv/chain.py) in C, bit-exact with the Python loop there (which stays the reference and the
 * fallback), with its own SHA-256 (portable C, and the x86 SHA extensions when the CPU has
 * them; no OpenSSL or other system library).
 *
 * validate(raw, start_height, tail_first_height, times, bits, hashes, walks,
 *          prev_hash, prev_ts, prev_bits, prev_walk, prev_known,
 *          checkpoints, max_time, pow_limit, rules) -> (n_ok, new_hashes, code, detail)
 *   raw: n concatenated 80-byte headers, the first at start_height
 *   times, bits, hashes, walks: the chain tail's lists (spv.chain._Tail), extended in place
 *       with each header that passes, exactly as the Python loop does
 *   prev_*: the parent's hash, timestamp, bits and min-difficulty walk value (None or int);
 *       prev_known is False when the parent is not in the tail (then only linkage is checked
 *       for the first header, as in Python)
 *   checkpoints: sequence of (height, hash) for checkpoints inside the batch
 *   max_time: the latest acceptable timestamp
 *   pow_limit: the pow limit as 32 bytes, little-endian
 *   rules: (pow_limit_bits, check_sha256d_pow, interval, min_diff_reduction_time,
 *           min_diff_always, min_diff_below_height, median_time_blocks, target_timespan,
 *           retarget_adjustment_factor)
 *   returns the number of headers that passed, their hashes, and for the first one that did
 *   not (n_ok < n) the reason code (HDR_* below) and a detail (the required bits for
 *   HDR_RETARGET). HDR_UNSUPPORTED means "let the Python loop decide" (parameters or stored
 *   ancestors this code does not model, such as a negative parent target at a retarget).
 *
 * sha256d(data, backend=None) -> bytes; sha_backends(), sha_backend(), set_sha_backend(name):
 *   the SHA-256 implementations ("portable", "shani"); PKT_SHA256_BACKEND chooses at import.
 * join_headers(body, n) -> bytes | None: the 80-byte records of a `headers` payload body
 *   (n entries of 81 bytes), None when an entry's transaction count is not zero.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if (defined(__x86_64__) || defined(_M_X64)) && defined(__GNUC__)
#define HDR_X86 1
#include <cpuid.h>
#include <immintrin.h>
#else
#define HDR_X86 0
#endif

#define HEADER_SIZE 80

enum {
    HDR_OK = 0,
    HDR_LINK = 1,
    HDR_CHECKPOINT = 2,
    HDR_FUTURE = 3,
    HDR_MEDIAN = 4,
    HDR_BITS = 5,
    HDR_POW = 6,
    HDR_RETARGET = 7,
    HDR_UNSUPPORTED = 8,
};

/* --- SHA-256 --------------------------------------------------------------------------- */

static const uint32_t K256[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static const uint32_t H256[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

typedef void (*sha_blocks_t)(uint32_t state[8], const uint8_t *data, size_t nblocks);

static inline uint32_t ror32(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static inline uint32_t load_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline void store_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}

static void sha_blocks_portable(uint32_t state[8], const uint8_t *data, size_t nblocks) {
    while (nblocks--) {
        uint32_t w[64];
        for (int i = 0; i < 16; i++) w[i] = load_be32(data + 4 * i);
        for (int i = 16; i < 64; i++) {
            uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
            uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16] + s0 + w[i - 7] + s1;
        }
        uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
        uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
        for (int i = 0; i < 64; i++) {
            uint32_t S1 = ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25);
            uint32_t ch = (e & f) ^ (~e & g);
            uint32_t t1 = h + S1 + ch + K256[i] + w[i];
            uint32_t S0 = ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22);
            uint32_t maj = (a & b) ^ (a & c) ^ (b & c);
            uint32_t t2 = S0 + maj;
            h = g; g = f; f = e; e = d + t1;
            d = c; c = b; b = a; a = t1 + t2;
        }
        state[0] += a; state[1] += b; state[2] += c; state[3] += d;
        state[4] += e; state[5] += f; state[6] += g; state[7] += h;
        data += 64;
    }
}

#if HDR_X86
/* The SHA extensions: two rounds per sha256rnds2, the message schedule with sha256msg1/2. */
__attribute__((target("sha,sse4.1,ssse3"))) static void sha_blocks_shani(uint32_t state[8],
                                                                         const uint8_t *data,
                                                                         size_t nblocks) {
    const __m128i bswap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
    __m128i tmp = _mm_loadu_si128((const __m128i *)&state[0]);  /* DCBA */
    __m128i st1 = _mm_loadu_si128((const __m128i *)&state[4]);  /* HGFE */
    tmp = _mm_shuffle_epi32(tmp, 0xB1);                          /* CDAB */
    st1 = _mm_shuffle_epi32(st1, 0x1B);                          /* EFGH */
    __m128i st0 = _mm_alignr_epi8(tmp, st1, 8);                  /* ABEF */
    st1 = _mm_blend_epi16(st1, tmp, 0xF0);                       /* CDGH */
    while (nblocks--) {
        __m128i save0 = st0, save1 = st1;
        __m128i w[16];
        for (int g = 0; g < 16; g++) {
            if (g < 4) {
                w[g] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(data + 16 * g)), bswap);
            } else {
                __m128i x = _mm_sha256msg1_epu32(w[g - 4], w[g - 3]);
                x = _mm_add_epi32(x, _mm_alignr_epi8(w[g - 1], w[g - 2], 4));
                w[g] = _mm_sha256msg2_epu32(x, w[g - 1]);
            }
            __m128i msg = _mm_add_epi32(w[g], _mm_loadu_si128((const __m128i *)&K256[4 * g]));
            st1 = _mm_sha256rnds2_epu32(st1, st0, msg);
            msg = _mm_shuffle_epi32(msg, 0x0E);
            st0 = _mm_sha256rnds2_epu32(st0, st1, msg);
        }
        st0 = _mm_add_epi32(st0, save0);
        st1 = _mm_add_epi32(st1, save1);
        data += 64;
    }
    tmp = _mm_shuffle_epi32(st0, 0x1B);    /* FEBA */
    st1 = _mm_shuffle_epi32(st1, 0xB1);    /* DCHG */
    st0 = _mm_blend_epi16(tmp, st1, 0xF0); /* DCBA */
    st1 = _mm_alignr_epi8(st1, tmp, 8);    /* HGFE */
    _mm_storeu_si128((__m128i *)&state[0], st0);
    _mm_storeu_si128((__m128i *)&state[4], st1);
}
#endif

enum { SHA_PORTABLE = 0, SHA_SHANI = 1, SHA_COUNT = 2 };
static const char *const sha_names[SHA_COUNT] = {"portable", "shani"};
static int sha_available[SHA_COUNT] = {1, 0};
static int sha_default = SHA_PORTABLE;

static sha_blocks_t sha_impl(int backend) {
#if HDR_X86
    if (backend == SHA_SHANI) return sha_blocks_shani;
#endif
    (void)backend;
    return sha_blocks_portable;
}

/* SHA-256 of any message (padding included). */
static void sha256(sha_blocks_t blocks, const uint8_t *data, size_t len, uint8_t out[32]) {
    uint32_t st[8];
    memcpy(st, H256, sizeof(st));
    size_t full = len / 64;
    blocks(st, data, full);
    uint8_t tail[128];
    size_t rest = len - full * 64;
    memset(tail, 0, sizeof(tail));
    memcpy(tail, data + full * 64, rest);
    tail[rest] = 0x80;
    size_t tail_len = rest + 9 <= 64 ? 64 : 128;
    uint64_t bitlen = (uint64_t)len * 8;
    for (int i = 0; i < 8; i++) tail[tail_len - 1 - i] = (uint8_t)(bitlen >> (8 * i));
    blocks(st, tail, tail_len / 64);
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, st[i]);
}

/* sha256d of an 80-byte header: two blocks, then one block for the 32-byte digest. */
static void sha256d_header(sha_blocks_t blocks, const uint8_t *rec, uint8_t out[32]) {
    uint8_t buf[128];
    uint32_t st[8];
    memcpy(buf, rec, 80);
    memset(buf + 80, 0, 48);
    buf[80] = 0x80;
    buf[126] = 0x02; /* 640 bits */
    buf[127] = 0x80;
    memcpy(st, H256, sizeof(st));
    blocks(st, buf, 2);
    uint8_t second[64];
    for (int i = 0; i < 8; i++) store_be32(second + 4 * i, st[i]);
    memset(second + 32, 0, 32);
    second[32] = 0x80;
    second[62] = 0x01; /* 256 bits */
    memcpy(st, H256, sizeof(st));
    blocks(st, second, 1);
    for (int i = 0; i < 8; i++) store_be32(out + 4 * i, st[i]);
}

/* --- 256-bit targets ------------------------------------------------------------------- */

typedef struct {
    uint64_t w[5]; /* little-endian limbs; w[4] only for intermediate products */
} u320;

static int cmp256(const u320 *a, const u320 *b) {
    for (int i = 3; i >= 0; i--) {
        if (a->w[i] != b->w[i]) return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

static void from_le32(const uint8_t *p, u320 *out) {
    memset(out, 0, sizeof(*out));
    for (int i = 0; i < 4; i++) memcpy(&out->w[i], p + 8 * i, 8); /* little-endian host */
}

enum { TGT_OK = 0, TGT_NONPOSITIVE = 1, TGT_NEGATIVE = 2, TGT_HUGE = 3 };

/* spv.difficulty.target_from_bits: TGT_OK with a value (possibly 0 -> TGT_NONPOSITIVE),
 * TGT_NEGATIVE for a negative encoding, TGT_HUGE when the value is 2^256 or more. */
static int target_from_bits(uint32_t bits, u320 *t) {
    memset(t, 0, sizeof(*t));
    unsigned exponent = bits >> 24;
    uint64_t mantissa = bits & 0x007FFFFF;
    if ((bits & 0x00800000) && mantissa) return TGT_NEGATIVE;
    if (exponent <= 3) {
        t->w[0] = mantissa >> (8 * (3 - exponent));
        return t->w[0] ? TGT_OK : TGT_NONPOSITIVE;
    }
    if (!mantissa) return TGT_NONPOSITIVE;
    unsigned shift = 8 * (exponent - 3);
    unsigned top = 64 - (unsigned)__builtin_clzll(mantissa); /* bit length */
    if (top + shift > 256) return TGT_HUGE;
    unsigned limb = shift / 64, off = shift % 64;
    t->w[limb] = mantissa << off;
    if (off && limb + 1 < 5) t->w[limb + 1] = mantissa >> (64 - off);
    return TGT_OK;
}

static unsigned bitlen320(const u320 *x) {
    for (int i = 4; i >= 0; i--)
        if (x->w[i]) return 64 * (unsigned)i + 64 - (unsigned)__builtin_clzll(x->w[i]);
    return 0;
}

/* spv.difficulty.bits_from_target for 0 <= target < 2^256 */
static uint32_t bits_from_target(const u320 *t) {
    unsigned nbits = bitlen320(t);
    if (nbits == 0) return 0;
    unsigned size = (nbits + 7) / 8;
    uint64_t mantissa;
    if (size <= 3) {
        mantissa = t->w[0] << (8 * (3 - size));
    } else {
        unsigned shift = 8 * (size - 3), limb = shift / 64, off = shift % 64;
        mantissa = t->w[limb] >> off;
        if (off && limb + 1 < 5) mantissa |= t->w[limb + 1] << (64 - off);
        mantissa &= 0xFFFFFFFFULL;
    }
    if (mantissa & 0x00800000) {
        mantissa >>= 8;
        size += 1;
    }
    return (uint32_t)((size << 24) | mantissa);
}

typedef struct {
    uint32_t pow_limit_bits;
    int check_pow;
    int64_t interval;
    int64_t reduction;
    int min_diff_always;
    int64_t min_diff_below;
    int64_t mtp_n;
    int64_t target_timespan;
    int64_t adjustment;
    u320 pow_limit;
} rules_t;

/* spv.difficulty.retarget_bits; -1 when the parent's target is negative or 2^256 or more
 * (the Python code is left to decide those). */
static int64_t retarget_bits(const rules_t *r, uint32_t prev_bits, int64_t timespan) {
    int64_t lo = r->target_timespan / r->adjustment, hi = r->target_timespan * r->adjustment;
    if (timespan < lo) timespan = lo;
    if (timespan > hi) timespan = hi;
    u320 t;
    int kind = target_from_bits(prev_bits, &t);
    if (kind == TGT_NEGATIVE || kind == TGT_HUGE) return -1;
    /* t * timespan (timespan >= 0 here) */
    u320 p;
    unsigned __int128 carry = 0;
    for (int i = 0; i < 5; i++) {
        unsigned __int128 v = (unsigned __int128)t.w[i] * (uint64_t)timespan + carry;
        p.w[i] = (uint64_t)v;
        carry = v >> 64;
    }
    /* floor division by target_timespan, most significant limb first */
    unsigned __int128 rem = 0;
    uint64_t d = (uint64_t)r->target_timespan;
    for (int i = 4; i >= 0; i--) {
        unsigned __int128 cur = (rem << 64) | p.w[i];
        p.w[i] = (uint64_t)(cur / d);
        rem = cur % d;
    }
    if (p.w[4] || cmp256(&p, &r->pow_limit) > 0) p = r->pow_limit;
    return bits_from_target(&p);
}

/* --- the validation loop --------------------------------------------------------------- */

static int parse_rules(PyObject *rules, PyObject *pow_limit, rules_t *r) {
    long long pow_limit_bits, check_pow, interval, reduction, min_diff_always, min_diff_below,
        mtp_n, target_timespan, adjustment;
    if (!PyArg_ParseTuple(rules, "LLLLLLLLL", &pow_limit_bits, &check_pow, &interval, &reduction,
                          &min_diff_always, &min_diff_below, &mtp_n, &target_timespan,
                          &adjustment))
        return -1;
    if (!PyBytes_Check(pow_limit) || PyBytes_GET_SIZE(pow_limit) != 32) {
        PyErr_SetString(PyExc_TypeError, "pow_limit must be 32 bytes");
        return -1;
    }
    r->pow_limit_bits = (uint32_t)pow_limit_bits;
    r->check_pow = check_pow != 0;
    r->interval = interval;
    r->reduction = reduction;
    r->min_diff_always = min_diff_always != 0;
    r->min_diff_below = min_diff_below;
    r->mtp_n = mtp_n;
    r->target_timespan = target_timespan;
    r->adjustment = adjustment;
    from_le32((const uint8_t *)PyBytes_AS_STRING(pow_limit), &r->pow_limit);
    if (pow_limit_bits < 0 || pow_limit_bits > 0xFFFFFFFFLL || interval <= 0 || mtp_n <= 0 ||
        mtp_n > 100000 || target_timespan <= 0 || adjustment <= 0 ||
        target_timespan > (1LL << 40) || adjustment > (1LL << 20))
        return 1; /* not modelled here */
    return 0;
}

/* Remove one occurrence of v from the sorted window w[0..*n). */
static void window_remove(int64_t *w, Py_ssize_t *n, int64_t v) {
    Py_ssize_t lo = 0, hi = *n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (w[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    if (lo < *n && w[lo] == v) {
        memmove(w + lo, w + lo + 1, (size_t)(*n - lo - 1) * sizeof(int64_t));
        (*n)--;
    }
}

/* Insert v after any equal values (bisect.insort_right). */
static void window_insert(int64_t *w, Py_ssize_t *n, int64_t v) {
    Py_ssize_t lo = 0, hi = *n;
    while (lo < hi) {
        Py_ssize_t mid = (lo + hi) / 2;
        if (v < w[mid]) hi = mid;
        else lo = mid + 1;
    }
    memmove(w + lo + 1, w + lo, (size_t)(*n - lo) * sizeof(int64_t));
    w[lo] = v;
    (*n)++;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static inline uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

static PyObject *result_tuple(Py_ssize_t n_ok, PyObject *hashes, int code, long long detail) {
    return Py_BuildValue("(nNiL)", n_ok, hashes, code, detail);
}

static PyObject *py_validate(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer raw;
    long long start_height, base, prev_ts, prev_bits, max_time;
    PyObject *times, *bits_list, *hashes_list, *walks, *prev_walk_obj, *checkpoints, *pow_limit,
        *rules_obj;
    const char *prev_hash_in;
    Py_ssize_t prev_hash_len;
    int prev_known;
    if (!PyArg_ParseTuple(args, "y*LLO!O!O!O!y#LLOpOLO!O!", &raw, &start_height, &base,
                          &PyList_Type, &times, &PyList_Type, &bits_list, &PyList_Type,
                          &hashes_list, &PyList_Type, &walks, &prev_hash_in, &prev_hash_len,
                          &prev_ts, &prev_bits, &prev_walk_obj, &prev_known, &checkpoints,
                          &max_time, &PyBytes_Type, &pow_limit, &PyTuple_Type, &rules_obj))
        return NULL;
    PyObject *out = NULL, *new_hashes = NULL, *cps = NULL;
    int64_t *all_times = NULL, *window = NULL;
    long long *cp_heights = NULL;
    const char **cp_hashes = NULL;
    PyObject *bits_obj = NULL, *walk_obj = NULL; /* reused while the value repeats */
    uint32_t bits_obj_val = 0;
    int64_t walk_obj_val = -2;
    rules_t r;
    int rc = parse_rules(rules_obj, pow_limit, &r);
    if (rc < 0) goto done;
    if (raw.len % HEADER_SIZE || prev_hash_len != 32) {
        PyErr_SetString(PyExc_ValueError, "raw must be whole 80-byte headers and prev_hash 32 bytes");
        goto done;
    }
    Py_ssize_t n = raw.len / HEADER_SIZE;
    new_hashes = PyList_New(0);
    if (!new_hashes) goto done;
    if (rc == 1) {
        out = result_tuple(0, new_hashes, HDR_UNSUPPORTED, 0);
        new_hashes = NULL;
        goto done;
    }
    int64_t prev_walk = -1; /* -1: None */
    if (prev_walk_obj != Py_None) {
        prev_walk = PyLong_AsLongLong(prev_walk_obj);
        if (prev_walk == -1 && PyErr_Occurred()) goto done;
        if (prev_walk < 0 || prev_walk > 0xFFFFFFFFLL) {
            out = result_tuple(0, new_hashes, HDR_UNSUPPORTED, 0);
            new_hashes = NULL;
            goto done;
        }
    }
    /* checkpoints inside the batch */
    cps = PySequence_Fast(checkpoints, "checkpoints must be a sequence");
    if (!cps) goto done;
    Py_ssize_t ncp = PySequence_Fast_GET_SIZE(cps);
    cp_heights = calloc(ncp ? ncp : 1, sizeof(long long));
    cp_hashes = calloc(ncp ? ncp : 1, sizeof(char *));
    if (!cp_heights || !cp_hashes) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ncp; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(cps, i);
        PyObject *hb;
        if (!PyArg_ParseTuple(item, "LO!", &cp_heights[i], &PyBytes_Type, &hb)) goto done;
        if (PyBytes_GET_SIZE(hb) != 32) {
            PyErr_SetString(PyExc_ValueError, "checkpoint hashes are 32 bytes");
            goto done;
        }
        cp_hashes[i] = PyBytes_AS_STRING(hb);
    }
    /* timestamps: the tail's, then the batch's as they pass */
    Py_ssize_t ntail = PyList_GET_SIZE(times);
    all_times = malloc((size_t)(ntail + n + 1) * sizeof(int64_t));
    window = malloc((size_t)(r.mtp_n + 1) * sizeof(int64_t));
    if (!all_times || !window) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ntail; i++) {
        all_times[i] = PyLong_AsLongLong(PyList_GET_ITEM(times, i));
        if (all_times[i] == -1 && PyErr_Occurred()) goto done;
    }
    Py_ssize_t nt = ntail;
    Py_ssize_t wn = nt < r.mtp_n ? nt : (Py_ssize_t)r.mtp_n;
    memcpy(window, all_times + nt - wn, (size_t)wn * sizeof(int64_t));
    qsort(window, (size_t)wn, sizeof(int64_t), cmp_i64);

    sha_blocks_t blocks = sha_impl(sha_default);
    const uint8_t *data = raw.buf;
    uint8_t prev_hash[32];
    memcpy(prev_hash, prev_hash_in, 32);
    int64_t pts = prev_ts;
    int64_t pbits = prev_bits;
    int known = prev_known;
    /* target cache: bits that already passed the range check */
    uint32_t cached_bits = 0;
    int have_cached = 0;
    u320 target;
    memset(&target, 0, sizeof(target));
    int code = HDR_OK;
    long long detail = 0;
    Py_ssize_t i;
    for (i = 0; i < n; i++) {
        const uint8_t *rec = data + (size_t)i * HEADER_SIZE;
        long long height = start_height + i;
        if (memcmp(rec + 4, prev_hash, 32) != 0) { code = HDR_LINK; break; }
        uint8_t h[32];
        sha256d_header(blocks, rec, h);
        int cp_bad = 0;
        for (Py_ssize_t c = 0; c < ncp; c++) {
            if (cp_heights[c] == height && memcmp(cp_hashes[c], h, 32) != 0) cp_bad = 1;
        }
        if (cp_bad) { code = HDR_CHECKPOINT; break; }
        int64_t ts = le32(rec + 68);
        uint32_t bits = le32(rec + 72);
        if (ts > max_time) { code = HDR_FUTURE; break; }
        int full_window = wn >= r.mtp_n;
        if (full_window && ts <= window[r.mtp_n / 2]) { code = HDR_MEDIAN; break; }
        if (!have_cached || bits != cached_bits) {
            u320 t;
            int kind = target_from_bits(bits, &t);
            if (kind != TGT_OK || cmp256(&t, &r.pow_limit) > 0) { code = HDR_BITS; break; }
            target = t;
            cached_bits = bits;
            have_cached = 1;
        }
        if (r.check_pow) {
            u320 hv;
            from_le32(h, &hv);
            if (cmp256(&hv, &target) > 0) { code = HDR_POW; break; }
        }
        int boundary = height % r.interval == 0;
        int64_t expected = -1;
        if (known) {
            if (boundary) {
                long long j = height - r.interval - base;
                if (j >= 0) {
                    if (j >= nt) { code = HDR_UNSUPPORTED; break; }
                    expected = retarget_bits(&r, (uint32_t)pbits, pts - all_times[j]);
                    if (expected < 0) { code = HDR_UNSUPPORTED; break; }
                }
            } else if (r.min_diff_always || height - 1 < r.min_diff_below) {
                expected = ts > pts + r.reduction ? (int64_t)r.pow_limit_bits : prev_walk;
            } else {
                expected = pbits;
            }
        }
        if (expected >= 0 && expected != (int64_t)bits) {
            code = HDR_RETARGET;
            detail = expected;
            break;
        }
        if (full_window) window_remove(window, &wn, all_times[nt - r.mtp_n]);
        window_insert(window, &wn, ts);
        int64_t walk = (bits != r.pow_limit_bits || boundary) ? (int64_t)bits : prev_walk;
        /* append to the tail, as the Python loop does */
        PyObject *ts_obj = PyLong_FromLongLong(ts);
        if (!ts_obj) goto done;
        int err = PyList_Append(times, ts_obj);
        Py_DECREF(ts_obj);
        if (err < 0) goto done;
        if (!bits_obj || bits_obj_val != bits) {
            Py_XDECREF(bits_obj);
            bits_obj = PyLong_FromUnsignedLong(bits);
            if (!bits_obj) goto done;
            bits_obj_val = bits;
        }
        if (PyList_Append(bits_list, bits_obj) < 0) goto done;
        PyObject *h_obj = PyBytes_FromStringAndSize((const char *)h, 32);
        if (!h_obj) goto done;
        err = PyList_Append(hashes_list, h_obj) < 0 || PyList_Append(new_hashes, h_obj) < 0;
        Py_DECREF(h_obj);
        if (err) goto done;
        if (walk < 0) {
            if (PyList_Append(walks, Py_None) < 0) goto done;
        } else {
            if (!walk_obj || walk_obj_val != walk) {
                Py_XDECREF(walk_obj);
                walk_obj = PyLong_FromLongLong(walk);
                if (!walk_obj) goto done;
                walk_obj_val = walk;
            }
            if (PyList_Append(walks, walk_obj) < 0) goto done;
        }
        all_times[nt++] = ts;
        memcpy(prev_hash, h, 32);
        pts = ts;
        pbits = bits;
        prev_walk = walk;
        known = 1;
    }
    out = result_tuple(i, new_hashes, code, detail);
    new_hashes = NULL;
done:
    PyBuffer_Release(&raw);
    Py_XDECREF(new_hashes);
    Py_XDECREF(cps);
    Py_XDECREF(bits_obj);
    Py_XDECREF(walk_obj);
    free(all_times);
    free(window);
    free(cp_heights);
    free((void *)cp_hashes);
    return out;
}

/* --- small helpers --------------------------------------------------------------------- */

static int parse_sha_backend(PyObject *obj, int *out) {
    if (obj == NULL || obj == Py_None) { *out = sha_default; return 0; }
    if (!PyUnicode_Check(obj)) {
        PyErr_SetString(PyExc_TypeError, "backend must be a str or None");
        return -1;
    }
    for (int b = 0; b < SHA_COUNT; b++) {
        if (PyUnicode_CompareWithASCIIString(obj, sha_names[b]) == 0) {
            if (!sha_available[b]) {
                PyErr_Format(PyExc_ValueError, "SHA-256 backend %s is not supported on this CPU", sha_names[b]);
                return -1;
            }
            *out = b;
            return 0;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown SHA-256 backend %R", obj);
    return -1;
}

static PyObject *py_sha256d(PyObject *self, PyObject *args, PyObject *kwargs) {
    (void)self;
    static char *kwlist[] = {"data", "backend", NULL};
    Py_buffer data;
    PyObject *backend_obj = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "y*|O", kwlist, &data, &backend_obj)) return NULL;
    int backend;
    if (parse_sha_backend(backend_obj, &backend) < 0) { PyBuffer_Release(&data); return NULL; }
    sha_blocks_t blocks = sha_impl(backend);
    uint8_t first[32], out[32];
    if (data.len == HEADER_SIZE) {
        sha256d_header(blocks, data.buf, out);
    } else {
        sha256(blocks, data.buf, (size_t)data.len, first);
        sha256(blocks, first, 32, out);
    }
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((const char *)out, 32);
}

static PyObject *py_join_headers(PyObject *self, PyObject *args) {
    (void)self;
    Py_buffer body;
    Py_ssize_t n;
    if (!PyArg_ParseTuple(args, "y*n", &body, &n)) return NULL;
    if (n < 0 || body.len != n * (HEADER_SIZE + 1)) {
        PyBuffer_Release(&body);
        PyErr_SetString(PyExc_ValueError, "body must hold n entries of 81 bytes");
        return NULL;
    }
    const uint8_t *p = body.buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p[i * (HEADER_SIZE + 1) + HEADER_SIZE] != 0) {
            PyBuffer_Release(&body);
            Py_RETURN_NONE;
        }
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * HEADER_SIZE);
    if (out) {
        char *dst = PyBytes_AS_STRING(out);
        for (Py_ssize_t i = 0; i < n; i++)
            memcpy(dst + i * HEADER_SIZE, p + i * (HEADER_SIZE + 1), HEADER_SIZE);
    }
    PyBuffer_Release(&body);
    return out;
}

static PyObject *py_sha_backends(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    PyObject *out = PyList_New(0);
    if (!out) return NULL;
    for (int b = 0; b < SHA_COUNT; b++) {
        if (!sha_available[b]) continue;
        PyObject *name = PyUnicode_FromString(sha_names[b]);
        if (!name || PyList_Append(out, name) < 0) { Py_XDECREF(name); Py_DECREF(out); return NULL; }
        Py_DECREF(name);
    }
    return out;
}

static PyObject *py_sha_backend(PyObject *self, PyObject *unused) {
    (void)self; (void)unused;
    return PyUnicode_FromString(sha_names[sha_default]);
}

static int best_sha(void) {
    int best = SHA_PORTABLE;
    for (int b = 0; b < SHA_COUNT; b++)
        if (sha_available[b]) best = b;
    return best;
}

static PyObject *py_set_sha_backend(PyObject *self, PyObject *arg) {
    (void)self;
    if (arg == Py_None || (PyUnicode_Check(arg) && PyUnicode_CompareWithASCIIString(arg, "auto") == 0)) {
        sha_default = best_sha();
        Py_RETURN_NONE;
    }
    int b;
    if (parse_sha_backend(arg, &b) < 0) return NULL;
    sha_default = b;
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"validate", py_validate, METH_VARARGS, "Validate consecutive headers (see the module source)."},
    {"sha256d", (PyCFunction)(void (*)(void))py_sha256d, METH_VARARGS | METH_KEYWORDS,
     "SHA-256 applied twice."},
    {"join_headers", py_join_headers, METH_VARARGS,
     "The 80-byte records of a headers payload body, or None for a non-zero tx count."},
    {"sha_backends", py_sha_backends, METH_NOARGS, "SHA-256 implementations this CPU can run."},
    {"sha_backend", py_sha_backend, METH_NOARGS, "The SHA-256 implementation in use."},
    {"set_sha_backend", py_set_sha_backend, METH_O, "Choose the SHA-256 implementation (None: best)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_headers", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__headers(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "the native header validator needs a little-endian CPU");
        return NULL;
    }
#if HDR_X86
    unsigned a, b, c, d;
    if (__get_cpuid_count(7, 0, &a, &b, &c, &d)) {
        int sha = (b >> 29) & 1;
        unsigned a1, b1, c1, d1;
        int sse41 = __get_cpuid(1, &a1, &b1, &c1, &d1) && ((c1 >> 19) & 1) && ((c1 >> 9) & 1);
        sha_available[SHA_SHANI] = sha && sse41;
    }
#endif
    sha_default = best_sha();
    const char *env = getenv("PKT_SHA256_BACKEND");
    if (env && *env && strcmp(env, "auto") != 0) {
        int found = 0;
        for (int bk = 0; bk < SHA_COUNT; bk++) {
            if (strcmp(env, sha_names[bk]) == 0 && sha_available[bk]) {
                sha_default = bk;
                found = 1;
            }
        }
        if (!found &&
            PyErr_WarnFormat(PyExc_RuntimeWarning, 1,
                             "PKT_SHA256_BACKEND=%s is not an implementation this CPU supports; using %s",
                             env, sha_names[sha_default]) < 0)
            return NULL;
    }
    return PyModule_Create(&module);
}
