"""`pkt-wallet --self-test`: check that this installation (source tree or bundle) works.

Each check is a function returning a :class:`CheckResult`; :func:`run_self_test` runs them in a
temporary directory and :func:`format_report` makes the one-line report. Nothing here touches
the network: the main window runs on regtest with no peers and no DNS seeds, on the real
display (offscreen only when QT_QPA_PLATFORM=offscreen asks for it).

The checks:

* ``kernel``: the native PacketCrypt kernel ``miner._kernel`` is the mining backend;
* ``mine``: one announcement mined at an easy target, valid for the native kernel and for the
  pure-Python reference;
* ``address``: pktwallet seed words (the bundled wordlist) and a first receive address derived
  from a known vector (tests/data/pkt/seedwords_hd_vectors.json, vector 1, made with pktd's
  own code);
* ``wallet``: an encrypted wallet created, closed, reopened, its password checked (and a wrong
  one refused), its seed decrypted;
* ``window``: the desktop window opened on the display, drawn, and closed, in a child process
  (Qt aborts a process whose platform plugin cannot load); the system libraries of Qt's X11
  plugin are checked first, so a missing one is named.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from spv.params import MAINNET, REGTEST

EXIT_OK = 0
EXIT_FAILED = 1


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    seconds: float = 0.0


Check = Callable[[Path], CheckResult]
"""A check gets its own empty scratch directory."""


class CheckFailed(Exception):
    """A check's condition does not hold; the message says which."""


def _run_check(name: str, body: Callable[[Path], str], workdir: Path) -> CheckResult:
    """Run `body`; its return value is the detail of a pass, any exception a failure."""
    started = time.perf_counter()
    try:
        detail = body(workdir)
        ok = True
    except CheckFailed as exc:
        detail, ok = str(exc), False
    except Exception as exc:  # an unexpected error is a failed check, reported in one line
        detail, ok = f"{type(exc).__name__}: {exc}", False
        if os.environ.get("PKT_WALLET_SELFTEST_TRACEBACKS") == "1":
            traceback.print_exc()
    return CheckResult(name, ok, " ".join(detail.split()), time.perf_counter() - started)


# --- kernel -------------------------------------------------------------------------------------


def check_native_kernel(workdir: Path) -> CheckResult:
    return _run_check("kernel", _native_kernel, workdir)


def _native_kernel(_workdir: Path) -> str:
    from miner import kernel

    if kernel.BACKEND != "native":
        raise CheckFailed(f"mining backend is {kernel.BACKEND}: {kernel.BACKEND_REASON}")
    return kernel.BACKEND_REASON


# --- mine ---------------------------------------------------------------------------------------

EASY_TARGET_BITS = 0x207FFFFF
PARENT_HASH = bytes(range(0x21, 0x41))
PARENT_HEIGHT = 1_000_000
SIGNING_KEY = bytes(range(0x80, 0xA0))


def check_mining(workdir: Path) -> CheckResult:
    return _run_check("mine", _mine_one_announcement, workdir)


def _mine_one_announcement(_workdir: Path) -> str:
    from miner import kernel
    from miner.reference.announce import AnnHeader

    if "native" not in kernel.available_backends():
        raise CheckFailed(kernel.BACKEND_REASON)  # the reference alone would take minutes
    job = kernel.prepare_job(
        PARENT_HASH, PARENT_HEIGHT, EASY_TARGET_BITS, SIGNING_KEY, hard_nonce=7, backend="native"
    )
    batch = kernel.mine(job, 0, None, 1)
    if not batch.anns:
        raise CheckFailed(f"no announcement found in {batch.scanned} nonces at an easy target")
    ann = batch.anns[0]
    header = AnnHeader.from_bytes(ann)
    if header.signing_key != SIGNING_KEY or header.parent_block_height != PARENT_HEIGHT:
        raise CheckFailed("the mined announcement does not carry the job's fields")
    for backend in ("native", "reference"):
        result = kernel.validate(ann, PARENT_HASH, backend=backend)
        if not result.ok:
            raise CheckFailed(f"the mined announcement fails {backend} validation: {result.code}")
    return f"1 announcement, valid (native and reference), soft nonce {header.soft_nonce}"


# --- address ------------------------------------------------------------------------------------

# tests/data/pkt/seedwords_hd_vectors.json, seedwords_vectors[0] ("vector": 1, no passphrase).
# The decrypted seed is embedded rather than derived: decrypting the words runs pktwallet's
# Argon2id (256 MiB, 32 passes), seconds of work that the wallet tests already cover.
VECTOR_WORDS = (
    "this crew defense easily alien dentist wrong burst purity evolve question eight swim "
    "faculty affair"
)
VECTOR_ENCODED_HEX = "008946edf46f5f138d721edfd4ea03245872ccd706"
VECTOR_SEED_HEX = "4844000102030405060708090a0b0c0d0e0f10"
VECTOR_PATH = "m/44'/0'/0'/0/0"
VECTOR_ADDRESS = "pMry6TwMUByiXX3gqRJXBFnDbw5eAieh7m"


def check_address_vector(workdir: Path) -> CheckResult:
    return _run_check("address", _derive_vector_address, workdir)


def _derive_vector_address(_workdir: Path) -> str:
    from app.wallet import pktseed
    from app.wallet.accounts import AddressKind, output_script
    from app.wallet.bip32 import master_key_from_seed
    from spv.address import address_from_script

    encoded = pktseed.parse_seed_words(VECTOR_WORDS)
    if encoded.raw.hex() != VECTOR_ENCODED_HEX:
        raise CheckFailed("the seed words decode to the wrong bytes (wordlist?)")
    master = master_key_from_seed(bytes.fromhex(VECTOR_SEED_HEX), MAINNET)
    key = master.derive_path(VECTOR_PATH, nonstandard=True)  # pktwallet's derivation
    address = address_from_script(output_script(AddressKind.P2PKH, key.public_key), MAINNET)
    if address != VECTOR_ADDRESS:
        raise CheckFailed(f"{VECTOR_PATH} gives {address}, expected {VECTOR_ADDRESS}")
    return f"{VECTOR_PATH} = {address}"


# --- wallet -------------------------------------------------------------------------------------

WALLET_NAME = "selftest"
WALLET_PASSWORD = "self-test password"


def check_wallet_round_trip(workdir: Path) -> CheckResult:
    return _run_check("wallet", _wallet_round_trip, workdir)


def _wallet_round_trip(workdir: Path) -> str:
    from app.wallet import keystore
    from app.wallet.wallet import PasswordError, Wallet

    datadir = workdir / "wallet"
    wallet, mnemonic = Wallet.create(datadir, WALLET_NAME, REGTEST, WALLET_PASSWORD)
    address = wallet.receive_address()
    wallet.close()
    reopened = Wallet.open(datadir, WALLET_NAME, REGTEST)
    try:
        if reopened.receive_address() != address:
            raise CheckFailed("the reopened wallet has another receive address")
        reopened.check_password(WALLET_PASSWORD)
        try:
            reopened.check_password(WALLET_PASSWORD + "!")
        except PasswordError:
            pass
        else:
            raise CheckFailed("a wrong password was accepted")
        secrets = keystore.open_wallet(reopened.key_path, WALLET_PASSWORD)
    finally:
        reopened.close()
    if secrets.mnemonic != mnemonic:
        raise CheckFailed("the decrypted seed differs from the one created")
    kdf = keystore.read_header(reopened.key_path).get("kdf")
    kdf_name = kdf.get("name") if isinstance(kdf, dict) else kdf
    return f"{kdf_name} key file created, reopened, password checked, seed decrypted"


# --- window -------------------------------------------------------------------------------------

WINDOW_FLAG = "--self-test-window"
"""The hidden command-line flag that runs the window check itself, in a child process: Qt
aborts the whole process when its platform plugin cannot load, and the report must still be
printed."""
WINDOW_TIMEOUT = 120.0


def check_main_window(workdir: Path) -> CheckResult:
    return _run_check("window", _open_and_close_window, workdir)


def window_child_command(datadir: Path) -> list[str]:
    """How to run the window check in a child process: the bundle's program, or this Python."""
    if getattr(sys, "frozen", False):
        return [sys.executable, WINDOW_FLAG, str(datadir)]
    return [sys.executable, "-m", "app", WINDOW_FLAG, str(datadir)]


def _open_and_close_window(workdir: Path) -> str:
    """The real window on the real platform (X11, Wayland, …) whenever there is a display;
    Qt's offscreen platform only when asked (QT_QPA_PLATFORM=offscreen)."""
    from app import qt_libraries
    from app.resources import resource_path

    icon = resource_path("icons/pkt-wallet.svg")  # the child checks that it draws
    if not icon.is_file():
        raise CheckFailed(f"the app icon {icon} does not load (missing)")
    if sys.platform.startswith("linux") and not any(
        os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    ):
        raise CheckFailed(
            "no display to open the window on (DISPLAY is not set): run the self-test on the "
            "desktop, or with QT_QPA_PLATFORM=offscreen to check everything but the screen"
        )
    if qt_libraries.wants_xcb():
        missing = qt_libraries.missing_libraries()
        if missing:
            raise CheckFailed(qt_libraries.describe_missing(missing))
    try:
        done = subprocess.run(
            window_child_command(workdir / "datadir"),
            capture_output=True,
            text=True,
            timeout=WINDOW_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        raise CheckFailed(
            f"the window did not open and close within {WINDOW_TIMEOUT:.0f} s"
        ) from None
    lines = done.stdout.strip().splitlines()
    said = lines[-1] if lines else ""
    if done.returncode == 0 and said.startswith("ok: "):
        return said.removeprefix("ok: ")
    if said.startswith("failed: "):
        raise CheckFailed(said.removeprefix("failed: "))
    # Qt's first lines say why (e.g. "could not connect to display :1"); the last ones list
    # the platform plugins.
    qt_said = " | ".join([line.strip() for line in done.stderr.splitlines() if line.strip()][:3])
    raise CheckFailed(
        f"the window process ended with status {done.returncode}"
        + (f" (it said: {qt_said})" if qt_said else "")
    )


def window_child_main(datadir: str) -> int:
    """The child process of the window check: one line on stdout, "ok: …" or "failed: …"."""
    try:
        from app.gui.selftest_window import open_and_close_main_window
    except ImportError as exc:
        print(f"failed: the desktop window is not available: {exc}", flush=True)
        return EXIT_FAILED
    try:
        detail = open_and_close_main_window(Path(datadir))
    except Exception as exc:  # reported in one line to the parent
        print(f"failed: {' '.join(str(exc).split())}", flush=True)
        return EXIT_FAILED
    print(f"ok: {detail}", flush=True)
    return EXIT_OK


# --- running ------------------------------------------------------------------------------------

ALL_CHECKS: tuple[Check, ...] = (
    check_native_kernel,
    check_mining,
    check_address_vector,
    check_wallet_round_trip,
    check_main_window,
)


@dataclass(frozen=True)
class SelfTestReport:
    results: tuple[CheckResult, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)


def run_self_test(checks: Sequence[Check] = ALL_CHECKS) -> SelfTestReport:
    """Run `checks`, each in its own scratch directory (removed afterwards)."""
    started = time.perf_counter()
    results: list[CheckResult] = []
    with tempfile.TemporaryDirectory(prefix="pkt-wallet-selftest-") as scratch:
        for number, check in enumerate(checks):
            workdir = Path(scratch) / str(number)
            workdir.mkdir()
            results.append(check(workdir))
    return SelfTestReport(tuple(results), time.perf_counter() - started)


def format_report(report: SelfTestReport) -> str:
    """One line: PASS/FAIL, then each check; a failed check says why."""
    parts = []
    for r in report.results:
        parts.append(f"{r.name} ok: {r.detail}" if r.ok else f"{r.name} FAILED: {r.detail}")
    verdict = "PASS" if report.ok else "FAIL"
    return f"self-test {verdict} in {report.seconds:.1f} s: " + "; ".join(parts)


def main() -> int:
    """The `--self-test` flag: print the report, exit 0 only if every check passed."""
    report = run_self_test()
    print(format_report(report), flush=True)
    return EXIT_OK if report.ok else EXIT_FAILED
