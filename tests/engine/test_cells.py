"""Snapshots as changed cells: the diff, the encoding and the rebuild must round-trip exactly,
and the history replayed from the cells must say what :func:`nightdesk.delta.compare` says."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nightdesk import cells
from nightdesk.delta import compare
from nightdesk.model import CALLS, PARTY_COLUMNS, UNIT_FIGURES, Race, Snapshot

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

UNITS = ["u1", "u2", "ភ្នំពេញ", "Kâmpóng Cham", "São Tomé", "x"]
PARTIES = ["CPP", "CNRP", "FUNCINPEC", "Đảng"]
COUNTS = ("seats", "registered", "ballots_cast", "valid", "blank", "invalid")
TEXT = st.one_of(st.none(), st.text(alphabet=st.sampled_from(list("abXY éàüñ-ក្ខគស៊ី")), max_size=6))
CELL = st.one_of(st.none(), st.integers(0, 40), st.sampled_from([10**12 - 1]))
REPORTING = st.sampled_from([None, 0.0, 0.125, 1.0, 0.3])
CALL = st.one_of(st.none(), st.sampled_from(CALLS))
T0 = datetime(2013, 7, 28, 10, 0, tzinfo=UTC)


@st.composite
def specs(draw: st.DrawFn) -> dict:
    """One snapshot as plain data: units and parties in order, every cell, every label."""
    units = draw(st.permutations(UNITS).map(lambda p: p[: draw(st.integers(0, len(UNITS)))]))
    parties = draw(st.permutations(PARTIES).map(lambda p: p[: draw(st.integers(0, len(PARTIES)))]))
    return {
        "units": list(units),
        "parties": list(parties),
        "votes": {(u, p): draw(CELL) for u in units for p in parties},
        "figures": {
            u: {
                **{f: draw(st.one_of(st.none(), st.integers(0, 900))) for f in COUNTS},
                "reporting": draw(REPORTING),
            }
            for u in units
        },
        "unit_labels": {u: (draw(TEXT), draw(TEXT)) for u in units},
        "party_labels": {p: (draw(TEXT), draw(TEXT), draw(TEXT), draw(CALL)) for p in parties},
    }


def build(spec: dict, at: datetime, race: Race | None = None, source: str = "nec") -> Snapshot:
    units, parties = spec["units"], spec["parties"]
    votes = pd.DataFrame(
        {p: pd.array([spec["votes"][u, p] for u in units], dtype="Int64") for p in parties},
        index=pd.Index(units, dtype=object),
        columns=pd.Index(parties, dtype=object),
    )
    table = pd.DataFrame(
        {
            "name": pd.array([spec["unit_labels"][u][0] for u in units], dtype="string"),
            "parent": pd.array([spec["unit_labels"][u][1] for u in units], dtype="string"),
            **{
                f: pd.array(
                    [spec["figures"][u][f] for u in units],
                    dtype="Float64" if f == "reporting" else "Int64",
                )
                for f in UNIT_FIGURES
            },
        },
        index=pd.Index(units, dtype=object),
    )
    labels = pd.DataFrame(
        {
            col: pd.array([spec["party_labels"][p][j] for p in parties], dtype="string")
            for j, col in enumerate(PARTY_COLUMNS)
        },
        index=pd.Index(parties, dtype=object),
    )
    published = at - timedelta(seconds=30) if units else None
    return Snapshot.build(
        source=source,
        votes=votes,
        units=table,
        parties=labels,
        fetched_at=at,
        published_at=published,
        race=race,
    )


@st.composite
def tweak(draw: st.DrawFn, spec: dict) -> dict:
    """``spec`` with a few cells, figures or labels changed (units and parties kept)."""
    spec = {k: (dict(v) if isinstance(v, dict) else list(v)) for k, v in spec.items()}
    spec["figures"] = {u: dict(f) for u, f in spec["figures"].items()}
    for _ in range(draw(st.integers(1, 3))):
        what = draw(st.sampled_from(["vote", "figure", "unit label", "party label", "call"]))
        if what == "vote" and spec["votes"]:
            spec["votes"][draw(st.sampled_from(sorted(spec["votes"])))] = draw(CELL)
        elif what == "figure" and spec["units"]:
            unit = draw(st.sampled_from(spec["units"]))
            figure = draw(st.sampled_from(UNIT_FIGURES))
            value = draw(REPORTING if figure == "reporting" else st.integers(0, 900))
            spec["figures"][unit][figure] = value
        elif what == "unit label" and spec["units"]:
            spec["unit_labels"][draw(st.sampled_from(spec["units"]))] = (draw(TEXT), draw(TEXT))
        elif what == "party label" and spec["parties"]:
            party = draw(st.sampled_from(spec["parties"]))
            spec["party_labels"][party] = (draw(TEXT), draw(TEXT), draw(TEXT), draw(CALL))
        elif what == "call" and spec["parties"]:
            party = draw(st.sampled_from(spec["parties"]))
            spec["party_labels"][party] = (*spec["party_labels"][party][:3], draw(CALL))
    return spec


@st.composite
def nights(draw: st.DrawFn, max_steps: int = 6) -> list[Snapshot]:
    """A night of one source and race: fresh tables (units and parties appear, vanish and
    return, in any order), small edits, race calls made and withdrawn, repeats that differ
    only in time, and a race whose results are marked as test data, then not (or again)."""
    named = draw(st.booleans())
    out: list[Snapshot] = []
    spec: dict | None = None
    for k in range(draw(st.integers(1, max_steps))):
        mode = "fresh" if spec is None else draw(st.sampled_from(["fresh", "tweak", "repeat"]))
        if mode == "fresh":
            spec = draw(specs())
        elif mode == "tweak":
            spec = draw(tweak(spec))
        assert spec is not None
        race = Race("senate", "Senate ព្រឹទ្ធសភា", test=draw(st.booleans())) if named else None
        out.append(build(spec, T0 + timedelta(minutes=k), race))
    return out


def assert_same(rebuilt: Snapshot, original: Snapshot) -> None:
    assert rebuilt.votes.equals(original.votes)
    assert rebuilt.units.equals(original.units)
    assert rebuilt.parties.equals(original.parties)
    assert list(rebuilt.votes.index) == list(original.votes.index)
    assert rebuilt.votes.index.dtype == original.votes.index.dtype
    assert rebuilt.race == original.race
    assert rebuilt.source == original.source
    assert rebuilt.fetched_at == original.fetched_at
    assert rebuilt.published_at == original.published_at
    assert rebuilt.content_key() == original.content_key()


def run(night: list[Snapshot]) -> list[cells.Batch]:
    """Diff each snapshot against the previous one, through the encoding, as the store does."""
    state: cells.State | None = None
    batches: list[cells.Batch] = []
    for s in night:
        d = cells.diff(state, s)
        state = d.state
        batches.append(cells.Batch.decode(d.batch.encode()))
    return batches


def rebuild(batches: list[cells.Batch], like: Snapshot) -> Snapshot:
    state = cells.rebuild(
        batches,
        source=like.source,
        fetched_at=like.fetched_at,
        published_at=like.published_at,
        race=like.race,
    )
    return state.snapshot


# ----------------------------------------------------------------------------- properties


@SETTINGS
@given(night=nights())
def test_every_snapshot_of_a_night_rebuilds_exactly(night: list[Snapshot]) -> None:
    batches = run(night)
    for k, original in enumerate(night):
        state = cells.rebuild(
            batches[: k + 1],
            source=original.source,
            fetched_at=original.fetched_at,
            published_at=original.published_at,
            race=original.race,
        )
        assert_same(state.snapshot, original)
        if k + 1 < len(night):
            # After a restart the next diff starts from the rebuilt state: same cells.
            again = cells.diff(state, night[k + 1]).batch
            assert_same_batch(again, batches[k + 1])


@SETTINGS
@given(night=nights())
def test_a_compacted_chain_rebuilds_and_continues_like_its_batches(
    night: list[Snapshot],
) -> None:
    """A reader keeps a stream's batches folded into one and reads only the later ones:
    every split of the night must rebuild the same snapshot, through the encoding too."""
    batches = run(night)
    for cut in range(1, len(batches) + 1):
        folded = cells.compact(batches[:cut])
        folded = cells.Batch.decode(folded.encode())
        assert folded.cells <= sum(b.cells for b in batches[:cut])
        for k in range(cut - 1, len(night)):
            assert_same(rebuild([folded, *batches[cut : k + 1]], night[k]), night[k])
        # Folding a fold with what follows is the same as folding it all.
        again = cells.compact([folded, *batches[cut:]])
        assert_same(rebuild([again], night[-1]), night[-1])


def test_a_compacted_chain_keeps_one_cell_per_key_however_long_the_night() -> None:
    """The fold grows with the table, not with the number of snapshots."""
    night = [one({"A": [i, 2 * i], "B": [1, i]}, ["u", "v"]) for i in range(1, 200)]
    batches = run(night)
    folded = cells.compact(batches)
    assert folded.cells == cells.compact(batches[:2]).cells
    assert_same(rebuild([folded], night[-1]), night[-1])


def assert_same_batch(a: cells.Batch, b: cells.Batch) -> None:
    assert a.new_units == b.new_units and a.new_parties == b.new_parties
    for name in ("unit_order", "party_order"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None)
        assert x is None or x.tolist() == y.tolist()
    for name in ("kind", "unit", "item", "value", "null", "label_kind", "label_unit", "label_item"):
        assert getattr(a, name).tolist() == getattr(b, name).tolist(), name
    assert a.labels == b.labels


@SETTINGS
@given(night=nights())
def test_counts_and_history_agree_with_compare(night: list[Snapshot]) -> None:
    state: cells.State | None = None
    diffs = []
    for after in night:
        d = cells.diff(state, after)
        state = d.state
        diffs.append(d)
    assert state is not None
    names = state.names
    steps = list(cells.replay([d.batch for d in diffs]))
    for k in range(1, len(night)):
        delta = compare(night[k - 1], night[k])
        assert diffs[k].cells_changed == len(delta.cells)
        assert diffs[k].corrections == len(delta.corrections) + len(delta.vanished)
        step = steps[k]
        units = names.units.to_numpy(dtype=object)
        parties = names.parties.to_numpy(dtype=object)
        vote = step.kind == cells.VOTE
        got = {
            (units[u], parties[i], None if bn else int(b), None if an else int(a), bool(c))
            for u, i, b, bn, a, an, c in zip(
                step.unit[vote],
                step.item[vote],
                step.before[vote],
                step.before_null[vote],
                step.after[vote],
                step.after_null[vote],
                step.correction[vote],
                strict=True,
            )
        }
        want = {
            (
                r.unit,
                r.party,
                None if pd.isna(r.before) else int(r.before),
                None if pd.isna(r.after) else int(r.after),
                bool(r.correction),
            )
            for r in delta.cells.itertuples()
        }
        assert got == want
        fig = step.kind == cells.FIGURE
        got_figs = {
            (units[u], UNIT_FIGURES[i], bool(c))
            for u, i, c in zip(step.unit[fig], step.item[fig], step.correction[fig], strict=True)
        }
        want_figs = {(r.unit, r.figure, bool(r.correction)) for r in delta.figures.itertuples()}
        assert got_figs == want_figs
        gone = {units[u] for u in step.unit[step.kind == cells.WITHDRAWN]}
        assert gone == set(delta.vanished)


# ----------------------------------------------------------------------------- examples


def one(votes: dict[str, list[object]], ids: list[str], **kw: object) -> Snapshot:
    frame = pd.DataFrame(votes, index=ids, dtype="Int64")
    return Snapshot.build(source="nec", votes=frame, fetched_at=T0, **kw)  # type: ignore[arg-type]


def test_a_small_change_writes_only_its_cells() -> None:
    rng = np.random.default_rng(1)
    ids = [f"U{i:04d}" for i in range(1_000)]
    grid = rng.integers(0, 50_000, size=(1_000, 8))
    first = one({f"P{j}": grid[:, j] for j in range(8)}, ids)
    grid[[3, 500, 999], [0, 4, 7]] += 1
    second = one({f"P{j}": grid[:, j] for j in range(8)}, ids)
    d0 = cells.diff(None, first)
    assert d0.batch.cells == 1_000 * (8 + len(UNIT_FIGURES) + 2) + 8 * len(PARTY_COLUMNS)
    d1 = cells.diff(d0.state, second)
    assert d1.batch.cells == 3 and d1.cells_changed == 3 and d1.corrections == 0
    assert d1.batch.unit_order is None and d1.batch.party_order is None
    assert len(d1.batch.encode()) < 200


def test_a_race_call_is_one_text_cell() -> None:
    ids = [f"U{i:04d}" for i in range(1_000)]
    votes = {f"P{j}": list(range(j, j + 1_000)) for j in range(8)}
    called = pd.DataFrame({"called": ["winner", "runoff"]}, index=["P2", "P5"])
    first = one(votes, ids)
    second = one(votes, ids, parties=called)
    d0 = cells.diff(None, first)
    d1 = cells.diff(d0.state, second)
    assert d1.batch.cells == 2 and d1.batch.labels == ["winner", "runoff"]
    assert d1.cells_changed == 0 and d1.corrections == 0
    assert len(d1.batch.encode()) < 200
    back = rebuild([d0.batch, d1.batch], second)
    assert back.parties["called"].tolist() == [pd.NA, pd.NA, "winner"] + [pd.NA] * 2 + [
        "runoff",
        pd.NA,
        pd.NA,
    ]
    assert_same(back, second)
    withdrawn = cells.diff(d1.state, first)  # the feed takes the call back: one cell each
    assert withdrawn.batch.cells == 2 and withdrawn.batch.labels == [None, None]
    assert_same(rebuild([d0.batch, d1.batch, withdrawn.batch], first), first)


def test_batches_from_before_race_calls_rebuild_with_no_calls() -> None:
    """A batch of store schema 1 knew three party columns and wrote no ``called`` cells."""
    first = one({"A": [1], "B": [2]}, ["u"])
    batch = cells.diff(None, first).batch
    keep = batch.label_item < 3
    old = cells.Batch(
        **{
            **batch.__dict__,
            "label_kind": batch.label_kind[keep],
            "label_unit": batch.label_unit[keep],
            "label_item": batch.label_item[keep],
            "labels": [t for t, k in zip(batch.labels, keep, strict=True) if k],
            "party_columns": 3,
        }
    )
    data = old.encode()
    assert cells.Batch.decode(data).party_columns == 3
    back = rebuild([cells.Batch.decode(data)], first)
    assert back.parties["called"].isna().all()
    assert_same(back, first)
    # Today's batches must cover every party column: a missing call is damage, not "none".
    new = cells.Batch(**{**old.__dict__, "party_columns": len(PARTY_COLUMNS)})
    with pytest.raises(ValueError, match="do not cover"):
        rebuild([new], first)


def test_a_unit_that_returns_does_not_bring_back_its_old_values() -> None:
    units = pd.DataFrame({"seats": [3, 5], "name": ["Takeo", "Kandal"]}, index=["t", "k"])
    night = [
        one({"A": [10, 20]}, ["t", "k"], units=units),
        one({"A": [11]}, ["t"]),
        one({"A": [11, None]}, ["t", "k"]),
    ]
    batches = run(night)
    back = rebuild(batches, night[2])
    assert back.votes.at["k", "A"] is pd.NA
    assert back.units.at["k", "seats"] is pd.NA
    assert back.units.at["k", "name"] == "k"  # its id: the old name is not resurrected
    assert_same(back, night[2])


def test_not_reported_is_stored_as_null_not_zero() -> None:
    first = one({"A": [0, None]}, ["u", "v"])
    d = cells.diff(None, first)
    votes = d.batch.kind == cells.VOTE
    assert d.batch.null[votes].tolist() == [False, True]
    assert d.batch.value[votes].tolist()[0] == 0


def test_a_label_change_is_one_text_cell() -> None:
    a = one({"A": [1]}, ["u"], units=pd.DataFrame({"name": ["Kândal"]}, index=["u"]))
    b = one({"A": [1]}, ["u"], units=pd.DataFrame({"name": ["កណ្ដាល"]}, index=["u"]))
    d0 = cells.diff(None, a)
    d1 = cells.diff(d0.state, b)
    assert len(d1.batch.kind) == 0 and d1.batch.labels == ["កណ្ដាល"]
    assert d1.cells_changed == 0
    assert_same(rebuild([d0.batch, d1.batch], b), b)


def test_the_order_of_units_and_parties_is_kept() -> None:
    a = one({"A": [1, 2], "B": [3, 4]}, ["u", "v"])
    b = one({"B": [4, 3], "A": [2, 1]}, ["v", "u"])
    d0 = cells.diff(None, a)
    d1 = cells.diff(d0.state, b)
    assert d1.batch.cells == 0 and d1.batch.unit_order is not None
    back = rebuild([d0.batch, d1.batch], b)
    assert list(back.votes.index) == ["v", "u"] and list(back.votes.columns) == ["B", "A"]


def test_a_damaged_batch_is_refused() -> None:
    d = cells.diff(None, one({"A": [1]}, ["u"]))
    data = bytearray(d.batch.encode())
    data[-3] ^= 0xFF
    with pytest.raises((zlib.error, ValueError)):
        cells.Batch.decode(bytes(data))
