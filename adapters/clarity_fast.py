"""The fast reader of a Clarity ``detail.xml``: byte searches over a document already checked.

It runs only after :func:`adapters.clarity_xml.check_document` has parsed the whole body
with defusedxml (well-formed, no DTD, no entities beyond XML's five and character
references, root ``<ElectionResult>``). On such a document Clarity's regular layout lets
C-speed searches do the work that per-element Python callbacks would: a choice's vote
cells under one ``<VoteType>`` are one ``findall``.

It vouches only for what it has checked: every tag inside a choice is a ``<VoteType>`` or a
vote cell of the exact form ``<County name="…" votes="…" />``, containers do not nest, and
no comment, CDATA section or processing instruction hides markup. Anything else (single
quotes, entities in a unit name, another attribute order, another encoding) raises
:class:`~adapters.spans.Decline` and the careful reader (per-element callbacks) reads the
body instead, with the same result.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from adapters.clarity_document import ROOT, Choice, Contest, Document
from adapters.spans import Decline

_OPEN_ROOT = b"<" + ROOT.encode()
# A start tag's attributes, quoted values may hold ">" (the tag regex, not a find, ends it).
_TAG_ATTRS = rb"((?:\s+[A-Za-z_:][\w.:-]*\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
_CONTEST = re.compile(rb"<Contest" + _TAG_ATTRS)
_CHOICE = re.compile(rb"<Choice" + _TAG_ATTRS)
_VOTE_TYPE = re.compile(rb"<VoteType" + _TAG_ATTRS)
_ATTR = re.compile(rb"([A-Za-z_:][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
# Attribute values the parser reports as they are written: no reference to expand ("&"),
# no line break or tab to turn into a space. Any other value declines.
_PLAIN = rb'"([^"&\t\n\r]*)"'
#: A vote type's start tag as Clarity writes it.
_PLAIN_VOTE_TYPE = re.compile(rb"<VoteType name=" + _PLAIN + rb" votes=" + _PLAIN + rb">")
#: A vote cell exactly as Clarity writes it.
_CELL = re.compile(rb"<(?:County|Precinct) name=" + _PLAIN + rb" votes=" + _PLAIN + rb" ?/>")
#: A contest's ParticipatingCounties entry as Clarity writes it.
_TAKING_PART = re.compile(
    rb"<County name=%s precinctsParticipating=%s precinctsReported=%s[^>]*/>"
    % (_PLAIN, _PLAIN, _PLAIN)
)
_UNIT = re.compile(rb"<(?:County|Precinct)" + _TAG_ATTRS)
#: Comments, CDATA sections, processing instructions (and DTDs): markup the searches would
#: misread. ``<!`` and ``<?`` cover them all.
_HIDDEN_MARKUP = (b"<!", b"<?")
_DECLARED = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8 = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_TEXT = {
    name: re.compile(rf"<{name}>([^<]*)</{name}>".encode())
    for name in ("Timestamp", "ElectionName", "Region")
}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def read_fast(body: bytes, wanted: Callable[[str, str], bool]) -> Document:
    """The document as :func:`adapters.clarity_xml.read_document` reads it; raises
    :class:`Decline` where the layout is not the one it vouches for."""
    root = _start_of_root(body)
    contests_at = [m.start() for m in re.finditer(rb"<Contest[\s/>]", body)]
    head_end = contests_at[0] if contests_at else len(body)
    doc = Document()
    head = body[root:head_end]
    for name, pattern in _TEXT.items():
        found = pattern.search(head)
        if found is not None:
            doc.texts[name] = _text(found[1]).strip()
    _turnout(head, doc)
    for at in contests_at:
        _contest(body, at, wanted, doc)
    return doc


def _start_of_root(body: bytes) -> int:
    declared = _DECLARED.match(body, 3 if body.startswith(b"\xef\xbb\xbf") else 0)
    if declared is not None and declared[1].lower() not in _UTF8:
        raise Decline
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:1] == b"\x00":
        raise Decline  # UTF-16 or UTF-32
    root = body.find(_OPEN_ROOT)
    if root < 0 or any(body.find(m, root) >= 0 for m in _HIDDEN_MARKUP):
        raise Decline
    return root


def _turnout(head: bytes, doc: Document) -> None:
    for tag in (b"<ElectionVoterTurnout", b"<VoterTurnout"):
        start = head.find(tag)
        if start >= 0:
            for unit in _UNIT.finditer(head, start):
                attrs = _attrs(unit[1])
                if "name" not in attrs:
                    raise Decline
                doc.turnout_reporting[attrs["name"]] = (
                    attrs.get("precinctsReported"),
                    attrs.get("precinctsParticipating"),
                )
            return


def _contest(body: bytes, at: int, wanted: Callable[[str, str], bool], doc: Document) -> None:
    tag = _CONTEST.match(body, at)
    if tag is None or tag[2]:
        raise Decline  # unreadable here, or an empty <Contest/>: the careful reader says
    end = body.find(b"</Contest>", tag.end())
    if end < 0 or body.find(b"<Contest", tag.end(), end) >= 0:
        raise Decline
    attrs = _attrs(tag[1])
    if "key" not in attrs:
        raise Decline
    key, text = attrs["key"], attrs.get("text", "")
    contest = Contest(key=key, text=text, selected=wanted(key, text), line=None)
    doc.contests.append(contest)
    contest.cells_start = contest.cells_end = len(doc.unit_names)
    if not contest.selected:
        return  # only its key and text are needed
    taking_part = body.find(b"<ParticipatingCounties", tag.end(), end)
    if taking_part >= 0:
        if not body.startswith(b"<ParticipatingCounties>", taking_part):
            raise Decline
        _taking_part(body, taking_part, end, contest)
    choices_at = body.find(b"<Choice", tag.end(), end)
    while choices_at >= 0:
        choices_at = _choice(body, choices_at, end, contest, doc)
    contest.cells_end = len(doc.unit_names)


def _taking_part(body: bytes, start: int, end: int, contest: Contest) -> None:
    close = body.find(b"</ParticipatingCounties>", start, end)
    if close < 0:
        raise Decline
    found = _TAKING_PART.findall(body, start, close)
    if len(found) != body.count(b"<", start + 1, close):
        raise Decline
    if found:
        names, taking, reported = zip(*found, strict=True)
        contest.reporting = dict(
            zip(_decode(names), zip(_decode(reported), _decode(taking), strict=True), strict=True)
        )


def _choice(body: bytes, at: int, end: int, contest: Contest, doc: Document) -> int:
    """Read the choice at ``at``; where the contest's next choice starts (or -1)."""
    tag = _CHOICE.match(body, at)
    if tag is None:
        raise Decline
    attrs = _attrs(tag[1])
    if "key" not in attrs:
        raise Decline
    contest.choices.append(
        Choice(attrs["key"], attrs.get("text", ""), attrs.get("party"), attrs.get("totalVotes"))
    )
    if tag[2]:  # <Choice …/>: no vote types
        return body.find(b"<Choice", tag.end(), end)
    close = body.find(b"</Choice>", tag.end(), end)
    if close < 0 or body.find(b"<Choice", tag.end(), close) >= 0:
        raise Decline
    index = len(contest.choices) - 1
    tags = 0
    vote_type_at = body.find(b"<VoteType", tag.end(), close)
    while vote_type_at >= 0:
        vote_type_at, seen = _vote_type(body, vote_type_at, close, index, contest, doc)
        tags += seen
    if body.count(b"<", tag.end(), close) != tags:
        raise Decline  # something else in the choice
    return body.find(b"<Choice", close, end)


def _vote_type(
    body: bytes, at: int, end: int, choice: int, contest: Contest, doc: Document
) -> tuple[int, int]:
    """Read one vote type's cells; (where the next vote type starts, tags read)."""
    plain = _PLAIN_VOTE_TYPE.match(body, at)
    if plain is not None:  # Clarity's own form: no attribute parsing needed
        start, closed = plain.end(), False
        name, stated = plain[1].decode(), plain[2].decode()
    else:
        tag = _VOTE_TYPE.match(body, at)
        if tag is None:
            raise Decline
        attrs = _attrs(tag[1])
        if "name" not in attrs:
            raise Decline
        start, closed = tag.end(), bool(tag[2])
        name, stated = attrs["name"], attrs.get("votes")
    close = start if closed else body.find(b"</VoteType>", start, end)
    if close < 0:
        raise Decline
    cells = _CELL.findall(body, start, close)
    if body.count(b"<", start, close) != len(cells):
        raise Decline  # a cell of another form, or something nested
    if contest.selected:
        types = contest.vote_types
        if name not in types:
            types.append(name)
        contest.segments.append((choice, types.index(name), stated, len(doc.unit_names)))
        if cells:
            names, votes = zip(*cells, strict=True)
            doc.unit_names.extend(names)
            doc.vote_texts.extend(votes)
    after = close if closed else close + len(b"</VoteType>")
    return body.find(b"<VoteType", after, end), len(cells) + (1 if closed else 2)


def _decode(parts: tuple[bytes, ...]) -> list[str]:
    """Many UTF-8 strings decoded in one call (XML text never holds NUL)."""
    return b"\x00".join(parts).decode().split("\x00")


def _attrs(raw: bytes) -> dict[str, str]:
    """A start tag's attributes as the XML parser reports them."""
    out: dict[str, str] = {}
    for name, double, single in _ATTR.findall(raw):
        value = double or single
        if b"\t" in value or b"\n" in value or b"\r" in value:
            raise Decline  # the parser turns these into spaces: leave that to it
        out[name.decode()] = _text(value)
    return out


def _text(raw: bytes) -> str:
    text = raw.decode()
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _entity(match: re.Match[str]) -> str:
    ref = match[1]
    if ref[0] == "#":
        return chr(int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:]))
    return _NAMED[ref]
