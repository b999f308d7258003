"""What a desk wants to be told about (``[alerts]``); sensible defaults without the table."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightdesk.config_reader import Reader


@dataclass(frozen=True)
class AlertRules:
    seat_change: bool = True
    #: A last-seat margin under this many votes (None: off).
    margin_under: int | None = 1000
    full_reporting: bool = True
    corrections: bool = True
    #: A source with no good poll for this many seconds (None: off).
    stale_after: float | None = 300.0
    failing: bool = True
    bell: bool = False


def read_alert_rules(reader: Reader, data: Mapping[str, Any]) -> AlertRules:
    t: tuple[Any, ...] = ("alerts",)
    reader.table(data, t, list(AlertRules.__dataclass_fields__))
    rules = AlertRules()
    values: dict[str, Any] = {}
    for key in ("seat_change", "full_reporting", "corrections", "failing", "bell"):
        values[key] = reader.get(data, t, key, (bool,), "true or false", getattr(rules, key))
    margin = reader.get(data, t, "margin_under", (int,), "a whole number of votes", 1000)
    stale = reader.get(data, t, "stale_after", (int, float), "a number of seconds", 300.0)
    if margin < 0:
        raise reader.error(t, "margin_under", f"expected 0 or more votes, got {margin}")
    if stale < 0:
        raise reader.error(t, "stale_after", f"expected 0 or more seconds, got {stale}")
    values["margin_under"] = margin or None
    values["stale_after"] = float(stale) or None
    return AlertRules(**values)
