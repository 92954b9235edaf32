"""Items and tables (spec section 6.1): generated_reference_vectors.json -> mkitem."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from miner.reference import items

from .conftest import load_json

MKITEM = load_json("generated_reference_vectors.json")["mkitem"]


def _b512(data: bytes) -> str:
    return hashlib.blake2b(data).hexdigest()


@pytest.fixture(scope="module")
def context() -> items.ProgramContext:
    return items.make_context(bytes.fromhex(MKITEM["prog_seed"]))


def test_program_context(context: items.ProgramContext) -> None:
    assert MKITEM["createProg_result"] == 0
    assert len(context.program) == MKITEM["progLen"]
    assert _b512(context.memory_bytes()) == MKITEM["progbuf_8192_blake2b512"]
    assert context.memory[: len(context.program)] == context.program


@pytest.mark.parametrize("vector", MKITEM["items"], ids=lambda v: str(v["num"]))
def test_item_trace(context: items.ProgramContext, vector: dict[str, Any]) -> None:
    assert vector["interpret_result"] == 0 and vector["mkitem2_result"] == 0
    trace = items.make_item_traced(context, vector["num"], bytes.fromhex(MKITEM["item_seed"]))
    assert _b512(trace.state_after_init) == vector["state_after_init_blake2b512"]
    assert _b512(trace.state_after_randhash) == vector["state_after_randhash_blake2b512"]
    assert trace.randhash.op_counts[-1] == vector["opCtr_last_cycle"]
    assert trace.item.hex() == vector["item"]
    assert items.make_item(context, vector["num"], bytes.fromhex(MKITEM["item_seed"])) == trace.item


def test_memory_window(context: items.ProgramContext) -> None:
    assert context.window(0) == context.memory[0:256]
    assert context.window(1792) == context.memory[0:256]
    assert context.window(1791) == context.memory[1791:2047]
    assert len(context.window(8191)) == 256


def test_lazy_table_computes_on_demand() -> None:
    table = items.ItemTable(bytes.fromhex(MKITEM["prog_seed"]), bytes.fromhex(MKITEM["item_seed"]))
    assert table.computed == 0 and len(table) == 8192
    assert table[4095].hex() == MKITEM["items"][3]["item"]
    assert table[4095] is table[4095]
    assert table.computed == 1
    with pytest.raises(IndexError):
        table[8192]
