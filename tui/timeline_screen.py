"""``t``: every stored snapshot of one source and race, and a way to pick any of them as the
baseline.

Newest at the bottom, the cursor on it: the list reads like the changes pane, top to bottom in
time, ↑ walks back through the night from now, and a snapshot stored while the screen is open
lands in a new row below the last instead of shifting (and resending) every row in view.

A night can hold tens of thousands of snapshots, so the list is a Line-API widget that draws
only the rows in view (a stock ``DataTable`` takes ~0.7 s of event loop to fill 2,000 rows and
~2.7 s for 10,000). The store is read in a thread worker; a loading line shows meanwhile.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.events import Click, Resize
from textual.geometry import Region, Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widgets import Footer, Static
from textual.worker import Worker, WorkerState

from tui.formatting import DOWN, clock, count
from tui.widgets.plain import printable

if TYPE_CHECKING:
    from nightdesk.store import HistoryStore, StoredSnapshot

BASELINE = "◆"
#: Blank cells between two columns.
GAP = 2
#: Cells left of each row (drawn as part of the row: CSS padding costs a segment a row).
MARGIN = 1


def size_text(size: int) -> str:
    """A body size as a desk reads it: 980 B, 12.3 kB, 4.1 MB (decimal units)."""
    if size < 1_000:
        return f"{size} B"
    for unit, scale in (("kB", 1e3), ("MB", 1e6), ("GB", 1e9)):
        if size < scale * 1_000 or unit == "GB":
            return f"{size / scale:.1f} {unit}"
    raise AssertionError("unreachable")


@dataclass(frozen=True)
class Widths:
    """Column widths, measured once over the whole timeline (in the reading thread)."""

    id: int = 4
    source: int = 6
    cells: int = 5
    corrections: int = 5

    @classmethod
    def of(cls, entries: Sequence[StoredSnapshot]) -> Widths:
        if not entries:
            return cls()
        return cls(
            id=max(4, 1 + len(str(max(e.id for e in entries)))),
            source=min(16, max(6, max(len(e.source) for e in entries))),
            cells=max(5, len(count(max(e.cells_changed for e in entries)))),
            corrections=max(5, 2 + len(count(max(e.corrections for e in entries)))),
        )


#: (heading, width or Widths field, right-justified)
COLUMNS: tuple[tuple[str, int | str, bool], ...] = (
    ("", 1, False),
    ("#", "id", False),
    ("Fetched", 8, False),
    ("Feed time", 9, False),
    ("Source", "source", False),
    ("Cells", "cells", True),
    ("Corr.", "corrections", True),
    ("Size", 8, True),
    ("SHA-256", 12, False),
)


def _line(cells: Sequence[Text], widths: Widths) -> Text:
    """Cells laid out in fixed-width columns, one line, styles kept."""
    line = Text(no_wrap=True, overflow="ellipsis", end="")
    for i, (cell, (_, width, right)) in enumerate(zip(cells, COLUMNS, strict=True)):
        size = width if isinstance(width, int) else getattr(widths, width)
        cell = cell.copy()
        cell.truncate(size, overflow="ellipsis")
        pad = " " * (size - cell.cell_len)
        if i:
            line.append(" " * GAP)
        if right:
            line.append(pad)
        line.append_text(cell)
        if not right:
            line.append(pad)
    line.rstrip()
    return line


def heading(widths: Widths) -> Text:
    line = _line([Text(title) for title, _, _ in COLUMNS], widths)
    line.stylize("bold")
    return line


def row_text(entry: StoredSnapshot, widths: Widths, zone: tzinfo, baseline: bool) -> Text:
    """One snapshot on one line. Only the baseline mark and corrections are styled (each style
    change costs a colour sequence); both read without colour too (◆, ▼)."""
    feed = entry.published_at
    corrections = (
        Text(f"{DOWN} {count(entry.corrections)}", style="bold red")
        if entry.corrections
        else Text("")
    )
    cells = [
        Text(BASELINE if baseline else "", style="bold"),
        Text(f"#{entry.id}", style="bold" if baseline else ""),
        Text(clock(entry.fetched_at, zone, seconds=True)),
        Text(clock(feed, zone, seconds=True) if feed is not None else "—"),
        Text(printable(entry.source)),
        Text("first" if entry.seq == 1 else count(entry.cells_changed)),
        corrections,
        Text(size_text(entry.body_size)),
        Text(entry.body_sha256[:12]),
    ]
    return _line(cells, widths)


class TimelineList(ScrollView, can_focus=True):
    """The stored snapshots, one a line, with a row cursor; draws only the rows in view."""

    BINDINGS = [
        Binding(
            "enter",
            "pick",
            "Pick as baseline",
            id="timeline.pick",
            tooltip="Compare against the snapshot under the cursor from now on",
        ),
        Binding("up", "move(-1)", "Up", show=False, id="timeline.up", tooltip="Older"),
        Binding("down", "move(1)", "Down", show=False, id="timeline.down", tooltip="Newer"),
        Binding(
            "pageup",
            "page(-1)",
            "Page up",
            show=False,
            id="timeline.page_up",
            tooltip="A page older",
        ),
        Binding(
            "pagedown",
            "page(1)",
            "Page down",
            show=False,
            id="timeline.page_down",
            tooltip="A page newer",
        ),
        Binding("home", "first", "First", show=False, id="timeline.first", tooltip="The oldest"),
        Binding("end", "last", "Last", show=False, id="timeline.last", tooltip="The newest"),
    ]
    DEFAULT_CSS = """
    TimelineList { height: 1fr; overflow-x: hidden; overflow-y: auto; }
    TimelineList > .timeline-list--cursor {
        background: $block-cursor-blurred-background;
        color: $block-cursor-blurred-foreground;
        text-style: $block-cursor-blurred-text-style;
    }
    TimelineList:focus > .timeline-list--cursor {
        background: $block-cursor-background;
        color: $block-cursor-foreground;
        text-style: $block-cursor-text-style;
    }
    """
    COMPONENT_CLASSES = {"timeline-list--cursor"}

    class Picked(Message):
        """Enter (or a click on the cursor row) on a snapshot."""

        def __init__(self, snapshot_id: int) -> None:
            super().__init__()
            self.snapshot_id = snapshot_id

    def __init__(self, zone: tzinfo, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.entries: Sequence[StoredSnapshot] = ()
        self.widths = Widths()
        self.baseline: int | None = None
        self.cursor = 0
        self._cache: LRUCache[tuple[int, int, bool], Strip] = LRUCache(256)

    # -- what it shows

    def show(self, entries: Sequence[StoredSnapshot], widths: Widths, baseline: int | None) -> None:
        """Show ``entries`` (oldest first). The cursor stays on its snapshot; the first time,
        it goes to the newest."""
        kept = self.cursor_id
        first = not self.entries
        self.entries, self.widths, self.baseline = entries, widths, baseline
        self._cache.clear()
        self.virtual_size = Size(1, len(entries))  # never wider than the view: no x-scroll
        index = self.index_of(kept) if kept is not None else None
        if first or index is None:
            index = len(entries) - 1
        self.cursor = max(0, index)
        if first:  # straight to the bottom: the oldest rows are never drawn on the way
            self.scroll_to(y=self.max_scroll_y, animate=False, immediate=True, force=True)
        self.refresh()
        self.call_after_refresh(self._into_view, not first)

    @property
    def cursor_id(self) -> int | None:
        """The snapshot under the cursor."""
        if 0 <= self.cursor < len(self.entries):
            return self.entries[self.cursor].id
        return None

    def index_of(self, snapshot_id: int) -> int | None:
        """Row of ``snapshot_id`` (ids increase down the list: a binary search)."""
        lo, hi = 0, len(self.entries)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.entries[mid].id < snapshot_id:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.entries) and self.entries[lo].id == snapshot_id:
            return lo
        return None

    def line_text(self, index: int) -> Text:
        entry = self.entries[index]
        return row_text(entry, self.widths, self.zone, entry.id == self.baseline)

    @property
    def lines_text(self) -> list[str]:
        """Every row as plain text, oldest first (tests read this; it renders every row)."""
        return [self.line_text(i).plain for i in range(len(self.entries))]

    # -- the cursor

    def move_to(self, index: int) -> None:
        if not self.entries:
            return
        index = max(0, min(len(self.entries) - 1, index))
        if index == self.cursor:
            return
        old, self.cursor = self.cursor, index
        self._refresh_row(old)
        self._refresh_row(index)
        self._into_view(True)

    def _into_view(self, only_if_needed: bool) -> None:
        """The cursor row in view; the first time the view goes to the bottom."""
        if not only_if_needed:
            self.scroll_end(animate=False, immediate=True)
            return
        self.scroll_to_region(Region(0, self.cursor, 1, 1), animate=False, immediate=True)

    def _refresh_row(self, index: int) -> None:
        y = index - self.scroll_offset.y
        view = self.scrollable_content_region
        if 0 <= y < view.height:
            self.refresh(Region(0, y, view.width, 1))

    def action_move(self, step: int) -> None:
        self.move_to(self.cursor + step)

    def action_page(self, direction: int) -> None:
        self.move_to(self.cursor + direction * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.move_to(0)

    def action_last(self) -> None:
        self.move_to(len(self.entries) - 1)

    def action_pick(self) -> None:
        if (picked := self.cursor_id) is not None:
            self.post_message(self.Picked(picked))

    def on_click(self, event: Click) -> None:
        """A click moves the cursor; a click on the cursor row picks it."""
        index = self.scroll_offset.y + event.y
        if not 0 <= index < len(self.entries):
            return
        if index == self.cursor:
            self.action_pick()
        else:
            self.move_to(index)

    # -- drawing

    def on_resize(self, event: Resize) -> None:
        self._cache.clear()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    def on_focus(self) -> None:
        self._cache.clear()
        self._refresh_row(self.cursor)

    def on_blur(self) -> None:
        self._cache.clear()
        self._refresh_row(self.cursor)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if not 0 <= index < len(self.entries):
            return Strip.blank(width, Style(bgcolor=base.bgcolor))
        cursor = index == self.cursor
        key = (index, width, cursor)
        strip = self._cache.get(key)
        if strip is None:
            style = (
                base + self.get_component_rich_style("timeline-list--cursor") if cursor else base
            )
            line = Text(" " * MARGIN, end="")
            line.append_text(self.line_text(index))
            line.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(line.render(self.app.console), width).apply_style(style).simplify()
            self._cache[key] = strip
        return strip


@dataclass(frozen=True)
class _Read:
    entries: list[StoredSnapshot]
    widths: Widths
    baseline: int | None


class TimelineScreen(Screen[int | None]):
    """Dismissed with the picked snapshot's id (Enter), or ``None`` (Esc)."""

    BINDINGS = [
        Binding(
            "escape",
            "cancel",
            "Back",
            id="timeline.back",
            tooltip="Back, the baseline unchanged",
        ),
    ]
    DEFAULT_CSS = """
    TimelineScreen { layout: vertical; }
    TimelineScreen #title { height: 1; background: $primary; color: $text; padding: 0 1; }
    TimelineScreen #info { height: 1; padding: 0 1; color: $text-muted; }
    TimelineScreen #title, TimelineScreen #info { text-wrap: nowrap; text-overflow: ellipsis; }
    TimelineScreen #heading { height: 1; }
    """

    def __init__(self, store: HistoryStore, source: str, race: str, zone: tzinfo) -> None:
        super().__init__()
        self.store = store
        self.source = source
        self.race = race
        self.zone = zone
        #: Set when the first read is on screen (tests wait for it).
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Static(self._title(None), id="title")
        yield Static(Text("Reading the stored snapshots…"), id="info")
        yield Static(id="heading")
        yield TimelineList(self.zone, id="timeline")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one(TimelineList).focus()
        self.refresh_timeline()

    def refresh_timeline(self) -> None:
        """Read the timeline again (in a thread); the cursor stays on its snapshot."""
        self.run_worker(
            self._read, thread=True, group="timeline", exclusive=True, exit_on_error=False
        )

    def _read(self) -> _Read:
        """In a thread: the store's lock may be held by a write, and a night is long."""
        entries = self.store.timeline(self.source, self.race)
        return _Read(entries, Widths.of(entries), self.store.baseline(self.source, self.race))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group != "timeline":
            return
        info = self.query_one("#info", Static)
        if event.state == WorkerState.ERROR:
            info.update(Text(f"Could not read the stored snapshots: {event.worker.error}"))
        elif event.state == WorkerState.SUCCESS:
            read = event.worker.result
            assert isinstance(read, _Read)
            self._show(read)

    def _show(self, read: _Read) -> None:
        self.query_one("#title", Static).update(self._title(read.entries))
        self.query_one("#info", Static).update(self._info(read))
        self.query_one("#heading", Static).update(
            Text(" " * MARGIN, end="").append_text(heading(read.widths))
        )
        self.query_one(TimelineList).show(read.entries, read.widths, read.baseline)
        self.loaded = True

    def _title(self, entries: Sequence[StoredSnapshot] | None) -> Text:
        title = Text(no_wrap=True, overflow="ellipsis")
        title.append("Timeline", style="bold")
        title.append(f" · {printable(self.source)}")
        name = next((e.race_name for e in entries or () if e.race_name), None)
        if name or self.race:
            title.append(f" · {printable(name or self.race)}")
        return title

    def _info(self, read: _Read) -> Text:
        n = len(read.entries)
        if not n:
            return Text(f"No stored snapshots of {printable(self.source)} yet.")
        info = Text(no_wrap=True, overflow="ellipsis")
        info.append(f"{n:,} stored snapshot{'s' if n != 1 else ''} · ")
        if read.baseline is None:
            info.append("no baseline yet")
        else:
            info.append(f"{BASELINE} baseline #{read.baseline}", style="bold")
        info.append(f" · {DOWN} correction: a count went down")
        return info

    def on_timeline_list_picked(self, event: TimelineList.Picked) -> None:
        self.dismiss(event.snapshot_id)

    def action_cancel(self) -> None:
        self.dismiss(None)
