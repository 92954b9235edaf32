"""A loopback server with recorded-shape GitHub REST and explorer API answers.

GitHub side (repository `pkt-cash/ns-projects`, built from tests/data/steward): the recursive
tree, folder contents, file contents (raw or base64 JSON), the issue search, the pull-request
list and each pull request's files; raw file hosts for master (`/<owner>/<repo>/master/<path>`)
and for pull-request heads (`/raw/pr/<n>/<path>`). Strong ETags with 304 answers that do not
count against a core limit; 403 with `x-ratelimit-*` headers once the limit is used up; a
separate search limit; switches for malformed JSON and a truncated tree.

Explorer side (`/api/v1/PKT/pkt`): `/ns` and `/ns/candidates[/<limit>/<page>]`, shaped as in
explorer_ns_examples.json, optionally paged; switches for errors and malformed JSON.

What git data cannot tell (titles, labels, states, logins) is derived as PROVENANCE.md says.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

DATA = Path(__file__).resolve().parents[1] / "data" / "steward"
REPO = "pkt-cash/ns-projects"
OPEN_PRS = {119, 133}  # refs/pull/<n>/merge exists: probably open (PROVENANCE.md)
EXPLORER_PREFIX = "/api/v1/PKT/pkt"


def git_sha(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


def utc(text: str | None) -> str | None:
    if not text:
        return None
    return datetime.fromisoformat(text).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def vector_files() -> dict[str, bytes]:
    """Copied proposal files from master, by file name."""
    return {p.name: p.read_bytes() for p in (DATA / "proposals").iterdir() if p.is_file()}


def pr_head_files() -> dict[tuple[int, str], bytes]:
    out = {}
    for folder in (DATA / "proposals_unmerged_pr").iterdir():
        number = int(folder.name[2:])
        for f in folder.iterdir():
            out[(number, f"projects/{f.name}")] = f.read_bytes()
    return out


class FakeServers:
    def __init__(self) -> None:
        tree = json.loads((DATA / "tree.json").read_text(encoding="utf-8"))
        self.tree_sha: str = tree["sha"]
        files = vector_files()
        self.master: dict[str, bytes] = {}
        self.tree_entries: list[dict[str, Any]] = []
        for e in tree["tree"]:
            name = e["path"].rsplit("/", 1)[-1]
            if e["type"] == "tree" or name.endswith(".png"):
                self.tree_entries.append(dict(e))
            elif name in files:
                assert git_sha(files[name]) == e["sha"], e["path"]
                self.master[e["path"]] = files[name]
                self.tree_entries.append(dict(e))
        self.tree_entries += [dict(e) for e in tree["entries_outside_projects"]]
        self.pr_heads = pr_head_files()
        self.prs = self._pull_requests()
        examples = json.loads((DATA / "explorer_ns_examples.json").read_text(encoding="utf-8"))
        eps = examples["endpoints"]
        self.ns: dict[str, Any] = dict(eps["/api/<chain>/<network>/ns"]["response"])
        self.candidates: list[dict[str, Any]] = list(
            eps["/api/<chain>/<network>/ns/candidates"]["response"]["result"]
        )
        # switches
        self.core_limit = 60
        self.core_used = 0
        self.reset_at = int(time.time()) + 3600
        self.exhausted = False
        self.search_exhausted = False
        self.tree_truncated = False
        self.malformed: set[str] = set()  # request paths answered with broken JSON
        self.candidates_page_size: int | None = None
        self.explorer_status: int | None = None
        self.explorer_malformed = False
        self.raw: dict[str, tuple[int, bytes, dict[str, str]]] = {}
        """path -> (status, body, headers) served as is (hostile answers)."""
        # observations
        self.hits: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.log: list[tuple[str, int, dict[str, str]]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # --- data ---------------------------------------------------------------------------------

    def _available(self, path: str) -> bool:
        name = path.rsplit("/", 1)[-1]
        return any(p.rsplit("/", 1)[-1] == name for p in self.master) or any(
            p == path for (_, p) in self.pr_heads
        )

    def _pull_requests(self) -> list[dict[str, Any]]:
        data = json.loads((DATA / "pull_requests_from_git.json").read_text(encoding="utf-8"))
        prs = []
        for pr in data["pull_requests"]:
            paths = pr["proposal_paths"]
            if not paths or not all(self._available(p) for p in paths):
                continue
            added = any(
                f["status"] == "A" and f["path"].startswith("projects/")
                for f in pr["files_changed"]
            )
            merged = pr["derived_state"] == "merged"
            n = pr["number"]
            state = "open" if n in OPEN_PRS else "closed"
            merged_at = (
                utc(pr.get("master_merge_date") or pr["head_commit_date"]) if merged else None
            )
            prs.append(
                {
                    "number": n,
                    "title": pr["head_commit_subject"],
                    "state": state,
                    "user": {"login": pr["head_commit_author"].lower().replace(" ", "-")},
                    "labels": [{"name": "project"}] if added else [],
                    "created_at": utc(pr["head_commit_date"]),
                    "closed_at": None
                    if state == "open"
                    else (merged_at or utc(pr["head_commit_date"])),
                    "merged_at": merged_at,
                    "html_url": f"https://github.com/{REPO}/pull/{n}",
                    "body": f"Pull request {n}: {pr['head_commit_subject']}",
                    "head": {"sha": pr["head_sha"]},
                    "_files": pr["files_changed"],
                }
            )
        return prs

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def explorer_url(self) -> str:
        return self.base_url + EXPLORER_PREFIX

    # --- server -------------------------------------------------------------------------------

    def start(self) -> FakeServers:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeServers:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- answers ------------------------------------------------------------------------------

    def _send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str = "application/json; charset=utf-8",
        headers: dict[str, str] | None = None,
    ) -> None:
        with self._lock:
            self.statuses[status] += 1
            self.log.append((h.path, status, dict(h.headers)))
        h.send_response(status)
        h.send_header("Content-Type", ctype)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self._lock:
            self.hits[path] += 1
        if path in self.raw:
            status, body, headers = self.raw[path]
            return self._send(h, status, body, headers=headers)
        if path.startswith(EXPLORER_PREFIX + "/"):
            return self._explorer(h, path[len(EXPLORER_PREFIX) :])
        if path.startswith("/raw/pr/"):
            _, _, _, number, file_path = path.split("/", 4)
            content = self.pr_heads.get((int(number), file_path))
            if content is None:
                return self._send(h, 404, b"404: Not Found", "text/plain")
            return self._send(h, 200, content, "text/plain; charset=utf-8")
        if path.startswith(f"/{REPO}/master/"):
            content = self.master.get(path[len(f"/{REPO}/master/") :])
            if content is None:
                return self._send(h, 404, b"404: Not Found", "text/plain")
            return self._send(h, 200, content, "text/plain; charset=utf-8")
        self._api(h, path, query)

    def _rate_headers(self, resource: str, remaining: int) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.core_limit if resource == "core" else 10),
            "x-ratelimit-remaining": str(max(0, remaining)),
            "x-ratelimit-reset": str(self.reset_at),
            "x-ratelimit-used": str(self.core_used),
            "x-ratelimit-resource": resource,
        }

    def _api(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str]) -> None:
        resource = "search" if path.startswith("/search/") else "core"
        if resource == "core" and (self.exhausted or self.core_used >= self.core_limit):
            body = json.dumps(
                {
                    "message": "API rate limit exceeded for 127.0.0.1.",
                    "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
                }
            ).encode()
            return self._send(h, 403, body, headers=self._rate_headers("core", 0))
        if resource == "search" and self.search_exhausted:
            body = json.dumps({"message": "API rate limit exceeded"}).encode()
            return self._send(h, 403, body, headers=self._rate_headers("search", 0))
        found = self._api_body(h, path, query)
        if found is None:
            body = json.dumps({"message": "Not Found", "status": "404"}).encode()
            return self._send(h, 404, body, headers=self._rate_headers(resource, 1))
        body, ctype = found
        if path in self.malformed:
            body = body[: len(body) // 2] + b"<html>oops"
        etag = '"' + hashlib.sha1(body).hexdigest() + '"'
        if h.headers.get("If-None-Match") == etag:
            remaining = self.core_limit - self.core_used
            return self._send(
                h, 304, b"", headers={"ETag": etag, **self._rate_headers(resource, remaining)}
            )
        if resource == "core":
            self.core_used += 1
        remaining = self.core_limit - self.core_used if resource == "core" else 9
        self._send(
            h, 200, body, ctype, headers={"ETag": etag, **self._rate_headers(resource, remaining)}
        )

    def _api_body(
        self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str]
    ) -> tuple[bytes, str] | None:
        repo = f"/repos/{REPO}"
        as_json = "application/json; charset=utf-8"
        if path == f"{repo}/git/trees/master" and query.get("recursive") == "1":
            entries = [
                {
                    **e,
                    "url": f"{self.base_url}{repo}/git/{'trees' if e['type'] == 'tree' else 'blobs'}/{e['sha']}",
                }
                for e in self.tree_entries
            ]
            doc = {
                "sha": self.tree_sha,
                "url": "",
                "tree": entries,
                "truncated": self.tree_truncated,
            }
            return json.dumps(doc).encode(), as_json
        if path.startswith(f"{repo}/contents/"):
            target = path[len(f"{repo}/contents/") :]
            if target in ("projects", "projects/complete"):
                return json.dumps(self._listing(target)).encode(), as_json
            content = self.master.get(target)
            if content is None:
                return None
            if "raw" in h.headers.get("Accept", ""):
                return content, "application/vnd.github.raw; charset=utf-8"
            doc = {
                **self._content_entry(target, content),
                "encoding": "base64",
                "content": base64.encodebytes(content).decode(),
            }
            return json.dumps(doc).encode(), as_json
        if path == "/search/issues":
            q = query.get("q", "").split()
            if f"repo:{REPO}" not in q or "is:pr" not in q:
                return json.dumps(
                    {"total_count": 0, "incomplete_results": False, "items": []}
                ).encode(), as_json
            labels = [t[len("label:") :] for t in q if t.startswith("label:")]
            items = [
                self._search_item(pr)
                for pr in sorted(self.prs, key=lambda p: -p["number"])
                if all(any(lb["name"] == want for lb in pr["labels"]) for want in labels)
            ]
            page = self._page(items, query)
            doc = {"total_count": len(items), "incomplete_results": False, "items": page}
            return json.dumps(doc).encode(), as_json
        if path == f"{repo}/pulls":
            items = [self._pull(pr) for pr in sorted(self.prs, key=lambda p: -p["number"])]
            return json.dumps(self._page(items, query)).encode(), as_json
        if path.startswith(f"{repo}/pulls/") and path.endswith("/files"):
            number = int(path.split("/")[-2])
            pr = next((p for p in self.prs if p["number"] == number), None)
            if pr is None:
                return None
            return json.dumps([self._pr_file(number, f) for f in pr["_files"]]).encode(), as_json
        return None

    @staticmethod
    def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
        per_page = int(query.get("per_page", "30"))
        page = int(query.get("page", "1"))
        return items[(page - 1) * per_page : page * per_page]

    def _content_entry(self, path: str, content: bytes | None) -> dict[str, Any]:
        name = path.rsplit("/", 1)[-1]
        entry: dict[str, Any] = {
            "name": name,
            "path": path,
            "url": f"{self.base_url}/repos/{REPO}/contents/{quote(path)}?ref=master",
            "html_url": f"https://github.com/{REPO}/blob/master/{quote(path)}",
        }
        if content is None:
            sha = next(e["sha"] for e in self.tree_entries if e["path"] == path)
            entry.update({"sha": sha, "size": 0, "type": "dir", "download_url": None})
        else:
            entry.update(
                {
                    "sha": git_sha(content),
                    "size": len(content),
                    "type": "file",
                    "download_url": f"{self.base_url}/{REPO}/master/{quote(path)}",
                }
            )
        return entry

    def _listing(self, folder: str) -> list[dict[str, Any]]:
        out = []
        for e in self.tree_entries:
            p = e["path"]
            if p.rsplit("/", 1)[0] != folder or "/" not in p:
                continue
            if e["type"] == "tree":
                out.append(self._content_entry(p, None))
            elif p in self.master:
                out.append(self._content_entry(p, self.master[p]))
        return out

    def _pull(self, pr: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in pr.items() if not k.startswith("_")}

    def _search_item(self, pr: dict[str, Any]) -> dict[str, Any]:
        item = self._pull(pr)
        merged_at = item.pop("merged_at")
        item.pop("head")
        item["pull_request"] = {
            "url": f"{self.base_url}/repos/{REPO}/pulls/{pr['number']}",
            "html_url": pr["html_url"],
            "merged_at": merged_at,
        }
        return item

    def _pr_file(self, number: int, f: dict[str, str]) -> dict[str, Any]:
        path = f["path"]
        status = {"A": "added", "M": "modified", "D": "removed"}.get(f["status"], "modified")
        content = self.pr_heads.get((number, path))
        name = path.rsplit("/", 1)[-1]
        master_sha = next(
            (git_sha(c) for p, c in self.master.items() if p.rsplit("/", 1)[-1] == name), "0" * 40
        )
        return {
            "sha": git_sha(content) if content is not None else master_sha,
            "filename": path,
            "status": status,
            "additions": 1,
            "deletions": 0,
            "changes": 1,
            "blob_url": f"https://github.com/{REPO}/blob/x/{quote(path)}",
            "raw_url": f"{self.base_url}/raw/pr/{number}/{quote(path)}",
            "contents_url": f"{self.base_url}/repos/{REPO}/contents/{quote(path)}",
        }

    def _explorer(self, h: BaseHTTPRequestHandler, path: str) -> None:
        if self.explorer_status is not None:
            return self._send(h, self.explorer_status, b'{"error":"internal"}')
        if path == "/ns":
            doc: Any = self.ns
        elif path == "/ns/candidates" or path.startswith("/ns/candidates/"):
            rest = path[len("/ns/candidates") :].strip("/").split("/")
            size = self.candidates_page_size
            if len(rest) == 2:
                size, page = int(rest[0]), int(rest[1])
            else:
                page = 1
            if size is None:
                doc = {"result": self.candidates, "prev": "", "next": ""}
            else:
                chunk = self.candidates[(page - 1) * size : page * size]
                more = page * size < len(self.candidates)
                doc = {
                    "result": chunk,
                    "prev": f"/ns/candidates/{size}/{page - 1}" if page > 1 else "",
                    "next": f"/ns/candidates/{size}/{page + 1}" if more else "",
                }
        else:
            return self._send(h, 404, b'{"error":"not found"}')
        body = json.dumps(doc).encode()
        if self.explorer_malformed:
            body = body[:-5]
        self._send(h, 200, body)
