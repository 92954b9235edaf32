/*
 * Native BIP158 filter matching for the light client: SipHash-2-4, Golomb-Rice decoding and
 * membership tests, bit-exact with spv/bip158.py (which stays the reference and the fallback).
 *
 * match_many(filters, scripts) -> list[int]
 *   filters: sequence of (block_hash: bytes[32], filter: bytes) — the serialized basic filter
 *            (CompactSize N followed by the Golomb-Rice bitstream, P = 19, M = 784931)
 *   scripts: sequence of bytes (the wallet's watched scripts)
 *   returns the indexes of the filters that match at least one script.
 * The GIL is released while filters are decoded and matched.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define GCS_P 19
#define GCS_M 784931ULL

typedef struct {
    const uint8_t *data;
    size_t len;
} span_t;

static inline uint64_t rotl(uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

#define SIPROUND                                                                       \
    do {                                                                               \
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);                       \
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;                                          \
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;                                          \
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);                       \
    } while (0)

static inline uint64_t load64(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8); /* little-endian hosts only: checked at import */
    return v;
}

static uint64_t siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len) {
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    size_t end = len - (len % 8);
    for (size_t i = 0; i < end; i += 8) {
        uint64_t m = load64(in + i);
        v3 ^= m;
        SIPROUND;
        SIPROUND;
        v0 ^= m;
    }
    uint64_t b = ((uint64_t)len) << 56;
    for (size_t i = 0; i < len % 8; i++) b |= ((uint64_t)in[end + i]) << (8 * i);
    v3 ^= b;
    SIPROUND;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* Four SipHash-2-4 computations over messages of the same length, interleaved so the CPU
 * (and the compiler's vectorizer) can work on the four independent states at once. */
#define LANES 4
static void siphash24_x4(uint64_t k0, uint64_t k1, const uint8_t *const in[LANES], size_t len,
                         uint64_t out[LANES]) {
    uint64_t v0[LANES], v1[LANES], v2[LANES], v3[LANES], m[LANES];
    for (int l = 0; l < LANES; l++) {
        v0[l] = k0 ^ 0x736f6d6570736575ULL;
        v1[l] = k1 ^ 0x646f72616e646f6dULL;
        v2[l] = k0 ^ 0x6c7967656e657261ULL;
        v3[l] = k1 ^ 0x7465646279746573ULL;
    }
#define ROUND4                                                                         \
    for (int l = 0; l < LANES; l++) {                                                  \
        v0[l] += v1[l]; v1[l] = rotl(v1[l], 13); v1[l] ^= v0[l]; v0[l] = rotl(v0[l], 32); \
        v2[l] += v3[l]; v3[l] = rotl(v3[l], 16); v3[l] ^= v2[l];                       \
        v0[l] += v3[l]; v3[l] = rotl(v3[l], 21); v3[l] ^= v0[l];                       \
        v2[l] += v1[l]; v1[l] = rotl(v1[l], 17); v1[l] ^= v2[l]; v2[l] = rotl(v2[l], 32); \
    }
    size_t end = len - (len % 8);
    for (size_t i = 0; i < end; i += 8) {
        for (int l = 0; l < LANES; l++) { m[l] = load64(in[l] + i); v3[l] ^= m[l]; }
        ROUND4 ROUND4
        for (int l = 0; l < LANES; l++) v0[l] ^= m[l];
    }
    for (int l = 0; l < LANES; l++) {
        uint64_t b = ((uint64_t)len) << 56;
        for (size_t i = 0; i < len % 8; i++) b |= ((uint64_t)in[l][end + i]) << (8 * i);
        m[l] = b;
        v3[l] ^= b;
    }
    ROUND4 ROUND4
    for (int l = 0; l < LANES; l++) { v0[l] ^= m[l]; v2[l] ^= 0xff; }
    ROUND4 ROUND4 ROUND4 ROUND4
    for (int l = 0; l < LANES; l++) out[l] = v0[l] ^ v1[l] ^ v2[l] ^ v3[l];
#undef ROUND4
}

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

/* Decode n values into out (sorted by construction). Returns 0 on success, -1 if short. */
static int gcs_decode(const uint8_t *data, size_t len, uint64_t n, uint64_t *out) {
    size_t bitpos = 0, total = len * 8;
    uint64_t value = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t q = 0;
        for (;;) {
            if (bitpos >= total) return -1;
            int bit = (data[bitpos >> 3] >> (7 - (bitpos & 7))) & 1;
            bitpos++;
            if (!bit) break;
            q++;
        }
        if (bitpos + GCS_P > total) return -1;
        uint64_t r = 0;
        for (int k = 0; k < GCS_P; k++) {
            r = (r << 1) | ((data[bitpos >> 3] >> (7 - (bitpos & 7))) & 1);
            bitpos++;
        }
        value += (q << GCS_P) | r;
        out[i] = value;
    }
    return 0;
}

static int contains(const uint64_t *sorted, uint64_t n, uint64_t v) {
    uint64_t lo = 0, hi = n;
    while (lo < hi) {
        uint64_t mid = (lo + hi) >> 1;
        if (sorted[mid] < v) lo = mid + 1;
        else hi = mid;
    }
    return lo < n && sorted[lo] == v;
}

/* 1 if any script matches, 0 if none, -1 if the filter is malformed. */
static int match_one(const uint8_t *hash, const uint8_t *filter, size_t flen,
                     const span_t *scripts, size_t nscripts, uint64_t **scratch, uint64_t *cap) {
    uint64_t n;
    size_t used = read_compact(filter, flen, &n);
    if (!used) return -1;
    if (n == 0 || nscripts == 0) return 0;
    if (n * (GCS_P + 1) > (uint64_t)(flen - used) * 8) return -1;
    if (n > *cap) {
        uint64_t *grown = realloc(*scratch, n * sizeof(uint64_t));
        if (!grown) return -2;
        *scratch = grown;
        *cap = n;
    }
    if (gcs_decode(filter + used, flen - used, n, *scratch) != 0) return -1;
    uint64_t k0 = load64(hash), k1 = load64(hash + 8);
    unsigned __int128 f = (unsigned __int128)n * GCS_M;
    /* scripts are sorted by length by the caller: hash runs of equal length four at a time */
    size_t i = 0;
    while (i < nscripts) {
        if (i + LANES <= nscripts && scripts[i].len == scripts[i + LANES - 1].len) {
            const uint8_t *in[LANES];
            uint64_t h[LANES];
            for (int l = 0; l < LANES; l++) in[l] = scripts[i + l].data;
            siphash24_x4(k0, k1, in, scripts[i].len, h);
            for (int l = 0; l < LANES; l++) {
                uint64_t v = (uint64_t)(((unsigned __int128)h[l] * f) >> 64);
                if (contains(*scratch, n, v)) return 1;
            }
            i += LANES;
        } else {
            uint64_t h = siphash24(k0, k1, scripts[i].data, scripts[i].len);
            uint64_t v = (uint64_t)(((unsigned __int128)h * f) >> 64);
            if (contains(*scratch, n, v)) return 1;
            i++;
        }
    }
    return 0;
}

static int cmp_span_len(const void *a, const void *b) {
    size_t x = ((const span_t *)a)->len, y = ((const span_t *)b)->len;
    return (x > y) - (x < y);
}

static PyObject *match_many(PyObject *self, PyObject *args) {
    PyObject *filters_obj, *scripts_obj;
    if (!PyArg_ParseTuple(args, "OO", &filters_obj, &scripts_obj)) return NULL;
    PyObject *filters = PySequence_Fast(filters_obj, "filters must be a sequence");
    if (!filters) return NULL;
    PyObject *scripts = PySequence_Fast(scripts_obj, "scripts must be a sequence");
    if (!scripts) { Py_DECREF(filters); return NULL; }
    Py_ssize_t nf = PySequence_Fast_GET_SIZE(filters), ns = PySequence_Fast_GET_SIZE(scripts);
    span_t *sspan = calloc(ns ? ns : 1, sizeof(span_t));
    span_t *hashes = calloc(nf ? nf : 1, sizeof(span_t));
    span_t *fdata = calloc(nf ? nf : 1, sizeof(span_t));
    int *results = calloc(nf ? nf : 1, sizeof(int));
    PyObject *out = NULL;
    if (!sspan || !hashes || !fdata || !results) { PyErr_NoMemory(); goto done; }
    for (Py_ssize_t i = 0; i < ns; i++) {
        PyObject *s = PySequence_Fast_GET_ITEM(scripts, i);
        if (!PyBytes_Check(s)) { PyErr_SetString(PyExc_TypeError, "scripts must be bytes"); goto done; }
        sspan[i].data = (const uint8_t *)PyBytes_AS_STRING(s);
        sspan[i].len = (size_t)PyBytes_GET_SIZE(s);
    }
    for (Py_ssize_t i = 0; i < nf; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(filters, i);
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
    Py_BEGIN_ALLOW_THREADS
    qsort(sspan, (size_t)ns, sizeof(span_t), cmp_span_len);
    uint64_t *scratch = NULL, cap = 0;
    for (Py_ssize_t i = 0; i < nf; i++) {
        results[i] = match_one(hashes[i].data, fdata[i].data, fdata[i].len, sspan, (size_t)ns, &scratch, &cap);
        if (results[i] == -2) { oom = 1; break; }
    }
    free(scratch);
    Py_END_ALLOW_THREADS
    if (oom) { PyErr_NoMemory(); goto done; }
    out = PyList_New(0);
    if (!out) goto done;
    for (Py_ssize_t i = 0; i < nf; i++) {
        if (results[i] == -1) {
            Py_CLEAR(out);
            PyErr_Format(PyExc_ValueError, "malformed compact filter at index %zd", i);
            goto done;
        }
        if (results[i] == 1) {
            PyObject *idx = PyLong_FromSsize_t(i);
            if (!idx || PyList_Append(out, idx) < 0) { Py_XDECREF(idx); Py_CLEAR(out); goto done; }
            Py_DECREF(idx);
        }
    }
done:
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

static PyMethodDef methods[] = {
    {"match_many", match_many, METH_VARARGS, "Indexes of the filters that match any script."},
    {"siphash24", py_siphash24, METH_VARARGS, "SipHash-2-4 with key (k0, k1)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_gcs", NULL, -1, methods};

PyMODINIT_FUNC PyInit__gcs(void) {
    const uint16_t probe = 1;
    if (*(const uint8_t *)&probe != 1) {
        PyErr_SetString(PyExc_ImportError, "the native filter matcher needs a little-endian CPU");
        return NULL;
    }
    return PyModule_Create(&module);
}
