"""The ``claim`` format: a seat claim given as a small table, from the config to the poller."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest

from nightdesk import config as cfg
from nightdesk import formats
from nightdesk.errors import ConfigError, FeedError
from nightdesk.polling import Poller
from nightdesk.seat_claim import ClaimSnapshot

NOW = datetime(2013, 7, 28, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def claim_format(monkeypatch: pytest.MonkeyPatch) -> None:
    """The format by its entry point; an install made before the entry point was declared
    (pyproject.toml) gets it here until it is installed again."""
    if "claim" not in formats.available():
        found = dict(formats.available())
        found["claim"] = EntryPoint(
            "claim", "adapters.seat_claim:CLAIM_FORMAT", formats.ENTRY_POINT_GROUP
        )
        monkeypatch.setattr(formats, "available", lambda: found)


def config(tmp_path: Path, claim: str, extra: str = "") -> cfg.Config:
    (tmp_path / "claim.txt").write_text(claim, encoding="utf-8")
    (tmp_path / "nec.csv").write_text("province,party,votes\nKandal,CPP,1\n", encoding="utf-8")
    text = f"""
[election]
name = "National Assembly 2013"

[[sources]]
name = "nec"
url = "nec.csv"
format = "csv"
[sources.columns]
unit = "province"
party = "party"
votes = "votes"

[[sources]]
name = "cnrp"
url = "claim.txt"
format = "claim"
{extra}
"""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return cfg.load(path)


async def poll_claim(c: cfg.Config) -> ClaimSnapshot:
    async with Poller(c, clock=lambda: NOW) as poller:
        state = await poller.poll(c.sources[1])
    assert state.health.last_error is None, state.health.last_error
    (result,) = state.results
    assert isinstance(result.snapshot, ClaimSnapshot)
    return result.snapshot


async def test_the_plainest_claim(tmp_path: Path) -> None:
    snap = await poll_claim(config(tmp_path, "party,seats\nCNRP,63\n"))
    assert snap.claimed_national is not None
    assert snap.claimed_national.to_dict() == {"CNRP": 63}
    assert snap.votes.isna().all().all()  # a claim gives no votes: not reported


async def test_a_claim_per_unit_in_json(tmp_path: Path) -> None:
    body = (
        '{"claim": [{"p": "CNRP", "won": 7, "where": "Kandal"},'
        ' {"p": "CPP", "won": 4, "where": "Kandal"}]}'
    )
    extra = """table = "json"
records = "claim"
party_column = "p"
seats_column = "won"
unit_column = "where"
"""
    snap = await poll_claim(config(tmp_path, body, extra))
    assert snap.claimed is not None
    assert snap.claimed.loc["Kandal"].to_dict() == {"CNRP": 7, "CPP": 4}
    assert snap.claimed_national is not None
    assert snap.claimed_national.to_dict() == {"CNRP": 7, "CPP": 4}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("party,seats\nCNRP,63\nCNRP,60\n", "party 'CNRP' is claimed twice (line 2 and line 3)"),
        ("party,seats\nCNRP,sixty\n", "'sixty' is not a number (line 2)"),
        ("party,seats\nCNRP,\n", "no seats given (line 2)"),
        (
            "party,won\nCNRP,63\n",
            "no column 'seats' (the seats); the claim's columns are: party, won",
        ),
        ("party,seats\nCNRP,20000\n", "more seats than any parliament has"),
    ],
)
async def test_a_bad_claim_says_where(tmp_path: Path, body: str, message: str) -> None:
    c = config(tmp_path, body)
    async with Poller(c, clock=lambda: NOW) as poller:
        state = await poller.poll(c.sources[1])
    assert state.results == ()
    assert message in str(state.health.last_error)


def test_claim_keys_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match='expected how the claim is written: "csv"'):
        config(tmp_path, "party,seats\n", 'table = "xml"')
    with pytest.raises(ConfigError, match="unknown key"):
        config(tmp_path, "party,seats\n", 'seat_column = "won"')


def test_columns_are_refused_for_a_claim() -> None:
    from adapters.seat_claim import CLAIM_FORMAT
    from nightdesk.formats import ColumnMap, ParseContext

    ctx = ParseContext("cnrp", NOW, columns=ColumnMap(unit="u", party="p", votes="v"))
    with pytest.raises(FeedError, match="party_column, seats_column and unit_column"):
        CLAIM_FORMAT.parse(b"party,seats\nCNRP,63\n", ctx)
