"""Opt-in: remember a wallet's password in the operating system's keyring.

Only when the user asks for it, and only where a real keyring backend exists (Secret Service,
macOS Keychain, Windows Credential Locker). Without one the wallet works as always and says
so. Nothing is ever written to a plain file.
"""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

SERVICE = "pkt-wallet"


class KeyringUnavailable(Exception):
    """There is no usable keyring backend on this system."""


def _keyring() -> Any:
    try:
        import keyring
        from keyring.backends import fail
    except ImportError as exc:  # the package is a dependency, but be robust
        raise KeyringUnavailable(f"the keyring package is missing ({exc})") from None
    backend = keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
        raise KeyringUnavailable("no keyring backend on this system")
    return keyring


def _user(network: str, wallet: str) -> str:
    return f"{network}/{wallet}"


def availability() -> str | None:
    """None when a keyring can be used, else why not (for the user)."""
    try:
        _keyring()
    except KeyringUnavailable as exc:
        return str(exc)
    return None


def remember(network: str, wallet: str, password: str) -> None:
    kr = _keyring()
    try:
        kr.set_password(SERVICE, _user(network, wallet), password)
    except Exception as exc:  # noqa: BLE001 - any backend failure means "not remembered"
        raise KeyringUnavailable(f"the keyring refused to store it: {type(exc).__name__}") from None


def recall(network: str, wallet: str) -> str | None:
    """The remembered password, or None (also when no keyring works)."""
    try:
        kr = _keyring()
        value = kr.get_password(SERVICE, _user(network, wallet))
    except KeyringUnavailable:
        return None
    except Exception as exc:  # noqa: BLE001 - a broken keyring must not break the wallet
        log.info("keyring lookup failed: %s", type(exc).__name__)
        return None
    return value if isinstance(value, str) else None


def forget(network: str, wallet: str) -> bool:
    """Remove a remembered password; False when there was none (or no keyring)."""
    try:
        kr = _keyring()
        kr.delete_password(SERVICE, _user(network, wallet))
    except KeyringUnavailable:
        return False
    except Exception:  # noqa: BLE001 - "not found" differs per backend
        return False
    return True
