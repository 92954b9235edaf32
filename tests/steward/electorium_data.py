"""The synthetic Tennessee address list (tests/data/electorium/PROVENANCE.md) and its rules."""

from __future__ import annotations

import hashlib
import json

from app.steward.electorium.service import address_text
from app.steward.electorium.vote_list import AddressRecord, scan_key
from spv.address import Address
from spv.params import MAINNET

UNIT = MAINNET.units_per_coin
SAMPLE_AS_OF_BLOCK = 2338559

# name, own balance in PKT, candidate, votes for (None: nobody)
TENNESSEE = [
    ("Memphis", 1, True, "Nashville"),
    ("Nashville", 1, True, "Chattanooga"),
    ("Knoxville", 1, True, "Chattanooga"),
    ("Chattanooga", 1, True, "Knoxville"),
    ("voters for Memphis", 42000, False, "Memphis"),
    ("voters for Nashville", 26000, False, "Nashville"),
    ("voters for Knoxville", 15000, False, "Knoxville"),
    ("voters for Chattanooga", 17000, False, "Chattanooga"),
    ("bystander", 5000, False, None),
    ("stray", 100, False, "absent"),  # votes for an address that is not in the list
]


def named_address(name: str) -> Address:
    return Address("p2wpkh", hashlib.blake2b(name.encode(), digest_size=20).digest(), 0, "mainnet")


def named_script(name: str) -> bytes:
    return named_address(name).to_script()


def node_text(script: bytes) -> str:
    return address_text(script, MAINNET)


def tennessee_records() -> list[AddressRecord]:
    return [
        AddressRecord(named_script(n), pkt * UNIT, cand, named_script(vf) if vf else b"")
        for n, pkt, cand, vf in TENNESSEE
    ]


def info(record: AddressRecord) -> dict[str, object]:
    return {
        "address": node_text(record.script),
        "balance": record.balance / UNIT,
        "sbalance": str(record.balance),
        "is_candidate": record.is_candidate,
        "vote_for": node_text(record.vote_for),
    }


def sample_file_text() -> str:
    """Two listaddresses pages, written one after another, as the sample file holds them."""
    items = [info(r) for r in sorted(tennessee_records(), key=lambda r: scan_key(r.script))]
    pages = [
        {"addresses": items[:5], "as_of_block": SAMPLE_AS_OF_BLOCK, "has_more": True},
        {"addresses": items[5:], "as_of_block": SAMPLE_AS_OF_BLOCK, "has_more": False},
    ]
    return "".join(json.dumps(p, indent=1) + "\n" for p in pages)
