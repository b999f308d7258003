"""A small night as a schema 1 store recorded it (before race calls and test races).

``data/schema1.sqlite`` was written by the nightdesk of commit b5cd60b (store schema 1)
running this module::

    git archive b5cd60b nightdesk | tar -x -C /tmp/oldtree
    cd /tmp/oldtree && PYTHONPATH=/tmp/oldtree:/work/main \\
        /work/main/.venv/bin/python -m tests.engine.schema1_night OUT.sqlite

It uses only what both versions of the model accept, so the tests build the same snapshots
with today's code and compare.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta

import pandas as pd

from nightdesk.model import Race, Snapshot

T0 = datetime(2013, 7, 28, 10, 0, tzinfo=UTC)
SENATE = Race("s", "Senate")
FILE = "schema1.sqlite"


def parties(ids: list[str]) -> pd.DataFrame:
    names = {"A": ("Alpha", "AL", "#ff0000"), "B": ("Beta", None, None), "C": ("Gamma", "G", None)}
    return pd.DataFrame(
        [names[p] for p in ids], index=ids, columns=["name", "short_name", "colour"]
    ).astype("string")


def night() -> list[tuple[bytes, list[Snapshot]]]:
    """(body, snapshots) per fetch, oldest first."""
    units = pd.DataFrame(
        {"name": ["Takeo", "Kandal"], "seats": [3, 5], "reporting": [0.5, 0.25]},
        index=["t", "k"],
    )

    def snap(votes: dict[str, list[int | None]], k: int, race: Race | None = SENATE) -> Snapshot:
        ids = list(votes)
        return Snapshot.build(
            source="nec",
            votes=pd.DataFrame(votes, index=["t", "k"], dtype="Int64"),
            units=units,
            parties=parties(ids),
            fetched_at=T0 + timedelta(minutes=k),
            race=race,
        )

    return [
        (b"first", [snap({"A": [10, 20], "B": [5, None]}, 0), snap({"A": [1, 2]}, 0, None)]),
        (b"second", [snap({"A": [12, 20], "B": [5, 7]}, 1)]),
        (b"third", [snap({"A": [12, 20], "B": [5, 7], "C": [0, 1]}, 2)]),
    ]


def evidence(body: bytes, at: datetime) -> object:
    from nightdesk.store import Evidence

    return Evidence("nec", "https://results.example/nec.csv", at, 200, None, None, None, body)


def main(path: str) -> None:
    from nightdesk.store import HistoryStore

    with HistoryStore.open(path) as store:
        for body, snapshots in night():
            store.record(evidence(body, snapshots[0].fetched_at), snapshots)  # type: ignore[arg-type]
        conn = store._conn
        assert conn is not None
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


if __name__ == "__main__":
    main(sys.argv[1])
