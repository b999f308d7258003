"""The night's changes as a log, newest at the bottom: time, unit, party, ±votes; corrections ▼;
feed check findings ⚠ as they appear, and ✓ when they clear.

Why a Line-API widget and not a list of ``Label`` s: every line written to the terminal costs
bytes, and a list that inserts at the top shifts — and so resends — every line it shows. Here a
new line is drawn into a blank row below the last one, and only that row is refreshed. When the
view is full it jumps by half a page (one repaint per half page of new lines, not one scroll per
line), leaving blank rows for the next lines. A user who has scrolled back (Tab to focus, then
↑/PgUp) is never moved: a "↓ N new" mark on the bottom row counts what arrived since; End (or
scrolling to the bottom) follows the log again.

At most ``cap`` lines are kept. Dropping the oldest moves the rows and the view together, so
what is on screen does not change and nothing is redrawn (unless the dropped lines are the
ones in view).

Unfocused, the pane has no scrollbar: a jump would repaint its whole column too (~30 bytes a
row). Focus it and the scrollbar shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.cache import LRUCache
from textual.events import Resize
from textual.geometry import Region, Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from nightdesk.alerts import ALERT
from nightdesk.changelog import FOUND, Change
from nightdesk.checks import TITLES
from tui.colours import colourless
from tui.formatting import DOWN, UP, clock, signed
from tui.widgets.plain import printable

CAP = 500
#: Blank cells left of each line. Drawn as part of the line, not as CSS padding: padding is a
#: segment of its own on every row, and every segment costs a colour sequence on the wire.
MARGIN = 1
#: A feed check fails (a finding); one clears. Marks, so colour is never needed.
FLAG = "⚠"
CLEAR = "✓"
#: One poll's findings of one check beyond this many units share one line (the units keep
#: their own marks in the table and their own entries on the province screen).
FINDING_LINES = 12
#: An alert (``nightdesk.alerts``): reverse video, so it stands out without colour.
ALERT_MARK = "!"


def describe(change: Change, zone: tzinfo, unit_name: str) -> Text:
    """One change on one line (the province screen lists them like this)."""
    if change.is_finding:
        return describe_finding(change, zone, unit_name)
    return describe_unit([change], zone, unit_name)


def describe_finding(change: Change, zone: tzinfo, unit_name: str) -> Text:
    """A finding that appeared (⚠ and its numbers) or cleared (✓ and what it was)."""
    if change.kind == ALERT:
        return describe_alert(change, zone)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(change.at, zone, seconds=True) + " ")
    if change.kind == FOUND:
        text.append(f"{FLAG} ", style="bold yellow")
        text.append(printable(unit_name))
        text.append(f" {change.note}", style="bold yellow")
    else:
        text.append(f"{CLEAR} ", style="green")
        text.append(printable(unit_name))
        text.append(f" cleared: {change.note}")
    return text


def describe_alert(change: Change, zone: tzinfo) -> Text:
    """An alert: its mark and its message (which names the unit or source itself)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(change.at, zone, seconds=True) + " ")
    text.append(ALERT_MARK, style="bold reverse")
    text.append(" " + printable(change.note), style="bold")
    return text


def describe_many(findings: list[Change], zone: tzinfo, names: dict[str, str]) -> Text:
    """Many units' findings of one check from one poll, on one line: how many, the check,
    the first few units."""
    first = findings[0]
    found = first.kind == FOUND
    style = "bold yellow" if found else "green"
    shown = ", ".join(printable(names.get(c.unit, c.unit)) for c in findings[:3])
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(first.at, zone, seconds=True) + " ")
    text.append(f"{FLAG if found else CLEAR} ", style=style)
    text.append(f"{len(findings):,} units", style=style if found else "")
    text.append(f"{'' if found else ' cleared'}: {TITLES.get(first.item, first.item)}")
    text.append(f" ({shown}, +{len(findings) - 3:,} more)", style="dim")
    return text


def describe_unit(changes: list[Change], zone: tzinfo, unit_name: str, most: int = 3) -> Text:
    """One poll's changes to one unit on one line: the biggest few, then how many more.

    Names are feed data: appended as plain text (never markup), control characters replaced.
    Only corrections are styled: each style change costs a colour sequence on the wire.
    """
    first = changes[0]
    if first.is_finding:
        return describe_finding(first, zone, unit_name)
    correction = any(c.correction for c in changes)
    style = "bold red" if correction else ""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(clock(first.at, zone, seconds=True) + " ")
    text.append(f"{DOWN if correction else UP} ", style=style)
    text.append(printable(unit_name))
    ordered = sorted(changes, key=lambda c: (not c.correction, -abs(c.change or 0)))
    for c in ordered[:most]:
        text.append(" ")
        text.append(printable(c.item))
        if c.before is None and c.after is None and not c.is_votes:
            continue  # an event, not a count: "(unit withdrawn)"
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


def group_lines(changes: Iterable[Change], zone: tzinfo, names: dict[str, str]) -> list[Text]:
    """One line per unit and poll; every correction on a line of its own; every finding on
    a line of its own, unless one check found (or cleared) more than :data:`FINDING_LINES`
    units at once: those share a line."""
    groups: dict[tuple[str, bool], list[Change]] = {}
    findings: dict[tuple[str, str], list[Change]] = {}
    alerts: list[Change] = []
    for c in changes:
        if c.kind == ALERT:
            alerts.append(c)  # each alert on a line of its own, in order
        elif c.is_finding:
            findings.setdefault((c.kind, c.item), []).append(c)
        else:
            groups.setdefault((c.unit, c.correction), []).append(c)
    lines = [
        describe_unit(group, zone, names.get(unit, unit)) for (unit, _), group in groups.items()
    ]
    for group in findings.values():
        if len(group) > FINDING_LINES:
            lines.append(describe_many(group, zone, names))
        else:
            lines += [describe_finding(c, zone, names.get(c.unit, c.unit)) for c in group]
    return lines + [describe_alert(c, zone) for c in alerts]


class ChangesPane(ScrollView, can_focus=True):
    """A capped log of the night's changes, oldest at the top, newest at the bottom."""

    DEFAULT_CSS = """
    ChangesPane { height: 1fr; scrollbar-size-vertical: 0; overflow-x: hidden; overflow-y: auto; }
    ChangesPane:focus { background: $boost; scrollbar-size-vertical: 1; }
    ChangesPane > .changes-pane--new { text-style: reverse bold; }
    """
    COMPONENT_CLASSES = {"changes-pane--new"}

    def __init__(self, *, zone: tzinfo, cap: int = CAP, id: str | None = None) -> None:
        super().__init__(id=id)
        self.zone = zone
        self.cap = cap
        self._lines: list[Text] = []
        self._first = 0  # how many lines were dropped since the start (cache keys)
        self._cache: LRUCache[tuple[int, int], Strip] = LRUCache(256)
        #: Lines that arrived while the user was scrolled back.
        self.unseen = 0
        self._follow = True  # at the bottom when last scrolled (a resize keeps it)
        self._silent = False  # a scroll that moves rows and view together: nothing to redraw
        self._scrollbars_for: Size | None = None

    @property
    def lines_text(self) -> list[str]:
        """The kept lines as plain text, oldest first (the newest is the last)."""
        return [text.plain for text in self._lines]

    @property
    def following(self) -> bool:
        """True when the view is at the bottom, so new lines are shown as they come."""
        return self._follow or self.scroll_offset.y >= self.max_scroll_y

    def add(self, changes: Iterable[Change], names: dict[str, str]) -> None:
        """Append one poll's changes; refresh only the rows they land on."""
        self.append_lines(group_lines(changes, self.zone, names))

    def clear(self) -> None:
        """Start again empty (another race is on screen)."""
        self._first += len(self._lines)
        self._lines.clear()
        self._cache.clear()
        self.unseen = 0
        self._follow = True
        self._set_height(0)
        self.scroll_to(y=0, animate=False, force=True)
        self.refresh()

    def append_lines(self, lines: list[Text]) -> None:
        if not lines:
            return
        following = self.following
        start = len(self._lines)
        self._lines.extend(lines)
        view = self._view()
        if not self.is_mounted or not view.height:
            self._trim()
            self._set_height(max(len(self._lines), self.virtual_size.height))
            return
        if not following:
            self.unseen += len(lines)
        elif self.unseen:
            self.unseen = 0
            self._refresh_mark()
        if len(self._lines) > self.virtual_size.height:
            # Room for half a page more; following, the view jumps there: one repaint.
            self._set_height(len(self._lines) + view.height // 2)
            if following:
                self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
                self.refresh(view)
                self._trim()
                return
        start -= self._trim()
        top = self.scroll_offset.y
        for row in range(max(start, top), min(len(self._lines), top + view.height)):
            # Up to the end of the text: the row was blank, so the rest is already right.
            width = MARGIN + cell_len(self._lines[row].plain)
            self.refresh(Region(0, row - top, min(width, view.width), 1))
        if not following:
            self._refresh_mark()

    def _trim(self) -> int:
        """Drop the oldest lines beyond the cap; returns how many rows went."""
        excess = len(self._lines) - self.cap
        if excess <= 0:
            return 0
        del self._lines[:excess]
        self._first += excess
        top = self.scroll_offset.y
        height = max(len(self._lines), self.virtual_size.height - excess)
        # Rows and view move up together: the screen is unchanged, and so is whether the view
        # follows the log. Only if the dropped lines were in view does the view (now at the
        # top) need redrawing.
        self._silent = True
        try:
            self.scroll_to(y=max(0, top - excess), animate=False, force=True)
            self._set_height(height)
        finally:
            self._silent = False
        if top < excess:
            self.refresh(self._view())
        return excess

    def _set_height(self, rows: int) -> None:
        # Width 1: never wider than the view, so there is nothing to scroll sideways. Set without
        # the reactive's full repaint (which would include the scrollbar, and then the layout
        # would repaint the scrollbar again); the scrollbar is updated here, once.
        size = Size(1, rows)
        if size == self.virtual_size:
            return
        self.set_reactive(ScrollView.virtual_size, size)
        self._scrollbars_for = size
        if self.is_mounted:
            self._scroll_update(size)
        self.refresh(repaint=False, layout=True)

    def _refresh_mark(self) -> None:
        """The bottom row, where "↓ N new" shows while the user is scrolled back."""
        view = self._view()
        self.refresh(Region(0, view.height - 1, view.width, 1))

    def _view(self) -> Region:
        """The text area in widget coordinates (the scrollbar excluded)."""
        region = self.scrollable_content_region
        return Region(0, 0, region.width, region.height)

    # -- events

    def on_resize(self, event: Resize) -> None:
        """Fill the view from the bottom again after a resize (which repaints anyway)."""
        self._cache.clear()
        self._set_height(max(len(self._lines), self._view().height))
        if self.following:
            self.scroll_to(y=self.max_scroll_y, animate=False, force=True)
        self.refresh()

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        # ScrollView's own watcher repaints the scrollbar with the text; the scrollbar repaints
        # itself when its position changes, so only the text area is refreshed here.
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.position = new_value
        if self._silent:
            return
        if round(old_value) != round(new_value):
            self.refresh(self._view())
        self._follow = round(new_value) >= self.max_scroll_y
        if self._follow:
            self.unseen = 0  # back at the bottom: the scroll repaints the view

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        # ScrollView compares the compositor's virtual size (the view's) with ours (the log's):
        # once the log overflows they always differ, so every layout anywhere on the screen
        # would repaint the scrollbar (~30 bytes a row). Hand it ours unless ours changed.
        changed = self.virtual_size != self._scrollbars_for
        self._scrollbars_for = self.virtual_size
        return super()._size_updated(
            size, virtual_size if changed else self.virtual_size, container_size, layout
        )

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._cache.clear()

    # -- drawing

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        base = self.rich_style
        index = self.scroll_offset.y + y
        if 0 <= index < len(self._lines):
            key = (self._first + index, width)
            strip = self._cache.get(key)
            if strip is None:
                strip = self._render_text(self._lines[index], width, base)
                self._cache[key] = strip
        else:
            strip = Strip.blank(width, Style(bgcolor=base.bgcolor))
        if self.unseen and not self.following and y == self._view().height - 1:
            strip = self._with_mark(strip, width, base)
        return strip

    def _render_text(self, text: Text, width: int, base: Style) -> Strip:
        line = Text(" " * MARGIN, end="")
        line.append_text(colourless(text) if self.app.no_color else text)
        line.truncate(width, overflow="ellipsis", pad=True)
        return Strip(line.render(self.app.console), width).apply_style(base).simplify()

    def _with_mark(self, strip: Strip, width: int, base: Style) -> Strip:
        mark = f" ↓ {self.unseen} new "
        size = cell_len(mark)
        if size >= width:
            return strip
        style = base + self.get_component_rich_style("changes-pane--new")
        return Strip.join([strip.crop(0, width - size), Strip([Segment(mark, style)], size)])
