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
PARTY_COLUMNS: tuple[str, ...] = ("name", "short_name", "colour")
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


@dataclass(frozen=True)
class Race:
    """One contest a source reports (feeds such as AP carry several)."""

    id: str
    name: str


def _unit_column(
    given: pd.Series | None, col: str, index: pd.Index
) -> pd.api.extensions.ExtensionArray:
    """One column of the units table, typed, in the order of ``index`` (``given`` is)."""
    dtype = "string" if col in UNIT_LABELS else "Float64" if col == "reporting" else "Int64"
    column = pd.Series(pd.NA, index=index, dtype=dtype) if given is None else given.astype(dtype)
    if col == "name":  # a unit with no name is called by its id
        column = column.fillna(pd.Series(index.to_numpy(dtype=object), index=column.index))
    if col in UNIT_LABELS:
        column = printable(column.fillna("")).astype("string").mask(column.isna())
    return column.array


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
    """

    source: str
    fetched_at: datetime
    published_at: datetime | None
    votes: pd.DataFrame
    units: pd.DataFrame
    parties: pd.DataFrame
    race: Race | None = None

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
    ) -> Snapshot:
        """Normalise and check the three tables; raise :class:`FeedError` if they lie."""
        votes = votes.copy()
        votes.index = pd.Index(printable(votes.index.astype(str)), name="unit")
        votes.columns = pd.Index(printable(pd.Index([str(c) for c in votes.columns])), name="party")
        if votes.index.has_duplicates:
            dup = votes.index[votes.index.duplicated()][0]
            raise FeedError(f"unit {dup!r} appears twice", source=source)
        if votes.columns.has_duplicates:
            dup = votes.columns[votes.columns.duplicated()][0]
            raise FeedError(f"party {dup!r} appears twice", source=source)
        try:
            votes = votes.astype("Int64")
        except (TypeError, ValueError) as exc:
            raise FeedError(f"votes must be whole numbers ({exc})", source=source) from exc
        if bool((votes < 0).any().any()):
            raise FeedError("votes must not be negative", source=source)
        if bool((votes > MAX_COUNT).any().any()):
            raise FeedError(
                f"a vote count is larger than {MAX_COUNT:,}: no real count is", source=source
            )

        index = votes.index
        given: dict[str, pd.Series] = {}
        if units is not None:
            given_index = pd.Index(printable(units.index.astype(str)), name="unit")
            if given_index.has_duplicates:
                dup = given_index[given_index.duplicated()][0]
                raise FeedError(f"unit {dup!r} appears twice", source=source)
            unknown = set(units.columns) - set(UNIT_COLUMNS)
            if unknown:
                raise ValueError(f"unknown unit columns: {sorted(unknown)}")
            extra = given_index.difference(index)
            if len(extra):
                # A unit with figures but no votes yet: keep it, votes not reported.
                votes = votes.reindex(index.append(extra))
                index = votes.index
            aligned = units.set_axis(given_index, axis=0)
            if not given_index.equals(index):
                aligned = aligned.reindex(index)
            given = {str(col): aligned[col] for col in aligned.columns}
        # One constructor call on positional arrays: no per-column index alignment.
        table = pd.DataFrame(
            {col: _unit_column(given.get(col), col, index) for col in UNIT_COLUMNS},
            index=index,
        )
        counts = table[list(UNIT_COUNTS)]
        if bool((counts < 0).any().any()):
            raise FeedError("unit figures must not be negative", source=source)
        if bool((counts > MAX_COUNT).any().any()):
            raise FeedError(f"a unit figure is larger than {MAX_COUNT:,}", source=source)
        if bool((table["seats"] > MAX_SEATS).any()):
            unit = table.index[(table["seats"] > MAX_SEATS).fillna(False)][0]
            raise FeedError(
                f"unit {unit!r} has more than {MAX_SEATS:,} seats; no electoral unit has",
                source=source,
            )
        rep = table["reporting"]
        if bool(((rep < 0) | (rep > 1)).any()):
            raise FeedError("reporting must be a fraction between 0 and 1", source=source)

        ptable = pd.DataFrame(
            {c: pd.Series(pd.NA, index=votes.columns, dtype="string") for c in PARTY_COLUMNS},
            index=votes.columns,
        )
        if isinstance(parties, Mapping):
            parties = pd.DataFrame(
                [(p.id, p.name, p.short_name, p.colour) for p in parties.values()],
                columns=["id", *PARTY_COLUMNS],
            ).set_index("id")
        if parties is not None:
            for col in PARTY_COLUMNS:
                if col in parties.columns:
                    ptable[col] = (
                        parties[col].reindex(ptable.index.astype(str)).astype("string").values
                    )
        ptable["name"] = ptable["name"].fillna(pd.Series(ptable.index, index=ptable.index))
        for col in ("name", "short_name"):
            ptable[col] = (
                printable(ptable[col].fillna("")).astype("string").mask(ptable[col].isna())
            )
        ptable.index.name = "party"

        return cls(
            source=source,
            fetched_at=fetched_at or datetime.now(UTC),
            published_at=published_at,
            votes=votes,
            units=table,
            parties=ptable,
            race=race,
        )

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
        for frame in (self.votes, self.units):
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
        return (
            self.race == other.race
            and self.votes.equals(other.votes)
            and self.units.equals(other.units)
        )

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

    def party_totals(self) -> pd.Series:
        """National votes per party (``Int64``); a party no unit reported is ``<NA>``."""
        return self.votes.sum(axis=0, min_count=1).astype("Int64")

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
