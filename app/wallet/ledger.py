"""The wallet's ledger: its transactions, coins, balances and history.

The ledger keeps every transaction that pays to or spends from the wallet, confirmed (with the
height, hash and time of its block) or not (height None: broadcast by us, seen in the mempool,
or taken out of the chain by a reorg). Coins and balances are derived from it:

* a coin is an output paying one of the wallet's scripts (a Network Steward vote suffix allowed)
  that no transaction of the ledger spends;
* coinbase coins are immature until they have ``params.coinbase_maturity`` confirmations;
* a coinbase output worth exactly the Network Steward share of its block's subsidy is an "NS
  payment": it becomes unspendable ``params.ns_payment_expiry_blocks`` after it was mined, and is
  skipped (counted as expired) from 1440 blocks before that, as pktwallet does;
* an unconfirmed transaction that conflicts with a confirmed one is dropped with everything that
  depends on it; a reorg turns confirmed transactions above the fork back into unconfirmed ones
  (coinbases, which cannot return to a mempool, are dropped).

Which scripts are the wallet's is decided by the `owner` callback (see :class:`Owned`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from spv.address import address_from_script
from spv.hashes import hash_from_display, hash_to_display
from spv.params import NetworkParams
from spv.subsidy import network_steward_share
from spv.tx import OutPoint, Transaction

NS_SAFETY_MARGIN = 1440  # pktwallet skips NS payments this many blocks before they expire


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


OwnerFn = Callable[[bytes], Owned | None]


@dataclass
class LedgerTx:
    tx: Transaction
    height: int | None = None
    block_hash: bytes | None = None
    timestamp: int | None = None  # block time (unix)
    position: int = 0  # order among the wallet's transactions of its block
    first_seen: int = 0  # unix time it was first recorded

    @property
    def confirmed(self) -> bool:
        return self.height is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "txid": self.tx.txid_hex,
            "raw": self.tx.serialize().hex(),
            "height": self.height,
            "block_hash": self.block_hash.hex() if self.block_hash is not None else None,
            "timestamp": self.timestamp,
            "position": self.position,
            "first_seen": self.first_seen,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LedgerTx:
        tx = Transaction.parse(bytes.fromhex(data["raw"]))
        if tx.txid_hex != data["txid"]:
            raise ValueError(f"transaction {data['txid']} does not match its raw bytes")
        block_hash = data.get("block_hash")
        height = data.get("height")
        return cls(
            tx=tx,
            height=int(height) if height is not None else None,
            block_hash=bytes.fromhex(block_hash) if block_hash is not None else None,
            timestamp=int(data["timestamp"]) if data.get("timestamp") is not None else None,
            position=int(data.get("position", 0)),
            first_seen=int(data.get("first_seen", 0)),
        )


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


BIP125_MAX_SEQUENCE = 0xFFFFFFFD  # an input with a sequence up to this signals replaceability


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
    outputs: list[TxPart]
    size: int
    vsize: int
    coinbase: bool
    replaceable: bool = False  # unconfirmed, signals BIP125, spends only this wallet's coins
    fee: int | None = None  # known when every input is this wallet's


@dataclass(frozen=True)
class HistoryEntry:
    txid: str
    height: int | None
    timestamp: int | None  # block time, or first seen when unconfirmed
    confirmations: int
    amount: int  # net change of the wallet's balance (negative when paying out)
    fee: int | None  # known when every input is the wallet's
    balance: int  # running balance after this transaction (history order)
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


@dataclass
class Ledger:
    params: NetworkParams
    owner: OwnerFn
    txs: dict[bytes, LedgerTx] = field(default_factory=dict)
    tip_height: int = -1
    _spent_by: dict[OutPoint, bytes] = field(default_factory=dict, repr=False)
    _owned: set[OutPoint] = field(default_factory=set, repr=False)

    # --- indexes (kept up to date incrementally: a mining wallet has many transactions) ---

    def _index(self, txid: bytes, tx: Transaction) -> None:
        if not tx.is_coinbase():
            for txin in tx.inputs:
                self._spent_by[txin.prevout] = txid
        for n, out in enumerate(tx.outputs):
            if self.owner(out.script) is not None:
                self._owned.add(OutPoint(txid, n))

    def _unindex(self, txid: bytes, tx: Transaction) -> None:
        if not tx.is_coinbase():
            for txin in tx.inputs:
                if self._spent_by.get(txin.prevout) == txid:
                    del self._spent_by[txin.prevout]
        for n in range(len(tx.outputs)):
            self._owned.discard(OutPoint(txid, n))

    def reindex(self) -> None:
        """Rebuild the indexes (call it when the wallet gained scripts: outputs of known
        transactions may have become ours)."""
        self._spent_by = {}
        self._owned = set()
        for txid, ltx in self.txs.items():
            self._index(txid, ltx.tx)

    def spent_by(self) -> dict[OutPoint, bytes]:
        """Outpoint -> id of the ledger transaction spending it (read-only)."""
        return self._spent_by

    def is_relevant(self, tx: Transaction) -> bool:
        if any(self.owner(o.script) is not None for o in tx.outputs):
            return True
        return any(self._owned_prevout(i.prevout) is not None for i in tx.inputs)

    def _owned_prevout(self, prevout: OutPoint) -> tuple[int, Owned] | None:
        parent = self.txs.get(prevout.txid)
        if parent is None or prevout.index >= len(parent.tx.outputs):
            return None
        out = parent.tx.outputs[prevout.index]
        owned = self.owner(out.script)
        return (out.value, owned) if owned is not None else None

    def owned_outpoints(self) -> set[OutPoint]:
        """Every output of the ledger that pays the wallet, spent or not (read-only)."""
        return self._owned

    # --- changes ---

    def add(
        self,
        tx: Transaction,
        *,
        height: int | None = None,
        block_hash: bytes | None = None,
        timestamp: int | None = None,
        position: int = 0,
        now: int = 0,
    ) -> bool:
        """Record `tx` (confirmed when `height` is given). Returns False when it is ignored:
        irrelevant, or unconfirmed and in conflict with a confirmed transaction."""
        if not self.is_relevant(tx):
            return False
        txid = tx.txid
        spent = self.spent_by()
        conflicts = {
            spent[i.prevout]
            for i in tx.inputs
            if not tx.is_coinbase() and i.prevout in spent and spent[i.prevout] != txid
        }
        if height is None and any(self.txs[c].confirmed for c in conflicts):
            return False
        for other in conflicts:
            if other in self.txs:
                self.remove(other)
        existing = self.txs.get(txid)
        if existing is None:
            existing = LedgerTx(tx, first_seen=now)
            self.txs[txid] = existing
            self._index(txid, tx)
        elif tx.has_witness and existing.tx.serialize() != tx.serialize():
            existing.tx = tx  # keep the witness form (same txid: same inputs and outputs)
        if height is not None:
            existing.height = height
            existing.block_hash = block_hash
            existing.timestamp = timestamp
            existing.position = position
            self.tip_height = max(self.tip_height, height)
        return True

    def remove(self, txid: bytes) -> list[bytes]:
        """Drop a transaction and every transaction spending its outputs; returns their ids."""
        removed: list[bytes] = []
        todo = [txid]
        while todo:
            current = todo.pop()
            ltx = self.txs.pop(current, None)
            if ltx is None:
                continue
            removed.append(current)
            for n in range(len(ltx.tx.outputs)):
                child = self._spent_by.get(OutPoint(current, n))
                if child is not None:
                    todo.append(child)
            self._unindex(current, ltx.tx)
        return removed

    def rewind(self, height: int) -> None:
        """Blocks above `height` left the chain."""
        for txid, ltx in list(self.txs.items()):
            if ltx.height is not None and ltx.height > height and txid in self.txs:
                if ltx.tx.is_coinbase():
                    self.remove(txid)
                else:
                    ltx.height = ltx.block_hash = ltx.timestamp = None
        self.tip_height = min(self.tip_height, height)

    # --- derived views ---

    def confirmations(self, height: int | None) -> int:
        if height is None or height > self.tip_height:
            return 0
        return self.tip_height - height + 1

    def is_ns_payment(self, ltx: LedgerTx, value: int) -> bool:
        return (
            ltx.height is not None
            and ltx.tx.is_coinbase()
            and bool(self.params.network_steward_script)
            and value == network_steward_share(ltx.height, self.params)
        )

    def ns_expired(self, ltx: LedgerTx, value: int) -> bool:
        if not self.is_ns_payment(ltx, value):
            return False
        assert ltx.height is not None
        limit = self.tip_height + NS_SAFETY_MARGIN - self.params.ns_payment_expiry_blocks
        return limit >= ltx.height

    def _trusted(self, ltx: LedgerTx) -> bool:
        if ltx.confirmed:
            return True
        return not ltx.tx.is_coinbase() and all(
            self._owned_prevout(i.prevout) is not None for i in ltx.tx.inputs
        )

    def coins(self, frozen: Iterable[OutPoint] = ()) -> list[Coin]:
        """Unspent outputs paying the wallet, oldest first."""
        frozen_set = set(frozen)
        spent = self.spent_by()
        result: list[Coin] = []
        for txid, ltx in self._ordered():
            coinbase = ltx.tx.is_coinbase()
            confirmations = self.confirmations(ltx.height)
            mature = not coinbase or confirmations >= self.params.coinbase_maturity
            trusted = self._trusted(ltx)
            for n, out in enumerate(ltx.tx.outputs):
                owned = self.owner(out.script)
                if owned is None:
                    continue
                outpoint = OutPoint(txid, n)
                if outpoint in spent:
                    continue
                result.append(
                    Coin(
                        outpoint=outpoint,
                        value=out.value,
                        script=out.script,
                        owner=owned,
                        height=ltx.height,
                        coinbase=coinbase,
                        confirmations=confirmations,
                        mature=mature,
                        ns_expired=self.ns_expired(ltx, out.value),
                        trusted=trusted,
                        frozen=outpoint in frozen_set,
                    )
                )
        return result

    def balance(self, frozen: Iterable[OutPoint] = ()) -> Balance:
        confirmed = unconfirmed = immature = frozen_total = expired = spendable = 0
        for coin in self.coins(frozen):
            if coin.ns_expired:
                expired += coin.value
            elif not coin.mature:
                immature += coin.value
            elif coin.confirmed:
                confirmed += coin.value
                if not coin.frozen:
                    spendable += coin.value
            else:
                unconfirmed += coin.value
            if coin.frozen and coin.mature and not coin.ns_expired:
                frozen_total += coin.value
        return Balance(confirmed, unconfirmed, immature, frozen_total, expired, spendable)

    def _ordered(self) -> list[tuple[bytes, LedgerTx]]:
        def key(item: tuple[bytes, LedgerTx]) -> tuple[int, int, int, int, str]:
            ltx = item[1]
            if ltx.height is not None:
                return (0, ltx.height, ltx.position, 0, ltx.tx.txid_hex)
            return (1, 0, 0, ltx.first_seen, ltx.tx.txid_hex)

        return sorted(self.txs.items(), key=key)

    def delta_and_fee(self, ltx: LedgerTx) -> tuple[int, int | None, bool, bool]:
        """(net amount, fee or None, any input ours, every output ours)."""
        received = sum(o.value for o in ltx.tx.outputs if self.owner(o.script) is not None)
        sent = 0
        ours = 0
        if not ltx.tx.is_coinbase():
            for txin in ltx.tx.inputs:
                found = self._owned_prevout(txin.prevout)
                if found is not None:
                    sent += found[0]
                    ours += 1
        all_inputs_ours = ours == len(ltx.tx.inputs) and ours > 0
        fee = sent - sum(o.value for o in ltx.tx.outputs) if all_inputs_ours else None
        all_outputs_ours = all(self.owner(o.script) is not None for o in ltx.tx.outputs)
        return received - sent, fee, ours > 0, all_outputs_ours

    def history(self, labels: Mapping[str, str] | None = None) -> list[HistoryEntry]:
        """Every transaction, oldest first, with the running balance (all coins, immature
        and unconfirmed included)."""
        labels = labels or {}
        running = 0
        entries = []
        for _txid, ltx in self._ordered():
            amount, fee, spends, all_ours = self.delta_and_fee(ltx)
            running += amount
            if spends and all_ours:
                direction = "self"
            elif spends:
                direction = "outgoing"
            else:
                direction = "incoming"
            txid_hex = ltx.tx.txid_hex
            entries.append(
                HistoryEntry(
                    txid=txid_hex,
                    height=ltx.height,
                    timestamp=ltx.timestamp if ltx.timestamp is not None else ltx.first_seen,
                    confirmations=self.confirmations(ltx.height),
                    amount=amount,
                    fee=fee,
                    balance=running,
                    direction=direction,
                    coinbase=ltx.tx.is_coinbase(),
                    label=labels.get(txid_hex, "")
                    or self._address_label(ltx.tx, direction, labels),
                )
            )
        return entries

    def details(self, txid_text: str) -> TxDetails:
        """The inputs and outputs of a ledger transaction, with what the wallet knows of
        them (a light client only knows the value of the inputs that paid it)."""
        ltx = self.txs.get(hash_from_display(txid_text))
        if ltx is None:
            raise KeyError(f"transaction {txid_text} is not in this wallet")
        tx = ltx.tx
        inputs = []
        if not tx.is_coinbase():
            for txin in tx.inputs:
                parent = self.txs.get(txin.prevout.txid)
                out = (
                    parent.tx.outputs[txin.prevout.index]
                    if parent is not None and txin.prevout.index < len(parent.tx.outputs)
                    else None
                )
                inputs.append(
                    TxPart(
                        outpoint=outpoint_text(txin.prevout),
                        address=(address_from_script(out.script, self.params) or "")
                        if out is not None
                        else "",
                        value=out.value if out is not None else None,
                        mine=out is not None and self.owner(out.script) is not None,
                    )
                )
        outputs = [
            TxPart(
                outpoint=f"{tx.txid_hex}:{n}",
                address=address_from_script(out.script, self.params) or "",
                value=out.value,
                mine=self.owner(out.script) is not None,
            )
            for n, out in enumerate(tx.outputs)
        ]
        all_ours = bool(inputs) and all(i.mine and i.value is not None for i in inputs)
        fee = (
            sum(i.value or 0 for i in inputs) - sum(o.value or 0 for o in outputs)
            if all_ours
            else None
        )
        replaceable = (
            all_ours
            and ltx.height is None
            and any(i.sequence <= BIP125_MAX_SEQUENCE for i in tx.inputs)
        )
        return TxDetails(
            tx.txid_hex,
            inputs,
            outputs,
            len(tx.serialize()),
            tx.vsize,
            tx.is_coinbase(),
            replaceable,
            fee,
        )

    def _address_label(self, tx: Transaction, direction: str, labels: Mapping[str, str]) -> str:
        """A transaction without its own label shows the label of the address it paid: one of
        ours for a payment received, the recipient's for a payment sent."""
        for out in tx.outputs:
            if (self.owner(out.script) is not None) != (direction != "outgoing"):
                continue
            address = address_from_script(out.script, self.params)
            if address is not None and labels.get(address):
                return labels[address]
        return ""

    # --- persistence ---

    def to_json(self) -> list[dict[str, Any]]:
        return [ltx.to_json() for _, ltx in self._ordered()]

    def load_json(self, items: Iterable[Mapping[str, Any]]) -> None:
        self.txs = {}
        for item in items:
            ltx = LedgerTx.from_json(item)
            self.txs[ltx.tx.txid] = ltx
        self.reindex()


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
