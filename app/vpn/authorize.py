"""Authorization of this cjdns node at an exit: through the coordinator, or directly at the
exit's authorization server (invites; the coordinator unreachable; the server that worked last
time). cjdroute signs the request with the node's key.
"""

from .admin import AdminClient
from .directory import AuthResult, Directory, ExitServer
from .errors import AuthorizationError, DirectoryUnreachable
from .invite import Invite
from .system import SystemChanges


class Authorizer:
    def __init__(self, admin: AdminClient, directory: Directory, system: SystemChanges) -> None:
        self.admin = admin
        self.directory = directory
        self.system = system
        self.my_key: str | None = None
        """This node's public key, once cjdroute has told it."""

    def sign(self, msg_hash: str) -> str:
        return self.admin.sign(msg_hash)

    def authorize(
        self, exit_server: ExitServer, invite: Invite | None, direct_url: str | None = None
    ) -> AuthResult | None:
        """One authorization: at ``direct_url`` if given (the server that worked last time),
        directly for invites, else through the coordinator with a direct fallback when the
        coordinator is unreachable. None: an invite without an authorization server (the
        operator pre-allowed this node)."""
        if direct_url:
            return self.authorize_direct(direct_url)
        if invite is not None:
            if not invite.auth_server:
                return None
            return self.authorize_direct(invite.auth_server)
        try:
            return self.directory.authorize(exit_server.public_key, self.sign)
        except DirectoryUnreachable as exc:
            direct = exit_server.auth_server or (
                f"http://{exit_server.public_ip}:8099" if exit_server.public_ip else None
            )
            if not direct:
                raise AuthorizationError(
                    f"the coordinator is unreachable ({exc}) and the exit has no known "
                    "authorization server to try directly"
                ) from None
            self.system.notices.append(f"coordinator unreachable ({exc}); authorized at {direct}")
            return self.authorize_direct(direct)

    def authorize_direct(self, url: str) -> AuthResult:
        if not self.my_key:
            self.my_key = self.admin.node_info().public_key
        try:
            return self.directory.authorize_direct(url, self.my_key, self.sign)
        except DirectoryUnreachable as exc:
            raise AuthorizationError(
                f"the exit's authorization server is unreachable: {exc}"
            ) from None
