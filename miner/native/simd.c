/*
 * Run-time selection of the SIMD code paths. The portable C versions are always available;
 * x86-64 CPUs with AVX2 (and AVX-512) get the vector versions from simd_x86.c when it is
 * compiled by GCC or Clang (PC_X86, compat.h); MSVC and PC_FORCE_PORTABLE builds run the
 * portable code only and report "portable".
 */
#include "pc.h"

int pc_simd_level = PC_SIMD_PORTABLE;

#if PC_X86
void pc_simd_install_avx2(void);
void pc_simd_install_avx512(void);
#endif

int pc_simd_detect(void) {
#if PC_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw"))
        return PC_SIMD_AVX512;
    if (__builtin_cpu_supports("avx2")) return PC_SIMD_AVX2;
#endif
    return PC_SIMD_PORTABLE;
}

void pc_simd_select(int lvl) {
    int best = pc_simd_detect();
    if (lvl > best) lvl = best;
    chacha20_xor = chacha20_xor_portable;
    chacha20_polykey_xor = chacha20_polykey_xor_portable;
    poly1305_blocks_last = poly1305_blocks_last_portable;
    blake2b256_2048_x4 = blake2b256_2048_x4_portable;
#if PC_X86
    if (lvl >= PC_SIMD_AVX2) pc_simd_install_avx2();
    if (lvl >= PC_SIMD_AVX512) pc_simd_install_avx512();
#endif
    pc_simd_level = lvl;
}
