"""Send only the changed part of a line: crop partial screen updates on the left as well.

Textual's compositor crops a refreshed span on the right but not on the left
(``ChopsUpdate.render_segments`` carries a ``TODO: crop to x extents``), so a changed cell in
column 7 of the provinces table resends columns 1–7 of its line. Over SSH that is most of the
bytes of an update (``../shared/notes/terminal-bytes.md``). ``install()`` replaces that one
method with a version that also crops on the left, stepping back to the start of a character
so a wide (CJK) or combined (Khmer, accented) character is never split. The rest of Textual is
untouched; the patch is applied only to the exact Textual version it was written against,
otherwise the stock method stays and the screen is still correct, only bigger on the wire.
"""

from __future__ import annotations

import textual
from rich.cells import get_character_cell_size
from rich.color import ColorSystem
from rich.console import Console
from textual import _compositor
from textual.strip import Strip

#: The Textual release whose ``ChopsUpdate.render_segments`` this replaces (pyproject pins it).
TEXTUAL_VERSION = "8.2.8"

_stock = _compositor.ChopsUpdate.render_segments


def cluster_start(strip: Strip, offset: int) -> int:
    """The last character boundary at or before cell ``offset`` (never inside a character).

    Zero-width characters (combining marks) belong to the character before them, so a
    boundary is only ever placed before a character that takes up cells.
    """
    best = 0
    position = 0
    for segment in strip:
        if segment.control:
            continue
        for char in segment.text:
            width = get_character_cell_size(char)
            if width:
                if position > offset:
                    return best
                best = position
                position += width
    return best if position > offset else position


#: SGR attribute codes and the code that turns each off (bold and faint share 22).
_OFF = {"1": "22", "2": "22", "3": "23", "4": "24", "21": "24", "5": "25", "6": "25"}
_OFF |= {"7": "27", "8": "28", "9": "29", "51": "54", "52": "54", "53": "55"}


def _parse(sgr: str) -> tuple[frozenset[str], str, str] | None:
    """SGR parameters as (attributes, foreground, background); None if not understood."""
    attrs: set[str] = set()
    fg = bg = ""
    codes = sgr.split(";") if sgr else []
    i = 0
    while i < len(codes):
        code = codes[i]
        if code in ("38", "48"):
            size = 3 if codes[i + 1 : i + 2] == ["5"] else 5 if codes[i + 1 : i + 2] == ["2"] else 0
            if not size or i + size > len(codes):
                return None
            color = ";".join(codes[i : i + size])
            fg, bg = (color, bg) if code == "38" else (fg, color)
            i += size
            continue
        if code.isdigit() and (30 <= int(code) <= 37 or 90 <= int(code) <= 97 or code == "39"):
            fg = code
        elif code.isdigit() and (40 <= int(code) <= 47 or 100 <= int(code) <= 107 or code == "49"):
            bg = code
        elif code in _OFF:
            attrs.add(code)
        else:
            return None
        i += 1
    return frozenset(attrs), fg, bg


def transition(before: str, after: str) -> str | None:
    """The SGR parameters that turn ``before`` into ``after`` without a reset, or None.

    Going from a highlighted cell (``1;7;fg;bg``) to a plain one (``fg;bg``) is ``22;27``
    rather than a reset and the whole colour again.
    """
    old, new = _parse(before), _parse(after)
    if old is None or new is None:
        return None
    (a0, f0, b0), (a1, f1, b1) = old, new
    codes: list[str] = []
    offs = {_OFF[a] for a in a0 - a1}
    codes += sorted(offs)
    lost = {a for a in a1 if _OFF[a] in offs}  # e.g. faint kept while bold goes (both 22)
    codes += sorted((a1 - a0) | lost)
    if f1 != f0:
        codes.append(f1 or "39")
    if b1 != b0:
        codes.append(b1 or "49")
    return ";".join(codes)


class _Writer:
    """Terminal output for a partial update that sets a colour only when it changes.

    Textual writes every styled segment as ``SGR text reset``; spans of a partial update are
    separated only by cursor moves, which do not touch the colours, so a span in the same
    style as the one before needs neither the reset nor the SGR again (~25 bytes each).
    """

    def __init__(self, console: Console) -> None:
        self.color_system = console._color_system or ColorSystem.TRUECOLOR
        self.out: list[str] = []
        self.sgr = ""  # the attributes in effect ("" = the terminal's defaults)

    def move(self, x: int, y: int) -> None:
        self.out.append(_compositor.Control.move_to(x, y).segment.text)

    def text(self, text: str) -> None:
        self.out.append(text)

    def strip(self, strip: Strip) -> None:
        for text, style, control in strip._segments:
            if control or not text:
                continue
            if style is None or style._link:
                self.reset()
                self.out.append(
                    text if style is None else Strip.render_style(style, text, self.color_system)
                )
                continue
            ansi = style._ansi
            if ansi is None:
                ansi = Strip.render_ansi(style, self.color_system)
            if ansi != self.sgr:
                change = transition(self.sgr, ansi)
                if change is None:  # not a change we can express: start from a reset
                    self.reset()
                    change = ansi
                if change:
                    self.out.append(f"\x1b[{change}m")
                self.sgr = ansi
            self.out.append(text)

    def reset(self) -> None:
        if self.sgr:
            self.out.append("\x1b[0m")
            self.sgr = ""

    def result(self) -> str:
        self.reset()
        return "".join(self.out)


def render_segments(self: _compositor.ChopsUpdate, console: Console) -> str:
    """``ChopsUpdate.render_segments`` with the ``TODO: crop to x extents`` done, and colours
    written only when they change between the spans of the update."""
    writer = _Writer(console)
    chops = self.chops
    chop_ends = self.chop_ends
    last_y = self.spans[-1][0]

    for y, x1, x2 in self.spans:
        line = chops[y]
        ends = chop_ends[y]
        for end, (x, strip) in zip(ends, line.items(), strict=False):
            if strip is None:
                continue
            if x > x2 or end <= x1:
                continue
            if x2 > x >= x1 and end <= x2:
                writer.move(x, y)
                writer.strip(strip)
                continue
            start = cluster_start(strip, x1 - x) if x < x1 else 0
            writer.move(x + start, y)
            writer.strip(strip.crop(start, min(end, x2) - x))
        if y != last_y:
            writer.text("\n")
    return writer.result()


def install() -> bool:
    """Apply the left crop (idempotent); False when Textual is not the version it was made for."""
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Back to Textual's own method (tests compare the two)."""
    _compositor.ChopsUpdate.render_segments = _stock  # type: ignore[method-assign]
