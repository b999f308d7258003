"""One unit, in full: what its feed figures fail (checks), every party's votes, share and
change, the seat allocation with its quotient table, how close the last seat is, and the
unit's changes through the night."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import tzinfo

import numpy as np
import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import DataTable, Footer, Label, Static

from nightdesk import hierarchy
from nightdesk.changelog import Change
from nightdesk.results import RaceResult
from nightdesk.seats import DIVISOR_METHODS, divisor_values
from tui.formatting import count, net_change, percent
from tui.layout import NARROW
from tui.table_sync import look, sync_table
from tui.widgets.changes_pane import FLAG, describe
from tui.widgets.plain import printable
from tui.widgets.unit_history import UnitHistory

LAST = "◆"
NEXT = "◇"


def margin_sentence(result: RaceResult, unit: str) -> str:
    """The last seat in words, e.g. "CNRP needs 166 more votes to take the last seat from CPP"."""
    ls = result.allocation.last_seat.get(unit)
    seats = result.seats.get(unit)
    if ls is None:
        if seats is pd.NA or seats is None or not seats:
            return "No seats here: the feed gives this unit none, so only votes are shown."
        return "No seat allocated yet: nothing counted."
    holder, challenger = _label(result, ls.holder), _label(result, ls.challenger)
    if challenger is None or ls.votes_needed is None:
        return f"The last seat goes to {holder}; no other party is in contention."
    lose = (
        f"; {holder} could lose {ls.holder_can_lose:,} votes and keep it"
        if ls.holder_can_lose is not None
        else ""
    )
    which = (
        "the last seat" if seats is pd.NA or seats is None else f"the {ordinal(int(seats))} seat"
    )
    return f"{challenger} needs {ls.votes_needed:,} more votes to take {which} from {holder}{lose}."


def _label(result: RaceResult, party: str | None) -> str | None:
    """A party as people know it (AP and Clarity ids are numbers)."""
    if party is None:
        return None
    try:
        return result.snapshot.party_label(party)
    except KeyError:
        return party


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th … 11th, 12th, 13th … 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


class ProvinceScreen(Screen[None]):
    """Everything about one unit; live while it is open."""

    BINDINGS = [
        Binding(
            "escape",
            "app.pop_screen",
            "Back",
            id="province.back",
            tooltip="Back to the provinces table, cursor where it was",
        ),
    ]

    DEFAULT_CSS = """
    ProvinceScreen { layout: vertical; }
    ProvinceScreen #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    ProvinceScreen #findings { height: auto; padding: 0 1; color: $text-warning; }
    ProvinceScreen #top { height: auto; max-height: 60%; }
    ProvinceScreen #parties { width: auto; height: auto; max-height: 14; margin-right: 2; }
    ProvinceScreen #quotients { width: 1fr; height: auto; max-height: 22; }
    ProvinceScreen.narrow #top { layout: vertical; max-height: 70%; }
    ProvinceScreen.narrow #parties { width: 100%; max-height: 10; margin-right: 0; }
    ProvinceScreen.narrow #quotients { max-height: 8; }
    ProvinceScreen #margin { height: auto; padding: 0 1; }
    ProvinceScreen #vote-types { height: auto; max-height: 11; padding: 0 1; }
    ProvinceScreen #history-title { height: 1; padding: 0 1; text-style: bold; }
    ProvinceScreen #history { height: 1fr; padding: 0 1; }
    ProvinceScreen UnitHistory { height: 1fr; padding: 0 1; }
    """

    def __init__(
        self,
        unit: str,
        result: RaceResult,
        changes: list[Change],
        zone: tzinfo,
        method: str,
        header: Widget,
        history: UnitHistory | None = None,
    ) -> None:
        super().__init__()
        self._header = header
        #: The unit's whole night from the store (when there is one); else the session's log.
        self.history = history
        self._shown_once = False
        self._quotient_rows: list[list[Text]] = []
        self._shown: dict[str, Hashable] = {}
        self.unit = unit
        self.result = result
        self.changes = changes
        self.zone = zone
        self.method = method

    def compose(self) -> ComposeResult:
        yield self._header
        yield Static(id="title")
        yield Static(id="findings")
        with Horizontal(id="top"):
            yield DataTable(id="parties", cursor_type="none", zebra_stripes=True)
            yield DataTable(id="quotients", cursor_type="none")
        yield Static(id="margin")
        yield Static(id="vote-types")
        yield Label("Changes tonight", id="history-title")
        if self.history is not None:
            yield self.history
        else:
            with VerticalScroll(id="history"):
                yield Static(id="history-lines")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.show(self.result, self.changes)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.width < NARROW, "narrow")

    def show(self, result: RaceResult, changes: list[Change]) -> None:
        """Show (or refresh) the unit in place: only changed cells are redrawn, and the tables
        keep where they were scrolled."""
        first = not self._shown_once
        self._shown_once = True
        self._show(result, changes)
        if first:
            # Bring the contested rows into view: the last seat and the next in line.
            rows = [i for i, row in enumerate(self._quotient_rows) if _is_marked(row)]
            if rows:
                qtable = self.query_one("#quotients", DataTable)
                qtable.scroll_to(y=max(0, max(rows) - 4), animate=False, immediate=True)

    def _show(self, result: RaceResult, changes: list[Change]) -> None:
        self.result, self.changes = result, changes
        unit = self.unit
        snap = result.snapshot
        if unit not in snap.votes.index:
            self._update("#title", Text(f"{unit}: no longer in the feed"))
            self._show_findings(Text())
            return
        info = snap.units.loc[unit]
        seats = result.seats.get(unit)
        rep = info["reporting"]
        title = Text(no_wrap=True, overflow="ellipsis")
        above = hierarchy.ancestors(snap, unit)
        if above:  # where the unit is: Georgia › Cobb › Precinct 02
            names = snap.units["name"]
            title.append(" › ".join(str(names.get(u, u)) for u in above) + " › ")
        title.append(str(info["name"]), style="bold")
        if seats is not pd.NA and seats is not None:
            title.append(f" · {int(seats)} seats")
        if rep is not pd.NA:
            title.append(f" · {percent(float(rep))} reporting")
        self._update("#title", title)
        self._show_findings(findings_text(result, unit))

        sync_table(self.query_one("#parties", DataTable), party_columns(), party_rows(result, unit))
        qtable = self.query_one("#quotients", DataTable)
        header, rows = quotient_table(result, unit, self.method)
        self._quotient_rows = rows
        sync_table(
            qtable,
            [
                (f"q:{h}" if i else "divisor", Text(h, justify="right"))
                for i, h in enumerate(header)
            ],
            [(f"d{j}", row) for j, row in enumerate(rows)],
        )
        qtable.display = bool(rows)
        margin = Text(margin_sentence(result, unit))
        if rows:
            margin.append(f"\n{LAST} last seat given   {NEXT} next quotient in line", style="dim")
        self._update("#margin", margin)
        types = vote_types_text(result, unit)
        self._update("#vote-types", types)
        self.query_one("#vote-types", Static).display = bool(types.plain)
        if self.history is not None:
            return  # the history widget reads the store itself (``refresh_history``)
        names = {unit: str(info["name"])}
        lines = Text("\n").join(
            describe(c, self.zone, names.get(c.unit, c.unit)) for c in reversed(changes)
        )
        self._update(
            "#history-lines",
            lines if changes else Text("No changes since nightdesk started watching.", style="dim"),
        )

    def _show_findings(self, text: Text) -> None:
        """The unit's failed feed checks; the line takes no room when there are none."""
        self._update("#findings", text)
        self.query_one("#findings", Static).display = bool(text.plain)

    def _update(self, selector: str, text: Text) -> None:
        """Update a Static only when what it shows changed: an unchanged poll redraws nothing."""
        if self._shown.get(selector) != (seen := look(text)):
            self._shown[selector] = seen
            self.query_one(selector, Static).update(text)


#: Vote-type table: the first column (party) and each type's width.
_TYPE_NAME, _TYPE_WIDTH = 14, 16


def vote_types_text(result: RaceResult, unit: str, limit: int = 8) -> Text:
    """The unit's votes by how they were cast (a row per party, a column per type), when
    the feed splits them; empty otherwise."""
    types = result.snapshot.vote_types
    if not types or unit not in result.snapshot.votes.index:
        return Text()
    names = list(types)
    votes = result.snapshot.votes.loc[unit]
    parties = votes.fillna(0).astype("int64").sort_values(ascending=False, kind="stable").index
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append("By vote type\n", style="bold")
    text.append("".ljust(_TYPE_NAME))
    for name in names:
        label = printable(str(name).replace(" Votes", "").replace("_votes", ""))
        text.append(label[: _TYPE_WIDTH - 1].rjust(_TYPE_WIDTH), style="bold")
    for party in parties[:limit]:
        text.append("\n")
        label = printable(result.snapshot.party_label(str(party)))
        text.append(label[: _TYPE_NAME - 1].ljust(_TYPE_NAME))
        for name in names:
            value = types[name].at[unit, party] if party in types[name].columns else pd.NA
            cell = "—" if value is pd.NA else f"{int(value):,}"
            text.append(cell.rjust(_TYPE_WIDTH))
    if len(parties) > limit:
        text.append(f"\n… and {len(parties) - limit} more", style="dim")
    return text


def findings_text(result: RaceResult, unit: str) -> Text:
    """The unit's active findings in words, one a line: ``⚠ <what>: <the numbers>``."""
    found = result.findings.for_unit(unit)
    return Text("\n").join(
        Text(f"{FLAG} {f.title[:1].upper()}{f.title[1:]}: {f.message}", style="bold") for f in found
    )


def party_columns() -> list[tuple[str, Text]]:
    """The parties table's columns: (key, label)."""
    return [
        ("party", Text("Party", justify="left")),
        ("votes", Text("Votes", justify="right")),
        ("share", Text("Share", justify="right")),
        ("change", Text("Change", justify="right")),
        ("seats", Text("Seats", justify="right")),
        ("next", Text("Next seat", justify="right")),
    ]


def party_rows(result: RaceResult, unit: str) -> list[tuple[str, list[Text]]]:
    """The parties table, keyed by party, most votes first."""
    snap = result.snapshot
    votes = snap.votes.loc[unit]
    total = int(votes.fillna(0).sum())
    cells = result.delta.cells
    mine = cells[cells["unit"] == unit] if result.previous is not None else cells.iloc[0:0]
    change = mine.groupby("party")["change"].sum()
    corr = mine.groupby("party")["correction"].any()
    won = result.allocation.seats.loc[unit]
    nxt = result.allocation.next_seat.loc[unit]
    eligible = result.allocation.eligible.loc[unit]
    rows: list[tuple[str, list[Text]]] = []
    order = np.argsort(-votes.fillna(-1).astype("int64").to_numpy(), kind="stable")
    for i in order:
        p = votes.index[i]
        v = votes[p]
        need = nxt[p]
        need_text = "" if need is pd.NA else f"+{int(need):,}"
        if total and v is not pd.NA and not eligible[p] and int(v) > 0:
            need_text = "below threshold"
        row = [
            Text(str(snap.parties.at[p, "name"])),
            Text(count(None if v is pd.NA else v), justify="right"),
            Text(percent(int(v) / total, 1) if total and v is not pd.NA else "", justify="right"),
            Text(
                net_change(int(change.get(p, 0)), bool(corr.get(p, False))),
                justify="right",
                style="red" if corr.get(p, False) else "",
            ),
            Text(str(int(won[p])), justify="right"),
            Text(need_text, justify="right"),
        ]
        rows.append((str(p), row))
    return rows


def _is_marked(row: list[Text]) -> bool:
    return any(cell.plain.startswith((LAST, NEXT)) for cell in row)


def quotient_table(
    result: RaceResult, unit: str, method: str
) -> tuple[list[str], list[list[Text]]]:
    """The divisor table: a row per divisor, a column per party; seats won in bold, the last
    seat given ◆ and the next quotient in line ◇. Empty for non-divisor methods."""
    seats = result.seats.get(unit)
    if seats is pd.NA or seats is None or not int(seats) or method not in DIVISOR_METHODS:
        return [], []
    k = int(seats) + 1
    votes = result.snapshot.votes.loc[unit].fillna(0).astype("int64")
    won = result.allocation.seats.loc[unit]
    eligible = result.allocation.eligible.loc[unit]
    d = divisor_values(method, k)
    parties = sorted((p for p in votes.index if votes[p] > 0), key=lambda p: -votes[p])
    q = {p: votes[p] / d for p in parties}
    last = min(((q[p][won[p] - 1], p) for p in parties if won[p] > 0), default=None)
    nxt = max(((q[p][won[p]], p) for p in parties if eligible[p] and won[p] < k), default=None)
    header = ["÷", *parties]
    rows = []
    for j in range(k):
        row = [Text(f"{d[j]:g}", style="dim")]
        for p in parties:
            value = f"{q[p][j]:,.0f}"
            if j < won[p]:
                mark = f"{LAST} " if last and last[1] == p and j == won[p] - 1 else ""
                row.append(Text(mark + value, style="bold", justify="right"))
            elif nxt and nxt[1] == p and j == won[p]:
                row.append(Text(f"{NEXT} " + value, style="italic", justify="right"))
            else:
                row.append(Text(value, style="dim", justify="right"))
        rows.append(row)
    return header, rows
