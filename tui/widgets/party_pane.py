"""National party totals: votes, share (a number and a bar), seats, change since the last
poll, majority line; optionally each source's seats side by side.

Drawn by a ``LinePane``: a poll that moves one party's totals rewrites the cells of that line
that changed, nothing else; a poll that changes nothing here writes nothing.

The bar is the party's colour, drawn with block characters in eighths of a cell, so its
length reads the same without colour; the name and the share say it in words and numbers.
It sits on the party's line when the pane has a few cells to spare beyond the numbers, and
otherwise on a line of its own under the party, as wide as the pane.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.color import Color
from textual.containers import VerticalScroll
from textual.events import Resize

from nightdesk.results import RaceResult
from tui import board
from tui.colours import colourless, party_colours
from tui.formatting import bar, count, fit, net_change, percent
from tui.widgets.line_pane import LinePane
from tui.widgets.plain import printable

WIDTHS = (9, 10, 6, 7, 9)
#: The numbers' width: 41 columns (the side pane is 44 with padding and border at its least).
FIXED = sum(WIDTHS)
#: A share bar narrower than this says nothing the % does not: left out.
MIN_BAR = 3
MAX_BAR = 40
#: A source's seats column: its name cut to this, less a blank.
SOURCE_WIDTH = 6
#: The feed's race calls, before the name: ✓ the winner, ↻ into a runoff.
CALLS = {"winner": "✓", "runoff": "↻"}


def bar_width(width: int, sources: int = 0, drop: frozenset[str] = frozenset()) -> int:
    """Cells left for a share bar on the party's line in a pane ``width`` cells wide (0: no
    room; the bar goes on a line of its own)."""
    numbers = FIXED - sum(w for c, w in (("votes", WIDTHS[1]), ("change", WIDTHS[4])) if c in drop)
    left = width - numbers - sources * SOURCE_WIDTH - 1
    return min(left, MAX_BAR) if left >= MIN_BAR else 0


def bar_line(share: float | None, width: int, colour: Color | None, style: str = "") -> Text:
    """A share bar on a line of its own, under its party."""
    text = Text(bar(share, min(width, MAX_BAR + FIXED)).rstrip(), no_wrap=True)
    if colour is not None:
        text.stylize(Style(color=colour.rich_color))
    return styled(text, style)


def _line(
    cells: tuple[str, str, str, str, str],
    style: str | Style = "",
    *,
    share: float | None = None,
    bar_cells: int = 0,
    colour: Color | None = None,
    sources: tuple[str, ...] = (),
    drop: frozenset[str] = frozenset(),
) -> Text:
    name, votes, share_text, seats, change = cells
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(fit(printable(name), WIDTHS[0]))
    if "votes" not in drop:
        text.append(votes.rjust(WIDTHS[1]))
    text.append(share_text.rjust(WIDTHS[2]))
    if bar_cells:
        text.append(" ")
        drawn = bar(share, bar_cells)
        text.append(drawn, style=Style(color=colour.rich_color) if colour else None)
    text.append(seats.rjust(WIDTHS[3]))
    for value in sources:
        text.append(fit(value, SOURCE_WIDTH, "right"))
    if "change" in drop:
        return styled(text, style)
    # Keep a blank between the seats and the change: "▲ +32,875" → "▲+32,875" → "▲157,296"
    # (the arrow already gives the sign).
    if len(change) >= WIDTHS[4]:
        change = change.replace(" ", "", 1)
    if len(change) >= WIDTHS[4]:
        change = change[0] + change[2:]
    text.append(change.rjust(WIDTHS[4]))
    return styled(text, style)


def styled(text: Text, style: str | Style) -> Text:
    """The style as a span under the others (the bar keeps its colour): ``LinePane`` draws
    with ``Text.render``, which ignores a text's own style when it has no spans."""
    if style:
        text.stylize_before(style)
    return text


def heading(
    bar_cells: int = 0, sources: tuple[str, ...] = (), drop: frozenset[str] = frozenset()
) -> Text:
    names = tuple(fit(printable(s), SOURCE_WIDTH - 1, "right") for s in sources)
    cells = ("Party", "Votes", "%", "Seats", "Change")
    return _line(cells, "bold", bar_cells=bar_cells, sources=names, drop=drop)


def dropped(width: int, sources: int) -> frozenset[str]:
    """Columns left out so that sources' seats fit side by side: the last poll's change
    first, then the votes (the share stays)."""
    need = FIXED + sources * SOURCE_WIDTH
    drop = set()
    for column, cells in (("change", WIDTHS[4]), ("votes", WIDTHS[1])):
        if sources and need > width:
            drop.add(column)
            need -= cells
    return frozenset(drop)


HEADING = heading()


def _source_seats(seats: Mapping[str, Mapping[str, int]], line: board.PartyLine) -> tuple[str, ...]:
    """This party's seats in each source (by id, else name, else short name); — when absent."""
    out = []
    for claimed in seats.values():
        value = next(
            (claimed[k] for k in (line.party, line.name, line.label) if k in claimed), None
        )
        out.append(count(value))
    return tuple(out)


def party_texts(
    result: RaceResult,
    *,
    width: int = FIXED,
    colours: Mapping[str, Color] | None = None,
    sources: Mapping[str, Mapping[str, int]] | None = None,
    correction: str | Style = "red",
) -> list[Text]:
    """Every line of the pane, heading first, majority last. ``width``: the pane's cells
    (the bar takes what the numbers leave); ``sources``: source → party → seats;
    ``correction``: the style of a line whose votes went down."""
    lines = board.party_lines(result)
    seats_by = sources or {}
    drop = dropped(width, len(seats_by))
    cells = bar_width(width, len(seats_by), drop)
    colours = colours or {}
    texts = [heading(cells, tuple(seats_by), drop)]
    for line in lines:
        style = correction if line.correction else ""
        texts.append(
            _line(
                (
                    CALLS.get(line.called or "", "") + (line.label or line.party),
                    count(line.votes),
                    percent(line.share, 1),
                    line.seats_text,
                    net_change(line.change, line.correction),
                ),
                style,
                share=line.share,
                bar_cells=cells,
                colour=colours.get(line.party),
                sources=_source_seats(seats_by, line) if seats_by else (),
                drop=drop,
            )
        )
        if not cells and not seats_by:  # (beside the sources' seats, a bar only on the line)
            texts.append(bar_line(line.share, width, colours.get(line.party)))
    texts += _only_in_sources(lines, seats_by, cells, drop)
    total = board.total_seats(result)
    if total:
        need = total // 2 + 1
        leader = max(lines, key=lambda x: x.seats) if lines else None
        state = ""
        if leader is not None and leader.seats >= need:
            state = f" · {printable(leader.party)} {leader.seats}"
        texts.append(styled(Text(f"Majority: {need} of {total} seats{state}"), "italic"))
        if any(line.decided < line.seats for line in lines):
            texts.append(styled(Text("Seats: decided+provisional"), "dim"))
    return texts


def _only_in_sources(
    lines: list[board.PartyLine],
    seats: Mapping[str, Mapping[str, int]],
    cells: int,
    drop: frozenset[str],
) -> list[Text]:
    """Parties a source gives seats to that the results do not know: listed, never dropped."""
    known = {k for line in lines for k in (line.party, line.name, line.label)}
    extra = [p for claimed in seats.values() for p in claimed if p not in known]
    out = []
    for party in dict.fromkeys(extra):
        values = tuple(count(claimed.get(party)) for claimed in seats.values())
        blank = (party, "", "", "", "")
        out.append(_line(blank, "dim", bar_cells=cells, sources=values, drop=drop))
    return out


class PartyPane(VerticalScroll):
    """National totals, most votes first."""

    DEFAULT_CSS = """
    PartyPane { height: auto; max-height: 12; }
    PartyPane > LinePane { width: 100%; }
    PartyPane > .party-pane--correction { color: $text-error; }
    """
    #: A line whose votes went down: the theme's error text colour (readable on its
    #: background, in the ansi themes the terminal's red); the ▼ says it without colour.
    COMPONENT_CLASSES = {"party-pane--correction"}

    def __init__(self, *, colours: Mapping[str, str] | None = None, id: str | None = None) -> None:
        """``colours``: the config's ``[colours]`` (party id or name → colour); by default
        the app's config's, when it has one."""
        super().__init__(id=id)
        self.lines = LinePane([HEADING])
        self.can_focus = False
        self._configured = colours
        self._result: RaceResult | None = None
        self._sources: Mapping[str, Mapping[str, int]] | None = None
        self._colours: dict[str, Color] = {}
        self._colours_for: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield self.lines

    @property
    def lines_text(self) -> list[str]:
        """The pane's lines as plain text, heading first."""
        return self.lines.lines_text

    @property
    def colours(self) -> dict[str, Color]:
        """Party id → the colour its bar is drawn in (for the parties last shown)."""
        return dict(self._colours)

    def show(self, result: RaceResult) -> None:
        self._result = result
        self._draw()

    def show_sources(self, seats: Mapping[str, Mapping[str, int]] | None) -> None:
        """Each source's seats side by side (source → party → seats); None hides them."""
        self._sources = {k: dict(v) for k, v in seats.items()} if seats else None
        self._draw()

    def on_resize(self, event: Resize) -> None:
        self._draw()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._draw()  # another theme: another correction colour

    def watch_show_vertical_scrollbar(self, shown: bool) -> None:
        self.call_after_refresh(self._draw)  # the scrollbar takes cells from the bar

    def _draw(self) -> None:
        if self._result is None:
            return
        width = self.scrollable_content_region.width if self.is_mounted else FIXED
        no_color = self.is_mounted and self.app.no_color
        texts = party_texts(
            self._result,
            width=width,
            colours=None if no_color else self._colours_of(self._result.snapshot.parties),
            sources=self._sources,
            correction=self.get_component_rich_style("party-pane--correction", partial=True)
            if self.is_mounted
            else "red",
        )
        self.lines.set_lines([colourless(t) for t in texts] if no_color else texts)

    def _colours_of(self, parties: pd.DataFrame) -> dict[str, Color]:
        """Resolved once per party table (a new one only when the feed's parties change)."""
        feed = parties["colour"] if "colour" in parties else pd.Series(dtype=object)
        key = (tuple(parties.index), tuple(map(str, feed)))
        if key != self._colours_for:
            self._colours = party_colours(parties, self._configured_colours())
            self._colours_for = key
        return self._colours

    def _configured_colours(self) -> Mapping[str, str]:
        if self._configured is not None:
            return self._configured
        config = getattr(self.app, "config", None)
        return getattr(config, "colours", None) or {}
