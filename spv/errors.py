"""Typed errors raised by the chain core.

Every parser in `spv` raises a subclass of :class:`ParseError` on bad input and nothing else,
so callers (and the fuzz tests) can rely on one except clause.
"""


class ChainError(Exception):
    """Base class for all errors raised by the chain core."""


class ParseError(ChainError, ValueError):
    """Bytes or text that cannot be decoded into the requested structure."""


class TruncatedError(ParseError):
    """The input ended before the structure was complete."""


class OversizeError(ParseError):
    """A length or count field exceeds the limit allowed for it."""


class TrailingDataError(ParseError):
    """Bytes are left over after a structure that must consume its whole input."""


class NonCanonicalError(ParseError):
    """A value was encoded in a non-canonical form (e.g. a compact size with extra bytes)."""


class AddressError(ParseError):
    """An address string is invalid."""


class WrongNetworkError(AddressError):
    """An address is valid but belongs to another network."""


class ChecksumError(AddressError):
    """An address or encoded string has a bad checksum."""


class URIError(ParseError):
    """A `pkt:` payment URI is invalid."""


class ValidationError(ChainError):
    """Well-formed data that breaks a consensus rule."""
