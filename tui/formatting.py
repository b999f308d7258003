"""Numbers as a desk reads them: thousands separators, signed changes, markers that do not
rely on colour (▲ up, ▼ a correction)."""

from __future__ import annotations

from datetime import datetime, tzinfo

UP = "▲"
DOWN = "▼"


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
