"""Compact difficulty bits, chain work, and the retarget rule (Bitcoin's, with PKT's numbers).

PKT's proof of work is PacketCrypt: the sha256d header hash is never compared with the target.
Headers are checked for 0 < target(bits) <= pow limit and, where the rule is deterministic,
for bits equal to the required value computed here.
"""

from collections.abc import Callable

from .errors import ValidationError
from .params import NetworkParams

# (timestamp, bits) of the header at a height; used to walk the chain backwards.
HeaderAt = Callable[[int], tuple[int, int]]


def target_from_bits(bits: int) -> int:
    """Expand compact bits into a target; negative encodings give a negative number."""
    exponent = bits >> 24
    mantissa = bits & 0x007FFFFF
    target = mantissa >> 8 * (3 - exponent) if exponent <= 3 else mantissa << 8 * (exponent - 3)
    if bits & 0x00800000 and mantissa:
        target = -target
    return target


def bits_from_target(target: int) -> int:
    """Compact encoding of a non-negative target (Bitcoin's BigToCompact)."""
    if target < 0:
        raise ValueError("target cannot be negative")
    if target == 0:
        return 0
    size = (target.bit_length() + 7) // 8
    mantissa = target << 8 * (3 - size) if size <= 3 else target >> 8 * (size - 3)
    if mantissa & 0x00800000:  # keep the sign bit clear
        mantissa >>= 8
        size += 1
    return (size << 24) | mantissa


def work_from_bits(bits: int) -> int:
    """Expected hashes for a block at this difficulty: 2^256 / (target + 1); 0 if invalid."""
    target = target_from_bits(bits)
    if target <= 0:
        return 0
    return (1 << 256) // (target + 1)


def check_bits_range(bits: int, params: NetworkParams) -> None:
    """Raise ValidationError unless 0 < target(bits) <= the network's pow limit."""
    target = target_from_bits(bits)
    if target <= 0:
        raise ValidationError(f"header bits {bits:#010x} give a non-positive target")
    if target > params.pow_limit:
        raise ValidationError(f"header bits {bits:#010x} are easier than the pow limit")


def check_header_pow_sha256d(header_hash: bytes, bits: int) -> bool:
    """Bitcoin's rule, for Bitcoin-flavoured networks only (regtest); never for PKT."""
    return int.from_bytes(header_hash, "little") <= target_from_bits(bits)


def _min_difficulty_applies(params: NetworkParams, prev_height: int) -> bool:
    if params.reduce_min_difficulty:
        return True
    return prev_height < params.pkt_min_difficulty_below_height


def required_bits(
    params: NetworkParams, new_height: int, new_time: int, header_at: HeaderAt
) -> int:
    """The bits a header at `new_height` with timestamp `new_time` must carry.

    `header_at(h)` returns (timestamp, bits) of the ancestor at height h < new_height and is
    only asked for heights the rule needs (the previous block, a retarget window start, or a
    walk back over min-difficulty blocks).
    """
    if new_height <= 0:
        return params.pow_limit_bits
    interval = params.blocks_per_retarget
    prev_height = new_height - 1
    prev_time, prev_bits = header_at(prev_height)
    if new_height % interval != 0:
        if _min_difficulty_applies(params, prev_height):
            if new_time > prev_time + params.min_diff_reduction_time:
                return params.pow_limit_bits
            return _last_non_min_difficulty_bits(params, prev_height, prev_bits, header_at)
        return prev_bits
    first_time, _ = header_at(new_height - interval)
    return retarget_bits(params, prev_bits, prev_time - first_time)


def retarget_bits(params: NetworkParams, prev_bits: int, timespan: int) -> int:
    """New bits at a retarget boundary, given the last block's bits and the window's timespan
    (time of the last block minus time of the block 2015 before it)."""
    lo = params.target_timespan // params.retarget_adjustment_factor
    hi = params.target_timespan * params.retarget_adjustment_factor
    timespan = min(max(timespan, lo), hi)
    new_target = target_from_bits(prev_bits) * timespan // params.target_timespan
    new_target = min(new_target, params.pow_limit)
    return bits_from_target(new_target)


def _last_non_min_difficulty_bits(
    params: NetworkParams, height: int, bits: int, header_at: HeaderAt
) -> int:
    interval = params.blocks_per_retarget
    while height > 0 and height % interval != 0 and bits == params.pow_limit_bits:
        height -= 1
        _, bits = header_at(height)
    return bits
