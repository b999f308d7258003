"""``--kiosk``: the big screen for a projector or a wall — national totals in big digits, and
one unit after another on a timer.

Nobody sits at a wall display, so the screen runs by itself: the unit shown moves on every
``interval`` seconds of its clock (injected: tests move it by hand), results update as polls
arrive, and the keys that would disturb it (quit, freeze) ask first. Only what changed is
redrawn: a poll that moves nothing national writes nothing there.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.renderables.digits import Digits as DigitsRenderable
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Digits, Footer, Label, Static

from nightdesk.results import RaceResult
from tui.confirm_screen import ConfirmScreen
from tui.formatting import count, percent
from tui.kiosk_view import BigLine, National, UnitLine, UnitView, cycle, national, unit_view

#: Seconds each unit stays on screen unless ``--kiosk-interval`` says otherwise.
INTERVAL = 8.0
#: At most this many parties in big digits, nationally and for the unit.
MOST_PARTIES = 8
#: Rows besides the big party rows and the unit's lines: header, title, others, the unit's
#: border, title and last seat (two lines), the footer.
FIXED_ROWS = 8
#: The unit's lines kept free at least (a table heading and one party) when placing big rows.
UNIT_LINES = 2
#: From this many rows on, the unit's parties are big rows too (below: a table).
TALL = 40


def parties_that_fit(height: int) -> int:
    """National big rows (3 lines each) that fit above the unit: 4 at 80×24, 8 at 160×48."""
    return max(1, min(MOST_PARTIES, (height - FIXED_ROWS - 1 - UNIT_LINES) // 3))


def unit_rows(height: int, national_rows: int) -> tuple[bool, int]:
    """How the unit's parties are shown: (big rows?, how many)."""
    free = height - FIXED_ROWS - 3 * national_rows
    if height >= TALL and free >= 6:
        return True, min(MOST_PARTIES, free // 3)
    return False, max(1, free - 1)  # a table: its heading, then a line a party


def digits_width(values: list[str]) -> int:
    """One width for a column of big numbers, so they line up (2 cells of padding)."""
    return 2 + max((DigitsRenderable.get_width(v) for v in values), default=0)


class PartyRow(Horizontal):
    """One party: its names and votes, then its share and its seats (or votes) in big digits."""

    DEFAULT_CSS = """
    PartyRow { height: 3; width: 100%; max-width: 110; }
    PartyRow > .who { width: 1fr; height: 3; padding: 0 1 0 0; }
    PartyRow > Digits { padding: 0 0 0 2; text-align: right; }
    PartyRow > .share { width: 16; }
    PartyRow > .big { width: 11; }
    PartyRow.leader > .who { text-style: bold; }
    """

    def __init__(self) -> None:
        super().__init__()
        self._line: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="who", markup=False)
        yield Digits("", classes="share")
        yield Digits("", classes="big")

    def show(
        self, line: BigLine | UnitLine, big: str, *, leader: bool = False, width: int = 11
    ) -> None:
        key = (line, big, leader, width)
        if key == self._line:
            return
        self._line = key
        who = Text(no_wrap=True, overflow="ellipsis")
        who.append(line.label, style="bold")
        who.append("\n" + (line.name if isinstance(line, BigLine) else ""))
        who.append(f"\n{count(line.votes)} votes")
        self.query_one(".who", Static).update(who)
        self.query_one(".share", Digits).update(percent(line.share, 1))
        digits = self.query_one(".big", Digits)
        digits.update(big)
        digits.styles.width = width
        self.set_class(leader, "leader")


def unit_table(view: UnitView) -> Table:
    table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
    table.add_column("Party", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("Votes", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    if view.seats is not None:
        table.add_column("Seats", justify="right", no_wrap=True)
    for line in view.lines:
        cells = [line.label, count(line.votes), percent(line.share, 1)]
        if view.seats is not None:
            cells.append("" if line.seats is None else str(line.seats))
        table.add_row(*cells)
    return table


class KioskScreen(Screen[None]):
    """The big screen; ``show`` is called with every new result of the watched race."""

    BINDINGS = [
        Binding("q", "ask_quit", "Quit", id="kiosk.quit", tooltip="Leave nightdesk (asks first)"),
        Binding(
            "p",
            "ask_freeze",
            "Freeze",
            id="kiosk.freeze",
            tooltip="Freeze the view, or catch up when frozen (asks first)",
        ),
        Binding(
            "right,n",
            "step(1)",
            "Next unit",
            key_display="→",
            id="kiosk.next",
            tooltip="Show the next unit now",
        ),
        Binding(
            "left",
            "step(-1)",
            "Previous unit",
            key_display="←",
            id="kiosk.previous",
            tooltip="Show the previous unit now",
        ),
    ]
    DEFAULT_CSS = """
    KioskScreen { layout: vertical; }
    KioskScreen #kiosk-title { width: 100%; height: 1; padding: 0 1; text-style: bold;
        background: $panel; }
    KioskScreen #kiosk-parties { height: auto; padding: 0 1; align-horizontal: center; }
    KioskScreen #kiosk-others { height: 1; padding: 0 1; color: $text-muted; }
    KioskScreen #kiosk-unit { height: 1fr; border-top: hkey $panel; padding: 0 1; }
    KioskScreen #kiosk-unit-title { height: 1; text-style: bold; }
    KioskScreen #kiosk-unit-lines { height: 1fr; }
    KioskScreen #kiosk-unit-rows { height: 1fr; align-horizontal: center; }
    KioskScreen #kiosk-margin { height: auto; max-height: 2; }
    KioskScreen #kiosk-waiting { width: 100%; height: 1fr; content-align: center middle; }
    """

    def __init__(
        self,
        header: Widget,
        *,
        clock: Callable[[], float],
        interval: float = INTERVAL,
        result: RaceResult | None = None,
    ) -> None:
        super().__init__()
        if not interval > 0:
            raise ValueError(f"the kiosk interval must be > 0 seconds, not {interval!r}")
        self._header = header
        self._clock = clock
        self.interval = interval
        self.result = result
        #: The units cycled through, and the one on screen (its position).
        self.units: list[str] = []
        self.at = 0
        self._since = clock()
        self._height = 24
        self._national_rows = 0
        self._shown: dict[str, object] = {}
        #: What is on screen (for tests and the curious): the national view and the unit's.
        self.national: National | None = None
        self.unit_view: UnitView | None = None

    def compose(self) -> ComposeResult:
        yield self._header
        yield Label("", id="kiosk-title", markup=False)
        yield Label("Waiting for the first results…", id="kiosk-waiting")
        with Vertical(id="kiosk-parties"):
            for _ in range(MOST_PARTIES):
                yield PartyRow()
        yield Label("", id="kiosk-others", markup=False)
        with Vertical(id="kiosk-unit"):
            yield Label("", id="kiosk-unit-title", markup=False)
            yield Static("", id="kiosk-unit-lines")
            with Vertical(id="kiosk-unit-rows"):
                for _ in range(MOST_PARTIES):
                    yield PartyRow()
            yield Static("", id="kiosk-margin", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self._height = self.size.height or self.app.size.height
        self.set_interval(min(1.0, self.interval / 4), self.tick)
        self._draw()

    def on_resize(self, event: Resize) -> None:
        if event.size.height != self._height:
            self._height = event.size.height
            self._draw()

    @property
    def unit(self) -> str | None:
        """The unit on screen (None before the first results)."""
        return self.units[self.at] if self.units else None

    def show(self, result: RaceResult) -> None:
        """A new result: the same unit stays on screen if it is still in the feed."""
        self.result = result
        current = self.unit
        self.units = cycle(result)
        if current in self.units:
            self.at = self.units.index(current)
        elif self.units:
            self.at = min(self.at, len(self.units) - 1)
        self._draw()

    def tick(self) -> None:
        """The timer's call: move on once the unit has been up for ``interval`` seconds."""
        if self._clock() - self._since >= self.interval:
            self.action_step(1)

    def action_step(self, by: int) -> None:
        self._since = self._clock()
        if len(self.units) > 1:
            self.at = (self.at + by) % len(self.units)
            with self.app.batch_update():
                self._draw_unit()

    def action_ask_quit(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.app.exit()

        self.app.push_screen(ConfirmScreen("Quit nightdesk?"), answered)

    def action_ask_freeze(self) -> None:
        if not hasattr(self.app, "action_freeze"):
            self.notify("Freezing the view is not available", timeout=3)
            return

        async def answered(yes: bool | None) -> None:
            if yes:
                await self.app.run_action("freeze")

        self.app.push_screen(
            ConfirmScreen("Freeze the view (or catch up, if frozen)?"),
            answered,  # type: ignore[arg-type]
        )

    def _draw(self) -> None:
        result = self.result
        waiting = result is None
        self.query_one("#kiosk-waiting").display = waiting
        for selector in ("#kiosk-title", "#kiosk-parties", "#kiosk-others", "#kiosk-unit"):
            self.query_one(selector).display = not waiting
        if result is None:
            return
        with self.app.batch_update():
            self._draw_national(national(result, parties_that_fit(self._height)))
            self._draw_unit()

    def _draw_national(self, view: National) -> None:
        self.national = view
        self._update("#kiosk-title", view.title())
        self._national_rows = len(view.lines)
        width = max(11, digits_width([view.big(x) for x in view.lines]))
        for i, row in enumerate(self.query_one("#kiosk-parties").query_children(PartyRow)):
            row.display = i < len(view.lines)
            if i < len(view.lines):
                line = view.lines[i]
                row.show(line, view.big(line), leader=i == 0 and bool(line.votes), width=width)
        others = view.others_text()
        self.query_one("#kiosk-others").display = bool(others)
        self._update("#kiosk-others", others)

    def _draw_unit(self) -> None:
        result, unit = self.result, self.unit
        if result is None or unit is None:
            return
        big, lines = unit_rows(self._height, self._national_rows)
        view = self.unit_view = unit_view(result, unit, lines)
        self._update("#kiosk-unit-title", view.title(self.at, len(self.units)))
        self.query_one("#kiosk-unit-lines").display = not big
        self.query_one("#kiosk-unit-rows").display = big
        if big:
            width = max(11, digits_width([view.big(x) for x in view.lines]))
            rows = self.query_one("#kiosk-unit-rows").query_children(PartyRow)
            for i, row in enumerate(rows):
                row.display = i < len(view.lines)
                if i < len(view.lines):
                    row.show(view.lines[i], view.big(view.lines[i]), width=width)
        elif self._shown.get("#kiosk-unit-lines") != (view.lines, view.seats is None):
            self._shown["#kiosk-unit-lines"] = (view.lines, view.seats is None)
            self.query_one("#kiosk-unit-lines", Static).update(unit_table(view))
        self._update("#kiosk-margin", view.margin)

    def _update(self, selector: str, text: str) -> None:
        """Update a label only when its text changed: an unchanged poll redraws nothing."""
        if self._shown.get(selector) != text:
            self._shown[selector] = text
            self.query_one(selector, Static).update(text)
