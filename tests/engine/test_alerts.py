"""The alert rules, one by one, on hand-made results: each fires once per event."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pandas as pd
import pytest

from nightdesk import Snapshot
from nightdesk import config as cfg
from nightdesk.alert_rules import (
    CORRECTION,
    FAILING,
    FULL_REPORTING,
    MARGIN,
    SEAT_CHANGE,
    STALE,
    AlertRules,
)
from nightdesk.alerts import ALERT, Alert, AlertBook, duration
from nightdesk.config import ElectionConfig, SourceConfig
from nightdesk.errors import ConfigError
from nightdesk.polling import SourceHealth, SourceState
from nightdesk.results import RaceResult, assess

T0 = datetime(2013, 7, 28, 12, 0, tzinfo=UTC)
ELECTION = ElectionConfig("test", ZoneInfo("Asia/Phnom_Penh"))
SOURCE = SourceConfig("nec", "http://127.0.0.1/feed.csv", "csv")
SEATS = {"u1": 3, "u2": 1}


def result(
    votes: dict[str, tuple[int | None, ...]],
    prior: RaceResult | None = None,
    reporting: dict[str, float] | None = None,
    at: datetime = T0,
) -> RaceResult:
    """Parties A and B; unit u1 has 3 seats, u2 one; names are the ids in capitals."""
    units = list(votes)
    frame = pd.DataFrame(
        {"A": [votes[u][0] for u in units], "B": [votes[u][1] for u in units]}, index=units
    )
    unit_table = pd.DataFrame(
        {
            "name": [u.upper() for u in units],
            "seats": [SEATS[u] for u in units],
            "reporting": [(reporting or {}).get(u, 0.5) for u in units],
        },
        index=units,
    )
    snapshot = Snapshot.build(source="nec", votes=frame, units=unit_table, fetched_at=at)
    return assess(snapshot, prior.snapshot if prior else None, ELECTION, prior=prior)


def state(
    *results: RaceResult,
    at: datetime = T0,
    failures: int = 0,
    error: str | None = None,
    last_success: datetime | None = None,
) -> SourceState:
    ok = last_success if last_success is not None else (at if not failures else None)
    health = SourceHealth(last_success=ok, last_attempt=at, last_error=error, failures=failures)
    return SourceState(SOURCE, results, health, changed=True, polls=1)


def said(alerts: list[Alert]) -> list[tuple[str, str, str]]:
    return [(a.rule, a.unit, a.what) for a in alerts]


# A 700 / B 300 in three seats: A 2, B 1 (D'Hondt: 700, 350, 300).
START = {"u1": (700, 300), "u2": (500, 100)}


def test_the_first_state_is_the_reference_not_an_event() -> None:
    book = AlertBook(AlertRules(margin_under=10_000))
    first = result(START, reporting={"u1": 1.0, "u2": 1.0})
    assert book.observe(state(first)) == []
    # The same results again (a failed poll keeps them; "it is stored"): nothing new.
    assert book.observe(state(first, at=T0 + timedelta(seconds=1))) == []
    assert book.log == type(book.log)() and book.said == 0


def test_a_seat_that_changes_hands_fires_once_with_the_national_seats() -> None:
    book = AlertBook(AlertRules(margin_under=None))
    first = result(START)
    book.observe(state(first))
    # A 700 / B 720: B 2, A 1 in u1 (720, 700, 360).
    flipped = result({"u1": (700, 720), "u2": (500, 100)}, prior=first)
    assert said(book.observe(state(flipped))) == [
        (SEAT_CHANGE, "u1", "seat changes hands: A 2 → 1, B 1 → 2"),
        (SEAT_CHANGE, "", "seats change: A 3 → 2, B 1 → 2"),
    ]
    alert = book.log[0]
    assert alert.name == "U1" and alert.message == "U1: seat changes hands: A 2 → 1, B 1 → 2"
    # More votes, the same seats: nothing.
    more = result({"u1": (710, 730), "u2": (500, 100)}, prior=flipped)
    assert book.observe(state(more)) == []


def test_first_seats_are_not_seats_changing_hands() -> None:
    book = AlertBook(AlertRules(margin_under=None))
    first = result({"u1": (None, None), "u2": (None, None)})
    book.observe(state(first))
    counted = result(START, prior=first)
    assert [a.rule for a in book.observe(state(counted))] == []


def test_a_close_last_seat_fires_when_it_falls_under_and_again_after_it_went_back() -> None:
    book = AlertBook(AlertRules(margin_under=100, seat_change=False, corrections=False))
    # u1: A 700, 350, 233; B's one seat at 300 is the last: A needs 201 votes for it.
    first = result(START)
    book.observe(state(first))

    def step(b: int, prior: RaceResult) -> tuple[RaceResult, list[Alert]]:
        r = result({"u1": (700, b), "u2": (500, 100)}, prior=prior)
        return r, book.observe(state(r))

    close, alerts = step(240, first)
    ls = close.allocation.last_seat["u1"]
    assert ls is not None and ls.votes_needed == 20
    assert said(alerts) == [
        (MARGIN, "u1", "close last seat: A needs 20 votes to take it from B (under 100)")
    ]
    closer, alerts = step(235, close)
    assert alerts == []  # still under: said already
    wide, alerts = step(290, closer)
    assert alerts == []
    assert wide.allocation.last_seat["u1"].votes_needed > 100  # type: ignore[union-attr]
    _, alerts = step(250, wide)
    assert [a.rule for a in alerts] == [MARGIN]  # fell again: said again


def test_margin_off() -> None:
    book = AlertBook(AlertRules(margin_under=None, seat_change=False))
    first = result(START)
    book.observe(state(first))
    assert book.observe(state(result({"u1": (700, 340), "u2": (500, 100)}, prior=first))) == []


def test_a_unit_at_full_reporting_fires_once() -> None:
    book = AlertBook(AlertRules(margin_under=None))
    first = result(START)
    book.observe(state(first))
    full = result({"u1": (700, 300), "u2": (510, 100)}, prior=first, reporting={"u2": 1.0})
    assert said(book.observe(state(full))) == [(FULL_REPORTING, "u2", "100% reporting")]
    still = result({"u1": (701, 300), "u2": (510, 100)}, prior=full, reporting={"u2": 1.0})
    assert book.observe(state(still)) == []


def test_a_correction_fires_per_unit_and_a_unit_that_leaves_too() -> None:
    book = AlertBook(AlertRules(margin_under=None, seat_change=False))
    first = result(START)
    book.observe(state(first))
    down = result({"u1": (690, 300)}, prior=first)
    assert said(book.observe(state(down))) == [
        (CORRECTION, "u1", "correction: A 700 → 690 (-10)"),
        (CORRECTION, "u2", "correction: left the feed"),
    ]
    assert book.log[-1].name == "U2"  # named from the snapshot it was last in


def test_corrections_off() -> None:
    book = AlertBook(AlertRules(corrections=False, margin_under=None))
    first = result(START)
    book.observe(state(first))
    assert book.observe(state(result({"u1": (690, 300), "u2": (500, 100)}, prior=first))) == []


def test_a_skipped_state_is_compared_with_the_reference() -> None:
    """The book compares with what it saw last, whatever the delta was computed from."""
    book = AlertBook(AlertRules(margin_under=None))
    first = result(START)
    book.observe(state(first))
    unseen = result({"u1": (680, 300), "u2": (500, 100)}, prior=first)
    after = result({"u1": (680, 300), "u2": (501, 100)}, prior=unseen)  # delta: u2 only
    assert said(book.observe(state(after))) == [(CORRECTION, "u1", "correction: A 700 → 680 (-20)")]


def test_a_failing_source_fires_once_until_a_good_poll() -> None:
    book = AlertBook(AlertRules(stale_after=None))
    first = result(START)
    book.observe(state(first))
    t = T0 + timedelta(seconds=30)
    failed = state(first, at=t, failures=1, error="HTTP 503", last_success=T0)
    assert said(book.observe(failed)) == [(FAILING, "", "failing: HTTP 503")]
    assert book.log[0].at == t and book.log[0].message == "nec: failing: HTTP 503"
    assert book.observe(replace(failed, health=replace(failed.health, failures=2))) == []
    assert book.observe(state(first, at=t + timedelta(seconds=30))) == []  # recovered
    again = state(first, at=t + timedelta(seconds=60), failures=1, error="timed out")
    assert said(book.observe(again)) == [(FAILING, "", "failing: timed out")]


def test_failing_after_some_polls_and_a_first_poll_that_fails() -> None:
    book = AlertBook(AlertRules(failing_after=3, stale_after=None))
    first = state(failures=1, error="refused", last_success=None)
    assert book.observe(first) == []  # no results yet: health is still watched
    h = first.health
    assert book.observe(replace(first, health=replace(h, failures=2))) == []
    third = book.observe(replace(first, health=replace(h, failures=3)))
    assert said(third) == [(FAILING, "", "failing: refused (3 polls in a row)")]


def test_a_stale_source_fires_once_between_polls_and_again_after_recovering() -> None:
    book = AlertBook(AlertRules(stale_after=300, failing=False))
    first = result(START)
    book.observe(state(first))
    assert book.tick(T0 + timedelta(seconds=300)) == []
    stale = book.tick(T0 + timedelta(seconds=301))
    assert said(stale) == [(STALE, "", "stale: no good poll for 5 min 01 s")]
    assert book.tick(T0 + timedelta(seconds=400)) == []
    failed = state(first, at=T0 + timedelta(seconds=500), failures=3, last_success=T0)
    assert book.observe(failed) == []  # said already
    good = T0 + timedelta(seconds=600)
    assert book.observe(state(first, at=good)) == []
    assert [a.rule for a in book.tick(good + timedelta(seconds=301))] == [STALE]


def test_a_restored_night_is_not_stale_for_the_time_the_monitor_was_down() -> None:
    """Restored states carry the stored last success (hours ago) and no attempt: staleness
    counts from when the book first saw the source."""
    now = [T0 + timedelta(hours=3)]
    book = AlertBook(AlertRules(stale_after=300), clock=lambda: now[0])
    restored = SourceState(SOURCE, (result(START),), SourceHealth(last_success=T0), True, 0)
    assert book.observe(restored) == []
    assert book.tick(now[0] + timedelta(seconds=299)) == []
    assert [a.rule for a in book.tick(now[0] + timedelta(seconds=301))] == [STALE]


def test_an_alert_is_a_change_log_line_of_its_own_kind() -> None:
    alert = Alert(T0, MARGIN, "nec", "", "u1", "Kandal", "close last seat")
    change = alert.change()
    assert (change.kind, change.item, change.unit, change.note) == (
        ALERT,
        MARGIN,
        "u1",
        "Kandal: close last seat",
    )
    assert change.is_finding and not change.is_votes
    assert alert.change(with_source=True).note == "nec · Kandal: close last seat"
    health = Alert(T0, STALE, "nec", "", "", "nec", "stale")
    assert health.change(with_source=True).note == "nec: stale"


def test_feed_names_are_made_printable() -> None:
    book = AlertBook(AlertRules(margin_under=None))
    first = result(START)
    book.observe(state(first))
    names = first.snapshot.units.assign(name=["Kep\x1b[2J", "U2"])
    snap = Snapshot.build(
        source="nec",
        votes=first.snapshot.votes.assign(A=[690, 500]),
        units=names,
        fetched_at=T0,
    )
    alerts = book.observe(state(assess(snap, first.snapshot, ELECTION, prior=first)))
    assert "\x1b" not in alerts[0].name


def test_the_log_is_bounded_and_numbered() -> None:
    book = AlertBook(AlertRules(stale_after=None), keep=2)
    base = state(result(START))
    book.observe(base)
    for i in range(3):
        failing = state(result(START), failures=1, error=f"e{i}", last_success=T0)
        book.observe(failing)
        book.observe(base)
    assert book.said == 3 and len(book.log) == 2
    assert [(n, a.what) for n, a in book.numbered()] == [(1, "failing: e1"), (2, "failing: e2")]


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45 s"), (300, "5 min"), (312, "5 min 12 s"), (3600, "1 h"), (3900, "1 h 05 min")],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


# -- the [alerts] table

BASE = """
[election]
name = "t"
timezone = "UTC"
[[sources]]
name = "nec"
url = "http://127.0.0.1/feed.csv"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"
"""


def test_defaults_without_the_table() -> None:
    rules = cfg.parse(BASE).alerts
    assert rules == AlertRules()
    assert (rules.margin_under, rules.stale_after, rules.failing_after, rules.bell) == (
        1000,
        300.0,
        1,
        False,
    )


def test_the_table_sets_every_rule() -> None:
    rules = cfg.parse(
        BASE
        + """
[alerts]
seat_change = false
margin_under = 900
full_reporting = false
corrections = false
stale_after = 90
failing_after = 3
bell = true
"""
    ).alerts
    assert rules == AlertRules(
        seat_change=False,
        margin_under=900,
        full_reporting=False,
        corrections=False,
        stale_after=90.0,
        failing_after=3,
        bell=True,
    )


def test_zero_switches_a_number_rule_off() -> None:
    rules = cfg.parse(BASE + "[alerts]\nmargin_under = 0\nstale_after = 0\nfailing_after = 0\n")
    assert rules.alerts.margin_under is None
    assert rules.alerts.stale_after is None
    assert rules.alerts.failing is False


@pytest.mark.parametrize(
    ("line", "said_"),
    [
        ("margin_under = -1", "margin_under"),
        ("margin_under = 1.5", "whole number"),
        ("stale_after = -2", "stale_after"),
        ("stale_after = nan", "stale_after"),
        ("bell = 1", "true or false"),
        ("failing_after = -1", "failing_after"),
        ("belll = true", "belll"),
    ],
)
def test_bad_values_are_errors_that_name_the_key(line: str, said_: str) -> None:
    with pytest.raises(ConfigError, match=said_):
        cfg.parse(BASE + "[alerts]\n" + line + "\n")


def test_only_the_counted_sources_raise_count_alerts_every_source_raises_health() -> None:
    """A parallel tally moving with the official count would say every seat change twice:
    the count rules follow the counted sources (the app: the first, or ``[alerts] sources``)."""
    tally = SourceConfig("tally", "http://127.0.0.1/tally.csv", "csv")
    book = AlertBook(AlertRules(margin_under=None), counted=["nec"])
    first = result(START)
    flipped = result({"u1": (700, 720), "u2": (500, 100)}, prior=first)
    for source in (SOURCE, tally):
        book.observe(replace(state(first), source=source))
    assert said(book.observe(replace(state(flipped), source=tally))) == []
    assert [a.rule for a in book.observe(replace(state(flipped), source=SOURCE))] == [
        SEAT_CHANGE,
        SEAT_CHANGE,
    ]
    failing = replace(state(flipped, failures=1, error="HTTP 503"), source=tally)
    assert [(a.rule, a.source) for a in book.observe(failing)] == [(FAILING, "tally")]


def test_alerts_sources_must_name_sources() -> None:
    text = """
[election]
name = "t"
[[sources]]
name = "nec"
url = "nec.csv"
format = "csv"
[sources.columns]
unit = "u"
party = "p"
votes = "v"
[alerts]
sources = ["nec", "talley"]
"""
    with pytest.raises(ConfigError, match="no source is named 'talley'"):
        cfg.parse(text)
    assert cfg.parse(text.replace(', "talley"', "")).alerts.sources == ("nec",)
