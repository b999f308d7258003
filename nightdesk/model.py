"""The Snapshot: one observation of one source at one time, as three typed tables.

Votes are pandas nullable ``Int64`` so that "not reported" (``<NA>``) never reads as zero.
Every constructor goes through :meth:`Snapshot.build`, which fixes dtypes and checks the
invariants, so code downstream can trust the tables it is given.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

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
REPLACEMENT = "\ufffd"


def printable(labels: pd.Index | pd.Series) -> pd.Index | pd.Series:
    """Labels with control characters replaced by U+FFFD (vectorised)."""
    if len(labels) == 0:
        return labels
    text = labels.astype(str)
    if not text.str.contains(_CONTROL, regex=True).any():
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


def _empty_units(index: pd.Index) -> pd.DataFrame:
    units = pd.DataFrame(index=index)
    for col in UNIT_LABELS:
        units[col] = pd.Series(pd.NA, index=index, dtype="string")
    for col in UNIT_COUNTS:
        units[col] = pd.Series(pd.NA, index=index, dtype="Int64")
    units["reporting"] = pd.Series(pd.NA, index=index, dtype="Float64")
    return units


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

        table = _empty_units(votes.index)
        if units is not None:
            given = units.copy()
            given.index = pd.Index(printable(given.index.astype(str)), name="unit")
            if given.index.has_duplicates:
                dup = given.index[given.index.duplicated()][0]
                raise FeedError(f"unit {dup!r} appears twice", source=source)
            unknown = set(given.columns) - set(UNIT_COLUMNS)
            if unknown:
                raise ValueError(f"unknown unit columns: {sorted(unknown)}")
            extra = given.index.difference(votes.index)
            if len(extra):
                # A unit with figures but no votes yet: keep it, votes not reported.
                votes = votes.reindex(votes.index.append(extra))
                table = _empty_units(votes.index)
            for col in given.columns:
                table[col] = given[col].reindex(table.index).astype(table[col].dtype)
        table["name"] = table["name"].fillna(pd.Series(table.index, index=table.index))
        for col in UNIT_LABELS:
            table[col] = printable(table[col].fillna("")).astype("string").mask(table[col].isna())
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
            h.update("\x1f".join(map(str, frame.index)).encode())
            h.update(b"\x1e")
            h.update("\x1f".join(map(str, frame.columns)).encode())
            h.update(b"\x1e")
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        return h.hexdigest()

    def content_key(self) -> str:
        """A hash of what was counted, not of when: equal keys mean "not a new snapshot"."""
        return self._content_key

    def same_counts(self, other: Snapshot) -> bool:
        return self.content_key() == other.content_key()

    def party_totals(self) -> pd.Series:
        """National votes per party (``Int64``); a party no unit reported is ``<NA>``."""
        return self.votes.sum(axis=0, min_count=1).astype("Int64")

    def unit_valid(self) -> pd.Series:
        """Valid votes per unit as design.md defines them for thresholds.

        The feed's ``valid`` figure where given (it includes blank ballots), otherwise the
        party votes plus ``blank``.
        """
        summed = self.votes.sum(axis=1, min_count=1).astype("Int64")
        summed = summed + self.units["blank"].fillna(0)
        return self.units["valid"].fillna(summed).astype("Int64")

    def party_label(self, party: str) -> str:
        short = self.parties.at[party, "short_name"]
        return str(short) if short is not pd.NA and short else str(self.parties.at[party, "name"])
