"""What a desk wants to be told about (``[alerts]``); sensible defaults without the table.

Every rule is on by default except the bell (a terminal that beeps unasked is a terminal
that gets muted). A number rule is switched off with 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from nightdesk.config_reader import Reader

#: The rule ids, as ``Alert.rule`` and the changes pane name them.
SEAT_CHANGE = "seat_change"
MARGIN = "margin"
FULL_REPORTING = "full_reporting"
CORRECTION = "correction"
STALE = "stale"
FAILING = "failing"
RULE_TITLES: dict[str, str] = {
    SEAT_CHANGE: "seat changes hands",
    MARGIN: "close last seat",
    FULL_REPORTING: "100% reporting",
    CORRECTION: "correction",
    STALE: "source stale",
    FAILING: "source failing",
}


@dataclass(frozen=True)
class AlertRules:
    """The ``[alerts]`` table; the defaults are what a desk gets without one."""

    #: A party loses a seat in a unit to another (or to a tie); the national seats move.
    seat_change: bool = True
    #: A last seat's challenger needs fewer than this many votes to take it (None: off).
    margin_under: int | None = 1000
    #: A unit reaches 100% reporting.
    full_reporting: bool = True
    #: A count goes down, or a unit leaves the feed.
    corrections: bool = True
    #: A source with no good poll for this many seconds (None: off).
    stale_after: float | None = 300.0
    #: A source fails this many polls in a row (0 in the file, or ``failing = false``: off).
    failing: bool = True
    failing_after: int = 1
    #: Ring the terminal bell with each alert.
    bell: bool = False
    #: The sources whose counts raise the count rules (seats, margins, reporting,
    #: corrections); empty: the first source, the official count (a parallel tally moving
    #: with it would say everything twice). Stale and failing apply to every source.
    sources: tuple[str, ...] = ()


def read_alert_rules(reader: Reader, data: Mapping[str, Any]) -> AlertRules:
    t: tuple[Any, ...] = ("alerts",)
    reader.table(data, t, list(AlertRules.__dataclass_fields__))
    rules = AlertRules()
    values: dict[str, Any] = {}
    for key in ("seat_change", "full_reporting", "corrections", "failing", "bell"):
        values[key] = reader.get(data, t, key, (bool,), "true or false", getattr(rules, key))
    margin = reader.get(data, t, "margin_under", (int,), "a whole number of votes", 1000)
    stale = reader.get(data, t, "stale_after", (int, float), "a number of seconds", 300.0)
    after = reader.get(data, t, "failing_after", (int,), "a whole number of polls", 1)
    if margin < 0:
        raise reader.error(t, "margin_under", f"expected 0 or more votes, got {margin}")
    if not stale >= 0:  # NaN too
        raise reader.error(t, "stale_after", f"expected 0 or more seconds, got {stale}")
    if after < 0:
        raise reader.error(t, "failing_after", f"expected 0 or more polls, got {after}")
    names = reader.get(data, t, "sources", (list,), "a list of source names", [])
    if not all(isinstance(n, str) for n in names):
        raise reader.error(t, "sources", "expected a list of source names (strings)")
    values["sources"] = tuple(names)
    values["margin_under"] = margin or None
    values["stale_after"] = float(stale) or None
    values["failing_after"] = after or 1
    if not after:
        values["failing"] = False
    return AlertRules(**values)
