"""The announcement pool protocol as data: config.json, blkinfo files, routing and replies.

Spec ``packetcrypt.md`` section 13. Nothing here does I/O; :mod:`miner.pool.client` does the
HTTP. Every parser reads the body with :mod:`miner.safejson` (size, depth and number limits)
and raises only :class:`PoolProtocolError` (a ``ValueError``) on bad input, worded as "the pool
sent an invalid ...".
"""

from __future__ import annotations

import hashlib
import re
import struct
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import safejson

ANN_SIZE = 1024
MAX_BATCH_ANNS = 1024
"""The Rust client never sends more than 1024 anns (1 MiB) in one request (section 13.3)."""
SOFT_VERSION = 1
"""``x-pc-sver`` we send: with 1 the handler requires zero content hashes (section 13.5)."""
ANN_VERSION = 1
HISTORY_DEPTH = 6
"""Blocks of history fetched behind the tip (packetcrypt_rs ``PREFETCH_HISTORY_DEPTH``)."""
MAX_REPLY_BYTES = 1 << 20
MAX_CONFIG_BYTES = 1 << 20
MAX_REPLY_NOTES = 20
"""Warnings or errors of one handler reply kept (each cut to 200 characters)."""

_PAYTO = re.compile(r"^[a-zA-Z0-9]+$")
_HEX64 = re.compile(r"^[0-9a-fA-F]{64}$")
_DEDUP_MAX = (1 << 64) - 1


class PoolProtocolError(ValueError):
    """A pool sent something this client cannot use (bad JSON, missing fields, ...)."""


def check_payto(address: str) -> str:
    """The handler's own rule for ``x-pc-payto``: letters and digits only, at most 63."""
    if not address or not _PAYTO.match(address):
        raise ValueError(f"payout address {address!r} cannot be sent to a pool (letters/digits)")
    if len(address) > 63:
        raise ValueError("payout address too long for the pool protocol (63 characters at most)")
    return address


# --- config.json ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MasterConfig:
    """The fields of ``<master>/config.json`` an announcement miner uses (section 13.1)."""

    tip_hash: str
    """Display-order hex (lower case) of the pool's current tip."""
    current_height: int
    """Height of the block being mined next (tip height + 1)."""
    submit_ann_urls: tuple[str, ...]
    ann_target: int
    mine_old_anns: int
    master_url: str = ""
    blkinfo_url: str | None = None
    ann_versions: tuple[int, ...] = (ANN_VERSION,)
    version: int = 0
    soft_version: int = 0
    paymaker_url: str = ""

    @property
    def tip_height(self) -> int:
        return self.current_height - 1


def _int(data: Mapping[str, Any], key: str, *, required: bool = True, default: int = 0) -> int:
    try:
        return safejson.get_int(data, key, "config.json", default=None if required else default)
    except safejson.JsonError as exc:
        raise PoolProtocolError(f"the pool sent an invalid config.json: {exc}") from None


def _url_list(data: Mapping[str, Any], key: str) -> tuple[str, ...]:
    value = data.get(key)
    if not isinstance(value, list) or not all(isinstance(u, str) and u for u in value):
        raise PoolProtocolError(f"config.json {key!r} is not a list of URLs")
    for url in value:
        if not url.startswith(("http://", "https://")):
            raise PoolProtocolError(f"config.json {key!r} holds a non-HTTP URL {url!r}")
    return tuple(value)


def _load(raw: bytes | str, what: str, max_bytes: int) -> Any:
    try:
        return safejson.loads(raw, max_bytes=max_bytes)
    except safejson.JsonError as exc:
        raise PoolProtocolError(f"the pool sent an invalid {what} ({exc})") from None


def parse_master_config(raw: bytes | str) -> MasterConfig:
    """Parse config.json. Pools without ``tipHash`` or ``annTarget`` cannot be mined with (the
    Rust miner refuses them too)."""
    data = _load(raw, "config.json", MAX_CONFIG_BYTES)
    if not isinstance(data, dict):
        raise PoolProtocolError("the pool sent an invalid config.json (not a JSON object)")
    tip = data.get("tipHash")
    if tip is None:
        raise PoolProtocolError("config.json has no tipHash (the pool is too old to mine with)")
    if not isinstance(tip, str) or not _HEX64.match(tip):
        raise PoolProtocolError("config.json tipHash is not a 64-digit hex hash")
    current_height = _int(data, "currentHeight")
    if not 1 <= current_height <= 0xFFFFFFFF:
        raise PoolProtocolError(f"config.json currentHeight {current_height} is out of range")
    ann_target = _int(data, "annTarget")
    if not 0 < ann_target <= 0x207FFFFF or ann_target & 0x00800000:
        raise PoolProtocolError(f"config.json annTarget {ann_target:#x} is not a valid target")
    mine_old = _int(data, "mineOldAnns", required=False, default=2)
    if not 0 <= mine_old <= 64:
        raise PoolProtocolError(f"config.json mineOldAnns {mine_old} is out of range")
    submit = _url_list(data, "submitAnnUrls")
    if not submit:
        raise PoolProtocolError("config.json lists no submitAnnUrls")
    versions = data.get("annVersions", [ANN_VERSION])
    if not isinstance(versions, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in versions
    ):
        raise PoolProtocolError("config.json annVersions is not a list of integers")
    blkinfo = data.get("blkinfoUrl")
    if blkinfo is not None and (
        not isinstance(blkinfo, str) or not blkinfo.startswith(("http://", "https://"))
    ):
        raise PoolProtocolError("config.json blkinfoUrl is not an HTTP URL")
    master = data.get("masterUrl", "")
    paymaker = data.get("paymakerUrl", "")
    return MasterConfig(
        tip_hash=tip.lower(),
        current_height=current_height,
        submit_ann_urls=submit,
        ann_target=ann_target,
        mine_old_anns=mine_old,
        master_url=master if isinstance(master, str) else "",
        blkinfo_url=blkinfo,
        ann_versions=tuple(versions),
        version=_int(data, "version", required=False),
        soft_version=_int(data, "softVersion", required=False),
        paymaker_url=paymaker if isinstance(paymaker, str) else "",
    )


# --- blkinfo_<hash>.json -------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockInfo:
    """One ``blkinfo_<hash>.json`` (section 13.2); hashes in display order, lower case."""

    hash: str
    height: int
    previous_hash: str | None
    sig_key: bytes | None
    """The pool's 32-byte ed25519 signing key for anns on this parent, or None."""

    @property
    def internal_hash(self) -> bytes:
        """The parent hash as mined: the display hex's bytes reversed."""
        return bytes.fromhex(self.hash)[::-1]


def parse_blkinfo(raw: bytes | str, expected_hash: str) -> BlockInfo:
    data = _load(raw, "blkinfo", MAX_CONFIG_BYTES)
    if not isinstance(data, dict) or not isinstance(data.get("header"), dict):
        raise PoolProtocolError("blkinfo has no header object")
    header = data["header"]
    block_hash = header.get("hash")
    if not isinstance(block_hash, str) or not _HEX64.match(block_hash):
        raise PoolProtocolError("blkinfo header.hash is not a 64-digit hex hash")
    if block_hash.lower() != expected_hash.lower():
        raise PoolProtocolError(f"blkinfo for {expected_hash} describes block {block_hash}")
    height = header.get("height")
    if isinstance(height, bool) or not isinstance(height, int) or not 0 <= height <= 0xFFFFFFFF:
        raise PoolProtocolError("blkinfo header.height is not a block height")
    prev = header.get("previousblockhash")
    if prev is not None and (not isinstance(prev, str) or not _HEX64.match(prev)):
        raise PoolProtocolError("blkinfo header.previousblockhash is not a hex hash")
    if prev is None and height > 0:
        raise PoolProtocolError("blkinfo header has no previousblockhash")
    sig = data.get("sigKey")
    sig_key: bytes | None = None
    if sig is not None:
        if not isinstance(sig, str) or not _HEX64.match(sig):
            raise PoolProtocolError("blkinfo sigKey is not 32 bytes of hex")
        sig_key = bytes.fromhex(sig)
        if not any(sig_key):
            sig_key = None
    return BlockInfo(
        hash=block_hash.lower(),
        height=height,
        previous_hash=prev.lower() if prev else None,
        sig_key=sig_key,
    )


# --- the job --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolJob:
    """What the workers mine (section 8): parent block, target and signing key."""

    parent_hash: bytes
    """Internal byte order (the reverse of the display hex)."""
    parent_height: int
    target_bits: int
    signing_key: bytes = bytes(32)
    pool: str = field(default="", compare=False)
    """Master URL of the pool the job came from (informational)."""

    @property
    def parent_display(self) -> str:
        return self.parent_hash[::-1].hex()

    @property
    def worknum(self) -> int:
        """``x-pc-worknum``: the parent height + 1 (section 13.3)."""
        return self.parent_height + 1


# --- announcements and routing -------------------------------------------------------------------

_ANN_FIELDS = struct.Struct("<B3xIII")


@dataclass(frozen=True)
class AnnFields:
    version: int
    work_bits: int
    parent_height: int
    signing_key: bytes
    content_hash: bytes


def ann_fields(ann: bytes) -> AnnFields:
    if len(ann) != ANN_SIZE:
        raise ValueError("an announcement is 1024 bytes")
    version, _hard, work_bits, parent_height = _ANN_FIELDS.unpack_from(ann, 0)
    return AnnFields(version, work_bits, parent_height, bytes(ann[56:88]), bytes(ann[24:56]))


def dedup_value(ann: bytes) -> int:
    """``u64le(B256(ann)[0:8])`` (section 13.4)."""
    return int.from_bytes(hashlib.blake2b(ann, digest_size=32).digest()[:8], "little")


def handler_index(ann: bytes, handler_count: int) -> int | None:
    """The only handler (index into ``submitAnnUrls``) this ann may go to; None for the two
    dedup values every handler refuses ("zero or fff hash")."""
    if handler_count <= 0:
        return None
    dedup = dedup_value(ann)
    if dedup in (0, _DEDUP_MAX):
        return None
    return dedup % handler_count


def submit_headers(payto: str, worknum: int, session_id: str, user_agent: str) -> dict[str, str]:
    return {
        "x-pc-payto": payto,
        "x-pc-worknum": str(worknum),
        "x-pc-sver": str(SOFT_VERSION),
        "x-pc-annver": str(ANN_VERSION),
        "x-pc-sid": session_id,
        "Content-Type": "application/octet-stream",
        "User-Agent": user_agent,
    }


# --- handler replies -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SubmitReply:
    """What a handler said about one batch of ``count`` anns (section 13.5)."""

    status: int
    count: int
    accepted: int = 0
    dup: int = 0
    overloaded: bool = False
    warnings: tuple[str, ...] = ()
    errors: tuple[str, ...] = ()
    event: Mapping[str, Any] | None = None

    @property
    def rejected(self) -> int:
        """As packetcrypt_rs counts it: everything not accepted, unless overloaded."""
        return 0 if self.overloaded else self.count - self.accepted


def _str_list(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value[:MAX_REPLY_NOTES] if isinstance(value, list) else [value]
    return tuple((v if isinstance(v, str) else repr(v))[:200] for v in items)


def parse_submit_reply(status: int, body: bytes, count: int) -> SubmitReply:
    """Parse ``{"warn": [...], "error": [...], "result": null | AnnsEvent}``.

    200 with a result: accepted/dup from the result. 503 or an ``"overloaded"`` error: the
    anns count as overload. 400 with errors: the whole batch is rejected. Anything that is not
    the handler's JSON raises :class:`PoolProtocolError` (the anns are lost, not rejected).
    """
    try:
        data = safejson.loads(body, max_bytes=MAX_REPLY_BYTES)
    except safejson.JsonError as exc:
        snippet = body[:80].decode("utf-8", "replace")
        raise PoolProtocolError(
            f"the pool sent an invalid reply (HTTP {status}, {exc}: {snippet!r})"
        ) from None
    if not isinstance(data, dict):
        raise PoolProtocolError(f"the pool sent an invalid reply (HTTP {status}, not an object)")
    warnings = _str_list(data.get("warn"))
    errors = _str_list(data.get("error"))
    result = data.get("result")
    if "overloaded" in errors or (status == 503 and result is None):
        return SubmitReply(status, count, overloaded=True, warnings=warnings, errors=errors)
    if isinstance(result, dict):
        accepted = result.get("accepted", 0)
        dup = result.get("dup", 0)
        if (
            isinstance(accepted, bool)
            or not isinstance(accepted, int)
            or isinstance(dup, bool)
            or not isinstance(dup, int)
        ):
            raise PoolProtocolError(
                f"the pool sent an invalid reply (HTTP {status}, counts are not integers)"
            )
        accepted = max(0, min(count, accepted))
        return SubmitReply(
            status,
            count,
            accepted=accepted,
            dup=max(0, dup),
            warnings=warnings,
            errors=errors,
            event=result,
        )
    if errors:
        return SubmitReply(status, count, warnings=warnings, errors=errors)
    raise PoolProtocolError(f"HTTP {status}, reply has neither a result nor an error")


# --- HTTP caching ---------------------------------------------------------------------------------


def freshness_seconds(headers: Mapping[str, str]) -> float | None:
    """Seconds the response stays fresh (``max-age`` minus ``Age``); None when not given, 0
    for ``no-cache`` / ``no-store``."""
    cache_control = headers.get("Cache-Control") or headers.get("cache-control") or ""
    max_age: int | None = None
    for part in cache_control.replace(" ", ",").split(","):
        token = part.strip().lower()
        if token in ("no-cache", "no-store"):
            return 0.0
        if token.startswith("max-age="):
            value = safejson.header_int(token[8:].strip('"'), hi=1 << 31)
            max_age = max_age if value is None else value
    if max_age is None:
        return None
    age = safejson.header_int(headers.get("Age") or headers.get("age"), hi=1 << 31) or 0
    return float(max(0, max_age - age))


def join_url(base: str, name: str) -> str:
    return base.rstrip("/") + "/" + name


def summarize(values: Sequence[str], limit: int = 3) -> str:
    shown = list(values[:limit])
    if len(values) > limit:
        shown.append(f"... (+{len(values) - limit})")
    return "; ".join(shown)
