"""Typed errors of the VPN service. Every message is meant to be shown to the user as is."""


class VpnError(Exception):
    """Base class: something the VPN service could not do."""


class AdminError(VpnError):
    """The cjdns admin API failed."""


class AdminUnreachable(AdminError):
    """Nothing answered on the admin port (cjdroute not running, wrong address or port)."""


class AdminAuthError(AdminError):
    """cjdroute rejected the admin password ("Auth failed.")."""


class AdminCallError(AdminError):
    """A function answered with ``error`` other than ``none``."""

    def __init__(self, function: str, error: str) -> None:
        super().__init__(f"{function}: {error}")
        self.function = function
        self.error = error


class AdminProtocolError(AdminError):
    """cjdroute sent something that is not a bencoded dictionary of the expected shape."""


class ConfigError(VpnError):
    """A cjdroute.conf, ~/.cjdnsadmin or settings file that cannot be used."""


class CjdrouteNotFound(VpnError):
    """No cjdroute executable was found."""


class DirectoryError(VpnError):
    """The coordinator (exit list, peering lines, premium) failed or sent malformed data."""


class DirectoryUnreachable(DirectoryError):
    """The coordinator could not be reached at all (connection refused, timeout, DNS)."""


class AuthorizationError(VpnError):
    """An authorization request was refused or could not be made."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class InviteError(VpnError):
    """An invite token that does not parse."""


class PremiumError(VpnError):
    """Buying premium failed or was declined."""


class StepFailed(VpnError):
    """A step of connecting failed; ``step`` names it (peering, authorizing, ...)."""

    def __init__(self, step: str, reason: str) -> None:
        super().__init__(f"{step} failed: {reason}")
        self.step = step
        self.reason = reason
