"""Vote cells → one NumPy cube per contest, for all contests at once.

The readers leave every vote cell of the chosen contests in two flat columns (unit name,
votes), in document order, with each choice's ``<VoteType>`` marking where its cells start:
lists of text from the careful reader, arrays (unit codes, numbers) from the fast one.
Here they become int64 cubes ``[vote type, choice, unit]``: the numbers are converted once
(the fast reader did it already), the units numbered per contest in the order the file
first names them, and every cell scattered into its contest's cube by one vectorised pass
over the whole document.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

import numpy as np
import pandas as pd

from adapters.clarity_document import Contest, Document, UnitColumn, VoteColumn
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


def contest_cubes(
    doc: Document, contests: list[Contest], numbers: np.ndarray | None = None
) -> list[Cube]:
    """The cube of each of ``contests`` (the selected ones, in document order).

    Raises:
        FeedError: a vote is not a whole number, or a unit appears twice for one choice
            and vote type (naming the contest, choice, vote type and unit).
    """
    numbers = vote_numbers(doc) if numbers is None else numbers
    codes, names = _unit_codes(doc)
    counts = [len(contest.segments) for contest in contests]
    segments = [segment for contest in contests for segment in contest.segments]
    if not segments or not len(numbers):
        return [_whole(contest, doc) for contest in contests]
    choice_of, type_of, _, starts = zip(*segments, strict=True)
    # The chosen contests' cells are contiguous: a segment ends where the next begins.
    lengths = np.diff(np.append(np.array(starts, dtype=np.int64), len(numbers)))
    contest_of = np.repeat(np.repeat(np.arange(len(contests)), counts), lengths)
    choice = np.repeat(np.array(choice_of, dtype=np.int64), lengths)
    vote_type = np.repeat(np.array(type_of, dtype=np.int64), lengths)

    # Number each contest's units in the order the file first names them (contest by
    # contest: their cells are in document order).
    n_names = max(len(names), 1)
    slot, pairs = pd.factorize(contest_of * n_names + codes)
    n_units = np.bincount(pairs // n_names, minlength=len(contests))
    unit_start = np.cumsum(n_units) - n_units
    local = slot - unit_start[contest_of]
    unit_names = names[pairs % n_names]

    n_choices = np.array([len(c.choices) for c in contests], dtype=np.int64)
    n_types = np.array([len(c.vote_types) for c in contests], dtype=np.int64)
    sizes = n_types * n_choices * n_units
    offsets = np.cumsum(sizes) - sizes
    flat = (
        offsets[contest_of]
        + (vote_type * n_choices[contest_of] + choice) * n_units[contest_of]
        + local
    )
    counts = np.bincount(flat, minlength=int(sizes.sum()))
    if counts.max(initial=0) > 1:
        _duplicate(contests, counts, offsets, n_choices, n_units, unit_names, unit_start)
    votes = np.zeros(len(counts), dtype=np.int64)
    votes[flat] = numbers
    given = counts > 0

    cubes = []
    shapes = zip(
        offsets.tolist(), n_types.tolist(), n_choices.tolist(), n_units.tolist(), strict=True
    )
    all_units = unit_names.tolist()
    for contest, start, (offset, types, choices, units) in zip(
        contests, unit_start.tolist(), shapes, strict=True
    ):
        if units == 0:
            cubes.append(_whole(contest, doc))
            continue
        end, shape = offset + types * choices * units, (types, choices, units)
        cubes.append(
            Cube(
                votes[offset:end].reshape(shape),
                given[offset:end].reshape(shape),
                all_units[start : start + units],
            )
        )
    return cubes


def segment_sums(numbers: np.ndarray, contests: list[Contest]) -> tuple[list[int], list[int]]:
    """Each segment's (a choice's ``<VoteType>``) vote sum and cell count, the contests'
    segments one after another, from :func:`vote_numbers`; for sums within int64 (check
    the total first)."""
    starts = np.array([s[3] for c in contests for s in c.segments], dtype=np.int64)
    ends = np.append(starts[1:], len(numbers)) if len(starts) else starts
    running = np.concatenate([np.zeros(1, dtype=np.int64), np.cumsum(numbers)])
    return (running[ends] - running[starts]).tolist(), (ends - starts).tolist()


def vote_numbers(doc: Document) -> np.ndarray:
    """Every cell's votes as int64, converted in one go; a bad cell is a FeedError naming
    the contest, choice, vote type and unit."""
    texts = doc.vote_texts
    if isinstance(texts, VoteColumn):
        return texts.numbers  # (the fast reader read them, plain digits only)
    if not texts:
        return np.zeros(0, dtype=np.int64)
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
