"""Network Steward proposals: lenient parsing of the hand-written Markdown, and their status.

The files of `pkt-cash/ns-projects` follow `projects/template.md` only loosely (see
`steward.md` §4.2 and the vectors): a `# Title`, then a bullet list of `Field: value` pairs, then
sections. Real files start with a byte-order mark or blank lines, use `*` or `-` bullets with any
indent, wrap values in `*italics*`, leave template text (`e.g. …`) in values, drop the colon, or
have no bullets at all (plain `Field: value` lines). The parser reads what it recognises, keeps
every other header field by its own name, and never fails on text: the body is kept as Markdown.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

# Display statuses, in the order a viewer lists them.
PROPOSED = "proposed"
ACCEPTED = "accepted"
IN_PROGRESS = "in progress"
COMPLETE = "complete"
REJECTED = "rejected"
CANCELLED = "cancelled"
STATUSES = (PROPOSED, ACCEPTED, IN_PROGRESS, COMPLETE, REJECTED, CANCELLED)
SORT_KEYS = ("date", "amount", "title", "status")

# Normalised header field name -> canonical key.
_FIELD_ALIASES = {
    "project name": "name",
    "name": "name",
    "contact email": "email",
    "contact e-mail": "email",
    "email": "email",
    "project participants": "participants",
    "participants": "participants",
    "projected duration": "duration",
    "project duration": "duration",
    "duration": "duration",
    "projected effort": "effort",
    "project effort": "effort",
    "pre-project effort": "pre_effort",
    "pre project effort": "pre_effort",
    "requested pkt contribution": "requested",
    "requested contribution": "requested",
    "requested pkt": "requested",
    "maximum requested pkt": "requested_max",
    "max requested pkt": "requested_max",
    "pkt address to pay to": "address",
    "pkt address": "address",
    "payment address": "address",
    "project status": "status",
    "current status": "status",
    "status": "status",
    "project owner": "owner",
    "project manager": "manager",
}
# Fields recognised without a colon ("* PKT address to pay to `pkt1…`"), longest first.
_COLONLESS_FIELDS = sorted(
    (k for k in _FIELD_ALIASES if len(k.split()) >= 2), key=len, reverse=True
)

_BULLET = re.compile(r"^(?P<indent>[ \t]*)(?P<mark>[*+-])[ \t]+(?P<text>.*)$")
_HEADING = re.compile(r"^[ \t]{0,3}(?P<hashes>#{1,6})(?:[ \t]+(?P<text>.*?))?[ \t]*#*[ \t]*$")
_RULE = re.compile(r"^[ \t]*([-*_])([ \t]*\1){2,}[ \t]*$")
_KEY_VALUE = re.compile(r"^(?P<key>[A-Za-z][A-Za-z0-9 ()/'&.-]{0,60}?)[ \t]*:(?P<value>.*)$")
_ADDRESS = re.compile(
    r"\b(?:pkt1|tpk1|pkr1)[02-9ac-hj-np-z]{8,90}\b|\bp[1-9A-HJ-NP-Za-km-z]{25,34}\b"
)
_TX_LINK = re.compile(r"(?:explorer\.pkt\.cash|packetscan\.io)[^\s)\]]*?/tx/([0-9a-fA-F]{64})\b")
_NUMBER_WORD = re.compile(r"([0-9][0-9,]*(?:\.[0-9]+)?)[ \t]*([A-Za-z$]*)")
MAX_REQUESTED_PKT = 10**12
"""More PKT than will ever exist (about 6 billion): such a "request" is not an amount."""
_MULTIPLIERS = {
    "k": 1_000,
    "thousand": 1_000,
    "m": 1_000_000,
    "mn": 1_000_000,
    "mil": 1_000_000,
    "mio": 1_000_000,
    "million": 1_000_000,
    "millions": 1_000_000,
    "b": 1_000_000_000,
    "bn": 1_000_000_000,
    "billion": 1_000_000_000,
}
_FILE_DATE_YMD = re.compile(r"^(\d{4})[_-](\d{1,2})[_-](\d{1,2})(?!\d)")
_FILE_DATE_DMY = re.compile(r"^(\d{1,2})[_-](\d{1,2})[_-](\d{4})(?!\d)")


@dataclass
class ParsedProposal:
    """What one proposal file says about itself."""

    title: str
    name: str | None
    author: str | None
    email: str | None
    participants: list[str]
    duration: str | None
    effort: str | None
    pre_effort: str | None
    requested_text: str | None
    requested_pkt: int | None
    address: str | None
    date: str | None  # ISO date from the file name, when it carries one
    status_field: str | None  # the header's "Project status" value
    status_text: str  # the "Project Status" section(s), Markdown
    stated_status: str | None  # what the status text says, as a display status
    payout_txids: list[str]
    fields: dict[str, str]  # every header field, by the name the file uses
    notes: list[str]  # header bullets that are not fields
    is_template: bool
    body: str


@dataclass
class PullRequestInfo:
    number: int
    title: str
    state: str  # "open" or "closed"
    merged: bool
    user: str | None = None
    created_at: str | None = None
    closed_at: str | None = None
    merged_at: str | None = None
    html_url: str | None = None
    body: str | None = None

    @property
    def outcome(self) -> str:
        if self.merged:
            return "merged"
        return "open" if self.state == "open" else "closed unmerged"


@dataclass
class Proposal:
    """One proposal as the viewer shows it: file contents, pull requests and derived status."""

    id: str
    title: str
    status: str
    path: str | None  # path in the repository (on master, or in a pull request)
    on_master: bool
    parsed: ParsedProposal | None
    pull_requests: list[PullRequestInfo] = field(default_factory=list)
    html_url: str | None = None

    @property
    def requested_pkt(self) -> int | None:
        return self.parsed.requested_pkt if self.parsed else None

    @property
    def date(self) -> str | None:
        """The proposal's date: from its file name, else when its pull request was opened."""
        if self.parsed and self.parsed.date:
            return self.parsed.date
        dates = [pr.created_at[:10] for pr in self.pull_requests if pr.created_at]
        return min(dates) if dates else None

    @property
    def author(self) -> str | None:
        if self.parsed and self.parsed.author:
            return self.parsed.author
        users = [pr.user for pr in self.pull_requests if pr.user]
        return users[0] if users else None

    @property
    def body(self) -> str:
        if self.parsed:
            return self.parsed.body
        for pr in self.pull_requests:
            if pr.body:
                return pr.body
        return ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "path": self.path,
            "on_master": self.on_master,
            "html_url": self.html_url,
            "parsed": asdict(self.parsed) if self.parsed else None,
            "pull_requests": [asdict(pr) for pr in self.pull_requests],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Proposal:
        parsed = data.get("parsed")
        return cls(
            id=str(data["id"]),
            title=str(data["title"]),
            status=str(data["status"]),
            path=data.get("path"),
            on_master=bool(data.get("on_master")),
            html_url=data.get("html_url"),
            parsed=ParsedProposal(**parsed) if parsed else None,
            pull_requests=[PullRequestInfo(**pr) for pr in data.get("pull_requests", [])],
        )

    def summary(self) -> dict[str, Any]:
        """The fields of a list row (JSON output of `steward list`)."""
        p = self.parsed
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "date": self.date,
            "author": self.author,
            "requested_pkt": self.requested_pkt,
            "requested": p.requested_text if p else None,
            "address": p.address if p else None,
            "path": self.path,
            "pull_requests": [pr.number for pr in self.pull_requests],
        }

    def search_text(self) -> str:
        parts = [self.id, self.title, self.author or "", self.path or "", self.body]
        if self.parsed:
            parts += [self.parsed.name or "", self.parsed.email or "", *self.parsed.participants]
        parts += [pr.title for pr in self.pull_requests]
        parts += [pr.user or "" for pr in self.pull_requests]
        return "\n".join(parts).casefold()


# --- small text helpers ------------------------------------------------------------------


def strip_markdown(text: str) -> str:
    """Remove inline emphasis, code ticks, HTML line breaks and surrounding space."""
    t = text.strip()
    t = re.sub(r"<br\s*/?>", " ", t, flags=re.I)
    t = t.replace("`", "")
    t = re.sub(r"(\*\*|__)(.+?)\1", r"\2", t)
    t = re.sub(r"(?<![\w*])([*_])(?!\s)(.+?)(?<!\s)\1(?![\w*])", r"\2", t)
    t = t.strip()
    # a value wholly wrapped in a single emphasis marker that the pattern above left over
    while len(t) >= 2 and t[0] == t[-1] and t[0] in "*_":
        t = t[1:-1].strip()
    return re.sub(r"[ \t]+", " ", t)


def _clean_value(text: str) -> str:
    t = strip_markdown(text)
    t = re.sub(r"^e\.g\.?[ \t]*", "", t, flags=re.I)  # template text left in the value
    return t.strip()


def _normalise_key(key: str) -> str:
    k = strip_markdown(key).casefold()
    k = re.sub(r"\s+", " ", k).strip(" :")
    return k


def _canonical(key: str) -> str | None:
    return _FIELD_ALIASES.get(_normalise_key(key))


def parse_amount(text: str | None) -> int | None:
    """Whole PKT in a free-text amount: `40mn`, `25 million PKT`, `PKT50,015,000`, `3.5M …`.

    The first number (ASCII digits) counts. None when there is no number, the amount is in
    another currency (`10,080 USDC`) or beyond :data:`MAX_REQUESTED_PKT`.
    """
    if not text:
        return None
    cleaned = _clean_value(text)
    m = _NUMBER_WORD.search(cleaned)
    if not m:
        return None
    word = m.group(2).casefold()
    lowered = cleaned.casefold()
    if "pkt" not in lowered and re.search(r"usdc?\b|\$|eur\b", lowered):
        return None
    digits = m.group(1).replace(",", "")
    if len(digits) > 40:
        return None
    try:
        value = Decimal(digits)
    except InvalidOperation:
        return None
    value *= _MULTIPLIERS.get(word, 1)
    return int(value) if value <= MAX_REQUESTED_PKT else None


def file_date(filename: str) -> str | None:
    """The ISO date at the start of a proposal file name (`2022_3_3_…`, `22_05_2021 …`)."""
    base = filename.rsplit("/", 1)[-1]
    for pattern, order in ((_FILE_DATE_YMD, "ymd"), (_FILE_DATE_DMY, "dmy")):
        m = pattern.match(base)
        if not m:
            continue
        a, b, c = (int(x) for x in m.groups())
        y, mo, d = (a, b, c) if order == "ymd" else (c, b, a)
        try:
            return dt.date(y, mo, d).isoformat()
        except ValueError:
            return None
    return None


def title_from_filename(filename: str) -> str:
    base = filename.rsplit("/", 1)[-1]
    base = re.sub(r"\.md$", "", base, flags=re.I)
    base = _FILE_DATE_YMD.sub("", base)
    base = _FILE_DATE_DMY.sub("", base)
    base = base.replace("_", " ").strip(" -")
    return re.sub(r"\s+", " ", base) or filename


def _looks_like_filename(title: str) -> bool:
    return bool(_FILE_DATE_YMD.match(title) or title.lower().endswith(".md")) or (
        "_" in title and " " not in title
    )


def _person(entry: str) -> str | None:
    """The name in a participant line: `Caleb James DeLisle will work 20% of fulltime`."""
    t = _clean_value(entry)
    if not t or re.match(r"(other participants|whoever|tbd|to be)", t, re.I):
        return None
    t = re.split(r"\s+(?:will|-|–|—)\s+|\s*\(|:|\s+<", t, maxsplit=1)[0]
    t = t.strip(" ,.;")
    return t or None


def _extract_address(value: str) -> str | None:
    m = _ADDRESS.search(value)
    return m.group(0) if m else (value or None)


# --- the parser ----------------------------------------------------------------------------


@dataclass
class _Line:
    indent: int
    bullet: bool
    text: str
    blank: bool


def _header_lines(lines: Sequence[str]) -> tuple[str | None, list[str], int]:
    """The H1 title (if any), the header lines after it, and where the first section starts."""
    title: str | None = None
    header: list[str] = []
    end = len(lines)
    for i, raw in enumerate(lines):
        m = _HEADING.match(raw)
        if m and len(m.group("hashes")) >= 2:
            end = i
            break
        if m and title is None and not header_has_fields(header):
            title = strip_markdown(m.group("text") or "")
            continue
        header.append(raw)
    return title, header, end


def header_has_fields(lines: Iterable[str]) -> bool:
    for raw in lines:
        b = _BULLET.match(raw)
        text = b.group("text") if b else raw
        kv = _KEY_VALUE.match(text.strip())
        if kv and _canonical(kv.group("key")):
            return True
    return False


def _classify(raw: str) -> _Line:
    expanded = raw.replace("\t", "    ")
    if not expanded.strip():
        return _Line(0, False, "", True)
    b = _BULLET.match(expanded)
    if b and not _RULE.match(expanded):
        return _Line(len(b.group("indent")), True, b.group("text").rstrip(), False)
    indent = len(expanded) - len(expanded.lstrip(" "))
    return _Line(indent, False, expanded.strip(), False)


def _split_field(text: str, plain: bool) -> tuple[str, str] | None:
    """(key, value) when a line is a header field; plain lines need a known field name."""
    kv = _KEY_VALUE.match(text)
    if kv:
        key = kv.group("key").strip()
        if plain and _canonical(key) is None:
            return None
        if "http" in key.lower():
            return None
        return key, kv.group("value").strip()
    lowered = strip_markdown(text).casefold()
    for name in _COLONLESS_FIELDS:
        if lowered.startswith(name + " ") and not plain:
            return text[: len(name)], text[len(name) :].strip()
    return None


def _status_sections(lines: Sequence[str], start: int) -> list[str]:
    """The text of every level-1/2 section whose heading mentions "status"."""
    sections: list[str] = []
    current: list[str] | None = None
    for raw in lines[start:]:
        m = _HEADING.match(raw)
        if m and len(m.group("hashes")) <= 2:
            if current is not None:
                sections.append("\n".join(current).strip())
                current = None
            if re.search(r"\bstatus\b", m.group("text") or "", re.I):
                heading = re.sub(r"^\d+[.)]\s*", "", strip_markdown(m.group("text") or ""))
                current = [] if heading.casefold() in {"project status", "status"} else [heading]
            continue
        if current is not None:
            current.append(raw)
    if current is not None:
        sections.append("\n".join(current).strip())
    # a horizontal rule closing a section is layout, not text
    sections = [re.sub(r"(\n\s*([-*_])(\s*\2){2,}\s*)+$", "", s).strip() for s in sections]
    return [s for s in sections if s]


def stated_status(text: str | None) -> str | None:
    """The display status a status phrase states (`**PROPOSED**`, `Accepted with payment…`)."""
    if not text:
        return None
    t = strip_markdown(text).casefold()
    if re.search(r"cancel+ed|withdrawn|abandoned", t):
        return CANCELLED
    if re.search(r"reject|declined|not accepted|not funded", t):
        return REJECTED
    if re.search(r"\bcomplete(d)?\b|\bfinished\b|\bdone\b", t):
        return COMPLETE
    if re.search(r"in progress|ongoing|under way|underway", t):
        return IN_PROGRESS
    if re.search(r"accepted|approved|funded", t):
        return ACCEPTED
    if re.search(r"proposed|submitted|awaiting|review|being written|draft", t):
        return PROPOSED
    return None


def _first_line(text: str) -> str:
    for raw in text.splitlines():
        line = _classify(raw)
        if not line.blank and not _HEADING.match(raw):
            return line.text
    return ""


def parse_proposal(text: str, filename: str) -> ParsedProposal:
    """Parse one proposal file. Never raises on content; missing fields are None."""
    if text.startswith("\ufeff"):
        text = text[1:]
    body = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = body.split("\n")
    h1, header, section_start = _header_lines(lines)

    fields: dict[str, str] = {}
    canon: dict[str, str] = {}
    participants: list[str] = []
    notes: list[str] = []
    in_participants = False
    pending_key: str | None = None  # a field whose value is on the next line
    pending_name = ""
    for raw in header:
        line = _classify(raw)
        if line.blank:
            in_participants = False
            continue
        if _RULE.match(raw) or _HEADING.match(raw) or line.text.startswith(">"):
            in_participants = False
            continue
        top_level = line.indent == 0
        kv = _split_field(line.text, plain=not line.bullet) if top_level else None
        if kv is not None:
            key, value = kv
            key_clean = strip_markdown(key).strip()
            c = _canonical(key_clean)
            if key_clean not in fields:
                fields[key_clean] = _clean_value(value)
            if c and c not in canon:
                canon[c] = _clean_value(value)
            in_participants = c == "participants"
            if in_participants and value.strip():
                participants += [p.strip() for p in _clean_value(value).split(",") if p.strip()]
            pending_key = c if c and c != "participants" and not value.strip() else None
            pending_name = key_clean
            continue
        if in_participants:
            entry = _clean_value(line.text)
            if entry:
                if line.bullet:
                    participants.append(entry)
                else:
                    participants += [p.strip() for p in entry.split(",") if p.strip()]
            continue
        if pending_key is not None and not canon.get(pending_key):
            canon[pending_key] = _clean_value(line.text)
            if not fields.get(pending_name):
                fields[pending_name] = canon[pending_key]
            pending_key = None
            continue
        pending_key = None
        if line.bullet and top_level:
            notes.append(_clean_value(line.text))

    # The plain-line format has no sections: look for the fields it lacks in the whole text.
    if not header_has_fields(header[:60]) or section_start == len(lines):
        _plain_fields(lines, fields, canon, participants)

    name = canon.get("name") or None
    if name:
        name = re.sub(r"\s*\(project\)\s*$", "", name, flags=re.I).strip() or None
    title = h1 if h1 and h1.casefold() not in {"project name", ""} else None
    if not title:
        title = name or title_from_filename(filename)
    if _looks_like_filename(title):
        title = title_from_filename(title)

    status_field = canon.get("status") or None
    sections = _status_sections(lines, section_start)
    status_text = "\n\n".join(sections)
    phrase = status_field or (_first_line(sections[0]) if sections else None)

    requested_text = canon.get("requested_max") or canon.get("requested") or None
    requested = parse_amount(canon.get("requested_max")) or parse_amount(canon.get("requested"))

    owner = canon.get("owner")
    author = _person(owner) if owner else None
    if not author:
        author = next((p for p in map(_person, participants) if p), None)
    email = canon.get("email") or None
    if not author and email:
        author = email

    txids: list[str] = []
    for m in _TX_LINK.finditer(body):
        txid = m.group(1).lower()
        if txid not in txids:
            txids.append(txid)

    is_template = filename.rsplit("/", 1)[-1].casefold() == "template.md" or (
        "> **instructions**" in body.casefold() and (h1 or "").casefold() == "project name"
    )
    address = canon.get("address")
    return ParsedProposal(
        title=title,
        name=name,
        author=author,
        email=email,
        participants=participants,
        duration=canon.get("duration") or None,
        effort=canon.get("effort") or None,
        pre_effort=canon.get("pre_effort") or None,
        requested_text=requested_text,
        requested_pkt=requested,
        address=_extract_address(address) if address else None,
        date=file_date(filename),
        status_field=status_field,
        status_text=status_text,
        stated_status=stated_status(phrase),
        payout_txids=txids,
        fields=fields,
        notes=notes,
        is_template=is_template,
        body=body,
    )


def _plain_fields(
    lines: Sequence[str], fields: dict[str, str], canon: dict[str, str], participants: list[str]
) -> None:
    """`Field: value` lines anywhere (a proposal written without bullets or headings)."""
    i = 0
    while i < len(lines):
        line = _classify(lines[i])
        i += 1
        if line.blank or line.bullet:
            continue
        kv = _split_field(line.text, plain=True)
        if kv is None:
            continue
        key, value = kv
        c = _canonical(key)
        if c is None or canon.get(c):
            continue
        value = _clean_value(value)
        if c == "participants":
            parts = [value] if value else []
            while i < len(lines) and not _classify(lines[i]).blank:
                nxt = _classify(lines[i])
                if _split_field(nxt.text, plain=True):
                    break
                parts.append(_clean_value(nxt.text))
                i += 1
            for part in parts:
                participants += [p.strip() for p in part.split(",") if p.strip()]
            value = ", ".join(participants)
        elif not value:
            j = i
            while j < len(lines) and _classify(lines[j]).blank:
                j += 1
            if j < len(lines) and _split_field(_classify(lines[j]).text, plain=True) is None:
                value = _clean_value(_classify(lines[j]).text)
        fields.setdefault(strip_markdown(key).strip(), value)
        canon[c] = value


# --- status --------------------------------------------------------------------------------


def derive_status(
    *,
    in_complete_folder: bool,
    on_master: bool,
    pull_requests: Sequence[PullRequestInfo],
    parsed: ParsedProposal | None,
) -> str:
    """The display status (steward.md §4.3): folder, then pull requests, then the text.

    * `projects/complete/` → complete.
    * A file on master: a status text that says complete or cancelled wins; otherwise a merged
      pull request (or, with no pull-request data, a text that says nothing) makes it accepted,
      and a text saying "proposed"/"rejected" is believed. Accepted with payouts recorded in the
      file (explorer transaction links) is shown as in progress.
    * Only in pull requests: merged → accepted, open → proposed (under review), closed unmerged
      → rejected.
    """
    if in_complete_folder:
        return COMPLETE
    said = parsed.stated_status if parsed else None
    paid = bool(parsed and parsed.payout_txids)
    merged = any(pr.merged for pr in pull_requests)
    if on_master:
        if said in (COMPLETE, CANCELLED, IN_PROGRESS):
            return said
        if merged or said in (None, ACCEPTED):
            return IN_PROGRESS if paid else ACCEPTED
        return said
    if merged:
        return IN_PROGRESS if paid else ACCEPTED
    if any(pr.state == "open" for pr in pull_requests):
        return PROPOSED
    if pull_requests:
        return REJECTED
    return said or PROPOSED
