"""The wallet's public keys: accounts, derived keys, the scripts it watches, the gap limit.

Loaded whole at open (a wallet has hundreds to a few thousand keys, not one per payout) and
written to the store as keys are derived or used. Every watched script has a row in the
``scripts`` table whose id the coins refer to; outputs paying a wallet script with a Network
Steward vote suffix get their own script row (BIP158 filters hold the whole output script),
folded into the base script for balances.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from spv.address import address_from_script
from spv.hashes import hash160
from spv.params import NetworkParams
from spv.script import p2pkh_script, p2sh_script, p2wpkh_script, split_vote

from .accounts import (
    EXTERNAL,
    INTERNAL,
    Account,
    AccountScope,
    AddressKind,
    DerivedKey,
    output_script,
)
from .bip32 import InvalidChildError, parse_extended_key
from .errors import WalletError
from .model import AddressInfo, KeyRef, Owned
from .store import WalletStore

IMPORTED = -1
RECEIVING, CHANGE, ALL = "receiving", "change", "all"  # which addresses a list shows


def scope_to_json(scope: AccountScope) -> dict[str, Any]:
    return {
        "name": scope.name,
        "purpose": scope.purpose,
        "coin_type": scope.coin_type,
        "account": scope.account,
        "receive_kind": scope.receive_kind.value,
        "change_kind": scope.change_kind.value,
        "nonstandard": scope.nonstandard,
        "also_watch_change": [k.value for k in scope.also_watch_change],
    }


def scope_from_json(data: Mapping[str, Any]) -> AccountScope:
    return AccountScope(
        purpose=int(data["purpose"]),
        coin_type=int(data["coin_type"]),
        account=int(data["account"]),
        receive_kind=AddressKind(data["receive_kind"]),
        change_kind=AddressKind(data["change_kind"]),
        nonstandard=bool(data["nonstandard"]),
        also_watch_change=tuple(AddressKind(k) for k in data.get("also_watch_change", [])),
        name=str(data.get("name", "")),
    )


@dataclass
class AccountState:
    scope: AccountScope
    account: Account  # public (from the xpub)
    keys: dict[int, list[DerivedKey | None]] = field(
        default_factory=lambda: {EXTERNAL: [], INTERNAL: []}
    )
    reserved: int = -1  # highest receive index handed out

    def derived_key(self, branch: int, index: int, public_key: bytes) -> DerivedKey:
        kinds = self.scope.watch_kinds(branch)
        scripts = tuple(output_script(kind, public_key) for kind in kinds)
        return DerivedKey(self.scope, branch, index, public_key, kinds[0], scripts[0], scripts)


@dataclass(frozen=True)
class ImportedKey:
    public_key: bytes
    compressed: bool
    label: str = ""

    def scripts(self) -> list[tuple[bytes, str]]:
        pkh = hash160(self.public_key)
        if not self.compressed:
            return [(p2pkh_script(pkh), "p2pkh-uncompressed")]
        return [
            (p2wpkh_script(pkh), "p2wpkh"),
            (p2pkh_script(pkh), "p2pkh"),
            (p2sh_script(hash160(p2wpkh_script(pkh))), "p2sh-p2wpkh"),
        ]


class KeyChain:
    """Accounts, keys and watched scripts of one wallet, backed by its store."""

    def __init__(self, store: WalletStore, params: NetworkParams, gap_limit: int) -> None:
        self.store = store
        self.params = params
        self.gap_limit = gap_limit
        self.accounts: list[AccountState] = []
        self.imported: list[ImportedKey] = []
        self.used: set[KeyRef] = set()
        self._by_script: dict[bytes, tuple[int, Owned]] = {}
        self._by_id: dict[int, tuple[bytes, Owned, int]] = {}  # id -> script, owner, base id
        self._watched: set[bytes] | None = None
        self._addresses: dict[int, str] = {}  # script id -> address text (see address_of)

    # --- loading and creating ---

    def load(self) -> None:
        db = self.store.db
        for ai, scope_text, xpub, reserved in db.execute(
            "SELECT id, scope, xpub, reserved FROM accounts ORDER BY id"
        ):
            if ai != len(self.accounts):
                raise WalletError("the wallet database lists its accounts out of order")
            scope = scope_from_json(json.loads(scope_text))
            state = AccountState(scope, Account(scope, parse_extended_key(xpub, self.params)))
            state.reserved = int(reserved)
            self.accounts.append(state)
        for ai, branch, idx, pubkey, used in db.execute(
            "SELECT account, branch, idx, pubkey, used FROM keys ORDER BY account, branch, idx"
        ):
            keys = self.accounts[ai].keys[branch]
            if idx != len(keys):
                raise WalletError("the wallet database misses derived keys")
            keys.append(
                None if pubkey is None else self.accounts[ai].derived_key(branch, idx, pubkey)
            )
            if used:
                self.used.add(KeyRef(ai, branch, idx))
        for pubkey, compressed, label in db.execute(
            "SELECT pubkey, compressed, label FROM imported ORDER BY id"
        ):
            self.imported.append(ImportedKey(pubkey, bool(compressed), label))
        for sid, script, account, branch, idx, kind, base in db.execute(
            "SELECT id, script, account, branch, idx, kind, base FROM scripts"
        ):
            owned = Owned(KeyRef(account, branch, idx), kind)
            self._by_script[script] = (sid, owned)
            self._by_id[sid] = (script, owned, base)

    def add_account(self, scope: AccountScope, xpub: str) -> None:
        ai = len(self.accounts)
        key = parse_extended_key(xpub, self.params)
        self.accounts.append(AccountState(scope, Account(scope, key)))
        self.store.begin()
        self.store.db.execute(
            "INSERT INTO accounts (id, scope, xpub, reserved) VALUES (?, ?, ?, -1)",
            (ai, json.dumps(scope_to_json(scope)), xpub),
        )

    def add_imported(self, key: ImportedKey) -> None:
        self.store.begin()
        self.store.db.execute(
            "INSERT INTO imported (id, pubkey, compressed, label) VALUES (?, ?, ?, ?)",
            (len(self.imported), key.public_key, int(key.compressed), key.label),
        )
        index = len(self.imported)
        self.imported.append(key)
        for script, spend_kind in key.scripts():
            self.add_script(script, Owned(KeyRef(IMPORTED, 0, index), spend_kind), None, 0)

    def import_key_row(self, ai: int, branch: int, index: int, public_key: bytes | None) -> None:
        """A key known from an older state file (no derivation: its public key is given)."""
        keys = self.accounts[ai].keys[branch]
        if index != len(keys):
            raise WalletError("the state file misses derived keys")
        self.store.begin()
        self.store.db.execute(
            "INSERT INTO keys (account, branch, idx, pubkey, used) VALUES (?, ?, ?, ?, 0)",
            (ai, branch, index, public_key),
        )
        key = (
            None if public_key is None else self.accounts[ai].derived_key(branch, index, public_key)
        )
        keys.append(key)
        if key is not None:
            self._register_key(ai, key)

    def reserve_quietly(self, ai: int, index: int) -> None:
        """Set the handed-out receive index without deriving keys (an import)."""
        self.accounts[ai].reserved = index
        self.store.begin()
        self.store.db.execute("UPDATE accounts SET reserved = ? WHERE id = ?", (index, ai))

    def mark_used_quietly(self, refs: Iterable[KeyRef]) -> None:
        """Record keys as used without deriving keys (an import)."""
        new = [r for r in refs if not r.imported and r not in self.used]
        self.store.begin()
        self.store.db.executemany(
            "UPDATE keys SET used = 1 WHERE account = ? AND branch = ? AND idx = ?",
            [(r.account, r.branch, r.index) for r in new],
        )
        self.used.update(new)

    def add_script(
        self, script: bytes, owned: Owned, base: int | None = None, form: int = 0
    ) -> int:
        """Watch `script`, spent with `owned`'s key (`base`: the id of the script it is a vote
        form of). Returns its id."""
        found = self._by_script.get(script)
        if found is not None:
            return found[0]
        self.store.begin()
        cur = self.store.db.execute(
            "INSERT INTO scripts (script, account, branch, idx, kind, base, form) "
            "VALUES (?, ?, ?, ?, ?, 0, ?)",
            (script, owned.ref.account, owned.ref.branch, owned.ref.index, owned.kind, form),
        )
        sid = int(cur.lastrowid or 0)
        base_id = sid if base is None else base
        self.store.db.execute("UPDATE scripts SET base = ? WHERE id = ?", (base_id, sid))
        self._by_script[script] = (sid, owned)
        self._by_id[sid] = (script, owned, base_id)
        self._watched = None
        return sid

    # --- scripts ---

    def owner(self, script: bytes) -> Owned | None:
        """The wallet key an output script pays to (a vote suffix allowed), or None."""
        found = self._by_script.get(script)
        if found is not None:
            return found[1]
        if script and script[-1] == 0x66:  # OP_VOTE
            vote = split_vote(script)
            if vote is not None:
                base = self._by_script.get(vote.base_script)
                if base is not None:
                    return base[1]
        return None

    def script_id(self, script: bytes) -> int | None:
        """The id of a wallet script; a vote-suffixed form of one gets its own row (and is
        watched from then on). None when the script is not the wallet's."""
        found = self._by_script.get(script)
        if found is not None:
            return found[0]
        if script and script[-1] == 0x66:
            vote = split_vote(script)
            if vote is not None:
                base = self._by_script.get(vote.base_script)
                if base is not None:
                    return self.add_script(script, base[1], base[0], -1)
        return None

    def address_of(self, script_id: int) -> str:
        """The address text of a wallet script ("" when it has none), made once per script:
        a history row, a coin or a label lookup asks for it again and again."""
        found = self._addresses.get(script_id)
        if found is None:
            found = address_from_script(self._by_id[script_id][0], self.params) or ""
            self._addresses[script_id] = found
        return found

    def script_of(self, script_id: int) -> tuple[bytes, Owned]:
        script, owned, _ = self._by_id[script_id]
        return script, owned

    def base_of(self, script_id: int) -> int:
        return self._by_id[script_id][2]

    def ids_for_address_script(self, script: bytes) -> list[int]:
        """Script ids whose base is `script` (the script itself and its vote forms)."""
        found = self._by_script.get(script)
        if found is None:
            return []
        base = found[0]
        return [sid for sid, (_, _, b) in self._by_id.items() if b == base]

    def watched_scripts(self) -> set[bytes]:
        if self._watched is None:
            self._watched = set(self._by_script)
        return self._watched

    # --- keys and the gap limit ---

    def _register_key(self, ai: int, key: DerivedKey) -> None:
        kinds = self.accounts[ai].scope.watch_kinds(key.branch)
        for form, (kind, script) in enumerate(zip(kinds, key.watch_scripts, strict=True)):
            self.add_script(
                script, Owned(KeyRef(ai, key.branch, key.index), kind.value), None, form
            )

    def mark_used(self, refs: Iterable[KeyRef]) -> bool:
        """Record keys as used; returns True when keys were derived to keep the gap."""
        new = [r for r in refs if not r.imported and r not in self.used]
        if not new:
            return False
        self.mark_used_quietly(new)
        return self.extend_gaps()

    def extend_gaps(self) -> bool:
        """Derive keys until every branch has `gap_limit` unused keys after its last used (or
        handed-out) key. Returns True when keys were added."""
        last_used: dict[tuple[int, int], int] = {}
        for ref in self.used:
            if not ref.imported:
                k = (ref.account, ref.branch)
                last_used[k] = max(last_used.get(k, -1), ref.index)
        added = False
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                last = last_used.get((ai, branch), -1)
                if branch == EXTERNAL:
                    last = max(last, acc.reserved)
                keys = acc.keys[branch]
                while len(keys) < last + 1 + self.gap_limit:
                    index = len(keys)
                    try:
                        key: DerivedKey | None = acc.account.derive(branch, index)
                    except InvalidChildError:
                        key = None
                    self.store.begin()
                    self.store.db.execute(
                        "INSERT INTO keys (account, branch, idx, pubkey, used) "
                        "VALUES (?, ?, ?, ?, 0)",
                        (ai, branch, index, key.public_key if key is not None else None),
                    )
                    keys.append(key)
                    if key is not None:
                        self._register_key(ai, key)
                    added = True
        return added

    def key(self, ref: KeyRef) -> DerivedKey:
        key = self.accounts[ref.account].keys[ref.branch][ref.index]
        if key is None:
            raise WalletError("invalid key index")
        return key

    def first_unused(
        self, ai: int, branch: int, avoid: frozenset[bytes] = frozenset()
    ) -> DerivedKey:
        """The first key of the branch that was never used (and whose script is not in
        `avoid`: the mining address, kept for the pool)."""
        for key in self.accounts[ai].keys[branch]:
            if (
                key is not None
                and KeyRef(ai, branch, key.index) not in self.used
                and key.script not in avoid
            ):
                return key
        raise WalletError("no unused address left")  # the gap keeps some: never expected

    def account_for_kind(self, kind: AddressKind) -> int | None:
        for ai, acc in enumerate(self.accounts):
            if acc.scope.receive_kind is kind:
                return ai
        return None

    def reserve(self, ai: int, index: int) -> None:
        acc = self.accounts[ai]
        if index > acc.reserved:
            acc.reserved = index
            self.store.begin()
            self.store.db.execute("UPDATE accounts SET reserved = ? WHERE id = ?", (index, ai))
            self.extend_gaps()

    def receive_key(self, ai: int, new: bool, avoid: frozenset[bytes] = frozenset()) -> DerivedKey:
        """The first unused receive key of account `ai` (handed out: `new` goes past it);
        with `new`, the next key after every used or handed-out one. Keys whose script is in
        `avoid` are never given."""
        acc = self.accounts[ai]
        if not new:
            current = self.first_unused(ai, EXTERNAL, avoid)
            self.reserve(ai, current.index)
            return current
        index = max(
            [acc.reserved]
            + [r.index for r in self.used if r.account == ai and r.branch == EXTERNAL]
        )
        while True:  # skip the (astronomically rare) invalid child indices
            index += 1
            self.reserve(ai, index)
            key = acc.keys[EXTERNAL][index]
            if key is not None and key.script not in avoid:
                return key

    # --- listing ---

    def _listed(self, which: str) -> Iterator[tuple[int, int, int, str, bytes, str]]:
        """(account, branch, index, kind, script, path) of each address listed under `which`
        (receiving, change, all): the primary script form of each key; imported keys count
        as receiving. Cheap: no address text is made."""
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                if (which == RECEIVING and branch != EXTERNAL) or (
                    which == CHANGE and branch != INTERNAL
                ):
                    continue
                kind = acc.scope.watch_kinds(branch)[0].value
                for key in acc.keys[branch]:
                    if key is not None:
                        yield ai, branch, key.index, kind, key.watch_scripts[0], key.path_str
        if which != CHANGE:
            for i, imported in enumerate(self.imported):
                script, kind = imported.scripts()[0]
                yield IMPORTED, 0, i, kind, script, "imported"

    def address_count(self, which: str) -> tuple[int, int]:
        """(addresses listed under `which`, how many of them were used)."""
        total = used = 0
        for ai, branch, index, _kind, _script, _path in self._listed(which):
            total += 1
            used += KeyRef(ai, branch, index) in self.used
        return total, used

    def addresses_page(
        self,
        which: str,
        offset: int,
        limit: int,
        balances: Mapping[int, int],
        labels: Mapping[str, str],
        imported_used: set[int],
    ) -> list[AddressInfo]:
        """One page of the address list (see `_listed`); only its rows get address text."""
        out = []
        for ai, branch, index, kind, script, path in itertools.islice(
            self._listed(which), offset, offset + limit if limit >= 0 else None
        ):
            address = address_from_script(script, self.params) or script.hex()
            sid = self._by_script[script][0]
            if ai == IMPORTED:
                used = sid in imported_used
                account = "imported"
                default_label = self.imported[index].label
            else:
                used = KeyRef(ai, branch, index) in self.used
                scope = self.accounts[ai].scope
                account = scope.name or scope.path_str
                default_label = ""
            out.append(
                AddressInfo(
                    address=address,
                    path=path,
                    account=account,
                    branch=branch,
                    index=index,
                    kind=kind,
                    used=used,
                    balance=balances.get(sid, 0),
                    label=labels.get(address, default_label),
                    primary=True,
                )
            )
        return out

    def addresses(
        self, balances: Mapping[int, int], labels: Mapping[str, str], imported_used: set[int]
    ) -> list[AddressInfo]:
        """Every derived address (both script forms of m/49' change keys) and imported key;
        `balances` by base script id."""
        out: list[AddressInfo] = []
        for ai, acc in enumerate(self.accounts):
            for branch in (EXTERNAL, INTERNAL):
                kinds = acc.scope.watch_kinds(branch)
                for key in acc.keys[branch]:
                    if key is None:
                        continue
                    used = KeyRef(ai, branch, key.index) in self.used
                    for n, (kind, script) in enumerate(zip(kinds, key.watch_scripts, strict=True)):
                        address = address_from_script(script, self.params) or script.hex()
                        sid = self._by_script[script][0]
                        out.append(
                            AddressInfo(
                                address=address,
                                path=key.path_str,
                                account=acc.scope.name or acc.scope.path_str,
                                branch=branch,
                                index=key.index,
                                kind=kind.value,
                                used=used,
                                balance=balances.get(sid, 0),
                                label=labels.get(address, ""),
                                primary=n == 0,
                            )
                        )
        for i, imported in enumerate(self.imported):
            for n, (script, spend_kind) in enumerate(imported.scripts()):
                address = address_from_script(script, self.params) or script.hex()
                sid = self._by_script[script][0]
                out.append(
                    AddressInfo(
                        address=address,
                        path="imported",
                        account="imported",
                        branch=0,
                        index=i,
                        kind=spend_kind,
                        used=sid in imported_used,
                        balance=balances.get(sid, 0),
                        label=labels.get(address, imported.label),
                        primary=n == 0,
                    )
                )
        return out
