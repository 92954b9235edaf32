"""A virtual X display (Xvfb) for real-window tests and screenshots, optionally with a window
manager (openbox) so windows get title bars and the focus as on a desktop."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager


class XvfbUnavailable(RuntimeError):
    """Xvfb is not installed (tools/ensure-test-system-deps.sh installs it)."""


@contextmanager
def xvfb(
    size: tuple[int, int] = (1280, 1024), window_manager: bool = False
) -> Iterator[dict[str, str]]:
    """Start Xvfb on a free display; yields the environment for programs to use it (DISPLAY
    set, QT_QPA_PLATFORM=xcb). Stopped (with the window manager) on exit."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise XvfbUnavailable("Xvfb is not installed")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        [
            binary,
            "-displayfd",
            str(write_fd),
            "-screen",
            "0",
            f"{size[0]}x{size[1]}x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    os.close(write_fd)
    wm: subprocess.Popen[bytes] | None = None
    try:
        number = _read_display_number(read_fd, server)
        env = {**os.environ, "DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"}
        env.pop("WAYLAND_DISPLAY", None)
        if window_manager and shutil.which("openbox"):
            wm = subprocess.Popen(
                ["openbox", "--sm-disable"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            time.sleep(0.5)  # openbox takes over the screen; nothing is measured here
        yield env
    finally:
        os.close(read_fd)
        for process in (wm, server):
            if process is not None and process.poll() is None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _read_display_number(fd: int, server: subprocess.Popen[bytes]) -> str:
    """Xvfb writes the display number to `fd` once it accepts connections."""
    text = b""
    deadline = time.monotonic() + 30
    while not text.endswith(b"\n"):
        if server.poll() is not None:
            said = server.stderr.read().decode(errors="replace") if server.stderr else ""
            raise XvfbUnavailable(f"Xvfb ended at start: {said.strip()[-300:]}")
        if time.monotonic() > deadline:
            raise XvfbUnavailable("Xvfb did not start within 30 s")
        ready, _, _ = select.select([fd], [], [], 0.5)
        chunk = os.read(fd, 16) if ready else b""
        if ready and not chunk:
            time.sleep(0.05)  # the pipe closed: the next turn sees Xvfb's exit
        text += chunk
    return text.decode().strip()
