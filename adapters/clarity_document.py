"""What a Clarity ``detail.xml`` holds, as its readers collect it (no tables yet).

Both readers (:mod:`adapters.clarity_fast` and the careful one in
:mod:`adapters.clarity_xml`) fill the same :class:`Document`; the tables are built from it
by :mod:`adapters.clarity_tables`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass
class Document:
    """Everything read from one ``detail.xml``.

    The vote cells of the selected contests are two flat lists in document order: unit
    names and vote texts, either all ``str`` (the careful reader) or all UTF-8 ``bytes``
    (the fast reader, which leaves decoding to the few distinct names).
    """

    texts: dict[str, str] = field(default_factory=dict)
    contests: list[Contest] = field(default_factory=list)
    #: Per unit name, election-wide (ElectionVoterTurnout): (reported, participating).
    turnout_reporting: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    unit_names: list[str] | list[bytes] = field(default_factory=list)
    vote_texts: list[str] | list[bytes] = field(default_factory=list)
