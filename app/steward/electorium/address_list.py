"""Address lists in the shape of the full node's `listaddresses` answer (electorium.md §4.3).

A page is `{"addresses": [{"address", "balance", "sbalance", "is_candidate", "vote_for"}...],
"as_of_block": E, "has_more": bool}`. A file may hold one page, several pages written one after
another (as fetched), a JSON array of pages, or the whole JSON-RPC answer (`{"result": page}`).

Addresses are the node's text for a script: a standard address, or `script:<base64>` for any
other script (`script:` alone is the empty script: no vote). Balances are read from `sbalance`
(units, exact); the float `balance` is never used.

The node writes P2PK scripts and scripts with a 2019 vote suffix under their plain address, so
such a text does not give back the exact script; the loader warns when an address repeats.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miner import safejson
from spv.address import script_for_address
from spv.errors import ParseError
from spv.params import NetworkParams

from ..errors import StewardError
from .vote_list import MAX_BALANCE, AddressRecord

MAX_FILE_BYTES = 256 << 20  # about 1.7 million addresses
NONSTANDARD_PREFIX = "script:"


class AddressListError(StewardError):
    """An address list that cannot be read; the message says where and why."""


class EpochChangedError(AddressListError):
    """The pages are as of different blocks (an epoch ended between two of them)."""


def script_from_node_text(text: str, params: NetworkParams) -> bytes:
    """The script behind the node's address text (`script:<base64>` or a standard address)."""
    if text.startswith(NONSTANDARD_PREFIX):
        try:
            return base64.b64decode(text[len(NONSTANDARD_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise AddressListError(f"{text!r} is not valid base64 after 'script:'") from None
    try:
        return script_for_address(text, params)
    except ParseError as exc:
        raise AddressListError(f"{text!r} is not a {params.name} address: {exc}") from None


@dataclass
class AddressListBuilder:
    """Collects pages (from a file or the node) into one list, checking they fit together."""

    params: NetworkParams
    source: str  # named in messages: a file name or "the node at …"
    records: list[AddressRecord] = field(default_factory=list)
    as_of_block: int | None = None
    pages: int = 0
    has_more: bool = False
    _seen: dict[str, tuple[int, bool, str]] = field(default_factory=dict)
    _repeats: set[str] = field(default_factory=set)
    _targets: dict[str, bytes] = field(default_factory=dict)  # vote targets repeat: decode once
    _dropped_copies: int = 0

    def add_page(self, page: Any) -> list[str]:
        """Add one page; returns its address texts in order (the last one continues a fetch)."""
        self.pages += 1
        where = f"{self.source}, page {self.pages}"
        if not isinstance(page, dict) or not isinstance(page.get("addresses"), list):
            raise AddressListError(f"{where}: not a listaddresses page (no 'addresses' list)")
        as_of = page.get("as_of_block")
        if as_of is not None:
            if isinstance(as_of, bool) or not isinstance(as_of, int) or as_of < 0:
                raise AddressListError(f"{where}: as_of_block is not a block height")
            if self.as_of_block is None:
                self.as_of_block = as_of
            elif as_of != self.as_of_block:
                raise EpochChangedError(
                    f"{where}: as of block {as_of}, but the earlier pages are as of block "
                    f"{self.as_of_block}; the pages come from different epochs"
                )
        has_more = page.get("has_more", False)
        if not isinstance(has_more, bool):
            raise AddressListError(f"{where}: has_more is not true or false")
        self.has_more = has_more
        texts = []
        for n, item in enumerate(page["addresses"], start=1):
            texts.append(self._add_entry(item, f"{where}, entry {n}"))
        return texts

    def _add_entry(self, item: Any, where: str) -> str:
        if not isinstance(item, dict):
            raise AddressListError(f"{where}: not an address object")
        address = item.get("address")
        if not isinstance(address, str) or not address:
            raise AddressListError(f"{where}: no 'address' text")
        where = f"{where} ({address[:90]})"
        sbalance = item.get("sbalance")
        if isinstance(sbalance, int) and not isinstance(sbalance, bool):
            sbalance = str(sbalance)
        if not isinstance(sbalance, str):
            raise AddressListError(
                f"{where}: no 'sbalance' (the balance in units); exact balances are needed"
            )
        if (  # length first: int() of a 4,301-digit text raises ValueError
            len(sbalance) > len(str(MAX_BALANCE))
            or not sbalance.isascii()
            or not sbalance.isdigit()
            or int(sbalance) > MAX_BALANCE
        ):
            raise AddressListError(f"{where}: sbalance {sbalance[:40]!r} is not a balance in units")
        is_candidate = item.get("is_candidate", False)
        if not isinstance(is_candidate, bool):
            raise AddressListError(f"{where}: is_candidate is not true or false")
        vote_for = item.get("vote_for", "")
        if not isinstance(vote_for, str):
            raise AddressListError(f"{where}: vote_for is not text")
        try:
            script = script_from_node_text(address, self.params)
            target = self._targets.get(vote_for) if vote_for else b""
            if target is None:
                target = self._targets[vote_for] = script_from_node_text(vote_for, self.params)
        except AddressListError as exc:
            raise AddressListError(f"{where}: {exc}") from None
        balance = int(sbalance)
        fingerprint = (balance, is_candidate, vote_for)
        earlier = self._seen.get(address)
        if earlier == fingerprint:
            self._dropped_copies += 1  # the same page (or entry) given twice
            return address
        if earlier is not None:
            self._repeats.add(address)
        self._seen[address] = fingerprint
        self.records.append(AddressRecord(script, balance, is_candidate, target))
        return address

    def warnings(self) -> list[str]:
        out = []
        if self._dropped_copies:
            out.append(f"{self._dropped_copies} repeated entries were read once")
        if self._repeats:
            sample = ", ".join(sorted(self._repeats)[:3])
            out.append(
                f"{len(self._repeats)} addresses appear more than once with different balances "
                f"or votes ({sample}); the node lists P2PK and 2019-vote scripts under their "
                "plain address, and this count treats each such address as one voter"
            )
        return out

    def finish(self) -> AddressList:
        if self.has_more:
            raise AddressListError(
                f"{self.source}: the last page says has_more: the list is incomplete"
            )
        return AddressList(
            tuple(self.records), self.as_of_block, self.pages, tuple(self.warnings())
        )


@dataclass(frozen=True)
class AddressList:
    records: tuple[AddressRecord, ...]
    as_of_block: int | None
    pages: int
    warnings: tuple[str, ...] = ()


def _pages_of(doc: Any, where: str) -> Iterable[Any]:
    """The pages one JSON document holds (a page, an RPC answer, a list of pages or entries)."""
    if isinstance(doc, dict) and "result" in doc and "addresses" not in doc:
        error = doc.get("error")
        if error:
            raise AddressListError(f"{where}: the file holds an RPC error answer: {error!r:.200}")
        doc = doc["result"]
    if isinstance(doc, list):
        if all(isinstance(d, dict) and "addresses" in d for d in doc):
            return doc
        return [{"addresses": doc}]
    return [doc]


def parse_address_list(data: bytes | str, params: NetworkParams, source: str) -> AddressList:
    """An address list from JSON text (see the module docstring for the accepted shapes)."""
    builder = AddressListBuilder(params, source)
    try:
        docs = list(safejson.iter_documents(data, max_bytes=MAX_FILE_BYTES))
    except safejson.JsonError as exc:
        raise AddressListError(f"{source}: not valid JSON: {exc}") from None
    if not docs:
        raise AddressListError(f"{source}: empty; expected listaddresses JSON")
    for doc in docs:
        for page in _pages_of(doc, source):
            builder.add_page(page)
    return builder.finish()


def load_address_list(path: str | Path, params: NetworkParams) -> AddressList:
    """Read an address list file (errors name the file and say what is wrong, in one line)."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AddressListError(f"{p}: {size} bytes is too large for an address list")
        data = p.read_bytes()
    except FileNotFoundError:
        raise AddressListError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise AddressListError(f"{p}: is a folder, not a file") from None
    except PermissionError:
        raise AddressListError(f"{p}: permission denied") from None
    except OSError as exc:
        raise AddressListError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    return parse_address_list(data, params, p.name)
