"""The pool protocol as data: config.json, blkinfo, routing, handler replies, cache headers."""

from __future__ import annotations

import hashlib
import json

import pytest

from miner.pool.protocol import (
    PoolJob,
    PoolProtocolError,
    ann_fields,
    check_payto,
    dedup_value,
    freshness_seconds,
    handler_index,
    parse_blkinfo,
    parse_master_config,
    parse_submit_reply,
    submit_headers,
)

TIP = "ab" * 32


def config(**over: object) -> bytes:
    data: dict[str, object] = {
        "tipHash": TIP,
        "currentHeight": 1000,
        "masterUrl": "http://pool.example.org/master",
        "submitAnnUrls": ["http://h1.example.org/submit", "http://h2.example.org/submit"],
        "downloadAnnUrls": [],
        "submitBlockUrls": [],
        "paymakerUrl": "http://pm.example.org",
        "version": 3,
        "softVersion": 1,
        "annVersions": [1],
        "mineOldAnns": 2,
        "annTarget": 521142272,
    }
    data.update(over)
    return json.dumps({k: v for k, v in data.items() if v is not None}).encode()


def test_config_fields() -> None:
    conf = parse_master_config(config())
    assert conf.tip_hash == TIP and conf.tip_height == 999
    assert conf.ann_target == 0x1F100000 and conf.mine_old_anns == 2
    assert conf.submit_ann_urls == ("http://h1.example.org/submit", "http://h2.example.org/submit")
    assert conf.blkinfo_url is None and conf.ann_versions == (1,)


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"tipHash": None}, "tipHash"),
        ({"tipHash": "xyz"}, "tipHash"),
        ({"annTarget": None}, "annTarget"),
        ({"annTarget": 0x21000000}, "annTarget"),
        ({"annTarget": 0x1F900000}, "annTarget"),  # sign bit
        ({"currentHeight": "12"}, "currentHeight"),
        ({"submitAnnUrls": []}, "submitAnnUrls"),
        ({"submitAnnUrls": ["ftp://x"]}, "submitAnnUrls"),
        ({"mineOldAnns": -1}, "mineOldAnns"),
    ],
)
def test_config_rejects(over: dict[str, object], message: str) -> None:
    with pytest.raises(PoolProtocolError, match=message):
        parse_master_config(config(**over))


def test_config_garbage() -> None:
    for raw in (b"{not json", b"[]", b"\xff\xfe", b""):
        with pytest.raises(PoolProtocolError):
            parse_master_config(raw)


def blkinfo(block_hash: str, height: int, prev: str | None, sig: str | None = None) -> bytes:
    header = {"hash": block_hash, "height": height, "previousblockhash": prev, "bits": "1d00ffff"}
    return json.dumps({"header": header, "sigKey": sig}).encode()


def test_blkinfo() -> None:
    info = parse_blkinfo(blkinfo(TIP, 999, "cd" * 32, "11" * 32), TIP.upper())
    assert info.height == 999 and info.previous_hash == "cd" * 32
    assert info.sig_key == b"\x11" * 32
    assert info.internal_hash == bytes.fromhex(TIP)[::-1]
    assert parse_blkinfo(blkinfo(TIP, 999, "cd" * 32, "00" * 32), TIP).sig_key is None
    with pytest.raises(PoolProtocolError, match="describes block"):
        parse_blkinfo(blkinfo(TIP, 999, "cd" * 32), "cd" * 32)
    with pytest.raises(PoolProtocolError, match="previousblockhash"):
        parse_blkinfo(blkinfo(TIP, 999, None), TIP)
    with pytest.raises(PoolProtocolError, match="sigKey"):
        parse_blkinfo(blkinfo(TIP, 999, "cd" * 32, "12"), TIP)


def fake_ann(seed: int, height: int = 1000, bits: int = 0x207FFFFF) -> bytes:
    ann = bytearray(hashlib.blake2b(seed.to_bytes(8, "little"), digest_size=64).digest() * 16)
    ann[0] = 1
    ann[8:12] = bits.to_bytes(4, "little")
    ann[12:16] = height.to_bytes(4, "little")
    ann[24:88] = bytes(64)
    return bytes(ann)


def test_routing_is_dedup_mod_handler_count() -> None:
    counts = [0, 0, 0]
    for seed in range(300):
        ann = fake_ann(seed)
        dedup = int.from_bytes(hashlib.blake2b(ann, digest_size=32).digest()[:8], "little")
        assert dedup_value(ann) == dedup
        index = handler_index(ann, 3)
        assert index == dedup % 3
        counts[index] += 1
    assert min(counts) > 60  # spread over every handler
    assert handler_index(fake_ann(1), 0) is None
    fields = ann_fields(fake_ann(5, height=1234, bits=0x1F100000))
    assert (fields.version, fields.parent_height, fields.work_bits) == (1, 1234, 0x1F100000)


def test_submit_headers_and_job() -> None:
    job = PoolJob(bytes(range(32)), 999, 0x1F100000)
    assert job.worknum == 1000 and job.parent_display == bytes(range(32))[::-1].hex()
    h = submit_headers("pkt1abc", job.worknum, "sid", "ua")
    assert h["x-pc-payto"] == "pkt1abc" and h["x-pc-worknum"] == "1000"
    assert h["x-pc-sver"] == "1" and h["x-pc-annver"] == "1"
    assert h["Content-Type"] == "application/octet-stream"


def test_payto_rules() -> None:
    assert check_payto("pkt1qxyz") == "pkt1qxyz"
    for bad in ("", "pkt1 q", "pkt1-q", "a" * 64):
        with pytest.raises(ValueError):
            check_payto(bad)


def reply(**kw: object) -> bytes:
    data: dict[str, object] = {"warn": [], "error": [], "result": None}
    data.update(kw)
    return json.dumps(data).encode()


def test_replies() -> None:
    ok = parse_submit_reply(200, reply(result={"accepted": 7, "dup": 2, "type": "anns"}), 10)
    assert (ok.accepted, ok.dup, ok.rejected, ok.overloaded) == (7, 2, 3, False)
    bad = parse_submit_reply(400, reply(error=["submit elsewhere"]), 10)
    assert (bad.accepted, bad.rejected) == (0, 10) and bad.errors == ("submit elsewhere",)
    over = parse_submit_reply(503, reply(error=["overloaded"]), 10)
    assert over.overloaded and over.rejected == 0
    warned = parse_submit_reply(200, reply(warn=["slow down"], result={"accepted": 1}), 1)
    assert warned.warnings == ("slow down",) and warned.accepted == 1
    clamp = parse_submit_reply(200, reply(result={"accepted": 99}), 5)
    assert clamp.accepted == 5
    for status, body in ((200, b"<html>"), (500, b"oops"), (200, reply()), (200, b"[1]")):
        with pytest.raises(PoolProtocolError):
            parse_submit_reply(status, body, 3)


def test_freshness() -> None:
    assert freshness_seconds({"Cache-Control": "max-age=8 stale-while-revalidate=2"}) == 8
    assert freshness_seconds({"cache-control": "public, max-age=8", "Age": "3"}) == 5
    assert freshness_seconds({"Cache-Control": "max-age=8", "Age": "30"}) == 0
    assert freshness_seconds({"Cache-Control": "no-cache"}) == 0
    assert freshness_seconds({}) is None
    assert freshness_seconds({"Cache-Control": "max-age=abc"}) is None


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"[" * 100_000, "nested deeper than 32 levels"),
        (b'{"currentHeight": 1e400}', "out of range"),
        (b'{"annTarget": NaN}', "NaN is not a number"),
        (b"1" * 4301, "4301 digits"),
        (b'{"x": "\\ud800"}', "surrogate"),
    ],
)
def test_hostile_json_is_an_invalid_reply(raw: bytes, reason: str) -> None:
    """Regressions: RecursionError, OverflowError and ValueError escaped from json.loads."""
    for parse in (
        parse_master_config,
        lambda b: parse_blkinfo(b, TIP),
        lambda b: parse_submit_reply(200, b, 1),
    ):
        with pytest.raises(PoolProtocolError, match="the pool sent an invalid") as info:
            parse(raw)
        assert reason in str(info.value)
    with pytest.raises(PoolProtocolError, match="currentHeight"):
        parse_master_config(config(currentHeight=True))
    with pytest.raises(PoolProtocolError, match="counts are not integers"):
        parse_submit_reply(200, reply(result={"accepted": 1.5}), 3)


def test_hostile_headers_are_ignored() -> None:
    for value in ("\u00b2", "\u0663", "1e400", "nan", "inf", "9" * 5000):
        assert freshness_seconds({"Cache-Control": f"max-age={value}"}) is None
        assert freshness_seconds({"Cache-Control": "max-age=8", "Age": value}) == 8
