"""A few lines of text, each changing on its own: a change refreshes only the cells that differ.

Why: a ``Label`` repaints its whole width when any character changes — the status line's
"last good 21:04:00" ticking over resent 200 columns (300 bytes). Here each line keeps the
strip last drawn; a new text is drawn, compared cell by cell, and only the runs of changed cells
are refreshed (``refresh(region)``), so the compositor sends those and not the line. Setting a
line to what it already shows refreshes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

#: Changed runs closer than this many cells are refreshed as one: each run costs a cursor move
#: and a colour sequence (~30 bytes), so resending a short unchanged gap is cheaper.
MERGE_GAP = 12

Cell = tuple[str, Style | None]


def cells(strip: Strip) -> list[Cell]:
    """One (characters, style) entry per cell; a wide character's second cell is ''."""
    out: list[Cell] = []
    for segment in strip:
        if segment.control:
            continue
        for char in segment.text:
            width = cell_len(char)
            if width == 0 and out:
                out[-1] = (out[-1][0] + char, out[-1][1])  # a combining mark joins its base
                continue
            out.append((char, segment.style))
            out.extend(("", segment.style) for _ in range(width - 1))
    return out


def changed_runs(before: Strip, after: Strip, gap: int = MERGE_GAP) -> list[tuple[int, int]]:
    """The [start, end) cell ranges where two strips differ, near runs merged."""
    old, new = cells(before), cells(after)
    blank: Cell = (" ", None)
    runs: list[tuple[int, int]] = []
    for x in range(max(len(old), len(new))):
        if (old[x] if x < len(old) else blank) == (new[x] if x < len(new) else blank):
            continue
        if runs and x - runs[-1][1] < gap:
            runs[-1] = (runs[-1][0], x + 1)
        else:
            runs.append((x, x + 1))
    return runs


def same(a: Text, b: Text) -> bool:
    """Equal as drawn (Rich's ``Text.__eq__`` ignores the base style)."""
    return a.plain == b.plain and a.spans == b.spans and a.style == b.style


class LinePane(Widget):
    """Lines set by index; each refresh covers only the cells that changed."""

    DEFAULT_CSS = """
    LinePane { height: auto; }
    """

    def __init__(
        self, lines: Sequence[Text] = (), *, id: str | None = None, classes: str | None = None
    ) -> None:
        super().__init__(id=id, classes=classes)
        self._texts: list[Text] = list(lines)
        self._drawn: dict[int, Strip] = {}  # the strip on screen, per line, at _drawn_for
        self._drawn_for: tuple[int, Style] | None = None

    @property
    def lines_text(self) -> list[str]:
        """The lines as plain text (tests and the help read them)."""
        return [text.plain for text in self._texts]

    def set_lines(self, texts: Sequence[Text]) -> None:
        """Show these lines; only lines (and cells) that differ are refreshed."""
        if len(texts) != len(self._texts):
            self._texts = list(texts)
            self._drawn.clear()
            self.refresh(layout=True)
            return
        for y, text in enumerate(texts):
            self.set_line(y, text)

    def set_line(self, y: int, text: Text) -> None:
        if same(self._texts[y], text):
            return
        self._texts[y] = text
        before = self._drawn.pop(y, None)
        width = self.size.width
        if before is None or self._drawn_for != self._key():
            self.refresh(Region(0, y, width, 1))
            return
        after = self._strip(y)
        for start, end in changed_runs(before, after):
            self.refresh(Region(start, y, min(end, width) - start, 1))

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self._texts)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._drawn.clear()

    def render_line(self, y: int) -> Strip:
        if y >= len(self._texts):
            return Strip.blank(self.size.width, self.rich_style)
        return self._strip(y)

    def _key(self) -> tuple[int, Style]:
        return (self.size.width, self.rich_style)

    def _strip(self, y: int) -> Strip:
        key = self._key()
        if key != self._drawn_for:
            self._drawn.clear()
            self._drawn_for = key
        strip = self._drawn.get(y)
        if strip is None:
            width, base = key
            line = self._texts[y].copy()
            line.truncate(width, overflow="ellipsis", pad=True)
            strip = Strip(line.render(self.app.console), width).apply_style(base).simplify()
            self._drawn[y] = strip
        return strip
