"""The coinbase commitment to an announcement set (spec sections 11.4 and 18.5).

The coinbase carries a 48-byte commitment in an output whose script is
``0x6a 0x30 || commitment``:

=========  ==========================================
0..4       magic 0x0211f909 (bytes ``09 f9 11 02``)
4..8       annLeastWorkTarget (u32)
8..40      ann merkle root R (32 bytes)
40..48     annCount (u64)
=========  ==========================================
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from dataclasses import dataclass

COMMITMENT_MAGIC = 0x0211F909
COMMITMENT_SIZE = 48
SCRIPT_PREFIX = bytes([0x6A, 0x30]) + struct.pack("<I", COMMITMENT_MAGIC)
"""``OP_RETURN``, push 48, then the magic: what pktd looks for (``6a 30 09 f9 11 02``)."""

PLACEHOLDER_SCRIPT = bytes([0x6A, 0x30]) + struct.pack("<I", COMMITMENT_MAGIC) + b"\xfc" * 44
"""What block miners put in the coinbase template before the ann set is known."""

_STRUCT = struct.Struct("<II32sQ")


@dataclass(frozen=True)
class Commitment:
    """A parsed commitment."""

    ann_least_work_target: int
    merkle_root: bytes
    ann_count: int
    magic: int = COMMITMENT_MAGIC

    def to_bytes(self) -> bytes:
        return _STRUCT.pack(
            self.magic, self.ann_least_work_target, self.merkle_root, self.ann_count
        )

    def output_script(self) -> bytes:
        return bytes([0x6A, 0x30]) + self.to_bytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> Commitment:
        if len(data) != COMMITMENT_SIZE:
            raise ValueError(f"a commitment is {COMMITMENT_SIZE} bytes")
        magic, target, root, count = _STRUCT.unpack(data)
        return cls(ann_least_work_target=target, merkle_root=root, ann_count=count, magic=magic)


def find_commitment(output_scripts: Iterable[bytes]) -> Commitment | None:
    """pktd's rule (section 18.5): the first script longer than 6 bytes starting with
    ``6a 30 09 f9 11 02``; the commitment is ``script[2:50]``, missing bytes read as zero."""
    for script in output_scripts:
        if len(script) > 6 and script.startswith(SCRIPT_PREFIX):
            body = script[2:50]
            return Commitment.from_bytes(body + bytes(COMMITMENT_SIZE - len(body)))
    return None
