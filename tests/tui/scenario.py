"""A small, fixed election night for the screen tests: real HTTP, frozen clocks."""

from __future__ import annotations

from datetime import UTC, datetime

from nightdesk import config as cfg
from nightdesk.polling import Poller
from nightdesk.store import HistoryStore
from tui.app import NightdeskApp

NOW = datetime(2013, 7, 28, 12, 34, tzinfo=UTC)  # 19:34 in Phnom Penh

PARTIES = ("CPP", "CNRP", "FUNCINPEC")
SEATS = {"Kandal": 11, "Kep": 1, "Takeo": 8}


def feed(votes: dict[str, tuple[int | None, ...]], reporting: float = 0.5, extra: int = 0) -> str:
    """A long CSV; ``extra`` adds filler provinces so the table has to scroll."""
    lines = ["province,party,votes,seats,reporting"]
    for unit, counts in votes.items():
        for party, n in zip(PARTIES, counts, strict=True):
            lines.append(f"{unit},{party},{'' if n is None else n},{SEATS[unit]},{reporting}")
    for i in range(extra):
        for party, n in zip(PARTIES, (1000 + i, 900, 10), strict=True):
            lines.append(f"Filler {i:02d},{party},{n},1,1")
    return "\n".join(lines) + "\n"


FIRST = feed({"Kandal": (250_000, 340_000, 9_000), "Kep": (9_000, 5_000, 300),
              "Takeo": (200_000, 190_000, 7_000)})  # fmt: skip
# Three cells change: Kandal CPP and CNRP, Takeo FUNCINPEC.
SECOND = feed({"Kandal": (259_816, 362_858, 9_000), "Kep": (9_000, 5_000, 300),
               "Takeo": (200_000, 190_000, 7_450)})  # fmt: skip
# A correction: Kandal CPP goes down.
THIRD = feed({"Kandal": (259_586, 363_255, 9_000), "Kep": (9_000, 5_000, 300),
              "Takeo": (200_000, 190_000, 7_450)})  # fmt: skip


def toml(url: str, simulated: bool = True) -> str:
    """The scenario's config as text (tests add a table of their own to it)."""
    return f"""
[election]
name = "National Assembly 2013 (test night)"
timezone = "Asia/Phnom_Penh"
simulated = {str(simulated).lower()}

[[sources]]
name = "nec"
url = "{url}/results.csv"
format = "csv"
interval = 3600
timeout = 3

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"
reporting = "reporting"
"""


def config(url: str, simulated: bool = True) -> cfg.Config:
    return cfg.parse(toml(url, simulated))


def app(
    url: str, *, config_: cfg.Config | None = None, store: HistoryStore | None = None
) -> NightdeskApp:
    """The monitor with every clock frozen and highlights that never fade (``config_``:
    another config than the scenario's; ``store``: a history store to keep the night in)."""
    c = config_ or config(url)
    return NightdeskApp(
        c,
        poller=Poller(c, clock=lambda: NOW, store=store),
        poll=False,
        now=lambda: NOW,
        monotonic=lambda: 0.0,
        highlight_seconds=1e9,
    )


async def poll(app: NightdeskApp) -> None:
    """One poll of the source, then let the app handle the message."""
    await app.poller.poll(app.config.sources[0])


def count_lines(app: NightdeskApp) -> list[str]:
    """The changes pane's lines without the alert lines ("HH:MM:SS ! …"), which the default
    alert rules add on this night (tests of counts and findings look at the rest)."""
    from tui.widgets.changes_pane import ChangesPane

    lines = app.main.query_one(ChangesPane).lines_text
    return [line for line in lines if line.split(" ", 2)[1:2] != ["!"]]
