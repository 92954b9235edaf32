"""HTTP for the steward service: GitHub's REST API with ETag revalidation and rate limits.

`GitHubClient.get_json` sends `If-None-Match` with the ETag of the cached copy; a 304 answer
(free under GitHub's rate limit) returns the cached body. An exhausted limit (403 or 429 with
`x-ratelimit-remaining: 0`, or a `retry-after` header) raises `RateLimitedError` with the reset
time; other failures raise `UnreachableError` (with the HTTP status when there was one) or
`MalformedResponseError`. The token, when there is one, is only sent to the API's own host.
"""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests

from miner import safejson

from .errors import MalformedResponseError, RateLimitedError, UnreachableError
from .store import Store

log = logging.getLogger(__name__)

DEFAULT_GITHUB_API = "https://api.github.com"
DEFAULT_RAW_BASE = "https://raw.githubusercontent.com"
USER_AGENT = "pkt-wallet-steward (+https://github.com/pkt-cash/ns-projects viewer)"
ACCEPT_JSON = "application/vnd.github+json"
ACCEPT_RAW = "application/vnd.github.raw+json"
MAX_BODY = 16 * 1024 * 1024
MAX_WAIT = 7 * 86400
"""A ``Retry-After`` longer than a week is not believed."""
MAX_UNIX_TIME = 1 << 40


class HttpStatusError(UnreachableError):
    """The server answered with an HTTP status the caller did not expect."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


def git_blob_sha(content: bytes) -> str:
    """The SHA-1 git gives a file's contents (`git hash-object`)."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def normalise_base_url(url: str) -> str:
    u = url.strip().rstrip("/")
    parts = urlsplit(u)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UnreachableError(f"not an http(s) URL: {url!r}")
    return u


def describe_connection_error(exc: requests.RequestException) -> str:
    """A short reason for a failed connection (the last line of requests' nested message)."""
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "nodename nor servname"):
        if marker in text:
            return marker.lower()
    if "Failed to resolve" in text or "NameResolutionError" in text:
        return "host name not found"
    return type(exc).__name__


@dataclass
class RateLimit:
    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None


class GitHubClient:
    """GET requests to the GitHub REST API (and raw file hosts) with a persistent ETag cache."""

    def __init__(
        self,
        store: Store,
        api_url: str = DEFAULT_GITHUB_API,
        token: str | None = None,
        session: requests.Session | None = None,
        timeout: float = 20.0,
    ) -> None:
        self.store = store
        self.api_url = normalise_base_url(api_url)
        self.token = token
        self.session = session or requests.Session()
        self.timeout = timeout
        self.rate = RateLimit()
        self.requests_made = 0
        self.not_modified = 0

    def url(self, path: str, params: dict[str, str | int] | None = None) -> str:
        """An API URL for `path`; query parameters sorted so cache keys are stable."""
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if params:
            url += ("&" if "?" in url else "?") + urlencode(sorted(params.items()))
        return url

    def _headers(self, url: str, accept: str) -> dict[str, str]:
        headers = {"User-Agent": USER_AGENT, "Accept": accept}
        if accept.startswith("application/vnd.github"):
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        if self.token and urlsplit(url).netloc == urlsplit(self.api_url).netloc:
            headers["Authorization"] = f"Bearer {self.token}"
        return headers

    def _send(self, url: str, headers: dict[str, str]) -> requests.Response:
        host = urlsplit(url).netloc
        try:
            resp = self.session.get(url, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise UnreachableError(
                f"cannot reach {host}: {describe_connection_error(exc)}"
            ) from None
        self.requests_made += 1
        self._note_rate_limit(resp)
        if len(resp.content) > MAX_BODY:
            raise MalformedResponseError(f"{host} sent an oversized answer for {url}")
        return resp

    def _note_rate_limit(self, resp: requests.Response) -> None:
        """Track the core API budget (the search API's own limit is not the core one)."""
        if resp.headers.get("x-ratelimit-resource", "core") != "core":
            return
        rate = _rate_of(resp)
        if rate.limit is not None:
            self.rate.limit = rate.limit
        if rate.remaining is not None:
            self.rate.remaining = rate.remaining
        if rate.reset_at is not None:
            self.rate.reset_at = rate.reset_at

    def _raise_for_status(self, url: str, resp: requests.Response) -> None:
        if resp.status_code in (403, 429):
            rate = _rate_of(resp)
            retry_after = safejson.header_int(resp.headers.get("retry-after"), hi=MAX_WAIT)
            if rate.remaining == 0 or retry_after is not None:
                reset = rate.reset_at
                if retry_after is not None:
                    reset = max(reset or 0.0, time.time() + retry_after)
                resource = resp.headers.get("x-ratelimit-resource", "core")
                raise RateLimitedError(
                    reset, "" if resource == "core" else f" (the {resource} limit)"
                )
        if resp.status_code >= 400:
            detail = ""
            try:
                body = safejson.loads(resp.content, max_bytes=MAX_BODY)
                if isinstance(body, dict) and isinstance(body.get("message"), str):
                    detail = ": " + " ".join(body["message"].split())[:200]
            except safejson.JsonError:
                pass
            host = urlsplit(url).netloc
            raise HttpStatusError(
                resp.status_code, f"{host} answered HTTP {resp.status_code} for {url}{detail}"
            )
        if resp.status_code != 200:
            raise HttpStatusError(resp.status_code, f"unexpected HTTP {resp.status_code} for {url}")

    def get_json(
        self, path: str, params: dict[str, str | int] | None = None, revalidate: bool = True
    ) -> Any:
        """The decoded JSON at an API path, revalidated against the cache with its ETag."""
        url = self.url(path, params)
        headers = self._headers(url, ACCEPT_JSON)
        cached = self.store.cached_response(url)
        if cached is not None:
            if not revalidate:
                return _decode_json(url, cached.body)
            if cached.etag:
                headers["If-None-Match"] = cached.etag
            elif cached.last_modified:
                headers["If-Modified-Since"] = cached.last_modified
        resp = self._send(url, headers)
        if resp.status_code == 304 and cached is not None:
            self.not_modified += 1
            self.store.touch_response(url)
            return _decode_json(url, cached.body)
        self._raise_for_status(url, resp)
        data = _decode_json(url, resp.content)
        self.store.put_response(
            url,
            resp.content,
            resp.headers.get("etag"),
            resp.headers.get("last-modified"),
            resp.headers.get("content-type"),
        )
        return data

    def get_bytes(self, url: str, accept: str = "*/*") -> tuple[bytes, str]:
        """A file's bytes and content type (no caching here: callers cache by blob SHA)."""
        resp = self._send(url, self._headers(url, accept))
        self._raise_for_status(url, resp)
        return resp.content, resp.headers.get("content-type", "")


def _rate_of(resp: requests.Response) -> RateLimit:
    """The rate-limit headers; a value that is not ASCII digits in range is ignored."""
    h = resp.headers
    reset = safejson.header_int(h.get("x-ratelimit-reset"), hi=MAX_UNIX_TIME)
    return RateLimit(
        limit=safejson.header_int(h.get("x-ratelimit-limit"), hi=1 << 40),
        remaining=safejson.header_int(h.get("x-ratelimit-remaining"), hi=1 << 40),
        reset_at=None if reset is None else float(reset),
    )


def _decode_json(url: str, body: bytes) -> Any:
    try:
        return safejson.loads(body, max_bytes=MAX_BODY)
    except safejson.JsonError as exc:
        where = urlsplit(url)
        raise MalformedResponseError(
            f"{where.netloc} sent an invalid reply for {where.path}: {exc}"
        ) from None
