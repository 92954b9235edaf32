"""Decide which peer lied about a compact filter, from the block itself.

A light client cannot rebuild a basic filter exactly (it lacks the scripts of the spent
outputs), but it knows every output script, and it can derive the spent script of the common
input kinds from the input itself (P2WPKH from its witness, P2PKH from its signature script).
A filter that misses a known element is certainly false. When every input is derivable the
exact filter is known and anything else is false.
"""

from dataclasses import dataclass

from .bip158 import CompactFilter, basic_filter_elements, build_filter
from .block import Block
from .hashes import hash160
from .script import ScriptError, iter_ops, p2pkh_script, p2wpkh_script


@dataclass(frozen=True)
class KnownElements:
    elements: frozenset[bytes]
    exact: bool  # True when these are all the filter's elements


def _is_pubkey(data: bytes) -> bool:
    return (len(data) == 33 and data[0] in (2, 3)) or (len(data) == 65 and data[0] == 4)


def _is_signature(data: bytes) -> bool:
    return 9 <= len(data) <= 73 and data[0] == 0x30


def derive_spent_script(script_sig: bytes, witness: tuple[bytes, ...]) -> bytes | None:
    """The previous output script of an input, where its form gives it away unambiguously."""
    if (
        not script_sig
        and len(witness) == 2
        and _is_signature(witness[0])
        and len(witness[1]) == 33
        and witness[1][0] in (2, 3)
    ):
        return p2wpkh_script(hash160(witness[1]))
    if script_sig and not witness:
        try:
            ops = list(iter_ops(script_sig))
        except ScriptError:
            return None
        sig, pub = (ops[0].data, ops[1].data) if len(ops) == 2 else (None, None)
        if sig is not None and pub is not None and _is_signature(sig) and _is_pubkey(pub):
            return p2pkh_script(hash160(pub))
    return None


def known_elements(block: Block) -> KnownElements:
    derived: list[bytes] = []
    exact = True
    for tx in block.transactions:
        if tx.is_coinbase():
            continue
        for txin in tx.inputs:
            script = derive_spent_script(txin.script_sig, txin.witness)
            if script is None:
                exact = False
            else:
                derived.append(script)
    return KnownElements(frozenset(basic_filter_elements(block, derived)), exact)


def filter_is_consistent(filter_bytes: bytes, block: Block, known: KnownElements) -> bool:
    """False when `filter_bytes` cannot be the block's true basic filter."""
    if known.exact:
        return filter_bytes == build_filter(block.hash, known.elements)
    try:
        parsed = CompactFilter.parse(filter_bytes)
    except ValueError:
        return False
    if parsed.n < len(known.elements):
        return False
    return all(parsed.match_any(block.hash, [e]) for e in known.elements)
