"""The local cjdroute: finding the executable, its version, its admin credentials, and starting
or stopping it.

cjdroute.conf is JSON with ``//`` and ``/* */`` comments (``cjdroute --genconf`` writes them);
its ``admin`` block has ``bind`` ("127.0.0.1:11234") and ``password`` ("NONE" by default).
Tools conventionally read ``~/.cjdnsadmin`` instead: JSON ``{addr, port, password}``, optionally
with ``config`` naming the cjdroute.conf.
"""

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spv.atomic import make_private_dir

from .admin import DEFAULT_HOST, DEFAULT_PASSWORD, DEFAULT_PORT, AdminClient
from .errors import AdminError, CjdrouteNotFound, ConfigError

EXECUTABLE = "cjdroute"
COMMON_LOCATIONS: tuple[str, ...] = (
    "/usr/bin/cjdroute",
    "/usr/sbin/cjdroute",
    "/usr/local/bin/cjdroute",
    "/usr/local/sbin/cjdroute",
    "/opt/cjdns/cjdroute",
    "/opt/homebrew/bin/cjdroute",
    "~/cjdns/cjdroute",
    "~/.local/bin/cjdroute",
)
CONFIG_LOCATIONS: tuple[str, ...] = (
    "/etc/cjdroute.conf",
    "~/cjdroute.conf",
    "~/cjdns/cjdroute.conf",
)

INSTALL_HINT = (
    "cjdroute (the cjdns router) is needed for the VPN and is not installed. It is not packaged "
    "in Debian 12; get it from upstream: https://github.com/cjdelisle/cjdns (prebuilt amd64 "
    "binaries via its cjdns.sh, or build from source with Rust, Node.js and a C compiler). Then "
    "generate a config with 'cjdroute --genconf > cjdroute.conf', start it as root "
    "('sudo cjdroute < cjdroute.conf', or the systemd cjdns.service from its debian/ "
    "directory), and point the wallet at it with --cjdroute-conf FILE."
)


def strip_json_comments(text: str) -> str:
    """Remove // and /* */ comments outside strings, and commas before } or ]."""
    out: list[str] = []
    i, n = 0, len(text)
    in_string = False
    while i < n:
        c = text[i]
        if in_string:
            out.append(c)
            if c == "\\" and i + 1 < n:
                out.append(text[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
            i += 1
            continue
        if c == '"':
            in_string = True
            out.append(c)
            i += 1
        elif text.startswith("//", i):
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                raise ConfigError("unterminated /* comment")
            out.append(" ")
            i = end + 2
        else:
            out.append(c)
            i += 1
    cleaned = "".join(out)
    # trailing commas: `,` followed only by whitespace before `}` or `]` (outside strings)
    result: list[str] = []
    in_string = False
    i = 0
    while i < len(cleaned):
        c = cleaned[i]
        if in_string:
            result.append(c)
            if c == "\\" and i + 1 < len(cleaned):
                result.append(cleaned[i + 1])
                i += 2
                continue
            if c == '"':
                in_string = False
        elif c == '"':
            in_string = True
            result.append(c)
        elif c == ",":
            j = i + 1
            while j < len(cleaned) and cleaned[j] in " \t\r\n":
                j += 1
            if j >= len(cleaned) or cleaned[j] not in "}]":
                result.append(c)
        else:
            result.append(c)
        i += 1
    return "".join(result)


def load_json_with_comments(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        data = json.loads(strip_json_comments(text))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON (line {exc.lineno}): {exc.msg}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} does not hold a JSON object")
    return data


@dataclass(frozen=True)
class AdminCredentials:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    password: str = DEFAULT_PASSWORD
    source: str = "defaults (127.0.0.1:11234, password NONE)"
    config_path: Path | None = None
    tun_device: str | None = None
    public_key: str | None = None

    def client(self, timeout: float = 2.0, retries: int = 3) -> AdminClient:
        return AdminClient(
            self.host, self.port, self.password, timeout, retries, password_source=self.source
        )


def parse_bind(bind: str) -> tuple[str, int]:
    """``127.0.0.1:11234`` or ``[::1]:11234``."""
    text = bind.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = text.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ConfigError(f"bad admin bind address {bind!r} (expected IP:PORT)")
    return host, int(port_text)


def credentials_from_conf(path: Path) -> AdminCredentials:
    conf = load_json_with_comments(path)
    admin = conf.get("admin")
    if not isinstance(admin, dict):
        raise ConfigError(f'{path} has no "admin" block')
    host, port = parse_bind(str(admin.get("bind", f"{DEFAULT_HOST}:{DEFAULT_PORT}")))
    password = admin.get("password", DEFAULT_PASSWORD)
    if not isinstance(password, str):
        raise ConfigError(f"{path}: admin.password must be a string")
    router = conf.get("router")
    tun: str | None = None
    if isinstance(router, dict) and isinstance(router.get("interface"), dict):
        dev = router["interface"].get("tunDevice")
        tun = str(dev) if dev else None
    key = conf.get("publicKey")
    return AdminCredentials(
        host,
        port,
        password,
        str(path),
        path,
        tun,
        str(key) if isinstance(key, str) else None,
    )


def credentials_from_cjdnsadmin(path: Path) -> AdminCredentials:
    data = load_json_with_comments(path)
    conf_path = data.get("config")
    if isinstance(conf_path, str) and "password" not in data:
        return credentials_from_conf(Path(conf_path).expanduser())
    port = data.get("port", DEFAULT_PORT)
    if isinstance(port, str) and port.isdigit():
        port = int(port)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError(f"{path}: bad port {port!r}")
    password = data.get("password", DEFAULT_PASSWORD)
    return AdminCredentials(
        str(data.get("addr", DEFAULT_HOST)),
        port,
        str(password),
        str(path),
        Path(conf_path).expanduser() if isinstance(conf_path, str) else None,
    )


def resolve_credentials(
    conf: Path | None = None,
    *,
    password: str | None = None,
    bind: str | None = None,
    home: Path | None = None,
    search_system: bool = True,
) -> AdminCredentials:
    """Admin credentials, first match wins: the given cjdroute.conf; ~/.cjdnsadmin; a readable
    cjdroute.conf in a usual place; defaults. ``password``/``bind`` override what was found."""
    found: AdminCredentials | None = None
    if conf is not None:
        found = credentials_from_conf(conf.expanduser())
    else:
        base = home if home is not None else Path.home()
        cjdnsadmin = base / ".cjdnsadmin"
        if cjdnsadmin.is_file():
            found = credentials_from_cjdnsadmin(cjdnsadmin)
        elif search_system:
            for loc in CONFIG_LOCATIONS:
                candidate = Path(loc.replace("~", str(base), 1))
                if candidate.is_file() and os.access(candidate, os.R_OK):
                    try:
                        found = credentials_from_conf(candidate)
                        break
                    except ConfigError:
                        continue
    creds = found or AdminCredentials()
    if bind or password is not None:
        host, port = parse_bind(bind) if bind else (creds.host, creds.port)
        creds = AdminCredentials(
            host,
            port,
            password if password is not None else creds.password,
            "settings" if password is not None else creds.source,
            creds.config_path,
            creds.tun_device,
            creds.public_key,
        )
    return creds


@dataclass(frozen=True)
class CjdrouteInfo:
    path: Path | None
    found_via: str
    version: str | None = None
    protocol: int | None = None
    error: str | None = None

    @property
    def found(self) -> bool:
        return self.path is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "found": self.found,
            "path": str(self.path) if self.path else None,
            "found_via": self.found_via,
            "version": self.version,
            "protocol": self.protocol,
            "error": self.error,
            "install_hint": None if self.found else INSTALL_HINT,
        }


def _is_executable(p: Path) -> bool:
    return p.is_file() and os.access(p, os.X_OK)


def find_cjdroute(
    configured: str | Path | None = None,
    *,
    search_path: str | None = None,
    locations: Sequence[str] = COMMON_LOCATIONS,
) -> tuple[Path | None, str]:
    """(path, how it was found) — the configured path, then PATH, then common locations."""
    if configured:
        p = Path(configured).expanduser()
        if _is_executable(p):
            return p, "configured path"
        return None, f"configured path {p} is not an executable file"
    path_env = os.environ.get("PATH", "") if search_path is None else search_path
    which = shutil.which(EXECUTABLE, path=path_env)
    if which:
        return Path(which), "PATH"
    for loc in locations:
        p = Path(loc).expanduser()
        if _is_executable(p):
            return p, "common location"
    return None, "not on PATH nor in " + ", ".join(locations)


def cjdroute_version(path: Path, timeout: float = 5.0) -> tuple[str | None, int | None]:
    """Run ``cjdroute --version``: "Cjdns version: X" and "Cjdns protocol version: N"."""
    try:
        proc = subprocess.run(
            [str(path), "--version"],
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise CjdrouteNotFound(f"{path} --version failed: {exc}") from None
    version: str | None = None
    protocol: int | None = None
    for line in (proc.stdout + "\n" + proc.stderr).splitlines():
        head, _, value = line.partition(":")
        head, value = head.strip().lower(), value.strip()
        if head == "cjdns version" and value:
            version = value
        elif head == "cjdns protocol version" and value.isdigit():
            protocol = int(value)
    if version is None and protocol is None:
        first = (proc.stdout or proc.stderr).strip().splitlines()
        version = first[0] if first else None
    return version, protocol


def detect_cjdroute(
    configured: str | Path | None = None,
    *,
    search_path: str | None = None,
    locations: Sequence[str] = COMMON_LOCATIONS,
) -> CjdrouteInfo:
    """Find cjdroute and ask its version; never raises."""
    path, via = find_cjdroute(configured, search_path=search_path, locations=locations)
    if path is None:
        return CjdrouteInfo(None, via, error=via)
    try:
        version, protocol = cjdroute_version(path)
    except CjdrouteNotFound as exc:
        return CjdrouteInfo(path, via, error=str(exc))
    return CjdrouteInfo(path, via, version, protocol)


def start_cjdroute(
    binary: Path,
    conf: Path,
    admin: AdminClient,
    *,
    log_path: Path | None = None,
    wait: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Start ``cjdroute < conf`` and wait until its admin API answers. Returns the pid of the
    launcher (cjdroute forks its core into the background unless ``noBackground`` is set).

    cjdroute needs root or CAP_NET_ADMIN for its TUN device; when started as an ordinary user it
    may run without one (no addresses/routes on this machine)."""
    try:
        conf_fh = open(conf, "rb")  # noqa: SIM115 - handed to the child
    except OSError as exc:
        raise ConfigError(f"cannot read {conf}: {exc.strerror or exc}") from None
    if log_path:
        make_private_dir(log_path.parent)
    log_fh = (
        os.fdopen(os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "ab")
        if log_path
        else subprocess.DEVNULL
    )
    try:
        proc = subprocess.Popen(
            [str(binary)],
            stdin=conf_fh,
            stdout=log_fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        raise CjdrouteNotFound(f"cannot start {binary}: {exc.strerror or exc}") from None
    finally:
        conf_fh.close()
        if log_path and not isinstance(log_fh, int):
            log_fh.close()
    deadline = time.monotonic() + wait
    last: AdminError | None = None
    while time.monotonic() < deadline:
        try:
            admin.node_info()
            return proc.pid
        except AdminError as exc:
            last = exc
        code = proc.poll()
        if code not in (None, 0):
            raise CjdrouteNotFound(
                f"cjdroute exited with status {code} (see {log_path or 'its output'})"
            )
        sleep(0.2)
    raise CjdrouteNotFound(f"cjdroute started but its admin API did not answer: {last}")


def stop_cjdroute(admin: AdminClient) -> None:
    """Ask cjdroute to exit (``Core_exit``)."""
    admin.core_exit()
