"""The parsers fuzzed by ``bench/fuzz.py`` and ``tests/test_fuzz_parsers.py``, each with its real
seed vectors and the typed errors it may raise (anything else counts as untyped).

Service clients (VPN directory and exits, the explorer, the full node's RPC) are driven through
their own code with :class:`~tests.support.fuzzing.FakeSession` answering every request with
the fuzzed body, so the size caps, the JSON reader and the shape checks are all exercised.
"""

from __future__ import annotations

import contextlib
import json
import random
from functools import cache
from pathlib import Path
from typing import Any

from app.steward import github_answers
from app.steward.electorium.address_list import parse_address_list
from app.steward.electorium.noderpc import NodeRpcClient
from app.steward.errors import StewardError
from app.steward.explorer import ExplorerClient
from app.steward.http import _decode_json
from app.steward.proposal import Proposal, parse_proposal
from app.vpn.directory import Directory
from app.vpn.errors import VpnError
from app.vpn.premium import pkt_to_units
from miner import kernel
from miner.pool.protocol import (
    PoolProtocolError,
    ann_fields,
    parse_blkinfo,
    parse_master_config,
    parse_submit_reply,
)
from miner.reference.announce import AnnHeader
from spv.address import decode_address
from spv.bip158 import CompactFilter
from spv.block import Block
from spv.errors import ParseError
from spv.header import BlockHeader
from spv.messages import (
    KNOWN_COMMANDS,
    Addr,
    CFCheckpt,
    CFHeaders,
    CFilter,
    FrameDecoder,
    GetCFilters,
    GetHeaders,
    Headers,
    Inv,
    InvVector,
    NetAddress,
    Reject,
    TimedNetAddress,
    encode_frame,
    parse_frame,
    parse_payload,
)
from spv.params import MAINNET, REGTEST
from spv.proofcheck import ProofInvalid, check_block_proof
from spv.tx import Transaction
from spv.uri import parse_payment_uri

from .fuzzing import FakeSession, Target, after_a_colon, as_text, mutate_bytes

DATA = Path(__file__).resolve().parent.parent / "data"
NS_ADDRESS = "pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2"
EXIT_KEY = "1y7k7zb64f242hvv8mht54ssvgcqdfzbxrng5uz7qpgu7fkjudd0.k"


def _json(*parts: str) -> Any:
    with open(DATA.joinpath(*parts), encoding="utf-8") as fh:
        return json.load(fh)


def _enc(doc: Any) -> bytes:
    return json.dumps(doc).encode()


# --- P2P, transactions, blocks, headers, filters --------------------------------------------------


@cache
def _chain_vectors() -> dict[str, list[bytes]]:
    st = _json("pkt", "tx_sighash_vote_vectors.json")
    genesis = _json("pkt", "genesis.json")
    txs = [
        bytes.fromhex(st["signed_tx"]["tx_hex_with_witness"]),
        bytes.fromhex(st["signed_tx"]["tx_hex_no_witness"]),
        bytes.fromhex(genesis["coinbase_tx_hex"]),
        bytes.fromhex(_json("pkt", "prelaunch_coinbase_tx.json")["tx_hex"]),
    ]
    headers = [
        bytes.fromhex(h["header_hex"])
        for h in _json("pkt", "mainnet_headers_explorer.json")["headers"]
    ]
    rows = _json("pkt", "bip158_testnet-19.json")[1:]
    cap = _json("pkt", "p2p_local_pktd_capture.json")
    frames = [bytes.fromhex(m["full_frame_hex"]) for m in cap["handshake"]["messages_received"]]
    frames.append(encode_frame(MAINNET.magic, "tx", txs[0]))
    return {
        "tx": txs,
        "header": headers,
        "filter": [bytes.fromhex(r[5]) for r in rows if r[5]],
        "regtest_block": [bytes.fromhex(r[2]) for r in rows[:4]],
        "pkt_block": [MAINNET.genesis_block],
        "frame": frames,
        "version": [bytes.fromhex(cap["handshake"]["client_version_payload_sent"])],
        "cfilter": [bytes.fromhex(cap["getcfilters_genesis"]["response_cfilter_payload_hex"])],
    }


COMMANDS = sorted(KNOWN_COMMANDS)


def _payload_seeds() -> list[bytes]:
    """`<command index byte> + payload` for real and constructed messages of each kind."""
    v = _chain_vectors()
    h = bytes(range(32))
    addr = NetAddress(1, bytes(10) + b"\xff\xff" + bytes([127, 0, 0, 1]), 64764)
    messages: list[tuple[str, bytes]] = [
        ("version", v["version"][0]),
        ("cfilter", v["cfilter"][0]),
        ("headers", Headers(tuple(BlockHeader.parse(x) for x in v["header"][:3])).serialize()),
        ("inv", Inv((InvVector(2, h), InvVector(1, h[::-1]))).serialize()),
        ("addr", Addr((TimedNetAddress(1_600_000_000, addr),)).serialize()),
        ("reject", Reject("tx", 0x10, "bad-txns", h).serialize()),
        ("getheaders", GetHeaders(70002, (h, h[::-1])).serialize()),
        ("getcfilters", GetCFilters(0, 7, h).serialize()),
        ("cfheaders", CFHeaders(0, h, h[::-1], (h, h)).serialize()),
        ("cfcheckpt", CFCheckpt(0, h, (h,)).serialize()),
        ("cfilter", CFilter(0, h, v["filter"][0]).serialize()),
        ("ping", bytes(8)),
        ("tx", v["tx"][0]),
    ]
    return [bytes([COMMANDS.index(c)]) + p for c, p in messages]


def _frame_structured(rng: random.Random) -> bytes:
    """A frame with the right magic and checksum around a mutated payload of any command."""
    seed = rng.choice(_payload_seeds())
    payload = mutate_bytes(rng, seed[1:]) if rng.random() < 0.8 else seed[1:]
    command = COMMANDS[seed[0]] if rng.random() < 0.8 else rng.choice(COMMANDS)
    frame = encode_frame(MAINNET.magic, command, payload)
    if rng.random() < 0.2:
        frame = frame + encode_frame(MAINNET.magic, rng.choice(COMMANDS), rng.randbytes(40))
    return frame


def _parse_frame(data: bytes) -> object:
    command, payload = parse_frame(MAINNET.magic, data)
    return parse_payload(command, payload)


def _decode_stream(data: bytes) -> object:
    decoder = FrameDecoder(MAINNET.magic)
    out = []
    for i in range(0, len(data), 7):
        for command, payload in decoder.feed(data[i : i + 7]):
            out.append(parse_payload(command, payload))
    return out


def _parse_any_payload(data: bytes) -> object:
    if not data:
        return None
    return parse_payload(COMMANDS[data[0] % len(COMMANDS)], data[1:])


def _parse_block(data: bytes) -> object:
    if data[:1] == b"\x01":
        return Block.parse(data[1:], has_packetcrypt=False)
    return Block.parse(data[1:], has_packetcrypt=True)


def _parse_filter(data: bytes) -> object:
    f = CompactFilter.parse(data)
    return f.match_any(MAINNET.genesis_hash, [b"\x00\x14" + b"\x01" * 20])


def _address(data: bytes) -> object:
    params = MAINNET if len(data) % 2 else REGTEST
    return decode_address(as_text(data), params)


def _uri(data: bytes) -> object:
    params = MAINNET if len(data) % 2 else REGTEST
    return parse_payment_uri(as_text(data), params)


def _text_seeds_addresses() -> tuple[list[bytes], list[bytes]]:
    keys = _json("pkt", "tx_sighash_vote_vectors.json")["keys"]
    addresses = [k["p2pkh"] for k in keys] + [keys[0]["p2wpkh"], NS_ADDRESS]
    uris = [f"pkt:{a}?amount=1.25&label=rent%20%C3%A9t%C3%A9&message=thanks" for a in addresses]
    uris += [f"PKT:{addresses[0]}?amount=0.000000001", f"pkt:{NS_ADDRESS}?req-x=1"]
    return [a.encode() for a in addresses], [u.encode() for u in uris]


# --- PacketCrypt: announcements and block proofs ------------------------------------------------


@cache
def _ann_vector() -> tuple[bytes, bytes]:
    meta = _json("packetcrypt", "real_ann_v1.json")
    ann = (DATA / "packetcrypt" / "real_ann_v1.bin").read_bytes()
    return ann, bytes.fromhex(meta["parent_block_hash_internal_order"])


def _announcement(data: bytes) -> object:
    ann, parent = _ann_vector()
    AnnHeader.from_bytes(data)
    ann_fields(data)
    return kernel.validate(data, parent)


@cache
def _proof_vectors() -> list[tuple[bytes, int, dict[int, bytes]]]:
    """(block, height, parent hash by height) of each committed block-proof vector."""
    out = []
    for v in _json("packetcrypt", "block_proof_vectors.json")["vectors"]:
        heights = [int(x) for x in v["ann_parent_heights"]]
        hashes = [bytes.fromhex(x) for x in v["ann_parent_hashes_internal"]]
        out.append(
            (
                bytes.fromhex(v["block_hex"]),
                int(v["block_height"]),
                dict(zip(heights, hashes, strict=True)),
            )
        )
    return out


def _proof_seeds() -> list[bytes]:
    """`<vector index byte> + block`: the index gives the height and the parents' hashes."""
    return [bytes([i]) + block for i, (block, _, _) in enumerate(_proof_vectors())]


def _block_proof(data: bytes) -> object:
    if not data:
        return None
    vectors = _proof_vectors()
    _, height, parents = vectors[data[0] % len(vectors)]
    check_block_proof(data[1:], height, lambda h: parents.get(h, bytes(32)))
    return None


def _proof_structured(rng: random.Random) -> bytes:
    """A real block with its proof record's framing mutated (lengths, types, counts), which
    is where a parser goes wrong; bit flips deep in announcements only cost validation time."""
    seed = rng.choice(_proof_seeds())
    block = bytearray(seed[1:])
    header_end = 80
    for _ in range(rng.randint(1, 3)):
        if len(block) <= header_end + 1:
            break
        pos = rng.randrange(header_end, min(len(block), header_end + 120))
        roll = rng.randrange(4)
        if roll == 0:
            block[pos] = rng.choice((0, 1, 2, 3, 4, 0xFD, 0xFE, 0xFF))
        elif roll == 1:
            block[pos : pos + 3] = rng.choice((b"\xfd\xff\xff", b"\xfe\xff\xff\xff\xff", b"\0"))
        elif roll == 2:
            del block[rng.randrange(header_end, len(block)) :]
        else:
            block[pos] ^= 1 << rng.randrange(8)
    return seed[:1] + bytes(block)


# --- the pool protocol -----------------------------------------------------------------------------

TIP = "ab" * 32


def _pool_config_seeds() -> list[bytes]:
    conf = {
        "tipHash": TIP,
        "currentHeight": 1_000_011,
        "masterUrl": "http://127.0.0.1:8080",
        "submitAnnUrls": ["http://127.0.0.1:8081/submit", "http://127.0.0.1:8082/submit"],
        "downloadAnnUrls": [],
        "submitBlockUrls": [],
        "paymakerUrl": "http://127.0.0.1:8080/paymaker",
        "version": 3,
        "softVersion": 1,
        "annVersions": [1],
        "mineOldAnns": 2,
        "annTarget": 0x207FFFFF,
        "blkinfoUrl": "http://127.0.0.1:8080/",
    }
    return [_enc(conf), _enc({k: v for k, v in conf.items() if k != "blkinfoUrl"})]


def _blkinfo_seeds() -> list[bytes]:
    header = {
        "hash": TIP,
        "height": 1_000_010,
        "version": 1,
        "merkleroot": "00" * 32,
        "time": 1_601_000_010,
        "bits": "1d00ffff",
        "difficulty": 1.0,
        "previousblockhash": "cd" * 32,
    }
    return [_enc({"header": header, "sigKey": None}), _enc({"header": header, "sigKey": "11" * 32})]


def _submit_seeds() -> list[bytes]:
    return [
        _enc({"warn": [], "error": [], "result": {"accepted": 7, "dup": 2, "type": "anns"}}),
        _enc({"warn": ["slow down"], "error": ["overloaded"], "result": None}),
        _enc({"warn": [], "error": ["submit elsewhere"], "result": None}),
    ]


def _submit(data: bytes) -> object:
    return parse_submit_reply(200 if len(data) % 3 else 503, data, 10)


# --- VPN: the coordinator and the exits, through Directory with a fake session -----------------


def _vpn_seeds() -> dict[str, list[bytes]]:
    from tests.vpn.directory_server import default_exits

    peers = _json("vpn", "pkt-server_cjdnspeers.json")
    return {
        "exits": [_enc(default_exits()), _enc({"results": default_exits()[:2]})],
        "peering": [_enc(peers), _enc(peers[:2])],
        "premium": [
            _enc({"address": NS_ADDRESS, "amount": 10}),
            _enc({"address": NS_ADDRESS, "amount": "25"}),
            _enc({"address": NS_ADDRESS, "amount": 0.5}),
        ],
        "authorize": [
            _enc({"status": "success", "message": "allocated", "expiresAt": 1_700_000_000}),
            _enc({"status": "error", "message": "VPN server timed out."}),
            _enc({"status": "success", "nameservers": ["10.66.0.1"], "expiresAt": "1700000000"}),
        ],
    }


def _directory(data: bytes, status: int = 200) -> Directory:
    session = FakeSession(lambda method, url: (status, data, {}))
    return Directory("http://127.0.0.1:9", None, session=session)  # type: ignore[arg-type]


def _vpn_exits(data: bytes) -> object:
    return _directory(data).fetch_exits()


def _vpn_peering(data: bytes) -> object:
    return _directory(data).peering_lines(use_cache=False)


def _vpn_premium(data: bytes) -> object:
    request = _directory(data).premium_address(EXIT_KEY)
    return pkt_to_units(request.amount, MAINNET.units_per_coin)


def _vpn_authorize(data: bytes) -> object:
    status = (200, 201, 403, 408, 500, 503)[len(data) % 6]
    d = _directory(data, status)
    d.authorize(EXIT_KEY, lambda msg_hash: "sig")
    return d.post_premium(EXIT_KEY, "10.66.0.2", "00", NS_ADDRESS)


# --- Steward: GitHub, the explorer, proposals, Electorium -----------------------------------------


def _github_seeds() -> list[bytes]:
    tree = _json("steward", "tree.json")
    entries = tree["tree"] if isinstance(tree["tree"], list) else []
    pr = {
        "number": 34,
        "title": "tokenstrike",
        "state": "closed",
        "user": {"login": "someone"},
        "created_at": "2020-07-25T10:00:00Z",
        "closed_at": "2020-08-01T10:00:00Z",
        "merged_at": "2020-08-01T10:00:00Z",
        "html_url": "https://github.com/pkt-cash/ns-projects/pull/34",
        "body": "A proposal",
        "labels": [{"name": "project"}],
        "pull_request": {"merged_at": "2020-08-01T10:00:00Z"},
    }
    files = [
        {
            "filename": "projects/2020_07_25_tokenstrike.md",
            "status": "added",
            "sha": "f2" * 20,
            "raw_url": "https://github.com/pkt-cash/ns-projects/raw/x/projects/a.md",
        }
    ]
    contents = [
        {
            "path": "projects/2020_07_25_tokenstrike.md",
            "type": "file",
            "sha": "f2" * 20,
            "size": 1200,
            "download_url": "https://raw.githubusercontent.com/x",
            "html_url": "https://github.com/x",
        }
    ]
    return [
        _enc({"sha": tree.get("sha", "0" * 40), "tree": entries[:40], "truncated": False}),
        _enc({"total_count": 1, "incomplete_results": False, "items": [pr]}),
        _enc([pr]),
        _enc(files),
        _enc(contents),
        _enc({"encoding": "base64", "content": "IyBUaXRsZQo=", "sha": "ab" * 20}),
    ]


def _github(data: bytes) -> object:
    """The decoder, then every GitHub answer parser on the same document."""
    doc = _decode_json("https://api.github.com/repos/x", data)
    results: list[object] = []
    for parse in (
        github_answers.parse_tree,
        lambda d: github_answers.parse_contents(d, "projects"),
        github_answers.parse_search_page,
        lambda d: github_answers.parse_pulls_page(d, "project"),
        lambda d: github_answers.parse_pr_files(d, 34),
    ):
        with contextlib.suppress(StewardError):
            results.append(parse(doc))
    return github_answers.unwrap_contents_json(data, "application/json")


def _explorer_seeds() -> list[bytes]:
    ex = _json("steward", "explorer_ns_examples.json")["endpoints"]
    ns = ex["/api/<chain>/<network>/ns"]["response"]
    cands = ex["/api/<chain>/<network>/ns/candidates"]["response"]
    return [_enc(ns | cands), _enc(ns | cands | {"next": "/ns/candidates/1/2"}), _enc(ns)]


def _explorer(data: bytes) -> object:
    session = FakeSession(lambda method, url: (200, data, {}))
    client = ExplorerClient("http://127.0.0.1:9/api", session=session)  # type: ignore[arg-type]
    return client.election(0.0)


@cache
def _proposal_seeds() -> list[bytes]:
    folder = DATA / "steward" / "proposals"
    return [p.read_bytes() for p in sorted(folder.glob("*.md"))]


def _proposal_structured(rng: random.Random) -> bytes:
    text = rng.choice(_proposal_seeds()).decode("utf-8")
    for _ in range(rng.randint(1, 3)):
        text = after_a_colon(rng, text)
    return text.encode("utf-8", "surrogatepass")


def _proposal(data: bytes) -> object:
    text = as_text(data)
    name = "projects/2020_07_25_tokenstrike.md" if len(data) % 2 else "projects/x.md"
    parsed = parse_proposal(text, name)
    p = Proposal("x", parsed.title, "proposed", name, True, parsed)
    json.dumps(p.to_dict())  # what the cache stores
    str(p.requested_pkt)  # what the list shows
    return p.summary(), p.search_text()


def _listaddresses_seeds() -> list[bytes]:
    sample = (DATA / "electorium" / "listaddresses_sample.json").read_bytes()
    docs = sample.split(b"\n}\n")
    first = docs[0] + b"\n}\n"
    return [sample, first, b'{"result": ' + first + b', "error": null, "id": 1}']


def _listaddresses(data: bytes) -> object:
    """The address-list file reader, then the node's paged answers (each on its own)."""
    with contextlib.suppress(StewardError):
        parse_address_list(data, MAINNET, "fuzz")
    session = FakeSession(lambda method, url: (200, data, {}))
    client = NodeRpcClient("http://127.0.0.1:9", session=session)  # type: ignore[arg-type]
    return list(client.address_pages(max_pages=3))


def _getwinners_seeds() -> list[bytes]:
    result = {
        "next_election_block": 2_100_000,
        "next_inaguration_block": 2_110_080,
        "next_election_estimated_time": 1_800_000_000,
        "next_inaguration_estimated_time": 1_800_600_000,
        "Results": [
            {"vote_close_height": 2_000_000, "winner": NS_ADDRESS, "vote_table_hash": "ab" * 32}
        ],
    }
    return [
        _enc({"result": result, "error": None, "id": 1}),
        _enc({"result": result | {"Results": None}, "error": None, "id": 1}),
        _enc({"result": None, "error": {"code": -32601, "message": "Method not found"}, "id": 1}),
    ]


def _getwinners(data: bytes) -> object:
    session = FakeSession(lambda method, url: (200, data, {}))
    client = NodeRpcClient("http://127.0.0.1:9", session=session)  # type: ignore[arg-type]
    return client.get_winners()


# --- the list --------------------------------------------------------------------------------------


def all_targets() -> list[Target]:
    v = _chain_vectors()
    addresses, uris = _text_seeds_addresses()
    vpn = _vpn_seeds()
    ann, _ = _ann_vector()
    frames = v["frame"]
    blocks = [b"\x01" + b for b in v["regtest_block"]] + [b"\x00" + b for b in v["pkt_block"]]
    return [
        Target("p2p-frame", _parse_frame, (ParseError,), frames, "binary",
               structured=_frame_structured),
        Target("p2p-stream", _decode_stream, (ParseError,), [b"".join(frames)], "binary",
               structured=_frame_structured),
        Target("p2p-payload", _parse_any_payload, (ParseError,), _payload_seeds(), "binary"),
        Target("tx", Transaction.parse, (ParseError,), v["tx"], "binary"),
        Target("block", _parse_block, (ParseError,), blocks, "binary"),
        Target("header", BlockHeader.parse, (ParseError,), v["header"], "binary"),
        Target("filter", _parse_filter, (ParseError,), v["filter"], "binary"),
        Target("address", _address, (ParseError,), addresses, "text"),
        Target("payment-uri", _uri, (ParseError,), uris, "text"),
        Target("announcement", _announcement, (), [ann], "binary", fixed_size=1024),
        Target("block-proof", _block_proof, (ProofInvalid, KeyError), _proof_seeds(),
               "binary", structured=_proof_structured, test_inputs=3_000,
               note="pure-Python proof validation: a few ms to 160 ms per input"),
        Target("pool-config", parse_master_config, (PoolProtocolError,), _pool_config_seeds(),
               "json"),
        Target("pool-blkinfo", lambda d: parse_blkinfo(d, TIP), (PoolProtocolError,),
               _blkinfo_seeds(), "json"),
        Target("pool-submit", _submit, (PoolProtocolError,), _submit_seeds(), "json"),
        Target("vpn-directory", _vpn_exits, (VpnError,), vpn["exits"], "json"),
        Target("vpn-peering", _vpn_peering, (VpnError,), vpn["peering"], "json"),
        Target("vpn-premium", _vpn_premium, (VpnError,), vpn["premium"], "json"),
        Target("vpn-authorize", _vpn_authorize, (VpnError,), vpn["authorize"], "json"),
        Target("github", _github, (StewardError,), _github_seeds(), "json"),
        Target("explorer", _explorer, (StewardError,), _explorer_seeds(), "json"),
        Target("proposal-markdown", _proposal, (), _proposal_seeds(), "text",
               structured=_proposal_structured, test_inputs=5_000,
               note="real proposals are up to 54 KB: about 2 ms per input"),
        Target("electorium-listaddresses", _listaddresses, (StewardError,),
               _listaddresses_seeds(), "json"),
        Target("electorium-getwinners", _getwinners, (StewardError,), _getwinners_seeds(),
               "json"),
    ]  # fmt: skip


def target_named(name: str) -> Target:
    for t in all_targets():
        if t.name == name:
            return t
    raise KeyError(name)
