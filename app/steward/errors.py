"""Errors of the Network Steward service. Every message is one line meant for the user."""

from __future__ import annotations

import time


class StewardError(Exception):
    """Base class: something the user should be told about in one line."""


class UnreachableError(StewardError):
    """A server could not be reached, or answered with an unexpected HTTP status."""


class MalformedResponseError(StewardError):
    """A server answered, but not with what its API promises (bad JSON, wrong shape)."""


class RateLimitedError(StewardError):
    """GitHub's rate limit is exhausted until `reset_at` (Unix time, None when unknown)."""

    def __init__(self, reset_at: float | None, detail: str = "") -> None:
        self.reset_at = reset_at
        when = (
            f"; it resets at {format_local_time(reset_at)}"
            if reset_at is not None
            else "; try again later"
        )
        super().__init__(f"GitHub API rate limit exceeded{detail}{when}")


class NotFoundError(StewardError):
    """No proposal matches what the user asked for."""


def format_local_time(ts: float) -> str:
    """A Unix time as local `YYYY-MM-DD HH:MM` (with the zone name)."""
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(ts)).strip()


def age_text(seconds: float) -> str:
    """`just now`, `5 min ago`, `3 h ago`, `2 days ago`."""
    s = max(0.0, seconds)
    if s < 60:
        return "just now"
    if s < 3600:
        return f"{int(s // 60)} min ago"
    if s < 2 * 86400:
        return f"{int(s // 3600)} h ago"
    return f"{int(s // 86400)} days ago"
