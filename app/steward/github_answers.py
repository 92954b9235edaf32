"""GitHub's answers for the proposal repository, as data (steward.md §4).

Pure functions over the JSON :class:`~app.steward.http.GitHubClient` decoded (with
:mod:`miner.safejson`): the git tree, a folder's contents, a page of the issue search or of
the pull-request list, a pull request's files, a file sent as a contents object. Anything that
is not the shape GitHub documents raises :class:`MalformedResponseError` naming what was wrong;
nothing else comes out (``bench/fuzz.py`` feeds them hostile documents).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from miner import safejson

from .errors import MalformedResponseError
from .http import MAX_BODY
from .proposal import PullRequestInfo

NOT_PROPOSALS = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp", ".pdf", ".py", ".json")


@dataclass(frozen=True)
class RepoFile:
    path: str
    sha: str
    size: int | None = None
    download_url: str | None = None
    html_url: str | None = None


@dataclass
class PrFile:
    path: str
    sha: str | None
    raw_url: str | None
    status: str


def is_proposal_path(path: str) -> bool:
    """A proposal file: directly in `projects/` or `projects/complete/`, not the template."""
    parts = path.split("/")
    if parts[0] != "projects" or len(parts) not in (2, 3):
        return False
    if len(parts) == 3 and parts[1] != "complete":
        return False
    name = parts[-1].lower()
    return bool(name) and name != "template.md" and not name.endswith(NOT_PROPOSALS)


def _expect(cond: bool, what: str) -> None:
    if not cond:
        raise MalformedResponseError(f"unexpected GitHub answer: {what}")


def _opt_str(item: dict[str, Any], key: str) -> str | None:
    value = item.get(key)
    return value if isinstance(value, str) else None


def _opt_size(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_tree(data: Any) -> list[RepoFile] | None:
    """The proposal files of a recursive git tree; None when GitHub truncated the tree (the
    caller lists the folders instead)."""
    _expect(isinstance(data, dict) and isinstance(data.get("tree"), list), "tree listing")
    if data.get("truncated"):
        return None
    files = []
    for entry in data["tree"]:
        _expect(isinstance(entry, dict), "tree entry")
        path, sha = entry.get("path"), entry.get("sha")
        if entry.get("type") != "blob" or not isinstance(path, str):
            continue
        _expect(isinstance(sha, str), f"tree entry {path[:100]} without sha")
        if is_proposal_path(path):
            files.append(RepoFile(path, sha, _opt_size(entry.get("size"))))
    return files


def parse_contents(data: Any, folder: str) -> list[RepoFile]:
    """The proposal files of one folder's contents listing."""
    _expect(isinstance(data, list), f"contents of {folder}")
    files = []
    for entry in data:
        _expect(isinstance(entry, dict), f"entry of {folder}")
        path, sha = entry.get("path"), entry.get("sha")
        if entry.get("type") != "file" or not isinstance(path, str):
            continue
        _expect(isinstance(sha, str), f"file {path[:100]} without sha")
        if is_proposal_path(path):
            files.append(
                RepoFile(
                    path,
                    sha,
                    _opt_size(entry.get("size")),
                    _opt_str(entry, "download_url"),
                    _opt_str(entry, "html_url"),
                )
            )
    return files


def parse_search_page(data: Any) -> tuple[list[PullRequestInfo] | None, int, int | None]:
    """(pull requests, items on the page, total_count) of one issue-search page; the list is
    None when an item does not say whether it was merged (older API versions)."""
    _expect(isinstance(data, dict) and isinstance(data.get("items"), list), "search")
    prs: list[PullRequestInfo] = []
    for item in data["items"]:
        marker = item.get("pull_request") if isinstance(item, dict) else None
        if not isinstance(marker, dict) or "merged_at" not in marker:
            return None, len(data["items"]), None
        prs.append(pr_from_item(item, search=True))
    total = data.get("total_count")
    return prs, len(data["items"]), _opt_size(total)


def parse_pulls_page(data: Any, label: str) -> tuple[list[PullRequestInfo], int]:
    """(pull requests carrying `label`, items on the page) of one pull-request list page."""
    _expect(isinstance(data, list), "pull request list")
    prs = []
    for item in data:
        labels = item.get("labels") if isinstance(item, dict) else None
        names = {
            lb["name"].casefold()
            for lb in (labels if isinstance(labels, list) else [])
            if isinstance(lb, dict) and isinstance(lb.get("name"), str)
        }
        if label.casefold() in names:
            prs.append(pr_from_item(item, search=False))
    return prs, len(data)


def parse_pr_files(data: Any, number: int) -> list[PrFile]:
    """The files a pull request changed."""
    _expect(isinstance(data, list), f"files of pull request {number}")
    out = []
    for entry in data:
        _expect(isinstance(entry, dict), f"file entry of pull request {number}")
        name = entry.get("filename")
        if not isinstance(name, str):
            continue
        out.append(
            PrFile(
                name,
                _opt_str(entry, "sha"),
                _opt_str(entry, "raw_url"),
                _opt_str(entry, "status") or "",
            )
        )
    return out


def pr_from_item(item: Any, search: bool) -> PullRequestInfo:
    """One pull request of the issue search (`search`) or of the pull-request list."""
    _expect(
        isinstance(item, dict)
        and isinstance(item.get("number"), int)
        and not isinstance(item.get("number"), bool)
        and 0 < item["number"] < 1 << 31,
        "pull request item",
    )
    user = item.get("user")
    merged_at: str | None
    if search:
        marker = item.get("pull_request")
        merged_at = _opt_str(marker, "merged_at") if isinstance(marker, dict) else None
    else:
        merged_at = _opt_str(item, "merged_at")
    state = _opt_str(item, "state") or "closed"
    return PullRequestInfo(
        number=item["number"],
        title=_opt_str(item, "title") or f"pull request #{item['number']}",
        state="open" if state == "open" else "closed",
        merged=merged_at is not None,
        user=_opt_str(user, "login") if isinstance(user, dict) else None,
        created_at=_opt_str(item, "created_at"),
        closed_at=_opt_str(item, "closed_at"),
        merged_at=merged_at,
        html_url=_opt_str(item, "html_url"),
        body=_opt_str(item, "body"),
    )


def unwrap_contents_json(content: bytes, content_type: str) -> bytes:
    """The file bytes when a contents endpoint answered with its JSON object instead of raw."""
    if "json" not in content_type.lower():
        return content
    try:
        obj = safejson.loads(content, max_bytes=MAX_BODY)
    except safejson.JsonError:
        return content
    if isinstance(obj, dict) and obj.get("encoding") == "base64" and "content" in obj:
        if not isinstance(obj["content"], str):
            raise MalformedResponseError("bad base64 file content from GitHub")
        try:
            return base64.b64decode(obj["content"], validate=False)
        except (binascii.Error, ValueError):
            raise MalformedResponseError("bad base64 file content from GitHub") from None
    return content
