"""The Snapshot: one observation of one source at one time, as three typed tables.

Votes are pandas nullable ``Int64`` so that "not reported" (``<NA>``) never reads as zero.
Every constructor goes through :meth:`Snapshot.build`, which fixes dtypes and checks the
invariants, so code downstream can trust the tables it is given.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

import numpy as np
import pandas as pd

from nightdesk.errors import FeedError

#: Whole-number figures a feed may give per unit (all optional).
UNIT_COUNTS: tuple[str, ...] = ("seats", "registered", "ballots_cast", "valid", "blank", "invalid")
#: Every per-unit figure, in the order tables show them.
UNIT_FIGURES: tuple[str, ...] = (*UNIT_COUNTS, "reporting")
#: Descriptive per-unit columns.
UNIT_LABELS: tuple[str, ...] = ("name", "parent")
UNIT_COLUMNS: tuple[str, ...] = (*UNIT_LABELS, *UNIT_FIGURES)
#: ``called``: a race call the feed makes for the party or candidate ("winner", "runoff").
PARTY_COLUMNS: tuple[str, ...] = ("name", "short_name", "colour", "called")
#: The values ``called`` may take.
CALLS: tuple[str, ...] = ("winner", "runoff")
#: No count in any real election comes near this; larger numbers are feed errors (and would
#: overflow national sums).
MAX_COUNT = 10**12 - 1
#: No electoral unit has more seats.
MAX_SEATS = 1_000
#: C0 and C1 control characters: a name is shown on terminals, so it must not carry escape
#: sequences that move the cursor, clear the screen or set the window title.
_CONTROL = r"[\x00-\x1f\x7f-\x9f]"
_HAS_CONTROL = re.compile(_CONTROL)
REPLACEMENT = "\ufffd"


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control character (check many labels at once: join them)."""
    return _HAS_CONTROL.search(text) is not None


def printable_text(text: str) -> str:
    """One string with control characters replaced by U+FFFD (config and error text that never
    passes through a Snapshot: source names, messages quoting a feed)."""
    return _HAS_CONTROL.sub(REPLACEMENT, text)


# Column labels of the units and parties tables, made once (inferring an Index's dtype from
# a list of strings costs more than building the table); each table gets its own copy.
_UNIT_COLUMN_INDEX = pd.Index(UNIT_COLUMNS)
#: The dtype pandas infers for a list of strings (``str`` in pandas 3).
_TEXT = _UNIT_COLUMN_INDEX.dtype
_PARTY_COLUMN_INDEX = pd.Index(PARTY_COLUMNS)


def printable(labels: pd.Index | pd.Series) -> pd.Index | pd.Series:
    """Labels with control characters replaced by U+FFFD (vectorised).

    Names almost never carry control characters, so the check is one regular-expression
    scan over all the labels joined (C speed); only a hit pays for the per-label replace.
    """
    if len(labels) == 0:
        return labels
    text = labels.astype(str)
    try:
        clean = _HAS_CONTROL.search("".join(text.to_numpy(dtype=object))) is None
    except TypeError:  # a label that is not text after all: take the slow, general path
        clean = not text.str.contains(_CONTROL, regex=True).any()
    if clean:
        return labels
    return text.str.replace(_CONTROL, REPLACEMENT, regex=True)


@dataclass(frozen=True)
class Party:
    """A party or candidate as a feed names it."""

    id: str
    name: str
    short_name: str | None = None
    colour: str | None = None
    #: "winner" or "runoff" once the feed calls the race for this candidate.
    called: str | None = None


@dataclass(frozen=True)
class Race:
    """One contest a source reports (feeds such as AP carry several)."""

    id: str
    name: str
    #: The feed marks these results as test data (AP before the night): shown as TEST.
    test: bool = False


def _text_index(labels: list[str]) -> pd.Index:
    """``pd.Index(labels)`` for a list of strings, without inferring the dtype."""
    return pd.Index(labels, dtype=_TEXT) if labels else pd.Index(labels)


def typed_frame(
    arrays: list[np.ndarray | pd.api.extensions.ExtensionArray],
    columns: pd.Index | list[str],
    index: pd.Index,
) -> pd.DataFrame:
    """A DataFrame whose columns are ``arrays``, used as they are (not copied).

    For 1-D arrays already of their final dtype (NumPy of a non-object dtype, or pandas
    extension arrays) that nothing else writes to. The public constructor checks and
    copies each column, which on a small table costs more than the poll's arithmetic;
    the frame is the same (same dtypes and blocks).
    """
    return pd.DataFrame._from_arrays(arrays, columns=columns, index=index, verify_integrity=False)


def column_arrays(frame: pd.DataFrame) -> list[pd.api.extensions.ExtensionArray | np.ndarray]:
    """Each column's array, in order (``[c.array for _, c in frame.items()]`` without making
    a Series per column)."""
    return list(frame._iter_column_arrays())


def _stack(
    columns: list[pd.api.extensions.ExtensionArray], rows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Int64 columns as one int64 table (``<NA>`` as 0) and its not-given mask."""
    if columns and all(type(c) is pd.arrays.IntegerArray for c in columns):
        # The masked arrays' own buffers, stacked (copies): no per-column conversion.
        values = np.stack([c._data for c in columns], axis=1).astype(np.int64, copy=False)
        missing = np.stack([c._mask for c in columns], axis=1)
        values[missing] = 0
        return values, missing
    values = np.zeros((rows, len(columns)), dtype=np.int64)
    missing = np.zeros((rows, len(columns)), dtype=bool)
    for i, column in enumerate(columns):
        values[:, i] = column.to_numpy(dtype=np.int64, na_value=0)
        missing[:, i] = column.isna()
    return values, missing


def _read_only(arrays: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    for a in arrays:
        a.flags.writeable = False
    return arrays


Column = pd.api.extensions.ExtensionArray | np.ndarray


def _astype(column: Column, dtype: str) -> pd.api.extensions.ExtensionArray:
    """``column`` converted as ``Series.astype`` converts it."""
    return pd.Series(column, dtype=column.dtype, copy=False).astype(dtype).array


def _figure_column(given: Column | None, col: str, rows: int) -> pd.api.extensions.ExtensionArray:
    """A number column of the units table, typed (``given`` is in the table's order)."""
    masked = pd.arrays.FloatingArray if col == "reporting" else pd.arrays.IntegerArray
    if given is None:
        if col == "reporting":
            return pd.arrays.FloatingArray(np.full(rows, np.nan), np.ones(rows, dtype=bool))
        return pd.arrays.IntegerArray(np.ones(rows, dtype=np.int64), np.ones(rows, dtype=bool))
    dtype = "Float64" if col == "reporting" else "Int64"
    if type(given) is masked and given.dtype == dtype:  # the caller's: copy, as astype would
        return given.copy()
    return _astype(given, dtype)


def _label_column(
    given: Column | None, fill: np.ndarray | None, rows: int
) -> pd.api.extensions.ExtensionArray:
    """A text column, typed and printable; missing labels are taken from ``fill`` if given."""
    if given is None:
        values = np.full(rows, pd.NA, dtype=object)
    else:  # a copy of the cells (they are written below)
        if not (isinstance(given.dtype, pd.StringDtype) and given.dtype.na_value is pd.NA):
            given = _astype(given, "string")
        values = np.array(given.to_numpy(dtype=object, na_value=pd.NA))
    return _label_values(values, fill)


def _label_values(values: np.ndarray, fill: np.ndarray | None) -> pd.api.extensions.ExtensionArray:
    """An object array of str and missing values (changed in place) as a printable text
    column; missing labels are taken from ``fill`` if given."""
    if fill is not None:
        values = np.where(pd.isna(values), fill, values)
    missing = pd.isna(values)
    present = values[~missing] if missing.any() else values
    # One scan of all the labels joined (C speed); only a hit pays for the per-label replace.
    if len(present) and _HAS_CONTROL.search("".join(present)) is not None:
        values[~missing] = [_HAS_CONTROL.sub(REPLACEMENT, text) for text in present]
    values[missing] = pd.NA
    return strings(values)


def strings(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``pd.array(values, dtype="string")`` for an object array of str and missing values,
    without the copy (``values`` may be changed: pass an array of your own)."""
    dtype = pd.StringDtype()
    return dtype.construct_array_type()._from_sequence(values, dtype=dtype)


def _party_table(
    parties: pd.DataFrame | Mapping[str, Party] | None, index: pd.Index
) -> pd.DataFrame:
    """The parties table for the vote columns ``index``: each party's name (its id when the
    feed gives none), short name, colour and race call.

    Built from plain object arrays: feeds with hundreds of races (AP, Clarity) build a
    parties table per race, and pandas' reindex and astype per column would cost a
    millisecond each time.
    """
    n = len(index)
    ids = index.to_numpy(dtype=object)
    given: dict[str, np.ndarray] = {}
    if isinstance(parties, Mapping):
        by_id = {str(p.id): p for p in parties.values()}
        rows = [by_id.get(str(i)) for i in ids]
        for col in PARTY_COLUMNS:
            given[col] = np.array(
                [pd.NA if r is None or getattr(r, col) is None else str(getattr(r, col))
                 for r in rows],
                dtype=object,
            )  # fmt: skip
    elif parties is not None:
        table = parties
        if not table.index.astype(str).equals(index.astype(str)):
            table = table.reindex(index.astype(str))
        for col in PARTY_COLUMNS:
            if col in table.columns:
                values = table[col].to_numpy(dtype=object, na_value=pd.NA)
                missing = pd.isna(values)
                given[col] = np.where(missing, pd.NA, values.astype(str)).astype(object)
    table_columns = {
        "name": _label_values(given["name"], ids)
        if "name" in given
        else _label_values(np.full(n, pd.NA, dtype=object), ids),
        "short_name": _label_values(given.get("short_name", np.full(n, pd.NA, dtype=object)), None),
        "colour": strings(given.get("colour", np.full(n, pd.NA, dtype=object))),
        "called": _call_column(given.get("called", np.full(n, pd.NA, dtype=object))),
    }
    return typed_frame(list(table_columns.values()), _PARTY_COLUMN_INDEX.copy(), index)


def _vote_types(
    given: Mapping[str, pd.DataFrame] | None, votes: pd.DataFrame, source: str
) -> Mapping[str, pd.DataFrame] | None:
    """Each vote type's table on the votes' units and parties, typed like them."""
    if not given:
        return None
    out: dict[str, pd.DataFrame] = {}
    for name, table in given.items():
        arrays = column_arrays(table)
        if (
            table.index.equals(votes.index)
            and table.columns.equals(votes.columns)
            and all(type(a) is pd.arrays.IntegerArray and a.dtype == "Int64" for a in arrays)
        ):
            # Typed and aligned already (the adapters build them so): only the sign to check,
            # on the arrays' own buffers; the labels are the votes' (already printable).
            if any(bool((a._data < 0).any()) for a in arrays):
                raise FeedError(f"{name} votes must not be negative", source=source)
            out[printable_text(str(name))] = typed_frame(
                [a.copy() for a in arrays], votes.columns, votes.index
            )
            continue
        try:
            typed = table.astype("Int64")
        except (TypeError, ValueError) as exc:
            raise FeedError(f"{name} votes must be whole numbers ({exc})", source=source) from exc
        typed.index = pd.Index(printable(typed.index.astype(str)), name="unit")
        typed.columns = pd.Index(printable(pd.Index([str(c) for c in typed.columns])))
        typed = typed.reindex(index=votes.index, columns=votes.columns)
        if bool((typed.fillna(0).to_numpy(dtype=np.int64) < 0).any()):
            raise FeedError(f"{name} votes must not be negative", source=source)
        out[printable_text(str(name))] = typed
    return out


def _call_column(values: np.ndarray) -> pd.api.extensions.ExtensionArray:
    bad = set(values[~pd.isna(values)]) - set(CALLS)
    if bad:
        raise ValueError(f"unknown race calls {sorted(bad)}; expected one of {CALLS}")
    return strings(values)


@dataclass(frozen=True, eq=False)
class Snapshot:
    """One source's results at one moment.

    Attributes:
        source: the configured source name.
        fetched_at: when nightdesk received the bytes (UTC, aware).
        published_at: the feed's own timestamp, if it gives one.
        votes: index unit id, columns party id, dtype ``Int64``; ``<NA>`` = not reported.
        units: index unit id; columns :data:`UNIT_COLUMNS` (each may be all ``<NA>``).
        parties: index party id; columns :data:`PARTY_COLUMNS`.
        race: the contest, for sources that carry several; ``None`` otherwise.
        vote_types: the votes split by how they were cast (election day, early, absentee,
            provisional…), each table shaped like ``votes``; they sum to ``votes`` where the
            feed gives every type. ``None`` when the feed has no split. Kept for viewing:
            the history store keeps the body they came from, not the split itself.
    """

    source: str
    fetched_at: datetime
    published_at: datetime | None
    votes: pd.DataFrame
    units: pd.DataFrame
    parties: pd.DataFrame
    race: Race | None = None
    vote_types: Mapping[str, pd.DataFrame] | None = None

    @classmethod
    def build(
        cls,
        *,
        source: str,
        votes: pd.DataFrame,
        units: pd.DataFrame | None = None,
        parties: pd.DataFrame | Mapping[str, Party] | None = None,
        fetched_at: datetime | None = None,
        published_at: datetime | None = None,
        race: Race | None = None,
        vote_types: Mapping[str, pd.DataFrame] | None = None,
    ) -> Snapshot:
        """Normalise and check the three tables; raise :class:`FeedError` if they lie.

        The checks run on NumPy arrays read once per column (a DataFrame-wide comparison
        costs a millisecond even on a few rows), and the arrays are kept for
        :meth:`vote_arrays` and :meth:`figure_arrays`.
        """
        index = pd.Index(printable(votes.index.astype(str)), name="unit")
        parties_index = pd.Index(
            printable(_text_index([str(c) for c in votes.columns.tolist()])), name="party"
        )
        if index.has_duplicates:
            dup = index[index.duplicated()][0]
            raise FeedError(f"unit {dup!r} appears twice", source=source)
        if parties_index.has_duplicates:
            dup = parties_index[parties_index.duplicated()][0]
            raise FeedError(f"party {dup!r} appears twice", source=source)
        columns = column_arrays(votes)
        if all(isinstance(a, pd.arrays.IntegerArray) and a.dtype == "Int64" for a in columns):
            votes = votes.copy()  # already typed: astype would only copy again
        else:
            try:
                votes = votes.astype("Int64")
            except (TypeError, ValueError) as exc:
                raise FeedError(f"votes must be whole numbers ({exc})", source=source) from exc
            columns = column_arrays(votes)
        votes.index, votes.columns = index, parties_index
        vote_arrays = _stack(columns, len(index))
        if bool((vote_arrays[0] < 0).any()):
            raise FeedError("votes must not be negative", source=source)
        if bool((vote_arrays[0] > MAX_COUNT).any()):
            raise FeedError(
                f"a vote count is larger than {MAX_COUNT:,}: no real count is", source=source
            )

        given: dict[str, Column] = {}
        if units is not None:
            given_index = pd.Index(printable(units.index.astype(str)), name="unit")
            if given_index.has_duplicates:
                dup = given_index[given_index.duplicated()][0]
                raise FeedError(f"unit {dup!r} appears twice", source=source)
            unknown = set(units.columns) - set(UNIT_COLUMNS)
            if unknown:
                raise ValueError(f"unknown unit columns: {sorted(unknown)}")
            same = given_index.equals(index)
            extra = given_index[:0] if same else given_index.difference(index)
            if len(extra):
                # A unit with figures but no votes yet: keep it, votes not reported.
                votes = votes.reindex(index.append(extra))
                index = votes.index
                vote_arrays = None
            aligned = units
            if not (same or given_index.equals(index)):
                aligned = units.set_axis(given_index, axis=0).reindex(index)
            given = dict(zip(map(str, aligned.columns), column_arrays(aligned), strict=True))
        n = len(index)
        ids = index.to_numpy(dtype=object)
        table: dict[str, pd.api.extensions.ExtensionArray] = {}
        counts: list[pd.api.extensions.ExtensionArray] = []
        for col in UNIT_COLUMNS:
            if col in UNIT_LABELS:
                table[col] = _label_column(given.get(col), ids if col == "name" else None, n)
            else:
                table[col] = _figure_column(given.get(col), col, n)
                if col != "reporting":
                    counts.append(table[col])
        figures, unknown_figures = _stack(counts, n)
        if bool((figures < 0).any()):
            raise FeedError("unit figures must not be negative", source=source)
        if bool((figures > MAX_COUNT).any()):
            raise FeedError(f"a unit figure is larger than {MAX_COUNT:,}", source=source)
        over = figures[:, UNIT_COUNTS.index("seats")] > MAX_SEATS
        if bool(over.any()):
            unit = index[over][0]
            raise FeedError(
                f"unit {unit!r} has more than {MAX_SEATS:,} seats; no electoral unit has",
                source=source,
            )
        # Reporting above 1 (100 %) is kept: a feed that says so is flagged, not refused
        # (nightdesk.checks), so the desk sees the figure it was given.
        reporting = table["reporting"]
        rep = reporting.to_numpy(dtype=np.float64, na_value=np.nan)
        if bool(((rep < 0) | (~reporting.isna() & ~np.isfinite(rep))).any()):
            raise FeedError(
                "reporting must be a fraction of 0 or more (a finite number)", source=source
            )
        unit_table = typed_frame(list(table.values()), _UNIT_COLUMN_INDEX.copy(), index)

        snapshot = cls(
            source=source,
            fetched_at=fetched_at or datetime.now(UTC),
            published_at=published_at,
            votes=votes,
            units=unit_table,
            parties=_party_table(parties, votes.columns),
            race=race,
            vote_types=_vote_types(vote_types, votes, source),
        )
        # The arrays were read for the checks: keep them for the engine (cached_property).
        if vote_arrays is not None:
            snapshot.__dict__["_vote_arrays"] = _read_only(vote_arrays)
        snapshot.__dict__["_figure_arrays"] = _read_only((figures, unknown_figures))
        return snapshot

    @property
    def unit_ids(self) -> list[str]:
        return list(self.votes.index)

    @property
    def party_ids(self) -> list[str]:
        return list(self.votes.columns)

    @cached_property
    def _content_key(self) -> str:
        h = hashlib.sha256()
        h.update(repr(self.race).encode())
        for frame in (self.votes, self.units, self.parties[["called"]]):
            h.update("\x1f".join(map(str, frame.index.to_numpy(dtype=object))).encode())
            h.update(b"\x1e")
            h.update("\x1f".join(map(str, frame.columns)).encode())
            h.update(b"\x1e")
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def content_key(self) -> str:
        """A hash of what was counted, not of when: equal keys mean "not a new snapshot"."""
        return self._content_key

    def same_counts(self, other: Snapshot) -> bool:
        """Whether both counted the same (what :meth:`content_key` hashes), compared exactly.

        Cheaper than two keys (no hashing of every cell) and free of collisions; the poller
        asks this of every poll.
        """
        if self is other:
            return True
        mine = self.counts_token()
        if mine is not None and self.race == other.race and mine == other.counts_token():
            return True  # equal reads of the feed: no table needs building
        return (
            self.race == other.race
            and self.votes.equals(other.votes)
            and self.units.equals(other.units)
            and self.parties["called"].equals(other.parties["called"])
        )

    def counts_token(self) -> object:
        """What the feed gave, as read (before any table), when the adapter keeps it: equal
        tokens mean the same counts. ``None`` here; see :mod:`nightdesk.deferred`."""
        return None

    def tree_complete(self) -> bool | None:
        """Whether the adapter knows the unit tree needs no roll-up (every parent present,
        with votes, no loops); ``None`` when it does not say."""
        return None

    @cached_property
    def _vote_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        values = np.zeros(self.votes.shape, dtype=np.int64)
        missing = np.zeros(self.votes.shape, dtype=bool)
        for i, (_, column) in enumerate(self.votes.items()):
            values[:, i] = column.array.to_numpy(dtype=np.int64, na_value=0)
            missing[:, i] = column.array.isna()
        values.flags.writeable = False
        missing.flags.writeable = False
        return values, missing

    def vote_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The votes as NumPy, computed once: (int64 with ``<NA>`` as 0, True where ``<NA>``).

        Read-only: the engine's hot path (diffs, seats, remaining ballots) works on these
        instead of going through pandas per call.
        """
        return self._vote_arrays

    @cached_property
    def _figure_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        counts = self.units[list(UNIT_COUNTS)]
        values = np.zeros(counts.shape, dtype=np.int64)
        missing = np.zeros(counts.shape, dtype=bool)
        for i, (_, column) in enumerate(counts.items()):
            values[:, i] = column.array.to_numpy(dtype=np.int64, na_value=0)
            missing[:, i] = column.array.isna()
        values.flags.writeable = False
        missing.flags.writeable = False
        return values, missing

    @cached_property
    def _vote_sums(self) -> tuple[np.ndarray, np.ndarray]:
        values, missing = self.vote_arrays()
        # einsum: a plain sum(axis=1) is several times slower on a few columns.
        sums = np.einsum("ij->i", values)
        reported = np.einsum("ij->i", (~missing).view(np.uint8), dtype=np.int64)
        return sums, reported == 0

    def vote_sums(self) -> tuple[np.ndarray, np.ndarray]:
        """Per unit, computed once: party votes summed (``<NA>`` as 0), and whether no
        party's votes were reported."""
        return self._vote_sums

    def figure_arrays(self) -> tuple[np.ndarray, np.ndarray]:
        """The unit counts (:data:`UNIT_COUNTS`, in that order) as :meth:`vote_arrays` gives
        the votes."""
        return self._figure_arrays

    @cached_property
    def _top_level(self) -> np.ndarray:
        parent = self.units["parent"]
        top = parent.isna()
        if not top.all():
            top = top | ~parent.isin(self.units.index)
        mask = top.to_numpy(dtype=bool)
        mask.flags.writeable = False
        return mask

    def top_level(self) -> np.ndarray:
        """Per unit: at the top of the tree (no parent, or a parent this snapshot lacks).
        National sums count these only: every vote is in exactly one of them."""
        return self._top_level

    def party_totals(self) -> pd.Series:
        """National votes per party (``Int64``, top-level units); a party no unit reported is
        ``<NA>``."""
        top = self.top_level()
        votes = self.votes if top.all() else self.votes[top]
        return votes.sum(axis=0, min_count=1).astype("Int64")

    @cached_property
    def _unit_valid(self) -> pd.Series:
        sums, none_reported = self.vote_sums()
        figures, unknown = self.figure_arrays()
        blank, valid = UNIT_COUNTS.index("blank"), UNIT_COUNTS.index("valid")
        summed = sums + figures[:, blank]
        given = ~unknown[:, valid]
        out = np.where(given, figures[:, valid], summed)
        na = ~given & none_reported  # no figure and no party reported
        return pd.Series(pd.arrays.IntegerArray(out, na), index=self.units.index, name="valid")

    def unit_valid(self) -> pd.Series:
        """Valid votes per unit as design.md defines them for thresholds.

        The feed's ``valid`` figure where given (it includes blank ballots), otherwise the
        party votes plus ``blank``.
        """
        return self._unit_valid.copy(deep=False)

    def party_label(self, party: str) -> str:
        short = self.parties.at[party, "short_name"]
        return str(short) if short is not pd.NA and short else str(self.parties.at[party, "name"])
