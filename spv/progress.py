"""Sync progress: what stage the light client is in, how far, how fast; reported to a callback."""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .chain import HeaderChain
from .filterheaders import FilterHeaderStore
from .peer import Peer


@dataclass
class SyncProgress:
    stage: str  # connecting, headers, filter headers, filters, blocks, synced
    height: int
    target: int
    peers: int
    filter_header_height: int
    filter_height: int
    rate: float = 0.0  # items per second in this stage
    eta: float | None = None  # seconds

    def as_dict(self) -> dict[str, object]:
        return dict(self.__dict__)


class ProgressReporter:
    """Builds a `SyncProgress` for each stage change and hands it to `on_progress`."""

    def __init__(
        self,
        chain: HeaderChain,
        filter_headers: FilterHeaderStore,
        peers: Mapping[str, Peer],
        scan_height: Callable[[], int],
        on_progress: Callable[[SyncProgress], None] | None,
    ) -> None:
        self.chain = chain
        self.filter_headers = filter_headers
        self.peers = peers
        self.scan_height = scan_height
        self.on_progress = on_progress
        self.progress = SyncProgress("connecting", chain.height, chain.height, 0, -1, -1)

    def restart(self) -> None:
        """Back to "connecting", with the stores' current heights (not reported)."""
        self.progress = SyncProgress(
            "connecting",
            self.chain.height,
            self.chain.height,
            0,
            self.filter_headers.tip_height,
            self.scan_height(),
        )

    def stage(self, stage: str, current: int, target: int, rate: float = 0.0) -> None:
        eta = (target - current) / rate if rate > 0 and target > current else None
        self.progress = SyncProgress(
            stage,
            self.chain.height,
            max(target, self.chain.height),
            len(self.peers),
            self.filter_headers.tip_height,
            self.scan_height(),
            rate,
            eta,
        )
        if stage != "headers":
            self.progress.target = max(
                [self.chain.height] + [p.info.best_height for p in self.peers.values()]
            )
        self.report()

    def report(self) -> None:
        self.progress.peers = len(self.peers)
        if self.on_progress is not None:
            self.on_progress(self.progress)
