"""A PKT full node's JSON-RPC for the Electorium vote: listaddresses, getwinners, getaddressinfo.

JSON-RPC 1.0 over HTTP(S) POST with basic auth and positional parameters, as pktd serves it
(PKT-FullNode PR #3 `rpcserver.go`): errors come back with HTTP 200 and an `error` object
(`-32601` when the method is unknown), a wrong user or password is HTTP 401. Every failure is a
`NodeRpcError` subclass whose message is one sentence for the user; the password is never
logged or shown, and a user:password written in the URL is used and then dropped from it.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

import requests

from miner import safejson

from ..errors import StewardError
from ..http import describe_connection_error

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES = 16 << 20
DEFAULT_TIMEOUT = 30.0
METHOD_NOT_FOUND = -32601
MAX_PAGES = 100_000  # 20 million addresses at ~200 a page


class NodeRpcError(StewardError):
    """Talking to the full node failed; the message says how, for the user."""


class NodeUnreachableError(NodeRpcError):
    pass


class NodeAuthError(NodeRpcError):
    pass


class NodeMethodMissingError(NodeRpcError):
    def __init__(self, method: str, message: str) -> None:
        self.method = method
        super().__init__(message)


class NodeAnswerError(NodeRpcError):
    """The node answered something that is not what the method returns."""


class NodeCallError(NodeRpcError):
    """The node returned a JSON-RPC error."""

    def __init__(self, code: int | None, node_message: str, message: str) -> None:
        self.code = code
        self.node_message = node_message
        super().__init__(message)


@dataclass(frozen=True)
class ElectionResult:
    vote_close_height: int  # the deadline D (counted as of block D - 1)
    winner: str  # address text, "" for no winner
    vote_table_hash: str  # hex


@dataclass(frozen=True)
class NodeWinners:
    next_election_block: int
    next_inauguration_block: int
    next_election_estimated_time: int  # Unix time
    next_inauguration_estimated_time: int
    results: tuple[ElectionResult, ...]  # newest first

    def result_for(self, deadline: int) -> ElectionResult | None:
        return next((r for r in self.results if r.vote_close_height == deadline), None)


def _split_credentials(url: str) -> tuple[str, str | None, str | None]:
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in ("http", "https") or not parts.hostname or port == -1:
        shown = urlunsplit((parts.scheme, parts.hostname or "", parts.path, "", ""))
        raise NodeRpcError(
            f"the node RPC address must be an http:// or https:// URL with a host, not {shown!r}"
        )
    netloc = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    if port is not None:
        netloc += f":{port}"
    clean = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    return clean, user, password


def _int(value: Any, what: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise NodeAnswerError(f"{where} sent {what} that is not a whole number")
    return value


class NodeRpcClient:
    """Blocking calls; run them off the GUI thread (the core's worker or network thread)."""

    def __init__(
        self,
        url: str,
        user: str | None = None,
        password: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        tls_verify: bool | str = True,
        session: requests.Session | None = None,
    ) -> None:
        self.url, url_user, url_password = _split_credentials(url)
        user = user if user is not None else url_user
        password = password if password is not None else url_password
        self._auth = (user, password or "") if user is not None else None
        self.timeout = timeout
        self.tls_verify = tls_verify
        self.session = session or requests.Session()
        self._ids = itertools.count(1)

    def __repr__(self) -> str:
        return f"NodeRpcClient({self.url!r})"

    @property
    def where(self) -> str:
        return f"the node at {self.url}"

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """One JSON-RPC call; the `result` or a NodeRpcError."""
        request_id = next(self._ids)
        body = {"jsonrpc": "1.0", "id": request_id, "method": method, "params": params or []}
        try:
            resp = self.session.post(
                self.url,
                json=body,
                auth=self._auth,
                timeout=self.timeout,
                verify=self.tls_verify,
                stream=True,
            )
        except requests.exceptions.SSLError:
            raise NodeUnreachableError(
                f"{self.where} did not answer: its TLS certificate is not trusted "
                "(give the node's rpc.cert file)"
            ) from None
        except requests.Timeout:
            raise NodeUnreachableError(
                f"{self.where} did not answer within {self.timeout:g} s"
            ) from None
        except requests.RequestException as exc:
            raise NodeUnreachableError(
                f"{self.where} did not answer ({describe_connection_error(exc)})"
            ) from None
        with resp:
            content = self._read(resp)
        if resp.status_code in (401, 403):
            raise NodeAuthError(f"{self.where} refused the RPC user name or password")
        if resp.status_code == 404:
            raise NodeAnswerError(f"{self.where} has no JSON-RPC service at that path")
        try:
            answer = safejson.loads(content, max_bytes=MAX_ANSWER_BYTES)
        except safejson.JsonError as exc:
            status = f"HTTP {resp.status_code}, " if resp.status_code != 200 else ""
            raise NodeAnswerError(
                f"{self.where} answered {method} with something that is not JSON-RPC "
                f"({status}{exc})"
            ) from None
        if not isinstance(answer, dict) or ("result" not in answer and "error" not in answer):
            raise NodeAnswerError(f"{self.where} answered {method} without a result or an error")
        error = answer.get("error")
        if error is not None:
            raise self._call_error(method, error)
        if resp.status_code != 200:
            raise NodeAnswerError(f"{self.where} answered {method} with HTTP {resp.status_code}")
        return answer.get("result")

    def _read(self, resp: requests.Response) -> bytes:
        chunks = []
        size = 0
        try:
            for chunk in resp.iter_content(64 * 1024):
                size += len(chunk)
                if size > MAX_ANSWER_BYTES:
                    raise NodeAnswerError(
                        f"{self.where} sent an answer larger than {MAX_ANSWER_BYTES >> 20} MiB"
                    )
                chunks.append(chunk)
        except requests.RequestException as exc:
            raise NodeUnreachableError(
                f"{self.where} stopped answering ({describe_connection_error(exc)})"
            ) from None
        return b"".join(chunks)

    def _call_error(self, method: str, error: Any) -> NodeRpcError:
        code = error.get("code") if isinstance(error, dict) else None
        code = code if isinstance(code, int) and not isinstance(code, bool) else None
        text = error.get("message") if isinstance(error, dict) else error
        text = str(text)[:300] if text is not None else ""
        if code == METHOD_NOT_FOUND:
            return NodeMethodMissingError(
                method,
                f"{self.where} does not offer {method} (it needs a PKT full node with the "
                "Electorium vote indexer)",
            )
        return NodeCallError(code, text, f"{self.where} refused {method}: {text or code}")

    # --- the vote methods ---

    def list_addresses(
        self, starting_address: str = "", current: bool = False, voting_only: bool = False
    ) -> dict[str, Any]:
        """One `listaddresses` page (about 200 addresses), checked for its shape only."""
        result = self.call("listaddresses", [starting_address, current, voting_only])
        if not isinstance(result, dict) or not isinstance(result.get("addresses"), list):
            raise NodeAnswerError(f"{self.where} answered listaddresses without an address list")
        return result

    def address_pages(
        self, current: bool = False, voting_only: bool = False, max_pages: int = MAX_PAGES
    ) -> Iterator[dict[str, Any]]:
        """Every page in order, each continuing from the last address of the one before."""
        start = ""
        starts = {start}
        for _ in range(max_pages):
            page = self.list_addresses(start, current, voting_only)
            yield page
            if page.get("has_more") is not True:
                return
            entries = page["addresses"]
            last = entries[-1].get("address") if entries and isinstance(entries[-1], dict) else None
            if not isinstance(last, str) or not last or last in starts:
                raise NodeAnswerError(
                    f"{self.where} says it has more addresses but gives no way on"
                )
            starts.add(last)
            start = last
        raise NodeAnswerError(f"{self.where} sent more than {max_pages} pages of addresses")

    def get_winners(self, height: int | None = None) -> NodeWinners:
        """`getwinners`: the next election and past results (newest first)."""
        result = self.call("getwinners", [height] if height is not None else [])
        where = self.where
        if not isinstance(result, dict):
            raise NodeAnswerError(f"{where} answered getwinners without an object")
        raw = result.get("Results", result.get("results"))
        if raw is None:
            raw = []  # Go writes an empty slice as null
        if not isinstance(raw, list):
            raise NodeAnswerError(f"{where} answered getwinners with Results that is not a list")
        results = []
        for item in raw:
            if not isinstance(item, dict):
                raise NodeAnswerError(
                    f"{where} answered getwinners with a result that is no object"
                )
            winner, table_hash = item.get("winner", ""), item.get("vote_table_hash", "")
            if not isinstance(winner, str) or not isinstance(table_hash, str):
                raise NodeAnswerError(f"{where} answered getwinners with a malformed result")
            results.append(
                ElectionResult(
                    _int(item.get("vote_close_height"), "a vote_close_height", where),
                    winner,
                    table_hash,
                )
            )
        return NodeWinners(
            next_election_block=_int(
                result.get("next_election_block"), "a next_election_block", where
            ),
            next_inauguration_block=_int(
                result.get("next_inaguration_block"), "a next_inaguration_block", where
            ),
            next_election_estimated_time=_int(
                result.get("next_election_estimated_time"), "an estimated time", where
            ),
            next_inauguration_estimated_time=_int(
                result.get("next_inaguration_estimated_time"), "an estimated time", where
            ),
            results=tuple(results),
        )

    def get_address_info(self, address: str, current: bool = False) -> dict[str, Any] | None:
        """`getaddressinfo`: the address's balance and vote, or None when the node has neither."""
        result = self.call("getaddressinfo", [address, current])
        if result is None:
            return None
        if not isinstance(result, dict) or not isinstance(result.get("address"), str):
            raise NodeAnswerError(f"{self.where} answered getaddressinfo without an address")
        return result
