"""An in-process miner of real regtest blocks (sha256d proof of work at the pow limit: about
two hashes per block), with BIP158 filters, for the loopback test peer and the tests."""

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from spv.bip158 import build_basic_filter, filter_header
from spv.block import Block, merkle_root
from spv.bytes_io import ByteWriter
from spv.difficulty import required_bits, target_from_bits
from spv.hashes import sha256d
from spv.header import BlockHeader
from spv.params import REGTEST, NetworkParams
from spv.script import push_data
from spv.subsidy import block_subsidy
from spv.tx import OutPoint, Transaction, TxIn, TxOut

ANYONE_CAN_SPEND = b"\x51"  # OP_TRUE: outputs the test peer can spend without keys
# Regtest allows a min-difficulty block when it comes more than 20 minutes after its parent;
# spacing blocks 1201 s apart keeps every block at the pow limit (about two hashes each).
SPACING = 1201


def coinbase_tx(
    height: int, value: int, script: bytes, tag: bytes = b"", others: Sequence[bytes] = ()
) -> Transaction:
    """The coinbase paying `value` to `script`; with `others`, the value is shared: each of
    them gets an equal part (as a pool's coinbase pays its miners) and `script` the rest."""
    script_sig = push_data(height.to_bytes(4, "little").rstrip(b"\x00") or b"\x00") + push_data(
        b"/pkt-wallet-test/" + tag
    )
    txin = TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), script_sig, 0xFFFFFFFF)
    share = value // (len(others) + 1)
    outputs = (TxOut(value - share * len(others), script), *(TxOut(share, o) for o in others))
    return Transaction(1, (txin,), outputs, 0)


def mine_header(prev_hash: bytes, merkle: bytes, timestamp: int, bits: int) -> BlockHeader:
    target = target_from_bits(bits)
    w = ByteWriter().i32(0x20000000).write(prev_hash).write(merkle).u32(timestamp).u32(bits)
    prefix = w.getvalue()
    nonce = 0
    while True:
        raw = prefix + nonce.to_bytes(4, "little")
        if int.from_bytes(sha256d(raw), "little") <= target:
            return BlockHeader.parse(raw)
        nonce += 1


@dataclass
class ChainBlock:
    height: int
    block: Block
    raw: bytes
    filter: bytes
    filter_header: bytes

    @property
    def hash(self) -> bytes:
        return self.block.hash


@dataclass
class RegtestChain:
    """A chain of mined regtest blocks. `fork(height)` gives a new chain sharing a prefix."""

    params: NetworkParams = REGTEST
    blocks: list[ChainBlock] = field(default_factory=list)
    utxo_scripts: dict[OutPoint, bytes] = field(default_factory=dict)
    start_time: int = 0
    _values: dict[OutPoint, int] = field(default_factory=dict)
    base_height: int = 0  # height of blocks[0]
    base_filter_header: bytes = b"\x00" * 32  # filter header below blocks[0]

    def __post_init__(self) -> None:
        if not self.blocks:
            genesis = Block.parse(self.params.genesis_block, has_packetcrypt=False)
            filt = build_basic_filter(genesis, [])
            self.blocks.append(
                ChainBlock(
                    0, genesis, self.params.genesis_block, filt, filter_header(filt, b"\x00" * 32)
                )
            )
            for tx in genesis.transactions:
                for i, out in enumerate(tx.outputs):
                    self.utxo_scripts[OutPoint(tx.txid, i)] = out.script

    @property
    def height(self) -> int:
        return len(self.blocks) - 1

    @property
    def tip(self) -> ChainBlock:
        return self.blocks[-1]

    def next_time(self) -> int:
        if self.start_time == 0:
            self.start_time = int(time.time()) - 250_000 * SPACING
        return max(
            self.start_time + len(self.blocks) * SPACING, self.tip.block.header.timestamp + 1
        )

    def mine(
        self,
        txs: list[Transaction] | None = None,
        pay_to: bytes = ANYONE_CAN_SPEND,
        tag: bytes = b"",
        timestamp: int | None = None,
        coinbase_others: Sequence[bytes] = (),
    ) -> ChainBlock:
        """Mine the next block: `txs` after a coinbase paying `pay_to` (sharing the reward
        with `coinbase_others`, if any)."""
        height = len(self.blocks)
        txs = list(txs or [])
        prev_scripts = [self.utxo_scripts[i.prevout] for tx in txs for i in tx.inputs]
        fees = sum(self._input_value(i.prevout) for tx in txs for i in tx.inputs) - sum(
            o.value for tx in txs for o in tx.outputs
        )
        reward = block_subsidy(height, self.params) + fees
        coinbase = coinbase_tx(height, reward, pay_to, tag, coinbase_others)
        all_txs = (coinbase, *txs)
        merkle = merkle_root([t.txid for t in all_txs])
        ts = timestamp if timestamp is not None else self.next_time()
        bits = required_bits(self.params, height, ts, self._time_and_bits)
        header = mine_header(self.tip.hash, merkle, ts, bits)
        block = Block(header, None, all_txs)
        raw = block.serialize()
        filt = build_basic_filter(block, prev_scripts)
        cb = ChainBlock(height, block, raw, filt, filter_header(filt, self.tip.filter_header))
        self.blocks.append(cb)
        for tx in all_txs:
            for i in tx.inputs:
                self.utxo_scripts.pop(i.prevout, None)
            for n, out in enumerate(tx.outputs):
                self.utxo_scripts[OutPoint(tx.txid, n)] = out.script
                self._values[OutPoint(tx.txid, n)] = out.value
        return cb

    def _time_and_bits(self, height: int) -> tuple[int, int]:
        h = self.blocks[height].block.header
        return h.timestamp, h.bits

    def _input_value(self, prevout: OutPoint) -> int:
        return self._values[prevout]

    def value_of(self, prevout: OutPoint) -> int:
        return self._values[prevout]

    def mine_many(self, n: int, pay_to: bytes = ANYONE_CAN_SPEND) -> None:
        for _ in range(n):
            self.mine(pay_to=pay_to)

    def fork(self, height: int) -> "RegtestChain":
        """A copy of this chain truncated to `height` (UTXO view rebuilt)."""
        other = RegtestChain(self.params, [], {}, self.start_time)
        other.blocks, other.utxo_scripts, other._values = other.blocks[:1], {}, {}
        for cb in self.blocks[1 : height + 1]:
            other.blocks.append(cb)
            for tx in cb.block.transactions:
                for i in tx.inputs:
                    other.utxo_scripts.pop(i.prevout, None)
                for n, out in enumerate(tx.outputs):
                    other.utxo_scripts[OutPoint(tx.txid, n)] = out.script
                    other._values[OutPoint(tx.txid, n)] = out.value
        return other

    def headers_bytes(self, first: int, last: int) -> bytes:
        return b"".join(self.blocks[h].raw[:80] for h in range(first, last + 1))
