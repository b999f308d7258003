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
