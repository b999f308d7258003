"""A small stored night for the history screens: real Snapshots recorded in a real HistoryStore.

Kandal, Kep and Takeo; three parties, one of them named with Rich markup (it must be shown
literally). Fixed times, so the screens (and their SVG snapshots) never depend on the clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from nightdesk.model import Party, Race, Snapshot
from nightdesk.store import Evidence, HistoryStore

SOURCE = "nec"
ZONE = ZoneInfo("Asia/Phnom_Penh")
START = datetime(2013, 7, 28, 12, 0, tzinfo=UTC)  # 19:00 in Phnom Penh
UNITS = ["Kandal", "Kep", "Takeo"]
PARTIES = {
    "CPP": Party("CPP", "CPP"),
    "CNRP": Party("CNRP", "CNRP"),
    "FUNC": Party("FUNC", "[bold]FUNCINPEC[/]"),
}
LABELS = {p.id: p.name for p in PARTIES.values()}
RACE = Race("na", "[b]National Assembly[/b]")

#: Votes per poll: unit → (CPP, CNRP, FUNC). Poll 3 corrects Kandal CPP downwards.
POLLS: list[dict[str, tuple[int, int, int]]] = [
    {"Kandal": (250_000, 340_000, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_000)},
    {"Kandal": (259_816, 362_858, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)},
    {"Kandal": (259_586, 363_255, 9_000), "Kep": (9_000, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)},
    {"Kandal": (270_102, 371_004, 9_310), "Kep": (9_120, 5_000, 300),
     "Takeo": (200_000, 190_000, 7_450)},
]  # fmt: skip
REPORTING = [0.5, 0.5, 0.5, 0.75]


def snapshot(
    votes: dict[str, tuple[int, int, int]],
    at: datetime,
    reporting: float = 0.5,
    race: Race | None = RACE,
) -> Snapshot:
    units = list(votes)
    return Snapshot.build(
        source=SOURCE,
        votes=pd.DataFrame([votes[u] for u in units], index=units, columns=list(PARTIES)),
        units=pd.DataFrame(
            {"seats": [11, 1, 8][: len(units)], "reporting": [reporting] * len(units)},
            index=units,
        ),
        parties=PARTIES,
        fetched_at=at,
        published_at=at - timedelta(seconds=30),
        race=race,
    )


def evidence(at: datetime, body: bytes) -> Evidence:
    return Evidence(
        source=SOURCE,
        url="https://results.example.org/results.csv",
        fetched_at=at,
        status=200,
        etag=None,
        last_modified=None,
        date=None,
        body=body,
    )


def record(store: HistoryStore, snap: Snapshot, at: datetime) -> int:
    """Record ``snap`` with a body that stands for what was served; returns its id."""
    body = snap.votes.to_csv().encode()
    ids = store.record(evidence(at, body), [snap])
    assert len(ids) == 1, ids
    return ids[0]


def night(path: Path) -> tuple[HistoryStore, list[int]]:
    """The four polls, five minutes apart; returns the open store and the ids."""
    store = HistoryStore.open(path)
    ids = []
    for i, (votes, reporting) in enumerate(zip(POLLS, REPORTING, strict=True)):
        at = START + timedelta(minutes=5 * i)
        ids.append(record(store, snapshot(votes, at, reporting), at))
    return store, ids


def long_night(path: Path, polls: int) -> HistoryStore:
    """``polls`` distinct snapshots, one cell changing each time (a long, fast-polled night).
    Votes only: a full snapshot costs ~6 ms to build, this one ~1 ms."""
    store = HistoryStore.open(path)
    votes = pd.DataFrame(
        [POLLS[0][u] for u in UNITS], index=UNITS, columns=list(PARTIES), dtype="Int64"
    )
    for i in range(polls):
        votes.iloc[1, 0] += 1 + i % 3
        at = START + timedelta(seconds=10 * i)
        snap = Snapshot.build(source=SOURCE, votes=votes, fetched_at=at, race=RACE)
        store.record(evidence(at, f"poll {i}".encode()), [snap])
    return store
