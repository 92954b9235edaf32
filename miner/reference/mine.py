"""The version-1 announcement mining loop (spec sections 8 and 9).

Per hard nonce (:func:`prepare_job`):

1. header template ``hdr`` (version 1, soft nonce 0, hard nonce, work_bits, parent height,
   content fields 0, signing key);
2. ``annHash0 = B512(hdr || parentHash || 0^32)``;
3. table1 from ``annHash0`` (progSeed = ``[0:32]``, itemSeed = ``[32:64]``);
4. merkle tree over table1, root ``R``;
5. ``annHash1 = B512(hdr || R)``; 6. ``seed2 = B512(R || annHash0)``;
7. table2 from ``seed2`` (used only for lookups, so it is computed lazily here).

Per soft nonce n = 0..SNM (:func:`hash_nonce`): ``S = init(annHash1[0:32], n)``; 4 times
``update(S, table2[itemNo(S)])``; ``final(S)``; n is a solution when ``LE256(S[0:32]) <
target`` (strict). A solution becomes an announcement carrying the table1 merkle branch of the
4th lookup, encrypted with the final state (:func:`assemble_ann`).

A table can fail (program too big, or an item over 20000 RandHash ops); the miner then moves to
the next hard nonce (:func:`mine_hard_nonces`).
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Protocol

from . import cryptocycle, difficulty
from .announce import (
    AnnHeader,
    ann_hash0,
    ann_hash1,
    assemble_plain,
    crypt_ann,
    table2_seed,
)
from .items import ItemTable, make_context, make_item
from .merkle import MerkleTree, build_tree
from .randgen import ProgramTooBigError
from .randhash import RandHashOpLimitError

LOOKUPS = 4
ANN_VERSION = 1


class TableBuildError(Exception):
    """A table of this hard nonce cannot be built; take the next hard nonce."""


@dataclass(frozen=True)
class AnnJob:
    """What a pool hands out (section 8) plus the hard nonce chosen by the miner."""

    parent_hash: bytes
    """Parent block hash, internal byte order (the reverse of the display hex)."""
    parent_height: int
    work_bits: int
    hard_nonce: int
    signing_key: bytes = bytes(32)

    def header(self, soft_nonce: int = 0) -> AnnHeader:
        return AnnHeader(
            version=ANN_VERSION,
            soft_nonce=soft_nonce,
            hard_nonce=self.hard_nonce,
            work_bits=self.work_bits,
            parent_block_height=self.parent_height,
            signing_key=self.signing_key,
        )

    def with_hard_nonce(self, hard_nonce: int) -> AnnJob:
        return AnnJob(
            self.parent_hash, self.parent_height, self.work_bits, hard_nonce, self.signing_key
        )


def _compute_items(prog_seed: bytes, item_seed: bytes, start: int, stop: int) -> list[bytes]:
    """Items ``start..stop-1`` of one table (a unit of work for :func:`build_table`)."""
    try:
        ctx = make_context(prog_seed)
        return [make_item(ctx, i, item_seed) for i in range(start, stop)]
    except (ProgramTooBigError, RandHashOpLimitError) as exc:
        raise TableBuildError(str(exc)) from exc


def build_table(prog_seed: bytes, item_seed: bytes, workers: int = 1) -> list[bytes]:
    """All 8192 items of a table, optionally spread over ``workers`` processes.

    Raises :class:`TableBuildError` when the program or any item fails.
    """
    size = cryptocycle.TABLE_SIZE
    if workers <= 1:
        return _compute_items(prog_seed, item_seed, 0, size)
    chunk = -(-size // (4 * workers))
    bounds = [(start, min(start + chunk, size)) for start in range(0, size, chunk)]
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers) as pool:
        parts = pool.map(
            _compute_items,
            [prog_seed] * len(bounds),
            [item_seed] * len(bounds),
            [b[0] for b in bounds],
            [b[1] for b in bounds],
        )
        return [item for part in parts for item in part]


@dataclass
class PreparedJob:
    """Everything computed once per hard nonce (section 9 steps 1 to 7)."""

    job: AnnJob
    header: bytes
    """The 88-byte header with soft nonce 0."""
    ann_hash0: bytes
    table1: list[bytes]
    tree: MerkleTree
    ann_hash1: bytes
    seed2: bytes
    table2: ItemTable
    soft_nonce_max: int

    @property
    def merkle_root(self) -> bytes:
        return self.tree.root


def prepare_job(job: AnnJob, workers: int = 1) -> PreparedJob:
    """Build table1, its tree and (lazily) table2 for one hard nonce.

    Raises :class:`TableBuildError` if either table fails. Table2 items are computed on first
    use; an item that fails then raises ``RandHashOpLimitError`` from the nonce loop.
    """
    header = job.header().to_bytes()
    hash0 = ann_hash0(header, job.parent_hash)
    table1 = build_table(hash0[:32], hash0[32:], workers)
    tree = build_tree(table1)
    hash1 = ann_hash1(header, tree.root)
    seed2 = table2_seed(tree.root, hash0)
    try:
        table2 = ItemTable(seed2[:32], seed2[32:])
    except ProgramTooBigError as exc:
        raise TableBuildError(str(exc)) from exc
    return PreparedJob(
        job=job,
        header=header,
        ann_hash0=hash0,
        table1=table1,
        tree=tree,
        ann_hash1=hash1,
        seed2=seed2,
        table2=table2,
        soft_nonce_max=difficulty.soft_nonce_max(job.work_bits),
    )


@dataclass(frozen=True)
class NonceResult:
    """The outcome of hashing one soft nonce."""

    soft_nonce: int
    item_nos: tuple[int, ...]
    work_hash: bytes
    final_state: bytes
    """The 2048-byte state after ``final`` (its first 32 bytes are the work hash)."""


class ItemLookup(Protocol):
    """Anything indexable by item number: a list of 8192 items or a lazy :class:`ItemTable`."""

    def __getitem__(self, index: int, /) -> bytes: ...


def hash_nonce(ann_hash1_seed: bytes, table2: ItemLookup, soft_nonce: int) -> NonceResult:
    """Section 9 step 8 for one soft nonce: init, 4 lookups and updates, final."""
    state = cryptocycle.init(ann_hash1_seed, soft_nonce)
    item_nos = []
    for _ in range(LOOKUPS):
        index = cryptocycle.item_no(state)
        item_nos.append(index)
        cryptocycle.update(state, table2[index])
    work_hash = cryptocycle.final(state)
    return NonceResult(soft_nonce, tuple(item_nos), work_hash, bytes(state))


@dataclass(frozen=True)
class MinedAnn:
    """A solution and its announcement (``ann`` encrypted, ``plain`` before encryption)."""

    soft_nonce: int
    work_hash: bytes
    item_nos: tuple[int, ...]
    plain: bytes
    ann: bytes


def assemble_ann(prepared: PreparedJob, result: NonceResult) -> MinedAnn:
    """Section 9 steps 9 and 10: header with the soft nonce, branch of idx_3, R, encryption."""
    header = prepared.job.header(result.soft_nonce)
    siblings = prepared.tree.branch(result.item_nos[-1])
    plain = assemble_plain(header, siblings, prepared.tree.root)
    return MinedAnn(
        soft_nonce=result.soft_nonce,
        work_hash=result.work_hash,
        item_nos=result.item_nos,
        plain=plain,
        ann=crypt_ann(plain, result.final_state),
    )


def mine_anns(
    prepared: PreparedJob, start_nonce: int = 0, stop_nonce: int | None = None
) -> Iterator[MinedAnn]:
    """Scan soft nonces ``start_nonce`` up to ``min(stop_nonce, SNM + 1)`` in increasing order."""
    end = prepared.soft_nonce_max + 1
    if stop_nonce is not None:
        end = min(end, stop_nonce)
    target = difficulty.compact_to_target(prepared.job.work_bits)
    seed = prepared.ann_hash1[:32]
    for soft_nonce in range(start_nonce, end):
        result = hash_nonce(seed, prepared.table2, soft_nonce)
        if difficulty.le256(result.work_hash) < target:
            yield assemble_ann(prepared, result)


def mine_hard_nonces(
    base_job: AnnJob, hard_nonces: Iterable[int], workers: int = 1
) -> Iterator[MinedAnn]:
    """Mine each hard nonce in turn (section 9 step 11), skipping hard nonces whose tables fail.

    Per section 8, worker w of n uses hard nonces ``minerId + w``, ``minerId + w + n``, ...
    Table2 is lazy here, so a failing table2 item surfaces only when a nonce looks it up; the
    scan of that hard nonce then stops (anns already yielded stay valid: a validator computes
    only the 4 items an ann uses).
    """
    for hard_nonce in hard_nonces:
        try:
            prepared = prepare_job(base_job.with_hard_nonce(hard_nonce & 0xFFFFFFFF), workers)
        except TableBuildError:
            continue
        try:
            yield from mine_anns(prepared)
        except RandHashOpLimitError:
            continue
