/*
 * Compiler compatibility for the PacketCrypt kernel: GCC/Clang, MSVC, and a "portable" mode.
 *
 * Every compiler-specific feature the kernel uses goes through this header:
 *
 *   PC_INLINE, PC_LIKELY/PC_UNLIKELY, PC_ALIGN(n), PC_RESTRICT, PC_PREFETCH(p)
 *   pc_clz32/pc_ctz32 (argument != 0), pc_bswap32
 *   pc_u128 with pc_mul_64x64 (full unsigned product), pc_add_128, pc_add_128_64, pc_lo64,
 *   pc_hi64, pc_shr_128_lo (low 64 bits of x >> n, 0 < n < 64)
 *   PC_COMPUTED_GOTO (1: randhash.c dispatches with GNU labels-as-values; 0: a switch)
 *   PC_X86 (1: simd_x86.c's AVX2/AVX-512 paths with GNU target attributes and run-time
 *   detection by __builtin_cpu_supports; 0: the portable C code only)
 *
 * GCC and Clang keep what the kernel always used (unsigned __int128, __builtin_*, computed
 * goto, target attributes): the same machine code as before this header existed.
 *
 * MSVC uses its intrinsics (_BitScanReverse/_BitScanForward/_byteswap_ulong, _umul128 on x64,
 * __umulh on ARM64, _mm_prefetch), a switch dispatch, and the portable C code paths only
 * (PC_X86 = 0: no AVX2/AVX-512, simd() reports "portable").
 *
 * PC_FORCE_PORTABLE (defined on the command line) makes GCC/Clang take the non-GNU paths as
 * well: switch dispatch, the two-uint64 pc_u128 with 32-bit-half multiplication, plain-C
 * clz/ctz/bswap, no prefetch, no SIMD. setup.py builds miner._kernel_portable that way so the
 * tests prove those paths bit-exact on Linux. (MSVC's _umul128/__umulh and _BitScan* forms
 * are not covered by that build.)
 */
#ifndef PC_COMPAT_H
#define PC_COMPAT_H

#include <stdint.h>

#if defined(_MSC_VER) && !defined(__clang__)
#define PC_MSVC 1
#include <intrin.h>
#include <stdlib.h>
#else
#define PC_MSVC 0
#endif

#if defined(__GNUC__) && !defined(PC_FORCE_PORTABLE)
#define PC_GNU 1
#else
#define PC_GNU 0
#endif

/* ---- inlining, branch hints, alignment ------------------------------------------------------ */

#if defined(__GNUC__)
#define PC_INLINE static inline __attribute__((always_inline))
#define PC_LIKELY(x) __builtin_expect(!!(x), 1)
#define PC_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define PC_ALIGN(n) __attribute__((aligned(n)))
#elif PC_MSVC
#define PC_INLINE static __forceinline
#define PC_LIKELY(x) (x)
#define PC_UNLIKELY(x) (x)
/* PC_ALIGN follows the declarator, where MSVC takes no __declspec(align); the portable code
 * paths read and write through memcpy, so alignment is only a speed hint there */
#define PC_ALIGN(n)
#else
#define PC_INLINE static inline
#define PC_LIKELY(x) (x)
#define PC_UNLIKELY(x) (x)
#define PC_ALIGN(n)
#endif

/* MSVC before C11 mode (/std:c11) has no `restrict` keyword, only __restrict (and defining
 * `restrict` itself would break the SDK's __declspec(restrict)). */
#if PC_MSVC
#define PC_RESTRICT __restrict
#else
#define PC_RESTRICT restrict
#endif

/* ---- prefetch (a hint: doing nothing is correct) --------------------------------------------- */

#if PC_GNU
#define PC_PREFETCH(p) __builtin_prefetch((p), 0, 3)
#elif PC_MSVC && (defined(_M_X64) || defined(_M_IX86))
#define PC_PREFETCH(p) _mm_prefetch((const char *)(p), _MM_HINT_T0)
#else
#define PC_PREFETCH(p) ((void)(p))
#endif

/* ---- bit counting, byte swap ----------------------------------------------------------------- */

#if PC_GNU
PC_INLINE uint32_t pc_clz32(uint32_t x) { return (uint32_t)__builtin_clz(x); }
PC_INLINE uint32_t pc_ctz32(uint32_t x) { return (uint32_t)__builtin_ctz(x); }
PC_INLINE uint32_t pc_bswap32(uint32_t x) { return __builtin_bswap32(x); }
#elif PC_MSVC && !defined(PC_FORCE_PORTABLE)
PC_INLINE uint32_t pc_clz32(uint32_t x) {
    unsigned long i;
    _BitScanReverse(&i, x);
    return 31u - (uint32_t)i;
}
PC_INLINE uint32_t pc_ctz32(uint32_t x) {
    unsigned long i;
    _BitScanForward(&i, x);
    return (uint32_t)i;
}
PC_INLINE uint32_t pc_bswap32(uint32_t x) { return (uint32_t)_byteswap_ulong(x); }
#else
/* x != 0 for clz/ctz (as for the builtins) */
PC_INLINE uint32_t pc_clz32(uint32_t x) {
    uint32_t n = 0;
    if (!(x & 0xffff0000u)) { n += 16; x <<= 16; }
    if (!(x & 0xff000000u)) { n += 8; x <<= 8; }
    if (!(x & 0xf0000000u)) { n += 4; x <<= 4; }
    if (!(x & 0xc0000000u)) { n += 2; x <<= 2; }
    if (!(x & 0x80000000u)) n += 1;
    return n;
}
PC_INLINE uint32_t pc_ctz32(uint32_t x) {
    uint32_t n = 0;
    if (!(x & 0x0000ffffu)) { n += 16; x >>= 16; }
    if (!(x & 0x000000ffu)) { n += 8; x >>= 8; }
    if (!(x & 0x0000000fu)) { n += 4; x >>= 4; }
    if (!(x & 0x00000003u)) { n += 2; x >>= 2; }
    if (!(x & 0x00000001u)) n += 1;
    return n;
}
PC_INLINE uint32_t pc_bswap32(uint32_t x) {
    return (x >> 24) | ((x >> 8) & 0x0000ff00u) | ((x << 8) & 0x00ff0000u) | (x << 24);
}
#endif

/* ---- 128-bit unsigned arithmetic --------------------------------------------------------------- */

#if PC_GNU && defined(__SIZEOF_INT128__)
#define PC_HAVE_INT128 1
typedef unsigned __int128 pc_u128;
/* macros, not inline functions: the expressions are exactly what the code wrote before (GCC
 * schedules the inline-function form differently) */
#define pc_mul_64x64(a, b) ((pc_u128)(uint64_t)(a) * (uint64_t)(b))
#define pc_add_128(a, b) ((pc_u128)(a) + (pc_u128)(b))
#define pc_add_128_64(a, b) ((pc_u128)(a) + (uint64_t)(b))
#define pc_lo64(a) ((uint64_t)(a))
#define pc_hi64(a) ((uint64_t)((pc_u128)(a) >> 64))
#define pc_shr_128_lo(a, n) ((uint64_t)((pc_u128)(a) >> (n)))
#define pc_make_128(hi, lo) (((pc_u128)(uint64_t)(hi) << 64) | (uint64_t)(lo))
#else
#define PC_HAVE_INT128 0
typedef struct {
    uint64_t lo, hi;
} pc_u128;
PC_INLINE pc_u128 pc_make_128(uint64_t hi, uint64_t lo) {
    pc_u128 r;
    r.lo = lo;
    r.hi = hi;
    return r;
}
#if PC_MSVC && defined(_M_X64) && !defined(PC_FORCE_PORTABLE)
PC_INLINE pc_u128 pc_mul_64x64(uint64_t a, uint64_t b) {
    pc_u128 r;
    r.lo = _umul128(a, b, &r.hi);
    return r;
}
#elif PC_MSVC && defined(_M_ARM64) && !defined(PC_FORCE_PORTABLE)
PC_INLINE pc_u128 pc_mul_64x64(uint64_t a, uint64_t b) {
    pc_u128 r;
    r.lo = a * b;
    r.hi = __umulh(a, b);
    return r;
}
#else
/* schoolbook with 32-bit halves: no partial sum overflows 64 bits */
PC_INLINE pc_u128 pc_mul_64x64(uint64_t a, uint64_t b) {
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10; /* < 3 * 2^32 */
    pc_u128 r;
    r.lo = (mid << 32) | (uint32_t)p00;
    r.hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
    return r;
}
#endif
PC_INLINE pc_u128 pc_add_128(pc_u128 a, pc_u128 b) {
    pc_u128 r;
    r.lo = a.lo + b.lo;
    r.hi = a.hi + b.hi + (r.lo < a.lo);
    return r;
}
PC_INLINE pc_u128 pc_add_128_64(pc_u128 a, uint64_t b) {
    pc_u128 r;
    r.lo = a.lo + b;
    r.hi = a.hi + (r.lo < a.lo);
    return r;
}
PC_INLINE uint64_t pc_lo64(pc_u128 a) { return a.lo; }
PC_INLINE uint64_t pc_hi64(pc_u128 a) { return a.hi; }
PC_INLINE uint64_t pc_shr_128_lo(pc_u128 a, unsigned n) { return (a.lo >> n) | (a.hi << (64 - n)); }
#endif

/* ---- interpreter dispatch, SIMD code paths ------------------------------------------------------ */

#if PC_GNU
#define PC_COMPUTED_GOTO 1
#else
#define PC_COMPUTED_GOTO 0
#endif

#if PC_GNU && (defined(__x86_64__) || defined(__i386__)) && defined(__SIZEOF_INT128__)
#define PC_X86 1
#else
#define PC_X86 0
#endif

#endif
