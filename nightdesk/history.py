"""The night so far, read back from the store: the change log and the baselines a desk set.

The store keeps every change; the screens keep a bounded log. On a restart this is what
puts the log back, newest last, as it was before the monitor stopped.
"""

from __future__ import annotations

import pandas as pd

from nightdesk.changelog import MAX_ENTRIES, WITHDRAWN, Change
from nightdesk.model import Snapshot
from nightdesk.store import HistoryStore, change_records


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
