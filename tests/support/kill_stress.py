"""SIGKILL a process in the middle of wallet writes and password changes, then check what is on
disk: shared by ``bench/stress_kill.py`` (at least 200 kills per scenario) and
``tests/test_stress_kill.py`` (a quick version in ``make test``).

A child process (``python -m tests.support.kill_stress child SCENARIO DATADIR``) opens the
wallet, says ``ready``, then loops on one kind of write and prints ``ok TOKEN`` after each call
returned, i.e. once the wallet reported it committed. The parent kills it (SIGKILL) at a random
moment and checks:

* **corrupt**: the wallet database fails ``PRAGMA integrity_check`` or does not open, or the key
  file opens with none of the passwords it may have;
* **lost**: something printed as committed is missing (a label, a payment recorded as
  pending, a payout of a block whose scan position was committed, a password change).

Scenarios: ``labels`` (set_label), ``sends`` (create_send, sign, record_pending), ``sync``
(Wallet.on_block_transactions + on_scan_progress, as the light client's watcher calls them:
coinbase payouts recorded block by block), ``node-sync`` (the same driven by the real light
client, ``sync_wallet`` with an ``SpvNode`` against a loopback peer in another process; after
each full sync the wallet is rewound to a random height, as a reorg does, and syncs again),
``password`` (change_password with the default Argon2id key file; after the next start no
file opens with an older password, or it counts as lost).
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WALLET = "stress"
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
"""For the wallet-write scenarios: the key file is not what they test (the password one uses
the real default, Argon2id)."""
SCENARIOS = ("labels", "sends", "sync", "node-sync", "password")
WINDOW = {"labels": 0.4, "sends": 0.8, "sync": 0.6, "node-sync": 4.0, "password": 2.0}
"""Seconds after `ready` within which the kill lands (uniformly)."""
FUNDING_OUTPUTS = 4000
FUNDING_VALUE = 1_000_000
SYNC_START = 1000
NODE_BLOCKS = 5000
"""Blocks of the node-sync chain, each paying the wallet (a miner's wallet)."""


def password(i: int) -> str:
    return f"password {i}"


# --- the child ---------------------------------------------------------------------------------


def _params():  # type: ignore[no-untyped-def]
    from spv.params import REGTEST

    return REGTEST


def _destination() -> str:
    from spv.address import p2wpkh_address

    return p2wpkh_address(b"\x02" * 33, _params()).encode(_params())


def _coinbase(height: int, script: bytes, value: int):  # type: ignore[no-untyped-def]
    from spv.tx import OutPoint, Transaction, TxIn, TxOut

    sig = height.to_bytes(4, "little") + b"stress"
    return Transaction(1, (TxIn(OutPoint(bytes(32), 0xFFFFFFFF), sig, 0xFFFFFFFF),),
                       (TxOut(value, script),), 0)  # fmt: skip


def child(scenario: str, datadir: Path) -> None:
    from app.wallet import keystore
    from app.wallet.wallet import Wallet

    out = sys.stdout
    if scenario == "password":
        key = datadir / "wallets" / f"{WALLET}.wallet"
        i = int((datadir / "password_index").read_text())
        for p in range(i, i + 2):  # the file is under password i or i+1 (a change not reported)
            try:
                keystore.open_wallet(key, password(p))
            except keystore.WrongPasswordError:
                continue
            i = p
            break
        print("ready", flush=True)
        while True:
            keystore.change_password(key, password(i), password(i + 1))
            i += 1
            print(f"ok {i}", file=out, flush=True)
    wallet = Wallet.open(datadir, WALLET, _params())
    if scenario == "node-sync":
        _node_sync(wallet, datadir)
    print("ready", flush=True)
    n = int(time.time() * 1000)  # grows from one child to the next
    if scenario == "labels":
        addresses = [a.address for a in wallet.addresses()][:50]
        while True:
            n += 1
            target = addresses[n % len(addresses)]
            wallet.set_label(target, f"label {n}")
            print(f"ok {target} label {n}", file=out, flush=True)
    if scenario == "sends":
        dest = _destination()
        while True:
            n += 1
            preview = wallet.create_send([(dest, 10_000 + n % 1000)], fee_rate=1)
            tx = wallet.sign(preview, "pw")
            wallet.record_pending(tx)
            print(f"ok {tx.txid_hex}", file=out, flush=True)
    if scenario == "sync":
        height = max(wallet.synced_height, SYNC_START - 1)
        script = wallet.accounts[wallet.default_account].keys[0][0].script  # type: ignore[union-attr]
        while True:
            height += 1
            block_hash = height.to_bytes(4, "little") * 8
            wallet.on_block_transactions(height, block_hash, 1_700_000_000 + height,
                                         [_coinbase(height, script, 5000 + height)])  # fmt: skip
            if height % 3 == 0:  # the node commits the scan position every few blocks
                wallet.on_scan_progress(height)
                print(f"ok {height}", file=out, flush=True)
    raise SystemExit(f"unknown scenario {scenario}")


def _node_sync(wallet, datadir: Path) -> None:  # type: ignore[no-untyped-def]
    """Sync with the light client, report each committed scan position, rewind, again."""
    import asyncio

    from app.wallet.sync import sync_wallet
    from spv.node import SpvNode

    port = int((datadir / "peer_port").read_text())
    commit = wallet.on_scan_progress

    def on_scan_progress(height: int) -> None:
        commit(height)
        print(f"ok {height}", flush=True)

    wallet.on_scan_progress = on_scan_progress  # the node calls the watcher's method
    rng = random.Random()

    async def loop() -> None:
        print("ready", flush=True)
        while True:
            node = SpvNode(_params(), datadir, peers=[("127.0.0.1", port)], target_peers=1)
            async with node:
                await sync_wallet(wallet, node, timeout=600)
            height = rng.randrange(0, max(1, wallet.synced_height))
            print(f"rewind {height}", flush=True)  # before: the rewind may commit unreported
            wallet.on_chain_rewound(height)

    asyncio.run(loop())


# --- set-up ------------------------------------------------------------------------------------------


def setup(scenario: str, datadir: Path) -> Callable[[], None]:
    """The wallet (and for node-sync the chain and its peer process); returns the clean-up."""
    from app.wallet.wallet import Wallet
    from spv.address import script_for_address
    from spv.tx import OutPoint, Transaction, TxIn, TxOut

    datadir.mkdir(parents=True, exist_ok=True)
    if scenario == "password":
        Wallet.create(datadir, WALLET, _params(), password(0))[0].close()
        (datadir / "password_index").write_text("0")
        return lambda: None
    wallet, _ = Wallet.create(datadir, WALLET, _params(), "pw", kdf_params=FAST_KDF)
    if scenario == "node-sync":
        from tests.support.peer_process import PeerProcesses
        from tests.support.regtest_chain import RegtestChain

        script = script_for_address(wallet.receive_address(), _params())
        wallet.close()
        chain = RegtestChain()
        for _ in range(NODE_BLOCKS):
            chain.mine(pay_to=script)
        peers = PeerProcesses()
        (datadir / "peer_port").write_text(str(peers.serve(chain)))
        return peers.close
    if scenario == "sends":
        keys = wallet.accounts[wallet.default_account].keys[0]
        scripts = [k.script for k in keys[:20]]  # type: ignore[union-attr]
        for batch in range(FUNDING_OUTPUTS // 500):
            outputs = tuple(TxOut(FUNDING_VALUE, scripts[i % 20]) for i in range(500))
            funding = Transaction(
                1, (TxIn(OutPoint(bytes([batch + 1]) * 32, 0), b"", 0xFFFFFFFF),), outputs, 0
            )
            wallet.on_block_transactions(10 + batch, bytes([batch + 9]) * 32, 1_700_000_000,
                                         [funding])  # fmt: skip
        wallet.ledger.tip_height = 100
    wallet.close()
    return lambda: None


# --- the parent --------------------------------------------------------------------------------------


class ChildFailed(RuntimeError):
    """The writing process did not start, or stopped before the kill."""


@dataclass
class Outcome:
    scenario: str
    kills: int = 0
    corrupt: int = 0
    lost: int = 0
    committed: int = 0
    """Operations reported as committed before the kills."""
    problems: list[str] = field(default_factory=list)

    def note(self, kind: str, text: str) -> None:
        if kind == "corrupt":
            self.corrupt += 1
        else:
            self.lost += 1
        if len(self.problems) < 20:
            self.problems.append(f"{kind}: {text}")


def _run_child(scenario: str, datadir: Path, rng: random.Random) -> list[str]:
    """Start, wait for ready, kill at a random moment; the lines printed before the kill."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.kill_stress", "child", scenario, str(datadir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert proc.stdout is not None
    try:
        first = proc.stdout.readline()
        if first.strip() != "ready":
            proc.kill()
            _, err = proc.communicate(timeout=30)
            raise ChildFailed(f"{scenario} child did not start: {first!r} {err[-2000:]}")
        time.sleep(rng.uniform(0, WINDOW[scenario]))
        proc.send_signal(signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if proc.returncode != -signal.SIGKILL:
        raise ChildFailed(f"{scenario} child ended by itself ({proc.returncode}): {err[-2000:]}")
    return [line for line in rest.splitlines() if line.startswith(("ok ", "rewind "))]


def _integrity(db: Path) -> str:
    try:
        con = sqlite3.connect(db)
        try:
            return str(con.execute("PRAGMA integrity_check").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error as exc:
        return f"sqlite error: {exc}"


def _check_wallet(scenario: str, datadir: Path, oks: list[str], state: dict, out: Outcome) -> None:  # type: ignore[type-arg]
    from app.wallet.wallet import Wallet

    db = datadir / "wallets" / f"{WALLET}.db"
    check = _integrity(db)
    if check != "ok":
        out.note("corrupt", f"{scenario}: integrity_check says {check}")
        return
    try:
        wallet = Wallet.open(datadir, WALLET, _params())
    except Exception as exc:  # any failure to open is corruption
        out.note("corrupt", f"{scenario}: the wallet does not open: {type(exc).__name__}: {exc}")
        return
    try:
        if scenario == "labels":
            for line in oks:  # the last reported label of each address, or a later one
                _, target, _, n = line.split()
                state[target] = int(n)
            for target, n in state.items():
                text = wallet.labels.get(target, "")
                if not text.startswith("label ") or int(text.split()[1]) < n:
                    out.note("lost", f"label of {target}: {text!r}, 'label {n}' was committed")
        elif scenario == "sends":
            state.setdefault("txids", []).extend(line.split()[1] for line in oks)
            for txid in state["txids"]:
                try:
                    wallet.history_entry(txid)
                except Exception:
                    out.note("lost", f"payment {txid} recorded as pending is gone")
        elif scenario in ("sync", "node-sync"):
            first = SYNC_START if scenario == "sync" else 1
            for line in oks:  # ok HEIGHT, or rewind HEIGHT (printed before the rewind)
                word, height = line.split()
                before = state.get("height", first - 1)
                state["height"] = int(height) if word == "rewind" else max(int(height), before)
            committed = state.get("height", first - 1)
            if wallet.synced_height < committed:
                out.note("lost", f"scan position {wallet.synced_height} < committed {committed}")
            have = {e.height for e in wallet.history()}
            missing = [h for h in range(first, committed + 1) if h not in have]
            if missing:
                out.note(
                    "lost", f"{len(missing)} payouts of committed blocks missing: {missing[:5]}"
                )
    finally:
        wallet.close()


def _check_password(datadir: Path, oks: list[str], state: dict, out: Outcome) -> None:  # type: ignore[type-arg]
    from app.paths import prepare_datadir
    from app.wallet import keystore

    if oks:
        state["reported"] = int(oks[-1].split()[1])
    reported = state.get("reported", 0)
    wallets = datadir / "wallets"
    key = wallets / f"{WALLET}.wallet"
    opens = []
    for p in (reported, reported + 1):
        try:
            keystore.open_wallet(key, password(p))
            opens.append(p)
        except keystore.WrongPasswordError:
            continue
        except Exception as exc:
            out.note("corrupt", f"key file: {type(exc).__name__}: {exc}")
            return
    if not opens:
        older = [p for p in range(max(0, reported - 3), reported) if _opens(key, password(p))]
        if older:
            out.note("lost", f"key file opens with password {older[0]}, {reported} was reported")
        else:
            out.note("corrupt", "the key file opens with neither password")
        return
    (datadir / "password_index").write_text(str(opens[0]))
    prepare_datadir(datadir)  # the next start: temporaries of the killed write go
    current = opens[0]
    for p in wallets.iterdir():
        if p == key:
            continue
        for old in range(max(0, current - 3), current):
            if _opens(p, password(old)):
                out.note("lost", f"{p.name} still opens with an older password ({old})")


def _opens(path: Path, pw: str) -> bool:
    from app.wallet import keystore

    try:
        keystore.open_wallet(path, pw)
    except (keystore.KeystoreError, OSError):
        return False
    return True


def stress(scenario: str, kills: int, workdir: Path, seed: int) -> Outcome:
    rng = random.Random(seed)
    datadir = workdir / scenario
    cleanup = setup(scenario, datadir)
    out = Outcome(scenario)
    state: dict = {}  # type: ignore[type-arg]
    try:
        for _ in range(kills):
            try:
                lines = _run_child(scenario, datadir, rng)
            except ChildFailed as exc:  # it could not even start: its files are broken
                out.kills += 1
                out.note("corrupt", str(exc))
                continue
            out.kills += 1
            out.committed += sum(line.startswith("ok ") for line in lines)
            if scenario == "password":
                _check_password(datadir, lines, state, out)
            else:
                _check_wallet(scenario, datadir, lines, state, out)
    finally:
        cleanup()
    return out


if __name__ == "__main__" and len(sys.argv) == 4 and sys.argv[1] == "child":
    child(sys.argv[2], Path(sys.argv[3]))
