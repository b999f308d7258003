"""Units within units: province → district → commune, state → county → precinct.

A snapshot's ``units.parent`` holds the parent's unit id (``<NA>`` at the top). Feeds give
what they have: AP gives a state row and its counties, a precinct CSV only names each
precinct's county. :func:`rollup` completes the tree once, when a feed is parsed: a parent
that is only named gets a row, and a parent given without votes gets its children's sums.
A parent row the feed gives with votes keeps them (they are the feed's own totals).

National totals count the top level only (:func:`top_level`): every vote is in exactly
one top-level unit, however deep the tree.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nightdesk.errors import FeedError
from nightdesk.model import UNIT_COUNTS, Snapshot, column_arrays

#: Unit figures summed from the children when a parent has none (seats are not: a parent's
#: seats are its own, never its children's).
ROLLED_FIGURES: tuple[str, ...] = tuple(c for c in UNIT_COUNTS if c != "seats")


def parents(snapshot: Snapshot) -> np.ndarray:
    """Each unit's parent id as an object array (``None`` at the top)."""
    cached = snapshot.__dict__.get("_parents")
    if cached is None:
        column = snapshot.units["parent"]
        cached = np.asarray(column.to_numpy(dtype=object, na_value=None), dtype=object)
        cached.flags.writeable = False
        snapshot.__dict__["_parents"] = cached
    return cached


def is_flat(snapshot: Snapshot) -> bool:
    """Whether every unit is at the top (most feeds)."""
    return bool(snapshot.units["parent"].isna().all())


def top_level(snapshot: Snapshot) -> np.ndarray:
    """Per unit: at the top of the tree (no parent, or a parent the snapshot lacks)."""
    return snapshot.top_level()


def children(snapshot: Snapshot, unit: str | None) -> pd.Index:
    """The ids of ``unit``'s children, in the feed's order (``None``: the top level)."""
    if unit is None:
        return snapshot.units.index[top_level(snapshot)]
    return snapshot.units.index[(snapshot.units["parent"] == unit).fillna(False).to_numpy(bool)]


def has_children(snapshot: Snapshot) -> np.ndarray:
    """Per unit: whether some unit names it as parent."""
    if is_flat(snapshot):
        return np.zeros(len(snapshot.units), dtype=bool)
    named = pd.Index(snapshot.units["parent"].dropna().unique())
    return snapshot.units.index.isin(named)


def branches(snapshot: Snapshot) -> pd.Index:
    """The ids of units that have units below them."""
    return snapshot.units.index[has_children(snapshot)]


def ancestors(snapshot: Snapshot, unit: str) -> list[str]:
    """The ids from the top down to ``unit``'s parent (the breadcrumb above it)."""
    chain: list[str] = []
    seen = {unit}
    parent_of = snapshot.units["parent"]
    current = unit
    while current in parent_of.index:
        parent = parent_of.at[current]
        if parent is pd.NA or parent is None or parent in seen:
            break
        chain.append(str(parent))
        seen.add(str(parent))
        current = str(parent)
    chain.reverse()
    return chain


def rollup(snapshot: Snapshot) -> Snapshot:
    """The snapshot with its tree complete: named parents get rows, parents without votes get
    their children's sums. The same object when nothing is missing (flat feeds, and trees
    the adapter vouches for: see :meth:`Snapshot.tree_complete`)."""
    if snapshot.tree_complete() or is_flat(snapshot):
        return snapshot
    units = snapshot.units
    ids = units.index
    # Plain Python sets first: AP feeds carry hundreds of small races, and pandas set
    # operations would cost more than the rest of the check.
    named_list = list(dict.fromkeys(p for p in parents(snapshot).tolist() if p is not None))
    at = ids.get_indexer(named_list)
    if (at >= 0).all():
        # Loops would drop units from the top level (and the national totals): refused.
        _check_tree(ids.get_indexer(parents(snapshot)), ids, snapshot.source)
        # The usual AP case: every parent the feed names, it gives with its own votes.
        _, none_reported = snapshot.vote_sums()
        if not none_reported[at].any():
            return snapshot
    parent = units["parent"]
    named = pd.Index(named_list, dtype=ids.dtype)
    missing = named[at < 0]
    votes = snapshot.votes
    if len(missing):
        extra = pd.DataFrame(index=missing, columns=units.columns).astype(units.dtypes.to_dict())
        extra["name"] = pd.array(missing.astype(str), dtype=units["name"].dtype)
        units = pd.concat([units, extra])
        votes = votes.reindex(units.index)
        ids = units.index
        parent = units["parent"]
    n = len(ids)
    pos = ids.get_indexer(parent.to_numpy(dtype=object, na_value=None))
    pos[parent.isna().to_numpy()] = -1
    depth = _check_tree(pos, ids, snapshot.source)
    values = votes.to_numpy(dtype=np.int64, na_value=0)
    given = votes.notna().to_numpy()
    # Parents the feed gives without any vote: filled from their children, deepest first.
    fill = has_children_at(pos, n) & ~given.any(axis=1)
    if not fill.any() and not len(missing):
        return snapshot
    values, given = values.copy(), given.copy()
    figures = {c: column_arrays(units[[c]])[0] for c in (*ROLLED_FIGURES, "reporting")}
    fig_values = {c: figures[c].to_numpy(dtype=np.float64, na_value=np.nan) for c in figures}
    reported_children = np.zeros(n, dtype=np.int64)
    all_children = np.zeros(n, dtype=np.int64)
    for d in range(int(depth.max()), 0, -1):
        rows = np.flatnonzero((depth == d) & (pos >= 0))
        to = pos[rows]
        take = fill[to]
        rows, to = rows[take], to[take]
        if not len(rows):
            continue
        np.add.at(values, to, values[rows])
        np.logical_or.at(given, to, given[rows])
        np.add.at(all_children, to, 1)
        np.add.at(reported_children, to, given[rows].any(axis=1).astype(np.int64))
        _roll_figures(fig_values, rows, to, fill)
        # Children without a reporting figure: the share of them that reported any vote.
        here = np.unique(to)
        derive = here[np.isnan(fig_values["reporting"][here])]
        fig_values["reporting"][derive] = reported_children[derive] / all_children[derive]
    filled_votes = pd.DataFrame(
        {
            c: pd.arrays.IntegerArray(values[:, j], ~given[:, j])
            for j, c in enumerate(votes.columns)
        },
        index=ids,
    )
    rep = fig_values["reporting"]
    table = units.copy()
    for c in ROLLED_FIGURES:
        table[c] = pd.array(_as_int(fig_values[c]), dtype="Int64")
    table["reporting"] = pd.array(np.where(np.isnan(rep), None, rep), dtype="Float64")
    return Snapshot.build(
        source=snapshot.source,
        votes=filled_votes,
        units=table,
        parties=snapshot.parties,
        fetched_at=snapshot.fetched_at,
        published_at=snapshot.published_at,
        race=snapshot.race,
        vote_types=_rolled_types(snapshot, ids, pos, depth, fill),
    )


def has_children_at(pos: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[pos[pos >= 0]] = True
    return out


def _check_tree(pos: np.ndarray, ids: pd.Index, source: str) -> np.ndarray:
    """Each unit's depth; a unit that is its own parent or ancestor is a feed error."""
    own = pos == np.arange(len(pos))
    if bool(own.any()):
        raise FeedError(f"unit {ids[own][0]!r} is its own parent", source=source)
    return _depths(pos, ids, source)


def _depths(pos: np.ndarray, ids: pd.Index, source: str) -> np.ndarray:
    """Each unit's depth (0 at the top); a cycle in the parents is a feed error."""
    n = len(pos)
    depth = np.zeros(n, dtype=np.int64)
    current = pos.copy()
    for _ in range(n + 1):
        up = current >= 0
        if not up.any():
            return depth
        depth[up] += 1
        current[up] = pos[current[up]]
    unit = ids[current >= 0][0]
    raise FeedError(f"unit {unit!r} is its own ancestor (the parents form a loop)", source=source)


def _roll_figures(
    fig: dict[str, np.ndarray], rows: np.ndarray, to: np.ndarray, fill: np.ndarray
) -> None:
    """Sum children's figures into the parents being filled (all of a parent's children are
    at one depth, so each parent is done in one call). A parent's figure is known only when
    every child's is: a partial sum would understate it, so NaN poisons the sum. Reporting is
    the children's mean, weighted by registered voters where known."""
    parents_here = np.unique(to)
    for c in ROLLED_FIGURES:
        sums = np.zeros_like(fig[c])
        np.add.at(sums, to, fig[c][rows])
        target = parents_here[np.isnan(fig[c][parents_here]) & fill[parents_here]]
        fig[c][target] = sums[target]
    rep = fig["reporting"][rows]
    weight = fig["registered"][rows]
    weight = np.where(np.isnan(weight), 1.0, weight)
    num = np.zeros_like(fig["reporting"])
    den = np.zeros_like(fig["reporting"])
    np.add.at(num, to, rep * weight)
    np.add.at(den, to, weight)
    target = parents_here[np.isnan(fig["reporting"][parents_here]) & fill[parents_here]]
    with np.errstate(invalid="ignore", divide="ignore"):
        fig["reporting"][target] = num[target] / den[target]


def _as_int(values: np.ndarray) -> list[int | None]:
    return [None if np.isnan(x) else int(x) for x in values]


def _rolled_types(
    snapshot: Snapshot,
    ids: pd.Index,
    pos: np.ndarray,
    depth: np.ndarray,
    fill: np.ndarray,
) -> dict[str, pd.DataFrame] | None:
    """The vote-type split summed up the tree like the votes."""
    if not snapshot.vote_types:
        return None
    out: dict[str, pd.DataFrame] = {}
    for name, table in snapshot.vote_types.items():
        frame = table.reindex(ids)
        values = frame.to_numpy(dtype=np.int64, na_value=0).copy()
        given = frame.notna().to_numpy().copy()
        for d in range(int(depth.max()), 0, -1):
            rows = np.flatnonzero((depth == d) & (pos >= 0))
            rows = rows[fill[pos[rows]]]
            np.add.at(values, pos[rows], values[rows])
            np.logical_or.at(given, pos[rows], given[rows])
        out[name] = pd.DataFrame(
            {
                c: pd.arrays.IntegerArray(values[:, j], ~given[:, j])
                for j, c in enumerate(frame.columns)
            },
            index=ids,
        )
    return out
