"""The README's "Keys" table says what the Bindings do: a key bound anywhere in ``tui`` (the
app, every screen, every widget) has a row, and every key in the table is bound.

The Bindings are collected generically, from every class the ``tui`` package defines, so a
new screen's keys are checked without a change here.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.app import App
from textual.binding import Binding
from textual.dom import DOMNode
from textual.keys import _character_to_key

import tui

README = Path(__file__).resolve().parents[1] / "README.md"

#: How the README writes keys that are not a single character.
NAMES = {
    "↑": "up",
    "↓": "down",
    "←": "left",
    "→": "right",
    "esc": "escape",
    "enter": "enter",
    "tab": "tab",
    "pgup": "pageup",
    "pgdn": "pagedown",
    "home": "home",
    "end": "end",
    "space": "space",
}


def tui_classes() -> Iterator[type[DOMNode]]:
    """Every app, screen and widget class defined in the ``tui`` package."""
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        module = importlib.import_module(info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                yield cls


def own_bindings(cls: type[DOMNode]) -> list[Binding]:
    return [b for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding)]


def keys_of(binding: Binding) -> set[str]:
    return {key.strip() for key in binding.key.split(",")}


def bound_keys() -> dict[str, list[str]]:
    """Key → the classes in ``tui`` that bind it."""
    out: dict[str, list[str]] = {}
    for cls in tui_classes():
        for binding in own_bindings(cls):
            for key in keys_of(binding):
                out.setdefault(key, []).append(cls.__name__)
    return out


def textual_keys() -> set[str]:
    """Keys Textual itself binds for these classes (Tab, the command palette, …): the README
    may tell a desk about them too."""
    keys = {App.COMMAND_PALETTE_BINDING}
    for cls in tui_classes():
        for base in cls.__mro__:
            if not base.__module__.startswith("tui"):
                for binding in own_bindings(base):  # type: ignore[arg-type]
                    keys |= keys_of(binding)
    return keys


def key_name(shown: str) -> str:
    """``Esc`` → ``escape``, ``?`` → ``question_mark``, ``Ctrl+P`` → ``ctrl+p``, ``S`` → ``S``."""
    if shown.lower() in NAMES:
        return NAMES[shown.lower()]
    if "+" in shown and len(shown) > 1:
        *mods, last = shown.split("+")
        return "+".join([*(m.lower() for m in mods), key_name(last).lower()])
    if len(shown) == 1:
        return shown if shown.isalnum() else _character_to_key(shown)
    raise ValueError(f"the README names a key nightdesk does not know how to read: {shown!r}")


def readme_rows() -> list[dict[str, str]]:
    """The rows of the table under ``## Keys``, by column title."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Keys\n", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("|")]
    titles = [cell.strip().lower() for cell in lines[0].strip("|").split("|")]
    rows = []
    for line in lines[2:]:  # after the header and the |---| line
        cells = [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]
        rows.append(dict(zip(titles, cells, strict=True)))
    return rows


def readme_keys() -> dict[str, list[str]]:
    """Key → the README's "where" of each row that names it (keys are in backticks)."""
    out: dict[str, list[str]] = {}
    for row in readme_rows():
        for shown in re.findall(r"`([^`]+)`", row["key"]):
            out.setdefault(key_name(shown), []).append(row["where"])
    return out


def test_the_table_has_key_where_and_what_for_every_row() -> None:
    rows = readme_rows()
    assert rows, "README: no Keys table"
    for row in rows:
        assert {"key", "where", "what it does"} <= row.keys(), row
        assert re.findall(r"`([^`]+)`", row["key"]) and row["where"] and row["what it does"], row


def test_every_bound_key_is_in_the_readme() -> None:
    missing = {key: where for key, where in bound_keys().items() if key not in readme_keys()}
    assert not missing, f"keys bound but not in the README's Keys table: {missing}"


def test_every_readme_key_is_bound() -> None:
    bound = bound_keys().keys() | textual_keys()
    extra = {key: where for key, where in readme_keys().items() if key not in bound}
    assert not extra, f"keys in the README's Keys table that no Binding has: {extra}"


@pytest.mark.parametrize("cls", list(tui_classes()), ids=lambda c: c.__name__)
def test_every_binding_has_an_id_a_description_and_a_tooltip(cls: type[DOMNode]) -> None:
    for binding in own_bindings(cls):
        assert binding.id and binding.description and binding.tooltip, (cls.__name__, binding)
