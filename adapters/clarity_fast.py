"""The fast reader of a Clarity ``detail.xml``: whole-document NumPy passes over a document
already checked.

It runs only after :func:`adapters.clarity_xml.check_document` has parsed the whole body
with defusedxml (well-formed, no DTD, no entities beyond XML's five and character
references, root ``<ElectionResult>``). In such a document every ``<`` after the root
starts a tag (once comments, CDATA and processing instructions are ruled out), and a
double-quoted attribute value ends at the next ``"``. So one pass over the bytes finds
every ``<``; each tag's kind is read from the eight bytes after it, and the nesting of all
tags is checked at once with cumulative sums: over the tags other than units (vote cells
and entries, most tags, open and close nothing), each unit taking the state before the
next other tag. Values are read a word (eight bytes) at a time for all tags of a kind
together: the first ``"`` in a word is found with integer arithmetic, the same words tell
the unit names apart (hashed, then checked byte for byte), and the votes are read eight
digits at a time. Python runs per contest and per distinct name, never per vote cell.
The passes keep their temporaries small (the large ones are let go as soon as read, the
``<`` are searched half a megabyte at a time): fresh memory costs a page fault a page.

It vouches only for what it has checked, and raises :class:`~adapters.spans.Decline`
otherwise (the careful reader, one callback per element, then reads the body with the same
result):

- UTF-8, and no comment, CDATA section or processing instruction after the root;
- containers do not nest (a contest in a contest, a choice in a choice or outside a
  contest, a vote type in a vote type…), and no ``<Contest>`` is empty;
- every tag inside a choice is a ``<VoteType>`` or, inside one, a vote cell of the exact
  form ``<County name="…" votes="…" />`` (or ``<Precinct …>``), its votes plain digits;
- every tag inside ``<ParticipatingCounties>`` is a ``<County name="…"
  precinctsParticipating="…" precinctsReported="…" …>``;
- other start tags (another attribute order, single quotes…) are read attribute by
  attribute; values are normalised as the parser does (line ends and tabs are spaces,
  references expanded), and two spellings of one unit name are declined;
- ``<Timestamp>``, ``<ElectionName>`` and ``<Region>`` are plain text elements.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from operator import itemgetter

import numpy as np
import pandas as pd

from adapters.buffer_words import (
    byte_positions,
    lowest_byte,
    padded_copy,
    quote_mask,
    same_bytes_at,
)
from adapters.clarity_check import ROOT
from adapters.clarity_document import (
    Choice,
    Contest,
    Document,
    SegmentRows,
    Segments,
    UnitColumn,
    VoteColumn,
)
from adapters.spans import (
    ASCII_ZEROS,
    PAD,
    Decline,
    Spans,
    all_digits,
    eight_digits,
    padded,  # noqa: F401 (the tests build buffers with it)
    words_at,
    words_from,
)

#: Turnout units as Clarity writes them: the start, the joins up to the figures read, and
#: which values are (participating, reported); None: there are none, and the tag ends.
_TURNOUT_FORMS: tuple[tuple[bytes, tuple[bytes, ...], tuple[int, int] | None], ...] = (
    (
        b'<County name="',
        (
            b'" totalVoters="',
            b'" ballotsCast="',
            b'" voterTurnout="',
            b'" precinctsParticipating="',
            b'" precinctsReported="',
        ),
        (4, 5),
    ),
    (
        b'<Precinct name="',
        (b'" totalVoters="', b'" ballotsCast="', b'" voterTurnout="', b'" percentReporting="'),
        None,
    ),
)
#: Tag kinds; a closing tag has the kind of its name.
_OTHER, _CONTEST, _CHOICE, _VOTE_TYPE, _TAKING_PART, _COUNTY, _PRECINCT, _TEXT, _TURNOUT = range(9)
_KINDS = {
    b"Contest": _CONTEST,
    b"Choice": _CHOICE,
    b"VoteType": _VOTE_TYPE,
    b"ParticipatingCounties": _TAKING_PART,
    b"County": _COUNTY,
    b"Precinct": _PRECINCT,
    b"Timestamp": _TEXT,
    b"ElectionName": _TEXT,
    b"Region": _TEXT,
    b"ElectionVoterTurnout": _TURNOUT,
    b"VoterTurnout": _TURNOUT,
}
#: What may follow a tag's name: whitespace, "/" or ">".
_AFTER_NAME = np.zeros(256, dtype=bool)
_AFTER_NAME[list(b" \t\r\n/>")] = True
_LT, _GT, _SLASH, _BANG, _QUESTION = 60, 62, 47, 33, 63
_LOW_BYTES = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)
_MIX = np.uint64(0x9E3779B97F4A7C15)

_OPEN_ROOT = b"<" + ROOT.encode()
# A start tag's attributes, quoted values may hold ">" (the tag regex, not a find, ends it).
_TAG_ATTRS = rb"((?:\s+[A-Za-z_:][\w.:-]*\s*=\s*(?:\"[^\"]*\"|'[^']*'))*)\s*(/?)>"
_TAG = {
    _CONTEST: re.compile(rb"<Contest" + _TAG_ATTRS),
    _CHOICE: re.compile(rb"<Choice" + _TAG_ATTRS),
    _VOTE_TYPE: re.compile(rb"<VoteType" + _TAG_ATTRS),
    _COUNTY: re.compile(rb"<County" + _TAG_ATTRS),
    _PRECINCT: re.compile(rb"<Precinct" + _TAG_ATTRS),
    _TURNOUT: re.compile(rb"<(?:ElectionVoterTurnout|VoterTurnout)" + _TAG_ATTRS),
}
_ATTR = re.compile(rb"([A-Za-z_:][\w.:-]*)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
_DECLARED = re.compile(rb"<\?xml[^>]*encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']")
_UTF8 = {b"utf-8", b"utf8", b"us-ascii", b"ascii"}
_ENTITY = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
_INT64_MAX = int(np.iinfo(np.int64).max)
#: Fewer bytes a tag than this, on average, and the body is not read here (see _Tags).
_TAG_BYTES = 24
_FEW_TAGS = 4096
#: How many different long lists of one length and tail are kept to compare against.
_ALIKE = 4


def read_fast(body: bytes, wanted: Callable[[str, str], bool]) -> Document:
    """The document as :func:`adapters.clarity_xml.read_document` reads it; raises
    :class:`Decline` where the layout is not the one it vouches for.

    The body's own bytes are read where they can be: a padded copy costs a copy and, on
    a poller's heap, mostly fresh pages (a fault each: 2,000 on a 4 MB file, 4 ms of the
    ~45 a parse took). Only a document whose last tags are read past its end (a long
    value in the last 240 bytes) is read again from a padded copy, with the same result.
    """
    root = _start_of_root(body)
    try:
        return _read(body, np.frombuffer(body, dtype=np.uint8), 0, root, wanted)
    except (IndexError, ValueError):  # a read ran past the end (or the body is tiny)
        try:
            return _read(body, padded_copy(body), PAD, root, wanted)
        except (IndexError, ValueError, OverflowError):
            # Past even the padding, or bytes that are not UTF-8 or not XML: the careful
            # reader (or the safety pass's refusal) says what is wrong.
            raise Decline from None


def _read(
    body: bytes, buf: np.ndarray, origin: int, root: int, wanted: Callable[[str, str], bool]
) -> Document:
    """Read ``buf``: the body's bytes from ``origin`` on (:data:`PAD` zeros before and
    after them, or none: every offset read is then within the body or raises
    IndexError, never wraps, as all are past the root's start)."""
    reader = _Reader(body, buf, origin, _Tags.find(buf, root + origin))
    doc = Document()
    reader.top_level(doc)
    reader.contests(doc, wanted)
    return doc


def _start_of_root(body: bytes) -> int:
    """Where the root element's ``<`` is, past the prolog's comments and instructions."""
    start = 3 if body.startswith(b"\xef\xbb\xbf") else 0
    declared = _DECLARED.match(body, start)
    if declared is not None and declared[1].lower() not in _UTF8:
        raise Decline
    if body[:2] in (b"\xff\xfe", b"\xfe\xff") or body[:1] == b"\x00":
        raise Decline  # UTF-16 or UTF-32
    at = body.find(b"<", start)
    while at >= 0 and body.startswith((b"<!--", b"<?"), at):
        end = body.find(b"-->" if body[at + 1] == ord("!") else b"?>", at)
        at = body.find(b"<", end) if end >= 0 else -1
    if at < 0 or not body.startswith(_OPEN_ROOT, at):
        raise Decline  # (a DOCTYPE: check_document refuses it)
    return at


@dataclass
class _Tags:
    """Every tag from the root on: where its ``<`` is (in the padded buffer), the eight
    bytes after it (one little-endian word), whether it is a closing tag, and its kind."""

    at: np.ndarray
    word: np.ndarray
    closing: np.ndarray
    kind: np.ndarray

    @classmethod
    def find(cls, buf: np.ndarray, root: int) -> _Tags:
        at = byte_positions(buf, root, _LT)
        if len(at) > _FEW_TAGS and len(at) * _TAG_BYTES > len(buf):
            # Far denser in tags than Clarity writes (55-85 bytes a tag): the arrays below
            # (~150 bytes a tag) would grow a hostile body many times over before it is
            # refused, so the careful reader (or the refusal) has it.
            raise Decline
        word = words_at(buf, at + 1)
        first = word.view(np.uint8)[::8]  # (the byte after each "<": a view, no copy)
        if ((first == _BANG) | (first == _QUESTION)).any():
            raise Decline  # a comment, CDATA section or instruction: markup to misread
        closing = first == _SLASH
        # Most tags are a county's vote cell: those at once, the others by their names.
        kind = np.full(len(at), _COUNTY, dtype=np.int8)
        others = np.flatnonzero((word & _LOW_BYTES[7]) != _word(b"County "))
        kind[others] = _name_kinds(buf, at[others] + 1 + closing[others])
        return cls(at, word, closing, kind)


#: The bytes read for a tag's name: more than the longest name in _KINDS.
_NAME_BYTES = 24


def _name_kinds(buf: np.ndarray, start: np.ndarray) -> np.ndarray:
    """The kind of each tag whose name starts at ``start``: its first bytes read for all
    at once (three words), cut where the name ends, and each distinct name looked up
    once. A name ends at whitespace, ``/`` or ``>``: in a checked document no other byte
    below 33 follows one (nor the padding's zeros, past the root's end)."""
    kinds = np.full(len(start), _OTHER, dtype=np.int8)
    inside = np.flatnonzero(start <= len(buf) - _NAME_BYTES)
    words = words_from(buf, start[inside], _NAME_BYTES // 8)
    window = words.view(np.uint8)
    ends = (window <= 32) | (window == _SLASH) | (window == _GT)  # a name's end: 1, else 0
    flags = ends.view(np.uint64)  # (one flag byte per byte of the words)
    end = np.full(len(inside), _NAME_BYTES, dtype=np.int64)  # no end within reach
    for k in range(_NAME_BYTES // 8 - 1, -1, -1):  # the first word with one decides
        column = flags[:, k]
        found = column != 0
        end[found] = 8 * k + lowest_byte(column[found]).astype(np.int64)
    # The name's bytes only; a name longer than the words read is no known one.
    end[end == _NAME_BYTES] = 0
    for k in range(_NAME_BYTES // 8):
        words[:, k] &= _LOW_BYTES[np.clip(end - 8 * k, 0, 8)]
    codes, firsts = _codes([words[:, k] for k in range(_NAME_BYTES // 8)])
    named = np.array(
        [_KINDS.get(window[i, : end[i]].tobytes(), _OTHER) for i in firsts.tolist()],
        dtype=np.int8,
    )
    kinds[inside] = named[codes]
    # (Within a name's reach of an unpadded buffer's end: the root's end, mostly.)
    for i in np.flatnonzero(start > len(buf) - _NAME_BYTES).tolist():
        kinds[i] = _kind(buf[start[i] : start[i] + _NAME_BYTES].tobytes())
    return kinds


def _kind(raw: bytes) -> int:
    """A tag's kind from its name's first bytes (and what follows them)."""
    end = next((i for i, b in enumerate(raw) if _AFTER_NAME[b]), -1)
    return _KINDS.get(raw[:end], _OTHER) if end >= 0 else _OTHER


def _depth(opens: np.ndarray, closes: np.ndarray, empty: np.ndarray | None = None) -> np.ndarray:
    """How many containers of one kind are open before each tag. Declines unless they
    never nest, and every one opened is closed (an empty one, ``empty``, must not nest
    either). In int8: a depth past 1 is refused before it could wrap around."""
    step = opens.view(np.int8) - closes.view(np.int8)
    after = np.cumsum(step, dtype=np.int8)
    if len(after) and (after.min() < 0 or after.max() > 1 or after[-1] != 0):
        raise Decline
    before = after - step
    if empty is not None and before[empty].any():
        raise Decline
    return before


class _Reader:
    """One document's tags, read: the top level, then the contests."""

    def __init__(self, body: bytes, buf: np.ndarray, origin: int, tags: _Tags) -> None:
        self.body, self.buf, self.tags = body, buf, tags
        #: Where the body's first byte is in ``buf`` (0, or PAD in a padded copy).
        self.origin = origin
        kind, closing = tags.kind, tags.closing
        # The units (vote cells, entries) are most tags and change no container's depth:
        # depths are followed over the other tags, and each unit takes the state before
        # the next other tag (the last tag, the root's end, is one).
        unit = (kind == _COUNTY) | (kind == _PRECINCT)
        self.other = np.flatnonzero(~unit)
        self.unit = np.flatnonzero(unit)
        if not len(self.other) or (len(self.unit) and self.unit[-1] > self.other[-1]):
            raise Decline  # (the root's closing tag ends every checked document)
        #: How many units come just before each other tag.
        self.units_before = np.diff(self.other, prepend=-1) - 1
        self.unit_closing = closing[unit]
        self.kind, self.closing = kind[self.other], closing[self.other]
        is_contest = self.kind == _CONTEST
        opens, closes = is_contest & ~self.closing, is_contest & self.closing
        self.contest_open, self.contest_close = np.flatnonzero(opens), np.flatnonzero(closes)
        # (An empty <Contest/> never closes: declined here, for the careful reader to say.)
        self.in_contest = _depth(opens, closes) == 1
        self.outside = ~self.in_contest & ~opens

    def unit_state(self, state: np.ndarray) -> np.ndarray:
        """Each unit's ``state``: that of the next other tag."""
        return np.repeat(state, self.units_before)

    def values(
        self, rows: np.ndarray, prefix: bytes, joins: tuple[bytes, ...], keep: bool = False
    ) -> _Values:
        return _Values.read(self.buf, self.tags.at[rows], prefix, joins, keep)

    def attrs(self, row: int) -> tuple[dict[str, str], bool]:
        """A start tag's attributes one by one (as the parser reports them); empty or not."""
        tag = _TAG[int(self.tags.kind[row])].match(self.body, int(self.tags.at[row]) - self.origin)
        if tag is None:
            raise Decline
        return _attrs(tag[1]), bool(tag[2])

    # ------------------------------------------------------------------ the top level

    def top_level(self, doc: Document) -> None:
        """The texts and the turnout block: the few tags outside the contests, read as the
        careful reader reads them."""
        kind, closing, other = self.kind, self.closing, self.other
        turnout = np.flatnonzero(self.outside & (kind == _TURNOUT))
        in_turnout = np.zeros(len(kind), dtype=bool)
        if len(turnout):
            empty = np.zeros(len(kind), dtype=bool)
            for i in turnout[~closing[turnout]].tolist():
                empty[i] = self.attrs(int(other[i]))[1]
            opens = np.zeros(len(kind), dtype=bool)
            opens[turnout] = ~closing[turnout] & ~empty[turnout]
            closes = np.zeros(len(kind), dtype=bool)
            closes[turnout] = closing[turnout]
            in_turnout = _depth(opens, closes, empty) == 1
            # (A unit in the block and in a contest: so is the next other tag.)
            if (in_turnout & ~self.outside).any():
                raise Decline  # a contest inside the turnout block
            units = self.unit_state(in_turnout) & ~self.unit_closing
            self._turnout_units(self.unit[units], doc)
        texts = self.outside & ~in_turnout & (kind == _TEXT) & ~closing
        for row in other[texts].tolist():
            self._text_element(row, doc)

    def _turnout_units(self, rows: np.ndarray, doc: Document) -> None:
        """Each unit's (reported, participating) precincts: Clarity's own layouts read at
        once, any other attribute by attribute."""
        figures: list[tuple[str, str | None, str | None] | None] = [None] * len(rows)
        todo = np.ones(len(rows), dtype=bool)
        for prefix, joins, counts in _TURNOUT_FORMS:
            left = np.flatnonzero(todo)
            left = left[same_bytes_at(self.buf, self.tags.at[rows[left]], prefix)]
            if not len(left):
                continue
            found = self.values(rows[left], prefix, joins)
            if counts is None:  # nothing else may follow
                found.ok &= np.logical_or.reduce(found.tail(b'">', b'"/>', b'" />'))
            if counts:
                names, taking, reported = found.texts(0, *counts)
            else:
                (names,) = found.texts(0)
                taking = reported = names
            read = found.ok
            for i in np.flatnonzero(read).tolist():
                figures[left[i]] = (
                    (names[i], reported[i], taking[i]) if counts else (names[i], None, None)
                )
            todo[left[read]] = False
        for i, row in enumerate(rows.tolist()):
            if figures[i] is None:
                attrs, _ = self.attrs(row)
                if "name" not in attrs:
                    raise Decline
                figures[i] = (
                    attrs["name"],
                    attrs.get("precinctsReported"),
                    attrs.get("precinctsParticipating"),
                )
        for name, reported, taking in figures:  # type: ignore[misc]
            doc.turnout_reporting[name] = (reported, taking)

    def _text_element(self, row: int, doc: Document) -> None:
        """``<Timestamp>text</Timestamp>`` and the like: plain text between two tags."""
        body, tags = self.body, self.tags
        at = int(tags.at[row]) - self.origin
        end = body.find(b">", at) + 1
        name = body[at + 1 : end - 1]
        # (Well-formed: a closing tag right after a start tag is its own.)
        if name not in _KINDS or row + 1 >= len(tags.at) or not tags.closing[row + 1]:
            raise Decline  # attributes, elements inside or an empty one: the careful way
        raw = body[end : int(tags.at[row + 1]) - self.origin]
        # The parser's line ends: CR LF and a lone CR are LF (before references expand).
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        doc.texts.setdefault(name.decode(), _text(raw).strip())

    # ------------------------------------------------------------------ the contests

    def contests(self, doc: Document, wanted: Callable[[str, str], bool]) -> None:
        kind, closing, other = self.kind, self.closing, self.other
        keys, texts = self._contest_tags()
        if not keys:
            if ((kind == _CHOICE) | (kind == _VOTE_TYPE)).any():
                raise Decline  # outside a contest: the careful reader says where
            return
        picks = [wanted(key, text) for key, text in zip(keys, texts, strict=True)]
        chosen = np.array(picks, dtype=bool)
        # (Opens and closes alternate.)
        contest_of = (np.cumsum(kind == _CONTEST, dtype=np.int32) - 1) >> 1
        selected = self.in_contest & chosen[np.maximum(contest_of, 0)]

        is_choice, is_vote_type = kind == _CHOICE, kind == _VOTE_TYPE
        choice_rows = np.flatnonzero(is_choice)
        choice_open = choice_rows[~closing[choice_rows]]
        choices = _Choices.read(self, other[choice_open], selected[choice_open])
        vote_type_rows = np.flatnonzero(is_vote_type)
        vote_type_open = vote_type_rows[~closing[vote_type_rows]]
        vote_types = _VoteTypes.read(self, other[vote_type_open])

        # Nesting: each kind of container where it may be.
        empty = np.zeros(len(kind), dtype=bool)
        empty[choice_open] = choices.empty
        empty[vote_type_open] = vote_types.empty
        is_open = ~closing & ~empty
        is_taking_part = kind == _TAKING_PART
        in_choice = _depth(is_choice & is_open, is_choice & closing, is_choice & empty) == 1
        in_vote_type = (
            _depth(is_vote_type & is_open, is_vote_type & closing, is_vote_type & empty) == 1
        )
        in_taking_part = _depth(is_taking_part & ~closing, is_taking_part & closing) == 1
        in_contest = self.in_contest
        if not (
            in_contest[choice_rows].all()
            and in_contest[vote_type_rows].all()
            and not in_vote_type[choice_rows].any()
            and not in_taking_part[choice_rows].any()
            and not in_taking_part[vote_type_rows].any()
            and not (in_choice | in_vote_type | in_taking_part)[self.contest_close].any()
            and self._taking_part_tags(is_taking_part, in_contest, in_choice, in_vote_type)
        ):
            raise Decline
        # Inside a choice: vote types, and inside those the vote cells; nothing else.
        # Inside ParticipatingCounties: its entries. (Neither is one of the other tags.)
        if (in_choice & ~(is_choice & closing) & ~is_vote_type).any() or (
            in_taking_part & ~is_taking_part
        ).any():
            raise Decline
        # Each unit's state: that before the next other tag.
        state = in_choice.view(np.uint8) | (in_vote_type.view(np.uint8) << 1)
        state |= (in_taking_part.view(np.uint8) << 2) | (selected.view(np.uint8) << 3)
        unit_state = self.unit_state(state)
        unit_closing = self.unit_closing
        unit_in_choice = (unit_state & 1).view(bool)
        unit_in_taking_part = (unit_state & 4).astype(bool)
        if (unit_in_choice & (unit_closing | ((unit_state & 2) == 0))).any():
            raise Decline  # a closing tag, or a cell outside a vote type
        unit_selected = (unit_state & 8).astype(bool)
        entry = unit_in_taking_part & unit_selected
        if (
            unit_in_taking_part.any()
            and (
                unit_in_taking_part & (unit_closing | (self.tags.kind[self.unit] != _COUNTY))
            ).any()
        ):
            raise Decline

        cell_rows = self.unit[unit_in_choice & unit_selected]
        at = self.tags.at
        cells_at = at[cell_rows]
        cells = _Cells.read(self, cell_rows)
        doc.unit_names, doc.vote_texts = cells.units, cells.votes
        segment = np.flatnonzero(in_choice[vote_type_open] & selected[vote_type_open])
        choice_index = np.cumsum(is_choice & ~closing, dtype=np.int32) - 1
        first_choice = choice_index[self.contest_open] + 1
        rows = vote_type_open[segment]
        owner = contest_of[rows]
        segments, columns = _segments(
            vote_types,
            segment,
            owner,
            choice_index[rows] - first_choice[owner],
            np.searchsorted(cells_at, at[other[rows]]),
        )
        entry_rows = self.unit[entry]
        entry_contest = self.unit_state(contest_of)[entry]
        reporting = self._reporting(entry_rows, entry_contest)
        owners = contest_of[choice_open[selected[choice_open]]]
        bounds = np.searchsorted(owners, np.arange(len(keys) + 1)).tolist()
        starts = np.searchsorted(cells_at, at[other[self.contest_open]]).tolist()
        ends = np.searchsorted(cells_at, at[other[self.contest_close]]).tolist()
        made = choices.made
        counts = columns.counts
        none: tuple[list[str], int, int] = ([], 0, 0)
        # (Each contest made once with all its fields: ~1 µs a contest less than defaults.)
        for i, (key, text, pick) in enumerate(zip(keys, texts, picks, strict=True)):
            types, first, end = segments.get(i, none) if pick else none
            if pick:
                counts.append(end - first)
            doc.contests.append(
                Contest(
                    key,
                    text,
                    pick,
                    None,
                    made[bounds[i] : bounds[i + 1]] if pick else [],
                    types if pick else [],
                    SegmentRows(columns, first, end) if end > first else [],
                    starts[i],
                    ends[i],
                    reporting.get(i, {}) if pick else {},
                )
            )
        doc.segments = columns

    def _contest_tags(self) -> tuple[list[str], list[str]]:
        """Each contest's key and text."""
        rows = self.other[self.contest_open]
        found = self.values(rows, b'<Contest key="', (b'" text="',))
        keys, texts = found.texts(0, 1)
        for i in np.flatnonzero(~found.ok).tolist():
            attrs, _ = self.attrs(int(rows[i]))
            if "key" not in attrs:
                raise Decline
            keys[i], texts[i] = attrs["key"], attrs.get("text", "")
        return keys, texts

    def _taking_part_tags(
        self,
        is_taking_part: np.ndarray,
        in_contest: np.ndarray,
        in_choice: np.ndarray,
        in_vote_type: np.ndarray,
    ) -> bool:
        """ParticipatingCounties only in a contest, outside its choices and vote types, and
        written ``<ParticipatingCounties>``."""
        rows = np.flatnonzero(is_taking_part)
        if not len(rows):
            return True
        starts = self.other[rows[~self.closing[rows]]]
        return bool(
            in_contest[rows].all()
            and not (in_choice[rows] | in_vote_type[rows]).any()
            and same_bytes_at(self.buf, self.tags.at[starts], b"<ParticipatingCounties>").all()
        )

    def _reporting(
        self, rows: np.ndarray, owners: np.ndarray
    ) -> dict[int, dict[str, tuple[str | None, str | None]]]:
        """Each chosen contest's ParticipatingCounties: name → (reported, taking part).

        Statewide contests list the same counties with the same figures, byte for byte:
        a long list is read once for each distinct run of bytes (an entry is read from
        its own tag's bytes alone, so the same bytes are the same entries), each distinct
        entry decoded once, and each list read made into a dict once."""
        if not len(rows):
            return {}
        heads = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]])
        sizes = np.diff(np.r_[heads, len(rows)])
        at = self.tags.at
        # A contest's entries: from its first one's "<" to the tag after its last one. Long
        # lists, byte for byte one seen already, are that one's (short ones: read each).
        starts = at[rows[heads]] - self.origin
        ends = at[rows[heads + sizes - 1] + 1] - self.origin
        like = np.arange(len(heads))
        seen: dict[tuple[int, bytes], list[tuple[int, bytes]]] = {}
        body = self.body
        for k in np.flatnonzero(ends - starts >= _LONG_LIST).tolist():
            start, end = int(starts[k]), int(ends[k])
            raw = body[start:end]
            # (Keyed by length and last bytes: hashing them all would cost more.)
            # A few lists a key at most: a feed of many lists alike in length and tail
            # but not in bytes would otherwise cost a comparison with each (quadratic);
            # past those, a list is read on its own (the same entries, read again).
            alike = seen.setdefault((end - start, body[end - 64 : end]), [])
            like[k] = next((j for j, other in alike if other == raw), k)
            if like[k] == k and len(alike) < _ALIKE:
                alike.append((k, raw))
        read = like == np.arange(len(heads))
        like_list = like.tolist()
        read_rows = rows[np.repeat(read, sizes)]
        found = self.values(
            read_rows,
            b'<County name="',
            (b'" precinctsParticipating="', b'" precinctsReported="'),
            keep=True,
        )
        if not found.ok.all():
            raise Decline
        # One code per distinct entry (its three values' bytes), each decoded once.
        entry, first = _codes([word for words in found.words for word in words])
        values = [_texts(self.buf, start[first], end[first]) for start, end in found.spans]
        origin = self.origin
        for (start, end), (texts, parsed) in zip(found.spans, values, strict=True):
            if parsed and _respelled(body, start[first] - origin, end[first] - origin, texts):
                raise Decline  # two spellings of one value ("A&amp;B", "A&#38;B")
        (name_texts, _), (taking_texts, _), (reported_texts, _) = values
        entries = list(zip(name_texts, zip(reported_texts, taking_texts, strict=True), strict=True))
        read_sizes = sizes[read].tolist()
        bounds = np.cumsum([0, *read_sizes]).tolist()
        entry_list = entry.tolist()
        tables = {
            k: dict(map(entries.__getitem__, entry_list[a:b]))
            for k, (a, b) in zip(np.flatnonzero(read).tolist(), pairwise(bounds), strict=True)
        }
        # (Each contest its own dict: the first of a kind that one, the others copies.)
        return {
            owner: tables[k] if k == i else tables[k].copy()
            for i, (owner, k) in enumerate(zip(owners[heads].tolist(), like_list, strict=True))
        }


@dataclass
class _Values:
    """Attribute values of tags written ``prefix`` value ``join`` value … ``"``: whether
    each tag is so written, and each value's [start, end) and words (zero past its end,
    for telling values apart). A join is a closing quote, the next attribute's name and
    its opening quote; a double-quoted value ends at the next ``"``."""

    buf: np.ndarray
    ok: np.ndarray
    spans: list[tuple[np.ndarray, np.ndarray]]
    words: list[list[np.ndarray]]

    keep: bool = False

    @classmethod
    def read(
        cls,
        buf: np.ndarray,
        at: np.ndarray,
        prefix: bytes,
        joins: tuple[bytes, ...],
        keep: bool = False,
    ) -> _Values:
        """``keep``: each value's words, all of them (else its first)."""
        found = cls(buf, same_bytes_at(buf, at, prefix), [], [], keep)
        found.value(at + len(prefix))
        for join in joins:
            found.then(join)
        return found

    @property
    def end(self) -> np.ndarray:
        return self.spans[-1][1]

    def value(self, start: np.ndarray) -> None:
        """The value from ``start`` to its closing quote."""
        words, end, closed = _quoted(self.buf, start, self.keep)
        self.ok &= closed
        self.spans.append((start, end))
        self.words.append(words)

    def then(self, join: bytes, rows: np.ndarray | None = None) -> None:
        """The next value, after ``join`` (only for ``rows``, where given: elsewhere an
        empty value where the last one ends)."""
        end = self.end
        ok = same_bytes_at(self.buf, end, join)
        self.value(np.where(ok, end + len(join), end))
        self.ok &= ok if rows is None else ok | ~rows

    def tail(self, *ends: bytes) -> list[np.ndarray]:
        """Which of ``ends`` (``">"``, ``"/>"``…) follows the last value, for each tag."""
        return [same_bytes_at(self.buf, self.end, e) for e in ends]

    def texts(self, *values: int, rows: np.ndarray | None = None) -> list[list[str]]:
        """Values ``values`` of each tag (of ``rows``), decoded together; "" where not
        ok."""
        ok = self.ok if rows is None else self.ok & rows
        count = len(ok)
        starts = [self.spans[value][0] for value in values]
        ends = [
            np.where(ok, self.spans[value][1], start)
            for value, start in zip(values, starts, strict=True)
        ]
        flat = _texts(self.buf, np.concatenate(starts), np.concatenate(ends))[0]
        return [flat[k * count : (k + 1) * count] for k in range(len(values))]


def _texts(buf: np.ndarray, start: np.ndarray, end: np.ndarray) -> tuple[list[str], bool]:
    """Attribute values ``buf[start:end]`` as the parser reports them, decoded in one go;
    and whether any differs from its bytes (a reference, a tab or a line break)."""
    if not len(start):
        return [], False
    lengths = end - start
    sizes = lengths + 1
    offsets = np.cumsum(sizes) - sizes
    index = np.arange(int(offsets[-1] + sizes[-1])) + np.repeat(start - offsets, sizes)
    joined = buf[index]
    joined[offsets + lengths] = 0  # XML text never holds NUL: a safe separator
    try:
        text = joined.tobytes().decode()
    except UnicodeDecodeError:
        raise Decline from None
    parsed = _as_parsed(text)  # (no reference or line break spans two values)
    return parsed.split("\x00")[:-1], parsed is not text


@dataclass
class _Choices:
    """Every ``<Choice>`` start tag: empty or not; the chosen contests' choices made."""

    empty: np.ndarray
    made: list[Choice]

    @classmethod
    def read(cls, reader: _Reader, rows: np.ndarray, chosen: np.ndarray) -> _Choices:
        found = reader.values(rows, b'<Choice key="', (b'" text="',))
        party = found.tail(b'" party="')[0]
        found.then(b'" party="', party)
        found.then(b'" totalVotes="')
        opened, closed, spaced = found.tail(b'">', b'"/>', b'" />')
        found.ok &= opened | closed | spaced
        empty = closed | spaced
        picked = found.ok & chosen
        keys, texts, parties, totals = found.texts(0, 1, 2, 3, rows=picked)
        odd = ~found.ok  # read attribute by attribute
        made: list[Choice] = []
        has_party = party.tolist()
        for i in np.flatnonzero(chosen | odd).tolist():
            if not odd[i]:
                made.append(
                    Choice(keys[i], texts[i], parties[i] if has_party[i] else None, totals[i])
                )
                continue
            attrs, empty[i] = reader.attrs(int(rows[i]))
            if chosen[i]:
                if "key" not in attrs:
                    raise Decline
                made.append(
                    Choice(
                        attrs["key"],
                        attrs.get("text", ""),
                        attrs.get("party"),
                        attrs.get("totalVotes"),
                    )
                )
        return cls(empty, made)


@dataclass
class _VoteTypes:
    """Every ``<VoteType>`` start tag: empty or not, name and stated votes."""

    empty: np.ndarray
    names: list[str | None]
    stated: list[str | None]

    @classmethod
    def read(cls, reader: _Reader, rows: np.ndarray) -> _VoteTypes:
        found = reader.values(rows, b'<VoteType name="', (b'" votes="',))
        opened, closed, spaced = found.tail(b'">', b'"/>', b'" />')
        found.ok &= opened | closed | spaced
        empty = closed | spaced
        names: list[str | None]
        stated: list[str | None]
        names, stated = found.texts(0, 1)  # type: ignore[assignment]
        for i in np.flatnonzero(~found.ok).tolist():  # another layout: attribute by attribute
            attrs, empty[i] = reader.attrs(int(rows[i]))
            names[i], stated[i] = attrs.get("name"), attrs.get("votes")
        return cls(empty, names, stated)


def _segments(
    vote_types: _VoteTypes,
    picked: np.ndarray,
    contest_of: np.ndarray,
    choice: np.ndarray,
    first_cell: np.ndarray,
) -> tuple[dict[int, tuple[list[str], int, int]], Segments]:
    """The segments (choice, vote type, stated votes, first cell) of the vote types
    ``picked`` as columns; and per chosen contest with any, its vote type names (first
    seen first) and its rows [start, end) of the columns."""
    if not len(picked):
        empty = np.zeros(0, dtype=np.int64)
        return {}, Segments([], empty, empty, [], empty)
    chosen = itemgetter(*picked.tolist())
    names, stated = chosen(vote_types.names), chosen(vote_types.stated)
    if len(picked) == 1:
        names, stated = (names,), (stated,)
    if None in names:
        raise Decline  # a vote type without a name: the careful reader says where
    name_codes, distinct = pd.factorize(np.array(names, dtype=object))
    # Number (contest, name) pairs first seen first: each contest's run of numbers.
    pairs, keys = pd.factorize(contest_of.astype(np.int64) * len(distinct) + name_codes)
    heads = np.flatnonzero(np.r_[True, contest_of[1:] != contest_of[:-1]])
    local = pairs - np.repeat(pairs[heads], np.diff(np.r_[heads, len(pairs)]))
    type_names = list(map(distinct.tolist().__getitem__, (keys % len(distinct)).tolist()))
    bounds = [*heads.tolist(), len(pairs)]
    firsts = [*pairs[heads].tolist(), len(keys)]
    owners = contest_of[heads].tolist()
    columns = Segments(
        [],  # (the counts per chosen contest: the caller's, it knows those without any)
        choice.astype(np.int64),
        local.astype(np.int64, copy=False),
        list(stated),
        first_cell.astype(np.int64, copy=False),
    )
    per_contest = {
        owners[k]: (type_names[firsts[k] : firsts[k + 1]], bounds[k], bounds[k + 1])
        for k in range(len(owners))
    }
    return per_contest, columns


def _word(text: bytes) -> np.uint64:
    return np.uint64(int.from_bytes(text, "little"))


#: A vote cell's start: the tag's word, then the bytes up to the name's first byte.
_CELL_STARTS = (
    (_word(b"County n"), _word(b'ame="'), 5),
    (_word(b"Precinct"), _word(b' name="'), 7),
)
_VOTES_JOIN = _word(b' votes="')  # (after the name's closing quote)
_EMPTY_TAIL, _SPACED_TAIL = _word(b'"/>'), _word(b'" />')
#: The longest value read the fast way (the padding stays ahead of the words read).
_LONGEST = PAD - 16
#: Values still open after a word: past this many (or within the first words), another
#: word for all; else the rest of their window in one gather (one pass over a few long
#: texts, not a NumPy round a word).
_FEW, _ROUNDS = 1024, 4
_QUOTE = 34
#: The entries of a contest's ParticipatingCounties worth comparing with those seen.
_LONG_LIST = 1024
_WORD_BITS = np.uint64(64)


@dataclass
class _Cells:
    """The chosen contests' vote cells: unit codes and names, votes as numbers."""

    units: UnitColumn
    votes: VoteColumn

    @classmethod
    def read(cls, reader: _Reader, rows: np.ndarray) -> _Cells:
        """Cells written ``<County name="…" votes="…" />`` (or ``"/>``, or ``<Precinct``).

        The tag's first word was read already; the name's words, read for telling the
        names apart, also say where it ends; the word after ``votes="`` holds the digits
        (up to seven), the closing quote and mostly the tag's end.
        """
        buf = reader.buf
        at = reader.tags.at[rows]
        ahead = words_from(buf, at + 1, 3)  # (three words for the price of one gather)
        word, rest = ahead[:, 0], ahead[:, 1]
        for tag_word, start, size in _CELL_STARTS:
            kind = word == tag_word
            if kind.all():  # (all of one kind, as files are: fewer passes)
                ok = (rest & _LOW_BYTES[size]) == start
                at += 9 + size
                name_start = at
                # The name's first word, from the words read.
                first = (rest >> np.uint64(8 * size)) | (ahead[:, 2] << np.uint64(64 - 8 * size))
                break
        else:
            ok = np.zeros(len(at), dtype=bool)
            name_start = at
            for tag_word, start, size in _CELL_STARTS:
                kind = word == tag_word
                ok |= kind & ((rest & _LOW_BYTES[size]) == start)
                name_start = np.where(kind, at + 9 + size, name_start)
            first = None
        del ahead, word, rest, kind, at  # (the largest arrays go as soon as they are read)
        columns, name_end, closed = _quoted(buf, name_start, first=first)
        del first
        ok &= closed
        after = words_from(buf, name_end + 1, 2)  # ' votes="', then the digits
        ok &= after[:, 0] == _VOTES_JOIN
        digits = after[:, 1].copy()
        del after
        length, _ = quote_mask(digits)
        if not ok.all() or not length.all():
            raise Decline  # a cell of another form, or without votes
        codes, names = _distinct(buf, name_start, name_end, columns)
        del columns, name_start
        votes_start = name_end
        votes_start += 9
        del name_end
        votes_end = votes_start + length
        if (length < 8).all():
            bits = length.astype(np.uint64)
            bits <<= np.uint64(3)
            tail = digits >> bits
            far = np.flatnonzero(length > 4)  # (the tag's end is past this word)
            tail[far] = words_at(buf, votes_end[far])
            # Right-aligned in a word, zeros before: as adapters.spans reads numbers.
            zeros = ASCII_ZEROS >> bits
            np.subtract(_WORD_BITS, bits, out=bits)
            digits <<= bits
            digits |= zeros
            del bits, zeros
            if not all_digits(digits):
                raise Decline
            numbers = eight_digits(digits)
        else:  # eight digits or more: to the closing quote, then as adapters.spans reads them
            _, votes_end, closed = _quoted(buf, votes_start)
            if not closed.all():
                raise Decline
            tail = words_at(buf, votes_end)
            numbers, _ = Spans(buf, votes_start, votes_end).whole(_INT64_MAX)
        if not (
            ((tail & _LOW_BYTES[3]) == _EMPTY_TAIL) | ((tail & _LOW_BYTES[4]) == _SPACED_TAIL)
        ).all():
            raise Decline
        return cls(
            UnitColumn(codes, names), VoteColumn(numbers, Spans(buf, votes_start, votes_end))
        )


def _first_quote(words: np.ndarray) -> np.ndarray:
    """Where the first double quote is in each word (0-7), 8 where there is none."""
    return quote_mask(words)[0].astype(np.int64)


def _quoted(
    buf: np.ndarray, start: np.ndarray, keep: bool = True, first: np.ndarray | None = None
) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
    """Double-quoted values from ``start`` to their closing quote: their words (zero past
    the value; ``keep``: all of them, else the first), where they end, and whether they do
    within :data:`_LONGEST` bytes. ``first``: each value's first word, read already."""
    count = len(start)
    words = words_at(buf, start) if first is None else first
    quote, mask = quote_mask(words)
    mask &= words
    columns = [mask]
    length = quote.astype(np.int64)
    left = np.flatnonzero(quote == 8)
    read = 1
    # Longer values: a word more for those, while there are many or they may end soon.
    while len(left) and 8 * read < _LONGEST and (len(left) > _FEW or read < _ROUNDS):
        words = words_at(buf, start[left] + 8 * read)
        quote, mask = quote_mask(words)
        length[left] += quote
        if keep:
            column = np.zeros(count, dtype=np.uint64)
            mask &= words
            column[left] = mask
            columns.append(column)
        left = left[quote == 8]
        read += 1
    closed = np.ones(count, dtype=bool)
    if len(left) and 8 * read < _LONGEST:  # the few left: the rest of their window at once
        window = buf[(start[left] + 8 * read)[:, None] + np.arange(_LONGEST - 8 * read)]
        quotes = window == _QUOTE
        found = quotes.any(axis=1)
        end = np.where(found, quotes.argmax(axis=1), _LONGEST - 8 * read)
        length[left] += end
        if keep:  # the same words the loop reads: zero from the quote on
            window[np.arange(window.shape[1]) >= end[:, None]] = 0
            words = window.view("<u8")
            for k in range(min(int(end.max()) // 8 + 1, words.shape[1])):
                column = np.zeros(count, dtype=np.uint64)
                column[left] = words[:, k]
                columns.append(column)
        left = left[~found]
    closed[left] = False
    return columns, start + length, closed


def _distinct(
    buf: np.ndarray, start: np.ndarray, end: np.ndarray, columns: list[np.ndarray] | None = None
) -> tuple[np.ndarray, list[str]]:
    """Each span's code (equal bytes, equal code; first seen first) and the distinct
    texts as the parser reports them: the spans' words (``columns``, else read here)
    hashed and grouped, then checked byte for byte."""
    if not len(start):
        return np.zeros(0, dtype=np.int64), []
    if columns is None:
        lengths = end - start
        count = max(1, -(-int(lengths.max()) // 8))
        if 8 * count > PAD:
            raise Decline
        columns = [
            words_at(buf, start + 8 * k) & _LOW_BYTES[np.clip(lengths - 8 * k, 0, 8)]
            for k in range(count)
        ]
    codes, first = _codes(columns)
    names, parsed = _texts(buf, start[first], end[first])
    if parsed and len(set(names)) < len(names):
        raise Decline  # two spellings of one name ("A&amp;B", "A&#38;B"): the careful way
    return codes.astype(np.int64, copy=False), names


def _codes(columns: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Rows of equal words share a code (first seen first); and each code's first row.
    The words are hashed and grouped, then checked word for word."""
    key = columns[0]
    for column in columns[1:]:
        key = key * _MIX ^ column
    codes, _ = pd.factorize(key)
    first = np.flatnonzero(codes > np.maximum.accumulate(np.r_[-1, codes[:-1]]))
    # (Equal keys and equal words but the last: equal last words, so they go unchecked.)
    if not all((c == c[first][codes]).all() for c in columns[:-1]):
        raise Decline  # two texts share a hash (astronomically rare)
    return codes, first


def _respelled(body: bytes, start: np.ndarray, end: np.ndarray, texts: list[str]) -> bool:
    """Whether two different spellings (``body[start:end]``) give one text."""
    spelled = {
        body[a:b]: text for a, b, text in zip(start.tolist(), end.tolist(), texts, strict=True)
    }
    return len(set(spelled.values())) < len(spelled)


def _attrs(raw: bytes) -> dict[str, str]:
    """A start tag's attributes as the XML parser reports them."""
    return {
        name.decode(): _as_parsed((double or single).decode())
        for name, double, single in _ATTR.findall(raw)
    }


def _as_parsed(value: str) -> str:
    """An attribute value as the parser reports it: each line end (CR LF, CR, LF) and tab
    a space, then references expanded (a reference to a tab stays a tab)."""
    if "\r" in value:
        value = value.replace("\r\n", " ").replace("\r", " ")
    if "\n" in value or "\t" in value:
        value = value.replace("\n", " ").replace("\t", " ")
    return _ENTITY.sub(_entity, value) if "&" in value else value


def _text(raw: bytes) -> str:
    text = raw.decode()
    return _ENTITY.sub(_entity, text) if "&" in text else text


def _entity(match: re.Match[str]) -> str:
    ref = match[1]
    if ref[0] != "#":
        return _NAMED[ref]
    # (Leading zeros are allowed, any number of them: int() caps its digits.)
    hexa = ref[1] in "xX"
    digits = ref[2 if hexa else 1 :].lstrip("0") or "0"
    if len(digits) > 7:
        raise Decline  # past the last code point: not XML (the safety pass refuses it)
    code = int(digits, 16 if hexa else 10)
    if code > 0x10FFFF:
        raise Decline
    return chr(code)
