"""The 80-byte block header."""

from dataclasses import dataclass, field

from .bytes_io import ByteReader, ByteWriter
from .errors import TrailingDataError, TruncatedError
from .hashes import hash_to_display, sha256d

HEADER_SIZE = 80


@dataclass(frozen=True)
class BlockHeader:
    version: int  # signed 32-bit
    prev_hash: bytes  # internal order
    merkle_root: bytes  # internal order
    timestamp: int  # u32 seconds
    bits: int  # compact target
    nonce: int  # u32
    hash: bytes = field(init=False, compare=False, repr=False)  # internal order

    def __post_init__(self) -> None:
        object.__setattr__(self, "hash", sha256d(self.serialize()))

    @classmethod
    def read(cls, reader: ByteReader) -> "BlockHeader":
        return cls(
            version=reader.i32(),
            prev_hash=reader.hash32(),
            merkle_root=reader.hash32(),
            timestamp=reader.u32(),
            bits=reader.u32(),
            nonce=reader.u32(),
        )

    @classmethod
    def parse(cls, data: bytes) -> "BlockHeader":
        """Parse exactly 80 bytes."""
        if len(data) < HEADER_SIZE:
            raise TruncatedError(f"a block header is 80 bytes, got {len(data)}")
        if len(data) > HEADER_SIZE:
            raise TrailingDataError(f"a block header is 80 bytes, got {len(data)}")
        return cls.read(ByteReader(data))

    def write(self, writer: ByteWriter) -> None:
        writer.i32(self.version).write(self.prev_hash).write(self.merkle_root)
        writer.u32(self.timestamp).u32(self.bits).u32(self.nonce)

    def serialize(self) -> bytes:
        w = ByteWriter()
        self.write(w)
        return w.getvalue()

    @property
    def hash_hex(self) -> str:
        """Block hash in display order."""
        return hash_to_display(self.hash)
