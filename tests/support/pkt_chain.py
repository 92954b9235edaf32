"""Synthetic PKT-mainnet-format blocks on top of the newest real checkpoint, for tests that run
the light client with MAINNET parameters.

The blocks have the PKT layout (header, a PacketCrypt proof record, transactions) and follow
the header rules a light client checks (linkage, median time, bits equal to the parent's), but
their PacketCrypt proofs are placeholders: the light client parses and keeps proofs without
validating them (see SpvNode.verify_packetcrypt_proofs).
"""

from spv.bip158 import build_basic_filter, filter_header
from spv.block import Block, PacketCryptProof, ProofRecord, merkle_root
from spv.hashes import sha256d
from spv.header import BlockHeader
from spv.params import MAINNET
from spv.subsidy import block_subsidy, network_steward_share
from spv.tx import OutPoint

from .regtest_chain import ChainBlock, RegtestChain, coinbase_tx

CHECKPOINT = MAINNET.checkpoints[-1]
BITS = 0x1D2991AD
SPACING = 60


class PktChain(RegtestChain):
    """Blocks from height CHECKPOINT.height + 1 on, in PKT format."""

    def __init__(self, start_time: int = 1_581_000_000) -> None:
        super().__init__(MAINNET, [], {}, start_time)

    def __post_init__(self) -> None:
        self.base_height = CHECKPOINT.height + 1
        self.base_filter_header = sha256d(b"filter header at the checkpoint (synthetic)")

    @property
    def height(self) -> int:
        return self.base_height + len(self.blocks) - 1

    def mine(  # type: ignore[override]
        self, pay_to: bytes = b"\x51", tag: bytes = b"", timestamp: int | None = None, **_: object
    ) -> ChainBlock:
        height = self.height + 1
        prev_hash = self.blocks[-1].hash if self.blocks else CHECKPOINT.block_hash
        prev_fh = self.blocks[-1].filter_header if self.blocks else self.base_filter_header
        cb = coinbase_tx(height, block_subsidy(height, MAINNET), pay_to, tag)
        ns = network_steward_share(height, MAINNET)
        outputs = (
            cb.outputs[0].__class__(cb.outputs[0].value - ns, pay_to),
            cb.outputs[0].__class__(ns, MAINNET.network_steward_script),
        )
        coinbase = cb.__class__(cb.version, cb.inputs, outputs, cb.locktime)
        ts = timestamp if timestamp is not None else self.start_time + len(self.blocks) * SPACING
        header = BlockHeader(0x20000000, prev_hash, merkle_root([coinbase.txid]), ts, BITS, height)
        ann = bytearray(1024)
        ann[0] = 1  # version 1, parent = the previous block: parseable, but no real work
        ann[12:16] = (height - 1).to_bytes(4, "little")
        pcp = height.to_bytes(4, "little") + bytes(ann) * 4 + b"\x01" * 64
        proof = PacketCryptProof((ProofRecord(1, pcp), ProofRecord(4, b"\x02")), 0)
        block = Block(header, proof, (coinbase,))
        raw = block.serialize()
        filt = build_basic_filter(block, [])
        chain_block = ChainBlock(height, block, raw, filt, filter_header(filt, prev_fh))
        self.blocks.append(chain_block)
        for n, out in enumerate(coinbase.outputs):
            self.utxo_scripts[OutPoint(coinbase.txid, n)] = out.script
            self._values[OutPoint(coinbase.txid, n)] = out.value
        return chain_block
