"""Reading a Clarity ``detail.xml`` safely: defusedxml first, then the fastest reader that
can vouch for the layout.

The document is untrusted. Every body is first parsed whole by defusedxml's expat parser
with document types forbidden: a DTD is how entity expansion (billion laughs) and external
entities (``SYSTEM "file:///etc/passwd"``) get in, and Clarity files never carry one.
defusedxml's refusing handlers stay in place; that pass installs no element handlers (only
a check of the root element), so it costs about what expat alone does.

That pass costs what expat alone does (a parser with no handlers at all, namespaces on or
off, fed whole or in 16-64 KB pieces: the same to within noise), so it is kept as it is.

Then :mod:`adapters.clarity_fast` reads the checked bytes with whole-document NumPy
passes; where it declines, the careful reader here reads them again with one callback per
element (a small state machine over Clarity's element names). Both fill the same
:class:`~adapters.clarity_document.Document`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from xml.parsers.expat import ExpatError

from defusedxml import DefusedXmlException, DTDForbidden, EntitiesForbidden
from defusedxml import ExternalReferenceForbidden as ExternalForbidden
from defusedxml.ElementTree import DefusedXMLParser

from adapters.clarity_document import ROOT, Choice, Contest, Document
from adapters.clarity_fast import read_fast
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
    check_document(body)
    if fast:
        try:
            return read_fast(body, wanted)
        except Decline:
            pass
    return read_careful(body, wanted)


def check_document(body: bytes) -> None:
    """Parse the whole body with defusedxml, collecting nothing: refuse what is unsafe,
    not well-formed, or not rooted at ``<ElectionResult>``."""
    root = _RootCheck()

    def configure(expat: Any) -> None:
        expat.StartElementHandler = root.handler
        root.expat = expat
        # No callbacks for text: expat skips it (an undefined entity is still an error).
        expat.DefaultHandlerExpand = None
        expat.CharacterDataHandler = None

    _parse(body, configure)
    if not root.seen:
        raise FeedError("the feed has no XML elements; expected a Clarity detail.xml")


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

    _parse(body, configure)
    return doc


def _parse(body: bytes, configure: Callable[[Any], None]) -> None:
    """Run defusedxml's parser (DTDs forbidden) over ``body``; every refusal or syntax
    error becomes a FeedError a person can act on."""
    parser = DefusedXMLParser(target=_NoTree(), forbid_dtd=True)
    expat = parser.parser
    refuse_doctype = expat.StartDoctypeDeclHandler
    expat.StartDoctypeDeclHandler = lambda name, *rest: _doctype(name, rest, refuse_doctype)
    configure(expat)
    try:
        # The whole body as the final piece: feed() then close() give expat two pieces,
        # measured ~1 ms slower on a 4 MB file (of ~25).
        expat.Parse(body, True)
    except ExpatError as exc:
        reason = str(exc).split(":")[0]
        raise FeedError(
            f"the feed is not valid XML: {reason} (line {exc.lineno}, column {exc.offset + 1}); "
            "expected a Clarity detail.xml"
        ) from None
    except EntitiesForbidden as exc:
        raise FeedError(
            f"the feed's XML declares entities ({exc.name!r}), which nightdesk refuses "
            "(a possible XML bomb)"
        ) from None
    except ExternalForbidden as exc:
        raise FeedError(
            f"the feed's XML refers to an external entity ({exc.sysid!r}), which nightdesk "
            "refuses (it could read local files)"
        ) from None
    except DTDForbidden as exc:
        raise FeedError(
            f"the feed's XML declares a document type (<!DOCTYPE {exc.name}>), which "
            "nightdesk refuses: a DTD can declare entities (a possible XML bomb) or read "
            "local files, and Clarity files have none"
        ) from None
    except DefusedXmlException as exc:  # any other refusal defusedxml adds
        raise FeedError(f"the feed's XML was refused as unsafe ({exc})") from None
    except KeyError as exc:
        where = f"line {expat.CurrentLineNumber}, column {expat.CurrentColumnNumber + 1}"
        raise FeedError(
            f"an element lacks its {exc.args[0]!r} attribute ({where}); "
            "expected a Clarity detail.xml"
        ) from None


def _doctype(name: str, rest: tuple[Any, ...], refuse: Callable[..., None]) -> None:
    """Say so when the body is an HTML page (an error or login page); refuse any DTD."""
    if name and name.lower() == "html":
        raise FeedError(_HTML_PAGE)
    refuse(name, *rest)


_HTML_PAGE = (
    "the feed is an HTML page, not a Clarity detail.xml (an error page or a login page? "
    "check the URL)"
)


def _check_root(tag: str) -> None:
    if tag == ROOT:
        return
    if tag.lower() == "html":
        raise FeedError(_HTML_PAGE)
    raise FeedError(
        f"the XML's root element is <{tag}>, not <{ROOT}>; expected a Clarity detail.xml"
    )


class _NoTree:
    """A parser target that builds nothing (the handlers collect instead)."""

    def close(self) -> None:
        return None


class _RootCheck:
    """The safety pass's only element handler: checks the root, then removes itself."""

    def __init__(self) -> None:
        self.seen = False
        self.expat: Any = None
        # Kept here: expat holds the handler only while it is installed.
        self.handler = self.start

    def start(self, tag: str, attrs: Any) -> None:
        _check_root(tag)
        self.seen = True
        self.expat.StartElementHandler = None


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
