"""Refreshing from the loopback GitHub server: statuses, ETag cache, offline use, rate limits,
malformed answers, fallbacks, search and filters."""

from __future__ import annotations

import sqlite3
import time

import pytest

from app.steward.errors import (
    MalformedResponseError,
    NotFoundError,
    RateLimitedError,
    StewardError,
    UnreachableError,
)
from app.steward.service import StewardService, parse_status
from app.steward.store import DB_NAME

from .conftest import ServiceFactory
from .fake_servers import FakeServers

# id -> status expected from the fake repository (see tests/data/steward/PROVENANCE.md)
STATUSES = {
    "2024_02_01_new_network_steward": "in progress",  # PR 132 merged, payouts in the file
    "2022_3_3_pktdesk_blog": "complete",
    "2022_03_03_AIoT_Punks_Atomic_Swap_Phase_1": "complete",
    "2022_03_02_Mattermost_Push_Proxy_And_Moblie_Apps": "proposed",  # no labelled PR
    "22_05_2021 PKT - Lobby-Influencer Marketing Plan": "rejected",  # PR 72, closed
    "2020_11_14_Ongoing_Tech_Support_Proposal": "accepted",  # PR 50 merged
    "2020_07_25_tokenstrike": "accepted",  # PR 34 merged
    "2020_02_28_Proposal_Cjdns_wifi_based_interface": "rejected",  # PR 12, closed
    "2019_12_14_pkt-whitepaper-website": "complete",
    "2019_11_13_pkt_insight": "complete",
}


def refreshed(make_service: ServiceFactory, servers: FakeServers) -> StewardService:
    svc = make_service()
    report = svc.refresh(api_url=servers.base_url)
    assert report.complete and not report.warnings, report
    return svc


def test_refresh_builds_the_proposal_list(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    svc = refreshed(make_service, servers)
    items = svc.proposals()
    assert {p.id: p.status for p in items} == STATUSES
    # newest first; the template and the template-only pull request (115) are left out
    dates = [p.date for p in items]
    assert dates == sorted(dates, reverse=True)
    steward = svc.find("2024_02_01_new_network_steward")
    assert steward.on_master and steward.path == "projects/2024_02_01_new_network_steward.md"
    assert [pr.number for pr in steward.pull_requests] == [132]
    assert steward.pull_requests[0].merged and steward.requested_pkt == 16_000_000
    assert steward.html_url is None  # a custom API base: no github.com link is guessed
    pr12 = svc.find("#12")
    assert not pr12.on_master and pr12.parsed is not None
    assert pr12.parsed.address == "pKHsMf6Eg8YB2jTJUpdRbCj7RpvpMpYRkU"
    assert pr12.html_url == "https://github.com/pkt-cash/ns-projects/pull/12"
    # PR 2 (unmerged) and PR 4 (merged) both added pkt_insight, now in projects/complete/
    insight = svc.find("pkt_insight")
    assert [pr.number for pr in insight.pull_requests] == [2, 4]
    assert insight.path == "projects/complete/2019_11_13_pkt_insight.md"
    assert svc.settings()["github_api_url"] == servers.base_url  # the override is saved


def test_open_pull_requests(make_service: ServiceFactory, servers: FakeServers) -> None:
    for pr in servers.prs:
        if pr["number"] == 12:  # reopened: under review
            pr.update(state="open", closed_at=None)
        if pr["number"] == 119:  # open, edits a finished project: its status stays
            pr["labels"] = [{"name": "project"}]
    svc = refreshed(make_service, servers)
    assert svc.find("#12").status == "proposed"
    aiot = svc.find("#119")
    assert aiot.id == "2022_03_03_AIoT_Punks_Atomic_Swap_Phase_1" and aiot.status == "complete"
    assert [pr.outcome for pr in aiot.pull_requests] == ["merged", "open"]


def test_second_refresh_is_served_by_etags(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    svc = refreshed(make_service, servers)
    first_200 = servers.statuses[200]
    report = svc.refresh()
    assert report.downloaded == 0  # file contents are cached by blob SHA
    assert report.requests_made == report.not_modified > 0
    assert servers.statuses[200] == first_200  # nothing but 304s the second time
    assert servers.statuses[304] == report.not_modified
    sent = [headers for _, status, headers in servers.log if status == 304]
    assert all(h.get("If-None-Match", "").startswith('"') for h in sent)
    assert all(h.get("User-Agent", "").startswith("pkt-wallet") for _, _, h in servers.log)
    assert report.rate_remaining == servers.core_limit - servers.core_used
    assert len(svc.proposals()) == len(STATUSES)


def test_offline_serves_the_cache(
    make_service: ServiceFactory, servers: FakeServers, tmp_path: object
) -> None:
    svc = refreshed(make_service, servers)
    before = svc.cache_status()
    servers.stop()
    with pytest.raises(UnreachableError, match="cannot reach 127.0.0.1"):
        svc.refresh()
    status = svc.cache_status()
    assert status.last_refreshed == before.last_refreshed and status.proposals == len(STATUSES)
    assert status.last_error and "cannot reach" in status.last_error
    assert "last refreshed" in status.describe(time.time())
    # a new service on the same data directory still lists and shows everything
    svc.close()
    again = make_service()
    assert {p.id for p in again.proposals()} == set(STATUSES)
    assert again.find("tokenstrike").parsed is not None


def test_rate_limit_403_keeps_the_cache(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = refreshed(make_service, servers)
    servers.exhausted = True
    with pytest.raises(RateLimitedError) as info:
        svc.refresh()
    assert info.value.reset_at == servers.reset_at
    assert "rate limit exceeded" in str(info.value) and "resets at" in str(info.value)
    assert len(svc.proposals()) == len(STATUSES)
    assert svc.cache_status().rate_limit_reset == servers.reset_at
    # until the reset, a refresh does not even ask (each request would count)
    hits = sum(servers.hits.values())
    with pytest.raises(RateLimitedError):
        svc.refresh()
    assert sum(servers.hits.values()) == hits
    servers.exhausted = False
    assert svc.refresh(force=True).complete
    assert svc.cache_status().rate_limit_reset is None


def test_low_budget_gives_a_partial_refresh_then_resumes(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    servers.core_limit = 14  # tree + 8 file contents + a few pull requests
    svc = make_service()
    report = svc.refresh(api_url=servers.base_url)
    assert not report.complete and report.pending
    assert any(p.startswith("pull request #") for p in report.pending)
    assert servers.statuses[403] == 0  # stopped before hitting the limit
    partial = {p.id: p.status for p in svc.proposals()}
    assert partial["2019_11_13_pkt_insight"] == "complete"  # master files are all there
    assert svc.cache_status().complete is False
    servers.core_limit = 60  # the limit was reset
    report = svc.refresh()
    assert report.complete
    assert {p.id: p.status for p in svc.proposals()} == STATUSES


def test_malformed_json_is_a_clear_error(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    svc = refreshed(make_service, servers)
    servers.malformed.add("/search/issues")
    servers.malformed.add("/repos/pkt-cash/ns-projects/pulls")
    with pytest.raises(
        MalformedResponseError, match=r"127\.0\.0\.1:\d+ sent an invalid reply for /"
    ):
        svc.refresh()
    assert len(svc.proposals()) == len(STATUSES)  # the old list stays


def test_malformed_tree_on_first_refresh(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    servers.malformed.add("/repos/pkt-cash/ns-projects/git/trees/master")
    svc = make_service()
    with pytest.raises(MalformedResponseError, match="sent an invalid reply"):
        svc.refresh(api_url=servers.base_url)
    assert svc.proposals() == [] and svc.cache_status().last_refreshed is None


def test_truncated_tree_falls_back_to_folder_listings(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    servers.tree_truncated = True
    svc = refreshed(make_service, servers)
    assert {p.id: p.status for p in svc.proposals()} == STATUSES
    assert servers.hits["/repos/pkt-cash/ns-projects/contents/projects/complete"] == 1
    # contents listings carry download URLs: the files came from the raw host
    assert servers.hits["/pkt-cash/ns-projects/master/projects/2020_07_25_tokenstrike.md"] == 1
    assert svc.find("tokenstrike").html_url == (
        "https://github.com/pkt-cash/ns-projects/blob/master/projects/2020_07_25_tokenstrike.md"
    )


def test_search_limit_falls_back_to_the_pull_list(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    servers.search_exhausted = True
    svc = refreshed(make_service, servers)
    assert {p.id: p.status for p in svc.proposals()} == STATUSES
    assert servers.hits["/repos/pkt-cash/ns-projects/pulls"] >= 1


def test_search_without_merge_state_falls_back(
    make_service: ServiceFactory, servers: FakeServers, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = servers._search_item

    def old_style(pr: dict[str, object]) -> dict[str, object]:
        item = plain(pr)
        item["pull_request"] = {"url": "x"}  # no merged_at
        return item

    monkeypatch.setattr(servers, "_search_item", old_style)
    svc = refreshed(make_service, servers)
    assert {p.id: p.status for p in svc.proposals()} == STATUSES
    assert servers.hits["/repos/pkt-cash/ns-projects/pulls"] == 1


def test_raw_host_setting(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = make_service()
    svc.refresh(api_url=servers.base_url, raw_url=servers.base_url)
    assert servers.hits["/pkt-cash/ns-projects/master/projects/2020_07_25_tokenstrike.md"] == 1
    assert not any(
        p.startswith("/repos/pkt-cash/ns-projects/contents/projects/2") for p in servers.hits
    )


def test_token_goes_only_to_the_api_host(
    make_service: ServiceFactory, servers: FakeServers
) -> None:
    svc = make_service(keyring_lookup=lambda: "ghp_secret")
    svc.refresh(api_url=servers.base_url)
    auth = {path: h.get("Authorization") for path, _, h in servers.log}
    assert auth["/repos/pkt-cash/ns-projects/git/trees/master?recursive=1"] == "Bearer ghp_secret"
    # same host here, so the raw downloads get it too; a different host must not
    from app.steward.http import GitHubClient

    client = GitHubClient(svc.store, "http://localhost:1", token="ghp_secret")
    assert "Authorization" not in client._headers(servers.base_url + "/raw/x", "*/*")
    assert (
        client._headers("http://localhost:1/repos", "*/*")["Authorization"] == "Bearer ghp_secret"
    )


def test_keyring_without_backend_is_harmless(
    make_service: ServiceFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    import keyring
    from keyring.errors import NoKeyringError

    from app.steward.service import _keyring_token

    def no_backend(*args: object) -> None:
        raise NoKeyringError("No recommended backend was available.")

    monkeypatch.setattr(keyring, "get_password", no_backend)
    monkeypatch.setattr(keyring, "set_password", no_backend)
    monkeypatch.setattr(keyring, "delete_password", no_backend)
    assert _keyring_token() is None
    svc = make_service(keyring_lookup=_keyring_token)
    assert svc.settings()["github_token"] is None
    where = svc.save_token("ghp_x")
    assert "no OS keyring" in where and svc.settings()["github_token"] == "settings"
    svc.save_token(None)
    assert svc.settings()["github_token"] is None

    stored: dict[str, str] = {}
    monkeypatch.setattr(keyring, "set_password", lambda s, u, t: stored.update({u: t}))
    monkeypatch.setattr(keyring, "get_password", lambda s, u: stored.get(u))
    assert svc.save_token("ghp_y") == "OS keyring"
    assert svc.settings()["github_token"] == "keyring" and _keyring_token() == "ghp_y"


def test_filters_search_and_sort(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = refreshed(make_service, servers)
    ids = lambda items: [p.id for p in items]  # noqa: E731
    assert ids(svc.proposals(status="rejected")) == [
        "22_05_2021 PKT - Lobby-Influencer Marketing Plan",
        "2020_02_28_Proposal_Cjdns_wifi_based_interface",
    ]
    assert len(svc.proposals(status=["complete", "accepted"])) == 6
    assert len(svc.proposals(status="complete,in-progress")) == 5
    assert ids(svc.proposals(text="electorium")) == ["2024_02_01_new_network_steward"]
    assert ids(svc.proposals(text="GRIDFINITY support")) == [
        "2020_11_14_Ongoing_Tech_Support_Proposal"
    ]
    assert svc.proposals(text="gridfinity nonexistentword") == []
    # search covers pull-request authors too (derived logins in the fake)
    assert "2020_02_28_Proposal_Cjdns_wifi_based_interface" in ids(svc.proposals(text="eliasmesh"))
    mid = svc.proposals(min_pkt=1_000_000, max_pkt=20_000_000)
    assert sorted(p.requested_pkt or 0 for p in mid) == [3_000_000, 3_500_000, 16_000_000]
    assert ids(svc.proposals(sort="amount"))[0] == "2019_12_14_pkt-whitepaper-website"
    oldest = svc.proposals(newest_first=False)
    assert oldest[0].id == "2019_11_13_pkt_insight"
    assert [p.title for p in svc.proposals(sort="title")][:2] == [
        "AIoT Punks Atomic Swap Phase 1",
        "Cjdns wifi based interface",
    ]
    with pytest.raises(StewardError, match="unknown status"):
        svc.proposals(status="maybe")
    assert parse_status("Under Review") == "proposed"


def test_find(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = refreshed(make_service, servers)
    assert svc.find("2020_07_25_TOKENSTRIKE").id == "2020_07_25_tokenstrike"
    assert svc.find("pr-34").id == "2020_07_25_tokenstrike"
    assert svc.find("72").id.startswith("22_05_2021")
    assert svc.find("White Paper").id == "2019_12_14_pkt-whitepaper-website"
    with pytest.raises(NotFoundError, match="matches 2 proposals"):
        svc.find("2022_03_0")
    with pytest.raises(NotFoundError, match="no proposal matches"):
        svc.find("nothing like this")


def test_cache_file_and_transactions(make_service: ServiceFactory, servers: FakeServers) -> None:
    svc = refreshed(make_service, servers)
    path = svc.store.path
    assert path.name == DB_NAME and path.exists()
    with sqlite3.connect(path) as db:
        (count,) = db.execute("SELECT count(*) FROM proposals").fetchone()
        (etags,) = db.execute("SELECT count(*) FROM http_cache WHERE etag IS NOT NULL").fetchone()
    assert count == len(STATUSES) and etags > 0

    # a failure in the middle of replacing the list leaves the old list in place
    class Boom(Exception):
        pass

    old = svc.proposals()

    def broken_dict() -> dict[str, object]:
        raise Boom

    victim = old[-1]
    victim.to_dict = broken_dict  # type: ignore[method-assign]
    with pytest.raises(Boom):
        svc.store.replace_proposals(old, {"last_refreshed": 1.0})
    assert len(svc.proposals()) == len(STATUSES)
    assert svc.cache_status().last_refreshed != 1.0


def test_unreadable_cache_is_a_clear_error(tmp_path: object) -> None:
    from pathlib import Path

    from spv.params import MAINNET

    d = Path(str(tmp_path)) / "bad"
    d.mkdir()
    (d / DB_NAME).write_bytes(b"this is not a database" * 100)
    with pytest.raises(StewardError, match="unreadable"):
        StewardService(d, MAINNET)
