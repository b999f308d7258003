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


def change_marker(value: int | float | None, correction: bool = False) -> str:
    """``▲ +1,234`` for a gain, ``▼ -120`` for a correction, "" for no change."""
    if correction or (value is not None and value < 0):
        return f"{DOWN} {signed(value) or '0'}"
    return f"{UP} {signed(value)}" if value else ""


def percent(fraction: float | None, digits: int = 0) -> str:
    return "" if fraction is None else f"{fraction * 100:.{digits}f}%"


def clock(at: datetime, zone: tzinfo) -> str:
    return at.astimezone(zone).strftime("%H:%M")
