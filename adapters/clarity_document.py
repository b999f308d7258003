"""What a Clarity ``detail.xml`` holds, as its readers collect it (no tables yet).

Both readers (:mod:`adapters.clarity_fast` and the careful one in
:mod:`adapters.clarity_xml`) fill the same :class:`Document`; the tables are built from it
by :mod:`adapters.clarity_tables`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, overload

import numpy as np

if TYPE_CHECKING:
    from adapters.spans import Spans

#: The root element of every Clarity detail file.
ROOT = "ElectionResult"


@dataclass
class Choice:
    """A candidate or answer as the feed lists it (attribute values as given)."""

    key: str
    text: str
    party: str | None
    total_votes: str | None


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
    #: index of its first cell in :attr:`Document.unit_names`).
    segments: list[tuple[int, int, str | None, int]] = field(default_factory=list)
    #: Cells [cells_start, cells_end) in the document-wide lists.
    cells_start: int = 0
    cells_end: int = 0
    #: Per unit name: (precinctsReported, precinctsParticipating), from ParticipatingCounties.
    reporting: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)


class _Column(Sequence[str]):
    """A column of cell texts the fast reader keeps in arrays (a sequence of ``str`` for
    everyone else: equal to a list of the same texts)."""

    def __len__(self) -> int:
        raise NotImplementedError

    def _text(self, index: int) -> str:
        raise NotImplementedError

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self._text(i) for i in range(*index.indices(len(self)))]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return self._text(index % len(self))

    def __iter__(self) -> Iterator[str]:
        return (self._text(i) for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence) or isinstance(other, str | bytes):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}({list(self)!r})"


class UnitColumn(_Column):
    """Each cell's unit as a code into the distinct names (first seen first)."""

    def __init__(self, codes: np.ndarray, names: list[str]) -> None:
        self.codes = codes
        self.names = names

    def __len__(self) -> int:
        return len(self.codes)

    def _text(self, index: int) -> str:
        return self.names[int(self.codes[index])]


class VoteColumn(_Column):
    """Each cell's votes as a number (plain digits, read already), and the texts as
    written (kept for messages and comparisons, decoded only when asked)."""

    def __init__(self, numbers: np.ndarray, texts: Spans) -> None:
        self.numbers = numbers
        self.texts = texts

    def __len__(self) -> int:
        return len(self.numbers)

    def _text(self, index: int) -> str:
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
