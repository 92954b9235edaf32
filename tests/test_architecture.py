"""The layer contracts of pyproject.toml ([tool.importlinter]), checked by import-linter.

`lint-imports` runs on the real tree (as `make lint` does); then every contract is shown to
break when one forbidden import is added to the real import graph, so a contract that could
never fail would be caught here. Modules of `spv` and `miner` are picked from the graph, not
named, so these tests do not depend on those packages' inner layout.
"""

import ast
import subprocess
import sys
from copy import deepcopy
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.contracts.acyclic_siblings import AcyclicSiblingsContract
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.layers import LayersContract
from importlinter.contracts.protected import ProtectedContract
from importlinter.domain.contract import Contract

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"
SCRIPT_DIRS = ("bench", "packaging")  # scripts outside the packages the graph covers

CONTRACT_TYPES: dict[str, type[Contract]] = {
    "forbidden": ForbiddenContract,
    "protected": ProtectedContract,
    "acyclic_siblings": AcyclicSiblingsContract,
    "layers": LayersContract,
}

Edge = tuple[str, str]


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return read_configuration(str(CONFIG))


@pytest.fixture(scope="module")
def graph(config: dict[str, Any]) -> grimp.ImportGraph:
    options = config["session_options"]
    roots = options["root_packages"]
    return grimp.build_graph(
        *roots, include_external_packages=options["include_external_packages"] in (True, "True")
    )


def _contract(config: dict[str, Any], name: str) -> Contract:
    matches = [c for c in config["contracts_options"] if c["name"] == name]
    assert len(matches) == 1, f"no contract named {name!r} in pyproject.toml"
    options = matches[0]
    return CONTRACT_TYPES[options["type"]](
        name=name, session_options=config["session_options"], contract_options=options
    )


def _kept(
    config: dict[str, Any], graph: grimp.ImportGraph, name: str, added: Edge | None = None
) -> bool:
    g = deepcopy(graph)
    if added is not None:
        importer, imported = added
        assert importer in g.modules and imported in g.modules, added
        g.add_import(
            importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}"
        )
    return bool(_contract(config, name).check(g, verbose=False).kept)


def _any_module(graph: grimp.ImportGraph, package: str) -> str:
    return sorted(graph.find_descendants(package))[0]


def test_lint_imports_keeps_every_contract() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports), "--no-cache", "--no-logo", str(CONFIG)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " broken" in result.stdout and "0 broken" in result.stdout


def test_every_contract_is_kept_by_the_real_graph(
    config: dict[str, Any], graph: grimp.ImportGraph
) -> None:
    names = [c["name"] for c in config["contracts_options"]]
    assert len(names) >= 6
    assert [n for n in names if not _kept(config, graph, n)] == []


@pytest.mark.parametrize(
    ("name", "importer", "imported"),
    [
        ("miner imports nothing of ours", "miner", "spv"),
        ("miner imports nothing of ours", "miner", "app.core"),
        ("spv may import miner only", "spv", "app.settings"),
        ("nothing but app.gui imports PySide6", "app.core", "PySide6"),
        ("nothing but app.gui imports PySide6", "spv", "PySide6"),
        ("nothing but app.gui imports PySide6", "miner", "PySide6"),
        ("no import cycles inside app", "app.cli.common", "app.cli.main"),
        ("no import cycles inside app", "app.vpn.state", "app.vpn.service"),
        ("no import cycles inside app", "app.wallet", "app.mining.earnings"),
        ("app layers: cli, selftest, gui, core, services, wallet", "app.core", "app.gui"),
        ("app layers: cli, selftest, gui, core, services, wallet", "app.wallet", "app.core"),
        ("app layers: cli, selftest, gui, core, services, wallet", "app.vpn", "app.mining"),
        (
            "app.cli layers: main, command groups, spending, wallet_session, common",
            "app.cli.wallet",
            "app.cli.vpn",
        ),
        (
            "app.cli layers: main, command groups, spending, wallet_session, common",
            "app.cli.common",
            "app.cli.wallet_session",
        ),
    ],
)
def test_a_forbidden_import_breaks_the_contract(
    config: dict[str, Any], graph: grimp.ImportGraph, name: str, importer: str, imported: str
) -> None:
    # a package name stands for one of its modules, picked from the graph
    if importer in ("miner", "spv", "app.wallet", "app.vpn"):
        importer = _any_module(graph, importer)
    if imported in ("spv", "app.mining"):
        imported = _any_module(graph, imported)
    assert _kept(config, graph, name)
    assert not _kept(config, graph, name, (importer, imported))


def test_spv_may_import_miner(config: dict[str, Any], graph: grimp.ImportGraph) -> None:
    edge = (_any_module(graph, "spv"), _any_module(graph, "miner"))
    assert _kept(config, graph, "spv may import miner only", edge)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_scripts_outside_the_packages_do_not_import_pyside6() -> None:
    offenders = [
        str(p.relative_to(ROOT))
        for d in SCRIPT_DIRS
        for p in (ROOT / d).rglob("*.py")
        if any(n.split(".")[0] == "PySide6" for n in _imports(p))
    ]
    assert offenders == [], f"PySide6 imported outside app/gui: {offenders}"


def test_the_script_rule_detects_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QApplication\nimport os\n")
    assert "PySide6.QtWidgets" in _imports(bad)
