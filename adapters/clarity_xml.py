"""Reading a Clarity ``detail.xml`` safely: defusedxml's pass over the whole body, and the
fastest reader that can vouch for the layout.

The body is untrusted: :func:`~adapters.clarity_check.check_document` (defusedxml, DTDs
forbidden) must accept it before anything read from it is returned. On a large body that
pass runs in :mod:`adapters.clarity_helper`'s process while :mod:`adapters.clarity_fast`
reads the same bytes here with whole-document NumPy passes; otherwise it runs first, here.
Where the fast reader declines, the careful reader here reads the body again with one
callback per element (a small state machine over Clarity's element names), itself through
defusedxml. Both fill the same :class:`~adapters.clarity_document.Document`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adapters.clarity_check import check_document, parse_defused
from adapters.clarity_document import Choice, Contest, Document
from adapters.clarity_fast import read_fast
from adapters.clarity_helper import CHECKS
from adapters.spans import Decline
from nightdesk.errors import FeedError

#: The elements that hold one unit's votes, figures or reporting.
UNIT_TAGS = ("County", "Precinct")
_TEXT_TAGS = ("Timestamp", "ElectionName", "Region")
_TURNOUT_TAGS = ("ElectionVoterTurnout", "VoterTurnout")

# Where the careful reader is: the meaning of a <County>/<Precinct> depends on it.
_TOP, _TURNOUT, _CONTEST, _PARTICIPATING, _CHOICE, _CELLS, _SKIP, _CONTEST_VOTE_TYPE = range(8)


def read_document(
    body: bytes, wanted: Callable[[str, str], bool], *, fast: bool = True
) -> Document:
    """Read the body; vote cells are kept only for contests ``wanted(key, text)`` accepts.

    ``fast=False`` skips the fast reader (tests compare the two).

    Raises:
        FeedError: the XML declares a DTD or entities, is not well-formed (with line and
            column), is not a Clarity file, or an element lacks a required attribute.
    """
    if not fast:
        check_document(body)
        return read_careful(body, wanted)
    doc = CHECKS.beside(body, lambda: _read_fast_or_none(body, wanted))
    return doc if doc is not None else read_careful(body, wanted)


def _read_fast_or_none(body: bytes, wanted: Callable[[str, str], bool]) -> Document | None:
    try:
        return read_fast(body, wanted)
    except Decline:
        return None


def read_careful(body: bytes, wanted: Callable[[str, str], bool]) -> Document:
    """Read the body with one callback per element (any layout Clarity may use)."""
    doc = Document()
    handlers = _Handlers(doc, wanted)

    def configure(expat: Any) -> None:
        handlers.expat = expat
        expat.ordered_attributes = 0  # attributes as a dict
        expat.StartElementHandler = handlers.start
        expat.EndElementHandler = handlers.end
        expat.CharacterDataHandler = handlers.chars.append

    parse_defused(body, configure)
    return doc


class _Handlers:
    """The careful reader's expat callbacks: a state machine over Clarity's element names."""

    def __init__(self, doc: Document, wanted: Callable[[str, str], bool]) -> None:
        self.doc = doc
        self.wanted = wanted
        self.expat: Any = None
        self.chars: list[str] = []
        self.state = _TOP
        self.contest: Contest | None = None
        self.choice = -1
        self.capturing = False
        self._names_append = doc.unit_names.append
        self._votes_append = doc.vote_texts.append

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        state = self.state
        if state == _CELLS:
            if tag == "County" or tag == "Precinct":
                self._names_append(attrs["name"])
                self._votes_append(attrs["votes"])
            return
        if state in (_SKIP, _CONTEST_VOTE_TYPE):
            return
        if state == _PARTICIPATING:
            contest = self.contest
            if tag in UNIT_TAGS and contest is not None and contest.selected:
                # (an unselected contest needs only its key and text)
                contest.reporting[attrs["name"]] = _reported(attrs)
        elif state == _TURNOUT:
            if tag in UNIT_TAGS:
                self.doc.turnout_reporting[attrs["name"]] = _reported(attrs)
        elif tag == "VoteType":
            self._vote_type(attrs)
        elif tag == "Choice":
            self._choice(attrs)
        elif tag == "Contest":
            self._contest(attrs)
        elif tag == "ParticipatingCounties" and state == _CONTEST:
            self.state = _PARTICIPATING
        elif tag in _TURNOUT_TAGS and state == _TOP:
            self.state = _TURNOUT
        elif tag in _TEXT_TAGS and state == _TOP:
            self.chars.clear()
            self.capturing = True

    def end(self, tag: str) -> None:
        state = self.state
        if tag == "VoteType":
            if state in (_CELLS, _SKIP):
                self.state = _CHOICE
            elif state == _CONTEST_VOTE_TYPE:
                self.state = _CONTEST
        elif tag == "Choice":
            self.state = _CONTEST
        elif tag == "Contest":
            contest = self.contest
            if contest is not None:
                contest.cells_end = len(self.doc.unit_names)
            self.contest = None
            self.state = _TOP
            self.chars.clear()  # the whitespace between elements
        elif tag == "ParticipatingCounties" and state == _PARTICIPATING:
            self.state = _CONTEST
        elif tag in _TURNOUT_TAGS and state == _TURNOUT:
            self.state = _TOP
        elif tag in _TEXT_TAGS and self.capturing:
            self.doc.texts.setdefault(tag, "".join(self.chars).strip())
            self.capturing = False

    def _contest(self, attrs: dict[str, str]) -> None:
        if self.state != _TOP:
            self._misplaced("Contest", "the document's top level")
        key, text = attrs["key"], attrs.get("text", "")
        contest = Contest(
            key=key,
            text=text,
            selected=self.wanted(key, text),
            line=self.expat.CurrentLineNumber,
        )
        contest.cells_start = contest.cells_end = len(self.doc.unit_names)
        self.doc.contests.append(contest)
        self.contest = contest
        self.state = _CONTEST

    def _choice(self, attrs: dict[str, str]) -> None:
        contest = self.contest
        if contest is None or self.state != _CONTEST:
            self._misplaced("Choice", "a contest")
            return
        self.state = _CHOICE
        if contest.selected:  # (an unselected contest needs only its key and text)
            contest.choices.append(
                Choice(
                    attrs["key"], attrs.get("text", ""), attrs.get("party"), attrs.get("totalVotes")
                )
            )
            self.choice = len(contest.choices) - 1

    def _vote_type(self, attrs: dict[str, str]) -> None:
        contest = self.contest
        if contest is not None and self.state == _CONTEST:
            # A contest's own vote types (over- and undervotes): not a candidate's votes.
            self.state = _CONTEST_VOTE_TYPE
            return
        if contest is None or self.state != _CHOICE:
            self._misplaced("VoteType", "a choice")
            return
        if not contest.selected:
            self.state = _SKIP
            return
        name = attrs["name"]
        types = contest.vote_types
        if name not in types:
            types.append(name)
        contest.segments.append(
            (self.choice, types.index(name), attrs.get("votes"), len(self.doc.unit_names))
        )
        self.state = _CELLS

    def _misplaced(self, tag: str, parent: str) -> None:
        raise FeedError(
            f"<{tag}> outside {parent} (line {self.expat.CurrentLineNumber}); "
            "expected a Clarity detail.xml"
        )


def _reported(attrs: dict[str, str]) -> tuple[str | None, str | None]:
    return attrs.get("precinctsReported"), attrs.get("precinctsParticipating")
