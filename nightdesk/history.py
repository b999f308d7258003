"""The night so far, read back from the store: the change log and the baselines a desk set.

The store keeps every change; the screens keep a bounded log. On a restart this is what
puts the log back, newest last, as it was before the monitor stopped.

The store does not keep vote types (``Snapshot.vote_types``) as cells: they are a view of
the body, which it keeps byte for byte. :func:`parse_again` and :func:`with_vote_types`
read them back from that body when a stored snapshot is shown again (restart, replay,
export).
"""

from __future__ import annotations

import dataclasses
import logging

import pandas as pd

from nightdesk import formats
from nightdesk.changelog import MAX_ENTRIES, WITHDRAWN, Change
from nightdesk.config import Config
from nightdesk.errors import NightdeskError
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from nightdesk.store import HistoryStore, change_records

log = logging.getLogger(__name__)


def stored_changes(
    store: HistoryStore, source: str, race: str = "", *, limit: int = MAX_ENTRIES
) -> list[list[Change]]:
    """The latest ``limit`` changes of one source and race as the log keeps them (vote
    changes, unit figures that went down, withdrawn units): a list per stored snapshot,
    oldest first, as each poll brought them."""
    frame = store.changes(source, race)
    if frame.empty:
        return []
    keep = (frame["kind"] == "vote") | frame["correction"].astype(bool)
    frame = frame[keep].tail(limit)
    groups: list[list[Change]] = []
    last = None
    ids = frame["snapshot_id"].tolist()
    for snapshot_id, change in zip(ids, _changes(frame, source, race), strict=True):
        if snapshot_id != last:
            groups.append([])
            last = snapshot_id
        groups[-1].append(change)
    return groups


def _changes(frame: pd.DataFrame, source: str, race: str) -> list[Change]:
    return [
        Change(
            at.to_pydatetime() if isinstance(at, pd.Timestamp) else at,
            source,
            race,
            str(unit),
            WITHDRAWN if kind == "withdrawn" else str(item),
            _opt(before),
            _opt(after),
            _opt(change) or 0,
            bool(correction),
            is_votes=kind == "vote",
        )
        for _, at, _, unit, kind, item, before, after, change, correction in change_records(frame)
    ]


def baseline_snapshot(store: HistoryStore, source: str, race: str = "") -> Snapshot | None:
    """The snapshot a desk chose as its baseline for this source and race, if any."""
    chosen = store.baseline(source, race)
    return store.snapshot(chosen) if chosen is not None else None


def _opt(value: object) -> int | float | None:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float) and value != value:  # NaN from a float column
        return None
    return value  # type: ignore[return-value]


def parse_again(store: HistoryStore, config: Config, snapshot_id: int) -> dict[str, Snapshot]:
    """The snapshots the body of ``snapshot_id`` holds, parsed again with its source's
    format as configured now, by race id (``""``: the source's one race). Empty when the
    source is no longer configured or the body cannot be read now (logged, never raised:
    what this adds is a view, not the night's record)."""
    entry = store.entry(snapshot_id)
    source = next((s for s in config.sources if s.name == entry.source), None)
    if source is None:
        return {}
    try:
        evidence = store.evidence(snapshot_id)
        fmt = formats.load(source.format)
        headers = {
            name: value
            for name, value in (
                ("etag", evidence.etag),
                ("last-modified", evidence.last_modified),
                ("date", evidence.date),
            )
            if value is not None
        }
        ctx = ParseContext(
            source=source.name,
            fetched_at=entry.fetched_at,
            columns=source.columns,
            options=source.options,
            headers=headers,
        )
        snapshots = formats.parse(fmt, evidence.body, ctx)
    except NightdeskError as exc:
        log.info("cannot parse snapshot %s again: %s", snapshot_id, exc)
        return {}
    return {s.race.id if s.race is not None else "": s for s in snapshots}


def with_vote_types(stored: Snapshot, parsed: Snapshot | None) -> Snapshot:
    """``stored`` with the vote types of ``parsed`` (its body parsed again), when both count
    the same; otherwise ``stored`` as it is."""
    if (
        parsed is None
        or not parsed.vote_types
        or stored.vote_types
        or not stored.same_counts(parsed)
    ):
        return stored
    return dataclasses.replace(stored, vote_types=parsed.vote_types)
