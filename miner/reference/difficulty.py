"""Compact targets, work, the soft-nonce cap and work checks (spec sections 11, 18.4, 18.6).

A *compact* is Bitcoin's 32-bit floating encoding of a 256-bit target: exponent ``c >> 24``,
mantissa ``c & 0x7fffff``, sign bit 0x800000. Hashes are compared as little-endian 256-bit
integers (``LE256``).
"""

from __future__ import annotations

MAX_COMPACT = 0x207FFFFF
"""The easiest target either implementation accepts (C ``CB_MAX_TARGET``)."""

SOFT_NONCE_LIMIT = 0xFFFFFF
"""Soft nonces are 24 bits."""

ANN_WAIT_PERIOD = 3
"""An ann whose parent is at height p is usable from block p + 3 (C ``Conf.h``)."""

_TWO_256 = 1 << 256


def le256(hash32: bytes) -> int:
    """``LE256(x)``: 32 bytes read as a little-endian integer."""
    if len(hash32) != 32:
        raise ValueError("LE256 takes 32 bytes")
    return int.from_bytes(hash32, "little")


def compact_to_target(compact: int) -> int:
    """Decode a compact (Bitcoin ``CompactToBig``); negative when the sign bit is set."""
    exponent = compact >> 24
    mantissa = compact & 0x7FFFFF
    value = mantissa >> (8 * (3 - exponent)) if exponent <= 3 else mantissa << (8 * (exponent - 3))
    return -value if compact & 0x800000 else value


def target_to_compact(target: int) -> int:
    """Encode a non-negative target (Bitcoin ``BigToCompact``, section 18.4).

    The mantissa is truncated to 23 bits; 0 encodes as 0.
    """
    if target < 0:
        raise ValueError("negative targets are not encoded")
    if target == 0:
        return 0
    exponent = (target.bit_length() + 7) // 8
    shift = 8 * (exponent - 3)
    mantissa = target >> shift if shift >= 0 else target << -shift
    if mantissa & 0x800000:
        mantissa >>= 8
        exponent += 1
    return (exponent << 24) | mantissa


def work_for_target(target: int) -> int:
    """``work(T) = 2^256 // (T + 1)``: expected hashes to meet ``target``."""
    return _TWO_256 // (target + 1)


def target_for_work(work: int) -> int:
    """``tfw(W) = (2^256 - W) // W``; ``2^256`` for zero work."""
    if work == 0:
        return _TWO_256
    return (_TWO_256 - work) // work


def _log2_floor(value: int) -> int:
    """floor(log2(value)); -1 for 0 (Go ``bits.Len64(x) - 1``)."""
    return value.bit_length() - 1


def soft_nonce_max(compact: int) -> int:
    """SNM(c), the highest soft nonce allowed for work_bits ``c`` (section 11.2, pktd ``Pc2AnnSoftNonceMax``).

    ``bits = (22 - floor(log2(c & 0x7fffff))) + 8 * (0x20 - (c >> 24)) + 10``;
    ``0xFFFFFF`` if bits >= 24, else ``0xFFFFFF >> (24 - bits)``. (A zero mantissa, which
    no usable target has, is taken as log2 = -1, giving the cap.)
    """
    bits = 22 - _log2_floor(compact & 0x7FFFFF) + 8 * (0x20 - (compact >> 24)) + 10
    if bits >= 24:
        return SOFT_NONCE_LIMIT
    if bits <= 0:
        return 0
    return SOFT_NONCE_LIMIT >> (24 - bits)


def meets_target(hash32: bytes, compact: int) -> bool:
    """Mining check: ``LE256(hash) < target(compact)`` (strict, as the C miner; section 10 step 8)."""
    return le256(hash32) < compact_to_target(compact)


def is_ok_pktd(hash32: bytes, compact: int) -> bool:
    """pktd ``difficulty.IsOk``: ``target >= LE256(hash)`` (accepts hash == target)."""
    return compact_to_target(compact) >= le256(hash32)


def work_check_c(hash32: bytes, compact: int) -> bool:
    """C ``Work_check`` (PacketCrypt 1b76e1a): strict ``<`` on the 3 significant bytes.

    Fails when ``compact > 0x207fffff`` or the sign bit is set; otherwise requires bytes
    ``e..31`` of the hash to be zero and ``hash[e-1]<<16 | hash[e-2]<<8 | hash[e-3] < m``.
    For ``e >= 3`` this equals ``LE256(hash) < target``; for ``e < 3`` (which the C would
    index out of bounds) that numeric comparison is used.
    """
    if compact > MAX_COMPACT or compact & 0x800000:
        return False
    exponent = compact >> 24
    mantissa = compact & 0x7FFFFF
    if exponent < 3:
        return le256(hash32) < compact_to_target(compact)
    if any(hash32[exponent:]):
        return False
    significant = hash32[exponent - 1] << 16 | hash32[exponent - 2] << 8 | hash32[exponent - 3]
    return significant < mantissa


def aged_ann_target(
    work_bits: int, block_height: int, parent_height: int, packetcrypt_version: int
) -> int:
    """The aged target of an ann in a block (pktd ``GetAgedAnnTarget``, sections 11.3, 18.6).

    ``0xFFFFFFFF`` means "unusable". The result is compared with the commitment's
    annLeastWorkTarget as an unsigned 32-bit integer, not as a target.
    """
    if block_height < ANN_WAIT_PERIOD:
        return work_bits
    age = (block_height - parent_height) & 0xFFFFFFFF
    if age < ANN_WAIT_PERIOD:
        return 0xFFFFFFFF
    target = compact_to_target(work_bits)
    if packetcrypt_version >= 2:
        if age == ANN_WAIT_PERIOD:
            return work_bits
        shift = age - ANN_WAIT_PERIOD
        if target.bit_length() + shift > 255:  # check before shifting: age may be ~2^32
            return 0xFFFFFFFF
        return target_to_compact(target << shift)
    if age == ANN_WAIT_PERIOD:
        return target_to_compact(target)
    aged = target_to_compact(target_for_work(work_for_target(target) // (age - ANN_WAIT_PERIOD)))
    return 0xFFFFFFFF if aged > MAX_COMPACT else aged


def effective_block_target(
    block_bits: int, ann_least_work_target: int, ann_count: int, packetcrypt_version: int
) -> int:
    """Compact effective block target (pktd ``GetEffectiveTarget``, sections 11.4, 18.4).

    Raises ``ValueError`` in the "impossible" case of an effective work above 2^256, which
    needs a block work above 2^88 and which this reference does not model.
    """
    block_work = work_for_target(compact_to_target(block_bits))
    ann_work = work_for_target(compact_to_target(ann_least_work_target))
    if ann_work == 0 or ann_count == 0:
        effective_work = _TWO_256 - 1
    elif packetcrypt_version >= 2:
        effective_work = ((block_work**3 >> 10) // ann_work) // (ann_count * ann_count)
    else:
        effective_work = (block_work**3 // ann_work) // ann_count
    if effective_work > _TWO_256:
        raise ValueError("effective work above 2^256: no hash can pass")
    compact = target_to_compact(target_for_work(effective_work))
    return min(compact, MAX_COMPACT)
