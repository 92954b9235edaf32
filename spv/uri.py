"""`pkt:` payment URIs in the style of BIP21: pkt:<address>?amount=1.5&label=...&message=...

The amount is in coins (PKT). Parameters other than amount, label and message are kept in
`extra`; an unknown parameter whose name starts with "req-" makes the URI invalid (BIP21).
"""

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from .address import decode_address
from .errors import URIError
from .params import NetworkParams
from .units import AmountError, format_amount, max_units, parse_amount

SCHEME = "pkt"
KNOWN_PARAMETERS = ("amount", "label", "message")
REQUIRED_PREFIX = "req-"
MAX_URI_LENGTH = 4096

_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


@dataclass(frozen=True)
class PaymentURI:
    address: str
    amount_units: int | None = None
    label: str | None = None
    message: str | None = None
    extra: dict[str, str] = field(default_factory=dict, hash=False)


def _percent_decode(text: str, what: str) -> str:
    if _BAD_PERCENT.search(text):
        raise URIError(f"bad percent-encoding in {what}")
    try:
        return unquote(text, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        raise URIError(f"{what} is not valid UTF-8 after percent-decoding") from None


def _split_scheme(text: str) -> tuple[str, str] | None:
    """(address part, query) of a `pkt:` URI, or None when `text` has no scheme."""
    scheme, colon, rest = text.partition(":")
    if not colon:
        return None
    if scheme.lower() != SCHEME:
        raise URIError(f"unsupported URI scheme {scheme[:20]!r}; expected '{SCHEME}:'")
    rest = rest.removeprefix("//")
    address, _, query = rest.partition("?")
    return address, query


def _parse_query(query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for item in query.split("&"):
        if not item:
            continue
        raw_key, _, raw_value = item.partition("=")
        key = _percent_decode(raw_key, "a parameter name")
        if not key:
            raise URIError("a parameter has no name")
        if key in parameters:
            raise URIError(f"parameter {key!r} appears more than once")
        parameters[key] = _percent_decode(raw_value, f"parameter {key!r}")
    return parameters


def _parse_amount_parameter(value: str, params: NetworkParams) -> int:
    try:
        return parse_amount(value, params.units_per_coin, params.coin_symbol)
    except AmountError as exc:
        raise URIError(f"bad amount in payment URI: {exc}") from None


def parse_payment_uri(text: str, params: NetworkParams) -> PaymentURI:
    """Parse a `pkt:` URI (scheme in any case) or a bare address for the network `params`.

    The address is checked with `decode_address`, so its AddressError / WrongNetworkError
    propagates unchanged; everything else raises URIError. The returned address is in its
    canonical form (bech32 lower case).
    """
    stripped = text.strip()
    if len(stripped) > MAX_URI_LENGTH:
        raise URIError(f"payment URI too long ({len(stripped)} characters)")
    parts = _split_scheme(stripped)
    address_text, query = parts if parts is not None else (stripped, "")
    if not address_text:
        raise URIError("payment URI has no address")
    address = decode_address(address_text, params).encode(params)
    parameters = _parse_query(query)
    for key in parameters:
        if key.startswith(REQUIRED_PREFIX):
            raise URIError(f"payment URI requires {key!r}, which this wallet does not support")
    amount = parameters.pop("amount", None)
    return PaymentURI(
        address=address,
        amount_units=None if amount is None else _parse_amount_parameter(amount, params),
        label=parameters.pop("label", None),
        message=parameters.pop("message", None),
        extra=parameters,
    )


def _encode(value: str) -> str:
    try:
        return quote(value, safe="", encoding="utf-8", errors="strict")
    except UnicodeEncodeError:
        raise URIError("text cannot be encoded as UTF-8 (lone surrogate)") from None


def _check_extra_key(key: str) -> None:
    if not key or key in KNOWN_PARAMETERS:
        raise URIError(f"extra parameter name {key!r} is empty or reserved")


def format_payment_uri(uri: PaymentURI, params: NetworkParams) -> str:
    """The `pkt:` URI text for `uri` (address checked, label/message percent-encoded)."""
    address = decode_address(uri.address, params).encode(params)
    pairs: list[tuple[str, str]] = []
    if uri.amount_units is not None:
        if not 0 <= uri.amount_units <= max_units(params.units_per_coin):
            raise URIError("a payment URI amount must be between 0 and the maximum supply")
        pairs.append(("amount", format_amount(uri.amount_units, params.units_per_coin)))
    if uri.label is not None:
        pairs.append(("label", _encode(uri.label)))
    if uri.message is not None:
        pairs.append(("message", _encode(uri.message)))
    for key, value in uri.extra.items():
        _check_extra_key(key)
        pairs.append((_encode(key), _encode(value)))
    query = "&".join(f"{key}={value}" for key, value in pairs)
    return f"{SCHEME}:{address}" + (f"?{query}" if query else "")
