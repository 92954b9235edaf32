"""Parsing every real-format proposal file of the vectors, and the derived status."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.steward.proposal import (
    ACCEPTED,
    CANCELLED,
    COMPLETE,
    IN_PROGRESS,
    PROPOSED,
    REJECTED,
    ParsedProposal,
    PullRequestInfo,
    derive_status,
    file_date,
    parse_amount,
    parse_proposal,
    stated_status,
    strip_markdown,
)

from .fake_servers import DATA, git_sha

PROPOSALS = DATA / "proposals"
UNMERGED = DATA / "proposals_unmerged_pr"

# file -> what the header says (None: field absent)
EXPECTED: dict[str, dict[str, Any]] = {
    "2019_11_13_pkt_insight.md": {
        "title": "PKT Block Explorer Project",
        "name": "pkt_insight",
        "author": "Caleb James DeLisle",
        "email": "cjd@cjdns.fr",
        "requested_pkt": 25_000_000,
        "address": None,
        "date": "2019-11-13",
        "status_field": "COMPLETE",
        "stated_status": COMPLETE,
        "duration": "2 month",
    },
    "2019_12_14_pkt-whitepaper-website.md": {
        "title": "PKT White Paper and Website",
        "name": "pkt_whitepaper_website",
        "author": "Alex Lightman",  # "Project Owner", a non-template field
        "requested_pkt": 50_015_000,  # "PKT50,015,000"
        "requested_text": "PKT50,015,000",
        "status_field": "APPROVED",
        "stated_status": ACCEPTED,
        "participants": ["Alex Lightman", "Josh Berger", "Jesse Berger"],
        "date": "2019-12-14",
    },
    "2020_07_25_tokenstrike.md": {
        "title": "TokenStrike",
        "name": "tokenstrike",
        "author": "Caleb James DeLisle",
        "requested_pkt": 40_000_000,  # "40mn"
        "address": "pkt1qju5ru8em5jz34r4g6htfvdp4cqjt4ey7ktmvv5",
        "pre_effort": "0.2 person-month",
        "status_field": None,
        "stated_status": PROPOSED,  # "Submitted, awaiting review"
        "date": "2020-07-25",
    },
    "2020_11_14_Ongoing_Tech_Support_Proposal.md": {
        "title": "PKT Network Ongoing Tech Support",
        "author": "Jonathan Owens",
        "email": "jonathan@gridfinity.com",
        "requested_pkt": 3_000_000,
        "address": "pkt1qny8evhadazh75w0awaglw53cs7pztcycsxd30d",  # no colon in the source
        "pre_effort": None,
        "status_field": "PROPOSED",
        "stated_status": PROPOSED,
        "status_text": "* *PROPOSED*",  # from "## 7. Project Status"
    },
    "2022_03_02_Mattermost_Push_Proxy_And_Moblie_Apps.md": {
        "title": "PKT Mattermost Push Proxy and Mobile Apps",
        "name": "PKT Mattermost Push Proxy and Mobile Apps",  # "e.g. " left in the file
        "duration": "2 months",
        "author": "Christofer Koutelieris",
        "requested_pkt": 600_000,
        "address": "pkt1quxegcaslkacj75vu7kdhadm72dyu2kkt2axljn",
        "status_field": "PROPOSED",
        "stated_status": PROPOSED,
        "date": "2022-03-02",
    },
    "2022_03_03_AIoT_Punks_Atomic_Swap_Phase_1.md": {
        "title": "AIoT Punks Atomic Swap Phase 1",  # italic file name as H1
        "email": "rexcoleman@aiotpunks.com",
        "requested_pkt": 504_000,  # "Maximum requested PKT", not the USDC figure
        "address": "pkt1q4rwkug8yl8k59h6kp5w6k3fqeug97rdfj682g7",
        "pre_effort": "0.22 person/months",
        "author": "Rex Coleman, CFA",
        "stated_status": PROPOSED,  # "Submitted"
    },
    "2022_3_3_pktdesk_blog.md": {
        "title": "pktdesk blog",  # H1 is the template's "# Project Name"
        "name": "pktdesk_blog",
        "author": "M. Aamir Mursleen",
        "requested_pkt": 350_000,
        "address": "pkt1qpasl4w2y5r39w8fvdyh7jc6qyw34kl725naqqj",  # "(Updated)" dropped
        "date": "2022-03-03",  # not zero-padded in the file name
    },
    "2024_02_01_new_network_steward.md": {
        "title": "New Network Steward Vote",
        "author": "Caleb James DeLisle",
        "requested_pkt": 16_000_000,
        "address": "pkt1qkx7feflncphh4hqchueqln3k8vts60g3lwtz9j",
        "effort": "I don't expect payment for this",
        "stated_status": ACCEPTED,  # "Accepted with payment of 15mn…"
        "date": "2024-02-01",
    },
    "pr12/2020_02_28_Proposal_Cjdns_wifi_based_interface.md": {
        "title": "Cjdns wifi based interface",  # closed ATX heading
        "name": None,  # empty "Project Name:"
        "email": "alexlightman@me.com",
        "requested_pkt": 36_000_000,
        "address": "pKHsMf6Eg8YB2jTJUpdRbCj7RpvpMpYRkU",  # base58, not bech32
        "notes": ["We suggest to pay contribution for every milestone"],
        "participants": ["Kirill", "Vsevolod", "Dmitry"],
        "date": "2020-02-28",
    },
    "pr72/22_05_2021 PKT - Lobby-Influencer Marketing Plan": {
        "title": "PKT - Lobby-Influencer Marketing Plan",  # no heading: from the file name
        "email": "christopherdilts@gmail.com, taylorebonn@icloud.com",
        "author": "Christopher Dilts",
        "participants": [
            "Christopher Dilts",
            "Rewa Lazithan",
            "Jason Windsor",
            "Alex Lightman",
            "Taylore Bonn",
        ],
        "requested_pkt": 3_500_000,  # value on the line after "Requested PKT contribution:"
        "effort": "5 people effort for 4 months",
        "date": "2021-05-22",  # DD_MM_YYYY
    },
}


def _load(rel: str) -> tuple[str, str]:
    path = (UNMERGED / rel) if rel.startswith("pr") else (PROPOSALS / rel)
    return path.read_bytes().decode("utf-8"), path.name


def all_vector_files() -> list[Path]:
    files = [p for p in PROPOSALS.iterdir() if p.is_file()]
    files += [p for d in UNMERGED.iterdir() for p in d.iterdir()]
    return sorted(files)


def test_every_vector_file_is_covered() -> None:
    names = {p.name for p in all_vector_files()} - {"template.md"}
    assert names == {k.split("/")[-1] for k in EXPECTED}


@pytest.mark.parametrize("rel", sorted(EXPECTED))
def test_header_fields(rel: str) -> None:
    text, name = _load(rel)
    parsed = parse_proposal(text, name)
    for key, want in EXPECTED[rel].items():
        got = getattr(parsed, key)
        if key == "participants":
            assert got[: len(want)] == want, (rel, key, got)
        else:
            assert got == want, (rel, key, got)
    assert not parsed.is_template
    # the body is kept as Markdown, without the byte-order mark
    assert parsed.body.startswith(text.lstrip("\ufeff")[:20].replace("\r\n", "\n"))
    assert not parsed.body.startswith("\ufeff")


def test_payout_links_and_status_sections() -> None:
    text, name = _load("2024_02_01_new_network_steward.md")
    p = parse_proposal(text, name)
    assert "dbdb73166cfb72b22e04c2f392819e84a9caddb56ed0bfe7cf716e3f15a0e401" in p.payout_txids
    # explorer.pkt.cash and packetscan.io links both count, each txid once
    assert "f5c09a2cff613d1601b7bb3d3886df2678997a17f9877009dcc7e49044c714c0" in p.payout_txids
    assert len(p.payout_txids) == len(set(p.payout_txids))
    assert p.status_text.startswith("Accepted with payment of 15mn")
    assert "Status Apr 29 2024" in p.status_text  # a second, dated status section
    text, name = _load("2022_3_3_pktdesk_blog.md")
    p = parse_proposal(text, name)
    assert len(p.payout_txids) == 5 and "OCT 12 2023" in p.status_text


def test_template_is_recognised() -> None:
    text, name = _load("template.md")
    assert parse_proposal(text, name).is_template
    # also under another name: instructions and e.g. placeholders give it away
    assert parse_proposal(text, "2020_03_20_vpn_server.md").is_template


def test_vector_files_are_the_published_blobs() -> None:
    import json

    tree = json.loads((DATA / "tree.json").read_text(encoding="utf-8"))
    shas = {e["path"].rsplit("/", 1)[-1]: e["sha"] for e in tree["tree"] if e["type"] == "blob"}
    for p in PROPOSALS.iterdir():
        assert git_sha(p.read_bytes()) == shas[p.name]


def test_never_fails_on_odd_text() -> None:
    for text in ("", "\ufeff", "# \n", "* : \n* Project Name:\n", "## only\n* a: b", "x" * 5000):
        p = parse_proposal(text, "weird.md")
        assert isinstance(p, ParsedProposal) and p.title


@pytest.mark.parametrize(
    ("text", "units"),
    [
        ("40mn", 40_000_000),
        ("25 million PKT", 25_000_000),
        ("PKT50,015,000", 50_015_000),
        ("350,000PKT", 350_000),
        ("*504,000 PKT*", 504_000),
        ("3.5M for the initial phase", 3_500_000),
        ("36M PacketCrypt tokens (3M tokens per man month)", 36_000_000),
        ("e.g. 1000 PKT", 1000),
        ("*10,080 USDC*", None),
        ("$2,016", None),
        ("to be decided", None),
        ("", None),
        (None, None),
        # hostile text (issue 16): no int of 4,307 digits the cache and the list cannot print
        ("9" * 4301 + " million PKT", None),
        ("2,000,000,000,000 PKT", None),
        ("\u0663\u0663 million PKT", None),  # Arabic-Indic digits are not an amount
        ("\u00b2 million PKT", None),
    ],
)
def test_amounts(text: str | None, units: int | None) -> None:
    assert parse_amount(text) == units


def test_dates_and_markdown() -> None:
    assert file_date("projects/2022_3_3_pktdesk_blog.md") == "2022-03-03"
    assert file_date("22_05_2021 PKT - Lobby") == "2021-05-22"
    assert file_date("2021_22_05_pkt_wallet.md") is None  # month 22: not a date
    assert file_date("readme.md") is None
    assert strip_markdown("**PROPOSED**") == "PROPOSED"
    assert strip_markdown("*2022_03_03_AIoT*") == "2022_03_03_AIoT"
    assert strip_markdown("`pkt1qabc`") == "pkt1qabc"
    assert stated_status("Being written...") == PROPOSED
    assert stated_status("project cancelled by the team") == CANCELLED
    assert stated_status("nothing to see") is None


def _pr(merged: bool, state: str = "closed") -> PullRequestInfo:
    return PullRequestInfo(number=1, title="t", state=state, merged=merged)


def test_status_rules() -> None:
    def parsed(rel: str) -> ParsedProposal:
        text, name = _load(rel)
        return parse_proposal(text, name)

    token = parsed("2020_07_25_tokenstrike.md")  # says "Submitted, awaiting review"
    steward = parsed("2024_02_01_new_network_steward.md")  # accepted, with payouts
    insight = parsed("2019_11_13_pkt_insight.md")
    pr12 = parsed("pr12/2020_02_28_Proposal_Cjdns_wifi_based_interface.md")

    def status(p: ParsedProposal | None, *prs: PullRequestInfo, **kw: bool) -> str:
        return derive_status(
            in_complete_folder=kw.get("complete", False),
            on_master=kw.get("master", True),
            pull_requests=list(prs),
            parsed=p,
        )

    # 1. the folder wins
    assert status(insight, complete=True) == COMPLETE
    assert status(token, _pr(False, "open"), complete=True) == COMPLETE
    # 2. a merged pull request: accepted, in progress once payouts are recorded
    assert status(token, _pr(True)) == ACCEPTED
    assert status(steward, _pr(True)) == IN_PROGRESS
    # 3. without pull-request data, the text decides (a file on master defaults to accepted)
    assert status(token) == PROPOSED
    assert status(steward) == IN_PROGRESS
    assert status(None) == ACCEPTED
    # an unmerged pull request editing a file on master does not reject it
    assert status(steward, _pr(False)) == IN_PROGRESS
    # only in pull requests
    assert status(pr12, _pr(False, "open"), master=False) == PROPOSED
    assert status(pr12, _pr(False), master=False) == REJECTED
    assert status(pr12, _pr(False), _pr(True), master=False) == ACCEPTED
    assert status(None, master=False) == PROPOSED
