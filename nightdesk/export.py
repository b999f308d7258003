"""``nightdesk export``: the night's current state and change log, from the store.

Every row carries its evidence (source, snapshot, fetch and feed times, SHA-256 of the body
as served), so a figure quoted the next day can be traced to the bytes it came from:
``nightdesk evidence --store PATH SNAPSHOT`` writes those bytes out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import pandas as pd

from nightdesk.config import Config
from nightdesk.history import parse_again, with_vote_types
from nightdesk.model import Snapshot
from nightdesk.polling import Poller, SourceState
from nightdesk.report import csv_records, iso_time, snapshot_document
from nightdesk.store import HistoryStore, StoredSnapshot

#: ``--format csv``: state rows (``record = state``) and change rows (``record = change``)
#: in one table; the columns a kind of row does not use are empty.
CSV_COLUMNS = [
    "record",
    "source",
    "race",
    "snapshot",
    "fetched_at",
    "published_at",
    "body_sha256",
    "unit_id",
    "unit_name",
    "parent",
    "seats",
    "reporting",
    "party",
    "votes",
    "share",
    "seats_won",
    "seats_decided",
    "kind",
    "item",
    "before",
    "after",
    "change",
    "correction",
    "called",
    "race_test",
]


def _evidence(entry: StoredSnapshot, config: Config) -> dict[str, Any]:
    return {
        "snapshot": entry.id,
        "fetched_at": iso_time(entry.fetched_at, config),
        "published_at": iso_time(entry.published_at, config),
        "body_sha256": entry.body_sha256,
        "url": entry.url,
        "http_status": entry.status,
    }


def export_document(config: Config, store: HistoryStore) -> dict[str, Any]:
    """The ``snapshot`` document of the latest stored state (design.md's shape, each source
    with its evidence) plus ``changes``: every stored change, oldest first."""
    states = _with_vote_types(config, store, Poller(config, store=store).restore())
    document = snapshot_document(config, states)
    for source in document["sources"]:
        race = source["race"]["id"] if source["race"] else ""
        latest = store.latest_id(source["name"], race)
        if latest is not None:
            source["evidence"] = _evidence(store.entry(latest), config)
    document["changes"] = list(_changes(config, store))
    return document


def _with_vote_types(
    config: Config, store: HistoryStore, states: Mapping[str, SourceState]
) -> dict[str, SourceState]:
    """The restored states with the vote types their bodies hold (the store keeps the body,
    not the split): each stored body is parsed again once."""
    parsed: dict[tuple[str, str], dict[str, Snapshot]] = {}
    out = dict(states)
    for name, state in states.items():
        results = []
        for result in state.results:
            sid = state.stored.get(result.race_key)
            if sid is None:
                results.append(result)
                continue
            body = (name, store.entry(sid).body_sha256)
            if body not in parsed:
                parsed[body] = parse_again(store, config, sid)
            snapshot = with_vote_types(result.snapshot, parsed[body].get(result.race_key))
            results.append(
                result if snapshot is result.snapshot else replace(result, snapshot=snapshot)
            )
        out[name] = replace(state, results=tuple(results))
    return out


def _changes(config: Config, store: HistoryStore) -> Iterator[dict[str, Any]]:
    entries: dict[int, StoredSnapshot] = {e.id: e for e in store.timeline()}
    rows: list[tuple[int, dict[str, Any]]] = []
    for source in config.sources:
        for race, _ in store.races(source.name):
            frame = store.changes(source.name, race)
            for record in frame.to_dict("records"):
                entry = entries[int(record["snapshot_id"])]
                rows.append(
                    (
                        entry.id,
                        {
                            "source": source.name,
                            "race": race,
                            **_evidence(entry, config),
                            "unit_id": str(record["unit"]),
                            "kind": record["kind"],
                            "item": record["item"],
                            "before": _plain(record["before"]),
                            "after": _plain(record["after"]),
                            "change": _plain(record["change"]),
                            "correction": bool(record["correction"]),
                        },
                    )
                )
    rows.sort(key=lambda row: row[0])  # the order they were stored in, across sources
    for _, row in rows:
        yield row


def _plain(value: Any) -> int | float | str | None:
    """A JSON-able scalar (NumPy and pandas missing values become ``None``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()  # type: ignore[no-any-return]
    return value  # type: ignore[no-any-return]


def csv_rows(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The export document as CSV rows (``CSV_COLUMNS``): the state, then the changes."""
    evidence = {
        (s["name"], s["race"]["id"] if s["race"] else ""): s.get("evidence", {})
        for s in document["sources"]
    }
    for row in csv_records(document):
        ev = evidence.get((row["source"], row["race"]), {})
        yield {
            "record": "state",
            "snapshot": ev.get("snapshot", ""),
            "fetched_at": ev.get("fetched_at", ""),
            "published_at": ev.get("published_at") or "",
            "body_sha256": ev.get("body_sha256", ""),
            **row,
        }
    for change in document["changes"]:
        yield {
            "record": "change",
            **{k: ("" if v is None else v) for k, v in change.items() if k in CSV_COLUMNS},
        }
