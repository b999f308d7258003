"""A contest's Snapshot from its cube (:mod:`adapters.clarity_cubes`).

The totals are the cube's sum over vote types; each table column is handed to the model
as a masked array already of its final type, so no pandas work happens per cell.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from functools import partial
from itertools import accumulate, chain

import numpy as np
import pandas as pd

from adapters.clarity_cubes import Cube, Cubes, Segments
from adapters.clarity_document import Contest, Document
from nightdesk.deferred import DeferredSnapshot, Tables
from nightdesk.errors import FeedError
from nightdesk.model import (
    MAX_COUNT,
    Race,
    Snapshot,
    has_control,
    printable_text,
    strings,
    typed_frame,
)

_PARTY_COLUMNS = pd.Index(["name", "short_name"])


def contest_snapshots(
    contests: list[Contest],
    cubes: Cubes,
    *,
    doc: Document,
    source: str,
    fetched_at: datetime,
    published_at: datetime | None,
    large: bool = True,
    control: bool = True,
) -> list[Snapshot]:
    """Each contest's Snapshot: votes (summed over vote types), the split by vote type,
    the units' reporting and the choices as parties.

    What :meth:`Snapshot.build` would refuse is refused here, for the first contest that
    has it; the tables are built when first read (a state's file has hundreds of contests,
    a desk watches a few). ``large``/``control``: False when the whole document is known
    to hold no count past the limit / no control character in a key or unit name; the
    contests are then checked one by one only where a choice key may appear twice.
    """
    if large or control or _choice_key_twice(contests):
        for i, contest in enumerate(contests):
            _check(contest, cubes.cube(i), source, large=large, control=control)
    # Everything the tables are made of: equal tokens, equal tables. Every cube's bytes
    # are taken at once; each contest's are a slice (what its cube's tobytes() gives).
    votes, given, width = cubes.votes.tobytes(), cubes.given.tobytes(), cubes.votes.itemsize
    turnout, unit_names = doc.turnout_reporting, cubes.unit_names
    contents: list[object] = [
        (
            shape,
            votes[start * width : end * width],
            given[start:end],
            unit_names[first:last],
            contest.choices,
            contest.vote_types,
            contest.reporting or turnout,
        )
        for contest, shape, start, end, first, last in zip(
            contests,
            cubes.shapes,
            cubes.offsets,
            cubes.ends,
            cubes.unit_starts,
            cubes.unit_ends,
            strict=True,
        )
    ]
    for i, cube in cubes.whole.items():
        contest = contests[i]
        contents[i] = (
            cube.votes.shape,
            cube.votes.tobytes(),
            cube.given.tobytes(),
            cube.units,
            contest.choices,
            contest.vote_types,
            contest.reporting or turnout,
        )
    if has_control("".join([c.text for c in contests])):
        races = [Race(c.key, printable_text(c.text)) for c in contests]
    else:
        races = [Race(c.key, c.text) for c in contests]
    makes = [partial(_tables_of, contest, cubes, i, doc) for i, contest in enumerate(contests)]
    return list(  # (a list of Snapshots: lists of subclasses are not)
        DeferredSnapshot.many(
            source=source,
            fetched_at=fetched_at,
            published_at=published_at,
            tree_complete=True,  # every unit is at the top: the file's region is the whole
            races=zip(races, makes, contents, strict=True),
        )
    )


def _choice_key_twice(contests: list[Contest]) -> bool:
    """Whether any contest lists a choice key twice (one set for all contests)."""
    keys = [c.key for c in chain.from_iterable(contest.choices for contest in contests)]
    if len(set(keys)) == len(keys):
        return False  # (choice keys are usually unique in the whole file)
    owners = np.repeat(np.arange(len(contests)), [len(c.choices) for c in contests])
    return len(set(zip(owners.tolist(), keys, strict=True))) != len(keys)


def _check(contest: Contest, cube: Cube, source: str, *, large: bool, control: bool) -> None:
    """Refuse what would make the tables fail: a count past the model's limit, a choice
    key twice, unit ids that control characters would make equal. ``large`` and
    ``control``: whether the document could have either (checked once for all contests)."""
    votes = cube.votes
    if large and votes.size and votes.sum(axis=0, dtype=np.float64).max() > MAX_COUNT:
        raise FeedError(
            f"contest {contest.key!r}: a vote count is larger than {MAX_COUNT:,}; no real count is",
            source=source,
        )
    keys = [c.key for c in contest.choices]
    if control:
        keys = [printable_text(k) for k in keys]
    if len(set(keys)) != len(keys):
        raise FeedError(f"contest {contest.key!r} lists a choice key twice", source=source)
    if control:
        units = list(dict.fromkeys([*cube.units, *contest.reporting]))
        if len({printable_text(u) for u in units}) != len(units):
            raise FeedError(
                f"contest {contest.key!r}: two units differ only in control characters",
                source=source,
            )


def _tables_of(contest: Contest, cubes: Cubes, i: int, doc: Document) -> Tables:
    return _tables(contest, cubes.cube(i), doc)


def _tables(contest: Contest, cube: Cube, doc: Document) -> Tables:
    columns = pd.Index([c.key for c in contest.choices], dtype=str)
    index = pd.Index(cube.units, dtype=str)
    votes = _frame(cube.votes.sum(axis=0), cube.given.any(axis=0), columns, index)
    vote_types = {
        name: _frame(cube.votes[t], cube.given[t], columns, index)
        for t, name in enumerate(contest.vote_types)
    }
    return {
        "votes": votes,
        "units": _units(contest, doc, cube.units, index),
        "parties": _parties(contest, columns),
        "vote_types": vote_types or None,
    }


def _frame(
    values: np.ndarray, given: np.ndarray, columns: pd.Index, index: pd.Index
) -> pd.DataFrame:
    """A votes table: one Int64 column per choice (rows of ``values``), <NA> where not given."""
    block, missing = values.copy(), ~given  # one copy; each column is a row of it
    arrays = [pd.arrays.IntegerArray(block[i], missing[i]) for i in range(len(columns))]
    return typed_frame(arrays, columns.copy(), index)


def _units(
    contest: Contest, doc: Document, unit_ids: list[str], index: pd.Index
) -> pd.DataFrame | None:
    """Each unit's reporting fraction: precincts reported of precincts taking part.

    The contest's own ParticipatingCounties where the file has them (a unit listed there
    without votes yet is kept); otherwise the election-wide turnout block's figures for the
    same units. Turnout's voter and ballot counts are not used: they cover every contest
    (and Georgia's are broken), so they say nothing about this one.
    """
    own = contest.reporting
    table = own or doc.turnout_reporting
    if not table:
        return None
    seen = set(unit_ids)
    extra = [name for name in own if name not in seen]
    values = np.array([_fraction(table.get(name)) for name in [*unit_ids, *extra]])
    reporting = pd.arrays.FloatingArray(values, np.isnan(values))
    rows = index.append(pd.Index(extra, dtype=str)) if extra else index
    return typed_frame([reporting], pd.Index(["reporting"]), rows)


def _fraction(figures: tuple[str | None, str | None] | None) -> float:
    """Precincts reported / participating; NaN when either is missing or none take part."""
    if figures is None:
        return np.nan
    reported, taking_part = _whole(figures[0]), _whole(figures[1])
    if reported is None or taking_part is None:
        return np.nan
    return reported / taking_part if taking_part > 0 else np.nan


def _whole(text: str | None) -> int | None:
    """A plain ASCII whole number of at most 18 digits, else None ("²" and "١٢" are digits
    to ``str.isdigit`` but not figures a feed may give)."""
    if text and len(text) <= 18 and text.isascii() and text.isdigit():
        return int(text)
    return None


def _parties(contest: Contest, columns: pd.Index) -> pd.DataFrame:
    """The choices as parties: name and short label, as a typed table (the model takes it
    as it is; a mapping of :class:`Party` objects costs a table conversion per contest).

    A choice's ``party`` becomes its short label only where no other choice in the contest
    shares it: in a primary every candidate is "REP", and a shared label would hide which
    candidate a column is.
    """
    labels = [c.party for c in contest.choices if c.party]
    shared = {p for p in labels if labels.count(p) > 1}
    names = np.array([c.text or c.key for c in contest.choices], dtype=object)
    short = np.array(
        [c.party if c.party and c.party not in shared else pd.NA for c in contest.choices],
        dtype=object,
    )
    return typed_frame([strings(names), strings(short)], _PARTY_COLUMNS.copy(), columns)


def disagreements(
    contests: list[Contest],
    sums: np.ndarray,
    cells: np.ndarray,
    segments: Segments | None = None,
) -> list[str]:
    """What differs between each contest's ``totalVotes`` or vote type ``votes`` and its
    cells, one text per contest that disagrees. Not an error: the cells are what the tables
    show (the detail a desk reads), but a desk should know the file disagrees with itself.

    ``sums`` and ``cells``: each segment's vote sum and cell count (:func:`segment_sums`),
    the contests' segments one after another (``segments``, when already taken apart).
    """
    # Most files agree with themselves: find the segments and choices whose stated figure
    # is not written as the sum, all at once, and look closer only at those contests.
    segments = Segments.of(contests) if segments is None else segments
    firsts = list(accumulate(segments.counts, initial=0))
    near = _differing(segments.stated, sums, firsts)
    # The choices' totals: the segments summed per choice (exact in floats: the document's
    # total is within the model's limit, far below 2**53).
    bases = list(accumulate((len(c.choices) for c in contests), initial=0))
    of_choice = np.repeat(np.array(bases[:-1], dtype=np.int64), segments.counts)
    of_choice += segments.choice
    by_choice = np.bincount(of_choice, weights=sums, minlength=bases[-1]).astype(np.int64)
    totals = [c.total_votes for c in chain.from_iterable(contest.choices for contest in contests)]
    near |= _differing(totals, by_choice, bases)
    out: list[str] = []
    sum_list = sums.tolist() if near else []
    for n in sorted(near):
        contest, at = contests[n], firsts[n]
        found = _disagreement(
            contest,
            sum_list[at : at + len(contest.segments)],
            cells[at : at + len(contest.segments)].tolist(),
        )
        if found:
            out.append(found)
    return out


def _differing(stated: list[str | None], figures: np.ndarray, firsts: list[int]) -> set[int]:
    """The groups (contests; ``firsts``: where each starts) holding an item whose stated
    text is given and is not its figure as written: those :func:`_disagreement` looks at.
    Empty when every stated text is plain digits for its figure (most files; a text that
    is the figure written otherwise is never a disagreement)."""
    if _all_stated(stated, figures):
        return set()
    written = list(map(str, figures.tolist()))
    return {
        bisect_right(firsts, i) - 1
        for i, (a, b) in enumerate(zip(stated, written, strict=True))
        if a is not None and a != b
    }


def _all_stated(stated: list[str | None], figures: np.ndarray) -> bool:
    """Whether every text is given, plain ASCII digits, and the figure's number (read in
    one NumPy call: no string per figure)."""
    try:
        joined = ",".join(stated)  # type: ignore[arg-type]
    except TypeError:
        return False  # one is not given
    # Digits and one comma between texts: each text is digits alone (or empty: refused).
    if joined.count(",") != len(stated) - 1 or not (
        joined.isascii() and joined.replace(",", "").isdigit()
    ):
        return not stated
    try:
        numbers = np.fromstring(joined, dtype=np.int64, sep=",")  # past int64: its max
    except ValueError:
        return False
    return len(numbers) == len(figures) and bool((numbers == figures).all())


def _disagreement(contest: Contest, seg_sums: list[int], seg_cells: list[int]) -> str | None:
    if not any(seg_cells):
        return None  # no cells: the tables show the stated figures themselves
    problems: list[str] = []
    by_choice = [0] * len(contest.choices)
    with_cells = [False] * len(contest.choices)
    for (choice, vote_type, stated, _), total, count in zip(
        contest.segments, seg_sums, seg_cells, strict=True
    ):
        by_choice[choice] += total
        with_cells[choice] = with_cells[choice] or count > 0
        figure = _whole(stated)
        if figure is not None and figure != total:
            problems.append(
                f"{contest.choices[choice].text!r} {contest.vote_types[vote_type]} votes "
                f"{figure:,} but its units sum to {total:,}"
            )
    totals = [
        f"{c.text!r} totalVotes {stated:,} but its units sum to {by_choice[i]:,}"
        for i, c in enumerate(contest.choices)
        if (stated := _whole(c.total_votes)) is not None
        and with_cells[i]
        and stated != by_choice[i]
    ]
    problems = totals + problems
    if not problems:
        return None
    more = " …" if len(problems) > 3 else ""
    return printable_text(
        f"contest {contest.key!r} ({contest.text}): " + "; ".join(problems[:3]) + more
    )
