"""Checks on what a feed says: figures of one unit that cannot all be true at once.

A feed that contradicts itself is still shown (the desk needs the numbers it was given), but
the contradiction is flagged like a correction: never hidden. The checks are pure and run
over whole arrays of a snapshot (no per-unit Python); a poll with no findings costs a few
comparisons of its arrays. Text is made only when a finding is shown.

The rules (``valid`` includes blank ballots, as design.md defines it):

- ``over_registered``: more ballots than registered voters. The ballots are the most the
  unit's figures prove were cast: the larger of ``ballots_cast`` and (party votes plus
  blank, or ``valid`` if larger) plus invalid, each figure not given counted as 0. So the
  party votes alone count when the feed gives nothing else.
- ``over_valid`` / ``short_of_valid``: party votes that do not add up to ``valid``. A
  complete feed has ``party votes + blank == valid``; which mismatch is a contradiction:

  - **above** (``party votes + blank > valid``, blank as 0 where not given): always.
    Whatever the feed has not reported yet (a party, the blank ballots) could only add.
  - **short** (``party votes + blank < valid``): only when the feed gives ``blank`` and
    every party's votes in the unit. Otherwise the gap is what it has not reported: blank
    ballots it does not break out (``valid`` includes them), or parties still ``<NA>``.

  Units with no ``valid`` figure, or no party reported, are not checked.
- ``over_100``: reporting above 1 (100 %). The model keeps such a figure so it can be
  flagged; negative or non-finite reporting is still refused as a feed error.
- ``spelling``: two party (candidate) ids that look like one name spelled two ways —
  "Raphael Warnock", "RAPHAEL WARNOCK", "Raphael Warnock (I) (Dem)", "Warnock " — once case,
  accents, punctuation, spacing and notes in parentheses are set aside, used by different
  units (counties that spell a name their own way). Nothing is merged: each spelling keeps
  its own votes, and every unit that reports a spelling other than the most used one is
  flagged, so the desk sees why a candidate's total looks short. A group whose spellings
  never appear apart (both in every unit that has either) is two candidates, not one.
"""

from __future__ import annotations

import re
import unicodedata
import weakref
from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np
import pandas as pd

from nightdesk import hierarchy
from nightdesk.model import UNIT_COLUMNS, UNIT_COUNTS, Snapshot, column_arrays

#: The check ids, in the order of the rows of :attr:`Findings.flags`.
CHECKS: tuple[str, ...] = (
    "over_registered",
    "over_valid",
    "short_of_valid",
    "over_100",
    "spelling",
)
#: Each check in a few words (the province screen's heading, the "cleared" line).
TITLES: dict[str, str] = {
    "over_registered": "more ballots than registered voters",
    "over_valid": "party votes above valid votes",
    "short_of_valid": "party votes short of valid votes",
    "over_100": "reporting above 100%",
    "spelling": "one name spelled two ways",
}
_COLUMN = {name: i for i, name in enumerate(UNIT_COUNTS)}
_FINDING_COLUMNS = pd.Index(["unit", "check", "message"])


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check of one unit, in words."""

    unit: str
    check: str
    message: str  # one line with the numbers: "votes 123,456 above registered 120,000"

    @property
    def title(self) -> str:
        return TITLES[self.check]


_WAYS = {2: "two", 3: "three", 4: "four"}


def _units(n: int) -> str:
    return f"{n:,} unit" if n == 1 else f"{n:,} units"


@dataclass(frozen=True)
class _Spellings:
    """Party ids that look like one name: per group, the most used spelling's position and
    the others'; which units report each party; and how many report each."""

    parties: tuple[str, ...]
    groups: tuple[tuple[int, tuple[int, ...]], ...]
    missing: np.ndarray  # bool units × parties: the snapshot's own (read-only) array
    users: np.ndarray  # int64 per party: units at the bottom of the tree reporting it

    def message(self, pos: int) -> str:
        said = []
        for main, others in self.groups:
            here = [k for k in others if not self.missing[pos, k]]
            if not here:
                continue
            spelt = [f"{self.parties[k]!r} ({_units(int(self.users[k]))})" for k in (main, *here)]
            listed = f"{', '.join(spelt[:-1])} and {spelt[-1]}"
            ways = _WAYS.get(len(spelt), str(len(spelt)))
            said.append(f"candidates {listed} look like one name spelled {ways} ways")
        return "; ".join(said)


@dataclass(frozen=True)
class _Figures:
    """What the messages are made from: the snapshot's own read-only arrays (never the
    snapshot itself, so a cache of findings keeps no snapshot alive)."""

    sums: np.ndarray  # int64 party votes per unit
    figures: np.ndarray  # int64 units × UNIT_COUNTS, <NA> as 0
    unknown: np.ndarray  # bool units × UNIT_COUNTS
    reporting: np.ndarray  # float64 (read only where given)
    spellings: _Spellings | None = None

    def get(self, name: str, pos: int) -> int:
        return int(self.figures[pos, _COLUMN[name]])

    def given(self, name: str, pos: int) -> bool:
        return not bool(self.unknown[pos, _COLUMN[name]])


@dataclass(frozen=True, eq=False)
class Findings:
    """The failed checks of one snapshot.

    ``flags`` is the whole answer as one read-only bool array, a row per check of
    :data:`CHECKS` and a column per unit in the snapshot's order (each check's row is
    contiguous, so it is written and compared at full speed): the screens and the change log
    compare it array against array.
    ``table`` lists the findings one row each (unit, check id, message), made on demand:
    messages are text, and a feed that fails a check in every unit must not cost a
    string per unit on every poll.
    """

    units: pd.Index
    flags: np.ndarray
    _figures: _Figures

    @cached_property
    def flagged(self) -> np.ndarray:
        """Per unit: whether any check failed (read-only)."""
        out = self.flags.any(axis=0)
        out.flags.writeable = False
        return out

    @cached_property
    def _rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(unit position, check index) per finding, in unit order then check order."""
        check, pos = np.nonzero(self.flags)
        order = np.argsort(pos, kind="stable")
        return pos[order], check[order]

    def __len__(self) -> int:
        return len(self._rows[0])

    def __bool__(self) -> bool:
        return bool(self.flagged.any())

    def finding(self, pos: int, check: int) -> Finding:
        """The finding of the unit at ``pos`` for ``CHECKS[check]`` (which must have failed)."""
        name = CHECKS[check]
        return Finding(str(self.units[pos]), name, _MESSAGES[name](self._figures, pos))

    def for_unit(self, unit: str) -> list[Finding]:
        """The unit's findings, in the order of :data:`CHECKS` (none for an unknown unit)."""
        at = self.units.get_indexer([unit])[0]
        if at < 0:
            return []
        return [self.finding(int(at), int(k)) for k in np.flatnonzero(self.flags[:, at])]

    @cached_property
    def table(self) -> pd.DataFrame:
        """One row per finding: unit, check (an id of :data:`CHECKS`), message (``string``)."""
        pos, check = self._rows
        found = [self.finding(int(p), int(k)) for p, k in zip(pos, check, strict=True)]
        return pd.DataFrame(
            {
                "unit": pd.array([f.unit for f in found], dtype="string"),
                "check": pd.array([f.check for f in found], dtype="string"),
                "message": pd.array([f.message for f in found], dtype="string"),
            },
            columns=_FINDING_COLUMNS,
        )

    def equals(self, other: Findings) -> bool:
        """Same units, same failed checks and same messages."""
        return (
            self.units.equals(other.units)
            and np.array_equal(self.flags, other.flags)
            and self.table.equals(other.table)
        )


def check(snapshot: Snapshot) -> Findings:
    """Run every check on one snapshot (pure; vectorised over all its units).

    About 0.1 ms at 20,000 units. The figures are read from the units table's own columns
    (contiguous, and not copied): a column of the snapshot's units × figures array is
    strided, and costs several times more in every operation that reads it. A check whose
    figures no unit gives is skipped.
    """
    sums, none_reported = snapshot.vote_sums()
    columns = dict(zip(UNIT_COLUMNS, column_arrays(snapshot.units), strict=True))
    flags = np.zeros((len(CHECKS), len(sums)), dtype=bool)

    def given(name: str) -> np.ndarray:
        return ~columns[name]._mask

    def figure(name: str) -> np.ndarray | None:
        """The figure with 0 where not given (the masked cells may hold anything); ``None``
        when no unit gives it. Feeds usually give a figure everywhere or nowhere: then no
        masking is needed. Read-only use: it may be the table's own array."""
        mask = columns[name]._mask
        if not mask.any():
            return columns[name]._data
        if mask.all():
            return None
        return np.where(mask, 0, columns[name]._data)

    def add(total: np.ndarray, name: str) -> np.ndarray:
        """``total`` plus the figure, in a new array."""
        value = figure(name)
        return total.copy() if value is None else total + value

    accounted = add(sums, "blank")  # party votes + blank: what valid must equal
    valid = figure("valid")
    if valid is not None:
        checked = given("valid") & ~none_reported
        np.greater(accounted, valid, out=flags[1])
        flags[1] &= checked
        np.less(accounted, valid, out=flags[2])
        flags[2] &= checked
        flags[2] &= given("blank")
        rows = np.flatnonzero(flags[2])
        if len(rows):  # rare: only these units' vote cells are looked at
            _, missing = snapshot.vote_arrays()
            flags[2, rows[missing[rows].any(axis=1)]] = False
        np.maximum(accounted, valid, out=accounted)
    registered = figure("registered")
    if registered is not None:
        # The most ballots the figures prove were cast (every missing figure is 0).
        ballots = add(accounted, "invalid")
        cast = figure("ballots_cast")
        if cast is not None:
            np.maximum(ballots, cast, out=ballots)
        np.greater(ballots, registered, out=flags[0])
        flags[0] &= given("registered")
    reporting = columns["reporting"]
    if not reporting._mask.all():
        np.greater(reporting._data, 1.0, out=flags[3])
        flags[3] &= given("reporting")
    spellings = None
    groups = look_alike(tuple(snapshot.votes.columns))
    if groups:
        spellings = _spellings(snapshot, groups, flags[4])
    flags.flags.writeable = False
    figures, unknown = snapshot.figure_arrays()
    return Findings(
        snapshot.votes.index,
        flags,
        _Figures(sums, figures, unknown, reporting._data, spellings),
    )


# --- spelling ---------------------------------------------------------------------------------

_NOTES = re.compile(r"\([^)]*\)?")  # "(I)", "(Dem)", and an unclosed "(Dem"
_NOT_WORD = re.compile(r"[\W_]+")


def spelling_key(name: str) -> str:
    """What is left of a name once case, accents, punctuation, spacing and notes in
    parentheses are set aside ("Raphael Warnock (I) (Dem)" → "raphael warnock"); a name
    that is only a note keeps its words ("(Dem" → "dem")."""
    folded = unicodedata.normalize("NFKD", name.casefold())
    folded = "".join(c for c in folded if not unicodedata.combining(c))
    bare = _NOT_WORD.sub(" ", _NOTES.sub(" ", folded)).strip()
    return bare or _NOT_WORD.sub(" ", folded).strip()


@lru_cache(maxsize=512)
def look_alike(parties: tuple[str, ...]) -> tuple[tuple[int, ...], ...]:
    """Groups of party positions whose ids have one :func:`spelling_key` (at least two).
    Cached: a source names the same parties poll after poll."""
    found: dict[str, list[int]] = {}
    for k, party in enumerate(parties):
        key = spelling_key(str(party))
        if key:
            found.setdefault(key, []).append(k)
    return tuple(tuple(group) for group in found.values() if len(group) > 1)


def _spellings(
    snapshot: Snapshot, groups: tuple[tuple[int, ...], ...], flags: np.ndarray
) -> _Spellings | None:
    """Flag (in ``flags``) the units reporting a spelling other than its group's most used,
    for groups whose spellings appear apart. Only the groups' columns are read."""
    _, missing = snapshot.vote_arrays()
    leaves = None if hierarchy.is_flat(snapshot) else ~hierarchy.has_children(snapshot)
    users = np.zeros(missing.shape[1], dtype=np.int64)
    kept: list[tuple[int, tuple[int, ...]]] = []
    for group in groups:
        members = list(group)
        given = ~missing[:, members]
        users[members] = (given if leaves is None else given[leaves]).sum(axis=0)
        first = int(np.argmax(users[members]))  # the first of the most used
        others = np.delete(given, first, axis=1).any(axis=1)
        if not (others & ~given[:, first]).any():
            continue  # never apart: different candidates with alike names
        kept.append((members[first], tuple(k for j, k in enumerate(members) if j != first)))
        flags |= others
    if not kept:
        return None
    return _Spellings(tuple(map(str, snapshot.votes.columns)), tuple(kept), missing, users)


# --- messages: one line each, with the numbers -----------------------------------------------


def _ballots_message(f: _Figures, pos: int) -> str:
    votes, blank, valid, invalid = (
        int(f.sums[pos]),
        f.get("blank", pos),
        f.get("valid", pos),
        f.get("invalid", pos),
    )
    cast, registered = f.get("ballots_cast", pos), f.get("registered", pos)
    proved = max(votes + blank, valid) + invalid
    if f.given("ballots_cast", pos) and cast >= proved:
        what, ballots = "ballots cast", cast
    else:
        parts = ["valid"] if valid > votes + blank else ["votes", *(["blank"] if blank else [])]
        parts += ["invalid"] if invalid else []
        what, ballots = " + ".join(parts), proved
    return f"{what} {ballots:,} above registered {registered:,}"


def _valid_message(f: _Figures, pos: int) -> str:
    votes, valid = int(f.sums[pos]), f.get("valid", pos)
    blank = f.get("blank", pos)
    if f.given("blank", pos):
        accounted = votes + blank
        said = f"votes {votes:,} + blank {blank:,} = {accounted:,}"
    else:
        accounted, said = votes, f"votes {votes:,}"
    if accounted > valid:
        return f"{said} above valid {valid:,}"
    return f"{said} short of valid {valid:,} by {valid - accounted:,}"


def _reporting_message(f: _Figures, pos: int) -> str:
    return f"reporting {float(f.reporting[pos]) * 100:.10g}% (above 100%)"


def _spelling_message(f: _Figures, pos: int) -> str:
    assert f.spellings is not None
    return f.spellings.message(pos)


_MESSAGES = {
    "over_registered": _ballots_message,
    "over_valid": _valid_message,
    "short_of_valid": _valid_message,
    "over_100": _reporting_message,
    "spelling": _spelling_message,
}

# --- one run per snapshot ---------------------------------------------------------------------

_FOUND: weakref.WeakKeyDictionary[Snapshot, Findings] = weakref.WeakKeyDictionary()


def findings(snapshot: Snapshot) -> Findings:
    """:func:`check`, run once per snapshot: ``assess`` (on the poller's thread) and the change
    log (which sees only the delta) get the same answer without checking twice. Findings
    refer to arrays, never to their snapshot, so the cache keeps nothing alive."""
    found = _FOUND.get(snapshot)
    if found is None:
        found = _FOUND[snapshot] = check(snapshot)
    return found
