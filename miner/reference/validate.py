"""The announcement validator (spec section 10; pktd ``announce.CheckAnn``).

``validate_ann(ann, parent_hash)`` returns an :class:`AnnValidation`: ``ok`` with the work
hash, or the precise failure :class:`AnnCheck`. Steps, in pktd's order:

1. version rules (section 1.3): ANN_VERSION_NOT_ALLOWED, ANN_VERSION_MISMATCH;
2. annHash0, annHash1 from the header with the soft nonce zeroed;
3. soft nonce <= SNM(work_bits), else SOFT_NONCE_HIGH;
4. program of table2 from seed2, else BAD_PROGRAM;
5. init(annHash1[0:32], softNonce); 4 lookups, each item computed on the fly
   (BAD_PROGRAM_EXEC when RandHash exceeds its op limit); final;
6. decrypt; the item 4 prefix must be zero, else INVAL_ITEM4;
7. table1's program (BAD_PROGRAM0 / BAD_PROGRAM0_EXEC) and item idx_3; its merkle branch
   against R, else INVAL_MERKLE;
8. the work hash against work_bits, else INSUF_POW.

As in pktd, every version > 0 is validated with the version-1 rules (the version byte enters
annHash0, so a forged version shows up as INVAL_ITEM4). A version-0 ann (legacy MemoHash
items, section 6.2, only allowed with proof version <= 1) is not implemented by this reference
and gets UNSUPPORTED_VERSION.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from . import cryptocycle, difficulty
from .announce import (
    ANN_SIZE,
    HEADER_SIZE,
    ITEM4_PREFIX_START,
    MIN_V1_PARENT_HEIGHT,
    AnnHeader,
    ann_hash0,
    ann_hash1,
    crypt_ann,
    merkle_root_of,
    siblings_of,
    table2_seed,
)
from .items import ProgramContext, make_context, make_item
from .merkle import leaf_hash, verify_branch
from .randgen import ProgramTooBigError
from .randhash import RandHashOpLimitError

LOOKUPS = 4


class AnnCheck(Enum):
    """Validation outcome; the names are pktd's ``Validate_checkAnn_*`` suffixes."""

    OK = "OK"
    INVAL = "INVAL"
    """Malformed input (not 1024 bytes, bad parent hash length)."""
    ANN_VERSION_NOT_ALLOWED = "ANN_VERSION_NOT_ALLOWED"
    ANN_VERSION_MISMATCH = "ANN_VERSION_MISMATCH"
    UNSUPPORTED_VERSION = "UNSUPPORTED_VERSION"
    """Version 0 under proof version <= 1: legacy MemoHash anns, not implemented here."""
    SOFT_NONCE_HIGH = "SOFT_NONCE_HIGH"
    BAD_PROGRAM = "BAD_PROGRAM"
    BAD_PROGRAM_EXEC = "BAD_PROGRAM_EXEC"
    INVAL_ITEM4 = "INVAL_ITEM4"
    BAD_PROGRAM0 = "BAD_PROGRAM0"
    BAD_PROGRAM0_EXEC = "BAD_PROGRAM0_EXEC"
    INVAL_MERKLE = "INVAL_MERKLE"
    INSUF_POW = "INSUF_POW"


@dataclass(frozen=True)
class AnnValidation:
    """The result of :func:`validate_ann`.

    ``work_hash`` (internal byte order) is set once the hash is known, also for INSUF_POW,
    as pktd returns it too.
    """

    code: AnnCheck
    work_hash: bytes | None = None

    @property
    def ok(self) -> bool:
        return self.code is AnnCheck.OK

    @property
    def work_hash_display(self) -> str | None:
        """The work hash as pktd's ``checkpcann`` prints it (byte-reversed hex)."""
        return None if self.work_hash is None else self.work_hash[::-1].hex()


@dataclass
class ValidationTrace:
    """Intermediate values of a validation (filled as far as validation gets)."""

    ann_hash0: bytes = b""
    ann_hash1: bytes = b""
    seed2: bytes = b""
    soft_nonce_max: int = 0
    prog2_len: int = 0
    prog0_len: int = 0
    state_after_init: bytes = b""
    item_nos: list[int] = field(default_factory=list)
    items: list[bytes] = field(default_factory=list)
    states_after_update: list[bytes] = field(default_factory=list)
    final_state: bytes = b""
    decrypted_ann: bytes = b""
    item4: bytes = b""


def _check_version(header: AnnHeader, packetcrypt_version: int) -> AnnCheck | None:
    if header.version > 0 and header.parent_block_height < MIN_V1_PARENT_HEIGHT:
        return AnnCheck.ANN_VERSION_NOT_ALLOWED
    if packetcrypt_version > 1 and header.version == 0:
        return AnnCheck.ANN_VERSION_MISMATCH
    if header.version == 0:
        return AnnCheck.UNSUPPORTED_VERSION
    return None


def validate_ann(
    ann: bytes,
    parent_hash: bytes,
    packetcrypt_version: int = 2,
    trace: ValidationTrace | None = None,
) -> AnnValidation:
    """Validate one announcement against the hash of its parent block (internal order).

    ``packetcrypt_version`` is the block's PacketCrypt proof version (2 on mainnet today).
    The work check follows pktd (``target >= hash``); see :func:`difficulty.is_ok_pktd`.
    Pass a :class:`ValidationTrace` to collect intermediate values.
    """
    if len(ann) != ANN_SIZE or len(parent_hash) != 32:
        return AnnValidation(AnnCheck.INVAL)
    tr = trace if trace is not None else ValidationTrace()
    header = AnnHeader.from_bytes(ann)
    version_error = _check_version(header, packetcrypt_version)
    if version_error is not None:
        return AnnValidation(version_error)

    hdr = header.without_soft_nonce().to_bytes()
    assert len(hdr) == HEADER_SIZE
    root = merkle_root_of(ann)
    tr.ann_hash0 = hash0 = ann_hash0(hdr, parent_hash)
    tr.ann_hash1 = hash1 = ann_hash1(hdr, root)

    tr.soft_nonce_max = difficulty.soft_nonce_max(header.work_bits)
    if header.soft_nonce > tr.soft_nonce_max:
        return AnnValidation(AnnCheck.SOFT_NONCE_HIGH)

    tr.seed2 = seed2 = table2_seed(root, hash0)
    try:
        ctx2 = make_context(seed2[:32])
    except ProgramTooBigError:
        return AnnValidation(AnnCheck.BAD_PROGRAM)
    tr.prog2_len = len(ctx2.program)

    state = cryptocycle.init(hash1[:32], header.soft_nonce)
    tr.state_after_init = bytes(state)
    index = 0
    for _ in range(LOOKUPS):
        index = cryptocycle.item_no(state)
        try:
            item = make_item(ctx2, index, seed2[32:])
        except RandHashOpLimitError:
            return AnnValidation(AnnCheck.BAD_PROGRAM_EXEC)
        cryptocycle.update(state, item)
        tr.item_nos.append(index)
        tr.items.append(item)
        tr.states_after_update.append(bytes(state))
    work_hash = cryptocycle.final(state)
    tr.final_state = bytes(state)

    tr.decrypted_ann = plain = crypt_ann(ann, state)
    if any(plain[ITEM4_PREFIX_START:]):
        return AnnValidation(AnnCheck.INVAL_ITEM4, work_hash)

    try:
        ctx0: ProgramContext = make_context(hash0[:32])
    except ProgramTooBigError:
        return AnnValidation(AnnCheck.BAD_PROGRAM0, work_hash)
    tr.prog0_len = len(ctx0.program)
    try:
        tr.item4 = item4 = make_item(ctx0, index, hash0[32:])
    except RandHashOpLimitError:
        return AnnValidation(AnnCheck.BAD_PROGRAM0_EXEC, work_hash)
    if not verify_branch(leaf_hash(item4), index, siblings_of(plain), root):
        return AnnValidation(AnnCheck.INVAL_MERKLE, work_hash)

    if not difficulty.is_ok_pktd(work_hash, header.work_bits):
        return AnnValidation(AnnCheck.INSUF_POW, work_hash)
    return AnnValidation(AnnCheck.OK, work_hash)
