"""Accounts: receive/change keys and output scripts for pktwallet's scopes and BIP39 wallets.

A scope is ``m/purpose'/coin'/account'`` with an address kind per branch (0 = receive,
1 = change). pktwallet creates three scopes, derived with its non-standard hardened derivation
(see :mod:`app.wallet.bip32`), coin type ``params.wallet_coin_type`` (0 on PKT mainnet, not the
SLIP44 value 390):

==============  =============  ==========================================================
scope           receive (0)    change (1)
==============  =============  ==========================================================
m/44'/0'/0'     P2PKH          P2PKH
m/49'/0'/0'     P2SH-P2WPKH    P2WPKH (pktwallet's "BIP0049-plus"); P2SH-P2WPKH watched too
m/84'/0'/0'     P2WPKH         P2WPKH
==============  =============  ==========================================================

New BIP39 wallets use standard BIP32 with BIP84 (default), BIP49 or BIP44 and the same coin
type. Derived keys carry their output scripts; :meth:`DerivedKey.address` formats one with
``spv.address``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from functools import cached_property

from spv.address import address_from_script
from spv.hashes import hash160
from spv.params import NetworkParams
from spv.script import p2pkh_script, p2sh_script, p2wpkh_script

from .bip32 import HARDENED, ExtendedKey, InvalidChildError, format_path

EXTERNAL = 0  # receive branch
INTERNAL = 1  # change branch
DEFAULT_GAP_LIMIT = 20
MAX_SCAN_INDEX = HARDENED - 1


class AddressKind(Enum):
    P2PKH = "p2pkh"
    P2SH_P2WPKH = "p2sh-p2wpkh"
    P2WPKH = "p2wpkh"


def output_script(kind: AddressKind, public_key: bytes) -> bytes:
    """The output script paying to `public_key` (33 bytes, compressed) as `kind`."""
    key_hash = hash160(public_key)
    if kind is AddressKind.P2PKH:
        return p2pkh_script(key_hash)
    if kind is AddressKind.P2WPKH:
        return p2wpkh_script(key_hash)
    return p2sh_script(hash160(p2wpkh_script(key_hash)))


@dataclass(frozen=True)
class AccountScope:
    """Where an account lives and which scripts its branches use."""

    purpose: int
    coin_type: int
    account: int
    receive_kind: AddressKind
    change_kind: AddressKind
    nonstandard: bool  # pktwallet's hardened derivation quirk (DeriveNonStandard)
    also_watch_change: tuple[AddressKind, ...] = ()  # extra script forms of change keys
    name: str = ""

    @property
    def path(self) -> tuple[int, int, int]:
        return (self.purpose + HARDENED, self.coin_type + HARDENED, self.account + HARDENED)

    @property
    def path_str(self) -> str:
        return format_path(self.path)

    def kind_for(self, branch: int) -> AddressKind:
        return self.receive_kind if branch == EXTERNAL else self.change_kind

    def watch_kinds(self, branch: int) -> tuple[AddressKind, ...]:
        primary = self.kind_for(branch)
        extra = self.also_watch_change if branch == INTERNAL else ()
        return (primary, *(k for k in extra if k is not primary))


def pktwallet_scopes(params: NetworkParams) -> tuple[AccountScope, ...]:
    """The three scopes pktwallet creates (account 0), in the order 44', 49', 84'."""
    coin = params.wallet_coin_type
    return (
        AccountScope(44, coin, 0, AddressKind.P2PKH, AddressKind.P2PKH, True, name="pktwallet-44"),
        AccountScope(
            49,
            coin,
            0,
            AddressKind.P2SH_P2WPKH,
            AddressKind.P2WPKH,
            True,
            also_watch_change=(AddressKind.P2SH_P2WPKH,),
            name="pktwallet-49",
        ),
        AccountScope(
            84, coin, 0, AddressKind.P2WPKH, AddressKind.P2WPKH, True, name="pktwallet-84"
        ),
    )


_BIP39_KINDS = {
    44: AddressKind.P2PKH,
    49: AddressKind.P2SH_P2WPKH,
    84: AddressKind.P2WPKH,
}


def bip39_scope(params: NetworkParams, purpose: int = 84, account: int = 0) -> AccountScope:
    """A standard BIP44/49/84 scope ``m/purpose'/C'/account'`` (C = params.wallet_coin_type)."""
    kind = _BIP39_KINDS.get(purpose)
    if kind is None:
        raise ValueError("purpose must be 44, 49 or 84")
    if not 0 <= account < HARDENED:
        raise ValueError("account must be 0..2^31-1")
    return AccountScope(
        purpose, params.wallet_coin_type, account, kind, kind, False, name=f"bip{purpose}"
    )


def bip39_scopes(params: NetworkParams, account: int = 0) -> tuple[AccountScope, ...]:
    """BIP84 (the default for new wallets), BIP49 and BIP44 scopes of one account."""
    return tuple(bip39_scope(params, purpose, account) for purpose in (84, 49, 44))


@dataclass(frozen=True)
class DerivedKey:
    """One derived public key with its scripts. No secrets are held."""

    scope: AccountScope
    branch: int
    index: int
    public_key: bytes
    kind: AddressKind
    script: bytes
    watch_scripts: tuple[bytes, ...] = field(repr=False)  # `script` first, then other forms

    @property
    def path(self) -> tuple[int, ...]:
        return (*self.scope.path, self.branch, self.index)

    @property
    def path_str(self) -> str:
        return format_path(self.path)

    @property
    def pubkey_hash(self) -> bytes:
        return hash160(self.public_key)

    @property
    def redeem_script(self) -> bytes | None:
        """The P2SH redeem script (for P2SH-P2WPKH), else None."""
        if self.kind is AddressKind.P2SH_P2WPKH:
            return p2wpkh_script(self.pubkey_hash)
        return None

    def address(self, params: NetworkParams) -> str:
        text = address_from_script(self.script, params)
        assert text is not None  # our scripts are all standard
        return text

    def watch_addresses(self, params: NetworkParams) -> tuple[str, ...]:
        out = []
        for script in self.watch_scripts:
            text = address_from_script(script, params)
            assert text is not None
            out.append(text)
        return tuple(out)


@dataclass(frozen=True, repr=False)
class Account:
    """An account key (``m/purpose'/coin'/account'``, private or public) and its scope."""

    scope: AccountScope
    key: ExtendedKey

    @classmethod
    def from_master(cls, master: ExtendedKey, scope: AccountScope) -> Account:
        if master.depth != 0:
            raise ValueError("derive accounts from the master key (depth 0)")
        return cls(scope, master.derive_path(scope.path, nonstandard=scope.nonstandard))

    @cached_property
    def _branch_keys(self) -> dict[int, ExtendedKey]:
        return {}

    def branch_key(self, branch: int) -> ExtendedKey:
        if branch not in (EXTERNAL, INTERNAL):
            raise ValueError("branch must be 0 (receive) or 1 (change)")
        cache = self._branch_keys
        if branch not in cache:
            cache[branch] = self.key.derive_child(branch, nonstandard=self.scope.nonstandard)
        return cache[branch]

    def _child(self, branch: int, index: int) -> ExtendedKey:
        if not 0 <= index < HARDENED:
            raise ValueError("address index must be 0..2^31-1")
        return self.branch_key(branch).derive_child(index, nonstandard=self.scope.nonstandard)

    def derive(self, branch: int, index: int) -> DerivedKey:
        """The key at ``branch/index``; raises InvalidChildError for the (astronomically rare)
        invalid index, which wallets skip."""
        public_key = self._child(branch, index).public_key
        kinds = self.scope.watch_kinds(branch)
        scripts = tuple(output_script(kind, public_key) for kind in kinds)
        return DerivedKey(
            scope=self.scope,
            branch=branch,
            index=index,
            public_key=public_key,
            kind=kinds[0],
            script=scripts[0],
            watch_scripts=scripts,
        )

    def receive(self, index: int) -> DerivedKey:
        return self.derive(EXTERNAL, index)

    def change(self, index: int) -> DerivedKey:
        return self.derive(INTERNAL, index)

    def private_key(self, branch: int, index: int) -> bytes:
        """The 32-byte private key at ``branch/index`` (needs a private account key)."""
        child = self._child(branch, index)
        if child.private_key is None:
            raise ValueError("this account holds only public keys")
        return child.private_key

    def xpub(self) -> str:
        return self.key.xpub()

    def __repr__(self) -> str:
        return f"Account({self.scope.path_str}, {self.scope.name or self.scope.receive_kind.value})"


def pktwallet_accounts(master: ExtendedKey, params: NetworkParams) -> tuple[Account, ...]:
    """The 44'/49'/84' accounts of a pktwallet seed's master key."""
    return tuple(Account.from_master(master, scope) for scope in pktwallet_scopes(params))


# --- gap-limit discovery ------------------------------------------------------------------------


@dataclass(frozen=True)
class BranchScan:
    """Keys of one branch from index 0 up to `gap` consecutive unused keys past the last used."""

    branch: int
    keys: tuple[DerivedKey, ...]
    last_used_index: int | None

    @property
    def used(self) -> tuple[DerivedKey, ...]:
        if self.last_used_index is None:
            return ()
        return tuple(k for k in self.keys if k.index <= self.last_used_index)

    @property
    def next_unused_index(self) -> int:
        return 0 if self.last_used_index is None else self.last_used_index + 1


def scan_branch(
    account: Account,
    branch: int,
    is_used: Callable[[bytes], bool],
    *,
    gap: int = DEFAULT_GAP_LIMIT,
    max_index: int = MAX_SCAN_INDEX,
) -> BranchScan:
    """Derive keys 0, 1, 2, ... until `gap` consecutive keys have no used script.

    `is_used(script)` says whether an output script has been seen on chain; a key counts as
    used when any of its ``watch_scripts`` is. Indices whose derivation is invalid are skipped.
    """
    if gap < 1:
        raise ValueError("gap limit must be at least 1")
    keys: list[DerivedKey] = []
    last_used: int | None = None
    unused_run = 0
    index = 0
    while unused_run < gap and index <= max_index:
        try:
            key = account.derive(branch, index)
        except InvalidChildError:
            index += 1
            continue
        keys.append(key)
        if any(is_used(script) for script in key.watch_scripts):
            last_used = index
            unused_run = 0
        else:
            unused_run += 1
        index += 1
    return BranchScan(branch, tuple(keys), last_used)


def scan_account(
    account: Account,
    is_used: Callable[[bytes], bool],
    *,
    gap: int = DEFAULT_GAP_LIMIT,
    branches: Iterable[int] = (EXTERNAL, INTERNAL),
) -> dict[int, BranchScan]:
    """:func:`scan_branch` over the receive and change branches."""
    return {b: scan_branch(account, b, is_used, gap=gap) for b in branches}
