from __future__ import annotations

from pathlib import Path

import pytest

from nightdesk import ConfigError
from nightdesk import config as cfg

GOOD = """\
[election]
name = "National Assembly 2013"
timezone = "Asia/Phnom_Penh"
seats_method = "dhondt"
threshold = 0.0

[election.seats]
"Phnom Penh" = 12

[[sources]]
name = "nec"
url = "feeds/nec.csv"
format = "csv"
interval = 30
headers_env = { "x-api-key" = "NEC_KEY" }

[sources.columns]
unit = "province"
party = "party"
votes = "votes"
seats = "seats"

[[sources]]
name = "cnrp"
url = "https://results.example/cnrp.json"
format = "json"
records = "data.rows"

[sources.columns]
unit = "province"
parties = ["CPP", "CNRP"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "election.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_config_loads_into_typed_objects(tmp_path: Path) -> None:
    c = cfg.load(write(tmp_path, GOOD))
    assert c.election.name == "National Assembly 2013"
    assert c.election.timezone.key == "Asia/Phnom_Penh"
    assert c.election.rules.method == "dhondt"
    assert c.election.seats == {"Phnom Penh": 12}
    nec, cnrp = c.sources
    assert nec.path == tmp_path / "feeds" / "nec.csv"  # relative to the config file
    assert not nec.is_http and cnrp.is_http
    assert nec.interval == 30.0
    assert nec.headers_env == {"x-api-key": "NEC_KEY"}
    assert nec.columns is not None and nec.columns.optional == {"seats": "seats"}
    assert cnrp.columns is not None and cnrp.columns.parties == ("CPP", "CNRP")
    assert cnrp.options == {"records": "data.rows"}


def test_defaults() -> None:
    c = cfg.parse(
        '[election]\nname = "x"\n[[sources]]\nname = "a"\nurl = "a.csv"\nformat = "csv"\n'
        '[sources.columns]\nunit = "u"\nparties = "*"\n'
    )
    assert c.election.timezone.key == "UTC"
    assert c.election.rules.tie == "more-votes"
    assert c.sources[0].interval == cfg.DEFAULT_INTERVAL
    assert c.sources[0].columns is not None and c.sources[0].columns.parties == "*"


def error(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        cfg.load(path)
    assert str(path) in str(info.value)
    return info.value


@pytest.mark.parametrize(
    ("old", "new", "key", "line", "words"),
    [
        (
            "interval = 30",
            "intervall = 30",
            "sources[0].intervall",
            14,
            ["unknown key", "did you mean 'interval'"],
        ),
        (
            "interval = 30",
            'interval = "30"',
            "sources[0].interval",
            14,
            ["expected a number of seconds > 0", "got a string '30'"],
        ),
        ("interval = 30", "interval = -1", "sources[0].interval", 14, ["> 0", "-1"]),
        (
            'seats_method = "dhondt"',
            'seats_method = "dhont"',
            "election.seats_method",
            4,
            ["unknown method 'dhont'", "sainte-lague"],
        ),
        ("threshold = 0.0", "threshold = 3", "election.threshold", 5, ["fraction", "3"]),
        (
            '"Phnom Penh" = 12',
            '"Phnom Penh" = "twelve"',
            'election.seats."Phnom Penh"',
            8,
            ["whole number of seats"],
        ),
        (
            'timezone = "Asia/Phnom_Penh"',
            'timezone = "Mars/Olympus"',
            "election.timezone",
            3,
            ["unknown time zone 'Mars/Olympus'"],
        ),
        (
            'format = "csv"',
            'format = "pdf"',
            "sources[0].format",
            13,
            ["unknown format 'pdf'", "installed formats: ", "csv"],
        ),
        (
            'url = "feeds/nec.csv"',
            'url = "ftp://x/nec.csv"',
            "sources[0].url",
            12,
            ["unsupported URL scheme"],
        ),
        ('name = "cnrp"', 'name = "nec"', "sources[1].name", 24, ["used twice"]),
        (
            'unit = "province"\nparty',
            "party",
            "sources[0].columns.unit",
            17,
            ["missing required key", "unit"],
        ),
        (
            'votes = "votes"',
            "",
            "sources[0].columns.votes",
            17,
            ["long table needs both party and votes"],
        ),
        (
            'parties = ["CPP", "CNRP"]',
            'parties = ["CPP", "CNRP"]\nparty = "p"',
            "sources[1].columns.parties",
            31,
            ["either long", "not both"],
        ),
        (
            '"NEC_KEY"',
            '"not a var!"',
            "sources[0].headers_env.x-api-key",
            15,
            ["name of an environment variable"],
        ),
    ],
)
def test_errors_name_file_key_line_and_expectation(
    tmp_path: Path, old: str, new: str, key: str, line: int, words: list[str]
) -> None:
    assert old in GOOD
    e = error(tmp_path, GOOD.replace(old, new, 1))
    assert e.key == key, str(e)
    assert e.line == line, str(e)
    for w in words:
        assert w in str(e)
    assert f":{line}: {key}: " in str(e)


def test_missing_sections(tmp_path: Path) -> None:
    e = error(tmp_path, '[election]\nname = "x"\n')
    assert "missing required key" in str(e) and e.key == "sources"
    e = error(tmp_path, '[[sources]]\nname = "x"\n')
    assert e.key == "election"


def test_missing_name_points_at_the_election_table(tmp_path: Path) -> None:
    e = error(tmp_path, GOOD.replace('name = "National Assembly 2013"\n', ""))
    assert e.key == "election.name" and e.line == 1
    assert "the election's name" in str(e)


def test_toml_syntax_error_has_the_line(tmp_path: Path) -> None:
    e = error(tmp_path, GOOD.replace("interval = 30", "interval = = 30"))
    assert e.line == 14
    assert "not valid TOML" in str(e)


def test_missing_file() -> None:
    with pytest.raises(ConfigError, match="no such file"):
        cfg.load("/nonexistent/nightdesk.toml")


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ('delimiter = ";;"', ["sources[0].delimiter", "one-character", "';;'"]),
        ('encoding = "klingon"', ["sources[0].encoding", "no encoding called 'klingon'"]),
    ],
)
def test_format_options_are_checked_at_load(tmp_path: Path, line: str, words: list[str]) -> None:
    e = error(tmp_path, GOOD.replace("interval = 30\n", f"interval = 30\n{line}\n"))
    assert e.line == 15
    for w in words:
        assert w in str(e)


def test_more_config_mistakes_people_make(tmp_path: Path) -> None:
    e = error(tmp_path, GOOD.replace('format = "csv"', 'formt = "csv"'))
    assert e.key == "sources[0].formt" and "did you mean 'format'" in str(e)
    e = error(tmp_path, GOOD.replace('url = "feeds/nec.csv"', 'url = "http://[::1"'))
    assert e.key == "sources[0].url" and "not a usable URL" in str(e)
    e = error(tmp_path, '[election]\nname = "x"\n[sources]\nname = "a"\n')
    assert e.key == "sources" and "got a table" in str(e) and "{" not in str(e)
    e = error(tmp_path, GOOD.replace('name = "cnrp"', 'name = "nec"'))
    assert "also by sources[0]" in str(e)


# --- tables with races, unit paths and vote types -------------------------------------------

LAYERED = """\
[election]
name = "Georgia"

[[sources]]
name = "ga"
url = "ga.csv"
format = "csv"
{source}
[sources.columns]
unit = "precinct"
party = "candidate"
{columns}
"""


def layered(columns: str, source: str = "") -> cfg.SourceConfig:
    return cfg.parse(LAYERED.format(columns=columns, source=source)).sources[0]


def layered_error(columns: str, source: str = "") -> ConfigError:
    with pytest.raises(ConfigError) as info:
        layered(columns, source)
    return info.value


def test_races_a_parent_path_and_vote_types_from_a_list() -> None:
    source = layered(
        'race = ["office", "district"]\nparent = ["state", "county"]\n'
        'votes = ["election_day_votes", "absentee_by_mail_votes"]\nname = "label"',
        'races = ["U.S. Senate"]\nmembers = "*general*"',
    )
    columns = source.columns
    assert columns is not None
    assert columns.race == ("office", "district")
    assert columns.parent_path == ("state", "county")
    assert columns.votes is None
    assert columns.vote_types == (
        ("Election Day", "election_day_votes"),
        ("Absentee by Mail", "absentee_by_mail_votes"),
    )
    assert columns.optional == {"name": "label"}  # the path is not the one-column parent
    assert source.options == {"races": ["U.S. Senate"], "members": "*general*"}


def test_one_race_column_one_parent_column_and_named_vote_types() -> None:
    columns = layered(
        'race = "office"\nparent = "county"\nvotes = "votes"\n'
        'vote_types = { "Early" = "advance_voting_votes", "On the day" = "election_day_votes" }'
    ).columns
    assert columns is not None
    assert (columns.race, columns.parent_path) == (("office",), ())
    assert columns.optional == {"parent": "county"}  # the one-column form, as before
    assert columns.votes == "votes"
    assert columns.vote_types == (
        ("Early", "advance_voting_votes"),
        ("On the day", "election_day_votes"),
    )


@pytest.mark.parametrize(
    ("columns", "key", "words"),
    [
        ('vote_types = ["a", "b"]', "vote_types", "goes with votes = the column of the total"),
        ('votes = ["a"]\nvote_types = ["b"]', "vote_types", "goes with votes"),
        ("votes = []", "votes", "non-empty list of column names"),
        ("votes = [1, 2]", "votes", "non-empty list of column names"),
        ('votes = ["a", "a"]', "votes", "listed twice"),
        ('votes = "a"\nvote_types = ["a", "b"]', "vote_types", "'a' is the total (votes)"),
        ('votes = ["early_votes", "early"]', "votes", "make the vote type name 'Early'"),
        ('votes = { "Early" = 3 }', "votes.Early", "a column name as a string"),
        ("votes = {}", "votes", "at least one vote type"),
        ("votes = 3", "votes", "a list of column names or a table"),
        ('votes = "v"\nparent = ["county", "precinct"]', "parent", "'precinct' is the unit"),
        ('votes = "v"\nrace = []', "race", "non-empty column names"),
        ('votes = "v"\nrace = ["office", "office"]', "race", "listed twice"),
        ('votes = "v"\nrace = 3', "race", "a column name, or a list"),
        ('votes = "v"\nrace = ["candidate"]', "race", "'candidate' is the unit or party"),
        ('votes = "v"\nraces = "x"', "races", "unknown key"),
    ],
)
def test_layered_column_mistakes(columns: str, key: str, words: str) -> None:
    e = layered_error(columns)
    assert e.key == f"sources[0].columns.{key}", str(e)
    assert words in str(e)
    assert e.line is not None


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("races = []", "a non-empty list of race names"),
        ('races = ["a", ""]', "a non-empty list of race names"),
        ('races = ["a", "a"]', "a race is listed twice"),
        ('races = "Senate"', "a list of race names"),
        ("members = 3", "a pattern for the CSV files"),
    ],
)
def test_races_and_members_are_checked_at_load(source: str, words: str) -> None:
    e = layered_error('race = "office"\nvotes = "v"', source)
    assert e.key is not None and e.key.startswith("sources[0].")
    assert words in str(e)


def test_vote_type_names_are_made_readable() -> None:
    assert cfg.vote_type_name("election_day_votes") == "Election Day"
    assert cfg.vote_type_name("absentee_by_mail_votes") == "Absentee by Mail"
    assert cfg.vote_type_name("Advance Voting Votes") == "Advance Voting"
    assert cfg.vote_type_name("EV_votes") == "EV"
    assert cfg.vote_type_name("votes") == "Votes"
