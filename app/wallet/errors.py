"""The wallet's errors: each message is one line for the user."""

from __future__ import annotations


class WalletError(ValueError):
    """A wallet operation failed; the message is one line for the user."""


class WalletExistsError(WalletError):
    pass


class WalletNotFoundError(WalletError):
    pass


class StateFileError(WalletError):
    """The wallet database is missing, damaged, too new or belongs to another wallet."""


class PasswordError(WalletError):
    """Wrong wallet password."""


class KeyFileError(WalletError):
    """The encrypted key file is missing or damaged."""


class BackupCheckError(WalletError):
    """The words typed back do not match the seed."""


class WalletLockedError(WalletError):
    """Another process has the wallet open."""


class TooManyCoinsError(WalletError):
    """A payment would need more coins than one standard transaction may spend.

    `coins` is how many it would need; `single_max` the most (in units) one transaction of the
    largest coins could send after its fee, or None when it was not computed."""

    def __init__(self, message: str, *, coins: int, single_max: int | None = None) -> None:
        super().__init__(message)
        self.coins = coins
        self.single_max = single_max
