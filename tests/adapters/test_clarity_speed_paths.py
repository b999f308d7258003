"""The fast Clarity reader (adapters/clarity_fast.py) against the careful one: on every
layout it reads, the same Document and the same cubes; on every layout it does not vouch
for, it declines (and the careful reader gives the answer, or the error)."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import adapters.clarity_fast as fast_module
from adapters.clarity_cubes import contest_cubes
from adapters.clarity_document import Document, Segments, UnitColumn, VoteColumn
from adapters.clarity_fast import read_fast
from adapters.clarity_xml import check_document, read_careful, read_document
from adapters.spans import Decline
from nightdesk.errors import FeedError

ALL: Callable[[str, str], bool] = lambda key, text: True  # noqa: E731


def body(
    contests: str | None = None,
    *,
    head: str = "<Timestamp>8/8/2018 3:49:07 PM EDT</Timestamp>\n  <Region>GA</Region>",
    prolog: str = '<?xml version="1.0"?>',
    tail: str = "",
) -> bytes:
    if contests is None:
        contests = contest()
    return (f"{prolog}\n<ElectionResult>\n  {head}\n{contests}\n{tail}</ElectionResult>\n").encode()


def contest(
    cells: str = '<County name="Appling" votes="10" /><County name="Bacon" votes="5" />',
    *,
    key: str = "1",
    start: str = '<Contest key="{key}" text="Governor">',
    choice: str = '<Choice key="10" text="KEMP" party="REP" totalVotes="15">',
    vote_type: str = '<VoteType name="Election Day" votes="15">',
    more: str = "",
) -> str:
    return (
        f"  {start.format(key=key)}\n    {choice}\n      {vote_type}{cells}</VoteType>\n"
        f"    </Choice>{more}\n  </Contest>"
    )


def columns_agree(doc: Document) -> None:
    """The fast reader's segment columns are the chosen contests' segments taken apart."""
    if doc.segments is None:
        return
    made, columns = Segments.of([c for c in doc.contests if c.selected]), doc.segments
    assert columns.counts == made.counts and columns.stated == made.stated
    for name in ("choice", "vote_type", "starts"):
        assert getattr(columns, name).dtype == np.int64
        assert getattr(columns, name).tolist() == getattr(made, name).tolist()


def plain(doc: Document) -> Document:
    """The document with its cell columns as lists and no line numbers (as compared)."""
    columns_agree(doc)
    doc.unit_names = list(doc.unit_names)
    doc.vote_texts = list(doc.vote_texts)
    for c in doc.contests:
        c.line = None
    return doc


def outcome(data: bytes, wanted: Callable[[str, str], bool], *, fast: bool) -> Any:
    """What read_document and contest_cubes give: (document, cubes) or the error."""
    try:
        doc = read_document(data, wanted, fast=fast)
        cubes = contest_cubes(doc, [c for c in doc.contests if c.selected])
    except FeedError as exc:
        return ("error", str(exc))
    flat = [(c.votes.tolist(), c.given.tolist(), c.units) for c in cubes]
    return plain(doc), flat


def declines(data: bytes, wanted: Callable[[str, str], bool] = ALL) -> bool:
    try:
        read_fast(data, wanted)
    except Decline:
        return True
    return False


def same(data: bytes, wanted: Callable[[str, str], bool] = ALL) -> bool:
    """Fast and careful agree (document and cubes, or the error); whether the fast reader
    declined on the way."""
    assert outcome(data, wanted, fast=True) == outcome(data, wanted, fast=False)
    return declines(data, wanted)


# ------------------------------------------------------------------ read the fast way


@pytest.mark.parametrize(
    "data",
    [
        body(),
        # Entities and character references in attributes, line breaks and tabs in them.
        body(contest(start='<Contest key="{key}" text="Judge &quot;A&quot; &#233;lu">')),
        body(
            contest(
                choice='<Choice key="10" text="L.S. &quot;CASEY&quot;\tCAGLE" party="R&amp;P" '
                'totalVotes="15">'
            )
        ),
        body(contest(start='<Contest key="{key}" text="Two\r\nlines\rand&#13;&#10;refs">')),
        body(contest('<County name="A&amp;B" votes="1" /><County name="Caf&#xe9;" votes="2" />')),
        # Unit names of every length, UTF-8 ones too; votes of every length.
        body(
            contest(
                '<County name="" votes="0" /><County name="Chattahoochee" votes="1234567" />'
                '<County name="Peñasco Ñandú" votes="12345678" />'
                '<County name="A precinct name longer than thirty-two bytes" votes="9" />'
            )
        ),
        body(contest('<County name="A" votes="0007" /><County name="B" votes="99999999999" />')),
        # The cell's tag end with and without the space; precinct cells; both in one file.
        body(contest('<Precinct name="P1" votes="1"/><Precinct name="P2" votes="2" />')),
        body(contest() + contest('<Precinct name="P1" votes="3"/>', key="2")),
        # A choice without party, or with other attributes; empty choices and vote types.
        body(contest(choice='<Choice key="10" text="KEMP" totalVotes="15">')),
        body(contest(choice='<Choice totalVotes="15" key="10" party="REP" text="KEMP" x="y">')),
        body(contest(more='<Choice key="11" text="NOBODY" totalVotes="0" />')),
        body(contest(more='<Choice key="11" text="NOBODY" totalVotes="0"/>')),
        body(
            contest(
                more='<Choice key="11" text="X" totalVotes="0">'
                '<VoteType name="Election Day" votes="0"/></Choice>'
            )
        ),
        body(contest(vote_type="<VoteType votes='15' name='Election Day'>")),
        body(contest(vote_type='<VoteType  name="Election Day"\n votes="15" >')),
        # A contest's own vote types (over- and undervotes), before and after the choices.
        body(
            contest(
                more='<VoteType name="Overvotes" votes="1"><County name="A" votes="1" /></VoteType>'
            )
        ),
        body(
            contest(
                start='<Contest key="{key}" text="X"><VoteType name="Undervotes" votes="2">'
                '<Precinct name="P" votes="2" /></VoteType>'
            )
        ),
        # ParticipatingCounties with other attributes after the three read.
        body(
            contest(
                start='<Contest key="{key}" text="X"><ParticipatingCounties>'
                '<County name="Appling" precinctsParticipating="9" precinctsReported="4" '
                'precinctsReportingPercent="44.44" />\n<County name="Bacon" '
                'precinctsParticipating="1" precinctsReported="1"/></ParticipatingCounties>'
            )
        ),
        # Turnout blocks: Clarity's two layouts and another.
        body(
            head='<ElectionVoterTurnout totalVoters="5" ballotsCast="1" voterTurnout="0.01">'
            "<Counties>"
            '<County name="Appling" totalVoters="10229" ballotsCast="0" voterTurnout="0.00" '
            'precinctsParticipating="9" precinctsReported="8" precinctsReportingPercent="88.89" />'
            '<County name="B&amp;C" totalVoters="1" ballotsCast="0" voterTurnout="0.00" '
            'precinctsParticipating="2" precinctsReported="2" precinctsReportingPercent="100" />'
            "</Counties></ElectionVoterTurnout>"
        ),
        body(
            head='<VoterTurnout totalVoters="1" ballotsCast="1" voterTurnout="1"><Precincts>'
            '<Precinct name="AB" totalVoters="0" ballotsCast="203" voterTurnout="0.00" '
            'percentReporting="32" /></Precincts></VoterTurnout>'
        ),
        body(
            head="<VoterTurnout><Precincts><Precinct precinctsReported='1' name='AB'/>"
            '<Precinct name="AB" totalVoters="0" ballotsCast="1" voterTurnout="0" '
            'percentReporting="3" precinctsReported="2"/></Precincts></VoterTurnout>'
        ),
        # Texts: references, CR LF, a character reference to CR; the first one kept.
        body(head="<Region>Greenup &amp; Co\r\n</Region><Region>Again</Region>"),
        body(head="<ElectionName> A&#13;B\r\nC </ElectionName>"),
        # Comments and instructions before the root (one naming a fake root).
        body(prolog='<?xml version="1.0"?><!-- <ElectionResult><Region>fake</Region> --><?pi x?>'),
        body(contest(more='<Foo><VoteType name="Over" votes="1" /></Foo>')),
        # A quote in text between cells.
        body(contest('<County name="A" votes="1" />"x"<County name="B" votes="2" />')),
    ],
)
def test_layouts_the_fast_reader_reads(data: bytes) -> None:
    check_document(data)
    assert not same(data)
    assert not same(data, lambda key, text: key == "2")


def test_the_cell_columns_are_sequences_of_text() -> None:
    doc = read_fast(
        body(contest('<County name="A" votes="007" /><County name="B" votes="5" />')), ALL
    )
    assert isinstance(doc.unit_names, UnitColumn) and isinstance(doc.vote_texts, VoteColumn)
    assert list(doc.vote_texts) == ["007", "5"] and doc.vote_texts.numbers.tolist() == [7, 5]
    assert doc.unit_names == ["A", "B"] and doc.unit_names[-1] == "B"
    assert doc.unit_names[0:1] == ["A"]
    with pytest.raises(IndexError):
        doc.unit_names[2]


# ------------------------------------------------------------------ declined, same answer


@pytest.mark.parametrize(
    "data",
    [
        # Cells of another form.
        body(contest('<County votes="3" name="A" />')),
        body(contest("<County name='A' votes='3' />")),
        body(contest('<County name="A" votes="3" extra="1" />')),
        body(contest('<County  name="A" votes="3" />')),
        body(contest('<County name="A" votes="3"></County>')),
        body(contest('<County name="A" votes="3" ></County>')),
        body(contest('<Precinct name="A" votes="3" /><County name="B" votes="1" extra="" />')),
        # Votes that are not plain digits: signs, spaces, references, too many digits.
        body(contest('<County name="A" votes="+3" />')),
        body(contest('<County name="A" votes=" 3" />')),
        body(contest('<County name="A" votes="3 " />')),
        body(contest('<County name="A" votes="&#51;" />')),
        body(contest('<County name="A" votes="12345678901234567" />')),
        body(contest('<County name="A" votes="1.5" />')),
        # Two spellings of one unit name.
        body(contest('<County name="A&amp;B" votes="1" /><County name="A&#38;B" votes="2" />')),
        # Something else inside a choice or a vote type.
        body(contest('<County name="A" votes="3" /><Other />')),
        body(contest(more="", choice='<Choice key="10" text="K" totalVotes="1"><Note/>')),
        # ParticipatingCounties entries of another form.
        body(
            contest(
                start='<Contest key="{key}" text="X"><ParticipatingCounties>'
                '<County precinctsReported="1" name="A" precinctsParticipating="2" />'
                "</ParticipatingCounties>"
            )
        ),
        body(
            contest(
                start='<Contest key="{key}" text="X"><ParticipatingCounties>'
                '<Precinct name="A" precinctsParticipating="2" precinctsReported="1" />'
                "</ParticipatingCounties>"
            )
        ),
        body(contest(start='<Contest key="{key}" text="X"><ParticipatingCounties />')),
        # Comments, CDATA, instructions after the root; another encoding.
        body(tail="<!-- a comment -->\n"),
        body(head="<Region><![CDATA[<County name='x' votes='1'/>]]></Region>"),
        body(tail="<?pi data?>\n"),
        body(prolog='<?xml version="1.0" encoding="ISO-8859-1"?>'),
        # Texts with attributes, elements inside, empty; texts after the contests.
        body(head='<Region code="x">GA</Region>'),
        body(head="<Region>G<b/>A</Region>"),
        body(head="<Region/>"),
        # Containers where they do not belong, or empty.
        body(contest(start='<Contest key="{key}" text="X"/><Contest key="{key}" text="X">')),
    ],
)
def test_layouts_the_fast_reader_declines(data: bytes) -> None:
    check_document(data)
    assert same(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (body(contest('<County name="A" votes="+3" />')), "votes '\\+3' is not a whole number"),
        (body(contest('<County name="A" votes=" 3" />')), "votes ' 3' is not a whole number"),
        (body(contest('<County name="A" votes="" />')), "votes '' is not a whole number"),
        (body(contest('<County votes="3" />')), "lacks its 'name' attribute"),
        (
            body(contest('<County name="A" votes="1" /><County name="A" votes="1" />')),
            "appears 2 times",
        ),
        (
            body(contest(more='<Choice key="11" text="X"><Choice key="12" /></Choice>')),
            "<Choice> outside a contest",
        ),
        (body('<VoteType name="X" votes="1" />'), "<VoteType> outside a choice"),
        (body('<Choice key="1" />'), "<Choice> outside a contest"),
        (body(contest(start='<Contest text="X">')), "lacks its 'key' attribute"),
    ],
)
def test_bad_documents_give_the_careful_readers_error(data: bytes, message: str) -> None:
    for fast in (True, False):
        result = outcome(data, ALL, fast=fast)
        assert result[0] == "error"
        assert re.search(message, result[1]), result[1]
    same(data)


def test_a_text_after_the_contests_is_read_by_both() -> None:
    assert not same(body(head="", tail="<Region>After</Region>\n"))


def test_unchosen_contests_keep_only_key_and_text() -> None:
    data = body(
        contest(
            start='<Contest key="{key}" text="X"><ParticipatingCounties>'
            '<County name="A" precinctsParticipating="2" precinctsReported="1" />'
            "</ParticipatingCounties>"
        )
    )
    for fast in (True, False):
        doc = read_document(data, lambda key, text: False, fast=fast)
        (c,) = doc.contests
        assert (c.key, c.text, c.choices, c.reporting, c.segments) == ("1", "X", [], {}, [])


def test_a_hash_collision_between_two_names_declines(monkeypatch: pytest.MonkeyPatch) -> None:
    # Names whose second word is the same collide when the mixing constant is zero.
    data = body(
        contest('<County name="AAAAAAAAxy" votes="1" /><County name="BBBBBBBBxy" votes="2" />')
    )
    assert not declines(data)
    monkeypatch.setattr(fast_module, "_MIX", np.uint64(0))
    assert declines(data)
    assert same(data)


# ------------------------------------------------------------------ random layouts


def _mutations(rng: random.Random, data: str) -> str:
    """One random change a feed could make: whitespace, quotes, references, order."""
    choice = rng.randrange(6)
    if choice == 0:  # whitespace inside a tag
        spots = [i for i, c in enumerate(data) if c == " " and data[i - 1] == '"']
        if spots:
            i = rng.choice(spots)
            return data[:i] + rng.choice(["  ", "\n ", "\t", "\r\n"]) + data[i + 1 :]
    if choice == 1:  # single quotes around one value
        starts = [i for i, c in enumerate(data) if c == '"' and data[i - 1] == "="]
        if starts:
            i = rng.choice(starts)
            j = data.index('"', i + 1)
            if "'" not in data[i:j]:
                return data[:i] + "'" + data[i + 1 : j] + "'" + data[j + 1 :]
    if choice == 2:  # a character reference for a letter or digit
        spots = [i for i, c in enumerate(data) if c.isalnum() and data[i - 1] not in "<&#/"]
        if spots:
            i = rng.choice(spots)
            return data[:i] + f"&#{ord(data[i])};" + data[i + 1 :]
    if choice == 3:  # text between tags
        spots = [i for i, c in enumerate(data) if c == "<" and i > 60]
        if spots:
            i = rng.choice(spots)
            return data[:i] + rng.choice(['"', "x", "&amp;", " \r\n "]) + data[i:]
    if choice == 4:  # "/>" and " />"
        return (
            data.replace(" />", "/>", 1) if rng.random() < 0.5 else data.replace('"/>', '" />', 1)
        )
    return data.replace('votes="', 'votes="0', 1)  # a leading zero


TEMPLATE = body(
    contest(
        '<County name="Appling" votes="10" /><County name="Bacon Ñ" votes="5"/>\r\n'
        '<County name="Chattahoochee County" votes="123456789" />',
        start='<Contest key="{key}" text="Governor"><ParticipatingCounties>'
        '<County name="Appling" precinctsParticipating="9" precinctsReported="4" x="1" />'
        "</ParticipatingCounties>",
        more='<Choice key="11" text="NOBODY" totalVotes="0" />',
    )
    + contest('<Precinct name="P1" votes="3"/>', key="2"),
    head="<Timestamp>8/8/2018 3:49:07 PM EDT</Timestamp><Region>GA</Region>"
    '<VoterTurnout><Precincts><Precinct name="P1" totalVoters="0" ballotsCast="1" '
    'voterTurnout="0" percentReporting="3" /></Precincts></VoterTurnout>',
).decode()


@pytest.mark.parametrize("seed", range(40))
def test_random_layouts_read_the_same(seed: int) -> None:
    rng = random.Random(seed)
    data = TEMPLATE
    for _ in range(rng.randrange(1, 4)):
        data = _mutations(rng, data)
    encoded = data.encode()
    try:
        check_document(encoded)
    except FeedError:
        return  # (a mutation the parser refuses: nothing to compare)
    same(encoded)
    same(encoded, lambda key, text: key == "2")


def test_the_careful_reader_alone_reads_every_template_layout() -> None:
    doc = read_careful(TEMPLATE.encode(), ALL)
    assert [c.key for c in doc.contests] == ["1", "2"]
    assert not declines(TEMPLATE.encode())


def test_the_first_quote_in_a_word_is_found_byte_for_byte() -> None:
    rng = np.random.default_rng(7)
    raw = rng.choice(np.array([34, 0, 1, 33, 35, 127, 128, 162, 255], dtype=np.uint8), 8 * 5000)
    found = fast_module._first_quote(raw.view("<u8")).tolist()
    rows = raw.reshape(-1, 8).tolist()
    assert found == [row.index(34) if 34 in row else 8 for row in rows]


@pytest.mark.parametrize("few", [0, 1 << 20])
def test_long_values_read_by_window_or_word_alike(
    monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """A few long values are read as one window, many a word at a time: the same ends,
    the same words (the names' codes rest on them)."""
    texts = [("x" * n).encode() for n in (0, 7, 8, 15, 16, 40, 100, 229, 230, 300)]
    data = b" ".join(b'"' + t + b'"' for t in texts)
    buf = fast_module.padded(data)
    start = np.array([m.start() + 1 for m in re.finditer(rb'"x*"', data)]) + fast_module.PAD
    monkeypatch.setattr(fast_module, "_FEW", few)
    monkeypatch.setattr(fast_module, "_ROUNDS", 1)
    columns, end, closed = fast_module._quoted(buf, start)
    monkeypatch.setattr(fast_module, "_FEW", 1 << 20)
    words, end_words, closed_words = fast_module._quoted(buf, start)
    assert (end == end_words).all() and (closed == closed_words).all()
    assert all((a == b).all() for a, b in zip(columns, words, strict=True))
    assert (end - start)[closed].tolist() == [
        len(t) for t in texts if len(t) < fast_module._LONGEST
    ]


# ------------------------------------------------------------------ hostile bytes
# With the helper process, the fast reader reads a body before the safety pass has
# accepted it: whatever the bytes, it reads them or declines, in bounded time and memory.


def test_a_character_reference_with_many_leading_zeros_is_read() -> None:
    zeros = "&#" + "0" * 5000 + "65;"  # (valid XML: int() alone refuses 4,300+ digits)
    data = body(contest(start='<Contest key="{key}" text="' + zeros + '">'))
    check_document(data)
    same(data)
    assert read_fast(data, ALL).contests[0].text == "A"


@pytest.mark.parametrize(
    "data",
    [
        body(contest(start='<Contest key="{key}" text="&#99999999999999999999;">')),
        body(contest(start='<Contest key="{key}" text="&#x110000;">')),
        body(head="<ElectionName>caf\xe9</ElectionName>").replace("é".encode(), b"\xe9"),
        body(contest(start='<Contest key="{key}" text="' + "x" * 300 + '\xe9">')).replace(
            "é".encode(), b"\xe9"
        ),
    ],
    ids=["huge decimal", "past U+10FFFF", "bad UTF-8 in a text", "bad UTF-8 in a long value"],
)
def test_bytes_that_are_not_xml_are_declined_not_raised(data: bytes) -> None:
    with pytest.raises(FeedError):
        check_document(data)
    assert declines(data)
    same(data)


def test_a_body_dense_in_tags_is_declined_before_its_arrays_grow() -> None:
    import tracemalloc

    data = body(tail="<a/>" * 1_000_000)  # 4 MB, 1M tags (Clarity: one in 55-85 bytes)
    tracemalloc.start()
    try:
        assert declines(data)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 12 * len(data)  # (read on: ~150 bytes a tag, 37x the body)


def test_many_long_lists_alike_only_at_their_ends_are_each_read() -> None:
    """Lists of one length and tail but other bytes: each read as itself (not compared
    with every earlier one: that was quadratic in their number)."""

    def county_list(i: int) -> str:
        entries = [
            f'<County name="C{i if j == 3 else j:06d}" precinctsParticipating="3" '
            'precinctsReported="2" />'
            for j in range(16)
        ]
        return f"<ParticipatingCounties>{''.join(entries)}</ParticipatingCounties>"

    contests = "\n".join(
        contest(key=str(i), start='<Contest key="{key}" text="Race">' + county_list(i))
        for i in range(3 * fast_module._ALIKE)
    )
    data = body(contests)
    check_document(data)
    assert not same(data)  # (read the fast way)
    doc = read_fast(data, ALL)
    usual = {f"C{j:06d}" for j in range(16)} - {"C000003"}
    assert [set(c.reporting) - usual for c in doc.contests] == [
        {f"C{i:06d}"} - usual for i in range(3 * fast_module._ALIKE)
    ]
