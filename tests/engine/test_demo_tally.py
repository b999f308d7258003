"""The demo's second and third sources over real HTTP on 127.0.0.1: the opposition's parallel
tally (it disagrees with the official count in known provinces by known amounts) and its seat
claim (CNRP 63), read and compared by the engine as ``nightdesk demo`` reads them."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import numpy as np
import pandas as pd
import pytest

from nightdesk.compare import compare_sources, count_of, national_seats
from nightdesk.demo.night import Night
from nightdesk.demo.server import DemoFeedServer
from nightdesk.demo.settings import demo_config
from nightdesk.demo.tally import Tally
from nightdesk.polling import Poller
from nightdesk.seat_claim import claimed_seats

#: Tally − official, at the end of the night, written out here independently of the code.
EXPECTED = {
    ("Takeo", "CNRP"): 890,
    ("Takeo", "CPP"): -1_694,
    ("Kampong Cham", "CNRP"): 1_240,
    ("Kampong Cham", "CPP"): -615,
    ("Kandal", "CNRP"): 371,
    ("Prey Veng", "CNRP"): 508,
    ("Prey Veng", "CPP"): -212,
}


class FakeClock:
    """A monotonic clock the test moves by hand; from 0 so simulated times are exact."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def feed(clock: FakeClock) -> Iterator[DemoFeedServer]:
    with DemoFeedServer(port=0, clock=clock) as server:
        yield server


@pytest.fixture
def client(feed: DemoFeedServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=feed.url, timeout=5.0) as c:
        yield c


def read(client: httpx.Client, path: str) -> pd.DataFrame:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.headers["x-nightdesk-simulated"] == "true"
    return pd.read_csv(io.StringIO(response.text), dtype={"votes": "Int64"})


def differences(official: pd.DataFrame, tally: pd.DataFrame) -> dict[tuple[str, str], int]:
    """Every nonzero tally − official, keyed by the official province name."""
    tally = tally.replace({"province": {"Kompong Cham": "Kampong Cham"}})
    both = official.merge(tally, on=["province", "party"], suffixes=("", "_tally"))
    assert len(both) == len(official) == len(tally)
    diff = both["votes_tally"] - both["votes"]
    nonzero = both[diff != 0].assign(diff=diff[diff != 0])
    return {(r.province, r.party): int(r.diff) for r in nonzero.itertuples()}


def test_the_tally_at_the_end_differs_exactly_where_and_by_how_much_chosen(
    client: httpx.Client, clock: FakeClock
) -> None:
    clock.now = 180.0
    official, tally = read(client, "/results.csv"), read(client, "/tally.csv")
    assert list(tally.columns) == ["province", "party", "votes", "seats", "reporting"]
    assert differences(official, tally) == EXPECTED
    assert "Kompong Cham" in set(tally["province"]) and "Kampong Cham" not in set(tally["province"])
    assert (tally["reporting"] == 1.0).all()
    assert tally["seats"].tolist() == official["seats"].tolist()


def test_the_tally_moves_with_the_count(client: httpx.Client, clock: FakeClock) -> None:
    clock.now = 0.0
    assert read(client, "/tally.csv")["votes"].isna().all()
    clock.now = 90.0  # small provinces done, Takeo and Kampong Cham still counting
    official, tally = read(client, "/results.csv"), read(client, "/tally.csv")
    assert (official["reporting"] == tally["reporting"]).all()
    assert (official["votes"].isna() == tally["votes"].isna()).all()
    partway = differences(official, tally)
    assert set(partway) <= set(EXPECTED)
    for key, change in partway.items():  # the same sign, not yet the whole amount
        assert 0 < change / EXPECTED[key] < 1


def test_the_claim_is_cnrp_63_and_never_changes(
    feed: DemoFeedServer, client: httpx.Client, clock: FakeClock
) -> None:
    first = client.get("/claim.csv")
    assert first.status_code == 200 and first.text == "party,seats\nCNRP,63\n"
    clock.now = 180.0
    again = client.get("/claim.csv", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


def test_the_root_and_404_name_every_path(client: httpx.Client) -> None:
    text = client.get("/").text
    assert "/tally.csv" in text and "/claim.csv" in text and "INVENTED" in text
    missing = client.get("/nothing")
    assert missing.status_code == 404
    assert all(p in missing.text for p in ("/results.csv", "/tally.csv", "/claim.csv"))


@pytest.mark.parametrize("seed", [2013, 7, 147])
def test_only_the_revision_lowers_the_tally_and_the_typo_is_not_in_it(seed: int) -> None:
    night = Night(seed)
    tally = Tally(night)
    frames = [tally.frame(v) for v in range(len(night.event_times) + 1)]
    votes = np.stack([f["votes"].to_numpy(dtype=np.float64, na_value=0.0) for f in frames])
    down = np.argwhere(np.diff(votes, axis=0) < 0)
    assert {float(night.event_times[v]) for v, _ in down} <= {night.revision_time}
    at_typo = night.state_at(night.typo_time)
    typo_rows = (at_typo["province"] == night.typo_province) & (at_typo["party"] == "CPP")
    official = int(at_typo.loc[typo_rows, "votes"].iloc[0])
    assert int(tally.state_at(night.typo_time).loc[typo_rows, "votes"].iloc[0]) == official - 1_000
    assert differences(night.final(), tally.final()) == EXPECTED


async def test_the_demo_config_reads_and_compares_all_three_sources(clock: FakeClock) -> None:
    """As ``nightdesk demo`` polls them: seats 68–55 (official), 67–56 (the tally: Kandal's
    7th seat), CNRP 63 (the claim); Kompong Cham is matched through ``[aliases]``."""
    with DemoFeedServer(port=0, clock=clock) as server:
        clock.now = 180.0
        config = demo_config(server.url)
        async with Poller(config) as poller:
            states = await poller.poll_all_once()
    assert [s.name for s in config.sources] == ["demo", "tally", "claim"]
    assert all(s.health.last_error is None for s in states.values())
    counts = [count_of(states[s.name].results[0]) for s in config.sources]
    claim = claimed_seats(states["claim"].results[0].snapshot)
    assert claim is not None and claim[1].to_dict() == {"CNRP": 63}
    seats = national_seats(counts, config.aliases)
    assert {p: n for p, n in seats["demo"].items() if n} == {"CPP": 68, "CNRP": 55}
    assert {p: n for p, n in seats["tally"].items() if n} == {"CPP": 67, "CNRP": 56}
    assert seats["claim"] == {"CNRP": 63}

    found = compare_sources(counts, config.aliases)
    assert found.unmatched == ()
    assert found.units.index[:4].tolist() == ["Takeo", "Kampong Cham", "Prey Veng", "Kandal"]
    assert found.disagreeing == 4  # the claim is national: it disagrees in no unit
    cells = found.cells
    assert cells.loc[("Takeo", "CPP"), ("tally", "votes_diff")] == -1_694
    assert cells.loc[("Takeo", "CNRP"), ("tally", "votes_diff")] == 890
    assert cells.loc[("Kandal", "CNRP"), ("tally", "seats_diff")] == 1
    assert found.national.loc["CNRP", ("claim", "seats_diff")] == 8
