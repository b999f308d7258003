"""Acceptance: a scripted feed sequence, served over real HTTP and read by the real poller,
produces exactly the expected alerts, each once."""

from __future__ import annotations

from datetime import timedelta

from nightdesk import config as cfg
from nightdesk.alert_rules import CORRECTION, FAILING, FULL_REPORTING, MARGIN, SEAT_CHANGE, STALE
from nightdesk.alerts import Alert, AlertBook
from nightdesk.polling import Poller, SourceState
from tests.conftest import FeedServer
from tests.tui import scenario


def config(url: str) -> cfg.Config:
    return cfg.parse(
        f"""
[election]
name = "alerts night"
timezone = "Asia/Phnom_Penh"

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = 30
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"

[alerts]
margin_under = 1000
stale_after = 60
"""
    )


KANDAL_FLIPS = scenario.feed(
    {"Kandal": (259_586, 363_600, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)}
)  # fmt: skip
ALL_IN = scenario.feed(
    {"Kandal": (259_586, 363_600, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)},
    reporting=1.0,
)  # fmt: skip

# (seconds after the start, what the server answers, the alerts expected: rule, name, what)
SCRIPT: list[tuple[int, str | int, list[tuple[str, str, str]]]] = [
    (0, scenario.FIRST, []),  # the reference: nothing is an event yet
    (
        30,
        scenario.SECOND,
        [
            (
                MARGIN,
                "Kandal",
                "close last seat: CNRP needs 885 votes to take it from CPP (under 1,000)",
            )
        ],
    ),
    (40, scenario.SECOND, []),  # the same body: nothing new
    (50, scenario.THIRD, [(CORRECTION, "Kandal", "correction: CPP 259,816 → 259,586 (-230)")]),
    (
        60,
        KANDAL_FLIPS,  # CNRP +345 takes the last seat; the margin stays under: not said again
        [
            (SEAT_CHANGE, "Kandal", "seat changes hands: CPP 5 → 4, CNRP 6 → 7"),
            (SEAT_CHANGE, "National", "seats change: CPP 10 → 9, CNRP 10 → 11"),
        ],
    ),
    (90, 503, [(FAILING, "nec", "failing: HTTP 503 Service Unavailable from URL/results.csv")]),
    (100, 503, []),  # still failing: said once
    (121, 503, [(STALE, "nec", "stale: no good poll for 1 min 01 s")]),
    (
        150,
        ALL_IN,  # back, and every province at 100%
        [
            (FULL_REPORTING, "Kandal", "100% reporting"),
            (FULL_REPORTING, "Kep", "100% reporting"),
            (FULL_REPORTING, "Takeo", "100% reporting"),
        ],
    ),
    (160, ALL_IN, []),
    # Failing again after recovering: said again.
    (180, 500, [(FAILING, "nec", "failing: HTTP 500 Internal Server Error from URL/results.csv")]),
]


async def test_a_scripted_night_says_each_alert_once(feed_server: FeedServer) -> None:
    c = config(feed_server.url)
    now = [scenario.NOW]
    poller = Poller(c, clock=lambda: now[0])
    book = AlertBook(c.alerts, clock=lambda: now[0])
    heard: list[Alert] = []

    def observe(state: SourceState) -> None:
        heard.extend(book.observe(state))

    poller.subscribe(observe)  # every state the poller publishes, as the app gets them
    got: list[list[tuple[str, str, str]]] = []
    async with poller:
        for seconds, answer, _ in SCRIPT:
            now[0] = scenario.NOW + timedelta(seconds=seconds)
            if isinstance(answer, int):
                feed_server.set("busy", status=answer)
            else:
                feed_server.set(answer)
            start = len(heard)
            await poller.poll(c.sources[0])
            got.append(
                [(a.rule, a.name, a.what.replace(feed_server.url, "URL")) for a in heard[start:]]
            )
    assert got == [expected for _, _, expected in SCRIPT]
    assert list(book.log) == heard
    # Each alert carries the time it was seen (the poller's clock).
    assert [int((a.at - scenario.NOW).total_seconds()) for a in heard] == [
        30, 50, 60, 60, 90, 121, 150, 150, 150, 180
    ]  # fmt: skip
