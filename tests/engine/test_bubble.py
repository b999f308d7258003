from __future__ import annotations

import pandas as pd

from nightdesk import Snapshot
from nightdesk import config as cfg
from nightdesk.bubble import if_closest_flipped, seats_on_the_bubble
from nightdesk.results import assess

ELECTION = cfg.parse(
    '[election]\nname = "t"\n[[sources]]\nname = "s"\nurl = "x.csv"\nformat = "csv"\n'
    '[sources.columns]\nunit = "u"\nparties = "*"\n'
).election


def result():  # type: ignore[no-untyped-def]
    votes = pd.DataFrame(
        {"CPP": [259_586, 381_755, 9_000], "CNRP": [363_255, 461_864, 9_500]},
        index=["Kandal", "Kampong Cham", "Kep"],
    )
    units = pd.DataFrame({"seats": [11, 18, 1]}, index=votes.index)
    return assess(Snapshot.build(source="s", votes=votes, units=units), None, ELECTION)


def test_closest_seats_first() -> None:
    bubble = seats_on_the_bubble(result())
    assert list(bubble["unit"]) == ["Kandal", "Kep", "Kampong Cham"]
    kandal = bubble.iloc[0]
    assert (kandal["holder"], kandal["challenger"], kandal["votes_needed"]) == ("CPP", "CNRP", 166)
    assert bubble.iloc[1]["votes_needed"] == 501  # Kep: 9,000 + 500 would only tie 9,500
    assert list(bubble.columns) == [
        "unit", "name", "holder", "challenger", "votes_needed", "holder_can_lose",
    ]  # fmt: skip


def test_what_if_the_closest_flipped() -> None:
    r = result()
    base = r.allocation.totals().to_dict()
    assert base == {"CPP": 13, "CNRP": 17}
    assert if_closest_flipped(r, 0).to_dict() == base
    assert if_closest_flipped(r, 1).to_dict() == {"CPP": 12, "CNRP": 18}  # Kandal: CPP → CNRP
    assert if_closest_flipped(r, 2).to_dict() == {"CPP": 13, "CNRP": 17}  # Kep: CNRP → CPP
    assert sum(if_closest_flipped(r, 3).to_dict().values()) == 30
