"""Clarity contests made into Snapshots all at once (one pass over the document): each
contest's Snapshot is the one it gets read alone, and the shortcuts taken for the whole
document (numbering units without hashing, checks skipped when nothing can fail, stated
figures compared as two lists) give what the slow way gives."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from adapters import clarity_cubes
from adapters.clarity import CLARITY_FORMAT
from adapters.clarity_cubes import _digits, first_seen
from adapters.clarity_tables import _all_stated
from nightdesk.errors import FeedError
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot

CTX = ParseContext(source="s", fetched_at=datetime(2026, 11, 3, 20, tzinfo=UTC))


def parse(body: bytes, **options: Any) -> list[Snapshot]:
    ctx = ParseContext(source=CTX.source, fetched_at=CTX.fetched_at, options=options)
    return CLARITY_FORMAT.parse(body, ctx)


def contest(key: str, choices: str, text: str | None = None) -> str:
    return f'<Contest key="{key}" text="{text or "Contest " + key}">{choices}</Contest>'


def choice(key: str, *types: str, total: str | None = None) -> str:
    stated = f' totalVotes="{total}"' if total is not None else ""
    return f'<Choice key="{key}" text="Choice {key}" party="REP"{stated}>{"".join(types)}</Choice>'


def vt(name: str, cells: dict[str, int], votes: str | None = None) -> str:
    """A vote type's cells; its stated votes their sum unless given."""
    stated = votes if votes is not None else str(sum(cells.values()))
    inner = "".join(f'<County name="{u}" votes="{v}" />' for u, v in cells.items())
    return f'<VoteType name="{name}" votes="{stated}">{inner}</VoteType>'


def document(*contests: str) -> bytes:
    return (
        '<?xml version="1.0"?>\n<ElectionResult>\n'
        "  <Timestamp>8/8/2018 3:49:07 PM EDT</Timestamp>\n  <Region>GA</Region>\n"
        + "\n".join(contests)
        + "\n</ElectionResult>\n"
    ).encode()


#: Contests in several shapes: units first named in different orders, a contest without
#: cells between two with cells, a choice without cells, the same choice key in two
#: contests, two vote types, a figure stated as the sum in another spelling.
MIXED = document(
    contest(
        "1",
        choice("10", vt("Election Day", {"B": 1, "A": 2}), vt("Absentee", {"A": 3, "C": 4}))
        + choice("11", vt("Election Day", {"C": 5, "B": 6}), vt("Absentee", {"A": 0})),
    ),
    contest("2", choice("10", vt("Election Day", {}, votes="7")) + choice("12", total="9")),
    contest(
        "3",
        choice("10", vt("Early", {"C": 1, "A": 1}, votes="002"))
        + choice("13", vt("Early", {"A": 5})),
        text="Ballot\u0085question",
    ),
    contest("4", choice("14", vt("Election Day", {"Z": 8, "A": 9}))),
)


def tables(snap: Snapshot) -> tuple[Any, ...]:
    vote_types = snap.vote_types or {}
    return (snap.votes, snap.units, snap.parties, {k: v.to_dict() for k, v in vote_types.items()})


def test_each_contest_is_what_it_is_read_alone() -> None:
    together = parse(MIXED)
    assert [s.race.id for s in together if s.race] == ["1", "2", "3", "4"]
    for snap in together:
        assert snap.race is not None
        (alone,) = parse(MIXED, contests=[snap.race.id])
        assert snap.race == alone.race
        assert snap.counts_token() == alone.counts_token()
        for mine, theirs in zip(tables(snap), tables(alone), strict=True):
            if isinstance(mine, pd.DataFrame):
                pd.testing.assert_frame_equal(mine, theirs)
            else:
                assert mine == theirs
    first, whole, third, _ = together
    assert list(first.votes.index) == ["B", "A", "C"]  # first named first
    assert whole.votes["10"].to_dict() == {"GA": 7} and whole.votes["12"].isna().all()
    assert third.race is not None and third.race.name == "Ballot\ufffdquestion"


def test_a_choice_key_twice_in_one_contest_is_refused_when_others_share_keys() -> None:
    body = document(
        contest("1", choice("10", vt("Election Day", {"A": 1}))),
        contest("2", choice("11", vt("Election Day", {"A": 1})) * 2),
    )
    with pytest.raises(FeedError, match="contest '2' lists a choice key twice"):
        parse(body)


def test_stated_figures_that_differ_are_reported_once(caplog: pytest.LogCaptureFixture) -> None:
    body = document(
        contest("1", choice("10", vt("Election Day", {"A": 1, "B": 2}, votes="4"))),
        contest("2", choice("11", vt("Election Day", {"A": 1}), total="5")),
        contest("3", choice("12", vt("Election Day", {"A": 1}, votes="01"), total="1")),
    )
    with caplog.at_level(logging.WARNING):
        parse(body)
    (line,) = [r.getMessage() for r in caplog.records]
    assert "2 clarity contest(s) disagree" in line
    assert (
        "contest '1' (Contest 1): 'Choice 10' Election Day votes 4 but its units sum to 3" in line
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        parse(MIXED)  # "002" is 2, written otherwise: not a disagreement
    assert not caplog.records


@pytest.mark.parametrize("seed", range(6))
def test_first_seen_numbers_keys_as_factorize_does(seed: int) -> None:
    rng = np.random.default_rng(seed)
    size = int(rng.integers(1, 500))
    keys = rng.integers(0, size, int(rng.integers(0, 2000))).astype(np.int64)
    codes, uniques = first_seen(keys, size)
    want_codes, want_uniques = pd.factorize(keys)
    assert codes.tolist() == want_codes.tolist()
    assert uniques.tolist() == want_uniques.tolist()


def test_a_sparse_key_range_is_hashed(monkeypatch: pytest.MonkeyPatch) -> None:
    keys = np.array([10**9, 3, 10**9, 7, 3], dtype=np.int64)
    codes, uniques = first_seen(keys, 10**9 + 1)  # far too large for a table
    assert codes.tolist() == [0, 1, 0, 2, 1] and uniques.tolist() == [10**9, 3, 7]
    # The reference files read the same either way.
    dense = [tables(s) for s in parse(MIXED)]
    monkeypatch.setattr(clarity_cubes, "DENSE_KEYS", 0)
    hashed = [tables(s) for s in parse(MIXED)]
    for a, b in zip(dense, hashed, strict=True):
        pd.testing.assert_frame_equal(a[0], b[0])
        assert a[3] == b[3]


@pytest.mark.parametrize(
    ("stated", "same"),
    [
        (["15", "0", "007"], True),  # the figures, however written in digits
        (["15", "0", "8"], False),
        (["15", None, "7"], False),  # not given: looked at one by one
        (["15", "", "7"], False),
        (["15", "0,7"], False),  # a comma inside a text must not shift the others
        (["15", " 0", "7"], False),
        (["15", "\u0660", "7"], False),  # digits, but not ASCII ones
        (["15", "0", "18446744073709551623"], False),  # past int64 (2**64 + 7)
    ],
)
def test_stated_texts_are_their_figures_only_when_plain_digits(
    stated: list[str | None], same: bool
) -> None:
    assert _all_stated(stated, np.array([15, 0, 7])) is same
    assert _all_stated([], np.zeros(0, dtype=np.int64))


@pytest.mark.parametrize(
    "texts",
    [
        ["1", "2"],
        ["007", "0", "00000000000000000000001"],
        ["1", ""],
        ["", "1"],
        ["1,2"],
        ["1", "2,"],
        ["\u0663"],
        [" 1"],
        ["+1"],
        [str(2**63 - 1)],
        [str(2**63)],
    ],
)
def test_vote_texts_read_at_once_only_when_each_is_plain_digits(texts: list[str]) -> None:
    numbers = _digits(texts)
    plain = all(t.isascii() and t.isdigit() for t in texts)
    if numbers is None:
        assert not plain or any(int(t) >= 2**63 - 1 for t in texts)
    else:
        assert plain and numbers.tolist() == [int(t) for t in texts]
