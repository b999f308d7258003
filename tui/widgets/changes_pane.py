"""The night's changes, newest first: time, unit, party, ±votes; corrections marked ▼.

One ``Label`` per line, new lines mounted at the top: an insert does not rewrite the lines
already shown. Focus it (Tab) to scroll back through the night.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Label

from nightdesk.changelog import Change
from tui.formatting import DOWN, UP, clock, signed

CAP = 500


def describe(change: Change, zone: tzinfo, unit_name: str) -> Text:
    """One change on one line (the province screen lists them like this)."""
    return describe_unit([change], zone, unit_name)


def describe_unit(changes: list[Change], zone: tzinfo, unit_name: str, most: int = 3) -> Text:
    """One poll's changes to one unit on one line: the biggest few, then how many more."""
    first = changes[0]
    correction = any(c.correction for c in changes)
    style = "bold red" if correction else ""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(first.at, zone, seconds=True) + " ")
    text.append(f"{DOWN if correction else UP} ", style=style)
    text.append(unit_name)
    ordered = sorted(changes, key=lambda c: (not c.correction, -abs(c.change or 0)))
    for c in ordered[:most]:
        text.append(" ")
        text.append(c.item, style="bold")
        text.append(" ")
        if c.is_votes:
            text.append(signed(c.change) or "±0", style="bold red" if c.correction else "")
        else:
            text.append(f"{c.before} → {c.after}", style="bold red" if c.correction else "")
    if len(ordered) > most:
        text.append(f" +{len(ordered) - most} more", style="dim")
    if correction:
        text.append(" correction", style=style)
    return text


class ChangesPane(VerticalScroll):
    """A capped list, newest at the top."""

    DEFAULT_CSS = """
    ChangesPane { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    ChangesPane > Label { width: 100%; height: 1; }
    ChangesPane:focus { background: $boost; }
    """

    def __init__(self, *, zone: tzinfo, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone

    def add(self, changes: Iterable[Change], names: dict[str, str]) -> None:
        # One line per unit and poll; every correction on a line of its own.
        groups: dict[tuple[str, bool], list[Change]] = {}
        for c in changes:
            groups.setdefault((c.unit, c.correction), []).append(c)
        labels = [
            Label(describe_unit(group, self.zone, names.get(unit, unit)))
            for (unit, _), group in groups.items()
        ]
        if not labels:
            return
        if self.children:
            self.mount_all(labels, before=0)
        else:
            self.mount_all(labels)
        excess = list(self.children)[CAP:]
        if excess:
            self.remove_children(excess)

    @property
    def lines_text(self) -> list[str]:
        return [str(label.render()) for label in self.children]
