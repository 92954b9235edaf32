"""Layering rules from docs/ARCHITECTURE.md, checked on the source tree."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT_DIRS = ("app", "spv", "miner", "bench", "packaging")

# package -> top-level project packages it must never import
FORBIDDEN = {
    "spv": {"app"},
    "miner": {"app", "spv"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def _python_files(*dirs: str) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        files.extend(p for p in (ROOT / d).rglob("*.py") if ".venv" not in p.parts)
    return files


def test_only_app_gui_imports_pyside6() -> None:
    gui = ROOT / "app" / "gui"
    offenders = [
        str(p.relative_to(ROOT))
        for p in _python_files(*PRODUCT_DIRS)
        if gui not in p.parents and any(n.split(".")[0] == "PySide6" for n in _imports(p))
    ]
    assert offenders == [], f"PySide6 imported outside app/gui: {offenders}"


def test_library_layers_do_not_import_upwards() -> None:
    offenders = []
    for package, forbidden in FORBIDDEN.items():
        for p in _python_files(package):
            bad = {n.split(".")[0] for n in _imports(p)} & forbidden
            if bad:
                offenders.append(f"{p.relative_to(ROOT)} imports {sorted(bad)}")
    assert offenders == []


def test_the_rule_detects_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtWidgets import QApplication\nimport os\n")
    assert "PySide6.QtWidgets" in _imports(bad)
