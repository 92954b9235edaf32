"""Transactions with BIP144 segwit serialization: parse, serialize, txid, wtxid, weight."""

from dataclasses import dataclass, field
from functools import cached_property

from .bytes_io import ByteReader, ByteWriter
from .errors import NonCanonicalError, ParseError
from .hashes import hash_to_display, sha256d

MAX_TX_SIZE = 4_000_000  # a transaction can never exceed the block weight limit
_MIN_TXIN_SIZE = 41
_MIN_TXOUT_SIZE = 9
COINBASE_PREV_INDEX = 0xFFFFFFFF


@dataclass(frozen=True)
class OutPoint:
    txid: bytes  # internal order
    index: int

    def __str__(self) -> str:
        return f"{hash_to_display(self.txid)}:{self.index}"


@dataclass(frozen=True)
class TxIn:
    prevout: OutPoint
    script_sig: bytes
    sequence: int
    witness: tuple[bytes, ...] = ()


@dataclass(frozen=True)
class TxOut:
    value: int  # units, signed 64-bit on the wire
    script: bytes


@dataclass(frozen=True)
class Transaction:
    version: int
    inputs: tuple[TxIn, ...]
    outputs: tuple[TxOut, ...]
    locktime: int
    _cache: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    # --- parsing ---

    @classmethod
    def read(cls, reader: ByteReader) -> "Transaction":
        version = reader.i32()
        n_in = reader.compact_size(reader.remaining // _MIN_TXIN_SIZE + 1)
        segwit = False
        if n_in == 0:
            flag = reader.u8()
            if flag != 1:
                raise ParseError(f"unknown transaction serialization flag {flag}")
            segwit = True
            n_in = reader.compact_size(reader.remaining // _MIN_TXIN_SIZE)
            if n_in == 0:
                raise ParseError("segwit transaction with no inputs")
        inputs = [cls._read_input(reader) for _ in range(n_in)]
        n_out = reader.compact_size(reader.remaining // _MIN_TXOUT_SIZE)
        outputs = [TxOut(reader.i64(), reader.var_bytes(reader.remaining)) for _ in range(n_out)]
        if segwit:
            with_witness = []
            for txin in inputs:
                n_items = reader.compact_size(reader.remaining)
                items = tuple(reader.var_bytes(reader.remaining) for _ in range(n_items))
                with_witness.append(TxIn(txin.prevout, txin.script_sig, txin.sequence, items))
            inputs = with_witness
        locktime = reader.u32()
        return cls(version, tuple(inputs), tuple(outputs), locktime)

    @staticmethod
    def _read_input(reader: ByteReader) -> TxIn:
        prevout = OutPoint(reader.hash32(), reader.u32())
        script_sig = reader.var_bytes(reader.remaining)
        return TxIn(prevout, script_sig, reader.u32())

    @classmethod
    def parse(cls, data: bytes) -> "Transaction":
        """Parse exactly one transaction; trailing bytes are an error."""
        if len(data) > MAX_TX_SIZE:
            raise ParseError(f"transaction of {len(data)} bytes exceeds {MAX_TX_SIZE}")
        reader = ByteReader(data)
        tx = cls.read(reader)
        reader.expect_end("transaction")
        if tx.serialize() != data and tx.serialize_no_witness() != data:
            # Only a segwit marker with all-empty witnesses reaches here.
            raise NonCanonicalError("segwit marker present but no input has a witness")
        return tx

    # --- serialization ---

    @property
    def has_witness(self) -> bool:
        return any(txin.witness for txin in self.inputs)

    def write(self, w: ByteWriter, include_witness: bool = True) -> None:
        segwit = include_witness and self.has_witness
        w.i32(self.version)
        if segwit:
            w.u8(0).u8(1)
        w.compact_size(len(self.inputs))
        for txin in self.inputs:
            w.write(txin.prevout.txid).u32(txin.prevout.index)
            w.var_bytes(txin.script_sig).u32(txin.sequence)
        w.compact_size(len(self.outputs))
        for txout in self.outputs:
            w.i64(txout.value).var_bytes(txout.script)
        if segwit:
            for txin in self.inputs:
                w.compact_size(len(txin.witness))
                for item in txin.witness:
                    w.var_bytes(item)
        w.u32(self.locktime)

    def serialize(self) -> bytes:
        cached = self._cache.get("full")
        if cached is None:
            w = ByteWriter()
            self.write(w, include_witness=True)
            cached = self._cache["full"] = w.getvalue()
        return cached

    def serialize_no_witness(self) -> bytes:
        cached = self._cache.get("base")
        if cached is None:
            if not self.has_witness:
                cached = self.serialize()
            else:
                w = ByteWriter()
                self.write(w, include_witness=False)
                cached = w.getvalue()
            self._cache["base"] = cached
        return cached

    # --- identities and sizes ---

    @cached_property
    def txid(self) -> bytes:
        """Internal-order txid (hash of the serialization without witness)."""
        return sha256d(self.serialize_no_witness())

    @cached_property
    def wtxid(self) -> bytes:
        return sha256d(self.serialize())

    @property
    def txid_hex(self) -> str:
        return hash_to_display(self.txid)

    @property
    def wtxid_hex(self) -> str:
        return hash_to_display(self.wtxid)

    @property
    def size(self) -> int:
        return len(self.serialize())

    @property
    def weight(self) -> int:
        return len(self.serialize_no_witness()) * 3 + len(self.serialize())

    @property
    def vsize(self) -> int:
        return (self.weight + 3) // 4

    def is_coinbase(self) -> bool:
        return (
            len(self.inputs) == 1
            and self.inputs[0].prevout.index == COINBASE_PREV_INDEX
            and self.inputs[0].prevout.txid == b"\x00" * 32
        )
