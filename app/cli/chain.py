"""CLI commands about the chain: offline decoding and chain facts (`network-info`, `subsidy`,
`decode-address`, `parse-uri`, `decode-tx`, `decode-block`) and the ones that talk to the
network (`sync`, `chain-info`).
"""

import argparse
import asyncio
import sys
from typing import Any

from spv.address import address_from_script, decode_address
from spv.block import Block
from spv.bytes_io import ByteReader
from spv.errors import ParseError
from spv.hashes import hash_to_display
from spv.header import HEADER_SIZE, BlockHeader
from spv.node import NoPeersError, SpvNode
from spv.peer import PeerError
from spv.script import classify, split_vote
from spv.subsidy import block_subsidy, miner_share, network_steward_share, total_money
from spv.tasks import within
from spv.tx import Transaction
from spv.uri import parse_payment_uri

from .common import (
    CLIError,
    Context,
    ProgressPrinter,
    coins_text,
    describe_os_error,
    parse_peer,
    seconds,
)

MAX_BLOCK_HEIGHT = 2**31 - 1
"""Block heights are signed 32-bit numbers on the wire (the coinbase height, getheaders)."""


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:
    p = sub.add_parser("network-info", help="show the parameters of the selected network")
    p.set_defaults(handler=cmd_network_info)

    p = sub.add_parser("subsidy", help="block subsidy and Network Steward share at a height")
    p.add_argument("height", type=int)
    p.set_defaults(handler=cmd_subsidy)

    p = sub.add_parser("decode-address", help="check an address and show its script")
    p.add_argument("address")
    p.set_defaults(handler=cmd_decode_address)

    p = sub.add_parser("parse-uri", help="check a pkt: payment URI")
    p.add_argument("uri")
    p.set_defaults(handler=cmd_parse_uri)

    p = sub.add_parser("decode-tx", help="decode a raw transaction (hex, or - for stdin)")
    p.add_argument("hex")
    p.set_defaults(handler=cmd_decode_tx)

    p = sub.add_parser(
        "decode-block",
        help="decode a raw block or 80-byte header (hex, @FILE for raw bytes, - for stdin hex)",
    )
    p.add_argument("data")
    p.set_defaults(handler=cmd_decode_block)

    p = sub.add_parser("sync", help="sync headers and compact filters with the network")
    p.add_argument(
        "--peer",
        dest="sync_peers",
        action="append",
        type=parse_peer,
        default=[],
        metavar="HOST:PORT",
        help="connect to this peer (repeatable)",
    )
    p.add_argument(
        "--until-synced",
        action="store_true",
        help="exit once caught up with the best peer (otherwise keep following)",
    )
    p.add_argument("--timeout", type=seconds, default=None, help="give up after this many seconds")
    p.add_argument("--no-dns", action="store_true", help="do not ask the DNS seeds for peers")
    p.add_argument(
        "--no-proof-checks",
        action="store_true",
        help="skip PacketCrypt proof spot checks of new blocks (not recommended)",
    )
    p.set_defaults(handler=cmd_sync)

    p = sub.add_parser("chain-info", help="height, tip, filter height and peers of the local chain")
    p.add_argument("--connect", action="store_true", help="also connect and list live peers")
    p.set_defaults(handler=cmd_chain_info)


def _coins(ctx: Context, units: int) -> str:
    return coins_text(ctx.params, units)


def _read_hex_arg(text: str) -> bytes:
    if text.startswith("@"):
        try:
            with open(text[1:], "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise CLIError(f"cannot read it: {describe_os_error(exc)}") from None
    if text == "-":
        text = sys.stdin.read()
    cleaned = "".join(text.split())
    try:
        return bytes.fromhex(cleaned)
    except ValueError:
        raise CLIError("input is not hexadecimal") from None


def cmd_network_info(ctx: Context) -> int:
    p = ctx.params
    last = p.last_checkpoint
    data: dict[str, Any] = {
        "network": p.name,
        "magic": p.magic.hex(),
        "default_port": p.default_port,
        "dns_seeds": list(p.dns_seeds),
        "genesis_hash": hash_to_display(p.genesis_hash),
        "packetcrypt": p.has_packetcrypt,
        "bech32_hrp": p.bech32_hrp,
        "p2pkh_version": p.p2pkh_version,
        "p2sh_version": p.p2sh_version,
        "units_per_coin": p.units_per_coin,
        "checkpoints": len(p.checkpoints),
        "last_checkpoint_height": last.height if last else None,
        "datadir": str(ctx.datadir),
    }
    ctx.emit(
        data,
        [
            f"network          {p.name}",
            f"magic            {p.magic.hex()}",
            f"default port     {p.default_port}",
            f"DNS seeds        {', '.join(p.dns_seeds) or '-'}",
            f"genesis          {data['genesis_hash']}",
            f"proof of work    {'PacketCrypt' if p.has_packetcrypt else 'sha256d'}",
            f"address prefix   bech32 {p.bech32_hrp}, p2pkh {p.p2pkh_version:#04x}, p2sh {p.p2sh_version:#04x}",
            f"1 {p.coin_symbol}            {p.units_per_coin} units",
            f"checkpoints      {len(p.checkpoints)}"
            + (f" (last at {last.height})" if last else ""),
            f"data directory   {ctx.datadir}",
        ],
    )
    return 0


def cmd_subsidy(ctx: Context) -> int:
    h = ctx.args.height
    if h < 0:
        raise CLIError("height cannot be negative")
    if h > MAX_BLOCK_HEIGHT:
        raise CLIError(f"height {h} is beyond the largest block height ({MAX_BLOCK_HEIGHT:,})")
    p = ctx.params
    data = {
        "height": h,
        "subsidy": block_subsidy(h, p),
        "network_steward": network_steward_share(h, p),
        "miner": miner_share(h, p),
        "total_money": total_money(h, p),
    }
    ctx.emit(
        data,
        [
            f"height            {h}",
            f"subsidy           {_coins(ctx, data['subsidy'])}",
            f"network steward   {_coins(ctx, data['network_steward'])}",
            f"miner             {_coins(ctx, data['miner'])}",
            f"issued before it  {_coins(ctx, data['total_money'])}",
        ],
    )
    return 0


def cmd_decode_address(ctx: Context) -> int:
    addr = decode_address(ctx.args.address, ctx.params)
    script = addr.to_script()
    data = {
        "address": addr.encode(ctx.params),
        "type": addr.kind,
        "network": ctx.params.name,
        "script": script.hex(),
        "witness_version": addr.witness_version,
    }
    ctx.emit(
        data,
        [f"address  {data['address']}", f"type     {addr.kind}", f"script   {script.hex()}"],
    )
    return 0


def cmd_parse_uri(ctx: Context) -> int:
    uri = parse_payment_uri(ctx.args.uri, ctx.params)
    data: dict[str, Any] = {
        "address": uri.address,
        "amount_units": uri.amount_units,
        "label": uri.label,
        "message": uri.message,
        "extra": uri.extra,
    }
    lines = [f"address  {uri.address}"]
    if uri.amount_units is not None:
        lines.append(f"amount   {_coins(ctx, uri.amount_units)}")
    if uri.label:
        lines.append(f"label    {uri.label}")
    if uri.message:
        lines.append(f"message  {uri.message}")
    ctx.emit(data, lines)
    return 0


def _describe_output(ctx: Context, index: int, value: int, script: bytes) -> dict[str, Any]:
    vote = split_vote(script)
    base = vote.base_script if vote else script
    out: dict[str, Any] = {
        "n": index,
        "value": value,
        "script": script.hex(),
        "type": classify(script).value,
        "address": address_from_script(base, ctx.params),
    }
    if vote:
        out["vote_for"] = vote.vote_for.hex() if vote.vote_for else None
        out["vote_against"] = vote.vote_against.hex() if vote.vote_against else None
    return out


def _tx_summary(ctx: Context, tx: Transaction) -> dict[str, Any]:
    return {
        "txid": tx.txid_hex,
        "wtxid": tx.wtxid_hex,
        "version": tx.version,
        "locktime": tx.locktime,
        "size": tx.size,
        "vsize": tx.vsize,
        "weight": tx.weight,
        "coinbase": tx.is_coinbase(),
        "inputs": [
            {
                "prevout": str(i.prevout),
                "script_sig": i.script_sig.hex(),
                "sequence": i.sequence,
                "witness": [w.hex() for w in i.witness],
            }
            for i in tx.inputs
        ],
        "outputs": [_describe_output(ctx, n, o.value, o.script) for n, o in enumerate(tx.outputs)],
    }


def _tx_lines(ctx: Context, tx: Transaction, summary: dict[str, Any]) -> list[str]:
    lines = [
        f"txid     {tx.txid_hex}",
        f"size     {tx.size} bytes, {tx.vsize} vbytes",
        f"inputs   {len(tx.inputs)}" + (" (coinbase)" if tx.is_coinbase() else ""),
    ]
    for out in summary["outputs"]:
        dest = out["address"] or out["type"]
        vote = ""
        if "vote_for" in out:
            vote = " + Network Steward vote"
        lines.append(f"  out {out['n']}: {_coins(ctx, out['value'])} to {dest}{vote}")
    return lines


def cmd_decode_tx(ctx: Context) -> int:
    try:
        tx = Transaction.parse(_read_hex_arg(ctx.args.hex))
    except ParseError as exc:
        raise CLIError(f"not a valid transaction: {exc}") from None
    summary = _tx_summary(ctx, tx)
    ctx.emit(summary, _tx_lines(ctx, tx, summary))
    return 0


def cmd_decode_block(ctx: Context) -> int:
    raw = _read_hex_arg(ctx.args.data)
    if len(raw) == HEADER_SIZE:
        header = BlockHeader.read(ByteReader(raw))
        data = _header_dict(header)
        ctx.emit(data, [f"{k:<12} {v}" for k, v in data.items()])
        return 0
    try:
        block = Block.parse(raw, ctx.params.has_packetcrypt)
    except ParseError as exc:
        raise CLIError(f"not a valid block: {exc}") from None
    merkle_ok = block.computed_merkle_root() == block.header.merkle_root
    data = _header_dict(block.header)
    data["merkle_root_valid"] = merkle_ok
    data["transactions"] = [_tx_summary(ctx, tx) for tx in block.transactions]
    lines = [f"{k:<12} {v}" for k, v in _header_dict(block.header).items()]
    lines.append(f"merkle root  {'matches' if merkle_ok else 'DOES NOT MATCH'} the transactions")
    if block.proof is not None:
        proof = block.proof
        data["packetcrypt_proof"] = {
            "records": [{"type": r.type, "length": len(r.value)} for r in proof.records],
            "version": proof.version,
            "nonce2": proof.nonce2,
        }
        records = ", ".join(f"type {r.type} ({len(r.value)} bytes)" for r in proof.records)
        lines.append(f"PacketCrypt  version {proof.version}, records: {records}")
    lines.append(f"transactions {len(block.transactions)}")
    ctx.emit(data, lines)
    return 0


def _header_dict(h: BlockHeader) -> dict[str, Any]:
    return {
        "hash": h.hash_hex,
        "version": h.version,
        "prev_hash": hash_to_display(h.prev_hash),
        "merkle_root": hash_to_display(h.merkle_root),
        "time": h.timestamp,
        "bits": f"{h.bits:08x}",
        "nonce": h.nonce,
    }


def _node(
    ctx: Context,
    extra_peers: list[Any],
    use_dns: bool,
    printer: ProgressPrinter | None,
    proof_checks: bool = True,
) -> SpvNode:
    peers = [(p.host, p.port) for p in [*ctx.peers, *extra_peers]]
    return SpvNode(
        ctx.params,
        ctx.datadir,
        peers=peers,
        use_dns_seeds=use_dns,
        on_progress=printer,
        verify_packetcrypt_proofs=proof_checks,
    )


def cmd_sync(ctx: Context) -> int:
    printer = ProgressPrinter(enabled=not ctx.json_output)
    node = _node(
        ctx,
        ctx.args.sync_peers,
        not ctx.args.no_dns,
        printer,
        proof_checks=not ctx.args.no_proof_checks,
    )
    if not node.manual_peers and not node.use_dns_seeds:
        raise CLIError("no peers: give --peer HOST:PORT or allow DNS seeds")

    async def run() -> None:
        async with node:
            if ctx.args.until_synced:
                await node.sync(timeout=ctx.args.timeout)
            else:
                await within(node.run(), ctx.args.timeout)

    try:
        asyncio.run(run())
    except (NoPeersError, PeerError) as exc:
        raise CLIError(str(exc)) from None
    except TimeoutError:
        raise CLIError(f"sync did not finish within {ctx.args.timeout:g} s") from None
    finally:
        printer.done()
    info = node.chain_info()
    ctx.emit(info, [f"synced to height {info['height']}", f"tip {info['tip']}"])
    return 0


def cmd_chain_info(ctx: Context) -> int:
    node = _node(ctx, [], use_dns=False, printer=None)
    if ctx.args.connect:

        async def connect() -> None:
            async with node:
                await node.wait_for_peers(1, timeout=10)
                await asyncio.sleep(0.5)
                info.update(node.chain_info())

        info: dict[str, Any] = {}
        try:
            asyncio.run(connect())
        except NoPeersError as exc:
            raise CLIError(str(exc)) from None
    info = node.chain_info() | ({} if not ctx.args.connect else {"peers": info.get("peers", [])})
    peers = info["peers"]
    ctx.emit(
        info,
        [
            f"network              {info['network']}",
            f"height               {info['height']}",
            f"tip                  {info['tip']}",
            f"filter header height {info['filter_header_height']}",
            f"filter scan height   {info['filter_height']}",
            f"peers                {len(peers) if isinstance(peers, list) else 0}",
        ],
    )
    return 0
