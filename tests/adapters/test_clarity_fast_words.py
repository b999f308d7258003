"""The byte-level primitives of the fast Clarity reader (adapters/buffer_words.py) against
plain Python on the same bytes, and the layouts its newer paths read or decline
(adapters/clarity_fast.py)."""

from __future__ import annotations

import numpy as np
import pytest

import adapters.buffer_words as words_module
import adapters.clarity_fast as fast_module
from adapters.spans import PAD, padded
from tests.adapters.test_clarity_speed_paths import body, contest, declines, same


def _buffer(data: bytes) -> np.ndarray:
    return words_module.padded_copy(data)


def test_the_padded_buffer_is_the_shared_one() -> None:
    data = b'<a b="c">\x00\xff'
    assert np.array_equal(words_module.padded_copy(data), padded(data))
    assert np.array_equal(words_module.padded_copy(b""), padded(b""))


@pytest.mark.parametrize("block", [8, 64, 1 << 19])
@pytest.mark.parametrize("wordwise", [0, 1 << 16])
def test_positions_are_every_byte_found(
    monkeypatch: pytest.MonkeyPatch, block: int, wordwise: int
) -> None:
    """Word by word or byte by byte, in blocks of any size: several hits in one word, hits
    at block edges, a start inside a word."""
    monkeypatch.setattr(words_module, "BLOCK", block)
    monkeypatch.setattr(words_module, "WORDWISE", wordwise)
    rng = np.random.default_rng(block + wordwise)
    for _ in range(200):
        size = int(rng.integers(0, 2000))
        data = rng.choice(np.array([60, 60, 60, 1, 0, 255], dtype=np.uint8), size).tobytes()
        buf = _buffer(data)
        start = int(rng.integers(0, size + 2 * PAD))
        expected = np.flatnonzero(buf == 60)
        found = words_module.byte_positions(buf, start, 60)
        assert found.tolist() == expected[expected >= start].tolist()
        # The body's own bytes, unpadded: any length, hits in its last, partial word.
        raw = np.frombuffer(data, dtype=np.uint8)
        start = int(rng.integers(0, size + 1))
        expected = np.flatnonzero(raw == 60)
        found = words_module.byte_positions(raw, start, 60)
        assert found.tolist() == expected[expected >= start].tolist()


@pytest.mark.parametrize("size", range(1, 33))
def test_equal_compares_byte_for_byte(size: int) -> None:
    rng = np.random.default_rng(size)
    expected = rng.integers(1, 4, size, dtype=np.uint8).tobytes()
    data = rng.integers(1, 4, 4000, dtype=np.uint8).tobytes()
    data = data[:100] + expected + data[100:]  # (one certain match)
    buf = _buffer(data)
    at = np.arange(len(data)) + PAD
    found = words_module.same_bytes_at(buf, at, expected)
    assert found.tolist() == [data[i : i + size] == expected for i in range(len(data))]
    assert words_module.same_bytes_at(buf, at[:0], expected).tolist() == []


def test_the_bytes_before_the_first_quote_are_masked() -> None:
    rng = np.random.default_rng(3)
    raw = rng.choice(np.array([34, 0, 1, 35, 128, 255], dtype=np.uint8), 8 * 3000)
    quote, mask = words_module.quote_mask(raw.view("<u8"))
    rows = raw.reshape(-1, 8).tolist()
    at = [row.index(34) if 34 in row else 8 for row in rows]
    assert quote.tolist() == at
    assert mask.tolist() == [(1 << (8 * k)) - 1 for k in at]


# ------------------------------------------------------------------ participating counties


def _taking_part(entries: str, key: str = "1") -> str:
    return contest(
        start='<Contest key="{key}" text="X"><ParticipatingCounties>'
        + entries
        + "</ParticipatingCounties>",
        key=key,
    )


def _entry(name: str, taking: str = "2", reported: str = "1") -> str:
    return (
        f'<County name="{name}" precinctsParticipating="{taking}" precinctsReported="{reported}" />'
    )


@pytest.mark.parametrize(
    "data",
    [
        # One county, other figures in another contest; the same list twice; one repeated.
        body(_taking_part(_entry("A") + _entry("B")) + _taking_part(_entry("A", "3"), key="2")),
        body(_taking_part(_entry("A") + _entry("B")) + _taking_part(_entry("A") + _entry("B"))),
        body(_taking_part(_entry("A") + _entry("A", "5", "4"))),
        # References and long values, spelled one way.
        body(_taking_part(_entry("A&amp;B") + _entry("Caf&#xe9;", "1" * 30))),
        body(_taking_part(_entry("A&amp;B") + _entry("A&amp;B", "3"))),
        body(_taking_part(_entry("x" * 40) + _entry("x" * 39 + "y"))),
    ],
)
def test_participating_counties_the_fast_reader_reads(data: bytes) -> None:
    assert not same(data)
    assert not same(data, lambda key, text: key == "2")


@pytest.mark.parametrize(
    "data",
    [
        # Two spellings of one name (in one contest or two), of one figure.
        body(_taking_part(_entry("A&amp;B") + _entry("A&#38;B", "3"))),
        body(_taking_part(_entry("A&amp;B")) + _taking_part(_entry("A&#38;B"), key="2")),
        body(_taking_part(_entry("A", "&#50;") + _entry("B", "2"))),
        # A closing unit tag among the entries.
        body(
            contest(
                start='<Contest key="{key}" text="X"><ParticipatingCounties>'
                '<County name="A" precinctsParticipating="2" precinctsReported="1"></County>'
                "</ParticipatingCounties>"
            )
        ),
    ],
)
def test_participating_counties_the_fast_reader_declines(data: bytes) -> None:
    assert same(data)


def test_units_take_the_state_of_the_next_other_tag() -> None:
    """Cells just before a vote type's end, the choice's end and another contest; units
    outside any container are neither cells nor entries."""
    data = body(
        '<County name="Lost" votes="1" />'
        + contest('<County name="A" votes="1" />')
        + '<County name="Between" votes="2" />'
        + contest('<Precinct name="P" votes="3"/>', key="2")
    )
    assert not same(data)
    doc = fast_module.read_fast(data, lambda key, text: True)
    assert list(doc.unit_names) == ["A", "P"] and doc.vote_texts.numbers.tolist() == [1, 3]
    assert not declines(data, lambda key, text: key == "2")


def _count_padded_copies(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    made: list[int] = []
    real = fast_module.padded_copy

    def counted(data: bytes) -> np.ndarray:
        made.append(len(data))
        return real(data)

    monkeypatch.setattr(fast_module, "padded_copy", counted)
    return made


def test_the_body_is_read_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """No padded copy where every read stays inside the body; the root's end, read past
    by the name check of longer names (ElectionVoterTurnout), is no reason for one."""
    made = _count_padded_copies(monkeypatch)
    assert not same(body())
    assert made == []


@pytest.mark.parametrize(
    "name",
    [
        "A precinct with a name longer than thirty-two bytes",
        "Ünïcödé precinct whose name runs past four words &amp; more",
    ],
)
def test_a_long_value_at_the_end_is_read_from_a_padded_copy(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The last cell's long name: its window is read past the body's end, so the body is
    read again from a padded copy, with the careful reader's result."""
    made = _count_padded_copies(monkeypatch)
    # No closing tags after the last cell but the root's: as near the end as it can be.
    data = (
        '<?xml version="1.0"?><ElectionResult><Contest key="1" text="G"><Choice key="1" '
        f'text="A" totalVotes="1"><VoteType name="Day" votes="1"><Precinct name="{name}" '
        'votes="1"/></VoteType></Choice></Contest></ElectionResult>'
    ).encode()
    assert not same(data)  # (read twice there: with the careful reader, and alone)
    assert made == [len(data)] * 2


@pytest.mark.parametrize(
    "data",
    [
        b"<ElectionResult/>",
        b"<ElectionResult />\n",
        b'<ElectionResult><Contest key="1" text="G"><Choice key="1" text="A"/></Contest>'
        b"<Choice/></ElectionResult>",
    ],
)
def test_tiny_or_odd_endings_read_as_the_careful_reader_does(data: bytes) -> None:
    """A root alone (shorter than a name's window) and a bare tag near the end: the
    careful reader's answer or error, never a NumPy error."""
    same(data)
