"""Seeded fuzzing of every parser that reads untrusted bytes or text.

More than 100,000 random and mutated inputs go to the message, transaction, block, header,
filter, address and URI parsers; only the typed ParseError family may come out.
"""

import contextlib
import random
from collections.abc import Callable

from spv.address import decode_address
from spv.bip158 import CompactFilter
from spv.block import Block
from spv.errors import ParseError
from spv.header import BlockHeader
from spv.messages import KNOWN_COMMANDS, FrameDecoder, encode_frame, parse_frame, parse_payload
from spv.params import MAINNET, REGTEST
from spv.tx import Transaction
from spv.uri import parse_payment_uri

SEED = 20261123
ROUNDS_PER_TARGET = 12_000


def _mutate(rng: random.Random, data: bytes) -> bytes:
    buf = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        choice = rng.randrange(6)
        pos = rng.randrange(len(buf) + 1)
        if choice == 0 and buf:  # flip bits
            i = rng.randrange(len(buf))
            buf[i] ^= 1 << rng.randrange(8)
        elif choice == 1:  # truncate
            del buf[pos:]
        elif choice == 2:  # insert random bytes
            buf[pos:pos] = rng.randbytes(rng.randint(1, 9))
        elif choice == 3:  # delete a span
            del buf[pos : pos + rng.randint(1, 16)]
        elif choice == 4 and buf:  # overwrite with an interesting byte (size prefixes)
            i = rng.randrange(len(buf))
            buf[i] = rng.choice((0x00, 0xFD, 0xFE, 0xFF, 0x4C, 0x4D, 0x4E, 0x66, 0x80, 0x7F))
        else:  # duplicate a span
            span = bytes(buf[pos : pos + rng.randint(1, 32)])
            buf[pos:pos] = span
    return bytes(buf)


def _inputs(rng: random.Random, corpus: list[bytes], n: int) -> list[bytes]:
    out = []
    for i in range(n):
        if i % 4 == 0:
            out.append(rng.randbytes(rng.choice((0, 1, 5, 40, 80, 81, 200, 1500))))
        else:
            out.append(_mutate(rng, rng.choice(corpus)))
    return out


def _run(target: Callable[[bytes], object], corpus: list[bytes], n: int, seed: int) -> int:
    rng = random.Random(seed)
    for data in _inputs(rng, corpus, n):
        with contextlib.suppress(ParseError):
            target(data)
    return n


def _vectors(pkt_vectors):  # type: ignore[no-untyped-def]
    st = pkt_vectors("tx_sighash_vote_vectors.json")
    g = pkt_vectors("genesis.json")
    txs = [
        bytes.fromhex(st["signed_tx"]["tx_hex_with_witness"]),
        bytes.fromhex(st["signed_tx"]["tx_hex_no_witness"]),
        bytes.fromhex(g["coinbase_tx_hex"]),
        bytes.fromhex(pkt_vectors("prelaunch_coinbase_tx.json")["tx_hex"]),
    ]
    headers = [
        bytes.fromhex(h["header_hex"])
        for h in pkt_vectors("mainnet_headers_explorer.json")["headers"]
    ]
    rows = pkt_vectors("bip158_testnet-19.json")[1:]
    filters = [bytes.fromhex(r[5]) for r in rows if r[5]]
    regtest_blocks = [bytes.fromhex(r[2]) for r in rows[:4]]
    return txs, headers, filters, regtest_blocks


def test_fuzz_binary_parsers(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    txs, headers, filters, regtest_blocks = _vectors(pkt_vectors)
    cap = pkt_vectors("p2p_local_pktd_capture.json")
    frames = [bytes.fromhex(m["full_frame_hex"]) for m in cap["handshake"]["messages_received"]]
    frames.append(encode_frame(MAINNET.magic, "tx", txs[0]))

    def parse_pkt_block(data: bytes) -> object:
        return Block.parse(data, has_packetcrypt=True)

    def parse_regtest_block(data: bytes) -> object:
        return Block.parse(data, has_packetcrypt=False)

    def parse_filter(data: bytes) -> object:
        f = CompactFilter.parse(data)
        return f.match_any(MAINNET.genesis_hash, [b"\x00\x14" + b"\x01" * 20])

    def parse_message(data: bytes) -> object:
        command, payload = parse_frame(MAINNET.magic, data)
        return parse_payload(command, payload)

    def decode_stream(data: bytes) -> object:
        decoder = FrameDecoder(MAINNET.magic)
        out = []
        for i in range(0, len(data), 7):
            for command, payload in decoder.feed(data[i : i + 7]):
                out.append(parse_payload(command, payload))
        return out

    payload_corpus: list[bytes] = [b"\x00" * 8, b"\x01" + b"\x22" * 36, *headers]
    payload_corpus.append(bytes.fromhex(cap["handshake"]["client_version_payload_sent"]))
    payload_corpus.append(bytes.fromhex(cap["getcfilters_genesis"]["response_cfilter_payload_hex"]))
    commands = sorted(KNOWN_COMMANDS)

    def parse_any_payload(data: bytes) -> object:
        command = commands[len(data) % len(commands)]
        return parse_payload(command, data)

    total = 0
    total += _run(Transaction.parse, txs, ROUNDS_PER_TARGET, SEED + 1)
    total += _run(parse_pkt_block, [MAINNET.genesis_block], ROUNDS_PER_TARGET, SEED + 2)
    total += _run(parse_regtest_block, regtest_blocks, ROUNDS_PER_TARGET, SEED + 3)
    total += _run(BlockHeader.parse, headers, ROUNDS_PER_TARGET, SEED + 4)
    total += _run(parse_filter, filters, ROUNDS_PER_TARGET, SEED + 5)
    total += _run(parse_message, frames, ROUNDS_PER_TARGET, SEED + 6)
    total += _run(decode_stream, [b"".join(frames)], ROUNDS_PER_TARGET // 2, SEED + 7)
    total += _run(parse_any_payload, payload_corpus, ROUNDS_PER_TARGET, SEED + 8)
    assert total == 7.5 * ROUNDS_PER_TARGET  # 90,000 inputs


def test_fuzz_text_parsers(pkt_vectors) -> None:  # type: ignore[no-untyped-def]
    keys = pkt_vectors("tx_sighash_vote_vectors.json")["keys"]
    addresses = [k["p2pkh"] for k in keys] + [keys[0]["p2wpkh"]]
    addresses.append("pkt1q6hqsqhqdgqfd8t3xwgceulu7k9d9w5t2amath0qxyfjlvl3s3u4sjza2g2")
    uris = [f"pkt:{a}?amount=1.25&label=rent%20%C3%A9t%C3%A9&message=thanks" for a in addresses]
    alphabet = "pktPK1qQ023456789acdefghjklmnrsuvwxyzABCDEFGHJLMNRSTUVWXYZ:?&=%.-_ \u00e9\x00"

    def text_inputs(corpus: list[str], n: int, seed: int) -> list[str]:
        rng = random.Random(seed)
        out = []
        for i in range(n):
            if i % 4 == 0:
                out.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 100))))
                continue
            s = list(rng.choice(corpus))
            for _ in range(rng.randint(1, 3)):
                pos = rng.randrange(len(s) + 1)
                op = rng.randrange(3)
                if op == 0 and s:
                    s[min(pos, len(s) - 1)] = rng.choice(alphabet)
                elif op == 1:
                    s.insert(pos, rng.choice(alphabet))
                else:
                    del s[pos : pos + rng.randint(1, 5)]
            out.append("".join(s))
        return out

    count = 0
    for params in (MAINNET, REGTEST):
        for text in text_inputs(addresses, ROUNDS_PER_TARGET // 2, SEED + 10):
            with contextlib.suppress(ParseError):
                decode_address(text, params)
            count += 1
        for text in text_inputs(uris, ROUNDS_PER_TARGET // 2, SEED + 11):
            with contextlib.suppress(ParseError):
                parse_payment_uri(text, params)
            count += 1
    assert count == 2 * ROUNDS_PER_TARGET
    # Together with the binary test: 90,000 + 24,000 = 114,000 inputs.
