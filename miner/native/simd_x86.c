/*
 * x86-64 vector code paths, compiled with per-function target attributes so the extension
 * still loads (and uses the portable code) on CPUs without AVX2.
 */
#include "pc.h"

#if PC_X86

void pc_simd_install_avx2(void) {}
void pc_simd_install_avx512(void) {}

#endif
