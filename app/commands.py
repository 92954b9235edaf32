"""CLI subcommands. Each one is a function `(Context) -> exit status`."""

import argparse
import sys
from typing import Any

from spv.address import address_from_script, decode_address
from spv.block import Block
from spv.bytes_io import ByteReader
from spv.hashes import hash_to_display
from spv.header import HEADER_SIZE, BlockHeader
from spv.script import classify, split_vote
from spv.subsidy import block_subsidy, miner_share, network_steward_share, total_money
from spv.tx import Transaction
from spv.units import format_amount
from spv.uri import parse_payment_uri

from . import (
    chain_commands,
    miner_commands,
    mining_commands,
    steward_commands,
    vpn_commands,
    wallet_commands,
)
from .cli import CLIError, Context


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

    chain_commands.register(sub)
    mining_commands.register(sub)
    vpn_commands.register(sub)
    miner_commands.register(sub)
    steward_commands.register(sub)
    wallet_commands.register(sub)


def _coins(ctx: Context, units: int) -> str:
    return f"{format_amount(units, ctx.params.units_per_coin)} {ctx.params.coin_symbol}"


def _read_hex_arg(text: str) -> bytes:
    if text.startswith("@"):
        try:
            with open(text[1:], "rb") as fh:
                return fh.read()
        except OSError as exc:
            raise CLIError(f"cannot read {text[1:]}: {exc.strerror}") from None
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
    tx = Transaction.parse(_read_hex_arg(ctx.args.hex))
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
    block = Block.parse(raw, ctx.params.has_packetcrypt)
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
