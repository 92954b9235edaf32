"""The application core (see :mod:`.appcore`): the network thread, the open wallet and the
calls the window and the CLI make."""

from .appcore import AppCore, CoreStoppedError, EventCallback
from .view import RECENT_HISTORY, SeedWords, WalletView

__all__ = [
    "RECENT_HISTORY",
    "AppCore",
    "CoreStoppedError",
    "EventCallback",
    "SeedWords",
    "WalletView",
]
