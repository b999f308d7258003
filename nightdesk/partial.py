"""Partial answers: a feed's "next" URL (AP's ``nextrequest``) returns only what changed.

The poller holds each source's races as last parsed (before the hierarchy roll-up) and
merges every partial answer into them: a race the answer leaves out is kept as it was; a
race it gives replaces the held one, unit by unit where it gives only some units (a unit
it gives replaces the held row whole; a unit it leaves out keeps its row). The merged state
is what the next full answer would give.

A next URL is followed only on the configured URL's own scheme, host and port: the
request carries the source's key, which must never go anywhere else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import httpx
import pandas as pd

from nightdesk.model import PARTY_COLUMNS, Snapshot


def race_key(snapshot: Snapshot) -> str:
    return snapshot.race.id if snapshot.race is not None else ""


def merge(held: Mapping[str, Snapshot], changed: Sequence[Snapshot]) -> dict[str, Snapshot]:
    """The held races with a partial answer's races merged in (new races at the end)."""
    out = dict(held)
    for snapshot in changed:
        key = race_key(snapshot)
        old = held.get(key)
        out[key] = snapshot if old is None else merge_race(old, snapshot)
    return out


def merge_race(old: Snapshot, new: Snapshot) -> Snapshot:
    """``new``'s units over ``old``'s: the units ``new`` leaves out keep their rows.

    The usual case (the answer gives the whole race) is ``new`` itself, untouched.
    """
    old_ids, new_ids = old.votes.index, new.votes.index
    if old_ids.isin(new_ids).all():
        return new
    ids = old_ids.append(new_ids[~new_ids.isin(old_ids)])
    parties = old.votes.columns.append(
        new.votes.columns[~new.votes.columns.isin(old.votes.columns)]
    )
    votes = _overlay(old.votes, new.votes, ids, parties)
    units = _overlay(old.units, new.units, ids, old.units.columns)
    labels = pd.concat(
        [old.parties[~old.parties.index.isin(new.parties.index)], new.parties]
    ).reindex(parties)
    types = None
    if old.vote_types or new.vote_types:
        names = list(dict.fromkeys([*(old.vote_types or {}), *(new.vote_types or {})]))
        empty = pd.DataFrame(index=pd.Index([], dtype=str), columns=parties, dtype="Int64")
        types = {
            name: _overlay(
                (old.vote_types or {}).get(name, empty),
                (new.vote_types or {}).get(name, empty.reindex(new_ids)),
                ids,
                parties,
            )
            for name in names
        }
    times = [t for t in (old.published_at, new.published_at) if t is not None]
    return Snapshot.build(
        source=new.source,
        votes=votes,
        units=units,
        parties=labels[list(PARTY_COLUMNS)],
        fetched_at=new.fetched_at,
        published_at=max(times) if times else None,
        race=new.race,
        vote_types=types,
    )


def _overlay(
    old: pd.DataFrame, new: pd.DataFrame, ids: pd.Index, columns: pd.Index
) -> pd.DataFrame:
    """``old`` laid out on ``ids`` × ``columns`` with ``new``'s rows written over it whole."""
    out = old.reindex(index=ids, columns=columns)
    rows = new.reindex(columns=columns)
    at = ids.get_indexer(rows.index)
    for col in columns:
        values = out[col].array.copy()
        values[at] = rows[col].array
        out[col] = values
    return out


def resolve(next_url: str, base: str) -> str | None:
    """``next_url`` made absolute against ``base``, if it is on ``base``'s origin; else None."""
    try:
        target = httpx.URL(base).join(next_url)
    except (httpx.InvalidURL, ValueError, TypeError):
        return None
    return str(target) if origin(target) == origin(httpx.URL(base)) else None


def origin(url: httpx.URL) -> tuple[str, str, int | None]:
    """Scheme, host and port (the default port spelled out)."""
    default = {"http": 80, "https": 443}.get(url.scheme)
    return url.scheme, url.host, url.port or default
