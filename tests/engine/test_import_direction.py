"""The layers point one way: tui → nightdesk ← adapters (design.md)."""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _imports(package: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in (REPO / package).rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(a.name.split(".")[0] for a in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(path.relative_to(REPO))] = names
    return found


def test_engine_imports_neither_adapters_nor_tui() -> None:
    offenders = {f: n & {"adapters", "tui", "textual"} for f, n in _imports("nightdesk").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_adapters_import_only_the_engine() -> None:
    offenders = {f: n & {"tui", "textual"} for f, n in _imports("adapters").items()}
    assert not {f: n for f, n in offenders.items() if n}


def test_engine_finds_formats_through_entry_points() -> None:
    from nightdesk import formats

    assert {"csv", "json"} <= set(formats.available())
    assert formats.load("csv").name == "csv"
