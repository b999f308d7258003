"""``nightdesk snapshot --format table``: the snapshot document, for people."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text


def _num(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def _label(src: Mapping[str, Any], party: str, width: int = 16) -> str:
    """A party's name where the feed gives one (AP and Clarity ids are numbers)."""
    name = str(src["totals"].get(party, {}).get("name") or party).strip()
    return name if len(name) <= width else name[: width - 1] + "…"


def print_tables(document: Mapping[str, Any], out: TextIO) -> None:
    """One table of units and one of totals per source × race. Names are shown literally."""
    console = Console(
        file=out, highlight=False, soft_wrap=False, width=None if out.isatty() else 160
    )
    election = document["election"]
    title = election["name"] + (" — DEMO, simulated" if election.get("simulated") else "")
    console.print(Text(title, style="bold"))
    for src in document["sources"]:
        race = f" / {src['race']['name']}" if src["race"] else ""
        if src["race"] and src["race"].get("test"):
            race += " [TEST DATA]"
        console.print(
            Text(f"\nsource {src['name']}{race} — fetched {src['fetched_at']}", style="bold")
        )
        parties = sorted(src["totals"], key=lambda p: -(src["totals"][p]["votes"] or 0))
        shown = parties[:6]
        table = Table(box=None, pad_edge=False, show_edge=False)
        table.add_column("unit")
        table.add_column("rep.", justify="right")
        for p in shown:
            table.add_column(Text(_label(src, p)), justify="right")
        table.add_column("seats")
        table.add_column("last seat")
        for unit in src["units"]:
            rep = "" if unit["reporting"] is None else f"{unit['reporting']:.0%}"
            won = [f"{p} {n}" for p, n in unit["seats_won"].items() if n]
            seats = " ".join(won) + (f" ?{unit['undecided']}" if unit["undecided"] else "")
            ls = unit["last_seat"]
            margin = f"{ls['challenger']} +{ls['votes_needed']:,}" if ls else ""
            table.add_row(
                Text(unit["name"]),
                rep,
                *[_num(unit["votes"].get(p)) for p in shown],
                Text(seats),
                Text(margin),
            )
        console.print(table)
        totals = Table(box=None, pad_edge=False, show_edge=False)
        for col, just in (
            ("party", "left"),
            ("votes", "right"),
            ("share", "right"),
            ("seats", "right"),
            ("called", "left"),
        ):
            totals.add_column(col, justify=just)  # type: ignore[arg-type]
        for p in parties:
            t = src["totals"][p]
            share = "" if t["share"] is None else f"{t['share']:.2%}"
            called = t.get("called") or ""
            totals.add_row(
                Text(_label(src, p, 40)), _num(t["votes"]), share, str(t["seats"]), called
            )
        console.print(totals)
