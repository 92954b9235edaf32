"""The coordinator (``https://vpn.anode.co``): exit list, peering lines, authorization, premium.

All URLs derive from one base (a setting). The exit list and peering lines are cached in the
data directory so the app stays usable when the coordinator is down; field names are accepted in
snake_case and the older camelCase, and numbers may arrive as strings.

Every body is read with a size cap and decoded by :mod:`miner.safejson` (depth and number
limits); whatever the coordinator or an exit sends, the caller gets a :class:`DirectoryError`
in the user's terms ("the coordinator sent an invalid exit list: ...") and nothing else.
"""

import base64
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from miner import safejson
from spv.atomic import atomic_write

from .errors import AuthorizationError, DirectoryError, DirectoryUnreachable
from .keys import is_public_key

TIMEOUT = (5.0, 15.0)  # connect, read
MAX_BODY = 4 << 20
"""Largest reply read from the coordinator or an exit (the exit list is ~100 KiB)."""
MIN_PRICE = Decimal("0.000000001")
"""The smallest PKT amount a price can be (one unit is 2^-30 PKT; 1e-9 PKT rounds to it)."""
MAX_NUMBER = 10**15
"""Numbers of the exit list (cost, load, quality, ratings) beyond this are not believed."""
Signer = Callable[[str], str]  # msgHash (base64 sha256) -> cjdns signature (Sign_sign)


def _decimal(value: Any) -> Decimal | None:
    """A number given as a JSON number or as ASCII text ("12.5"), within +-MAX_NUMBER; None
    for anything else (NaN, "inf", "1e400", Unicode digits, objects...)."""
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, int | Decimal):
        number = Decimal(value)
    elif isinstance(value, str):
        try:
            number = safejson.parse_decimal_text(value, "number")
        except safejson.JsonError:
            return None
    else:
        return None
    return number if abs(number) <= MAX_NUMBER else None


def _num(value: Any, default: float = 0.0) -> float:
    number = _decimal(value)
    return default if number is None else float(number)


def _price(value: Any) -> float:
    """An exit's listed price in PKT: 0 (free) unless at least the smallest amount, 1e-9 PKT
    (a negative, NaN or sub-unit price is no price)."""
    number = _decimal(value)
    return float(number) if number is not None and number >= MIN_PRICE else 0.0


def _opt_num(value: Any) -> float | None:
    number = _decimal(value)
    return None if number is None else float(number)


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes")
    return default


def _first(obj: dict[str, Any], *names: str) -> Any:
    for n in names:
        if n in obj and obj[n] is not None:
            return obj[n]
    return None


def _opt_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class ExitServer:
    public_key: str
    name: str
    country_code: str = ""
    is_active: bool = True
    cost: float = 0.0
    load: float = 0.0
    quality: float = 0.0
    average_rating: float | None = None
    num_ratings: int = 0
    is_favorite: bool = False
    public_ip: str | None = None
    auth_server: str | None = None
    online_since: str | None = None
    last_seen: str | None = None

    @property
    def premium(self) -> bool:
        """Premium bandwidth can be bought when the exit lists a cost above 0."""
        return self.cost > 0

    def to_json(self) -> dict[str, Any]:
        return asdict(self) | {"premium": self.premium}

    @classmethod
    def from_json(cls, obj: Any) -> "ExitServer":
        """Parse one exit object (snake_case or camelCase); raises DirectoryError."""
        if not isinstance(obj, dict):
            raise DirectoryError(f"an exit entry is not an object: {obj!r:.80}")
        key = _first(obj, "public_key", "publicKey")
        if not isinstance(key, str) or not is_public_key(key.strip()):
            raise DirectoryError(f"an exit entry has no valid cjdns public key: {key!r:.80}")
        key = key.strip()
        name = _opt_str(_first(obj, "name")) or key[:12]
        auth = _opt_str(_first(obj, "auth_server", "authServer", "authorization_server_url"))
        return cls(
            public_key=key,
            name=name,
            country_code=(_opt_str(_first(obj, "country_code", "countryCode")) or "").upper(),
            is_active=_bool(_first(obj, "is_active", "isActive"), True),
            cost=_price(_first(obj, "cost")),
            load=_num(_first(obj, "load")),
            quality=_num(_first(obj, "quality")),
            average_rating=_opt_num(_first(obj, "average_rating", "averageRating")),
            num_ratings=int(_num(_first(obj, "num_ratings", "numRatings"))),
            is_favorite=_bool(_first(obj, "is_favorite", "isFavorite"), False),
            public_ip=_opt_str(_first(obj, "public_ip", "publicIp")),
            auth_server=auth,
            online_since=_opt_str(
                _first(obj, "online_since_datetime", "onlineSinceDatetime", "created_at")
            ),
            last_seen=_opt_str(
                _first(obj, "last_seen_datetime", "lastSeenDatetime", "last_seen_at")
            ),
        )


def parse_exit_list(data: Any) -> tuple[list[ExitServer], list[str]]:
    """(exits, warnings): bad entries are skipped with a warning; a non-list is an error.
    A list wrapped as ``{"results": [...]}`` (the 2021 paged API) is accepted."""
    if isinstance(data, dict) and isinstance(data.get("results"), list):
        data = data["results"]
    if not isinstance(data, list):
        raise DirectoryError(f"the exit list is not a JSON array (got {type(data).__name__})")
    exits: list[ExitServer] = []
    warnings: list[str] = []
    seen: set[str] = set()
    for entry in data:
        try:
            ex = ExitServer.from_json(entry)
        except DirectoryError as exc:
            warnings.append(str(exc))
            continue
        if ex.public_key in seen:
            continue
        seen.add(ex.public_key)
        exits.append(ex)
    return exits, warnings


@dataclass(frozen=True)
class PeeringLine:
    public_key: str
    ip: str
    port: int
    password: str | None
    login: str | None = None
    name: str | None = None

    @property
    def address(self) -> str:
        return f"[{self.ip}]:{self.port}" if ":" in self.ip else f"{self.ip}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "publicKey": self.public_key,
            "ip": self.ip,
            "port": self.port,
            "password": self.password,
            "login": self.login,
            "name": self.name,
        }

    @classmethod
    def from_json(cls, obj: Any) -> "PeeringLine":
        if not isinstance(obj, dict):
            raise DirectoryError("a peering line is not an object")
        key = _first(obj, "publicKey", "public_key")
        if not isinstance(key, str) or not is_public_key(key):
            raise DirectoryError(f"a peering line has no valid public key: {key!r:.80}")
        ip = _opt_str(_first(obj, "ip", "address"))
        port = _num(_first(obj, "port"), -1)
        if ip and ":" in ip and "." in ip and port < 0:  # "1.2.3.4:5678" in one field
            ip, _, port_text = ip.rpartition(":")
            port = _num(port_text, -1)
        if not ip or not 0 < port < 65536:
            raise DirectoryError(f"peering line for {key} has no usable ip/port")
        return cls(
            key,
            ip.strip("[]"),
            int(port),
            _opt_str(_first(obj, "password")),
            _opt_str(_first(obj, "login", "user")),
            _opt_str(_first(obj, "name", "peerName")),
        )


def parse_peering_lines(data: Any) -> tuple[list[PeeringLine], list[str]]:
    if not isinstance(data, list):
        raise DirectoryError("the peering lines are not a JSON array")
    lines: list[PeeringLine] = []
    warnings: list[str] = []
    for obj in data:
        try:
            lines.append(PeeringLine.from_json(obj))
        except DirectoryError as exc:
            warnings.append(str(exc))
    return lines, warnings


@dataclass
class ExitList:
    exits: list[ExitServer]
    fetched_at: float
    from_cache: bool = False
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class AuthResult:
    status: int
    message: str
    expires_at: int | None
    via: str  # "coordinator" or "direct"
    url: str
    nameservers: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PaymentRequest:
    exit_key: str
    address: str
    amount: Decimal  # PKT, exactly as the exit states it


def decode_json(body: bytes | str, what: str, sender: str = "the coordinator") -> Any:
    """Parse a reply with :mod:`miner.safejson`; a JSON string holding JSON (the exit status
    endpoint) is decoded again. Raises DirectoryError ("the coordinator sent an invalid ...")."""
    try:
        value = safejson.loads(body, max_bytes=MAX_BODY)
        if isinstance(value, str) and value.strip()[:1] in ("{", "["):
            value = safejson.loads(value, max_bytes=MAX_BODY)
    except safejson.JsonError as exc:
        raise DirectoryError(f"{sender} sent an invalid {what}: {exc}") from None
    return value


def _plain_number(value: object) -> float:
    """json.dumps' fallback: the Decimals safejson decodes are written back as numbers."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def read_body(resp: requests.Response, limit: int = MAX_BODY) -> bytes:
    """A streamed response's body, refused beyond `limit` bytes (raises DirectoryError)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in resp.iter_content(64 * 1024):
            size += len(chunk)
            if size > limit:
                raise DirectoryError(f"{resp.url} sent a reply larger than {limit >> 20} MiB")
            chunks.append(chunk)
    except requests.RequestException as exc:
        raise DirectoryUnreachable(f"{resp.url} stopped answering: {_reason(exc)}") from None
    finally:
        resp.close()
    return b"".join(chunks)


def _snippet(body: bytes, limit: int = 200) -> str:
    return " ".join(body[:limit].decode("utf-8", "replace").split())


def signed_body(payload: dict[str, Any], sign: Signer) -> tuple[bytes, str]:
    """(exact body bytes, signature): Sign_sign over base64(sha256(body))."""
    body = json.dumps(payload, separators=(",", ":")).encode()
    msg_hash = base64.b64encode(hashlib.sha256(body).digest()).decode()
    return body, sign(msg_hash)


def _message(reply: dict[str, Any]) -> str:
    """The ``message`` of a reply as one line of at most 200 characters."""
    value = reply.get("message", "")
    text = value if isinstance(value, str) else repr(value)
    return " ".join(text.split())[:200]


_AUTH_HINTS = {
    400: "the exit has a manually added lease for this node",
    403: "the exit refused the signature",
    405: "the exit rejected the request",
    408: "the exit's authorization server did not answer (exit unreachable)",
    500: "the exit's cjdns or authorization server failed",
    503: "the exit has no free addresses",
}


def _reason(exc: Exception) -> str:
    """A short reason out of requests' nested connection errors."""
    text = str(exc)
    m = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if m:
        return m.group(1).strip()
    for hint in ("Name or service not known", "Connection refused", "timed out"):
        if hint in text:
            return hint
    return type(exc).__name__


def _base(url: str) -> str:
    base = url.strip().rstrip("/")
    for suffix in ("/api/0.3", "/api/0.4", "/api"):
        if base.endswith(suffix):
            base = base[: -len(suffix)]
    return base


class Directory:
    """Coordinator client with an on-disk cache (``cache_dir``)."""

    def __init__(
        self,
        base_url: str,
        cache_dir: Path | None,
        *,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = TIMEOUT,
        clock: Callable[[], float] = time.time,
        fallback_base: str | None = None,
    ) -> None:
        self.base_url = _base(base_url)
        # Tried when base_url is unreachable: e.g. the coordinator over cjdns, http://[fc..]
        self.fallback_base = _base(fallback_base) if fallback_base else None
        self.cache_dir = cache_dir
        self.session = session or requests.Session()
        self.timeout = timeout
        self.clock = clock

    # -- HTTP --------------------------------------------------------------------------------

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path.lstrip('/')}"

    def _request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self._request_once(method, url, body=body, headers=headers)
        except DirectoryUnreachable:
            prefix = self.base_url + "/"
            if not self.fallback_base or not url.startswith(prefix):
                raise
            alt = self.fallback_base + "/" + url[len(prefix) :]
            try:
                return self._request_once(method, alt, body=body, headers=headers)
            except DirectoryUnreachable as exc:
                raise DirectoryUnreachable(f"cannot reach {url}, nor {exc}") from None

    def _request_once(
        self,
        method: str,
        url: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        try:
            return self.session.request(
                method, url, data=body, headers=headers, timeout=self.timeout, stream=True
            )
        except requests.Timeout:
            raise DirectoryUnreachable(f"{url} did not answer in time") from None
        except requests.RequestException as exc:
            raise DirectoryUnreachable(f"cannot reach {url}: {_reason(exc)}") from None

    def _get_json(self, url: str, what: str, sender: str = "the coordinator") -> Any:
        resp = self._request("GET", url)
        body = read_body(resp)
        if resp.status_code != 200:
            raise DirectoryError(f"{what}: {url} answered HTTP {resp.status_code}")
        return decode_json(body, what, sender)

    # -- cache -------------------------------------------------------------------------------

    def _cache_path(self, name: str) -> Path | None:
        return self.cache_dir / name if self.cache_dir else None

    def _save_cache(self, name: str, data: Any) -> None:
        p = self._cache_path(name)
        if p is None:
            return
        payload = {"fetched_at": self.clock(), "url": self.base_url, "data": data}
        text = json.dumps(payload, indent=1, default=_plain_number)
        atomic_write(p, text.encode(), mode=0o600)

    def _load_cache(self, name: str) -> tuple[Any, float] | None:
        p = self._cache_path(name)
        if p is None or not p.exists():
            return None
        try:
            payload = safejson.loads(p.read_bytes(), max_bytes=2 * MAX_BODY)
            return payload["data"], float(payload["fetched_at"])
        except (OSError, ValueError, KeyError, TypeError):  # safejson.JsonError is a ValueError
            return None

    # -- exit list ---------------------------------------------------------------------------

    def fetch_exits(self, include_inactive: bool = False) -> ExitList:
        """Fetch from the coordinator (no cache fallback); the result is cached."""
        url = self.url(f"api/0.3/vpn/servers/{'false' if include_inactive else 'true'}/")
        data = self._get_json(url, "exit list")
        exits, warnings = parse_exit_list(data)
        if not exits and data:
            raise DirectoryError("exit list: no usable entry (" + "; ".join(warnings[:3]) + ")")
        self._save_cache(self._exits_cache(include_inactive), data)
        return ExitList(exits, self.clock(), False, warnings)

    @staticmethod
    def _exits_cache(include_inactive: bool) -> str:
        return "exits-all.json" if include_inactive else "exits-active.json"

    def cached_exits(self, include_inactive: bool = False) -> ExitList | None:
        """The cached list of that kind, else the other kind (filtered, or with a warning)."""
        for kind in (include_inactive, not include_inactive):
            cached = self._load_cache(self._exits_cache(kind))
            if cached is None:
                continue
            try:
                exits, warnings = parse_exit_list(cached[0])
            except DirectoryError:
                continue
            if kind and not include_inactive:
                exits = [e for e in exits if e.is_active]
            elif include_inactive and not kind:
                warnings.insert(0, "only active exits were cached")
            return ExitList(exits, cached[1], True, warnings)
        return None

    def list_exits(self, include_inactive: bool = False, use_cache: bool = True) -> ExitList:
        """The exit list; when the coordinator fails, the cached list (with a warning)."""
        try:
            return self.fetch_exits(include_inactive)
        except DirectoryError as exc:
            cached = self.cached_exits(include_inactive) if use_cache else None
            if cached is None:
                raise
            age = time.strftime("%Y-%m-%d %H:%M", time.localtime(cached.fetched_at))
            cached.warnings.insert(0, f"{exc}; showing the list cached at {age}")
            return cached

    # -- peering lines -----------------------------------------------------------------------

    def peering_lines(self, use_cache: bool = True) -> tuple[list[PeeringLine], list[str]]:
        url = self.url("api/0.3/vpn/cjdns/peeringlines/")
        try:
            data = self._get_json(url, "peering lines")
            lines, warnings = parse_peering_lines(data)
            self._save_cache("peers.json", data)
            return lines, warnings
        except DirectoryError as exc:
            cached = self._load_cache("peers.json") if use_cache else None
            if cached is None:
                raise
            lines, warnings = parse_peering_lines(cached[0])
            return lines, [f"{exc}; using cached peering lines", *warnings]

    # -- authorization -----------------------------------------------------------------------

    def authorize(self, exit_key: str, sign: Signer, now: float | None = None) -> AuthResult:
        """Through the coordinator: POST {date} signed by this node."""
        url = self.url(f"api/0.3/vpn/servers/{quote(exit_key, safe='.')}/authorize/")
        body, signature = signed_body({"date": int(now if now is not None else self.clock())}, sign)
        return self._post_authorization(url, body, signature, "coordinator")

    def authorize_direct(
        self, auth_server: str, client_key: str, sign: Signer, now: float | None = None
    ) -> AuthResult:
        """Directly at the exit's authorization server (port 8099), signed by this node."""
        base = auth_server.rstrip("/")
        if "://" not in base:
            base = "http://" + base
        if base.count(":") < 2:
            base += ":8099"
        url = f"{base}/api/0.3/server/authorize/"
        date = int(now if now is not None else self.clock())
        body, signature = signed_body({"clientPublicKey": client_key, "date": date}, sign)
        return self._post_authorization(url, body, signature, "direct")

    def _post_authorization(self, url: str, body: bytes, signature: str, via: str) -> AuthResult:
        headers = {
            "Authorization": f"cjdns {signature}",
            "Content-Type": "application/json; charset=utf-8",
        }
        resp = self._request("POST", url, body=body, headers=headers)
        raw = read_body(resp)
        try:
            reply = decode_json(raw, "authorization reply")
        except DirectoryError:
            reply = None
        message = ""
        expires: int | None = None
        nameservers: tuple[str, ...] = ()
        if isinstance(reply, dict):
            message = _message(reply)
            exp = _decimal(reply.get("expiresAt"))
            if exp is not None and 0 <= exp < 1 << 40:
                expires = int(exp)
            ns = reply.get("nameservers")
            if isinstance(ns, list):
                nameservers = tuple(x[:100] for x in ns[:16] if isinstance(x, str))
        ok = resp.status_code in (200, 201) and (
            not isinstance(reply, dict) or reply.get("status", "success") == "success"
        )
        if not ok:
            hint = _AUTH_HINTS.get(resp.status_code, "authorization failed")
            detail = message or _snippet(raw) or "(empty reply)"
            raise AuthorizationError(
                f"{hint}: HTTP {resp.status_code} {detail} ({via} {url})", resp.status_code
            )
        return AuthResult(resp.status_code, message, expires, via, url, nameservers)

    # -- premium -----------------------------------------------------------------------------

    def premium_address(self, exit_key: str) -> PaymentRequest:
        url = self.url(f"api/0.4/vpn/server/{quote(exit_key, safe='.')}/premium/address/")
        data = self._get_json(url, "premium offer", "the exit")
        if not isinstance(data, dict) or not isinstance(data.get("address"), str):
            raise DirectoryError("the exit sent an invalid premium offer: no address in it")
        address = data["address"].strip()
        if not address or len(address) > 200:
            raise DirectoryError("the exit sent an invalid premium offer: no address in it")
        amount = _decimal(data.get("amount"))
        if amount is None or amount <= 0:
            raise DirectoryError(
                f"the exit sent an invalid premium price: {str(data.get('amount'))[:40]!r}"
            )
        return PaymentRequest(exit_key, address, amount)

    def post_premium(self, exit_key: str, ip: str, transaction_hex: str, address: str) -> str:
        url = self.url(f"api/0.4/vpn/server/{quote(exit_key, safe='.')}/premium/")
        body = json.dumps({"ip": ip, "transaction": transaction_hex, "address": address}).encode()
        resp = self._request(
            "POST", url, body=body, headers={"Content-Type": "application/json; charset=utf-8"}
        )
        raw = read_body(resp)
        try:
            reply = decode_json(raw, "premium reply", "the exit")
        except DirectoryError:
            reply = None
        message = _message(reply) if isinstance(reply, dict) else _snippet(raw)
        if resp.status_code != 200 or (
            isinstance(reply, dict) and reply.get("status") not in (None, "success")
        ):
            raise DirectoryError(f"premium request refused: HTTP {resp.status_code} {message}")
        return message

    # -- public IP ---------------------------------------------------------------------------

    def public_ip(self, url: str) -> str:
        data = self._get_json(url, "public IP reply", "the public IP service")
        if not isinstance(data, dict) or not isinstance(data.get("ipAddress"), str):
            raise DirectoryError("public IP: no ipAddress in the reply")
        address: str = data["ipAddress"]
        return address[:100]


# -- sorting and filtering -------------------------------------------------------------------

SORT_KEYS: dict[str, Callable[[ExitServer], Any]] = {
    "name": lambda e: (e.name.casefold(), e.public_key),
    "country": lambda e: (e.country_code, e.name.casefold()),
    "load": lambda e: (e.load, e.name.casefold()),
    "quality": lambda e: (-e.quality, e.name.casefold()),
    "cost": lambda e: (e.cost, e.name.casefold()),
    "rating": lambda e: (-(e.average_rating or 0.0), e.name.casefold()),
}


def sort_exits(exits: Iterable[ExitServer], by: str = "name") -> list[ExitServer]:
    if by not in SORT_KEYS:
        raise ValueError(f"cannot sort by {by!r} (choose from {', '.join(SORT_KEYS)})")
    return sorted(exits, key=SORT_KEYS[by])


def filter_exits(
    exits: Iterable[ExitServer],
    *,
    query: str | None = None,
    country: str | None = None,
    premium_only: bool = False,
    include_inactive: bool = True,
) -> list[ExitServer]:
    q = query.casefold() if query else None
    out = []
    for e in exits:
        if not include_inactive and not e.is_active:
            continue
        if premium_only and not e.premium:
            continue
        if country and e.country_code != country.upper():
            continue
        if (
            q
            and q not in e.name.casefold()
            and q not in e.public_key
            and q != e.country_code.casefold()
        ):
            continue
        out.append(e)
    return out


def find_exit(exits: Sequence[ExitServer], text: str) -> ExitServer:
    """By public key, exact name (any case), or a unique part of the name."""
    wanted = text.strip()
    for e in exits:
        if e.public_key == wanted:
            return e
    folded = wanted.casefold()
    exact = [e for e in exits if e.name.casefold() == folded]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [e for e in exits if folded in e.name.casefold()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise DirectoryError(f"no exit named {text!r} (see 'pkt-wallet vpn list')")
    names = ", ".join(sorted(e.name for e in partial)[:6])
    raise DirectoryError(
        f"{text!r} matches several exits: {names}; give more of the name or the key"
    )
