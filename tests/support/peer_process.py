"""Test peers in child processes (forked, so they get the chain without copying it by hand):
for benches, where a peer in a thread would share the client's GIL and CPU time."""

import multiprocessing
import time
from types import TracebackType

from .regtest_chain import RegtestChain
from .test_peer import Misbehaviour, TestPeer


def _serve(
    chain: RegtestChain, misbehaviour: Misbehaviour | None, ports: "multiprocessing.Queue[int]"
) -> None:
    peer = TestPeer(chain, misbehaviour=misbehaviour)
    peer.start()
    ports.put(peer.port)
    time.sleep(24 * 3600)  # until terminated


class PeerProcesses:
    def __init__(self) -> None:
        self._ctx = multiprocessing.get_context("fork")
        self._ports: multiprocessing.Queue[int] = self._ctx.Queue()
        self._processes: list[multiprocessing.process.BaseProcess] = []

    def serve(self, chain: RegtestChain, misbehaviour: Misbehaviour | None = None) -> int:
        """Start a peer serving `chain` on 127.0.0.1; returns its port."""
        process = self._ctx.Process(
            target=_serve, args=(chain, misbehaviour, self._ports), daemon=True
        )
        process.start()
        self._processes.append(process)
        return self._ports.get(timeout=60)

    def close(self) -> None:
        for process in self._processes:
            process.terminate()
            process.join(5)
        self._processes.clear()

    def __enter__(self) -> "PeerProcesses":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
