"""What the wallet hands out: coins, balances, history rows, transaction details, previews.

Plain immutable values (safe to pass to another thread); amounts are integer units.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from spv.hashes import hash_from_display, hash_to_display
from spv.params import NetworkParams
from spv.tx import OutPoint, Transaction

NS_SAFETY_MARGIN = 1440  # pktwallet skips NS payments this many blocks before they expire
BIP125_MAX_SEQUENCE = 0xFFFFFFFD  # an input with a sequence up to this signals replaceability


@dataclass(frozen=True)
class KeyRef:
    """Where a key lives: account index, branch and index; imported keys use account -1."""

    account: int
    branch: int
    index: int

    @property
    def imported(self) -> bool:
        return self.account < 0


@dataclass(frozen=True)
class Owned:
    """A wallet script: its key and how an output paying it is spent."""

    ref: KeyRef
    kind: str  # spend kind: p2wpkh, p2sh-p2wpkh, p2pkh, p2pkh-uncompressed


@dataclass(frozen=True)
class Coin:
    """An unspent output of the wallet."""

    outpoint: OutPoint
    value: int
    script: bytes  # as it appears on chain (a vote suffix included)
    owner: Owned
    height: int | None
    coinbase: bool
    confirmations: int
    mature: bool
    ns_expired: bool  # an NS payment within the safety margin of its expiry (or past it)
    trusted: bool  # confirmed, or unconfirmed with only our own inputs
    frozen: bool = False

    @property
    def spendable(self) -> bool:
        return self.mature and not self.ns_expired and not self.frozen

    @property
    def confirmed(self) -> bool:
        return self.height is not None


@dataclass(frozen=True)
class Balance:
    confirmed: int  # confirmed, mature, not expired (frozen coins included)
    unconfirmed: int  # coins of unconfirmed transactions
    immature: int  # coinbase coins below maturity
    frozen: int  # part of confirmed + unconfirmed that is frozen
    ns_expired: int  # NS payments past (or within 1440 blocks of) their expiry
    spendable: int  # confirmed, not frozen

    @property
    def total(self) -> int:
        return self.confirmed + self.unconfirmed + self.immature

    def to_json(self) -> dict[str, int]:
        return {
            "confirmed": self.confirmed,
            "unconfirmed": self.unconfirmed,
            "immature": self.immature,
            "frozen": self.frozen,
            "ns_expired": self.ns_expired,
            "spendable": self.spendable,
            "total": self.total,
        }


@dataclass(frozen=True)
class TxPart:
    """One input or output of a transaction, as far as the wallet knows it."""

    outpoint: str  # TXID:N (for an output: this transaction's)
    address: str  # "" when unknown (an input not paid by the wallet) or not an address
    value: int | None  # None: unknown (an input the wallet did not receive)
    mine: bool


@dataclass(frozen=True)
class TxDetails:
    txid: str
    inputs: list[TxPart]
    outputs: list[TxPart]  # every output, or only the wallet's when the rest was not kept
    size: int | None  # None when the wallet kept only its own outputs
    vsize: int | None
    coinbase: bool
    replaceable: bool = False  # unconfirmed, signals BIP125, spends only this wallet's coins
    fee: int | None = None  # known when every input is this wallet's
    other_outputs: int = 0  # outputs paying others that the wallet did not keep
    height: int | None = None
    timestamp: int | None = None


@dataclass(frozen=True)
class HistoryEntry:
    txid: str
    height: int | None
    timestamp: int | None  # block time, or first seen when unconfirmed
    confirmations: int
    amount: int  # net change of the wallet's balance (negative when paying out)
    fee: int | None  # known when every input is the wallet's
    balance: int  # running balance after this transaction (oldest-first order)
    direction: str  # incoming, outgoing, self
    coinbase: bool
    label: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "txid": self.txid,
            "height": self.height,
            "timestamp": self.timestamp,
            "confirmations": self.confirmations,
            "amount": self.amount,
            "fee": self.fee,
            "balance": self.balance,
            "direction": self.direction,
            "coinbase": self.coinbase,
            "label": self.label,
        }


@dataclass(frozen=True)
class AddressInfo:
    address: str
    path: str
    account: str
    branch: int
    index: int
    kind: str
    used: bool
    balance: int
    label: str
    primary: bool  # False for the extra script form watched for m/49' change keys

    def to_json(self) -> dict[str, Any]:
        return {
            "address": self.address,
            "path": self.path,
            "account": self.account,
            "branch": self.branch,
            "change": self.branch == 1,
            "index": self.index,
            "kind": self.kind,
            "used": self.used,
            "balance": self.balance,
            "label": self.label,
            "primary": self.primary,
        }


@dataclass(frozen=True)
class PreviewOutput:
    address: str | None
    script: bytes
    value: int
    is_change: bool
    is_mine: bool


@dataclass(frozen=True)
class TxPreview:
    """An unsigned transaction for the user to check before signing."""

    purpose: str  # send, consolidate, vote, sweep, bump
    inputs: tuple[Coin, ...]
    outputs: tuple[PreviewOutput, ...]
    fee: int
    vsize: int  # upper bound (signatures counted at their largest)
    fee_rate: Fraction
    unsigned: Transaction
    # A fee bump of a payment without change takes the extra fee from this output (the
    # payment itself, as Electrum does for "max"); None otherwise.
    reduced_output: int | None = None

    @property
    def input_total(self) -> int:
        return sum(c.value for c in self.inputs)

    @property
    def sent(self) -> int:
        """Value leaving the wallet (outputs that are not ours)."""
        return sum(o.value for o in self.outputs if not o.is_mine)

    def to_json(self, params: NetworkParams) -> dict[str, Any]:
        return {
            "purpose": self.purpose,
            "inputs": [
                {"coin": outpoint_text(c.outpoint), "value": c.value, "kind": c.owner.kind}
                for c in self.inputs
            ],
            "outputs": [
                {
                    "address": o.address,
                    "value": o.value,
                    "change": o.is_change,
                    "mine": o.is_mine,
                    "script": o.script.hex(),
                }
                for o in self.outputs
            ],
            "fee": self.fee,
            "vsize": self.vsize,
            "fee_rate": str(self.fee_rate),
            "reduced_output": self.reduced_output,
        }


@dataclass(frozen=True)
class ConsolidationPlan:
    """What merging the wallet's small coins would take, counted without loading them."""

    coins: int  # coins that would be merged
    value: int  # their total
    transactions: int  # standard-size transactions needed (each at most max_inputs coins)
    fee: int  # total fee of all of them
    max_inputs: int


def outpoint_from_text(text: str) -> OutPoint:
    """Parse ``TXID:N``; raises ValueError with a clear message."""
    txid_text, sep, index_text = text.strip().rpartition(":")
    if not sep or len(txid_text) != 64 or not index_text.isdigit():
        raise ValueError(f"bad coin {text!r}: expected TXID:N")
    try:
        txid = hash_from_display(txid_text)
    except ValueError:
        raise ValueError(f"bad coin {text!r}: the txid is not hexadecimal") from None
    return OutPoint(txid, int(index_text))


def outpoint_text(outpoint: OutPoint) -> str:
    return f"{hash_to_display(outpoint.txid)}:{outpoint.index}"
