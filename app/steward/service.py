"""The Network Steward service: the headless API the CLI and the desktop window use.

* `refresh()` reads `pkt-cash/ns-projects` from GitHub into the cache (`sync.Refresher`);
  `proposals()` and `find()` only read the cache, so the viewer works offline.
* `election()` asks the explorer API for the on-chain state and caches the last answer.
* `plan_vote()` checks the candidates of a 2019-2023 OP_VOTE vote; the wallet builds the
  transaction (`Wallet.create_legacy_vote`). Today's Electorium votes: `app.wallet.voting`.
* `node_settings()` / `save_node()` / `save_node_password()`: the full node whose vote RPC
  counts the Electorium election (`app.steward.electorium.service`); its password goes to the
  OS keyring when there is one.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from spv.params import NetworkParams

from .errors import NotFoundError, RateLimitedError, StewardError, age_text, format_local_time
from .explorer import DEFAULT_EXPLORER_API, ElectionState, ExplorerClient
from .http import DEFAULT_GITHUB_API, GitHubClient, normalise_base_url
from .proposal import (
    ACCEPTED,
    CANCELLED,
    COMPLETE,
    IN_PROGRESS,
    PROPOSED,
    REJECTED,
    SORT_KEYS,
    STATUSES,
    Proposal,
)
from .store import (
    SETTING_BRANCH,
    SETTING_EXPLORER,
    SETTING_GITHUB_API,
    SETTING_NODE_PASSWORD,
    SETTING_NODE_URL,
    SETTING_NODE_USER,
    SETTING_RAW_BASE,
    SETTING_REPO,
    SETTING_TOKEN,
    Store,
)
from .sync import DEFAULT_BRANCH, DEFAULT_REPO, PROJECT_LABEL, Refresher, RefreshReport
from .vote import VotePlan, plan_vote

log = logging.getLogger(__name__)

KEYRING_SERVICE = "pkt-wallet"
KEYRING_TOKEN_USER = "github-token"
KEYRING_NODE_USER = "node-rpc-password"


_STATUS_ALIASES = {
    "open": PROPOSED,
    "under review": PROPOSED,
    "review": PROPOSED,
    "submitted": PROPOSED,
    "approved": ACCEPTED,
    "funded": ACCEPTED,
    "in-progress": IN_PROGRESS,
    "in_progress": IN_PROGRESS,
    "inprogress": IN_PROGRESS,
    "progress": IN_PROGRESS,
    "completed": COMPLETE,
    "done": COMPLETE,
    "closed": REJECTED,
    "canceled": CANCELLED,
}


def check_node_url(url: str) -> str:
    """A full node's RPC address as http(s)://host[:port][/path], without a user or password
    in it (they have their own settings); raises StewardError with the reason."""
    from .electorium.noderpc import NodeRpcClient

    text = url.strip()
    if "@" in text.partition("://")[2].partition("/")[0]:
        raise StewardError("give the node's RPC user and password in their own fields")
    return NodeRpcClient(text).url


def parse_status(text: str) -> str:
    t = re.sub(r"\s+", " ", text.strip().casefold())
    if t in STATUSES:
        return t
    if t in _STATUS_ALIASES:
        return _STATUS_ALIASES[t]
    raise StewardError(f"unknown status {text!r}; choose from: {', '.join(STATUSES)}")


@dataclass(frozen=True)
class CacheStatus:
    last_refreshed: float | None
    last_attempt: float | None
    last_error: str | None
    rate_limit_reset: float | None
    proposals: int
    complete: bool
    source: str | None

    def describe(self, now: float) -> str:
        if self.last_refreshed is None:
            return "never refreshed (run `pkt-wallet steward refresh`)"
        text = (
            f"last refreshed {format_local_time(self.last_refreshed)} "
            f"({age_text(now - self.last_refreshed)})"
        )
        if not self.complete:
            text += ", incomplete"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_refreshed": self.last_refreshed,
            "last_attempt": self.last_attempt,
            "last_error": self.last_error,
            "rate_limit_reset": self.rate_limit_reset,
            "proposals": self.proposals,
            "complete": self.complete,
            "source": self.source,
        }


@dataclass(frozen=True)
class ElectionView:
    state: ElectionState | None
    from_cache: bool
    error: str | None  # why fresh data could not be had (when from_cache or state is None)


@dataclass(frozen=True)
class NodeSettings:
    """The full node whose vote RPC counts the election (None: no node configured)."""

    url: str | None
    user: str | None
    password: str | None = field(repr=False)  # never shown or logged
    password_source: str | None = None  # "keyring", "settings" or None

    @property
    def configured(self) -> bool:
        return self.url is not None


def _keyring_secret(user: str) -> str | None:
    try:
        import keyring
    except ImportError:
        return None
    try:
        secret: str | None = keyring.get_password(KEYRING_SERVICE, user)
        return secret
    except Exception as exc:  # no backend, locked keychain, D-Bus trouble: none then
        log.debug("nothing read from the OS keyring: %s", exc)
        return None


def _keyring_token() -> str | None:
    return _keyring_secret(KEYRING_TOKEN_USER)


def _keyring_node_password() -> str | None:
    return _keyring_secret(KEYRING_NODE_USER)


class StewardService:
    def __init__(
        self,
        datadir: Path,
        params: NetworkParams,
        *,
        session: requests.Session | None = None,
        clock: Callable[[], float] = time.time,
        timeout: float = 20.0,
        keyring_lookup: Callable[[], str | None] = _keyring_token,
        node_password_lookup: Callable[[], str | None] = _keyring_node_password,
    ) -> None:
        self.params = params
        self.store = Store(datadir)
        self.session = session
        self.clock = clock
        self.timeout = timeout
        self._keyring_lookup = keyring_lookup
        self._node_password_lookup = node_password_lookup

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> StewardService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- settings ---------------------------------------------------------------------------

    def github_api_url(self) -> str:
        return self.store.setting(SETTING_GITHUB_API) or DEFAULT_GITHUB_API

    def explorer_api_url(self) -> str | None:
        saved = self.store.setting(SETTING_EXPLORER)
        if saved:
            return saved
        return DEFAULT_EXPLORER_API if self.params.name == "mainnet" else None

    def set_setting(self, key: str, value: str | None) -> None:
        if value is not None and key in (SETTING_GITHUB_API, SETTING_RAW_BASE, SETTING_EXPLORER):
            value = normalise_base_url(value)
        self.store.set_setting(key, value)

    def settings(self) -> dict[str, Any]:
        saved = self.store.settings()
        token_source = (
            "settings" if saved.get(SETTING_TOKEN) else ("keyring" if self._token() else None)
        )
        return {
            "github_api_url": self.github_api_url(),
            "github_raw_url": saved.get(SETTING_RAW_BASE),
            "explorer_api_url": self.explorer_api_url(),
            "repository": saved.get(SETTING_REPO, DEFAULT_REPO),
            "branch": saved.get(SETTING_BRANCH, DEFAULT_BRANCH),
            "github_token": token_source,
            "node_rpc_url": saved.get(SETTING_NODE_URL),
            "node_rpc_user": saved.get(SETTING_NODE_USER),
            "node_rpc_password": self.node_settings().password_source,
        }

    def _token(self) -> str | None:
        return self.store.setting(SETTING_TOKEN) or self._keyring_lookup()

    def save_token(self, token: str | None) -> str:
        """Keep a GitHub token in the OS keyring (else in the cache's settings); say where."""
        return self._save_secret(KEYRING_TOKEN_USER, SETTING_TOKEN, token)

    def _save_secret(self, keyring_user: str, setting: str, secret: str | None) -> str:
        """Keep a secret in the OS keyring (else in the cache's settings); say where."""
        try:
            import keyring

            if secret:
                keyring.set_password(KEYRING_SERVICE, keyring_user, secret)
            else:
                try:
                    keyring.delete_password(KEYRING_SERVICE, keyring_user)
                except Exception as exc:  # nothing stored, or no backend
                    log.debug("keyring delete: %s", exc)
            self.store.set_setting(setting, None)
            return "OS keyring"
        except Exception as exc:  # keyring missing or without a usable backend
            log.debug("keyring unavailable: %s", exc)
        self.store.set_setting(setting, secret or None)
        return f"{self.store.path} (no OS keyring available; stored unencrypted)"

    # --- the full node that counts the election ---------------------------------------------

    def node_settings(self) -> NodeSettings:
        saved = self.store.setting(SETTING_NODE_PASSWORD)
        from_keyring = None if saved else self._node_password_lookup()
        return NodeSettings(
            self.store.setting(SETTING_NODE_URL),
            self.store.setting(SETTING_NODE_USER),
            saved or from_keyring,
            "settings" if saved else ("keyring" if from_keyring else None),
        )

    def save_node(self, url: str | None, user: str | None) -> None:
        """The node's RPC address ("" or None: no node) and user; checked, not contacted."""
        clean = None
        if url and url.strip():
            clean = check_node_url(url)
        self.store.set_setting(SETTING_NODE_URL, clean)
        self.store.set_setting(SETTING_NODE_USER, user.strip() if user and user.strip() else None)

    def save_node_password(self, password: str | None) -> str:
        """Keep the node's RPC password in the OS keyring (else the settings); say where."""
        return self._save_secret(KEYRING_NODE_USER, SETTING_NODE_PASSWORD, password)

    # --- proposals --------------------------------------------------------------------------

    def cache_status(self) -> CacheStatus:
        s = self.store
        report = s.meta("last_report")
        return CacheStatus(
            last_refreshed=s.meta("last_refreshed"),
            last_attempt=s.meta("last_attempt"),
            last_error=s.meta("last_error"),
            rate_limit_reset=s.meta("rate_limit_reset"),
            proposals=len(s.proposals()),
            complete=bool(report.get("complete", True)) if isinstance(report, dict) else True,
            source=s.meta("source"),
        )

    def refresh(
        self, api_url: str | None = None, raw_url: str | None = None, force: bool = False
    ) -> RefreshReport:
        """Read the repository into the cache. Overrides given here are saved as settings."""
        api = normalise_base_url(api_url) if api_url else self.github_api_url()
        raw = normalise_base_url(raw_url) if raw_url else self.store.setting(SETTING_RAW_BASE)

        def save_overrides() -> None:  # once the server has answered
            if api_url:
                self.store.set_setting(SETTING_GITHUB_API, api)
            if raw_url:
                self.store.set_setting(SETTING_RAW_BASE, raw)

        now = self.clock()
        reset = self.store.meta("rate_limit_reset")
        if not force and isinstance(reset, (int, float)) and now < reset:
            raise RateLimitedError(float(reset))
        client = GitHubClient(
            self.store,
            api,
            token=self._token(),
            session=self.session,
            timeout=self.timeout,
        )
        refresher = Refresher(
            client,
            repo=self.store.setting(SETTING_REPO) or DEFAULT_REPO,
            branch=self.store.setting(SETTING_BRANCH) or DEFAULT_BRANCH,
            label=PROJECT_LABEL,
            raw_base=raw,
            clock=self.clock,
        )
        self.store.set_meta(last_attempt=now)
        try:
            proposals, report = refresher.run()
        except RateLimitedError as exc:
            save_overrides()
            self.store.set_meta(rate_limit_reset=exc.reset_at, last_error=str(exc))
            raise
        except StewardError as exc:
            self.store.set_meta(last_error=str(exc))
            raise
        save_overrides()
        self.store.replace_proposals(
            proposals,
            {
                "last_refreshed": report.finished_at,
                "last_report": report.to_dict(),
                "last_error": None,
                "rate_limit_reset": None,
                "source": client.api_url,
            },
        )
        return report

    def proposals(
        self,
        *,
        status: str | Iterable[str] | None = None,
        text: str | None = None,
        min_pkt: int | None = None,
        max_pkt: int | None = None,
        sort: str = "date",
        newest_first: bool = True,
    ) -> list[Proposal]:
        """Cached proposals, filtered: any of the statuses, every word of `text`, amounts."""
        items = self.store.proposals()
        if status:
            wanted = {
                parse_status(s)
                for part in ([status] if isinstance(status, str) else list(status))
                for s in part.split(",")
                if s.strip()
            }
            items = [p for p in items if p.status in wanted]
        if text:
            words = [w.casefold() for w in text.split()]
            items = [p for p in items if all(w in p.search_text() for w in words)]
        if min_pkt is not None:
            items = [p for p in items if p.requested_pkt is not None and p.requested_pkt >= min_pkt]
        if max_pkt is not None:
            items = [p for p in items if p.requested_pkt is not None and p.requested_pkt <= max_pkt]
        if sort not in SORT_KEYS:
            raise StewardError(f"unknown sort key {sort!r}; choose from: {', '.join(SORT_KEYS)}")
        if sort == "date":
            items.sort(key=lambda p: (p.date or "", p.id), reverse=newest_first)
        elif sort == "amount":
            items.sort(key=lambda p: (p.requested_pkt or 0, p.id), reverse=True)
        elif sort == "status":
            items.sort(key=lambda p: (STATUSES.index(p.status), p.date or ""))
        else:
            items.sort(key=lambda p: p.title.casefold())
        return items

    def find(self, ident: str) -> Proposal:
        """A proposal by id, pull-request number (`12`, `#12`, `pr-12`) or unique text."""
        items = self.store.proposals()
        key = ident.strip().casefold()
        if not key:
            raise NotFoundError("give a proposal id")
        for p in items:
            if p.id.casefold() == key:
                return p
        m = re.fullmatch(r"(?:#|pr-?|pull/)?(\d+)", key)
        if m:
            number = int(m.group(1))
            for p in items:
                if any(pr.number == number for pr in p.pull_requests):
                    return p
        matches = [p for p in items if key in p.id.casefold() or key in p.title.casefold()]
        if len(matches) == 1:
            return matches[0]
        if not matches:
            hint = "" if items else " (the cache is empty: run `pkt-wallet steward refresh`)"
            raise NotFoundError(f"no proposal matches {ident!r}{hint}")
        names = ", ".join(p.id for p in matches[:6]) + (", …" if len(matches) > 6 else "")
        raise NotFoundError(f"{ident!r} matches {len(matches)} proposals: {names}")

    # --- election ---------------------------------------------------------------------------

    def cached_election(self) -> ElectionState | None:
        data = self.store.meta("election")
        if not isinstance(data, dict):
            return None
        try:
            return ElectionState.from_dict(data)
        except (KeyError, TypeError, ValueError):
            return None

    def election(self, explorer_url: str | None = None) -> ElectionView:
        """The on-chain state from the explorer; on failure the cached state with the error."""
        base = normalise_base_url(explorer_url) if explorer_url else self.explorer_api_url()
        if base is None:
            return ElectionView(
                self.cached_election(),
                True,
                f"no explorer API is known for {self.params.name}: set one with --explorer-url",
            )
        try:
            state = ExplorerClient(base, self.session, self.timeout).election(self.clock())
        except StewardError as exc:
            return ElectionView(self.cached_election(), True, str(exc))
        if explorer_url:
            self.store.set_setting(SETTING_EXPLORER, base)
        self.store.set_meta(election=state.to_dict())
        return ElectionView(state, False, None)

    # --- votes ------------------------------------------------------------------------------

    def plan_vote(self, vote_for: str | None, vote_against: str | None = None) -> VotePlan:
        return plan_vote(vote_for, vote_against, self.params, self.clock())
