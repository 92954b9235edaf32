/*
 * miner._kernel: the native PacketCrypt v1 announcement kernel (CPython extension).
 *
 * Low-level functions (for the differential tests against miner/reference):
 *   blake2b(data, digest_size=64), chacha20_xor(key, nonce12, counter, data),
 *   poly1305(key, data), expand(length, seed, num),
 *   cc_init(seed, nonce), cc_make_fuzzable(state), cc_crypt(state), cc_update(state, item),
 *   cc_final(state)                                  -- each returns the new 2048-byte state
 *   randgen(seed) -> tuple of u32 words, or None when the program is rejected
 *   randhash(program, memory1024, state2048, cycles=2) -> (state or None, op_counts)
 *   table_context(prog_seed, item_seed) -> TableContext or None (program rejected)
 *   merkle_root(table8MiB) -> 64 bytes
 *   soft_nonce_max(compact), hash_meets(hash32, compact, allow_equal)
 *   validate(ann, parent_hash, pc_version=2) -> (code, work_hash or None, item_nos)
 * The job:
 *   Job(header88, parent_hash32): build with table1(start, stop), middle(), table2(start,
 *   stop), end() (each returns a status, 0 = ok); then mine(start, count, max_results) ->
 *   (next_nonce, concatenated anns), hash_nonce(n), assemble(n), branch(i), table2_bytes().
 * SIMD: simd() -> name in use, simd_levels() -> names this CPU supports, set_simd(name).
 *
 * Every call that hashes releases the GIL.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* The module's name: setup.py builds these sources twice, as miner._kernel and (with
 * -DPC_FORCE_PORTABLE -DPC_MODULE_NAME=_kernel_portable) as miner._kernel_portable. */
#ifndef PC_MODULE_NAME
#define PC_MODULE_NAME _kernel
#endif
#define PC_STR_(x) #x
#define PC_STR(x) PC_STR_(x)
#define PC_CAT_(a, b) a##b
#define PC_CAT(a, b) PC_CAT_(a, b)
#define PC_QUALNAME "miner." PC_STR(PC_MODULE_NAME)

#include "ann.h"

static const char *SIMD_NAMES[] = {"portable", "avx2", "avx512"};

static int want_len(Py_buffer *b, Py_ssize_t n, const char *what) {
    if (b->len != n) {
        PyErr_Format(PyExc_ValueError, "%s must be %zd bytes, got %zd", what, n, b->len);
        return -1;
    }
    return 0;
}

/* ---- primitives ------------------------------------------------------------------------------ */

static PyObject *py_blake2b(PyObject *self, PyObject *args, PyObject *kw) {
    static char *kwlist[] = {"data", "digest_size", NULL};
    Py_buffer data;
    int size = 64;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "y*|i", kwlist, &data, &size)) return NULL;
    if (size < 1 || size > 64) {
        PyBuffer_Release(&data);
        PyErr_SetString(PyExc_ValueError, "digest_size must be 1..64");
        return NULL;
    }
    uint8_t out[64];
    Py_BEGIN_ALLOW_THREADS
    blake2b(out, (size_t)size, data.buf, (size_t)data.len);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&data);
    return PyBytes_FromStringAndSize((char *)out, size);
}

static PyObject *py_chacha20_xor(PyObject *self, PyObject *args) {
    Py_buffer key, nonce, data;
    unsigned int counter;
    if (!PyArg_ParseTuple(args, "y*y*Iy*", &key, &nonce, &counter, &data)) return NULL;
    PyObject *out = NULL;
    if (want_len(&key, 32, "key") == 0 && want_len(&nonce, 12, "nonce") == 0) {
        /* a fresh object (never a cached one-byte bytes), then encrypted in place */
        out = PyBytes_FromStringAndSize(NULL, data.len);
        if (out && data.len > 0) {
            uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
            memcpy(p, data.buf, (size_t)data.len);
            chacha20_xor(key.buf, nonce.buf, counter, p, (size_t)data.len);
        }
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&nonce);
    PyBuffer_Release(&data);
    return out;
}

static PyObject *py_poly1305(PyObject *self, PyObject *args) {
    Py_buffer key, data;
    if (!PyArg_ParseTuple(args, "y*y*", &key, &data)) return NULL;
    PyObject *out = NULL;
    if (want_len(&key, 32, "key") == 0) {
        uint8_t tag[16];
        poly1305(tag, key.buf, data.buf, (size_t)data.len);
        out = PyBytes_FromStringAndSize((char *)tag, 16);
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    return out;
}

static PyObject *py_poly1305_blocks_last(PyObject *self, PyObject *args) {
    Py_buffer key, data, last;
    if (!PyArg_ParseTuple(args, "y*y*y*", &key, &data, &last)) return NULL;
    PyObject *out = NULL;
    if (want_len(&key, 32, "key") == 0 && want_len(&last, 16, "last") == 0) {
        if (data.len % 16)
            PyErr_SetString(PyExc_ValueError, "data must be whole 16-byte blocks");
        else {
            uint8_t tag[16];
            poly1305_blocks_last(tag, key.buf, data.buf, (size_t)data.len / 16, last.buf);
            out = PyBytes_FromStringAndSize((char *)tag, 16);
        }
    }
    PyBuffer_Release(&key);
    PyBuffer_Release(&data);
    PyBuffer_Release(&last);
    return out;
}

static PyObject *py_blake2b256_x4(PyObject *self, PyObject *args) {
    Py_buffer b[4];
    if (!PyArg_ParseTuple(args, "y*y*y*y*", &b[0], &b[1], &b[2], &b[3])) return NULL;
    PyObject *out = NULL;
    int ok = 1;
    for (int i = 0; i < 4; i++) ok &= b[i].len == CC_STATE;
    if (!ok) {
        PyErr_SetString(PyExc_ValueError, "four 2048-byte messages");
    } else {
        uint8_t h[4][32];
        uint8_t *outs[4] = {h[0], h[1], h[2], h[3]};
        const uint8_t *ins[4] = {b[0].buf, b[1].buf, b[2].buf, b[3].buf};
        blake2b256_2048_x4(outs, ins);
        out = Py_BuildValue("(y#y#y#y#)", (char *)h[0], (Py_ssize_t)32, (char *)h[1],
                            (Py_ssize_t)32, (char *)h[2], (Py_ssize_t)32, (char *)h[3],
                            (Py_ssize_t)32);
    }
    for (int i = 0; i < 4; i++) PyBuffer_Release(&b[i]);
    return out;
}

static PyObject *py_expand(PyObject *self, PyObject *args) {
    Py_ssize_t len;
    Py_buffer seed;
    unsigned int num;
    if (!PyArg_ParseTuple(args, "ny*I", &len, &seed, &num)) return NULL;
    PyObject *out = NULL;
    if (len < 0)
        PyErr_SetString(PyExc_ValueError, "negative length");
    else if (want_len(&seed, 32, "seed") == 0) {
        out = PyBytes_FromStringAndSize(NULL, len);
        if (out) pc_expand((uint8_t *)PyBytes_AS_STRING(out), (size_t)len, seed.buf, num);
    }
    PyBuffer_Release(&seed);
    return out;
}

/* ---- CryptoCycle ------------------------------------------------------------------------------ */

static PyObject *state_copy(Py_buffer *state) {
    if (want_len(state, CC_STATE, "state") != 0) return NULL;
    return PyBytes_FromStringAndSize(state->buf, CC_STATE);
}

static PyObject *py_cc_init(PyObject *self, PyObject *args) {
    Py_buffer seed;
    unsigned long long nonce;
    if (!PyArg_ParseTuple(args, "y*K", &seed, &nonce)) return NULL;
    PyObject *out = NULL;
    if (want_len(&seed, 32, "seed") == 0) {
        out = PyBytes_FromStringAndSize(NULL, CC_STATE);
        if (out) cc_init((uint8_t *)PyBytes_AS_STRING(out), seed.buf, nonce);
    }
    PyBuffer_Release(&seed);
    return out;
}

static PyObject *py_cc_make_fuzzable(PyObject *self, PyObject *args) {
    Py_buffer st;
    if (!PyArg_ParseTuple(args, "y*", &st)) return NULL;
    PyObject *out = state_copy(&st);
    if (out) cc_make_fuzzable((uint8_t *)PyBytes_AS_STRING(out));
    PyBuffer_Release(&st);
    return out;
}

static PyObject *py_cc_crypt(PyObject *self, PyObject *args) {
    Py_buffer st;
    if (!PyArg_ParseTuple(args, "y*", &st)) return NULL;
    PyObject *out = state_copy(&st);
    if (out) cc_crypt((uint8_t *)PyBytes_AS_STRING(out), 0);
    PyBuffer_Release(&st);
    return out;
}

static PyObject *py_cc_update(PyObject *self, PyObject *args) {
    Py_buffer st, item;
    if (!PyArg_ParseTuple(args, "y*y*", &st, &item)) return NULL;
    PyObject *out = NULL;
    if (want_len(&item, CC_ITEM, "item") == 0) {
        out = state_copy(&st);
        if (out) cc_update((uint8_t *)PyBytes_AS_STRING(out), item.buf, 0);
    }
    PyBuffer_Release(&st);
    PyBuffer_Release(&item);
    return out;
}

static PyObject *py_cc_final(PyObject *self, PyObject *args) {
    Py_buffer st;
    if (!PyArg_ParseTuple(args, "y*", &st)) return NULL;
    PyObject *out = state_copy(&st);
    if (out) cc_final((uint8_t *)PyBytes_AS_STRING(out));
    PyBuffer_Release(&st);
    return out;
}

/* ---- RandGen / RandHash ------------------------------------------------------------------------ */

static PyObject *words_tuple(const uint32_t *w, int n) {
    PyObject *t = PyTuple_New(n);
    if (!t) return NULL;
    for (int i = 0; i < n; i++) {
        PyObject *v = PyLong_FromUnsignedLong(w[i]);
        if (!v) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, v);
    }
    return t;
}

static PyObject *py_randgen(PyObject *self, PyObject *args) {
    Py_buffer seed;
    if (!PyArg_ParseTuple(args, "y*", &seed)) return NULL;
    if (want_len(&seed, 32, "seed") != 0) {
        PyBuffer_Release(&seed);
        return NULL;
    }
    uint32_t words[RG_MAX_INSNS];
    int n;
    Py_BEGIN_ALLOW_THREADS
    n = randgen_generate(words, seed.buf);
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&seed);
    if (n < 0) Py_RETURN_NONE;
    return words_tuple(words, n);
}

static int parse_program(PyObject *seq, uint32_t **words, int *len) {
    PyObject *fast = PySequence_Fast(seq, "program must be a sequence of ints");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n < 1 || n > RG_MAX_INSNS) {
        Py_DECREF(fast);
        PyErr_SetString(PyExc_ValueError, "a program has 1..2048 instructions");
        return -1;
    }
    uint32_t *w = PyMem_Malloc((size_t)n * 4);
    if (!w) {
        Py_DECREF(fast);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned long v = PyLong_AsUnsignedLong(PySequence_Fast_GET_ITEM(fast, i));
        if (PyErr_Occurred() || v > 0xFFFFFFFFul) {
            if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "instruction above 2^32");
            PyMem_Free(w);
            Py_DECREF(fast);
            return -1;
        }
        w[i] = (uint32_t)v;
    }
    Py_DECREF(fast);
    *words = w;
    *len = (int)n;
    return 0;
}

static PyObject *py_randhash(PyObject *self, PyObject *args) {
    PyObject *prog_obj;
    Py_buffer mem, st;
    int cycles = 2;
    if (!PyArg_ParseTuple(args, "Oy*y*|i", &prog_obj, &mem, &st, &cycles)) return NULL;
    PyObject *result = NULL;
    uint32_t *words = NULL;
    int len = 0;
    if (want_len(&mem, 1024, "memory") != 0 || want_len(&st, CC_STATE, "state") != 0) goto done;
    if (cycles < 1 || cycles > 16) {
        PyErr_SetString(PyExc_ValueError, "cycles must be 1..16");
        goto done;
    }
    if (parse_program(prog_obj, &words, &len) != 0) goto done;
    rh_program p;
    if (rh_decode(&p, words, len) != 0) {
        PyErr_SetString(PyExc_ValueError, "invalid opcode in program");
        goto done;
    }
    uint8_t S[CC_STATE];
    uint32_t memw[256], counts[16] = {0};
    memcpy(S, st.buf, CC_STATE);
    memcpy(memw, mem.buf, 1024);
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = rh_run(&p, memw, S, cycles, counts);
    Py_END_ALLOW_THREADS
    rh_free(&p);
    int ran = cycles;
    if (rc != 0) { /* report the counts of the cycles that ran, the failing one last */
        ran = 0;
        while (ran < cycles && counts[ran] != 0) ran++;
    }
    PyObject *counts_t = words_tuple(counts, ran);
    if (!counts_t) goto done;
    if (rc != 0)
        result = Py_BuildValue("(ON)", Py_None, counts_t);
    else
        result = Py_BuildValue("(y#N)", (char *)S, (Py_ssize_t)CC_STATE, counts_t);
done:
    PyMem_Free(words);
    PyBuffer_Release(&mem);
    PyBuffer_Release(&st);
    return result;
}

/* ---- TableContext ------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD pc_table_ctx *ctx;
} TableContextObject;

static void tc_dealloc(TableContextObject *self) {
    if (self->ctx) {
        pc_table_ctx_free(self->ctx);
        PyMem_RawFree(self->ctx);
    }
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *tc_item(TableContextObject *self, PyObject *args) {
    unsigned int index;
    if (!PyArg_ParseTuple(args, "I", &index)) return NULL;
    uint8_t item[CC_ITEM];
    uint32_t counts[2] = {0, 0};
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pc_make_item(self->ctx, index, item, counts);
    Py_END_ALLOW_THREADS
    PyObject *counts_t = words_tuple(counts, counts[1] ? 2 : 1);
    if (!counts_t) return NULL;
    if (rc != 0) return Py_BuildValue("(ON)", Py_None, counts_t);
    return Py_BuildValue("(y#N)", (char *)item, (Py_ssize_t)CC_ITEM, counts_t);
}

static PyObject *tc_build(TableContextObject *self, PyObject *args) {
    unsigned int start = 0, stop = MT_LEAVES;
    if (!PyArg_ParseTuple(args, "|II", &start, &stop)) return NULL;
    if (start > stop || stop > MT_LEAVES) {
        PyErr_SetString(PyExc_ValueError, "bad item range");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(stop - start) * CC_ITEM);
    if (!out) return NULL;
    uint8_t *p = (uint8_t *)PyBytes_AS_STRING(out);
    int rc = 0;
    Py_BEGIN_ALLOW_THREADS
    for (unsigned int i = start; i < stop && rc == 0; i++)
        rc = pc_make_item(self->ctx, i, p + (size_t)(i - start) * CC_ITEM, NULL);
    Py_END_ALLOW_THREADS
    if (rc != 0) {
        Py_DECREF(out);
        Py_RETURN_NONE;
    }
    return out;
}

static PyObject *tc_get_program(TableContextObject *self, void *closure) {
    return words_tuple(self->ctx->words, self->ctx->prog_len);
}

static PyObject *tc_get_memory(TableContextObject *self, void *closure) {
    return PyBytes_FromStringAndSize((char *)self->ctx->memory, sizeof self->ctx->memory);
}

static PyMethodDef tc_methods[] = {
    {"item", (PyCFunction)tc_item, METH_VARARGS,
     "item(index) -> (item bytes or None if RandHash exceeded its limit, op_counts)"},
    {"build", (PyCFunction)tc_build, METH_VARARGS,
     "build(start=0, stop=8192) -> the items concatenated, or None if one fails"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef tc_getset[] = {
    {"program", (getter)tc_get_program, NULL, "the RandGen program words", NULL},
    {"memory", (getter)tc_get_memory, NULL, "the 8192-byte program/memory buffer", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject TableContextType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PC_QUALNAME ".TableContext",
    .tp_basicsize = sizeof(TableContextObject),
    .tp_dealloc = (destructor)tc_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The program and memory of one 8192-item table (create with table_context()).",
    .tp_methods = tc_methods,
    .tp_getset = tc_getset,
};

static PyObject *py_table_context(PyObject *self, PyObject *args) {
    Py_buffer ps, is;
    if (!PyArg_ParseTuple(args, "y*y*", &ps, &is)) return NULL;
    PyObject *result = NULL;
    if (want_len(&ps, 32, "prog_seed") == 0 && want_len(&is, 32, "item_seed") == 0) {
        pc_table_ctx *ctx = PyMem_RawMalloc(sizeof *ctx);
        if (!ctx) {
            PyErr_NoMemory();
        } else {
            int rc;
            Py_BEGIN_ALLOW_THREADS
            rc = pc_table_ctx_init(ctx, ps.buf, is.buf);
            Py_END_ALLOW_THREADS
            if (rc != 0) {
                pc_table_ctx_free(ctx);
                PyMem_RawFree(ctx);
                if (rc == -2)
                    PyErr_NoMemory();
                else
                    result = Py_NewRef(Py_None);
            } else {
                TableContextObject *obj = PyObject_New(TableContextObject, &TableContextType);
                if (!obj) {
                    pc_table_ctx_free(ctx);
                    PyMem_RawFree(ctx);
                } else {
                    obj->ctx = ctx;
                    result = (PyObject *)obj;
                }
            }
        }
    }
    PyBuffer_Release(&ps);
    PyBuffer_Release(&is);
    return result;
}

static PyObject *py_merkle_root(PyObject *self, PyObject *args) {
    Py_buffer table;
    if (!PyArg_ParseTuple(args, "y*", &table)) return NULL;
    if (want_len(&table, (Py_ssize_t)MT_LEAVES * CC_ITEM, "table") != 0) {
        PyBuffer_Release(&table);
        return NULL;
    }
    uint8_t *tree = PyMem_RawMalloc((size_t)MT_NODES * 64);
    if (!tree) {
        PyBuffer_Release(&table);
        return PyErr_NoMemory();
    }
    Py_BEGIN_ALLOW_THREADS
    for (size_t i = 0; i < MT_LEAVES; i++)
        blake2b(tree + 64 * i, 64, (const uint8_t *)table.buf + CC_ITEM * i, CC_ITEM);
    mt_build_inner(tree);
    Py_END_ALLOW_THREADS
    PyObject *out =
        PyBytes_FromStringAndSize((char *)tree + 64 * (size_t)(MT_NODES - 1), 64);
    PyMem_RawFree(tree);
    PyBuffer_Release(&table);
    return out;
}

/* ---- difficulty and validation ------------------------------------------------------------------- */

static PyObject *py_soft_nonce_max(PyObject *self, PyObject *args) {
    unsigned int c;
    if (!PyArg_ParseTuple(args, "I", &c)) return NULL;
    return PyLong_FromUnsignedLong(pc_soft_nonce_max(c));
}

static PyObject *py_hash_meets(PyObject *self, PyObject *args) {
    Py_buffer h;
    unsigned int c;
    int eq;
    if (!PyArg_ParseTuple(args, "y*Ip", &h, &c, &eq)) return NULL;
    PyObject *out = NULL;
    if (want_len(&h, 32, "hash") == 0) out = PyBool_FromLong(pc_hash_meets(h.buf, c, eq));
    PyBuffer_Release(&h);
    return out;
}

static PyObject *py_validate(PyObject *self, PyObject *args) {
    Py_buffer ann, parent;
    int version = 2;
    if (!PyArg_ParseTuple(args, "y*y*|i", &ann, &parent, &version)) return NULL;
    PyObject *result = NULL;
    if (ann.len != 1024 || parent.len != 32) {
        result = Py_BuildValue("(iO())", PC_INVAL, Py_None);
    } else {
        uint8_t a[1024], p[32], work[32];
        uint32_t idx[4] = {0, 0, 0, 0};
        memcpy(a, ann.buf, 1024);
        memcpy(p, parent.buf, 32);
        int code;
        Py_BEGIN_ALLOW_THREADS
        code = pc_validate(a, p, version, work, idx);
        Py_END_ALLOW_THREADS
        if (code == PC_NOMEM)
            PyErr_NoMemory();
        else if (code == PC_OK || code >= PC_INVAL_ITEM4)
            result = Py_BuildValue("(iy#(IIII))", code, (char *)work, (Py_ssize_t)32, idx[0],
                                   idx[1], idx[2], idx[3]);
        else
            result = Py_BuildValue("(iO())", code, Py_None);
    }
    PyBuffer_Release(&ann);
    PyBuffer_Release(&parent);
    return result;
}

/* ---- Job ------------------------------------------------------------------------------------------ */

typedef struct {
    PyObject_HEAD pc_job *job;
} JobObject;

static void job_dealloc(JobObject *self) {
    pc_job_free(self->job);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int job_init(JobObject *self, PyObject *args, PyObject *kw) {
    Py_buffer header, parent;
    if (!PyArg_ParseTuple(args, "y*y*", &header, &parent)) return -1;
    int rc = -2;
    if (want_len(&header, 88, "header") == 0 && want_len(&parent, 32, "parent_hash") == 0) {
        if (self->job) pc_job_free(self->job);
        self->job = pc_job_new();
        if (!self->job) {
            PyErr_NoMemory();
        } else {
            Py_BEGIN_ALLOW_THREADS
            rc = pc_job_begin(self->job, header.buf, parent.buf);
            Py_END_ALLOW_THREADS
            if (rc == PC_JOB_NOMEM) PyErr_NoMemory();
        }
    }
    PyBuffer_Release(&header);
    PyBuffer_Release(&parent);
    return rc < 0 ? -1 : 0;
}

static int job_ready(JobObject *self) {
    if (!self->job || self->job->stage != 3) {
        PyErr_SetString(PyExc_RuntimeError, "the job's tables are not built");
        return 0;
    }
    return 1;
}

static int parse_range(PyObject *args, uint32_t *start, uint32_t *stop) {
    unsigned int a, b;
    if (!PyArg_ParseTuple(args, "II", &a, &b)) return -1;
    if (a > b || b > MT_LEAVES) {
        PyErr_SetString(PyExc_ValueError, "bad item range");
        return -1;
    }
    *start = a;
    *stop = b;
    return 0;
}

static PyObject *job_status(int rc) {
    if (rc == PC_JOB_NOMEM) return PyErr_NoMemory();
    return PyLong_FromLong(rc);
}

static PyObject *job_table1(JobObject *self, PyObject *args) {
    uint32_t a, b;
    if (!self->job || parse_range(args, &a, &b) != 0) return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pc_job_table1(self->job, a, b);
    Py_END_ALLOW_THREADS
    return job_status(rc);
}

static PyObject *job_middle(JobObject *self, PyObject *noargs) {
    if (!self->job) return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pc_job_middle(self->job);
    Py_END_ALLOW_THREADS
    return job_status(rc);
}

static PyObject *job_table2(JobObject *self, PyObject *args) {
    uint32_t a, b;
    if (!self->job || parse_range(args, &a, &b) != 0) return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pc_job_table2(self->job, a, b);
    Py_END_ALLOW_THREADS
    return job_status(rc);
}

static PyObject *job_end(JobObject *self, PyObject *noargs) {
    if (!self->job) return NULL;
    int rc;
    Py_BEGIN_ALLOW_THREADS
    rc = pc_job_end(self->job);
    Py_END_ALLOW_THREADS
    return job_status(rc);
}

static PyObject *job_mine(JobObject *self, PyObject *args) {
    unsigned int start, count, max_results;
    if (!PyArg_ParseTuple(args, "III", &start, &count, &max_results)) return NULL;
    if (!job_ready(self)) return NULL;
    if (max_results > 1u << 16) max_results = 1u << 16;
    uint8_t *buf = PyMem_RawMalloc((size_t)(max_results ? max_results : 1) * 1024);
    if (!buf) return PyErr_NoMemory();
    uint32_t found = 0, next;
    Py_BEGIN_ALLOW_THREADS
    next = pc_job_mine(self->job, start, count, max_results, buf, &found);
    Py_END_ALLOW_THREADS
    PyObject *out =
        Py_BuildValue("(Iy#)", next, (char *)buf, (Py_ssize_t)found * 1024);
    PyMem_RawFree(buf);
    return out;
}

static PyObject *job_hash_nonce(JobObject *self, PyObject *args) {
    unsigned int nonce;
    if (!PyArg_ParseTuple(args, "I", &nonce)) return NULL;
    if (!job_ready(self)) return NULL;
    uint8_t S[CC_STATE];
    uint32_t idx[4];
    Py_BEGIN_ALLOW_THREADS
    pc_job_hash_nonce(self->job, nonce, S, idx);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("((IIII)y#)", idx[0], idx[1], idx[2], idx[3],
                                              (char *)S, (Py_ssize_t)CC_STATE);
}

static PyObject *job_assemble(JobObject *self, PyObject *args) {
    unsigned int nonce;
    if (!PyArg_ParseTuple(args, "I", &nonce)) return NULL;
    if (!job_ready(self)) return NULL;
    if (nonce > 0xffffff) {
        PyErr_SetString(PyExc_ValueError, "the soft nonce is 24 bits");
        return NULL;
    }
    uint8_t S[CC_STATE], ann[1024], plain[1024];
    uint32_t idx[4];
    Py_BEGIN_ALLOW_THREADS
    pc_job_hash_nonce(self->job, nonce, S, idx);
    pc_job_assemble(self->job, nonce, S, idx[3], ann, plain);
    Py_END_ALLOW_THREADS
    return Py_BuildValue("(y#y#)", (char *)plain, (Py_ssize_t)1024,
                                              (char *)ann, (Py_ssize_t)1024);
}

static PyObject *job_branch(JobObject *self, PyObject *args) {
    unsigned int index;
    if (!PyArg_ParseTuple(args, "I", &index)) return NULL;
    if (!self->job || self->job->stage < 2) {
        PyErr_SetString(PyExc_RuntimeError, "table1's tree is not built");
        return NULL;
    }
    if (index >= MT_LEAVES) {
        PyErr_SetString(PyExc_ValueError, "index out of range");
        return NULL;
    }
    uint8_t out[MT_DEPTH * 64];
    mt_branch(self->job->tree, index, out);
    return PyBytes_FromStringAndSize((char *)out, sizeof out);
}

static PyObject *job_table2_bytes(JobObject *self, PyObject *noargs) {
    if (!job_ready(self)) return NULL;
    return PyBytes_FromStringAndSize((char *)self->job->table2, (Py_ssize_t)MT_LEAVES * CC_ITEM);
}

#define JOB_BYTES_GETTER(name, field, n, min_stage)                                           \
    static PyObject *job_get_##name(JobObject *self, void *closure) {                         \
        if (!self->job || self->job->stage < (min_stage)) Py_RETURN_NONE;                     \
        return PyBytes_FromStringAndSize((char *)self->job->field, (n));                      \
    }
JOB_BYTES_GETTER(header, header, 88, 0)
JOB_BYTES_GETTER(parent_hash, parent_hash, 32, 0)
JOB_BYTES_GETTER(ann_hash0, hash0, 64, 0)
JOB_BYTES_GETTER(ann_hash1, hash1, 64, 2)
JOB_BYTES_GETTER(seed2, seed2, 64, 2)
JOB_BYTES_GETTER(merkle_root, root, 64, 2)

static PyObject *job_get_stage(JobObject *self, void *c) {
    return PyLong_FromLong(self->job ? self->job->stage : 0);
}
static PyObject *job_get_status(JobObject *self, void *c) {
    return PyLong_FromLong(self->job ? self->job->status : 0);
}
static PyObject *job_get_snm(JobObject *self, void *c) {
    return PyLong_FromUnsignedLong(self->job ? self->job->snm : 0);
}
static PyObject *job_get_work_bits(JobObject *self, void *c) {
    return PyLong_FromUnsignedLong(self->job ? self->job->work_bits : 0);
}
static PyObject *job_get_prog1_len(JobObject *self, void *c) {
    return PyLong_FromLong(self->job ? self->job->prog1_len : 0);
}
static PyObject *job_get_prog2_len(JobObject *self, void *c) {
    return PyLong_FromLong(self->job ? self->job->prog2_len : 0);
}

static PyMethodDef job_methods[] = {
    {"table1", (PyCFunction)job_table1, METH_VARARGS, "table1(start, stop) -> status"},
    {"middle", (PyCFunction)job_middle, METH_NOARGS, "tree, annHash1, seed2 -> status"},
    {"table2", (PyCFunction)job_table2, METH_VARARGS, "table2(start, stop) -> status"},
    {"end", (PyCFunction)job_end, METH_NOARGS, "finish the job -> status"},
    {"mine", (PyCFunction)job_mine, METH_VARARGS,
     "mine(start, count, max_results) -> (next_nonce, anns concatenated)"},
    {"hash_nonce", (PyCFunction)job_hash_nonce, METH_VARARGS,
     "hash_nonce(n) -> (item_nos, final_state)"},
    {"assemble", (PyCFunction)job_assemble, METH_VARARGS, "assemble(n) -> (plain, ann)"},
    {"branch", (PyCFunction)job_branch, METH_VARARGS, "branch(i) -> 13 sibling hashes"},
    {"table2_bytes", (PyCFunction)job_table2_bytes, METH_NOARGS, "table2 concatenated"},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef job_getset[] = {
    {"header", (getter)job_get_header, NULL, "88-byte header, soft nonce 0", NULL},
    {"parent_hash", (getter)job_get_parent_hash, NULL, NULL, NULL},
    {"ann_hash0", (getter)job_get_ann_hash0, NULL, NULL, NULL},
    {"ann_hash1", (getter)job_get_ann_hash1, NULL, NULL, NULL},
    {"seed2", (getter)job_get_seed2, NULL, NULL, NULL},
    {"merkle_root", (getter)job_get_merkle_root, NULL, NULL, NULL},
    {"stage", (getter)job_get_stage, NULL, "1: building table1, 2: table2, 3: ready", NULL},
    {"status", (getter)job_get_status, NULL, "0, or the first failure (a job status)", NULL},
    {"soft_nonce_max", (getter)job_get_snm, NULL, NULL, NULL},
    {"work_bits", (getter)job_get_work_bits, NULL, NULL, NULL},
    {"prog1_len", (getter)job_get_prog1_len, NULL, NULL, NULL},
    {"prog2_len", (getter)job_get_prog2_len, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject JobType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = PC_QUALNAME ".Job",
    .tp_basicsize = sizeof(JobObject),
    .tp_dealloc = (destructor)job_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Job(header88, parent_hash32): one hard nonce's tables and tree.",
    .tp_methods = job_methods,
    .tp_getset = job_getset,
    .tp_init = (initproc)job_init,
    .tp_new = PyType_GenericNew,
};

/* ---- SIMD control -------------------------------------------------------------------------------- */

static PyObject *py_simd(PyObject *self, PyObject *noargs) {
    return PyUnicode_FromString(SIMD_NAMES[pc_simd_level]);
}

static PyObject *py_simd_levels(PyObject *self, PyObject *noargs) {
    int best = pc_simd_detect();
    PyObject *l = PyList_New(0);
    for (int i = 0; l && i <= best; i++) {
        PyObject *s = PyUnicode_FromString(SIMD_NAMES[i]);
        if (!s || PyList_Append(l, s) != 0) {
            Py_XDECREF(s);
            Py_DECREF(l);
            return NULL;
        }
        Py_DECREF(s);
    }
    return l;
}

static PyObject *py_set_simd(PyObject *self, PyObject *args) {
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    for (int i = 0; i < 3; i++) {
        if (strcmp(name, SIMD_NAMES[i]) == 0) {
            if (i > pc_simd_detect()) {
                PyErr_Format(PyExc_ValueError, "this CPU does not support %s", name);
                return NULL;
            }
            pc_simd_select(i);
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "unknown SIMD level %s", name);
    return NULL;
}

static PyMethodDef methods[] = {
    {"blake2b", (PyCFunction)(void (*)(void))py_blake2b, METH_VARARGS | METH_KEYWORDS,
     "blake2b(data, digest_size=64)"},
    {"chacha20_xor", py_chacha20_xor, METH_VARARGS, "chacha20_xor(key, nonce12, counter, data)"},
    {"poly1305", py_poly1305, METH_VARARGS, "poly1305(key, data)"},
    {"expand", py_expand, METH_VARARGS, "expand(length, seed, num)"},
    {"poly1305_blocks_last", py_poly1305_blocks_last, METH_VARARGS,
     "poly1305_blocks_last(key, blocks, last16): crypt()'s Poly1305 (selected SIMD level)"},
    {"blake2b256_x4", py_blake2b256_x4, METH_VARARGS,
     "blake2b256_x4(a, b, c, d): B256 of four 2048-byte messages (selected SIMD level)"},
    {"cc_init", py_cc_init, METH_VARARGS, "cc_init(seed, nonce) -> state"},
    {"cc_make_fuzzable", py_cc_make_fuzzable, METH_VARARGS, "-> new state"},
    {"cc_crypt", py_cc_crypt, METH_VARARGS, "-> new state"},
    {"cc_update", py_cc_update, METH_VARARGS, "cc_update(state, item) -> new state"},
    {"cc_final", py_cc_final, METH_VARARGS, "-> new state (work hash in [0:32])"},
    {"randgen", py_randgen, METH_VARARGS, "randgen(seed) -> program words or None"},
    {"randhash", py_randhash, METH_VARARGS,
     "randhash(program, memory, state, cycles=2) -> (state or None, op_counts)"},
    {"table_context", py_table_context, METH_VARARGS,
     "table_context(prog_seed, item_seed) -> TableContext or None"},
    {"merkle_root", py_merkle_root, METH_VARARGS, "merkle_root(table) -> 64 bytes"},
    {"soft_nonce_max", py_soft_nonce_max, METH_VARARGS, "soft_nonce_max(compact)"},
    {"hash_meets", py_hash_meets, METH_VARARGS, "hash_meets(hash, compact, allow_equal)"},
    {"validate", py_validate, METH_VARARGS,
     "validate(ann, parent_hash, pc_version=2) -> (code, work_hash, item_nos)"},
    {"simd", py_simd, METH_NOARGS, "the SIMD level in use"},
    {"simd_levels", py_simd_levels, METH_NOARGS, "SIMD levels this CPU supports"},
    {"set_simd", py_set_simd, METH_VARARGS, "set_simd(name): force a SIMD level (tests)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT, PC_QUALNAME,
    "Native PacketCrypt v1 announcement kernel (see miner/native/module.c).", -1, methods,
};

PyMODINIT_FUNC PC_CAT(PyInit_, PC_MODULE_NAME)(void) {
    if (PyType_Ready(&JobType) < 0 || PyType_Ready(&TableContextType) < 0) return NULL;
    pc_simd_select(pc_simd_detect());
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&JobType);
    if (PyModule_AddObject(m, "Job", (PyObject *)&JobType) < 0) {
        Py_DECREF(&JobType);
        Py_DECREF(m);
        return NULL;
    }
    Py_INCREF(&TableContextType);
    if (PyModule_AddObject(m, "TableContext", (PyObject *)&TableContextType) < 0) {
        Py_DECREF(&TableContextType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
