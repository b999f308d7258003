"""Vote cells → one NumPy cube per contest, for all contests at once.

The readers leave every vote cell of the chosen contests in two flat columns (unit name,
votes), in document order, with each choice's ``<VoteType>`` marking where its cells start:
lists of text from the careful reader, arrays (unit codes, numbers) from the fast one.
Here they become int64 cubes ``[vote type, choice, unit]``: the numbers are converted once
(the fast reader did it already), the units numbered per contest in the order the file
first names them, and every cell scattered into its contest's cube by one vectorised pass
over the whole document. The cubes stay laid end to end (:class:`Cubes`): a contest's own
arrays are views made only when its tables are built.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapters.clarity_document import Contest, Document, Segments, UnitColumn, VoteColumn
from nightdesk.errors import FeedError

#: More digits than any count can have (int64 holds 18): refused before conversion.
MAX_DIGITS = 18
#: The unit that holds a contest's votes when the file gives no county or precinct cells
#: and names no region.
WHOLE = "Total"


@dataclass(frozen=True)
class Cube:
    """One contest's votes by vote type, choice and unit, and which cells the file gave."""

    votes: np.ndarray  # int64 [vote type, choice, unit]
    given: np.ndarray  # bool, same shape
    units: list[str]


@dataclass(frozen=True)
class Cubes:
    """Every chosen contest's cube, laid end to end in two flat arrays (no per-contest
    NumPy work until a contest's tables are built); contests without cells hold their own
    (:func:`_whole`)."""

    votes: np.ndarray  # int64, every contest's cube flattened, one after another
    given: np.ndarray  # bool, same layout
    #: Each contest's cells are ``votes[offsets[i]:ends[i]]``, of shape ``shapes[i]``.
    offsets: list[int]
    ends: list[int]
    shapes: list[tuple[int, int, int]]
    #: Each contest's units are ``unit_names[unit_starts[i]:unit_ends[i]]``.
    unit_starts: list[int]
    unit_ends: list[int]
    #: Each cell's unit name, the contests' units one after another.
    unit_names: list[str]
    whole: dict[int, Cube]
    #: The distinct unit names of the document's cells (every name a cell carries).
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.shapes)

    def units(self, i: int) -> list[str]:
        """Contest ``i``'s unit names, first seen first."""
        if i in self.whole:
            return self.whole[i].units
        return self.unit_names[self.unit_starts[i] : self.unit_ends[i]]

    def cube(self, i: int) -> Cube:
        """Contest ``i``'s cube (views into the flat arrays)."""
        whole = self.whole.get(i)
        if whole is not None:
            return whole
        cells, shape = slice(self.offsets[i], self.ends[i]), self.shapes[i]
        return Cube(
            self.votes[cells].reshape(shape), self.given[cells].reshape(shape), self.units(i)
        )


def contest_cubes(
    doc: Document, contests: list[Contest], numbers: np.ndarray | None = None
) -> list[Cube]:
    """The cube of each of ``contests`` (the selected ones, in document order).

    Raises:
        FeedError: a vote is not a whole number, or a unit appears twice for one choice
            and vote type (naming the contest, choice, vote type and unit).
    """
    cubes = all_cubes(doc, contests, numbers)
    return [cubes.cube(i) for i in range(len(cubes))]


def all_cubes(
    doc: Document,
    contests: list[Contest],
    numbers: np.ndarray | None = None,
    segments: Segments | None = None,
) -> Cubes:
    """:func:`contest_cubes`, kept flat: one vectorised pass over the whole document."""
    numbers = vote_numbers(doc) if numbers is None else numbers
    segments = Segments.of(contests) if segments is None else segments
    codes, names = _unit_codes(doc)
    if not len(segments.starts) or not len(numbers):
        return _all_whole(doc, contests, names)
    # The chosen contests' cells are contiguous: a segment ends where the next begins.
    lengths = np.diff(np.append(segments.starts, len(numbers)))
    segment_contest = np.repeat(np.arange(len(contests)), segments.counts)
    contest_of = np.repeat(segment_contest, lengths)

    # Number each contest's units in the order the file first names them (contest by
    # contest: their cells are in document order).
    n_names = max(len(names), 1)
    slot, pairs = first_seen(contest_of * n_names + codes, len(contests) * n_names)
    pair_contest = pairs // n_names
    n_units = np.bincount(pair_contest, minlength=len(contests))
    unit_start = np.cumsum(n_units) - n_units
    unit_names = names[pairs - pair_contest * n_names]

    n_choices = np.fromiter(map(len, (c.choices for c in contests)), np.int64, len(contests))
    n_types = np.fromiter(map(len, (c.vote_types for c in contests)), np.int64, len(contests))
    sizes = n_types * n_choices * n_units
    offsets = np.cumsum(sizes) - sizes
    # Each segment's first slot in the flat layout, less its contest's first unit number:
    # a cell's slot is that plus its unit's number (``slot``).
    base = (
        offsets[segment_contest]
        + (segments.vote_type * n_choices[segment_contest] + segments.choice)
        * n_units[segment_contest]
        - unit_start[segment_contest]
    )
    flat = np.repeat(base, lengths)
    flat += slot
    total = int(sizes.sum())
    given = np.zeros(total, dtype=bool)
    given[flat] = True
    if np.count_nonzero(given) != len(flat):  # a slot written twice
        counts = np.bincount(flat, minlength=total)
        _duplicate(contests, counts, offsets, n_choices, n_units, unit_names, unit_start)
    votes = np.zeros(total, dtype=np.int64)
    votes[flat] = numbers
    whole = {i: _whole(contests[i], doc) for i in np.flatnonzero(n_units == 0).tolist()}
    return Cubes(
        votes,
        given,
        offsets.tolist(),
        (offsets + sizes).tolist(),
        list(zip(n_types.tolist(), n_choices.tolist(), n_units.tolist(), strict=True)),
        unit_start.tolist(),
        (unit_start + n_units).tolist(),
        unit_names.tolist(),
        whole,
        names,
    )


def _all_whole(doc: Document, contests: list[Contest], names: np.ndarray) -> Cubes:
    """No contest has cells: each holds its own figures."""
    whole = {i: _whole(contest, doc) for i, contest in enumerate(contests)}
    shapes = [(0, 0, 0)] * len(contests)
    empty = np.zeros(0, dtype=np.int64)
    zeros = [0] * len(contests)
    return Cubes(empty, empty.astype(bool), zeros, zeros, shapes, zeros, zeros, [], whole, names)


#: :func:`first_seen` uses a table as long as the keys' range up to this many entries
#: (16 MB), and while it is at most this many entries per key (else hashing is cheaper).
DENSE_KEYS = 1 << 21
DENSE_PER_KEY = 16


def first_seen(keys: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """``pd.factorize(keys)`` for int64 keys in ``[0, size)``: each key's code and the
    distinct keys, numbered in the order they first appear. Through a table of each key's
    first position (no hashing) when ``size`` is small beside the keys."""
    n = len(keys)
    if size > min(DENSE_KEYS, DENSE_PER_KEY * n + 4096):
        codes, uniques = pd.factorize(keys)
        return codes.astype(np.int64, copy=False), uniques
    positions = np.arange(n, dtype=np.int64)
    table = np.full(size, n, dtype=np.int64)
    np.minimum.at(table, keys, positions)  # each key's first position
    uniques = keys[table[keys] == positions]  # in order of first position
    table[uniques] = positions[: len(uniques)]  # now each key's code
    return table[keys], uniques


def segment_sums(
    numbers: np.ndarray, contests: list[Contest], segments: Segments | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Each segment's (a choice's ``<VoteType>``) vote sum and cell count (int64), the
    contests' segments one after another, from :func:`vote_numbers`; for sums within
    int64 (check the total first)."""
    starts = (Segments.of(contests) if segments is None else segments).starts
    ends = np.append(starts[1:], len(numbers)) if len(starts) else starts
    running = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(numbers)])
    return running[ends] - running[starts], ends - starts


def vote_numbers(doc: Document) -> np.ndarray:
    """Every cell's votes as int64, converted in one go; a bad cell is a FeedError naming
    the contest, choice, vote type and unit."""
    texts = doc.vote_texts
    if isinstance(texts, VoteColumn):
        return texts.numbers  # (the fast reader read them, plain digits only)
    if not texts:
        return np.zeros(0, dtype=np.int64)
    numbers = _digits(texts)
    if numbers is not None:
        return numbers
    joined = "".join(texts)
    if joined.isascii() and joined.isdigit():
        try:
            return np.fromiter(map(int, texts), dtype=np.int64, count=len(texts))
        except (ValueError, OverflowError):
            pass  # an empty value or one too long: found below
    for i, text in enumerate(texts):
        if not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS):
            raise FeedError(f"{_cell(doc, i)}: votes {text!r} is not a whole number of votes")
    raise AssertionError("unreachable: every vote text was a number")


def _digits(texts: list[str]) -> np.ndarray | None:
    """The texts read in one NumPy call when each is plain ASCII digits within int64;
    None otherwise (then they are read one by one, as before, to find the bad one)."""
    joined = ",".join(texts)
    if joined.count(",") != len(texts) - 1 or not (
        joined.isascii() and joined.replace(",", "").isdigit()
    ):
        return None
    try:
        numbers = np.fromstring(joined, dtype=np.int64, sep=",")  # past int64: its max
    except ValueError:
        return None  # an empty text
    if len(numbers) != len(texts) or numbers.max(initial=0) == _INT64_MAX:
        return None
    return numbers


_INT64_MAX = np.iinfo(np.int64).max


def _unit_codes(doc: Document) -> tuple[np.ndarray, np.ndarray]:
    """Each cell's unit as a code into the distinct unit names."""
    units = doc.unit_names
    if isinstance(units, UnitColumn):
        names = np.empty(len(units.names), dtype=object)
        names[:] = units.names
        return units.codes, names
    codes, distinct = pd.factorize(pd.Index(units, dtype=object))
    return codes.astype(np.int64, copy=False), distinct.to_numpy(dtype=object)


def _cell(doc: Document, index: int) -> str:
    """Where cell ``index`` is, in words a person can find in the file."""
    for contest in doc.contests:
        if contest.cells_start <= index < contest.cells_end:
            starts = [s[3] for s in contest.segments]
            choice, vote_type, _, _ = contest.segments[bisect_right(starts, index) - 1]
            return (
                f"contest {contest.key!r} ({contest.text}), choice "
                f"{contest.choices[choice].text!r}, {contest.vote_types[vote_type]}, "
                f"unit {doc.unit_names[index]!r}"
            )
    return f"vote cell {index}"


def _whole(contest: Contest, doc: Document) -> Cube:
    """A contest without county or precinct cells: its vote types' own totals, as one unit
    named for the file's region."""
    n_choices, n_types = len(contest.choices), max(len(contest.vote_types), 1)
    votes = np.zeros((n_types, n_choices, 1), dtype=np.int64)
    given = np.zeros_like(votes, dtype=bool)
    for choice, vote_type, stated, _ in contest.segments:
        votes[vote_type, choice, 0] = _count(stated, contest, "VoteType votes")
        given[vote_type, choice, 0] = True
    if not contest.segments:  # no vote types either: the choices' totals
        for i, c in enumerate(contest.choices):
            if c.total_votes is not None:
                votes[0, i, 0] = _count(c.total_votes, contest, "totalVotes")
                given[0, i, 0] = True
    return Cube(votes, given, [doc.texts.get("Region") or WHOLE])


def _count(text: str | None, contest: Contest, what: str) -> int:
    if text is None or not (text.isascii() and text.isdigit() and len(text) <= MAX_DIGITS):
        raise FeedError(f"contest {contest.key!r}: {what} {text!r} is not a whole number")
    return int(text)


def _duplicate(
    contests: list[Contest],
    counts: np.ndarray,
    offsets: np.ndarray,
    n_choices: np.ndarray,
    n_units: np.ndarray,
    unit_names: np.ndarray,
    unit_start: np.ndarray,
) -> None:
    flat = int(np.argmax(counts > 1))
    i = int(np.searchsorted(offsets, flat, side="right")) - 1
    contest, units = contests[i], int(n_units[i])
    vote_type, rest = divmod(flat - int(offsets[i]), int(n_choices[i]) * units)
    choice, unit = divmod(rest, units)
    raise FeedError(
        f"contest {contest.key!r} ({contest.text}): unit "
        f"{unit_names[int(unit_start[i]) + unit]!r} appears {int(counts[flat])} times for "
        f"choice {contest.choices[choice].text!r}, {contest.vote_types[vote_type]}"
    )
