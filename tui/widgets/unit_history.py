"""One unit through the night, read from the history store: a sparkline per party of its votes
across the snapshots where the unit changed, and a row per stored change, newest first (as the
province screen lists its changes).

The store is read in a thread worker (a unit's changes are a query over the whole night); the
rows are built there too, so the event loop only hands them to the table. ``refresh_history``
reads again: the table then changes only the rows that are new (``sync_table``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

import pandas as pd
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import Worker, WorkerState

from nightdesk.changelog import WITHDRAWN
from nightdesk.store import change_records
from tui.formatting import DOWN, UP, clock, count, net_change, percent
from tui.table_sync import sync_table
from tui.widgets.plain import printable

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore

#: Rows in the table: the newest changes. A DataTable of thousands of rows takes a second to
#: fill; the line above the table says how many older ones are left out.
SHOWN = 500
BLOCKS = "▁▂▃▄▅▆▇█"
#: Party names in the trend are cut to this many cells.
LABEL_WIDTH = 18
VALUE_WIDTH = 11

FIGURES = {
    "seats": "seats",
    "registered": "registered voters",
    "ballots_cast": "ballots cast",
    "valid": "valid votes",
    "blank": "blank votes",
    "invalid": "invalid votes",
    "reporting": "reporting",
}

COLUMNS = [
    ("snapshot", Text("#", justify="left")),
    ("time", Text("Time", justify="left")),
    ("item", Text("Party / figure", justify="left")),
    ("before", Text("Before", justify="right")),
    ("after", Text("After", justify="right")),
    ("change", Text("Change", justify="right")),
    ("flag", Text("", justify="left")),
]


def sparkline(values: Sequence[int | None], width: int) -> str:
    """``values`` as block characters, scaled from their own lowest to their highest (a flat
    line is all ▁); a value not reported is a blank. Longer than ``width``: the last value of
    each of ``width`` equal stretches (counts grow, so the last is the one that stood)."""
    if width <= 0 or not values:
        return ""
    if len(values) > width:
        n = len(values)
        values = [values[(i + 1) * n // width - 1] for i in range(width)]
    present = [v for v in values if v is not None]
    if not present:
        return " " * len(values)
    lo, hi = min(present), max(present)
    top = len(BLOCKS) - 1
    return "".join(
        " " if v is None else BLOCKS[(v - lo) * top // (hi - lo) if hi > lo else 0] for v in values
    )


@dataclass(frozen=True)
class Trend:
    """One party's votes in this unit, one value a stored snapshot where the unit changed."""

    label: str
    values: list[int | None]

    @property
    def latest(self) -> int | None:
        return next((v for v in reversed(self.values) if v is not None), None)


class PartyTrend(Widget):
    """A line per party: name, sparkline (as wide as the widget allows), latest votes."""

    DEFAULT_CSS = "PartyTrend { height: auto; }"

    def __init__(self) -> None:
        super().__init__()
        self.trends: list[Trend] = []

    def show(self, trends: list[Trend]) -> None:
        self.trends = trends
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.trends)

    def render(self) -> Text:
        return trend_text(self.trends, self.content_size.width)


def trend_text(trends: Sequence[Trend], width: int) -> Text:
    label_width = min(LABEL_WIDTH, max((len(t.label) for t in trends), default=0))
    points = max((len(t.values) for t in trends), default=0)
    spark_width = max(0, min(points, width - label_width - VALUE_WIDTH - 2))
    text = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, trend in enumerate(trends):
        if i:
            text.append("\n")
        label = trend.label
        if len(label) > label_width:
            label = label[: label_width - 1] + "…"
        text.append(label.ljust(label_width) + " ")
        text.append(sparkline(trend.values, spark_width).ljust(spark_width) + " ")
        text.append(count(trend.latest).rjust(VALUE_WIDTH))
    return text


@dataclass(frozen=True)
class _Read:
    rows: list[tuple[str, list[Text]]]
    total: int
    first_at: datetime | None
    trends: list[Trend] = field(default_factory=list)


def _value(value: Any, figure: str) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "—"
    return percent(float(value), 1) if figure == "reporting" else count(value)


def _change(value: Any, figure: str, correction: bool) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "!" if correction else ""
    if figure == "reporting":
        return f"{DOWN if value < 0 else UP} {value * 100:+.1f} pts"
    return net_change(value, correction)


def change_rows(
    frame: pd.DataFrame, zone: tzinfo, party_labels: Mapping[str, str], shown: int = SHOWN
) -> list[tuple[str, list[Text]]]:
    """The newest ``shown`` rows of ``store.changes(…, unit=…)``, newest first, keyed."""
    frame = frame.tail(shown)
    rows: list[tuple[str, list[Text]]] = []
    for sid, at, _, _, kind, item, before, after, change, correction in change_records(frame):
        item = "" if item is None else str(item)
        correction = bool(correction)
        figure = item if kind == "figure" else ""
        if kind == "vote":
            label = Text(printable(party_labels.get(item, item)))
        elif kind == "figure":
            label = Text(FIGURES.get(item, printable(item)), style="italic")
        else:
            label = Text(WITHDRAWN, style="italic")
        flag = "bold red" if correction else ""
        rows.append(
            (
                f"{sid}:{kind}:{item}",
                [
                    Text(f"#{sid}"),
                    Text(clock(at, zone, seconds=True)),
                    label,
                    Text(_value(before, figure), justify="right"),
                    Text(_value(after, figure), justify="right"),
                    Text(_change(change, figure, correction), justify="right", style=flag),
                    Text(f"{DOWN} correction" if correction else "", style=flag),
                ],
            )
        )
    rows.reverse()
    return rows


def trends(series: pd.DataFrame, party_labels: Mapping[str, str]) -> list[Trend]:
    """A Trend per party of ``store.unit_series``, most votes (latest) first."""
    found = [
        Trend(
            printable(party_labels.get(str(party), str(party))),
            [None if v is pd.NA or v is None else int(v) for v in series[party].tolist()],
        )
        for party in series.columns
        if party != "fetched_at"
    ]
    return sorted(found, key=lambda t: -(t.latest if t.latest is not None else -1))


class UnitHistory(Vertical):
    """One unit's stored history: trend per party, then every change, newest first."""

    DEFAULT_CSS = """
    UnitHistory { height: 1fr; }
    UnitHistory > .unit-history--info {
        height: 1; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis;
    }
    UnitHistory > PartyTrend { margin-bottom: 1; }
    UnitHistory > DataTable { height: 1fr; }
    """

    def __init__(
        self,
        store: HistoryStore,
        source: str,
        race: str,
        unit: str,
        zone: tzinfo,
        party_labels: Mapping[str, str],
        *,
        shown: int = SHOWN,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.store = store
        self.source = source
        self.race = race
        self.unit = unit
        self.zone = zone
        #: Party id → name as shown; may be replaced before ``refresh_history``.
        self.party_labels: Mapping[str, str] = party_labels
        self.shown = shown
        #: Reads finished and shown (tests wait for it to grow).
        self.loads = 0
        self._started = False

    def compose(self) -> ComposeResult:
        yield Static(Text("Reading this unit's history…"), classes="unit-history--info")
        yield PartyTrend()
        yield DataTable(cursor_type="none", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one(DataTable).display = False
        self._started = True
        self._load()

    def refresh_history(self) -> None:
        """Read the unit's history again, in a thread (call after a new snapshot of it).
        Before the widget is mounted this does nothing: mounting reads it."""
        if self._started:
            self._load()

    def _load(self) -> None:
        self.run_worker(
            self._read, thread=True, group="unit-history", exclusive=True, exit_on_error=False
        )

    def _read(self) -> _Read:
        labels = dict(self.party_labels)
        frame = self.store.changes(self.source, self.race, unit=self.unit)
        series = self.store.unit_series(self.source, self.race, self.unit)
        first_at = series["fetched_at"].iloc[0] if len(series) else None
        return _Read(
            rows=change_rows(frame, self.zone, labels, self.shown),
            total=len(frame),
            first_at=first_at,
            trends=trends(series, labels),
        )

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "unit-history" or event.worker.node is not self:
            return
        event.stop()
        info = self.query_one(".unit-history--info", Static)
        if event.state == WorkerState.ERROR:
            info.update(Text(f"Could not read this unit's history: {event.worker.error}"))
            self.loads += 1
        elif event.state == WorkerState.SUCCESS:
            read = event.worker.result
            assert isinstance(read, _Read)
            self._show(read)

    def _show(self, read: _Read) -> None:
        self.query_one(".unit-history--info", Static).update(self._info(read))
        self.query_one(PartyTrend).show(read.trends)
        table = self.query_one(DataTable)
        sync_table(table, COLUMNS, read.rows)
        table.display = bool(read.rows)
        self.loads += 1

    def _info(self, read: _Read) -> Text:
        if read.first_at is None:
            return Text("Nothing stored for this unit yet.")
        n = read.total
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append(f"Votes through the night since {clock(read.first_at, self.zone)}")
        text.append(f" · {n:,} stored change{'s' if n != 1 else ''}")
        if n > len(read.rows):
            text.append(f", the newest {len(read.rows):,} below")
        return text
