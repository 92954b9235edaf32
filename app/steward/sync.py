"""Refreshing the proposal list from `pkt-cash/ns-projects` (steward.md §4–5).

Order of requests, cheapest and most important first:

1. the recursive git tree of the branch (one call; the per-folder contents listings are the
   fallback when the tree is truncated or unavailable);
2. the pull requests labelled `project` (the issue search, one or two calls on the search
   budget; the paged pull-request list is the fallback);
3. the proposal files' contents, by git blob SHA (each is downloaded once, ever: the
   repository is archived);
4. per pull request, its changed files (which proposal it adds or edits), unmerged ones first.
   These are optional: they stop when the rate limit's remaining budget reaches a reserve, and
   resume on the next refresh, where unchanged answers cost nothing (304).

A rate limit hit in steps 1–2 aborts the refresh (the cached list stays as it was); in steps 3–4
it ends the refresh early with what was gathered, marked incomplete.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from .errors import MalformedResponseError, RateLimitedError, StewardError
from .github_answers import (
    PrFile,
    RepoFile,
    is_proposal_path,
    parse_contents,
    parse_pr_files,
    parse_pulls_page,
    parse_search_page,
    parse_tree,
    unwrap_contents_json,
)
from .http import (
    ACCEPT_RAW,
    DEFAULT_GITHUB_API,
    DEFAULT_RAW_BASE,
    GitHubClient,
    HttpStatusError,
    git_blob_sha,
)
from .proposal import (
    Proposal,
    PullRequestInfo,
    derive_status,
    parse_proposal,
    title_from_filename,
)

log = logging.getLogger(__name__)

DEFAULT_REPO = "pkt-cash/ns-projects"
DEFAULT_BRANCH = "master"
PROJECT_LABEL = "project"
MAX_PAGES = 10
PER_PAGE = 100


@dataclass
class RefreshReport:
    proposals: int = 0
    requests_made: int = 0
    not_modified: int = 0
    downloaded: int = 0
    complete: bool = True
    pending: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rate_limit: int | None = None
    rate_remaining: int | None = None
    rate_reset: float | None = None
    finished_at: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "proposals": self.proposals,
            "requests_made": self.requests_made,
            "not_modified": self.not_modified,
            "downloaded": self.downloaded,
            "complete": self.complete,
            "pending": self.pending,
            "warnings": self.warnings,
            "rate_limit": self.rate_limit,
            "rate_remaining": self.rate_remaining,
            "rate_reset": self.rate_reset,
            "finished_at": self.finished_at,
        }


def _basename_key(path: str) -> str:
    return path.rsplit("/", 1)[-1].casefold()


def _stem(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return name[:-3] if name.lower().endswith(".md") else name


class Refresher:
    """One refresh run. `run()` returns the new proposal list and a report."""

    def __init__(
        self,
        client: GitHubClient,
        repo: str = DEFAULT_REPO,
        branch: str = DEFAULT_BRANCH,
        label: str = PROJECT_LABEL,
        raw_base: str | None = None,
        reserve: int = 3,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.store = client.store
        self.repo = repo
        self.branch = branch
        self.label = label
        if raw_base is None and client.api_url == DEFAULT_GITHUB_API:
            raw_base = DEFAULT_RAW_BASE
        self.raw_base = raw_base.rstrip("/") if raw_base else None
        self.web_base = "https://github.com" if client.api_url == DEFAULT_GITHUB_API else None
        self.reserve = reserve
        self.clock = clock
        self.report = RefreshReport()
        self._stopped: RateLimitedError | None = None

    # --- listing --------------------------------------------------------------------------

    def list_files(self) -> list[RepoFile]:
        try:
            data = self.client.get_json(
                f"/repos/{self.repo}/git/trees/{quote(self.branch)}", {"recursive": 1}
            )
        except HttpStatusError as exc:
            if exc.status not in (404, 409, 422):
                raise
            log.info("tree unavailable (%s); listing the folders instead", exc)
            return self._list_contents()
        files = parse_tree(data)
        return self._list_contents() if files is None else files

    def _list_contents(self) -> list[RepoFile]:
        files: list[RepoFile] = []
        for folder in ("projects", "projects/complete"):
            data = self.client.get_json(
                f"/repos/{self.repo}/contents/{folder}", {"ref": self.branch}
            )
            files.extend(parse_contents(data, folder))
        return files

    def list_pull_requests(self) -> list[PullRequestInfo]:
        try:
            return self._search_pull_requests()
        except (RateLimitedError, HttpStatusError) as exc:
            log.info("issue search unavailable (%s); listing pull requests instead", exc)
            return self._list_pulls()

    def _search_pull_requests(self) -> list[PullRequestInfo]:
        prs: dict[int, PullRequestInfo] = {}
        for page in range(1, MAX_PAGES + 1):
            data = self.client.get_json(
                "/search/issues",
                {
                    "q": f"repo:{self.repo} is:pr label:{self.label}",
                    "per_page": PER_PAGE,
                    "page": page,
                },
            )
            page_prs, items, total = parse_search_page(data)
            if page_prs is None:  # older API versions do not say whether a PR was merged
                raise HttpStatusError(200, "issue search without merge state")
            prs.update((pr.number, pr) for pr in page_prs)
            if items < PER_PAGE or (total is not None and len(prs) >= total):
                break
        return sorted(prs.values(), key=lambda p: p.number)

    def _list_pulls(self) -> list[PullRequestInfo]:
        prs: dict[int, PullRequestInfo] = {}
        for page in range(1, MAX_PAGES + 1):
            data = self.client.get_json(
                f"/repos/{self.repo}/pulls",
                {"state": "all", "per_page": PER_PAGE, "page": page},
            )
            page_prs, items = parse_pulls_page(data, self.label)
            prs.update((pr.number, pr) for pr in page_prs)
            if items < PER_PAGE:
                break
        return sorted(prs.values(), key=lambda p: p.number)

    def pull_request_files(self, number: int) -> list[PrFile]:
        data = self.client.get_json(
            f"/repos/{self.repo}/pulls/{number}/files", {"per_page": PER_PAGE}
        )
        return parse_pr_files(data, number)

    # --- contents -------------------------------------------------------------------------

    def _budget_left(self) -> bool:
        remaining = self.client.rate.remaining
        return remaining is None or remaining > self.reserve

    def _api_host(self, url: str) -> bool:
        return urlsplit(url).netloc == urlsplit(self.client.api_url).netloc

    def _file_url(self, f: RepoFile) -> tuple[str, str]:
        if f.download_url:
            return f.download_url, "*/*"
        if self.raw_base:
            return f"{self.raw_base}/{self.repo}/{quote(self.branch)}/{quote(f.path)}", "*/*"
        url = self.client.url(f"/repos/{self.repo}/contents/{quote(f.path)}", {"ref": self.branch})
        return url, ACCEPT_RAW

    def fetch_text(self, path: str, sha: str | None, url: str, accept: str) -> str | None:
        """A file's text from the blob cache, else downloaded (None when postponed)."""
        if sha:
            cached = self.store.blob(sha)
            if cached is not None:
                return cached.decode("utf-8", errors="replace")
        api = self._api_host(url)  # raw file hosts do not count against the API limit
        if api and self._stopped is not None:
            self.report.pending.append(path)
            return None
        if api and not self._budget_left():
            self._stopped = RateLimitedError(self.client.rate.reset_at)
            self.report.pending.append(path)
            return None
        try:
            content, ctype = self.client.get_bytes(url, accept)
        except RateLimitedError as exc:
            self._stopped = exc
            self.report.pending.append(path)
            return None
        except StewardError as exc:
            self.report.warnings.append(f"{path}: {exc}")
            self.report.pending.append(path)
            return None
        content = unwrap_contents_json(content, ctype)
        if sha and git_blob_sha(content) != sha:
            self.report.warnings.append(f"{path}: downloaded content does not match blob {sha}")
            self.report.pending.append(path)
            return None
        self.report.downloaded += 1
        if sha:
            self.store.put_blob(sha, path, content)
        return content.decode("utf-8", errors="replace")

    # --- the run ----------------------------------------------------------------------------

    def run(self) -> tuple[list[Proposal], RefreshReport]:
        files = self.list_files()
        prs = self.list_pull_requests()

        entries: dict[str, Proposal] = {}
        for f in files:
            url, accept = self._file_url(f)
            text = self.fetch_text(f.path, f.sha, url, accept)
            parsed = parse_proposal(text, f.path) if text is not None else None
            if parsed is not None and parsed.is_template:
                continue
            html = f.html_url or (
                f"{self.web_base}/{self.repo}/blob/{quote(self.branch)}/{quote(f.path)}"
                if self.web_base
                else None
            )
            entries[_basename_key(f.path)] = Proposal(
                id=_stem(f.path),
                title=parsed.title if parsed else title_from_filename(f.path),
                status="",
                path=f.path,
                on_master=True,
                parsed=parsed,
                html_url=html,
            )

        # Unmerged pull requests first (they are the only source of their proposals), newest
        # first within each group.
        order = sorted(prs, key=lambda p: (p.merged, p.state != "open", -p.number))
        pr_only: dict[str, Proposal] = {}
        for pr in order:
            files_of_pr = self._files_of(pr)
            if files_of_pr is None:
                if not pr.merged:  # postponed: shown from its metadata until then
                    pr_only.setdefault(f"#{pr.number}", _pr_entry(pr))
                continue  # a merged one's proposal is on master; linked on a later refresh
            proposal_files = _proposal_files(files_of_pr)  # none: e.g. only the template
            for pf in proposal_files:
                key = _basename_key(pf.path)
                entry = entries.get(key) or pr_only.get(key)
                if entry is None:
                    entry = Proposal(
                        id=_stem(pf.path),
                        title=pr.title,
                        status="",
                        path=pf.path,
                        on_master=False,
                        parsed=None,
                        html_url=pr.html_url,
                    )
                    pr_only[key] = entry
                if pr not in entry.pull_requests:
                    entry.pull_requests.append(pr)
                if not entry.on_master and entry.parsed is None and pf.raw_url:
                    text = self.fetch_text(pf.path, pf.sha, pf.raw_url, "*/*")
                    if text is not None:
                        entry.parsed = parse_proposal(text, pf.path)
                        entry.title = entry.parsed.title

        proposals = list(entries.values()) + [
            p for p in pr_only.values() if not (p.parsed and p.parsed.is_template)
        ]
        for p in proposals:
            p.pull_requests.sort(key=lambda pr: pr.number)
            p.status = derive_status(
                in_complete_folder=bool(p.path and p.path.startswith("projects/complete/")),
                on_master=p.on_master,
                pull_requests=p.pull_requests,
                parsed=p.parsed,
            )
        proposals.sort(key=lambda p: (p.date or "", p.id), reverse=True)

        r = self.report
        r.proposals = len(proposals)
        r.requests_made = self.client.requests_made
        r.not_modified = self.client.not_modified
        r.rate_limit = self.client.rate.limit
        r.rate_remaining = self.client.rate.remaining
        r.rate_reset = self._stopped.reset_at if self._stopped else self.client.rate.reset_at
        r.complete = not r.pending
        r.finished_at = self.clock()
        return proposals, r

    def _files_of(self, pr: PullRequestInfo) -> list[PrFile] | None:
        """The files a pull request changed; None when postponed (rate limit) or unavailable."""
        if self._stopped is not None or not self._budget_left():
            if self._stopped is None:
                self._stopped = RateLimitedError(self.client.rate.reset_at)
            self.report.pending.append(f"pull request #{pr.number}")
            return None
        try:
            return self.pull_request_files(pr.number)
        except RateLimitedError as exc:
            self._stopped = exc
            self.report.pending.append(f"pull request #{pr.number}")
        except (HttpStatusError, MalformedResponseError) as exc:
            self.report.warnings.append(f"pull request #{pr.number}: {exc}")
        return None


def _proposal_files(files: list[PrFile]) -> list[PrFile]:
    """The proposal files a pull request adds or edits (removals and the template aside)."""
    return [f for f in files if f.status != "removed" and is_proposal_path(f.path)]


def _pr_entry(pr: PullRequestInfo) -> Proposal:
    """A proposal known only from its pull request's metadata (title and description)."""
    return Proposal(
        id=f"pr-{pr.number}",
        title=pr.title,
        status="",
        path=None,
        on_master=False,
        parsed=None,
        html_url=pr.html_url,
        pull_requests=[pr],
    )
