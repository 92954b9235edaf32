"""Counting from an address list file in the listaddresses shape (electorium.md §4.3)."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from app import threadguard
from app.steward.electorium import Decision, TableHashVersion, count_from_file
from app.steward.electorium.address_list import (
    AddressListError,
    EpochChangedError,
    load_address_list,
    parse_address_list,
)
from app.threadguard import GuiThreadViolation
from spv.params import MAINNET

from .electorium_data import (
    SAMPLE_AS_OF_BLOCK,
    UNIT,
    info,
    named_address,
    sample_file_text,
    tennessee_records,
)

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "electorium" / "listaddresses_sample.json"
NASHVILLE = named_address("Nashville").encode(MAINNET)


def test_the_sample_file_is_what_its_provenance_says() -> None:
    assert SAMPLE.read_text() == sample_file_text()


def test_count_from_the_sample_file() -> None:
    count = count_from_file(SAMPLE, MAINNET)
    assert count.winner_address == NASHVILLE
    assert count.decided_by is Decision.PATRON
    assert count.as_of_block == SAMPLE_AS_OF_BLOCK and count.election_block == 2338560
    assert (count.addresses, count.entries, count.candidates, count.voters) == (10, 9, 4, 9)
    assert set(count.best_ring) == {
        named_address("Chattanooga").encode(MAINNET),
        named_address("Knoxville").encode(MAINNET),
    }
    top = count.ranking[0]
    assert top.total == (1 + 1 + 1 + 1 + 15000 + 17000 + 26000 + 42000) * UNIT
    assert count.winner_total == (1 + 1 + 26000 + 42000) * UNIT
    assert not count.over_limit and count.warnings == ()
    assert count_from_file(SAMPLE, MAINNET, top=2).ranking == count.ranking[:2]


def test_table_hash_on_request() -> None:
    count = count_from_file(SAMPLE, MAINNET, table_hash=TableHashVersion.FN_PR3)
    assert count.table_hash is not None and len(count.table_hash) == 32
    assert count.table_hash_version is TableHashVersion.FN_PR3
    assert count_from_file(SAMPLE, MAINNET).table_hash is None


def _page(records: list, as_of: int | None = 7, has_more: bool = False) -> dict:
    page: dict = {"addresses": [info(r) for r in records], "has_more": has_more}
    if as_of is not None:
        page["as_of_block"] = as_of
    return page


@pytest.mark.parametrize("shape", ["page", "rpc", "list_of_pages", "entries", "compact_pages"])
def test_accepted_shapes(shape: str) -> None:
    records = tennessee_records()
    one, two = _page(records[:4], has_more=True), _page(records[4:])
    text = {
        "page": json.dumps(_page(records)),
        "rpc": json.dumps({"result": _page(records), "error": None, "id": 1}),
        "list_of_pages": json.dumps([one, two]),
        "entries": json.dumps([info(r) for r in records]),
        "compact_pages": json.dumps(one) + json.dumps(two),
    }[shape]
    got = parse_address_list(text, MAINNET, "list.json")
    assert sorted(got.records, key=lambda r: r.script) == sorted(records, key=lambda r: r.script)
    assert got.as_of_block == (None if shape == "entries" else 7)


def _error(text: str) -> str:
    with pytest.raises(AddressListError) as info_:
        parse_address_list(text, MAINNET, "list.json")
    return str(info_.value)


def test_clear_errors_for_bad_input() -> None:
    ok = info(tennessee_records()[0])
    assert "not valid JSON" in _error("{'addresses': []}")
    assert "not valid JSON" in _error('{"addresses": [], "as_of_block": NaN}')
    assert "nested deeper" in _error("[" * 100 + "]" * 100)
    assert "empty" in _error("  \n")
    assert "no 'addresses' list" in _error('{"result": 5}')
    assert "RPC error answer" in _error('{"result": null, "error": {"code": -1, "message": "x"}}')
    assert "page 1, entry 1" in _error(json.dumps({"addresses": [5]}))
    no_sbalance = {k: v for k, v in ok.items() if k != "sbalance"}
    msg = _error(json.dumps({"addresses": [no_sbalance]}))
    assert "no 'sbalance'" in msg and ok["address"] in msg
    assert "not a balance" in _error(json.dumps({"addresses": [{**ok, "sbalance": "1.5"}]}))
    assert "not a balance" in _error(json.dumps({"addresses": [{**ok, "sbalance": "-3"}]}))
    huge = {**ok, "sbalance": "9" * 4301}  # int() of it raises ValueError: found by bench/fuzz.py
    assert "not a balance" in _error(json.dumps({"addresses": [huge]}))
    assert "is_candidate" in _error(json.dumps({"addresses": [{**ok, "is_candidate": "yes"}]}))
    testnet = "tpk1qtu5y64ln9n9mw3e88ydt28jgmu327ygmeqqqqq"
    assert "not a mainnet address" in _error(
        json.dumps({"addresses": [{**ok, "address": testnet}]})
    )
    assert "base64" in _error(json.dumps({"addresses": [{**ok, "vote_for": "script:!!"}]}))
    incomplete = json.dumps({"addresses": [ok], "has_more": True})
    assert "incomplete" in _error(incomplete)
    with pytest.raises(EpochChangedError, match="different epochs"):
        parse_address_list(
            json.dumps(_page([tennessee_records()[0]], 7, True))
            + json.dumps(_page([tennessee_records()[1]], 7 + 10080)),
            MAINNET,
            "list.json",
        )


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(AddressListError, match="no such file"):
        load_address_list(tmp_path / "missing.json", MAINNET)
    with pytest.raises(AddressListError, match="is a folder"):
        load_address_list(tmp_path, MAINNET)
    bad = tmp_path / "bad.json"
    bad.write_bytes(b"\xff\xfe garbage")
    with pytest.raises(AddressListError, match="bad.json: not valid JSON: not UTF-8"):
        load_address_list(bad, MAINNET)


def test_repeated_entries() -> None:
    records = tennessee_records()
    page = _page(records)
    twice = json.dumps(page) + json.dumps(page)
    got = parse_address_list(twice, MAINNET, "list.json")
    assert len(got.records) == len(records)
    assert got.warnings == (f"{len(records)} repeated entries were read once",)
    changed = _page(records)
    changed["addresses"] = [*changed["addresses"], {**changed["addresses"][0], "sbalance": "5"}]
    got = parse_address_list(json.dumps(changed), MAINNET, "list.json")
    assert len(got.records) == len(records) + 1
    assert "appear more than once" in got.warnings[0]


def test_non_standard_scripts_are_written_script_base64(tmp_path: Path) -> None:
    bare_multisig = bytes.fromhex("5121" + "02" + "11" * 32 + "51ae")
    page = {
        "addresses": [
            {
                "address": "script:" + base64.b64encode(bare_multisig).decode(),
                "sbalance": "10",
                "is_candidate": True,
                "vote_for": "script:",
            },
            {**info(tennessee_records()[0]), "vote_for": "script:", "is_candidate": False},
        ],
        "as_of_block": 5,
        "has_more": False,
    }
    path = tmp_path / "list.json"
    path.write_text(json.dumps(page))
    count = count_from_file(path, MAINNET)
    assert count.winner_address is not None and count.winner_address.startswith("script:")
    assert count.voters == 0 and count.candidates == 1
    assert count.entries == 1  # Memphis votes for nobody and does not stand: not in the list


def test_json_output_and_the_thread_guard() -> None:
    count = count_from_file(SAMPLE, MAINNET, table_hash=TableHashVersion.FN_CJD)
    data = json.loads(json.dumps(count.as_dict()))
    assert data["winner"] == NASHVILLE and data["decided_by"] == "patron"
    assert data["election_block"] == 2338560 and len(data["vote_table_hash"]) == 64
    assert data["ranking"][0]["total"] == count.ranking[0].total
    threadguard.clear_violations()
    threadguard.mark_gui_thread()
    try:
        with pytest.raises(GuiThreadViolation, match="count_from_file"):
            count_from_file(SAMPLE, MAINNET)
    finally:
        threadguard.unmark_gui_thread()
        threadguard.clear_violations()
