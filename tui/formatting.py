"""Numbers as a desk reads them: thousands separators, signed changes, markers that do not
rely on colour (▲ up, ▼ a correction)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Literal

from rich.cells import cell_len, set_cell_size

UP = "▲"
DOWN = "▼"
#: Left blocks in eighths of a cell: a share bar's last, partial cell.
EIGHTHS = ("", "▏", "▎", "▍", "▌", "▋", "▊", "▉")
FULL = "█"
#: Khmer's subscript sign: it joins the next consonant, so a cut never ends on it.
_COENG = "\u17d2"


def count(value: int | float | None) -> str:
    return "—" if value is None else f"{int(value):,}"


def signed(value: int | float | None) -> str:
    if not value:
        return ""
    return f"{int(value):+,}"


def net_change(value: int | float | None, correction: bool = False) -> str:
    """A net change by its sign (▲ up, ▼ down); ``!`` marks a correction inside it."""
    if not value and not correction:
        return ""
    mark = DOWN if value is not None and value < 0 else UP
    text = f"{mark} {signed(value) or '±0'}"
    return f"{text} !" if correction and mark == UP else text


def percent(fraction: float | None, digits: int = 0) -> str:
    return "" if fraction is None else f"{fraction * 100:.{digits}f}%"


def clock(at: datetime, zone: tzinfo, seconds: bool = False) -> str:
    return at.astimezone(zone).strftime("%H:%M:%S" if seconds else "%H:%M")


def fit(text: str, width: int, align: Literal["left", "right"] = "left") -> str:
    """Exactly ``width`` terminal cells (Rich's count: combining marks and zero-width
    characters take none, wide characters two): padded, or cut with an ellipsis."""
    if width <= 0:
        return ""
    size = cell_len(text)
    if size > width:
        cut = set_cell_size(text, width - 1).rstrip(_COENG)
        return set_cell_size(cut + "…", width)
    pad = " " * (width - size)
    return pad + text if align == "right" else text + pad


def bar(fraction: float | None, width: int) -> str:
    """A share as a bar of ``width`` cells, in eighths of a cell; a share above zero shows
    at least a sliver. Block characters, so it reads without colour."""
    if width <= 0:
        return ""
    if not fraction or fraction <= 0:
        return " " * width
    eighths = round(min(fraction, 1.0) * width * 8) or 1
    full, part = divmod(eighths, 8)
    return (FULL * full + EIGHTHS[part]).ljust(width)
