"""A sync with a failing peer listed first, next to an honest one (issue 16): how long
`pkt-wallet sync --until-synced --timeout 20` takes compared with the honest peer alone, and
the longest event-loop stall of the same sync in this process (a loop-lag probe). Peers run
in other processes, on 127.0.0.1; the honest one is a little slower to shake hands (0.3 s) so
the sync starts with the failing one, as in the freeze the issue describes.

Run: .venv/bin/python bench/hostile_peers.py [N]   (default N = 20000 blocks)
"""

import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from spv.node import SpvNode  # noqa: E402
from spv.params import REGTEST  # noqa: E402
from tests.support.app_cli import run_app  # noqa: E402
from tests.support.loop_probe import LoopLagProbe  # noqa: E402
from tests.support.peer_process import PeerProcesses  # noqa: E402
from tests.support.regtest_chain import RegtestChain  # noqa: E402
from tests.support.test_peer import Fault, Misbehaviour  # noqa: E402

SCENARIOS: list[tuple[str, Misbehaviour | None]] = [
    ("honest peer alone", None),
    ("garbage first", Misbehaviour(faults={"getheaders": Fault.GARBAGE})),
    ("bad checksum first", Misbehaviour(faults={"getheaders": Fault.BAD_CHECKSUM})),
    ("disconnect first", Misbehaviour(faults={"getheaders": Fault.DISCONNECT})),
    ("wrong magic first", Misbehaviour(faults={"getheaders": Fault.WRONG_MAGIC})),
    ("slow drip (1 byte/s) first", Misbehaviour(faults={"getheaders": Fault.DRIP})),
]


def cli_sync(datadir: Path, ports: list[int]) -> tuple[float, int, str]:
    peers = [arg for port in ports for arg in ("--peer", f"127.0.0.1:{port}")]
    start = time.perf_counter()
    out = run_app(datadir, "sync", *peers, "--until-synced", "--timeout", "20")
    last = (out.stdout or out.stderr).strip().splitlines()
    return time.perf_counter() - start, out.returncode, last[0] if last else ""


async def node_sync(datadir: Path, ports: list[int], peer_timeout: float) -> tuple[float, str]:
    node = SpvNode(
        REGTEST, datadir, peers=[("127.0.0.1", p) for p in ports], peer_timeout=peer_timeout
    )
    async with LoopLagProbe() as probe, node:
        start = time.perf_counter()
        await node.sync(timeout=60)
        return time.perf_counter() - start, probe.summary()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    chain = RegtestChain()
    chain.mine_many(n)
    servers = PeerProcesses()
    honest = servers.serve(chain, Misbehaviour(handshake_delay=0.3))
    base = Path(tempfile.mkdtemp(prefix="bench-hostile-"))
    print(f"{n:,} regtest blocks; the honest peer answers its handshake after 0.3 s")
    try:
        for i, (label, misbehaviour) in enumerate(SCENARIOS):
            ports = (
                [honest] if misbehaviour is None else [servers.serve(chain, misbehaviour), honest]
            )
            took, code, line = cli_sync(base / f"cli-{i}", ports)
            print(f"{label:28s} CLI sync: {took:5.1f} s, exit {code}: {line}")
            for peer_timeout in (20.0, 2.0) if "drip" in label else (20.0,):
                elapsed, lag = asyncio.run(
                    node_sync(base / f"node-{i}-{peer_timeout}", ports, peer_timeout)
                )
                print(f"{'':28s} in process (peer timeout {peer_timeout:g} s): {elapsed:.1f} s")
                print(f"{'':28s} {lag}")
    finally:
        servers.close()
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
