"""The ``snapshot`` document of design.md, built from source states.

The JSON shape is a contract that scripts rely on: extend it, never rename. The CSV rows are
derived from the same document so the two can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd

from nightdesk import hierarchy
from nightdesk.config import Config
from nightdesk.model import Snapshot
from nightdesk.polling import SourceState
from nightdesk.results import RaceResult

CSV_COLUMNS = [
    "source",
    "race",
    "unit_id",
    "unit_name",
    "parent",
    "seats",
    "reporting",
    "party",
    "votes",
    "share",
    "seats_won",
    "seats_decided",  # extension: of seats_won, those no uncounted ballot can move
    "called",  # extension: the feed's race call for the party ("winner", "runoff", "")
    "race_test",  # extension: the feed marks the race's results as test data
]


def iso_time(t: datetime | None, config: Config) -> str | None:
    """ISO 8601 in the election's zone, with its offset (design.md's times)."""
    return t.astimezone(config.election.timezone).isoformat() if t is not None else None


def _opt_int(value: Any) -> int | None:
    return None if value is pd.NA or value is None else int(value)


def _opt_str(value: Any) -> str | None:
    return None if value is pd.NA or value is None else str(value)


def national(snapshot: Snapshot) -> pd.DataFrame:
    """The votes national totals count: the top-level units only (a county's votes are
    also its state's)."""
    top = hierarchy.top_level(snapshot)
    return snapshot.votes if top.all() else snapshot.votes[top]


def _vote_types(snapshot: Snapshot, parties: list[str]) -> list[dict[str, dict[str, Any]]]:
    """Per unit (in the votes' order): {vote type: {party: votes | None}}; empty without a
    split."""
    types = snapshot.vote_types or {}
    rows: list[dict[str, dict[str, Any]]] = [{} for _ in range(len(snapshot.votes))]
    for name, table in types.items():
        aligned = table.reindex(index=snapshot.votes.index, columns=snapshot.votes.columns)
        values = aligned.to_numpy(dtype=object, na_value=None)
        for i, row in enumerate(values):
            rows[i][name] = {
                p: (None if v is None else int(v)) for p, v in zip(parties, row, strict=True)
            }
    return rows


def election_document(config: Config) -> dict[str, Any]:
    e = config.election
    return {
        "name": e.name,
        "seats_method": e.rules.method,
        "threshold": e.rules.threshold,
        "national_threshold": e.rules.national_threshold,
        "tie": e.rules.tie,
        "timezone": e.timezone.key,
        "simulated": e.simulated,
    }


def race_document(name: str, result: RaceResult, config: Config) -> dict[str, Any]:
    """One source × race, exactly as design.md's ``sources[]`` entry (plus extensions).

    Extensions: per unit ``seats_decided`` ({party: seats that no uncounted ballots can take
    away}; ``seats_won − seats_decided`` are provisional) and, when the feed splits the votes
    by how they were cast, ``vote_types`` ({type: {party: votes | null}}); per party in
    ``totals`` ``seats_decided`` (their national sum), ``name`` and ``called`` (the feed's
    race call, "winner" | "runoff" | null); ``race.test`` (the feed marks the results as test
    data) and ``called`` ({party: call} for the parties the feed called).

    National ``votes`` and ``share`` count the top-level units only (:func:`national`).
    """
    snap, alloc = result.snapshot, result.allocation
    votes = snap.votes
    parties = [str(p) for p in votes.columns]
    vals = votes.to_numpy(dtype=object, na_value=None)
    won = alloc.seats.to_numpy(dtype=np.int64)
    decided = (
        result.decided.reindex(index=votes.index, columns=votes.columns)
        .fillna(0)
        .to_numpy(dtype=np.int64)
    )
    types = _vote_types(snap, parties) if snap.vote_types else None
    units = []
    for i, unit in enumerate(votes.index):
        row = snap.units.loc[unit]
        seats = result.seats.loc[unit]
        ls = alloc.last_seat.get(str(unit))
        units.append(
            {
                "id": str(unit),
                "name": str(row["name"]),
                "parent": _opt_str(row["parent"]),
                "seats": _opt_int(seats),
                "reporting": None if row["reporting"] is pd.NA else float(row["reporting"]),
                "votes": {
                    p: (None if v is None else int(v))
                    for p, v in zip(parties, vals[i], strict=True)
                },
                "seats_won": {p: int(w) for p, w in zip(parties, won[i], strict=True)},
                "seats_decided": {p: int(d) for p, d in zip(parties, decided[i], strict=True)},
                "undecided": int(alloc.undecided.loc[unit]),
                "last_seat": (
                    {
                        "holder": ls.holder,
                        "challenger": ls.challenger,
                        "votes_needed": ls.votes_needed,
                        "holder_can_lose": ls.holder_can_lose,
                    }
                    if ls is not None and ls.challenger is not None
                    else None
                ),
            }
        )
        if types is not None:
            units[-1]["vote_types"] = types[i]
    totals_votes = national(snap).sum(axis=0, min_count=1)
    called = snap.parties["called"].dropna()
    calls = {str(p): str(c) for p, c in called.items()}
    grand = int(totals_votes.fillna(0).sum())
    seat_totals = alloc.totals()
    decided_totals = decided.sum(axis=0)
    totals = {
        p: {
            "votes": _opt_int(totals_votes[p]),
            "share": (float(totals_votes[p]) / grand)
            if grand and totals_votes[p] is not pd.NA
            else (0.0 if grand else None),
            "seats": int(seat_totals[p]),
            "seats_decided": int(decided_totals[j]),
            "name": str(snap.parties.at[p, "name"]),
            "called": calls.get(p),
        }
        for j, p in enumerate(parties)
    }
    race = (
        {"id": snap.race.id, "name": snap.race.name, "test": snap.race.test} if snap.race else None
    )
    return {
        "name": name,
        "race": race,
        "called": calls,
        "fetched_at": iso_time(snap.fetched_at, config),
        "published_at": iso_time(snap.published_at, config),
        "units": units,
        "totals": totals,
    }


def snapshot_document(config: Config, states: Mapping[str, SourceState]) -> dict[str, Any]:
    """The whole ``nightdesk snapshot --format json`` document.

    Extension beyond design.md: ``failures`` lists sources that could not be read (they are
    absent from ``sources``), with the reason.
    """
    sources = []
    failures = []
    for source in config.sources:
        state = states[source.name]
        if state.health.failures or not state.results:
            failures.append({"name": source.name, "error": state.health.last_error or "no results"})
            continue
        sources.extend(race_document(source.name, r, config) for r in state.results)
    return {"election": election_document(config), "sources": sources, "failures": failures}


def csv_records(document: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One row per source × race × unit × party, from a snapshot document."""
    for src in document["sources"]:
        race = src["race"]["id"] if src["race"] else ""
        test = bool(src["race"] and src["race"].get("test"))
        calls = src.get("called", {})
        for unit in src["units"]:
            cast = sum(v for v in unit["votes"].values() if v is not None)
            for party, votes in unit["votes"].items():
                yield {
                    "source": src["name"],
                    "race": race,
                    "unit_id": unit["id"],
                    "unit_name": unit["name"],
                    "parent": unit["parent"] or "",
                    "seats": "" if unit["seats"] is None else unit["seats"],
                    "reporting": "" if unit["reporting"] is None else unit["reporting"],
                    "party": party,
                    "votes": "" if votes is None else votes,
                    "share": "" if votes is None or not cast else round(votes / cast, 6),
                    "seats_won": unit["seats_won"].get(party, 0),
                    "seats_decided": unit.get("seats_decided", {}).get(party, 0),
                    "called": calls.get(party, ""),
                    "race_test": test,
                }
