"""Wallet files: create/open, backup confirmation, restore from BIP39 and pktwallet seeds
(vectors), wrong password, damaged/truncated key and state files, kill -9 during state writes,
locking, labels and CSV export."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from app.wallet import bip39, pktseed
from app.wallet.wallet import (
    BackupCheckError,
    KeyFileError,
    PasswordError,
    StateFileError,
    Wallet,
    WalletError,
    WalletExistsError,
    WalletLockedError,
    WalletNotFoundError,
    list_wallets,
)
from spv.address import address_from_script, decode_address, encode_wif
from spv.params import MAINNET, REGTEST

ROOT = Path(__file__).resolve().parents[2]
FAST_KDF = {"n": 1024, "r": 8, "p": 1}
PASSWORD = "pw 1"
ABANDON = "abandon " * 11 + "about"


def make(tmp_path: Path, name: str = "w") -> tuple[Wallet, str]:
    return Wallet.create(tmp_path, name, REGTEST, PASSWORD, kdf_params=FAST_KDF)


def test_create_open_backup_confirmation(tmp_path: Path) -> None:
    wallet, mnemonic = make(tmp_path)
    words = mnemonic.split()
    assert len(words) == 12 and bip39.is_valid_mnemonic(mnemonic)
    assert not wallet.backed_up
    first = wallet.receive_address()
    assert first.startswith("bcrt1q") and wallet.receive_address() == first
    with pytest.raises(BackupCheckError, match="word 2 is not right"):
        wallet.confirm_backup({1: words[0], 2: words[3] if words[3] != words[1] else "zoo"})
    wallet.confirm_backup({3: words[2], 7: words[6].upper(), 12: words[11]})
    wallet.close()
    with pytest.raises(WalletExistsError):
        make(tmp_path)
    again = Wallet.open(tmp_path, "w", REGTEST)
    assert again.backed_up and again.receive_address() == first
    assert again.receive_address(new=True) != first
    # the secrets are not in the wallet database
    again.save()
    data = b"".join(
        p.read_bytes() for p in again.state_path.parent.glob(again.state_path.name + "*")
    )
    assert (words[0] + " " + words[1]).encode() not in data
    assert b"xprv" not in data and b"tprv" not in data
    # later confirmations need the password
    with pytest.raises(BackupCheckError, match="password"):
        again.confirm_backup({1: words[0], 2: words[1]})
    with pytest.raises(PasswordError, match="wrong password"):
        again.confirm_backup({1: words[0], 2: words[1]}, "bad")
    again.confirm_backup({1: words[0], 2: words[1]}, PASSWORD)
    assert list_wallets(tmp_path) == ["w"]
    with pytest.raises(WalletLockedError):
        Wallet.open(tmp_path, "w", REGTEST)
    again.close()
    with pytest.raises(WalletNotFoundError, match="no wallet named 'x'"):
        Wallet.open(tmp_path, "x", REGTEST)
    with pytest.raises(StateFileError, match="regtest wallet, not mainnet"):
        Wallet.open(tmp_path, "w", MAINNET)
    with pytest.raises(WalletError, match="bad wallet name"):
        Wallet.open(tmp_path, "../x", REGTEST)


def test_bip39_restore_matches_published_bip84_vector(tmp_path: Path) -> None:
    wallet = Wallet.restore(tmp_path, "r", MAINNET, PASSWORD, ABANDON, kdf_params=FAST_KDF)
    assert wallet.seed_type == "bip39" and wallet.restoring and wallet.backed_up
    # BIP84 m/84'/0'/0'/0/0 of "abandon ... about": bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu
    address = decode_address(wallet.receive_address(), MAINNET)
    assert address.to_script().hex() == "0014c0cebcd6c3d3ca8c75dc5ec62ebe55330ef910e2"
    paths = {a.path for a in wallet.addresses()}
    assert {"m/84'/0'/0'/0/19", "m/84'/0'/0'/1/19", "m/49'/0'/0'/0/0", "m/44'/0'/0'/1/0"} <= paths
    wallet.close()
    with pytest.raises(WalletError, match="invalid seed words"):
        Wallet.restore(tmp_path, "bad", MAINNET, PASSWORD, ABANDON.replace("about", "abandon"))


def test_fifteen_bip39_words_are_not_taken_for_a_pktwallet_seed(tmp_path: Path) -> None:
    mnemonic = bip39.entropy_to_mnemonic(bytes(20))
    with pytest.raises(pktseed.SeedWordsError):
        pktseed.parse_seed_words(mnemonic)
    wallet = Wallet.restore(tmp_path, "r15", REGTEST, PASSWORD, mnemonic, kdf_params=FAST_KDF)
    assert wallet.seed_type == "bip39"
    wallet.close()


def test_pktwallet_restore_matches_vectors(
    tmp_path: Path, seed_vectors: Any, seed_kdf: Callable[[bytes], bytes]
) -> None:
    vector = next(v for v in seed_vectors["seedwords_vectors"] if not v["passphrase"])
    wallet = Wallet.restore(
        tmp_path,
        "pkt",
        MAINNET,
        PASSWORD,
        vector["words"],
        "",
        seed_kdf=seed_kdf,
        kdf_params=FAST_KDF,
    )
    assert wallet.seed_type == "pktwallet"
    assert wallet.birthday == date.fromisoformat(vector["birthday_utc"][:10])
    known = {(a.path, a.address) for a in wallet.addresses()}
    for entry in vector["addresses"]:
        assert (entry["Path"], entry["Address"]) in known, entry["Path"]
    # m/49' change keys are watched in both forms
    kinds = {a.kind for a in wallet.addresses() if a.path == "m/49'/0'/0'/1/0"}
    assert kinds == {"p2wpkh", "p2sh-p2wpkh"}
    assert wallet.receive_address().startswith("pkt1q")
    assert wallet.receive_address(legacy=True).startswith("p")
    wallet.close()


def test_wrong_password_and_damaged_or_truncated_key_file(tmp_path: Path) -> None:
    make(tmp_path)[0].close()
    wallet = Wallet.open(tmp_path, "w", REGTEST)  # no mnemonic in memory: checks need the keys
    with pytest.raises(PasswordError, match="^wrong password$"):
        wallet.change_password("nope", "new")
    wallet.change_password(PASSWORD, "new pw")
    with pytest.raises(PasswordError):
        wallet.confirm_backup({1: "a", 2: "b"}, PASSWORD)
    raw = wallet.key_path.read_text()
    marker = '"ciphertext": "'
    at = raw.index(marker) + len(marker) + 10
    flipped = raw[:at] + ("0" if raw[at] != "0" else "1") + raw[at + 1 :]
    wallet.key_path.write_text(flipped)
    with pytest.raises(KeyFileError, match="damaged or modified"):
        wallet.confirm_backup({1: "a", 2: "b"}, "new pw")
    wallet.key_path.write_text(raw[: len(raw) // 2])
    with pytest.raises(KeyFileError, match="truncated or damaged"):
        wallet.confirm_backup({1: "a", 2: "b"}, "new pw")
    wallet.key_path.unlink()
    with pytest.raises(KeyFileError, match="missing"):
        wallet.confirm_backup({1: "a", 2: "b"}, "new pw")
    # the wallet still opens (watch-only) without its key file
    wallet.close()
    Wallet.open(tmp_path, "w", REGTEST).close()


def test_damaged_database_is_refused_then_repaired(tmp_path: Path) -> None:
    wallet, _ = make(tmp_path)
    first = wallet.receive_address()
    wallet.set_label(first, "shop")
    wallet.close()
    db = wallet.state_path
    assert db.name == "w.db" and db.stat().st_mode & 0o777 == 0o600
    db.write_bytes(db.read_bytes()[:100])  # truncated
    with pytest.raises(StateFileError, match="pkt-wallet repair --wallet w"):
        Wallet.open(tmp_path, "w", REGTEST)
    db.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StateFileError, match="pkt-wallet repair --wallet w"):
        Wallet.open(tmp_path, "w", REGTEST)
    with pytest.raises(PasswordError):
        Wallet.repair(tmp_path, "w", REGTEST, "bad")
    repaired = Wallet.repair(tmp_path, "w", REGTEST, PASSWORD)
    assert repaired.receive_address() == first and repaired.restoring
    repaired.close()
    assert db.with_name("w.db.damaged").read_bytes().startswith(b"\x00garbage")
    with Wallet.open(tmp_path, "w", REGTEST) as again:
        assert again.receive_address() == first
    db.unlink()
    with pytest.raises(StateFileError, match="missing"):
        Wallet.open(tmp_path, "w", REGTEST)


WRITER = """
import sys
from pathlib import Path
from spv.params import REGTEST
from app.wallet.wallet import Wallet
w = Wallet.open(Path(sys.argv[1]), "w", REGTEST)
address = w.receive_address()
print("ready", flush=True)
n = 0
while True:
    n += 1
    w.set_label(address, f"label {n} " + "x" * (n % 500))  # committed when it returns
    print(n, flush=True)
"""


def test_kill_9_during_wallet_writes_loses_nothing_committed(tmp_path: Path) -> None:
    wallet, _ = make(tmp_path)
    first = wallet.receive_address()
    wallet.close()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for delay in (0.05, 0.13, 0.21, 0.34):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path)],
            stdout=subprocess.PIPE,
            env=env,
            cwd=ROOT,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        done = [int(line) for line in proc.stdout.read().split()]
        reopened = Wallet.open(tmp_path, "w", REGTEST)
        assert reopened.receive_address() == first
        label = reopened.labels[first]
        # every label reported as written is there (the last one, or one written after it)
        assert int(label.split()[1]) >= (done[-1] if done else 0)
        reopened.close()


def test_old_json_state_file_is_imported_with_everything(tmp_path: Path) -> None:
    """A wallet written by the JSON-state code (tests/data/wallet/legacy_v1) opens as before:
    same balance, history, coins, labels, frozen coins and receive address."""
    import json
    import shutil

    data = ROOT / "tests" / "data" / "wallet" / "legacy_v1"
    expected = json.loads((data / "expected.json").read_text())
    folder = tmp_path / "wallets"
    folder.mkdir()
    for name in ("miner.wallet", "miner.state.json"):
        shutil.copy(data / name, folder / name)
    assert list_wallets(tmp_path) == ["miner"]
    wallet = Wallet.open(tmp_path, "miner", REGTEST)
    assert wallet.balance().to_json() == expected["balance"]
    assert [e.to_json() for e in wallet.history()] == expected["history"]
    assert sorted(str(c.outpoint) for c in wallet.coins()) == expected["coins"]
    assert sorted(str(o) for o in wallet.frozen) == expected["frozen"]
    assert wallet.labels == expected["labels"]
    assert wallet.synced_height == expected["synced_height"]
    assert wallet.receive_address() == expected["receive_address"]
    wallet.check_password(expected["password"])  # the key file is unchanged
    wallet.close()
    assert not (folder / "miner.state.json").exists()
    assert (folder / "miner.state.json.imported").exists()  # kept as a backup
    assert list_wallets(tmp_path) == ["miner"]
    again = Wallet.open(tmp_path, "miner", REGTEST)  # the database from now on
    assert [e.to_json() for e in again.history()] == expected["history"]
    again.close()


def test_damaged_old_state_file_is_imported_from_its_backup(tmp_path: Path) -> None:
    import shutil

    data = ROOT / "tests" / "data" / "wallet" / "legacy_v1"
    folder = tmp_path / "wallets"
    folder.mkdir()
    shutil.copy(data / "miner.wallet", folder / "miner.wallet")
    shutil.copy(data / "miner.state.json", folder / "miner.state.json.bak")
    (folder / "miner.state.json").write_text('{"format": "pkt-wallet-state", "vers')
    wallet = Wallet.open(tmp_path, "miner", REGTEST)
    assert wallet.recovered_from_backup and wallet.history_count() == 32
    wallet.close()
    (folder / "miner.db").unlink()
    (folder / "miner.state.json.imported").write_text("{")
    (folder / "miner.state.json.imported").rename(folder / "miner.state.json")
    (folder / "miner.state.json.bak").write_text("[]")
    with pytest.raises(StateFileError, match="damaged.*pkt-wallet repair --wallet miner"):
        Wallet.open(tmp_path, "miner", REGTEST)
    assert not list(folder.glob(".miner.db*"))  # no half-built database left behind


def test_labels_and_csv_export(tmp_path: Path) -> None:
    wallet, _ = make(tmp_path)
    address = wallet.receive_address()
    wallet.set_label(address, "savings")
    assert next(a for a in wallet.addresses() if a.address == address).label == "savings"
    with pytest.raises(WalletError, match="not a txid or address"):
        wallet.set_label("nonsense", "x")
    csv_path = tmp_path / "h.csv"
    text = wallet.export_csv(csv_path)
    assert text.splitlines() == ["date,txid,amount,fee,balance,label,confirmations"]
    assert csv_path.read_text() == text
    uri = wallet.payment_uri(amount=150_000_000, label="tea")
    assert uri == f"pkt:{address}?amount=1.5&label=tea"
    wallet.close()


def test_import_key_is_remembered_with_its_rescan(tmp_path: Path) -> None:
    wallet, _ = make(tmp_path)
    wallet.synced_height = 500  # as if synced: the import must rescan from the start
    wallet.save()
    wif = encode_wif(b"\x07" * 32, True, REGTEST)
    with pytest.raises(WalletError, match="invalid private key"):
        wallet.import_key("5notakey", PASSWORD)
    address = wallet.import_key(wif, PASSWORD, label="paper")
    with pytest.raises(WalletError, match="already imported"):
        wallet.import_key(wif, PASSWORD)
    wallet.close()
    again = Wallet.open(tmp_path, "w", REGTEST)
    assert again.pending_rescan == 0
    infos = [a for a in again.addresses() if a.path == "imported"]
    assert [a.address for a in infos][0] == address and {a.kind for a in infos} == {
        "p2wpkh",
        "p2pkh",
        "p2sh-p2wpkh",
    }
    assert infos[0].label == "paper"
    again.close()


def _paying(script: bytes, value: int) -> Any:
    from spv.tx import OutPoint, Transaction, TxIn, TxOut

    return Transaction(
        1, (TxIn(OutPoint(b"\x31" * 32, 0), b"", 0xFFFFFFFF),), (TxOut(value, script),), 0
    )


def test_mining_address_is_steady_and_changeable(tmp_path: Path) -> None:
    wallet, _ = make(tmp_path)
    receive = wallet.receive_address()
    mining = wallet.mining_address()
    assert mining != receive and wallet.labels[mining] == "Mining"
    assert wallet.receive_address() == receive  # the Receive page keeps its own address
    wallet.on_block_transactions(  # once the receive address is paid, the next one is not
        1,  # the mining address (unused until the pool pays it) but the one after
        b"",
        1_700_000_000,
        [_paying(decode_address(receive, REGTEST).to_script(), 1000)],
    )
    after = wallet.receive_address()
    assert after not in (receive, mining)
    wallet.close()
    again = Wallet.open(tmp_path, "w", REGTEST)
    assert again.mining_address() == mining  # kept across restarts
    with pytest.raises(WalletError, match="not an address of wallet 'w'"):
        again.set_mining_address(address_from_script(bytes.fromhex("0014" + "42" * 20), REGTEST))
    with pytest.raises(WalletError, match="invalid regtest address"):
        again.set_mining_address("nonsense")
    assert again.set_mining_address(receive) == receive == again.mining_address()
    fresh = again.set_mining_address(None)
    assert fresh not in (receive, mining) and again.mining_address() == fresh
    again.close()


def test_a_failure_half_way_through_a_block_commits_nothing_of_it(tmp_path: Path) -> None:
    """A write that fails in the middle of a block (a full disk, say) rolls the whole
    uncommitted batch back and reloads the wallet: nothing half-written is ever committed,
    and the same block recorded again afterwards gives the right wallet."""
    from spv.tx import OutPoint, Transaction, TxIn, TxOut

    wallet, _ = make(tmp_path)
    script = decode_address(wallet.receive_address(), REGTEST).to_script()

    def coinbase(height: int, value: int) -> Transaction:
        txin = TxIn(OutPoint(b"\x00" * 32, 0xFFFFFFFF), height.to_bytes(4, "little"), 0xFFFFFFFF)
        return Transaction(1, (txin,), (TxOut(value, script),), 0)

    wallet.on_block_transactions(1, b"", 1_700_000_000, [coinbase(1, 5000)])
    wallet.on_scan_progress(1)
    payment = Transaction(
        1, (TxIn(OutPoint(b"\x42" * 32, 0), b"", 0xFFFFFFFF),), (TxOut(700, script),), 0
    )
    real_add = wallet.ledger.add
    seen: list[Transaction] = []

    def add_then_fail(tx: Transaction, **kwargs: Any) -> Any:
        seen.append(tx)
        if len(seen) == 2:
            raise OSError(28, "No space left on device")
        return real_add(tx, **kwargs)

    wallet.ledger.add = add_then_fail  # type: ignore[method-assign]
    with pytest.raises(OSError):
        wallet.on_block_transactions(2, b"", 1_700_000_060, [coinbase(2, 6000), payment])
    assert wallet.history_count() == 1 and wallet.synced_height == 1  # block 2: nothing kept
    wallet.save()
    assert wallet.ledger.add is not add_then_fail  # reloaded from the database
    wallet.on_block_transactions(2, b"", 1_700_000_060, [coinbase(2, 6000), payment])
    wallet.on_scan_progress(2)
    assert [e.amount for e in wallet.history()] == [5000, 6000, 700]
    wallet.close()
    with Wallet.open(tmp_path, "w", REGTEST) as again:
        assert again.history_count() == 3 and again.synced_height == 2
