"""One-click announcement mining as a headless service the GUI and the CLI drive.

:class:`MiningService` checks the payout address for the network (it refuses to start without
a valid one), then runs :class:`miner.annmine.AnnMiner`: worker threads on the native kernel,
the pool clients, the watchdog and the statistics. Events go out through ``on_event(kind,
payload)`` — pass ``AppCore.emit`` — from the mining threads (not the network thread):
``mining.state``, ``mining.job``, ``mining.pool``, ``mining.stats`` (a snapshot dict every
``stats_interval`` seconds) and ``mining.watchdog``.

What it earned comes from the wallet (``Wallet.coinbase_earnings``, kept per UTC day by the
wallet database; summed for the page by :mod:`app.mining.earnings`); its status as text is in
:mod:`app.mining.status_text`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from miner import kernel
from miner.annmine import AnnMiner, HistorySample, MinerOptions, MiningSnapshot
from miner.pool.protocol import check_payto
from miner.workers import Engine, check_threads, cpu_count, default_threads
from spv.address import decode_address
from spv.errors import AddressError
from spv.params import NetworkParams

log = logging.getLogger(__name__)

EventCallback = Callable[[str, object], None]


class MiningError(ValueError):
    """A reason mining cannot start, worded for the user."""


def validate_payout(address: str | None, params: NetworkParams) -> str:
    """The payout address in canonical form; raises :class:`MiningError` when it is missing or
    not an address of ``params``' network."""
    if address is None or not address.strip():
        raise MiningError(
            "no payout address: mining needs an address of yours to be paid to "
            "(open or create a wallet, or give a payout address)"
        )
    try:
        canonical = decode_address(address, params).encode(params)
    except AddressError as exc:
        raise MiningError(f"payout address {address.strip()!r} is not valid: {exc}") from None
    try:
        return check_payto(canonical)
    except ValueError as exc:
        raise MiningError(str(exc)) from None


def validate_pools(pools: Iterable[str]) -> list[str]:
    out: list[str] = []
    for url in pools:
        url = url.strip().rstrip("/")
        if not url:
            continue
        if not url.startswith(("http://", "https://")):
            raise MiningError(f"pool {url!r}: the URL must start with http:// or https://")
        if url not in out:
            out.append(url)
    if not out:
        raise MiningError("no pool to mine for")
    return out


class MiningService:
    """Start, stop and watch announcement mining."""

    def __init__(
        self,
        params: NetworkParams,
        *,
        on_event: EventCallback | None = None,
        default_payout: Callable[[], str | None] | None = None,
        options: MinerOptions | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.params = params
        self.on_event = on_event
        self.default_payout = default_payout
        self.options = options or MinerOptions()
        self.engine = engine
        self._lock = threading.Lock()
        self._miner: AnnMiner | None = None
        self.payout: str | None = None
        self.pools: list[str] = []

    @property
    def running(self) -> bool:
        miner = self._miner
        return miner is not None and miner.running

    def start(
        self,
        payout: str | None = None,
        pools: Sequence[str] = (),
        threads: int | None = None,
    ) -> str:
        """Start mining; returns the payout address used. ``payout`` None: the wallet's receive
        address (``default_payout``). Raises :class:`MiningError` for a missing or invalid
        payout address, no pools, a bad thread count, or when already mining."""
        if payout is None and self.default_payout is not None:
            payout = self.default_payout()
        address = validate_payout(payout, self.params)
        urls = validate_pools(pools)
        if threads is None:
            threads = self.options.threads or default_threads()
        try:
            check_threads(threads)
        except ValueError as exc:
            raise MiningError(str(exc)) from None
        with self._lock:
            if self.running:
                raise MiningError("already mining; stop first")
            opts = MinerOptions(**{**self.options.__dict__, "threads": threads})
            miner = AnnMiner(urls, address, opts, on_event=self._emit, engine=self.engine)
            miner.start()
            self._miner = miner
            self.payout, self.pools = address, urls
        log.info("mining for %s on %s with %d threads", address, ", ".join(urls), threads)
        return address

    def stop(self, timeout: float = 2.0) -> bool:
        with self._lock:
            miner = self._miner
        if miner is None:
            return True
        return miner.stop(timeout)

    def set_threads(self, n: int) -> None:
        try:
            check_threads(n)
        except ValueError as exc:
            raise MiningError(str(exc)) from None
        self.options.threads = n
        miner = self._miner
        if miner is not None and miner.running:
            miner.set_threads(n)

    @staticmethod
    def max_threads() -> int:
        return cpu_count()

    @property
    def backend(self) -> str:
        return kernel.BACKEND_REASON

    def snapshot(self) -> MiningSnapshot | None:
        """The current statistics (None before the first start)."""
        miner = self._miner
        return miner.snapshot() if miner is not None else None

    def stats(self) -> dict[str, Any]:
        snap = self.snapshot()
        if snap is None:
            return {"running": False}
        data = snap.to_json()
        data["payout"] = self.payout
        return data

    def history(self) -> list[HistorySample]:
        miner = self._miner
        return miner.history() if miner is not None else []

    def _emit(self, kind: str, payload: object) -> None:
        if self.on_event is not None:
            self.on_event(kind, payload)
