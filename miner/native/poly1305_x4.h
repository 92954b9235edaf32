/*
 * Poly1305 with four interleaved accumulators (26-bit limbs, AVX2 instructions), included by
 * simd_x86.c once per target: with AVX2 alone (16 vector registers) and with AVX-512VL, where
 * the compiler has 32 registers and keeps every limb, power and accumulator in one.
 * POLY_NAME and POLY_TARGET name the function and its target attribute.
 */
POLY_TARGET static void POLY_NAME(uint8_t tag[16], const uint8_t key[32],
                                             const uint8_t *msg, size_t nblocks,
                                             const uint8_t last[16]) {
    size_t n = nblocks + 1;
    if (n < 8) {
        poly1305_blocks_last_portable(tag, key, msg, nblocks, last);
        return;
    }
    /* r and its powers (clamped key, 44-bit limbs); r^3 and r^4 both only need r^2 */
    uint64_t t0 = ld64(key), t1 = ld64(key + 8);
    uint64_t r1[3] = {t0 & 0xffc0fffffffULL, ((t0 >> 44) | (t1 << 20)) & 0xfffffc0ffffULL,
                      (t1 >> 24) & 0x00ffffffc0fULL};
    uint64_t r2[3], r3[3], r4[3];
    fe_mul(r2, r1, r1);
    fe_mul(r3, r2, r1);
    fe_mul(r4, r2, r2);

    uint32_t l4[5], l3[5], l2[5], l1[5];
    fe_to26(l4, r4);
    fe_to26(l3, r3);
    fe_to26(l2, r2);
    fe_to26(l1, r1);
    __m256i R[5], S[5], P[5], PS[5], A[5];
    for (int i = 0; i < 5; i++) {
        R[i] = _mm256_set1_epi64x(l4[i]);
        S[i] = _mm256_set1_epi64x(5 * (uint64_t)l4[i]);
        /* lanes hold blocks 0, 2, 1, 3 of a chunk (see the loads below) */
        P[i] = _mm256_setr_epi64x(l4[i], l2[i], l3[i], l1[i]);
        PS[i] = _mm256_setr_epi64x(5 * (uint64_t)l4[i], 5 * (uint64_t)l2[i],
                                   5 * (uint64_t)l3[i], 5 * (uint64_t)l1[i]);
        A[i] = _mm256_setzero_si256();
    }
    const __m256i mask26 = _mm256_set1_epi64x(M26);

    /* The n blocks are preceded by `pad` zero blocks without the 2^128 bit, which leave h = 0,
     * so that they fill whole chunks of four. The first chunk (when padded) and the last one
     * (which holds the separate `last` block) are assembled in a buffer. */
    size_t pad = (4 - n % 4) % 4, chunks = (n + pad) / 4;
    const long long H = 1 << 24;
    const __m256i hib_all = _mm256_set1_epi64x(H);
    const __m256i hib_first = _mm256_setr_epi64x(pad > 0 ? 0 : H, pad > 2 ? 0 : H,
                                                 pad > 1 ? 0 : H, H);
    uint8_t tmp[64];
    for (size_t c = 0; c < chunks; c++) {
        const uint8_t *p;
        if ((c == 0 && pad) || c == chunks - 1) {
            for (size_t q = 0; q < 4; q++) {
                size_t k = 4 * c + q; /* block k of the padded stream */
                if (k < pad)
                    memset(tmp + 16 * q, 0, 16);
                else if (k - pad < nblocks)
                    memcpy(tmp + 16 * q, msg + 16 * (k - pad), 16);
                else
                    memcpy(tmp + 16 * q, last, 16);
            }
            p = tmp;
        } else {
            p = msg + 16 * (4 * c - pad);
        }
        const __m256i hibit = c == 0 ? hib_first : hib_all;
        __m256i x = _mm256_loadu_si256((const __m256i *)p);
        __m256i y = _mm256_loadu_si256((const __m256i *)(p + 32));
        __m256i lo = _mm256_unpacklo_epi64(x, y); /* low 64 bits of blocks 0, 2, 1, 3 */
        __m256i hi = _mm256_unpackhi_epi64(x, y);
        A[0] = _mm256_add_epi64(A[0], _mm256_and_si256(lo, mask26));
        A[1] = _mm256_add_epi64(A[1], _mm256_and_si256(_mm256_srli_epi64(lo, 26), mask26));
        A[2] = _mm256_add_epi64(
            A[2], _mm256_and_si256(
                      _mm256_or_si256(_mm256_srli_epi64(lo, 52), _mm256_slli_epi64(hi, 12)),
                      mask26));
        A[3] = _mm256_add_epi64(A[3], _mm256_and_si256(_mm256_srli_epi64(hi, 14), mask26));
        A[4] = _mm256_add_epi64(A[4], _mm256_or_si256(_mm256_srli_epi64(hi, 40), hibit));

        const __m256i *r = c == chunks - 1 ? P : R, *s = c == chunks - 1 ? PS : S;
        __m256i d0 = _mm256_mul_epu32(A[0], r[0]), d1 = _mm256_mul_epu32(A[0], r[1]);
        __m256i d2 = _mm256_mul_epu32(A[0], r[2]), d3 = _mm256_mul_epu32(A[0], r[3]);
        __m256i d4 = _mm256_mul_epu32(A[0], r[4]);
        d0 = _mm256_add_epi64(d0, _mm256_mul_epu32(A[1], s[4]));
        d1 = _mm256_add_epi64(d1, _mm256_mul_epu32(A[1], r[0]));
        d2 = _mm256_add_epi64(d2, _mm256_mul_epu32(A[1], r[1]));
        d3 = _mm256_add_epi64(d3, _mm256_mul_epu32(A[1], r[2]));
        d4 = _mm256_add_epi64(d4, _mm256_mul_epu32(A[1], r[3]));
        d0 = _mm256_add_epi64(d0, _mm256_mul_epu32(A[2], s[3]));
        d1 = _mm256_add_epi64(d1, _mm256_mul_epu32(A[2], s[4]));
        d2 = _mm256_add_epi64(d2, _mm256_mul_epu32(A[2], r[0]));
        d3 = _mm256_add_epi64(d3, _mm256_mul_epu32(A[2], r[1]));
        d4 = _mm256_add_epi64(d4, _mm256_mul_epu32(A[2], r[2]));
        d0 = _mm256_add_epi64(d0, _mm256_mul_epu32(A[3], s[2]));
        d1 = _mm256_add_epi64(d1, _mm256_mul_epu32(A[3], s[3]));
        d2 = _mm256_add_epi64(d2, _mm256_mul_epu32(A[3], s[4]));
        d3 = _mm256_add_epi64(d3, _mm256_mul_epu32(A[3], r[0]));
        d4 = _mm256_add_epi64(d4, _mm256_mul_epu32(A[3], r[1]));
        d0 = _mm256_add_epi64(d0, _mm256_mul_epu32(A[4], s[1]));
        d1 = _mm256_add_epi64(d1, _mm256_mul_epu32(A[4], s[2]));
        d2 = _mm256_add_epi64(d2, _mm256_mul_epu32(A[4], s[3]));
        d3 = _mm256_add_epi64(d3, _mm256_mul_epu32(A[4], s[4]));
        d4 = _mm256_add_epi64(d4, _mm256_mul_epu32(A[4], r[0]));
        /* partial carry in two interleaved chains (d3 -> d4 -> d0 -> d1 and d0 -> d1 -> d2
         * -> d3 -> d4); afterwards every limb is below 2^26 + 2^10 */
        __m256i c3 = _mm256_srli_epi64(d3, 26), c0 = _mm256_srli_epi64(d0, 26);
        d3 = _mm256_and_si256(d3, mask26);
        d0 = _mm256_and_si256(d0, mask26);
        d4 = _mm256_add_epi64(d4, c3);
        d1 = _mm256_add_epi64(d1, c0);
        __m256i c4 = _mm256_srli_epi64(d4, 26), c1 = _mm256_srli_epi64(d1, 26);
        d4 = _mm256_and_si256(d4, mask26);
        d1 = _mm256_and_si256(d1, mask26);
        d0 = _mm256_add_epi64(d0, _mm256_add_epi64(c4, _mm256_slli_epi64(c4, 2)));
        d2 = _mm256_add_epi64(d2, c1);
        c0 = _mm256_srli_epi64(d0, 26);
        __m256i c2 = _mm256_srli_epi64(d2, 26);
        d0 = _mm256_and_si256(d0, mask26);
        d2 = _mm256_and_si256(d2, mask26);
        d1 = _mm256_add_epi64(d1, c0);
        d3 = _mm256_add_epi64(d3, c2);
        c3 = _mm256_srli_epi64(d3, 26);
        d3 = _mm256_and_si256(d3, mask26);
        d4 = _mm256_add_epi64(d4, c3);
        A[0] = d0;
        A[1] = d1;
        A[2] = d2;
        A[3] = d3;
        A[4] = d4;
    }

    /* sum the four lanes, back to three limbs, finish as the portable code does */
    uint64_t L[5];
    for (int i = 0; i < 5; i++) {
        uint64_t lanes[4];
        _mm256_storeu_si256((__m256i *)lanes, A[i]);
        L[i] = lanes[0] + lanes[1] + lanes[2] + lanes[3];
    }
    for (int i = 0; i < 4; i++) {
        L[i + 1] += L[i] >> 26;
        L[i] &= M26;
    }
    uint64_t c = L[4] >> 26;
    L[4] &= M26;
    L[0] += c * 5;
    L[1] += L[0] >> 26;
    L[0] &= M26;
    u128 lo = (u128)L[0] + ((u128)L[1] << 26) + ((u128)L[2] << 52) + ((u128)L[3] << 78);
    uint64_t f0 = (uint64_t)lo & M44, f1 = (uint64_t)(lo >> 44) & M44;
    uint64_t f2 = (uint64_t)(lo >> 88) + (L[4] << 16);
    /* final reduction and the pad s, as in poly1305.c */
    c = f1 >> 44;
    f1 &= M44;
    f2 += c;
    c = f2 >> 42;
    f2 &= M42;
    f0 += c * 5;
    c = f0 >> 44;
    f0 &= M44;
    f1 += c;
    c = f1 >> 44;
    f1 &= M44;
    f2 += c;
    c = f2 >> 42;
    f2 &= M42;
    f0 += c * 5;
    c = f0 >> 44;
    f0 &= M44;
    f1 += c;
    uint64_t g0 = f0 + 5;
    c = g0 >> 44;
    g0 &= M44;
    uint64_t g1 = f1 + c;
    c = g1 >> 44;
    g1 &= M44;
    uint64_t g2 = f2 + c - (1ULL << 42);
    uint64_t mask = (g2 >> 63) - 1;
    f0 = (f0 & ~mask) | (g0 & mask);
    f1 = (f1 & ~mask) | (g1 & mask);
    f2 = (f2 & ~mask) | (g2 & mask);
    uint64_t k0 = ld64(key + 16), k1 = ld64(key + 24);
    f0 += k0 & M44;
    c = f0 >> 44;
    f0 &= M44;
    f1 += (((k0 >> 44) | (k1 << 20)) & M44) + c;
    c = f1 >> 44;
    f1 &= M44;
    f2 += ((k1 >> 24) & M42) + c;
    f2 &= M42;
    st64(tag, f0 | (f1 << 44));
    st64(tag + 8, (f1 >> 20) | (f2 << 24));
}
