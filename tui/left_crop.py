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


def render_segments(self: _compositor.ChopsUpdate, console: Console) -> str:
    """``ChopsUpdate.render_segments`` with the ``TODO: crop to x extents`` done."""
    sequences: list[str] = []
    append = sequences.append
    move_to = _compositor.Control.move_to
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
                append(move_to(x, y).segment.text)
                append(strip.render(console))
                continue
            start = cluster_start(strip, x1 - x) if x < x1 else 0
            strip = strip.crop(start, min(end, x2) - x)
            append(move_to(x + start, y).segment.text)
            append(strip.render(console))
        if y != last_y:
            append("\n")
    return "".join(sequences)


def install() -> bool:
    """Apply the left crop (idempotent); False when Textual is not the version it was made for."""
    if textual.__version__ != TEXTUAL_VERSION:
        return False
    _compositor.ChopsUpdate.render_segments = render_segments  # type: ignore[method-assign]
    return True


def uninstall() -> None:
    """Back to Textual's own method (tests compare the two)."""
    _compositor.ChopsUpdate.render_segments = _stock  # type: ignore[method-assign]
