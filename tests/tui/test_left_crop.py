"""The compositor patch: partial updates cropped on the left, never inside a character."""

from __future__ import annotations

import io

import pytest
import textual
from rich.console import Console
from rich.segment import Segment
from rich.style import Style
from textual._compositor import ChopsUpdate
from textual.strip import Strip

from tui import left_crop


def console() -> Console:
    return Console(file=io.StringIO(), color_system="256", force_terminal=True, width=80)


def update(strip: Strip, x1: int, x2: int) -> ChopsUpdate:
    return ChopsUpdate([{0: strip}], [(0, x1, x2)], [[strip.cell_length]])


@pytest.mark.parametrize(
    ("text", "offset", "start"),
    [
        ("abcdef", 3, 3),
        ("東京都", 3, 2),  # inside the second wide character: step back to its start
        ("東京都", 4, 4),
        ("ភ្នំពេញ", 2, 2),
        ("e\u0301xy", 1, 1),  # the combining accent stays with its "e"
        ("abc", 10, 3),
    ],
)
def test_cluster_start_never_splits_a_character(text: str, offset: int, start: int) -> None:
    assert left_crop.cluster_start(Strip([Segment(text)]), offset) == start


def test_a_span_on_the_right_sends_only_that_span() -> None:
    red = Style(color="red")
    strip = Strip([Segment("Kandal    ", Style(bold=True)), Segment("259,816   363,255", red)])
    patched = left_crop.render_segments(update(strip, 20, 27), console())
    stock = left_crop._stock(update(strip, 20, 27), console())
    assert "363,255" in patched and "Kandal" not in patched and "259" not in patched
    assert "Kandal" in stock  # what Textual sends without the patch
    assert patched.startswith("\x1b[1;21H")  # the cursor moves straight to column 21


def test_wide_characters_are_resent_whole() -> None:
    strip = Strip([Segment("ab東京cd")])
    out = left_crop.render_segments(update(strip, 3, 6), console())
    assert out.startswith("\x1b[1;3H") and "東京" in out  # starts at 東, not half-way into it


def test_installed_only_on_the_textual_it_was_written_for() -> None:
    try:
        assert left_crop.install() == (textual.__version__ == left_crop.TEXTUAL_VERSION)
    finally:
        left_crop.uninstall()
    assert ChopsUpdate.render_segments is left_crop._stock


Cells = dict[tuple[int, int], tuple[str, object]]


def _apply(state: tuple[frozenset[str], str, str], codes: str) -> tuple[frozenset[str], str, str]:
    """What an SGR sequence does to (attributes, foreground, background), as a terminal."""
    attrs, fg, bg = set(state[0]), state[1], state[2]
    off = {"22": {"1", "2"}, "23": {"3"}, "24": {"4", "21"}, "25": {"5", "6"}, "27": {"7"}}
    off |= {"28": {"8"}, "29": {"9"}, "54": {"51", "52"}, "55": {"53"}}
    parts = codes.split(";") if codes else ["0"]
    i = 0
    while i < len(parts):
        code = parts[i]
        if code in ("38", "48"):
            size = 3 if parts[i + 1] == "5" else 5
            color = ";".join(parts[i : i + size])
            fg, bg = (color, bg) if code == "38" else (fg, color)
            i += size
            continue
        n = int(code)
        if n == 0:
            attrs, fg, bg = set(), "", ""
        elif code in off:
            attrs -= off[code]
        elif n == 39:
            fg = ""
        elif n == 49:
            bg = ""
        elif 30 <= n <= 37 or 90 <= n <= 97:
            fg = code
        elif 40 <= n <= 47 or 100 <= n <= 107:
            bg = code
        else:
            attrs.add(code)
        i += 1
    return frozenset(attrs), fg, bg


def screen(output: str, cells: Cells) -> tuple[Cells, object]:
    """A tiny terminal: cursor moves, SGR, text → (cells, attributes left switched on)."""
    import re

    cells = dict(cells)
    x = y = 0
    state: tuple[frozenset[str], str, str] = (frozenset(), "", "")
    for row, col, codes, newline, char in re.findall(
        r"\x1b\[(\d+);(\d+)H|\x1b\[([0-9;]*)m|(\n)|(.)", output, re.S
    ):
        if row:
            y, x = int(row) - 1, int(col) - 1
        elif newline:
            y, x = y + 1, 0
        elif char:
            cells[(x, y)] = (char, state)
            x += 1
        else:
            state = _apply(state, codes)
    return cells, state


def test_colours_are_written_once_per_run_and_the_screen_is_the_same() -> None:
    import random

    rng = random.Random(5)
    styles = [
        Style(color="red"),
        Style(bold=True),
        Style(color="red", bold=True, reverse=True),
        None,
        Style(bgcolor="blue", dim=True),
        Style(color="color(253)", bgcolor="color(234)"),
        Style(color="color(253)", bgcolor="color(234)", bold=True, reverse=True),
        Style(color="#ff0000", italic=True, dim=True, bold=True),
    ]
    for _ in range(300):
        segments = [
            Segment(
                "".join(rng.choice("ab12 ") for _ in range(rng.randint(1, 6))), rng.choice(styles)
            )
            for _ in range(rng.randint(1, 8))
        ]
        strip = Strip(segments)
        width = strip.cell_length
        regions = sorted(
            {
                (y, a, min(a + rng.randint(1, 5), width))
                for y in (0, 1)
                for a in sorted(rng.randrange(width) for _ in range(2))
            }
        )
        update = ChopsUpdate([{0: strip}, {0: strip}], regions, [[width], [width]])
        full = ChopsUpdate(
            [{0: strip}, {0: strip}], [(0, 0, width), (1, 0, width)], [[width], [width]]
        )
        # On screen before: the new content everywhere except the dirty spans.
        shown, _ = screen(left_crop._stock(full, console()), {})
        for y, a, b in regions:
            for x in range(a, b):
                shown[(x, y)] = ("?", "stale")
        patched = left_crop.render_segments(update, console())
        stock = left_crop._stock(update, console())
        assert len(patched) <= len(stock)
        after_stock, left_stock = screen(stock, shown)
        after_patched, left_patched = screen(patched, shown)
        assert after_patched == after_stock
        assert left_patched == left_stock == (frozenset(), "", "")  # nothing left on
