"""What a Clarity ``detail.xml`` holds, as its readers collect it (no tables yet).

Both readers (:mod:`adapters.clarity_fast` and the careful one in
:mod:`adapters.clarity_xml`) fill the same :class:`Document`; the tables are built from it
by :mod:`adapters.clarity_tables`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import TYPE_CHECKING, TypeVar, overload

import numpy as np

if TYPE_CHECKING:
    from adapters.spans import Spans

T = TypeVar("T")


@dataclass
class Choice:
    """A candidate or answer as the feed lists it (attribute values as given)."""

    key: str
    text: str
    party: str | None
    total_votes: str | None


#: A choice's ``<VoteType>``: (choice index, vote type index, its votes attribute, index
#: of its first cell).
Segment = tuple[int, int, str | None, int]


@dataclass(frozen=True)
class Segments:
    """The chosen contests' segments (a choice's ``<VoteType>``), one after another, as
    columns: what the cubes, the sums and the disagreements read."""

    #: Segments per contest.
    counts: list[int]
    choice: np.ndarray  # int64: the choice's index in its contest
    vote_type: np.ndarray  # int64: the vote type's index in its contest
    #: The ``votes`` attribute as written (None where absent).
    stated: list[str | None]
    starts: np.ndarray  # int64: index of the segment's first cell

    @classmethod
    def of(cls, contests: list[Contest]) -> Segments:
        """The contests' own segments, taken apart (once per document)."""
        counts = [len(c.segments) for c in contests]
        segments = list(chain.from_iterable(c.segments for c in contests))
        if not segments:
            empty = np.zeros(0, dtype=np.int64)
            return cls(counts, empty, empty, [], empty)
        choice, vote_type, stated, starts = zip(*segments, strict=True)
        return cls(
            counts,
            np.array(choice, dtype=np.int64),
            np.array(vote_type, dtype=np.int64),
            list(stated),
            np.array(starts, dtype=np.int64),
        )


class _Rows(Sequence[T]):
    """A read-only sequence over columns kept in arrays: equal to the list of its items, so
    documents from either reader compare equal (the fast reader keeps columns, the careful
    one lists)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _item(self, index: int) -> T:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> T: ...
    @overload
    def __getitem__(self, index: slice) -> list[T]: ...
    def __getitem__(self, index: int | slice) -> T | list[T]:
        if isinstance(index, slice):
            return [self._item(i) for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._item(index % len(self))

    def __iter__(self) -> Iterator[T]:
        return (self._item(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class SegmentRows(_Rows[Segment]):
    """One contest's segments as rows ``[start, end)`` of the document's columns: the fast
    reader makes the columns, not a tuple per segment."""

    def __init__(self, columns: Segments, start: int, end: int) -> None:
        self.columns, self.start, self.end = columns, start, end

    def __len__(self) -> int:
        return self.end - self.start

    def _item(self, index: int) -> Segment:
        i, columns = self.start + index, self.columns
        return (
            int(columns.choice[i]),
            int(columns.vote_type[i]),
            columns.stated[i],
            int(columns.starts[i]),
        )


@dataclass
class Contest:
    """A contest's attributes and where its vote cells lie in the document-wide lists."""

    key: str
    text: str
    selected: bool
    #: Where the contest starts, for messages (the fast reader does not count lines).
    line: int | None
    choices: list[Choice] = field(default_factory=list)
    #: Vote type names, first seen first.
    vote_types: list[str] = field(default_factory=list)
    #: One per choice's <VoteType>: (choice index, vote type index, its votes attribute,
    #: index of its first cell in :attr:`Document.unit_names`). The fast reader's are
    #: rows of :attr:`Document.segments` (:class:`SegmentRows`).
    segments: list[Segment] | SegmentRows = field(default_factory=list)
    #: Cells [cells_start, cells_end) in the document-wide lists.
    cells_start: int = 0
    cells_end: int = 0
    #: Per unit name: (precinctsReported, precinctsParticipating), from ParticipatingCounties.
    reporting: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


class _Column(_Rows[str]):
    """A column of cell texts the fast reader keeps in arrays (a sequence of ``str`` for
    everyone else)."""


class UnitColumn(_Column):
    """Each cell's unit as a code into the distinct names (first seen first)."""

    def __init__(self, codes: np.ndarray, names: list[str]) -> None:
        self.codes = codes
        self.names = names

    def __len__(self) -> int:
        return len(self.codes)

    def _item(self, index: int) -> str:
        return self.names[int(self.codes[index])]


class VoteColumn(_Column):
    """Each cell's votes as a number (plain digits, read already), and the texts as
    written (kept for messages and comparisons, decoded only when asked)."""

    def __init__(self, numbers: np.ndarray, texts: Spans) -> None:
        self.numbers = numbers
        self.texts = texts

    def __len__(self) -> int:
        return len(self.numbers)

    def _item(self, index: int) -> str:
        start, end = int(self.texts.start[index]), int(self.texts.end[index])
        return self.texts.buf[start:end].tobytes().decode()


@dataclass
class Document:
    """Everything read from one ``detail.xml``.

    The vote cells of the selected contests are two flat columns in document order: unit
    names and vote texts. The careful reader collects lists of ``str``; the fast reader
    leaves them in arrays (:class:`UnitColumn`, :class:`VoteColumn`: unit codes and
    numbers, the sequences of ``str`` they stand for), so no string is made per cell.
    """

    texts: dict[str, str] = field(default_factory=dict)
    contests: list[Contest] = field(default_factory=list)
    #: Per unit name, election-wide (ElectionVoterTurnout): (reported, participating).
    turnout_reporting: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    unit_names: list[str] | UnitColumn = field(default_factory=list)
    vote_texts: list[str] | VoteColumn = field(default_factory=list)
    #: The selected contests' segments as columns, where the reader made them so (the
    #: fast reader); else None, and they are taken from the contests (:meth:`Segments.of`).
    #: (Not compared: they are the contests' segments, which are.)
    segments: Segments | None = field(default=None, compare=False)
