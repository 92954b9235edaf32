"""CLI commands of the HD wallet (`create`, `restore`, `address`, `balance`, `send`, ...).

This module registers every wallet command; the ones that spend (`send`, `consolidate`,
`sweep`, `bump`) are in `app.cli.spending`, the Network Steward `vote` in `app.cli.voting`.

Automation contract:

* ``--wallet NAME`` picks ``<datadir>/wallets/NAME.wallet`` (default ``default``).
* ``--password-stdin`` reads the password from the first line of stdin (``create
  --with-passphrase``: then the seed passphrase on the second line; ``restore``: three lines,
  the new wallet password, the seed words, the seed's own passphrase (may be empty);
  ``change-password``: the old then the new password). Without it, secrets are asked on the
  terminal; they are never taken from the command line and never printed (except the new
  mnemonic, once, by ``create``).
* ``balance``, ``history``, ``coins``, ``send``, ``consolidate``, ``vote`` and ``sweep`` first sync
  with the peers (``--peer``, or the DNS seeds) until caught up, unless ``--offline``.
* Amounts in JSON are integers in units; in text, coins. Errors are one line on stderr.
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from spv.address import address_from_script
from spv.units import parse_amount

from ..wallet import unlock_cache
from ..wallet import wallet as wallet_mod
from ..wallet.model import HistoryEntry, outpoint_text
from ..wallet.wallet import Wallet
from .common import CLIError, Context, coins_text, seconds
from .spending import cmd_bump, cmd_consolidate, cmd_send, cmd_sweep, spend_options
from .voting import cmd_vote, vote_options
from .wallet_session import Secrets, sync_with_peers, with_wallet

# --- registration --------------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser, *, password: bool = False, chain: bool = False) -> None:
    p.add_argument(
        "--wallet", default="default", metavar="NAME", help='wallet name (default "default")'
    )
    p.add_argument(
        "--json",
        dest="json_output",
        action="store_true",
        default=argparse.SUPPRESS,
        help="machine-readable output",
    )
    if password:
        p.add_argument(
            "--password-stdin",
            action="store_true",
            help="read the password from the first line of stdin",
        )
    if chain:
        p.add_argument("--offline", action="store_true", help="do not sync with the network first")
        p.add_argument(
            "--timeout", type=seconds, default=300.0, help="give up syncing after this many seconds"
        )


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("create", help="create a new HD wallet (BIP39 seed words)")
    _common(p, password=True)
    p.add_argument("--words", type=int, choices=(12, 24), default=12)
    p.add_argument(
        "--with-passphrase",
        action="store_true",
        help="also protect the seed with a BIP39 passphrase (asked; with --password-stdin: "
        "the second line). Restoring then needs the words AND the passphrase",
    )
    p.set_defaults(handler=cmd_create)

    p = sub.add_parser(
        "restore", help="restore a wallet from BIP39 or pktwallet (15-word) seed words"
    )
    _common(p, password=True)
    p.add_argument("--birthday", type=_parse_date, help="YYYY-MM-DD: scan the chain from this day")
    p.set_defaults(handler=cmd_restore)

    p = sub.add_parser("wallets", help="list the wallets of the data directory")
    p.add_argument("--json", dest="json_output", action="store_true", default=argparse.SUPPRESS)
    p.set_defaults(handler=cmd_wallets)

    p = sub.add_parser("address", help="show the current receive address")
    _common(p)
    p.add_argument("--new", action="store_true", help="a new address after every handed-out one")
    p.add_argument("--legacy", action="store_true", help="a legacy P2PKH address")
    p.add_argument("--uri", action="store_true", help="print a pkt: payment URI instead")
    p.add_argument("--amount", help="amount for the URI, in coins")
    p.add_argument("--label", help="label for the URI")
    p.set_defaults(handler=cmd_address)

    p = sub.add_parser("addresses", help="every derived address with its path")
    _common(p)
    p.set_defaults(handler=cmd_addresses)

    p = sub.add_parser("balance", help="confirmed, unconfirmed and immature balance")
    _common(p, chain=True)
    p.set_defaults(handler=cmd_balance)

    p = sub.add_parser("history", help="transactions, oldest first")
    _common(p, chain=True)
    p.add_argument("--csv", metavar="FILE", help="write CSV to FILE (- for stdout)")
    p.add_argument("--newest-first", action="store_true", help="the newest transactions first")
    p.add_argument("--limit", type=int, metavar="N", help="at most N transactions")
    p.add_argument("--search", metavar="TEXT", help="only those whose txid or label has TEXT")
    p.set_defaults(handler=cmd_history)

    p = sub.add_parser("coins", help="unspent coins (for --coin and freeze)")
    _common(p, chain=True)
    p.set_defaults(handler=cmd_coins)

    p = sub.add_parser("send", help="send coins to an address")
    _common(p, password=True, chain=True)
    p.add_argument("address", help="destination address or pkt: URI")
    p.add_argument("amount", help='amount in coins, or "max"')
    p.add_argument(
        "--rbf",
        action="store_true",
        help="let the transaction be replaced by one paying more fee (BIP125; off by default)",
    )
    p.add_argument(
        "--largest-single",
        action="store_true",
        help='with "max": when everything needs more coins than one transaction may spend, '
        "send the most one transaction can carry (its largest coins)",
    )
    spend_options(p)
    p.set_defaults(handler=cmd_send)

    p = sub.add_parser("consolidate", help="merge small coins (batches of standard size)")
    _common(p, password=True, chain=True)
    spend_options(p)
    p.add_argument("--max-value", help="only coins worth at most this many coins")
    p.add_argument(
        "--max-transactions",
        type=int,
        metavar="N",
        help="send at most N transactions this time (default: all the plan needs)",
    )
    p.set_defaults(handler=cmd_consolidate)

    p = sub.add_parser(
        "vote",
        help="Network Steward vote (Electorium): one transaction per address, coins stay yours",
        description="Vote for the Network Steward as counted since 2024 (Electorium): each "
        "address of the wallet holding coins sends itself a transaction carrying the vote, "
        "and votes with its balance. --status shows the votes and their expiry.",
    )
    _common(p, password=True, chain=True)
    vote_options(p)
    p.set_defaults(handler=cmd_vote)

    p = sub.add_parser("import-key", help="import a WIF private key (read from the terminal/stdin)")
    _common(p, password=True)
    p.add_argument("--label", default="")
    p.set_defaults(handler=cmd_import_key)

    p = sub.add_parser("sweep", help="move the coins of imported keys into the HD wallet")
    _common(p, password=True, chain=True)
    p.add_argument("--fee-rate", metavar="R")
    p.add_argument("--yes", action="store_true")
    p.set_defaults(handler=cmd_sweep)

    p = sub.add_parser(
        "remember-password",
        help="remember the wallet password in the system keyring (opt-in; --forget to undo)",
    )
    _common(p, password=True)
    p.add_argument("--forget", action="store_true", help="remove the remembered password")
    p.set_defaults(handler=cmd_remember_password)

    p = sub.add_parser("change-password", help="change the wallet password")
    _common(p, password=True)
    p.set_defaults(handler=cmd_change_password)

    p = sub.add_parser("confirm-backup", help="type back seed words to mark the wallet backed up")
    _common(p, password=True)
    p.set_defaults(handler=cmd_confirm_backup)

    p = sub.add_parser("label", help="label an address or a transaction")
    _common(p)
    p.add_argument("target", help="address or txid")
    p.add_argument("text", help='the label ("" removes it)')
    p.set_defaults(handler=cmd_label)

    for name, frozen in (("freeze", True), ("unfreeze", False)):
        p = sub.add_parser(name, help=f"{name} coins (coin control)")
        _common(p)
        p.add_argument("coins", nargs="+", metavar="TXID:N")
        p.set_defaults(handler=cmd_freeze, frozen=frozen)

    p = sub.add_parser(
        "bump", help="pay a higher fee for an unconfirmed payment sent with --rbf (BIP125)"
    )
    _common(p, password=True, chain=True)
    p.add_argument("txid")
    p.add_argument("--fee-rate", metavar="R", required=True, help="the new fee in units per vbyte")
    p.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    p.set_defaults(handler=cmd_bump)

    p = sub.add_parser("abandon", help="forget an unconfirmed transaction that will not confirm")
    _common(p)
    p.add_argument("txid")
    p.set_defaults(handler=cmd_abandon)

    p = sub.add_parser("repair", help="rebuild a damaged state file from the key file")
    _common(p, password=True)
    p.set_defaults(handler=cmd_repair)


# --- helpers -------------------------------------------------------------------------------------


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad date {text!r}: use YYYY-MM-DD") from None


def _coins(ctx: Context, units: int) -> str:
    return coins_text(ctx.params, units)


# --- commands ------------------------------------------------------------------------------------


def cmd_create(ctx: Context) -> int:
    secrets = Secrets(ctx)
    password = secrets.new_password()
    passphrase = ""
    if ctx.args.with_passphrase:
        passphrase = secrets.line("Seed passphrase: ")
        if not passphrase:
            raise CLIError("the seed passphrase is empty: leave out --with-passphrase for none")
        if not secrets.from_stdin and getpass.getpass("Repeat the seed passphrase: ") != passphrase:
            raise CLIError("the seed passphrases differ")
    wallet, mnemonic = Wallet.create(
        ctx.datadir,
        ctx.args.wallet,
        ctx.params,
        password,
        words=ctx.args.words,
        passphrase=passphrase,
    )
    try:
        address = wallet.receive_address()
        if ctx.json_output:
            print(
                json.dumps(
                    {"wallet": wallet.name, "mnemonic": mnemonic, "address": address}, indent=2
                )
            )
        else:
            if not secrets.from_stdin:
                print(
                    "Write these words down, in order, and keep them offline. They are the "
                    "only way to restore the wallet:",
                    file=sys.stderr,
                )
            print(mnemonic)
            print(address)
        if not secrets.from_stdin and sys.stdin.isatty():
            _interactive_backup_check(wallet)
    finally:
        wallet.close()
    return 0


def _interactive_backup_check(wallet: Wallet) -> None:
    positions = wallet.backup_challenge(3)
    print("Check your backup now (or later with confirm-backup).", file=sys.stderr)
    answers = {}
    try:
        for position in positions:
            answers[position] = input(f"Word #{position}: ")
    except EOFError:
        print("\nnot checked; run confirm-backup later", file=sys.stderr)
        return
    try:
        wallet.confirm_backup(answers)
        print("Backup confirmed.", file=sys.stderr)
    except wallet_mod.BackupCheckError as exc:
        print(f"{exc}; run confirm-backup once you have checked them", file=sys.stderr)


def cmd_restore(ctx: Context) -> int:
    secrets = Secrets(ctx)
    password = secrets.new_password()
    words = secrets.line("Seed words: ")
    passphrase = secrets.line("Seed passphrase (empty if none): ")
    if len(words.split()) == 15 and not secrets.from_stdin:
        print("Decoding pktwallet seed words (a few seconds)...", file=sys.stderr)
    wallet = Wallet.restore(
        ctx.datadir,
        ctx.args.wallet,
        ctx.params,
        password,
        words,
        passphrase,
        birthday=ctx.args.birthday,
    )
    try:
        address = wallet.receive_address()
        data = {
            "wallet": wallet.name,
            "seed_type": wallet.seed_type,
            "birthday": wallet.birthday.isoformat() if wallet.birthday else None,
            "address": address,
        }
        if ctx.json_output:
            print(json.dumps(data, indent=2))
        else:
            born = f", birthday {data['birthday']}" if data["birthday"] else ""
            print(f"restored {wallet.seed_type} wallet {wallet.name!r}{born}", file=sys.stderr)
            print(address)
    finally:
        wallet.close()
    return 0


def cmd_wallets(ctx: Context) -> int:
    names = wallet_mod.list_wallets(ctx.datadir)
    if ctx.json_output:
        print(json.dumps(names))
    else:
        for name in names:
            print(name)
    return 0


@with_wallet
def cmd_address(ctx: Context, wallet: Wallet) -> int:
    address = wallet.receive_address(new=ctx.args.new, legacy=ctx.args.legacy)
    if ctx.args.uri:
        amount = (
            parse_amount(ctx.args.amount, ctx.params.units_per_coin, ctx.params.coin_symbol)
            if ctx.args.amount
            else None
        )
        address = wallet.payment_uri(address, amount, ctx.args.label)
    if ctx.json_output:
        print(json.dumps({"address": address}))
    else:
        print(address)
    return 0


@with_wallet
def cmd_addresses(ctx: Context, wallet: Wallet) -> int:
    infos = wallet.addresses()
    if ctx.json_output:
        print(json.dumps([i.to_json() for i in infos], indent=1))
        return 0
    for i in infos:
        used = "used" if i.used else "unused"
        label = f"  {i.label}" if i.label else ""
        print(
            f"{i.path:<22} {i.address:<64} {i.kind:<12} {used:<6} {_coins(ctx, i.balance)}{label}"
        )
    return 0


@with_wallet
def cmd_balance(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    bal = wallet.balance()
    data: dict[str, Any] = bal.to_json() | {"height": wallet.tip_height}
    lines = [
        f"confirmed    {_coins(ctx, bal.confirmed)}",
        f"unconfirmed  {_coins(ctx, bal.unconfirmed)}",
        f"immature     {_coins(ctx, bal.immature)}",
    ]
    if bal.frozen:
        lines.append(f"frozen       {_coins(ctx, bal.frozen)}")
    if bal.ns_expired:
        lines.append(f"expired NS   {_coins(ctx, bal.ns_expired)}")
    lines.append(f"height       {wallet.tip_height}")
    ctx.emit(data, lines)
    return 0


@with_wallet
def cmd_history(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    if ctx.args.csv:
        if ctx.args.csv == "-":
            sys.stdout.write(wallet.export_csv())
        else:
            wallet.export_csv(Path(ctx.args.csv))
        return 0
    args = ctx.args
    if args.limit is not None and args.limit < 0:
        raise CLIError("--limit must not be negative")
    if args.newest_first or args.limit is not None or args.search:
        entries: Iterable[HistoryEntry] = wallet.history_page(
            limit=-1 if args.limit is None else args.limit,
            newest_first=args.newest_first,
            search=args.search or "",
        )
    else:
        entries = wallet.history_view.iterate()  # read as printed: the wallet may be huge
    if ctx.json_output:
        print(json.dumps([e.to_json() for e in entries], indent=1))
        return 0
    for e in entries:
        height = str(e.height) if e.height is not None else "pending"
        fee = f" fee {_coins(ctx, e.fee)}" if e.fee else ""
        label = f"  {e.label}" if e.label else ""
        print(f"{height:>8} {e.txid} {_coins(ctx, e.amount):>24}{fee}{label}")
    return 0


@with_wallet
def cmd_coins(ctx: Context, wallet: Wallet) -> int:
    sync_with_peers(ctx, wallet)
    coins = wallet.coins()
    rows = [
        {
            "coin": outpoint_text(c.outpoint),
            "value": c.value,
            "height": c.height,
            "confirmations": c.confirmations,
            "coinbase": c.coinbase,
            "mature": c.mature,
            "frozen": c.frozen,
            "ns_expired": c.ns_expired,
            "address": address_from_script(c.script, ctx.params),
        }
        for c in coins
    ]
    if ctx.json_output:
        print(json.dumps(rows, indent=1))
        return 0
    for r, c in zip(rows, coins, strict=True):
        flags = [f for f, on in (("frozen", c.frozen), ("immature", not c.mature)) if on]
        print(f"{r['coin']} {_coins(ctx, c.value):>24} {r['address']} {' '.join(flags)}".rstrip())
    return 0


@with_wallet
def cmd_import_key(ctx: Context, wallet: Wallet) -> int:
    secrets = Secrets(ctx)
    password = secrets.line("Password: ")
    wif = secrets.line("Private key (WIF): ")
    address = wallet.import_key(wif, password, label=ctx.args.label)
    ctx.emit(
        {"address": address},
        [address, "imported; the next sync rescans the chain, then `sweep` moves its coins"],
    )
    return 0


@with_wallet
def cmd_remember_password(ctx: Context, wallet: Wallet) -> int:
    network, name = ctx.params.name, wallet.name
    if ctx.args.forget:
        removed = unlock_cache.forget(network, name)
        ctx.emit(
            {"forgotten": removed},
            ["the password is no longer remembered" if removed else "no password was remembered"],
        )
        return 0
    problem = unlock_cache.availability()
    if problem is not None:
        raise CLIError(f"cannot remember the password: {problem}; the wallet works without it")
    password = Secrets(ctx).line("Password: ")
    wallet.check_password(password)
    try:
        unlock_cache.remember(network, name, password)
    except unlock_cache.KeyringUnavailable as exc:
        raise CLIError(f"cannot remember the password: {exc}") from None
    ctx.emit({"remembered": True}, ["the password is remembered by the system keyring"])
    return 0


@with_wallet
def cmd_change_password(ctx: Context, wallet: Wallet) -> int:
    secrets = Secrets(ctx)
    old = secrets.line("Current password: ")
    new = secrets.new_password()
    wallet.change_password(old, new)
    ctx.emit({"changed": True}, ["password changed"])
    return 0


@with_wallet
def cmd_confirm_backup(ctx: Context, wallet: Wallet) -> int:
    secrets = Secrets(ctx)
    password = secrets.line("Password: ")
    if secrets.from_stdin:
        words = secrets.line("Seed words: ").split()
        answers = {i + 1: w for i, w in enumerate(words)}
    else:
        try:
            answers = {p: input(f"Word #{p}: ") for p in wallet.backup_challenge(3)}
        except EOFError:
            raise CLIError("no input") from None
    wallet.confirm_backup(answers, password)
    ctx.emit({"backed_up": True}, ["backup confirmed"])
    return 0


@with_wallet
def cmd_label(ctx: Context, wallet: Wallet) -> int:
    wallet.set_label(ctx.args.target, ctx.args.text)
    return 0


@with_wallet
def cmd_freeze(ctx: Context, wallet: Wallet) -> int:
    wallet.freeze(ctx.args.coins, frozen=ctx.args.frozen)
    return 0


@with_wallet
def cmd_abandon(ctx: Context, wallet: Wallet) -> int:
    wallet.abandon(ctx.args.txid)
    return 0


def cmd_repair(ctx: Context) -> int:
    password = Secrets(ctx).line("Password: ")
    wallet = Wallet.repair(ctx.datadir, ctx.args.wallet, ctx.params, password)
    wallet.close()
    ctx.emit(
        {"repaired": True},
        ["state file rebuilt; the next sync rescans the chain from the wallet's birthday"],
    )
    return 0
