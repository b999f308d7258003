"""The simulated night keeps every public fact of 2013 and moves the way a real night does."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nightdesk.demo.definition import PARTIES, PROVINCES
from nightdesk.demo.night import COLUMNS, LAST_BATCH_BY, Correction, Night

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SEATS_CSV = SHARED / "data" / "cambodia-2013" / "seats_by_province.csv"

SMALL = [p.id for p in PARTIES if p.id not in ("CPP", "CNRP")]


def dhondt(votes: dict[str, int], seats: int) -> dict[str, int]:
    """Textbook D'Hondt, written independently of the code under test (ties: more votes)."""
    won = dict.fromkeys(votes, 0)
    for _ in range(seats):
        best = max(votes, key=lambda p: (votes[p] / (won[p] + 1), votes[p]))
        won[best] += 1
    return won


def votes_of(frame: pd.DataFrame, province: str) -> dict[str, int]:
    rows = frame[frame["province"] == province]
    return {party: int(v) for party, v in zip(rows["party"], rows["votes"], strict=True)}


def kandal_margin(frame: pd.DataFrame) -> int:
    """Fewest extra CNRP votes for a 7th Kandal seat, found by D'Hondt itself."""
    votes = votes_of(frame, "Kandal")
    assert dhondt(votes, 11)["CNRP"] == 6
    x = 7 * votes["CPP"] // 5 - votes["CNRP"] + 1
    assert dhondt({**votes, "CNRP": votes["CNRP"] + x}, 11)["CNRP"] == 7
    assert dhondt({**votes, "CNRP": votes["CNRP"] + x - 1}, 11)["CNRP"] == 6
    return x


# 2013 is the default night; in 147 Kandal's revision lowers its ballots cast as well.
@pytest.fixture(scope="module", params=[2013, 7, 147])
def night(request: pytest.FixtureRequest) -> Night:
    return Night(request.param)


@pytest.fixture(scope="module")
def frames(night: Night) -> list[pd.DataFrame]:
    """The state before the first event and after every event."""
    return [night.state_at(0.0)] + [night.state_at(t) for t in night.event_times]


def test_same_seed_same_night() -> None:
    a, b = Night(2013), Night(2013)
    np.testing.assert_array_equal(a.event_times, b.event_times)
    assert a.corrections == b.corrections
    for t in (0.0, 12.5, 70.0, 101.0, 174.9, 176.0, 500.0):
        pd.testing.assert_frame_equal(a.state_at(t), b.state_at(t))


def test_other_seed_other_night() -> None:
    a, b = Night(2013).final(), Night(7).final()
    assert not a["votes"].equals(b["votes"])
    assert not a["registered"].equals(b["registered"])


def test_any_seed_keeps_the_public_facts() -> None:
    for seed in range(40):
        night = Night(seed)  # refuses to build a night that contradicts a fact
        assert kandal_margin(night.final()) == 166
        assert 850 <= kandal_margin(night.before_revision()) <= 899


def test_final_table_shape(night: Night) -> None:
    final = night.final()
    assert tuple(final.columns) == COLUMNS
    assert len(final) == 24 * 8
    assert list(final["province"].unique()) == [p.name for p in PROVINCES]
    assert set(final["party"]) == {p.id for p in PARTIES}
    assert final["votes"].dtype == "Int64"
    assert not final.isna().any().any()
    units = final.drop_duplicates("province")
    assert units["seats"].sum() == 123
    assert (units["reporting"] == 1.0).all()


@pytest.mark.parametrize("stage", ["before_revision", "final"])
def test_dhondt_gives_the_real_split(night: Night, stage: str) -> None:
    frame = getattr(night, stage)()
    national = dict.fromkeys([p.id for p in PARTIES], 0)
    for p in PROVINCES:
        won = dhondt(votes_of(frame, p.name), p.seats)
        assert (won["CPP"], won["CNRP"]) == (p.cpp_seats, p.cnrp_seats), p.name
        for party, seats in won.items():
            national[party] += seats
    assert national == {"CPP": 68, "CNRP": 55, **dict.fromkeys(SMALL, 0)}


def test_national_figures(night: Night) -> None:
    final = night.final()
    totals = final.groupby("party")["votes"].sum()
    assert totals["CPP"] == 3_235_969
    assert totals["CNRP"] == 2_946_176
    assert 0.02 < totals[SMALL].sum() / totals.sum() < 0.08
    units = final.drop_duplicates("province")
    assert units["registered"].sum() == 9_675_453
    assert 0.66 < units["ballots_cast"].sum() / units["registered"].sum() < 0.71
    party_votes = final.groupby("province", sort=False)["votes"].sum().to_numpy()
    assert (units["ballots_cast"].to_numpy() >= party_votes).all()
    single = units[units["seats"] == 1]["registered"]
    assert single.max() < 1.5 * units["registered"].sum() / 123
    assert single.nunique() == len(single)


def test_kandal_margins(night: Night) -> None:
    assert 850 <= kandal_margin(night.before_revision()) <= 899
    assert kandal_margin(night.final()) == 166


def test_late_revision(night: Night) -> None:
    early, final = night.before_revision(), night.final()
    assert (early["reporting"] == 1.0).all()
    change = (final["votes"] - early["votes"]).to_numpy().reshape(24, 8)
    change = pd.DataFrame(
        change, index=[p.name for p in PROVINCES], columns=[p.id for p in PARTIES]
    )
    assert change.loc["Takeo", "CNRP"] == 890
    assert change.loc["Takeo", "CPP"] == 1_694
    assert change.loc["Kratie", "CPP"] == 1_532
    assert change.loc["Kratie", "CNRP"] == 297
    assert 0 < change.loc["Kandal", "CNRP"] < 500
    assert change.loc["Kandal", "CPP"] < 0
    others = change.drop(index=["Takeo", "Kratie", "Kandal"])
    assert (others == 0).all().all()
    assert (change[SMALL] == 0).all().all()
    assert night.version_at(night.revision_time) == night.version_at(night.revision_time - 1) + 1


def test_reporting_goes_from_nothing_to_everything(
    night: Night, frames: list[pd.DataFrame]
) -> None:
    start = frames[0]
    assert (start["reporting"] == 0).all()
    assert start["votes"].isna().all() and start["ballots_cast"].isna().all()
    reporting = np.array([f["reporting"].to_numpy()[::8] for f in frames])  # (event, province)
    assert (np.diff(reporting, axis=0) >= 0).all()
    # A province's votes are reported exactly when some of its batches are.
    for f in frames[:: max(1, len(frames) // 40)]:
        assert (f["votes"].isna() == (f["reporting"] == 0)).all()
    done = np.argmax(reporting == 1.0, axis=0)  # first frame at 100 %
    assert (reporting[-1] == 1.0).all()
    finished_at = np.array([night.event_times[i - 1] for i in done])
    assert finished_at.max() <= LAST_BATCH_BY
    assert len(np.unique(finished_at)) >= 20
    seats = np.array([p.seats for p in PROVINCES])
    assert finished_at[seats >= 8].mean() > finished_at[seats == 1].mean() + 20


def test_night_is_paced_over_three_minutes(night: Night) -> None:
    def share(t: float) -> float:
        return float(night.state_at(t).drop_duplicates("province")["reporting"].mean())

    assert night.length == 180.0
    assert share(1.0) == 0.0
    assert 0.0 < share(30.0) < share(60.0) < share(90.0) < share(120.0) < 1.0
    assert share(LAST_BATCH_BY) == 1.0


def test_counts_only_go_down_in_the_intended_corrections(
    night: Night, frames: list[pd.DataFrame]
) -> None:
    names = [p.name for p in PROVINCES]
    fields = [*[p.id for p in PARTIES], "ballots_cast"]
    counts = np.array(
        [
            np.column_stack(
                [
                    f["votes"].fillna(0).to_numpy(dtype=np.int64).reshape(24, 8),
                    f["ballots_cast"].fillna(0).to_numpy(dtype=np.int64)[::8],
                ]
            )
            for f in frames
        ]
    )
    step = np.diff(counts, axis=0)
    event, province, field = np.nonzero(step < 0)
    found = {
        (float(night.event_times[e]), names[p], fields[f], int(step[e, p, f]))
        for e, p, f in zip(event, province, field, strict=True)
    }
    intended = {(c.time, c.province, c.field, c.change) for c in night.corrections}
    assert found == intended
    typo = [c for c in night.corrections if c.change == -1_000]
    assert len(typo) == 1 and typo[0].field == "CPP" and 100 < typo[0].time < 130
    assert any(
        c.province == "Kandal" and c.field == "CPP" and c.time == night.revision_time
        for c in night.corrections
    )


def typo_fix(night: Night) -> Correction:
    (fix,) = [c for c in night.corrections if c.change == -1_000]
    return fix


def province_counts(frame: pd.DataFrame) -> np.ndarray:
    """(province, party votes + ballots cast + reporting), not reported as 0."""
    return np.column_stack(
        [
            frame["votes"].fillna(0).to_numpy(dtype=np.int64).reshape(24, 8),
            frame["ballots_cast"].fillna(0).to_numpy(dtype=np.int64)[::8],
            np.rint(frame["reporting"].to_numpy()[::8] * 10_000).astype(np.int64),
        ]
    )


def test_typo_goes_in_alone_and_comes_out_alone(night: Night) -> None:
    fix = typo_fix(night)
    assert night.typo_province == fix.province
    assert fix.time == pytest.approx(night.typo_time + 10.0, abs=0.01)
    row = [p.name for p in PROVINCES].index(fix.province)
    for at, change in ((night.typo_time, 1_000), (fix.time, -1_000)):
        assert night.version_at(at) == night.version_at(at - 1e-4) + 1
        step = province_counts(night.state_at(at)) - province_counts(night.state_at(at - 1e-4))
        expected = np.zeros_like(step)
        expected[row, 0] = change  # CPP only: not ballots cast, not reporting, no one else
        np.testing.assert_array_equal(step, expected)


def test_typo_is_in_a_finished_province_quiet_around_both_typo_and_fix(night: Night) -> None:
    fix = typo_fix(night)
    row = [p.name for p in PROVINCES].index(fix.province)
    assert fix.province not in ("Takeo", "Kratie", "Kandal")  # untouched by the revision
    assert PROVINCES[row].seats == 1  # so the typo never moves a seat

    def counts(at: float) -> np.ndarray:
        return province_counts(night.state_at(at))[row]

    typo, quiet = night.typo_time, 5.0
    assert counts(typo - quiet)[-1] == 10_000  # 100 % reporting before the typo
    np.testing.assert_array_equal(counts(typo - quiet), counts(typo - 1e-4))
    np.testing.assert_array_equal(counts(typo), counts(fix.time - 1e-4))
    np.testing.assert_array_equal(counts(fix.time), counts(fix.time + quiet))
    np.testing.assert_array_equal(counts(fix.time), counts(night.length))
    assert 100.0 < typo < fix.time < 130.0  # mid-night: the big provinces are still counting
    assert night.state_at(fix.time)["reporting"].min() < 1.0


@pytest.mark.parametrize("offset", [0.0, 0.5, 1.0, 1.5])
def test_a_two_second_poller_sees_the_typo_its_fix_and_kandals_revision(
    night: Night, offset: float
) -> None:
    """At speed 1 the monitor polls every 2 s: both corrections must show as counts going down."""
    fix = typo_fix(night)
    names = [p.name for p in PROVINCES]
    row, kandal = names.index(fix.province), names.index("Kandal")
    polls = np.arange(offset, night.length + 2.0, 2.0)
    counts = np.array([province_counts(night.state_at(float(t))) for t in polls])
    steps = np.diff(counts, axis=0)  # (poll, province, field)
    clean = np.zeros(steps.shape[2], dtype=np.int64)
    seen = {tuple(step) for step in steps[:, row]}
    assert tuple(clean + np.eye(len(clean), dtype=np.int64)[0] * 1_000) in seen  # CPP +1,000
    assert tuple(clean - np.eye(len(clean), dtype=np.int64)[0] * 1_000) in seen  # and back
    (kandal_cpp,) = [
        c.change for c in night.corrections if c.province == "Kandal" and c.field == "CPP"
    ]
    assert kandal_cpp in set(steps[:, kandal, 0].tolist())


def test_versions_count_events_and_the_night_ends(night: Night) -> None:
    assert night.version_at(-5.0) == 0
    assert night.version_at(night.event_times[0]) == 1
    assert night.version_at(night.length) == len(night.event_times)
    assert night.version_time(0) == 0.0
    assert night.version_time(3) == night.event_times[2]
    assert night.event_times[-1] < night.length
    pd.testing.assert_frame_equal(night.state_at(night.length), night.state_at(10_000.0))
    pd.testing.assert_frame_equal(night.state_at(night.length), night.final())


def test_state_at_is_fast() -> None:
    night = Night()
    started = time.perf_counter()
    for t in np.linspace(0.0, 180.0, 200):
        night.state_at(float(t))
    assert (time.perf_counter() - started) / 200 < 0.005


def test_definition_matches_shared_reference_data() -> None:
    if not SEATS_CSV.exists():
        pytest.skip(f"shared reference data not found at {SEATS_CSV} (only in the project's CI)")
    shared = pd.read_csv(SEATS_CSV)
    ours = pd.DataFrame(
        [(p.name, p.seats, p.cpp_seats, p.cnrp_seats) for p in PROVINCES],
        columns=["province", "seats", "cpp_seats", "cnrp_seats"],
    )
    pd.testing.assert_frame_equal(ours, shared, check_dtype=False)
    final = Night().final().drop_duplicates("province")
    assert list(final["province"]) == list(shared["province"])
    assert list(final["seats"]) == list(shared["seats"])


def test_the_engines_seat_allocation_agrees(night: Night) -> None:
    """What the monitor will show: 68–55, and Kandal's last seat 166 votes from moving."""
    seats_module = pytest.importorskip("nightdesk.seats")
    for frame, kandal in ((night.before_revision(), None), (night.final(), 166)):
        votes = frame.pivot(index="province", columns="party", values="votes")
        seats = frame.drop_duplicates("province").set_index("province")["seats"]
        allocation = seats_module.allocate(votes, seats)
        assert allocation.totals()[["CPP", "CNRP"]].tolist() == [68, 55]
        last = allocation.last_seat["Kandal"]
        assert (last.holder, last.challenger) == ("CPP", "CNRP")
        assert last.votes_needed == (kandal or kandal_margin(frame))
