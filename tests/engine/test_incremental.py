"""Incremental assess: starting from the previous poll's result must change nothing.

``assess(snapshot, previous, election, prior=result)`` recomputes only the units whose
inputs changed and copies the rest; the property test checks, over random snapshots and
random edits (cells, units added, removed and moved, seats, turnout figures, thresholds,
the party columns), that it equals the full ``assess`` exactly: values, dtypes and order.
"""

from __future__ import annotations

import gc
import weakref
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nightdesk.results as results_module
from nightdesk import config as cfg
from nightdesk import formats
from nightdesk.config import ElectionConfig
from nightdesk.formats import ParseContext
from nightdesk.model import Snapshot
from nightdesk.polling import _parse_and_assess
from nightdesk.results import RaceResult, assess
from nightdesk.seats import METHODS, TIE_RULES, SeatRules

SETTINGS = settings(
    derandomize=True,
    deadline=None,
    max_examples=40,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
UTC_ZONE = ZoneInfo("UTC")

# ----------------------------------------------------------------------------- helpers


def assert_same(inc: RaceResult, full: RaceResult) -> None:
    """Every table of both results equal: values, dtypes, index and column order."""
    a, b = inc.allocation, full.allocation
    frames = [
        (a.seats, b.seats),
        (a.eligible, b.eligible),
        (a.margins, b.margins),
        (a.next_seat, b.next_seat),
        (inc.decided, full.decided),
        (inc.delta.cells, full.delta.cells),
        (inc.delta.figures, full.delta.figures),
    ]
    for x, y in frames:
        pd.testing.assert_frame_equal(x, y, check_exact=True)
        assert list(x.columns) == list(y.columns) and list(x.index) == list(y.index)
    pd.testing.assert_series_equal(a.undecided, b.undecided, check_exact=True)
    pd.testing.assert_series_equal(inc.seats, full.seats, check_exact=True)
    assert dict(a.last_seat) == dict(b.last_seat)
    assert inc.delta.appeared == full.delta.appeared
    assert inc.delta.vanished == full.delta.vanished
    assert inc.snapshot is full.snapshot and inc.previous is full.previous


def snapshot(votes: pd.DataFrame, units: pd.DataFrame | None = None, *, at: int = 0) -> Snapshot:
    return Snapshot.build(
        source="t",
        votes=votes,
        units=units,
        fetched_at=datetime(2013, 7, 28, 12, at % 60, tzinfo=UTC),
    )


# ----------------------------------------------------------------------------- strategies

FIGURES = ("seats", "registered", "ballots_cast", "blank", "valid", "invalid", "reporting")


@st.composite
def vote_value(draw: st.DrawFn) -> float:
    """Small counts (ties are frequent), sometimes large ones, sometimes not reported."""
    kind = draw(st.sampled_from(["small", "small", "small", "large", "na"]))
    if kind == "na":
        return np.nan
    if kind == "large":
        return float(draw(st.integers(0, 2_000_000)))
    return float(draw(st.integers(0, 40)))


@st.composite
def unit_figures(draw: st.DrawFn, total: int) -> dict[str, float]:
    """One unit's figures, each maybe missing; turnout figures consistent enough to matter."""
    out: dict[str, float] = {}
    if draw(st.integers(0, 5)):
        out["seats"] = float(draw(st.integers(0, 7)))
    if draw(st.booleans()):
        out["registered"] = float(total + draw(st.integers(0, 60)))
    if draw(st.integers(0, 3)) == 0:
        out["ballots_cast"] = float(total + draw(st.integers(0, 10)))
    if draw(st.integers(0, 3)) == 0:
        out["blank"] = float(draw(st.integers(0, 10)))
    if draw(st.integers(0, 4)) == 0:
        out["valid"] = float(total + draw(st.integers(0, 10)))
    if draw(st.integers(0, 4)) == 0:
        out["invalid"] = float(draw(st.integers(0, 5)))
    if draw(st.integers(0, 2)) == 0:
        out["reporting"] = draw(st.sampled_from([0.0, 0.5, 1.0]))
    return out


def tables(
    votes: dict[str, list[float]], figures: dict[str, dict[str, float]]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    ids = list(figures)
    v = pd.DataFrame({p: col for p, col in votes.items()}, index=ids, dtype="float64")
    u = pd.DataFrame.from_dict(figures, orient="index").reindex(index=ids, columns=FIGURES)
    return v, u.astype("float64")


@st.composite
def first_tables(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_units = draw(st.integers(1, 9))
    n_parties = draw(st.integers(1, 5))
    ids = [f"u{i}" for i in range(n_units)]
    parties = [f"P{i}" for i in range(n_parties)]
    votes = {p: [draw(vote_value()) for _ in ids] for p in parties}
    figures = {
        u: draw(unit_figures(int(np.nansum([votes[p][i] for p in parties]))))
        for i, u in enumerate(ids)
    }
    return tables(votes, figures)


@st.composite
def edited(
    draw: st.DrawFn, v: pd.DataFrame, u: pd.DataFrame, serial: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``v``, ``u`` after 1–4 random edits of the kinds a feed makes between polls."""
    v, u = v.copy(), u.copy()
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(
            st.sampled_from(
                ["cell", "cell", "cell", "figure", "seats", "add", "remove", "move", "party"]
            )
        )
        if kind == "cell" and len(v):
            i = draw(st.integers(0, len(v) - 1))
            j = draw(st.integers(0, v.shape[1] - 1))
            v.iat[i, j] = draw(vote_value())
        elif kind in ("figure", "seats") and len(u):
            i = draw(st.integers(0, len(u) - 1))
            name = "seats" if kind == "seats" else draw(st.sampled_from(FIGURES[1:]))
            total = int(np.nansum(v.iloc[i].to_numpy()))
            value = draw(
                st.sampled_from(
                    [np.nan, 0.0, 1.0, 3.0, 6.0]
                    if name == "seats"
                    else [np.nan, 0.0, 0.5, 1.0]
                    if name == "reporting"
                    else [np.nan, float(total), float(total + 7), float(total + 40)]
                )
            )
            u.iat[i, FIGURES.index(name)] = value
        elif kind == "add":
            new = f"n{serial}_{len(v)}"
            row = [draw(vote_value()) for _ in v.columns]
            v.loc[new] = row
            u.loc[new] = pd.Series(draw(unit_figures(int(np.nansum(row))))).reindex(FIGURES)
        elif kind == "remove" and len(v) > 1:
            drop = v.index[draw(st.integers(0, len(v) - 1))]
            v, u = v.drop(index=drop), u.drop(index=drop)
        elif kind == "move" and len(v) > 1:
            order = draw(st.permutations(list(v.index)))
            v, u = v.loc[order], u.loc[order]
        elif kind == "party":
            if draw(st.booleans()) or v.shape[1] == 1:
                v[f"Q{serial}"] = [draw(vote_value()) for _ in v.index]
            else:
                v = v[list(reversed(v.columns))]
    return v, u


@st.composite
def rules_for(draw: st.DrawFn, method: str) -> SeatRules:
    return SeatRules(
        method=method,  # type: ignore[arg-type]
        threshold=draw(st.sampled_from([0.0, 0.0, 0.05, 0.2])),
        national_threshold=draw(st.sampled_from([0.0, 0.0, 0.1, 0.3])),
        tie=draw(st.sampled_from(TIE_RULES)),  # type: ignore[arg-type]
    )


def run_polls(data: st.DataObject, election: ElectionConfig, polls: int) -> None:
    """A night of ``polls`` polls: each assessed incrementally and in full, compared."""
    v, u = data.draw(first_tables())
    prev = snapshot(v, u)
    prior = assess(prev, None, election)
    assert_same(prior, assess(prev, None, election))
    for serial in range(1, polls):
        v, u = data.draw(edited(v, u, serial))
        snap = snapshot(v, u, at=serial)
        inc = assess(snap, prev, election, prior=prior)
        assert_same(inc, assess(snap, prev, election))
        prev, prior = snap, inc


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=st.data())
def test_incremental_equals_full_for_every_method(method: str, data: st.DataObject) -> None:
    rules = data.draw(rules_for(method))
    seats = data.draw(st.sampled_from([{}, {"u0": 2, "u1": 5}]))
    election = ElectionConfig(name="t", timezone=UTC_ZONE, rules=rules, seats=seats)
    run_polls(data, election, polls=4)


@SETTINGS
@given(data=st.data())
def test_incremental_equals_full_under_a_national_threshold(data: st.DataObject) -> None:
    method = data.draw(st.sampled_from(METHODS))
    rules = SeatRules(
        method=method,  # type: ignore[arg-type]
        national_threshold=data.draw(st.sampled_from([0.05, 0.15, 0.3])),
        threshold=data.draw(st.sampled_from([0.0, 0.1])),
    )
    election = ElectionConfig(name="t", timezone=UTC_ZONE, rules=rules)
    run_polls(data, election, polls=5)


@SETTINGS
@given(data=st.data())
def test_a_change_of_rules_between_polls_computes_everything(data: st.DataObject) -> None:
    v, u = data.draw(first_tables())
    before = snapshot(v, u)
    one = ElectionConfig(name="t", timezone=UTC_ZONE, rules=data.draw(rules_for("dhondt")))
    other = ElectionConfig(
        name="t",
        timezone=UTC_ZONE,
        rules=data.draw(rules_for(data.draw(st.sampled_from(METHODS)))),
    )
    prior = assess(before, None, one)
    v2, u2 = data.draw(edited(v, u, 1))
    after = snapshot(v2, u2, at=1)
    assert_same(assess(after, before, other, prior=prior), assess(after, before, other))


# ----------------------------------------------------------------------------- examples


def big_table(n: int = 60, seed: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = [f"u{i:03d}" for i in range(n)]
    v = pd.DataFrame(rng.integers(0, 5_000, size=(n, 4)), index=ids, columns=["A", "B", "C", "D"])
    u = pd.DataFrame(
        {"seats": rng.integers(1, 9, size=n), "registered": v.sum(axis=1) + 500}, index=ids
    )
    return v, u


def spy_rows(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Rows given to the allocation on each call (the full one counts them all)."""
    calls: list[int] = []
    real = results_module.allocate_arrays

    def spy(v: np.ndarray, *args: object, **kwargs: object) -> object:
        calls.append(len(v))
        return real(v, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(results_module, "allocate_arrays", spy)
    return calls


def test_only_the_changed_units_are_allocated_again(monkeypatch: pytest.MonkeyPatch) -> None:
    v, u = big_table()
    election = ElectionConfig(name="t", timezone=UTC_ZONE)
    a = snapshot(v, u)
    prior = assess(a, None, election)
    v2 = v.copy()
    v2.iat[3, 1] += 10
    v2.iat[40, 2] += 1
    b = snapshot(v2, u, at=1)
    calls = spy_rows(monkeypatch)
    inc = assess(b, a, election, prior=prior)
    assert calls == [2]
    assert_same(inc, assess(b, a, election))
    # Nothing changed at all: nothing is allocated, the tables are still all there.
    calls.clear()
    again = assess(b, b, election, prior=inc)
    assert calls == []
    assert_same(again, assess(b, b, election))


def test_a_party_crossing_the_national_threshold_reallocates_every_unit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = [f"u{i}" for i in range(6)]
    v = pd.DataFrame({"A": [100] * 6, "B": [80] * 6, "C": [9] * 6}, index=ids)
    u = pd.DataFrame({"seats": [3] * 6}, index=ids)
    rules = SeatRules(method="dhondt", national_threshold=0.05)
    election = ElectionConfig(name="t", timezone=UTC_ZONE, rules=rules)
    a = snapshot(v, u)
    prior = assess(a, None, election)
    assert not prior.allocation.eligible["C"].any()  # 54 of 1,134: under 5 %
    v2 = v.copy()
    v2.iat[0, 2] = 60  # 105 of 1,185: over it, in every unit
    b = snapshot(v2, u, at=1)
    calls = spy_rows(monkeypatch)
    inc = assess(b, a, election, prior=prior)
    assert calls == [6]
    assert inc.allocation.eligible["C"].all()
    assert_same(inc, assess(b, a, election))


def test_a_result_does_not_keep_the_one_before_it_alive() -> None:
    v, u = big_table(20)
    election = ElectionConfig(name="t", timezone=UTC_ZONE)
    a = snapshot(v, u)
    first = assess(a, None, election)
    v2 = v.copy()
    v2.iat[0, 0] += 1
    second = assess(snapshot(v2, u, at=1), a, election, prior=first)
    gone = weakref.ref(first)
    del first
    gc.collect()
    assert gone() is None  # no chain of results: history is not kept in memory
    assert second.previous is a


def test_result_tables_are_read_only_so_the_next_poll_can_trust_them() -> None:
    v, u = big_table(10)
    r = assess(snapshot(v, u), None, ElectionConfig(name="t", timezone=UTC_ZONE))
    with pytest.raises(ValueError, match="read-only"):
        r.allocation.seats.iloc[0, 0] = 99
    assert r.inputs is not None and not r.inputs.decided.flags.writeable


CSV = "unit,party,votes,seats\n" + "".join(
    f"U{u},{p},{(u * 37 + i * 101) % 500},{1 + u % 5}\n"
    for u in range(30)
    for i, p in enumerate(["A", "B", "C"])
)


def test_the_poller_assesses_each_race_from_its_previous_result(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = cfg.parse(
        """
[election]
name = "test"
[[sources]]
name = "nec"
url = "r.csv"
format = "csv"
[sources.columns]
unit = "unit"
party = "party"
votes = "votes"
seats = "seats"
""",
        path=Path.cwd() / "x.toml",
    )
    source = config.sources[0]
    fmt = formats.load("csv")
    ctx = ParseContext(source="nec", fetched_at=datetime.now(UTC), columns=source.columns)
    (first,), changed = _parse_and_assess(fmt, CSV.encode(), ctx, {}, config)
    assert changed
    body = CSV.replace("U7,B,", "U7,B,1").encode()
    priors: list[RaceResult | None] = []
    real = results_module.assess

    def spy(*args: object, prior: RaceResult | None = None) -> RaceResult:
        priors.append(prior)
        return real(*args, prior=prior)  # type: ignore[arg-type]

    monkeypatch.setattr("nightdesk.polling.assess", spy)
    (second,), changed = _parse_and_assess(fmt, body, ctx, {"": first}, config)
    assert changed and priors == [first]
    assert second.previous is first.snapshot
    assert list(second.delta.cells["unit"]) == ["U7"]
    assert_same(second, real(second.snapshot, first.snapshot, config.election))
    # The same counts again: nothing to assess.
    assert _parse_and_assess(fmt, body, ctx, {"": second}, config) == ((), False)


def test_assess_without_a_prior_is_unchanged_for_scripts() -> None:
    v, u = big_table(12)
    election = ElectionConfig(name="t", timezone=UTC_ZONE)
    r = assess(snapshot(v, u), None, election)
    assert r.previous is None and r.delta.before is None
    assert r.allocation.seats.dtypes.unique().tolist() == [np.dtype("int64")]
    assert replace(r, inputs=None).allocation is r.allocation
