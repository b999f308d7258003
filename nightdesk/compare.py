"""Several sources for one election, side by side: where they disagree, and by how much.

The first source is the primary: its unit and party ids are the canonical ones. Every
other source's units and parties are matched to them by id, then by name (and a party's
short name), each spelling first put through the config's alias table and compared
without regard to case or repeated spaces. What cannot be matched is listed, never
dropped: a unit the other source has and the primary lacks, or the other way round.

Per unit and party, each source's votes and seats and the difference from the primary
(other − primary); units are ordered by their largest vote difference, then their largest
seat difference, so the disagreement that matters most is on top and units where the
sources agree come last. A seat claim (:mod:`nightdesk.seat_claim`) gives seats only: its
votes are ``<NA>`` and never count as a disagreement. All of it is whole-table pandas/NumPy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nightdesk.aliases import Aliases
from nightdesk.model import Snapshot
from nightdesk.results import RaceResult
from nightdesk.seat_claim import claimed_seats

__all__ = [
    "Comparison",
    "SourceCount",
    "Unmatched",
    "compare_sources",
    "count_of",
    "count_of_snapshot",
    "national_seats",
]

#: The numbers per source and unit × party, in the order the columns of ``cells`` are in.
FIELDS: tuple[str, ...] = ("votes", "seats", "votes_diff", "seats_diff")


@dataclass(frozen=True)
class SourceCount:
    """One source's count as the comparison reads it.

    ``votes`` and ``seats``: index unit id, columns party id, ``Int64`` (``<NA>``: not
    given). ``national``: party id → ``Int64`` seats nationally. ``claim``: a seat claim
    (seats without votes).
    """

    source: str
    votes: pd.DataFrame
    seats: pd.DataFrame
    national: pd.Series
    unit_names: pd.Series
    party_names: pd.Series
    party_short: pd.Series
    claim: bool = False


@dataclass(frozen=True)
class Unmatched:
    """A unit or party name one source has and another does not (after aliases)."""

    source: str  # whose name it is
    kind: str  # "unit" or "party"
    id: str
    name: str
    missing_from: str  # the source that has no such unit or party
    note: str = ""  # why, when it is more than "not there" (two names for one unit)

    def text(self) -> str:
        """One line a person reads: ``tally: unit "Phnom Penh Capital" — not in nec``."""
        shown = self.name if self.name == self.id else f"{self.name} ({self.id})"
        why = self.note or f"not in {self.missing_from}"
        return f'{self.source}: {self.kind} "{shown}" — {why}'


@dataclass(frozen=True)
class Comparison:
    """Every source against the primary.

    Attributes:
        sources: the source names, primary first.
        claims: the sources that are seat claims (no votes).
        units: index canonical unit id, ordered by disagreement (largest first); columns
            ``name``, ``votes_off`` and ``seats_off`` (``int64``: the largest absolute
            difference from the primary over parties and sources) and ``disagree``.
        cells: index (unit, party) in the units' order, parties in the primary's order;
            columns (source, field) for each source and :data:`FIELDS`, ``Int64``; the
            primary's own differences are ``<NA>``.
        parties: canonical party id → the label to show (the primary's short name or name).
        national: index canonical party id; columns (source, ``seats`` | ``seats_diff``).
        unmatched: what no other source matched, in source order.
    """

    primary: str
    sources: tuple[str, ...]
    claims: frozenset[str]
    units: pd.DataFrame
    cells: pd.DataFrame
    parties: pd.Series
    national: pd.DataFrame
    unmatched: tuple[Unmatched, ...]

    @property
    def disagreeing(self) -> int:
        """How many units disagree anywhere."""
        return int(self.units["disagree"].sum())


def count_of(result: RaceResult) -> SourceCount:
    """A source's latest good result as the comparison reads it: the votes, and the seats
    computed from them (or, for a seat claim, the seats claimed)."""
    claim = claimed_seats(result.snapshot)
    if claim is not None:
        return count_of_snapshot(result.snapshot, claim[0], claim[1])
    seats = result.allocation.seats
    national = result.allocation.totals()
    return count_of_snapshot(result.snapshot, seats, national)


def count_of_snapshot(
    snapshot: Snapshot,
    seats: pd.DataFrame | None = None,
    national: pd.Series | None = None,
) -> SourceCount:
    """A snapshot and the seats to compare (``None``: none known; a claim's own otherwise)."""
    claim = claimed_seats(snapshot)
    if claim is not None and seats is None:
        seats, national = claim
    votes = snapshot.votes
    if seats is None:
        seats = pd.DataFrame(index=votes.index, columns=votes.columns, dtype="Int64")
    seats = seats.reindex(index=votes.index, columns=votes.columns).astype("Int64")
    if national is None:
        national = seats.sum(axis=0, min_count=1)
    parties = snapshot.parties
    return SourceCount(
        source=snapshot.source,
        votes=votes,
        seats=seats,
        national=national.astype("Int64"),
        unit_names=snapshot.units["name"].astype(str),
        party_names=parties["name"].astype(str),
        party_short=parties["short_name"],
        claim=claim is not None,
    )


def _normal(label: object) -> str | None:
    """A label as matched: case folded, spaces stripped and collapsed (``None``: no label)."""
    if not isinstance(label, str):
        return None
    return " ".join(label.casefold().split()) or None


def _alias_table(aliases: Mapping[str, str]) -> dict[str, str]:
    """Alias → canonical, both as matched (normalised)."""
    out: dict[str, str] = {}
    for alias, canonical in aliases.items():
        a, c = _normal(alias), _normal(canonical)
        if a is not None and c is not None:
            out[a] = c
    return out


def _keys(labels: pd.Series | pd.Index, aliases: dict[str, str]) -> list[str | None]:
    """The key each label is matched by: its alias's canonical name, or itself.

    Plain Python over the labels: the string methods of pandas cost ten times more here
    (20,000 units: ~10 ms against ~100 ms)."""
    keys = [_normal(x) for x in np.asarray(labels, dtype=object).tolist()]
    if aliases:
        return [aliases.get(k, k) if k is not None else None for k in keys]
    return keys


def _match(
    primary: list[pd.Series | pd.Index],
    other: list[pd.Series | pd.Index],
    primary_ids: pd.Index,
    other_ids: pd.Index,
    aliases: dict[str, str],
) -> tuple[pd.Series, pd.Series]:
    """Each of the other's ids → the primary id it matches (``<NA>`` if none), and which
    other id took a primary id another one also matched (the loser → the winner)."""
    pids = [str(x) for x in primary_ids]
    lookup: dict[str, str] = {}
    for labels in primary:  # the primary's ids win over its names
        for key, pid in zip(_keys(labels, aliases), pids, strict=True):
            if key is not None:
                lookup.setdefault(key, pid)
    n = len(other_ids)
    found: list[str | None] = [None] * n
    level = np.full(n, len(other), dtype=np.int64)
    for k, labels in enumerate(other):  # id first, then name, then short name
        todo = [i for i in range(n) if found[i] is None]
        if not todo:
            break
        values = np.asarray(labels, dtype=object)[todo] if len(todo) < n else labels
        for i, key in zip(todo, _keys(values, aliases), strict=True):
            hit = lookup.get(key) if key is not None else None
            if hit is not None:
                found[i], level[i] = hit, k
    # One primary id, two of the other's units: the better match (id before name) keeps it.
    ids = [str(x) for x in other_ids]
    winner: dict[str, str] = {}
    clash: dict[str, str] = {}
    for i in np.lexsort((np.arange(n), level)).tolist():
        target = found[i]
        if target is None:
            continue
        if target in winner:
            clash[ids[i]] = target
            found[i] = None
        else:
            winner[target] = ids[i]
    index = pd.Index(np.asarray(other_ids, dtype=object))
    return (
        pd.Series(pd.array(found, dtype="string"), index=index),
        pd.Series(clash, dtype="string"),
    )


def _party_labels(count: SourceCount) -> list[pd.Series | pd.Index]:
    """What a party is matched by: its id, then its name, then its short name."""
    ids = count.votes.columns
    return [ids, count.party_names.reindex(ids), count.party_short.reindex(ids)]


def _party_match(
    primary: SourceCount, count: SourceCount, aliases: dict[str, str]
) -> tuple[pd.Series, pd.Series]:
    return _match(
        _party_labels(primary),
        _party_labels(count),
        primary.votes.columns,
        count.votes.columns,
        aliases,
    )


def _aligned(
    count: SourceCount, units: pd.Series, parties: pd.Series, p_units: pd.Index, p_parties: pd.Index
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The count's votes and seats on the primary's units and parties (``<NA>`` where the
    source has no such unit or party)."""
    u = units.dropna()
    p = parties.dropna()
    out = []
    for frame in (count.votes, count.seats):
        part = frame.loc[u.index, p.index]
        part = part.set_axis(pd.Index(u.to_numpy(), dtype=object), axis=0)
        part = part.set_axis(pd.Index(p.to_numpy(), dtype=object), axis=1)
        out.append(part.reindex(index=p_units, columns=p_parties).astype("Int64"))
    return out[0], out[1]


def _unit_list(
    count: SourceCount, found: pd.Series, clash: pd.Series, against: str, kind: str
) -> list[Unmatched]:
    names = count.unit_names if kind == "unit" else count.party_names
    out = []
    for oid in found.index[found.isna().to_numpy()]:
        note = f"also matches {clash[oid]!r}, which {against} has once" if oid in clash else ""
        out.append(Unmatched(count.source, kind, str(oid), str(names.get(oid, oid)), against, note))
    return out


def _missing(primary: SourceCount, found: pd.Series, other: str, kind: str) -> list[Unmatched]:
    """The primary's units (or parties) the other source has no match for."""
    ids = primary.votes.index if kind == "unit" else primary.votes.columns
    names = primary.unit_names if kind == "unit" else primary.party_names
    lacking = ids[~ids.isin(pd.Index(found.dropna().to_numpy(dtype=object)))]
    return [Unmatched(primary.source, kind, str(i), str(names.get(i, i)), other) for i in lacking]


def compare_sources(counts: Sequence[SourceCount], aliases: Aliases | None = None) -> Comparison:
    """Every count against the first (the primary); see the module's docstring."""
    if not counts:
        raise ValueError("nothing to compare: no source has results")
    aliases = aliases or Aliases()
    unit_alias, party_alias = _alias_table(aliases.units), _alias_table(aliases.parties)
    primary = counts[0]
    p_units, p_parties = primary.votes.index, primary.votes.columns
    votes: list[pd.DataFrame] = [primary.votes.astype("Int64")]
    seats: list[pd.DataFrame] = [primary.seats.astype("Int64")]
    unmatched: list[Unmatched] = []
    nationals: list[pd.Series] = [primary.national.reindex(p_parties)]
    p_unit_labels = [p_units, primary.unit_names.reindex(p_units)]
    for count in counts[1:]:
        units, unit_clash = _match(
            p_unit_labels,
            [count.votes.index, count.unit_names.reindex(count.votes.index)],
            p_units,
            count.votes.index,
            unit_alias,
        )
        parties, party_clash = _party_match(primary, count, party_alias)
        v, s = _aligned(count, units, parties, p_units, p_parties)
        votes.append(v)
        seats.append(s)
        matched = parties.dropna()
        national = count.national.reindex(matched.index)
        national.index = pd.Index(matched.to_numpy(), dtype=object)
        nationals.append(national.reindex(p_parties).astype("Int64"))
        unmatched += _unit_list(count, units, unit_clash, primary.source, "unit")
        unmatched += _unit_list(count, parties, party_clash, primary.source, "party")
        if not count.claim:  # a claim names the parties and units it claims, not all
            unmatched += _missing(primary, units, count.source, "unit")
            unmatched += _missing(primary, parties, count.source, "party")
    return _assemble(counts, votes, seats, nationals, unmatched)


def _assemble(
    counts: Sequence[SourceCount],
    votes: list[pd.DataFrame],
    seats: list[pd.DataFrame],
    nationals: list[pd.Series],
    unmatched: list[Unmatched],
) -> Comparison:
    primary = counts[0]
    p_units, p_parties = primary.votes.index, primary.votes.columns
    names = [c.source for c in counts]
    shape = (len(p_units), len(p_parties))
    # Differences from the primary, as int64 arrays with a "known" mask (either side <NA>).
    pv = votes[0].to_numpy(dtype=np.float64, na_value=np.nan)
    ps = seats[0].to_numpy(dtype=np.float64, na_value=np.nan)
    votes_off = np.zeros(len(p_units), dtype=np.int64)
    seats_off = np.zeros(len(p_units), dtype=np.int64)
    columns: dict[tuple[str, str], pd.api.extensions.ExtensionArray] = {}
    for k, name in enumerate(names):
        v = votes[k].to_numpy(dtype=np.float64, na_value=np.nan)
        s = seats[k].to_numpy(dtype=np.float64, na_value=np.nan)
        columns[(name, "votes")] = _ints(v)
        columns[(name, "seats")] = _ints(s)
        if k == 0:
            columns[(name, "votes_diff")] = _ints(np.full(shape, np.nan))
            columns[(name, "seats_diff")] = _ints(np.full(shape, np.nan))
            continue
        dv, ds = v - pv, s - ps
        columns[(name, "votes_diff")] = _ints(dv)
        columns[(name, "seats_diff")] = _ints(ds)
        if shape[1]:  # <NA> on either side is no disagreement: counted as 0
            votes_off = np.maximum(
                votes_off, np.abs(np.nan_to_num(dv)).max(axis=1).astype(np.int64)
            )
            seats_off = np.maximum(
                seats_off, np.abs(np.nan_to_num(ds)).max(axis=1).astype(np.int64)
            )
    # Largest vote difference first, then seats; ties keep the primary's (the feed's) order.
    order = np.lexsort((np.arange(len(p_units)), -seats_off, -votes_off))
    unit_ids = p_units[order]
    units = pd.DataFrame(
        {
            "name": primary.unit_names.reindex(p_units).to_numpy(dtype=object)[order],
            "votes_off": votes_off[order],
            "seats_off": seats_off[order],
            "disagree": (votes_off[order] > 0) | (seats_off[order] > 0),
        },
        index=pd.Index(unit_ids, name="unit"),
    )
    rows = (order[:, None] * shape[1] + np.arange(shape[1])[None, :]).ravel()
    index = pd.MultiIndex.from_arrays(
        [np.repeat(unit_ids.to_numpy(dtype=object), shape[1]),
         np.tile(p_parties.to_numpy(dtype=object), shape[0])],
        names=["unit", "party"],
    )  # fmt: skip
    cells = pd.DataFrame({key: column.take(rows) for key, column in columns.items()}, index=index)
    cells.columns = pd.MultiIndex.from_tuples(list(columns), names=["source", "field"])
    short = primary.party_short.reindex(p_parties)
    labels = short.where(short.notna() & (short != ""), primary.party_names.reindex(p_parties))
    national = _national(names, nationals, p_parties)
    return Comparison(
        primary=primary.source,
        sources=tuple(names),
        claims=frozenset(c.source for c in counts if c.claim),
        units=units,
        cells=cells,
        parties=labels.astype(str),
        national=national,
        unmatched=tuple(unmatched),
    )


def _ints(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """A float array (NaN: unknown) as a flat ``Int64`` array."""
    flat = np.asarray(values, dtype=np.float64).ravel()
    missing = np.isnan(flat)
    return pd.arrays.IntegerArray(np.where(missing, 0, flat).astype(np.int64), missing)


def _national(names: list[str], nationals: list[pd.Series], parties: pd.Index) -> pd.DataFrame:
    base = nationals[0].reindex(parties).astype("Int64")
    data: dict[tuple[str, str], pd.Series] = {}
    for name, seats in zip(names, nationals, strict=True):
        seats = seats.reindex(parties).astype("Int64")
        data[(name, "seats")] = seats
        data[(name, "seats_diff")] = (
            pd.Series(pd.NA, index=parties, dtype="Int64") if name == names[0] else seats - base
        )
    frame = pd.DataFrame(data, index=parties)
    frame.columns = pd.MultiIndex.from_tuples(list(data), names=["source", "field"])
    return frame


def national_seats(
    counts: Sequence[SourceCount], aliases: Aliases | None = None
) -> dict[str, dict[str, int]]:
    """Seats per party nationally, per source (source → primary party id → seats): what the
    party pane shows side by side. Only the parties are matched (cheap enough for every
    poll); a party the primary does not know keeps the source's own name (listed, never
    dropped); parties a source does not give are left out."""
    if not counts:
        return {}
    party_alias = _alias_table((aliases or Aliases()).parties)
    primary = counts[0]
    out = {primary.source: _seat_dict(primary.national)}
    for count in counts[1:]:
        parties, _ = _party_match(primary, count, party_alias)
        own = count.party_names.reindex(parties.index).fillna(
            pd.Series(parties.index, index=parties.index)
        )
        keys = parties.fillna(own.astype("string"))
        seats = count.national.reindex(parties.index)
        seats.index = pd.Index(keys.to_numpy(), dtype=object)
        out[count.source] = _seat_dict(seats)
    return out


def _seat_dict(seats: pd.Series) -> dict[str, int]:
    return {str(p): int(n) for p, n in seats.dropna().items()}
