"""The csv and json formats: both table shapes, unit figures, and every error a desk may see."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from adapters import table_zip
from adapters.feed_time import published_at
from adapters.tabular import CSV_FORMAT, JSON_FORMAT
from nightdesk.errors import FeedError
from nightdesk.formats import ColumnMap, Format, ParseContext, available, load, parse
from nightdesk.model import Snapshot

FETCHED = datetime(2013, 7, 28, 20, 15, tzinfo=UTC)
LONG = ColumnMap(unit="province", party="party", votes="votes")
WIDE = ColumnMap(unit="province", parties=("CPP", "CNRP"))
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
GA_PRIMARY = SHARED / "feeds" / "openelections-ga" / "20200609__ga__primary__president.csv"


def context(
    columns: ColumnMap | None = LONG,
    *,
    headers: dict[str, str] | None = None,
    **options: Any,
) -> ParseContext:
    return ParseContext(
        source="nec",
        fetched_at=FETCHED,
        columns=columns,
        options=options,
        headers=headers or {},
    )


def parse_csv(text: str, columns: ColumnMap | None = LONG, **options: Any) -> Snapshot:
    return CSV_FORMAT.parse(text.encode(), context(columns, **options))


def parse_json(document: Any, columns: ColumnMap | None = LONG, **options: Any) -> Snapshot:
    body = document if isinstance(document, bytes) else json.dumps(document).encode()
    return JSON_FORMAT.parse(body, context(columns, **options))


def csv_error(text: str, columns: ColumnMap | None = LONG, **options: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        parse_csv(text, columns, **options)
    return caught.value


def json_error(document: Any, columns: ColumnMap | None = LONG, **options: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        parse_json(document, columns, **options)
    return caught.value


def grid(snapshot: Snapshot) -> dict[str, dict[str, int | None]]:
    """Votes as plain Python, <NA> as None, so tests compare whole tables at a glance."""
    return {
        unit: {party: (None if pd.isna(v) else int(v)) for party, v in row.items()}
        for unit, row in snapshot.votes.to_dict(orient="index").items()
    }


# --- the plugin surface ------------------------------------------------------------------


def test_formats_satisfy_the_plugin_protocol() -> None:
    assert isinstance(CSV_FORMAT, Format)
    assert isinstance(JSON_FORMAT, Format)
    assert (CSV_FORMAT.name, JSON_FORMAT.name) == ("csv", "json")
    assert CSV_FORMAT.needs_columns and JSON_FORMAT.needs_columns
    assert set(CSV_FORMAT.options) == {"delimiter", "encoding", "races", "members"}
    assert set(JSON_FORMAT.options) == {"records", "races"}
    assert CSV_FORMAT.options["delimiter"].types == (str,)


def test_entry_points_name_these_objects() -> None:
    if "csv" not in available():
        pytest.skip("nightdesk is not installed (pip install -e .): no entry points to load")
    assert load("csv") is CSV_FORMAT
    assert load("json") is JSON_FORMAT


# --- shapes ------------------------------------------------------------------------------


def test_csv_long_table() -> None:
    snap = parse_csv("province,party,votes\nTakeo,CPP,120\nTakeo,CNRP,95\nKandal,CPP,80\n")
    assert grid(snap) == {
        "Takeo": {"CPP": 120, "CNRP": 95},
        "Kandal": {"CPP": 80, "CNRP": None},
    }
    assert (snap.source, snap.fetched_at) == ("nec", FETCHED)
    assert all(str(dtype) == "Int64" for dtype in snap.votes.dtypes)


def test_csv_wide_table() -> None:
    snap = parse_csv("province,CPP,CNRP,note\nTakeo,120,95,x\nKandal,80,70,y\n", WIDE)
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95}, "Kandal": {"CPP": 80, "CNRP": 70}}


def test_wide_star_takes_every_unmapped_column_as_a_party() -> None:
    columns = ColumnMap(unit="province", parties="*", optional={"seats": "seats", "name": "label"})
    snap = parse_csv("province,label,CPP,seats,CNRP\nP1,Takeo,1,8,2\n", columns)
    assert snap.party_ids == ["CPP", "CNRP"]
    assert snap.units.at["P1", "seats"] == 8
    assert snap.units.at["P1", "name"] == "Takeo"


def test_wide_party_ids_are_stripped_column_names() -> None:
    snap = parse_csv("province, CPP ,CNRP\nTakeo,1,2\n", ColumnMap(unit="province", parties="*"))
    assert snap.party_ids == ["CPP", "CNRP"]


def test_json_long_table_takes_numbers_and_numeric_strings() -> None:
    rows = [
        {"province": "Takeo", "party": "CPP", "votes": 120},
        {"province": "Takeo", "party": "CNRP", "votes": " 95 "},
        {"province": 7, "party": "CPP", "votes": "0"},
    ]
    assert grid(parse_json(rows)) == {
        "Takeo": {"CPP": 120, "CNRP": 95},
        "7": {"CPP": 0, "CNRP": None},
    }


def test_json_wide_table_at_a_records_path() -> None:
    document = {
        "meta": {"updated": "20:15"},
        "data": {"rows": [{"province": "Takeo", "CPP": 120, "CNRP": "95"}]},
    }
    snap = parse_json(document, ColumnMap(unit="province", parties="*"), records="data.rows")
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95}}


def test_units_and_parties_keep_the_feeds_order() -> None:
    text = "province,party,votes\nZ,CNRP,1\nA,CPP,2\nM,FUNCINPEC,3\nA,CNRP,4\n"
    snap = parse_csv(text)
    assert snap.unit_ids == ["Z", "A", "M"]
    assert snap.party_ids == ["CNRP", "CPP", "FUNCINPEC"]
    wide = parse_json(
        [{"u": "Z", "b": 1, "a": 2}, {"u": "A", "b": 3, "a": 4}], ColumnMap(unit="u", parties="*")
    )
    assert wide.unit_ids == ["Z", "A"]
    assert wide.party_ids == ["b", "a"]


def test_ids_are_stripped() -> None:
    snap = parse_csv("province,party,votes\n  Takeo , CPP ,1\n")
    assert grid(snap) == {"Takeo": {"CPP": 1}}


# --- not reported is not zero ------------------------------------------------------------


def test_long_empty_votes_cell_is_not_reported_and_zero_is_zero() -> None:
    snap = parse_csv("province,party,votes\nTakeo,CPP,0\nTakeo,CNRP,\nTakeo,SRP,  \n")
    assert snap.votes.at["Takeo", "CPP"] == 0
    assert snap.votes.at["Takeo", "CNRP"] is pd.NA
    assert snap.votes.at["Takeo", "SRP"] is pd.NA


def test_wide_empty_cells_are_not_reported() -> None:
    snap = parse_csv("province,CPP,CNRP\nTakeo,0,\nKandal,5,  \n", WIDE)
    assert grid(snap) == {"Takeo": {"CPP": 0, "CNRP": None}, "Kandal": {"CPP": 5, "CNRP": None}}


def test_json_null_and_absent_keys_are_not_reported() -> None:
    rows = [{"province": "Takeo", "CPP": 0, "CNRP": None}, {"province": "Kandal", "CPP": 5}]
    snap = parse_json(rows, WIDE)
    assert snap.votes.at["Takeo", "CPP"] == 0
    assert snap.votes.at["Takeo", "CNRP"] is pd.NA
    assert snap.votes.at["Kandal", "CNRP"] is pd.NA


def test_a_party_absent_from_every_row_of_a_json_column_is_not_reported() -> None:
    rows = [{"province": "Takeo", "CPP": 1, "CNRP": None}]
    assert parse_json(rows, WIDE).votes.at["Takeo", "CNRP"] is pd.NA


# --- unit figures ------------------------------------------------------------------------

ALL_FIGURES = ColumnMap(
    unit="id",
    party="party",
    votes="votes",
    optional={
        "name": "name",
        "parent": "region",
        "seats": "seats",
        "reporting": "reporting",
        "registered": "registered",
        "ballots_cast": "cast",
        "valid": "valid",
        "blank": "blank",
        "invalid": "invalid",
    },
)


def test_long_unit_figures_repeat_per_row_and_empty_rows_defer() -> None:
    text = (
        "id,name,region,seats,reporting,registered,cast,valid,blank,invalid,party,votes\n"
        "21,Takeo,South,8,45%,600000,400000,390000,1000,10000,CPP,200000\n"
        "21,Takeo,South,8,0.45,600000,400000,390000,1000,10000,CNRP,190000\n"
        "08,,,,,,,,,,CPP,5\n"
        "08,Kandal,,11,45.5 %,,,,,,CNRP,6\n"
    )
    units = parse_csv(text, ALL_FIGURES).units
    assert units.loc["21"].to_dict() == {
        "name": "Takeo",
        "parent": "South",
        "seats": 8,
        "registered": 600000,
        "ballots_cast": 400000,
        "valid": 390000,
        "blank": 1000,
        "invalid": 10000,
        "reporting": pytest.approx(0.45),
    }
    assert units.at["08", "name"] == "Kandal"
    assert units.at["08", "seats"] == 11
    assert units.at["08", "reporting"] == pytest.approx(0.455)
    assert units.at["08", "parent"] is pd.NA
    assert units.at["08", "registered"] is pd.NA


def test_json_wide_unit_figures() -> None:
    columns = ColumnMap(
        unit="id", parties=("CPP",), optional={"seats": "seats", "reporting": "pct"}
    )
    rows = [{"id": "1", "CPP": 3, "seats": 6, "pct": 0.25}, {"id": "2", "CPP": 4, "pct": "100%"}]
    units = parse_json(rows, columns).units
    assert units["seats"].tolist() == [6, pd.NA]
    assert units["reporting"].tolist() == [0.25, 1.0]


@pytest.mark.parametrize(
    ("cell", "fraction"),
    [
        ("0", 0.0),
        ("1", 1.0),
        ("0.45", 0.45),
        (".45", 0.45),
        (" 0.45 ", 0.45),
        ("45%", 0.45),
        ("45.5 %", 0.455),
        ("100%", 1.0),
        ("0%", 0.0),
    ],
)
def test_reporting_accepts_a_fraction_or_a_percentage(cell: str, fraction: float) -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={"reporting": "rep"})
    snap = parse_csv(f"u,a,rep\nX,1,{cell}\n", columns)
    assert snap.units.at["X", "reporting"] == pytest.approx(fraction)


@pytest.mark.parametrize(("cell", "fraction"), [("1.5", 1.5), ("150%", 1.5), ("100.2%", 1.002)])
def test_reporting_above_100_percent_is_kept_for_the_checks_to_flag(
    cell: str, fraction: float
) -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={"reporting": "rep"})
    for text in (f"u,a,rep\nX,1,{cell}\n", f"u,a,rep\nX,1,0.5\nY,1,{cell}\n"):
        snap = parse_csv(text, columns)
        assert snap.units["reporting"].max() == pytest.approx(fraction)
    rows = [{"u": "X", "a": 1, "rep": float(fraction)}, {"u": "Y", "a": 1, "rep": cell}]
    snap = parse_json(rows, columns)
    assert snap.units.at["X", "reporting"] == pytest.approx(fraction)
    assert snap.units.at["Y", "reporting"] == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("45", "is more than 1 (a percentage needs a % sign)"),
        ("-0.1", "is neither a fraction nor a percentage"),
        ("half", "is neither a fraction nor a percentage"),
        ("45%%", "is neither a fraction nor a percentage"),
    ],
)
def test_bad_reporting_explains_both_forms(cell: str, problem: str) -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={"reporting": "rep"})
    error = csv_error(f"u,a,rep\nX,1,1\nY,2,{cell}\n", columns)
    assert (error.source, error.row, error.column) == ("nec", 2, "rep")
    assert f"{cell!r} {problem}" in str(error)
    assert "line 3" in str(error)
    assert "0.45" in str(error) and "45%" in str(error)


def test_conflicting_unit_figures_name_unit_column_and_both_rows() -> None:
    columns = ColumnMap(unit="province", party="party", votes="votes", optional={"seats": "n"})
    error = csv_error(
        "province,party,votes,n\nTakeo,CPP,1,8\nKandal,CPP,1,11\nTakeo,CNRP,2,9\n", columns
    )
    assert (error.source, error.row, error.column) == ("nec", 3, "n")
    message = str(error)
    assert "'Takeo'" in message and "'8' (line 2)" in message and "'9' (line 4)" in message


def test_conflicting_names_are_caught_too() -> None:
    columns = ColumnMap(unit="u", party="p", votes="v", optional={"name": "name"})
    error = json_error(
        [{"u": "1", "p": "a", "v": 1, "name": "Takeo"}, {"u": "1", "p": "b", "v": 1, "name": "T"}],
        columns,
    )
    assert error.row == 2 and error.column == "name"
    assert "$[0]" in str(error) and "$[1]" in str(error)


def test_bad_unit_count_names_its_role() -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={"registered": "reg"})
    error = csv_error("u,a,reg\nX,1,many\n", columns)
    assert error.column == "reg"
    assert "'many' is not a number" in str(error) and "(registered)" in str(error)


# --- names are data ----------------------------------------------------------------------


def test_markup_in_names_and_ids_passes_through_unchanged() -> None:
    columns = ColumnMap(unit="u", party="p", votes="v", optional={"name": "name"})
    text = 'u,p,v,name\n[b]1[/b],[red]CPP[/],5,"[bold red]x[/]"\n'
    snap = parse_csv(text, columns)
    assert snap.unit_ids == ["[b]1[/b]"]
    assert snap.party_ids == ["[red]CPP[/]"]
    assert snap.units.at["[b]1[/b]", "name"] == "[bold red]x[/]"
    from_json = parse_json(
        [{"u": "[b]1[/b]", "p": "[red]CPP[/]", "v": 5, "name": "[bold red]x[/]"}], columns
    )
    assert from_json.units.at["[b]1[/b]", "name"] == "[bold red]x[/]"


# --- bad vote counts ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        ("abc", "'abc' is not a number"),
        ("12x", "'12x' is not a number"),
        ("-5", "'-5' is negative"),
        ("12.5", "'12.5' is not a whole number"),
        ("1234.0", "'1234.0' is not a whole number"),
        ('"1,234"', "'1,234' has a thousands separator"),
        ("1 2", "'1 2' is not a number"),
        ("99999999999999999999", "'99999999999999999999' is larger than any real vote count"),
    ],
)
def test_bad_long_votes_name_source_row_column_value_and_expectation(
    cell: str, problem: str
) -> None:
    error = csv_error(f"province,party,votes\nTakeo,CPP,1\nTakeo,CNRP,{cell}\n")
    assert (error.source, error.row, error.column) == ("nec", 2, "votes")
    message = str(error)
    assert message.startswith("source 'nec', row 2, column 'votes': ")
    assert problem in message
    assert "(line 3)" in message
    assert "expected a whole number of votes ≥ 0, or empty for not reported" in message


def test_bad_wide_vote_reports_the_earliest_row_across_party_columns() -> None:
    error = csv_error("province,CPP,CNRP\nTakeo,1,2\nKandal,3,x\nPursat,y,4\n", WIDE)
    assert (error.row, error.column) == (2, "CNRP")
    assert "'x' is not a number (line 3)" in str(error)


def test_line_numbers_count_blank_lines_and_multiline_cells() -> None:
    text = 'province,party,votes,note\n\nTakeo,CPP,1,"two\nlines"\n\nTakeo,CNRP,bad,\n'
    columns = ColumnMap(unit="province", party="party", votes="votes")
    error = csv_error(text, columns)
    assert error.row == 2
    assert "(line 6)" in str(error)


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (True, "true (a JSON boolean) is not a number"),
        (False, "false (a JSON boolean) is not a number"),
        (12.5, "'12.5' is not a whole number"),
        (-3, "'-3' is negative"),
        ("12x", "'12x' is not a number"),
        ({"n": 1}, "a JSON object is not a number"),
        ([1], "a JSON array is not a number"),
    ],
)
def test_bad_json_votes(value: Any, problem: str) -> None:
    rows = [{"province": "Takeo", "party": "CPP", "votes": 1}]
    rows.append({"province": "Takeo", "party": "CNRP", "votes": value})
    error = json_error({"data": {"rows": rows}}, records="data.rows")
    assert (error.source, error.row, error.column) == ("nec", 2, "votes")
    assert problem in str(error)
    assert "($.data.rows[1])" in str(error)
    assert "expected a whole number of votes ≥ 0" in str(error)


@pytest.mark.parametrize("cell", ["999999999999", "000999999999999", "0"])
def test_votes_up_to_twelve_digits_are_read(cell: str) -> None:
    assert parse_csv(f"province,party,votes\nTakeo,CPP,{cell}\n").votes.at["Takeo", "CPP"] == int(
        cell
    )


@pytest.mark.parametrize("cell", ["1000000000000", "9223372036854775807", "0001000000000000"])
def test_votes_beyond_twelve_digits_are_refused(cell: str) -> None:
    """Thirteen digits is no vote count, and a nation of them would overflow int64."""
    error = csv_error(f"province,party,votes\nTakeo,CPP,1\nTakeo,CNRP,{cell}\n")
    assert (error.source, error.row, error.column) == ("nec", 2, "votes")
    assert f"{cell!r} is larger than any real vote count" in str(error)
    assert "999,999,999,999" in str(error) and "(line 3)" in str(error)
    error = json_error([{"province": "Takeo", "party": "CPP", "votes": int(cell)}])
    assert (error.row, error.column) == (1, "votes")
    assert "is larger than any real vote count" in str(error)


def test_wide_votes_beyond_twelve_digits_are_refused() -> None:
    error = csv_error("province,CPP,CNRP\nTakeo,1,2\nKandal,3,12345678901234\n", WIDE)
    assert (error.row, error.column) == (2, "CNRP")
    assert "'12345678901234' is larger than any real vote count" in str(error)


@pytest.mark.parametrize("role", ["registered", "ballots_cast", "valid", "blank", "invalid"])
def test_unit_counts_beyond_twelve_digits_are_refused(role: str) -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={role: "n"})
    assert parse_csv("u,a,n\nX,1,999999999999\n", columns).units.at["X", role] == 999_999_999_999
    error = csv_error("u,a,n\nX,1,1\nY,1,1000000000000\n", columns)
    assert (error.row, error.column) == (2, "n")
    assert "'1000000000000' is larger than any real vote count" in str(error)


@pytest.mark.parametrize("cell", ["1001", "999999999", "99999999999999999999"])
def test_more_than_a_thousand_seats_in_a_unit_is_refused(cell: str) -> None:
    """A feed saying seats=999999999 used to hang the seat allocator."""
    columns = ColumnMap(unit="u", parties=("a",), optional={"seats": "seats"})
    error = csv_error(f"u,a,seats\nX,1,8\nY,1,{cell}\n", columns)
    assert (error.source, error.row, error.column) == ("nec", 2, "seats")
    assert f"{cell!r} is too many seats" in str(error)
    assert "no electoral unit has more than 1,000 seats" in str(error)
    assert "(line 3)" in str(error)
    long = ColumnMap(unit="u", party="p", votes="v", optional={"seats": "s"})
    error = json_error([{"u": "X", "p": "a", "v": 1, "s": int(cell)}], long)
    assert (error.row, error.column) == (1, "s")
    assert "no electoral unit has more than 1,000 seats" in str(error)


def test_a_thousand_seats_is_the_most_a_unit_may_have() -> None:
    columns = ColumnMap(unit="u", parties=("a",), optional={"seats": "seats"})
    assert parse_csv("u,a,seats\nX,1,1000\n", columns).units.at["X", "seats"] == 1000


def test_long_values_are_truncated_in_messages() -> None:
    error = csv_error(f"province,party,votes\nTakeo,CPP,{'x' * 100}\n")
    assert f"{'x' * 40!r}…" in str(error)
    assert "x" * 41 not in str(error)


# --- ids ---------------------------------------------------------------------------------


def test_an_empty_unit_id_is_an_error() -> None:
    error = csv_error("province,party,votes\nTakeo,CPP,1\n  ,CPP,2\n")
    assert (error.row, error.column) == (2, "province")
    assert "the unit id is empty (line 3)" in str(error)


def test_an_empty_party_in_a_long_table_is_an_error() -> None:
    error = json_error([{"province": "Takeo", "party": None, "votes": 1}])
    assert (error.row, error.column) == (1, "party")
    assert "the party id is empty ($[0])" in str(error)


def test_a_boolean_unit_id_is_an_error() -> None:
    error = json_error([{"province": True, "party": "CPP", "votes": 1}])
    assert "true (a JSON boolean) is not text" in str(error)


# --- duplicates --------------------------------------------------------------------------


def test_duplicate_unit_party_rows_name_both_rows() -> None:
    error = csv_error("province,party,votes\nTakeo,CPP,1\nKandal,CPP,2\nTakeo,CPP,3\n")
    assert (error.source, error.row) == ("nec", 3)
    assert "unit 'Takeo' has two rows for party 'CPP': line 2 and line 4" in str(error)


def test_duplicate_unit_rows_in_a_wide_table_name_both_rows() -> None:
    error = json_error(
        [{"province": "Takeo", "CPP": 1}, {"province": "Kandal"}, {"province": " Takeo"}],
        ColumnMap(unit="province", parties=("CPP",)),
    )
    assert error.row == 3
    assert "unit 'Takeo' has two rows: $[0] and $[2]" in str(error)


# --- mapping vs table --------------------------------------------------------------------


def test_a_renamed_column_is_suggested() -> None:
    error = csv_error("province,party,vote_count\nTakeo,CPP,1\n")
    assert str(error).endswith(
        "columns are: province, party, vote_count; was it renamed to 'vote_count'?"
    )
    unrelated = csv_error("province,party,seats\nTakeo,CPP,1\n")
    assert "renamed" not in str(unrelated)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (
            ColumnMap(unit="province", party="party", votes="count"),
            "votes column 'count' (mapped as votes) is not in the table; "
            "columns are: province, party, votes, CPP",
        ),
        (
            ColumnMap(unit="prov", party="party", votes="votes"),
            "unit column 'prov' (mapped as unit) is not in the table",
        ),
        (
            ColumnMap(unit="province", party="party", votes="votes", optional={"seats": "n"}),
            "seats column 'n' (mapped as seats) is not in the table",
        ),
        (
            ColumnMap(unit="province", parties=("CPP", "SRP")),
            "party column 'SRP' (listed in parties) is not in the table",
        ),
    ],
)
def test_a_missing_mapped_column_names_column_and_role(columns: ColumnMap, expected: str) -> None:
    error = csv_error("province,party,votes,CPP\nTakeo,CPP,1,1\n", columns)
    assert error.source == "nec"
    assert expected in str(error)


def test_star_with_nothing_left_is_an_error() -> None:
    error = csv_error(
        "province,seats\nTakeo,8\n",
        ColumnMap(unit="province", parties="*", optional={"seats": "seats"}),
    )
    assert 'parties = "*" found no party columns' in str(error)


@pytest.mark.parametrize(
    ("columns", "expected"),
    [
        (None, "needs a [sources.columns] table"),
        (ColumnMap(unit="province", party="party"), "needs party and votes"),
        (
            ColumnMap(unit="province", party="party", votes="votes", parties="*"),
            "sets both parties",
        ),
        (
            ColumnMap(unit="province", parties="*", optional={"turnout": "t"}),
            "unknown column roles turnout",
        ),
    ],
)
def test_unusable_mappings(columns: ColumnMap | None, expected: str) -> None:
    assert expected in str(csv_error("province,party,votes\nTakeo,CPP,1\n", columns))


# --- bodies ------------------------------------------------------------------------------


def test_empty_body_is_an_empty_response() -> None:
    assert str(csv_error("")) == "source 'nec': empty response"
    assert str(json_error(b"")) == "source 'nec': empty response"
    assert "empty response" in str(csv_error(" \n\n"))


def test_a_table_without_rows_is_an_error_not_an_empty_night() -> None:
    assert "the feed has no rows" in str(csv_error("province,party,votes\n"))
    assert "the feed has no rows" in str(json_error([]))
    assert "the feed has no rows" in str(json_error({"d": []}, records="d"))


HTML_PAGE = (
    "<!DOCTYPE html>\n<html><head><title>Sign in - Results Portal</title></head>"
    "<body><form>…</form></body></html>\n"
)


@pytest.mark.parametrize(
    "body",
    [
        HTML_PAGE,
        "\ufeff" + HTML_PAGE,
        "\n\n   <html>\n<body>502 Bad Gateway</body></html>",
        '<?xml version="1.0"?>\n<results><row province="Takeo"/></results>',
    ],
)
def test_an_html_or_xml_body_is_named_for_what_it_is(body: str) -> None:
    error = csv_error(body)
    assert "the feed looks like HTML or XML, not CSV (an error page or a login page?)" in str(error)
    assert "no rows" not in str(error)
    error = json_error(body.encode())
    assert "the feed looks like HTML or XML, not JSON (an error page or a login page?)" in str(
        error
    )


def test_an_html_page_title_is_quoted() -> None:
    assert "'Sign in - Results Portal'" in str(csv_error(HTML_PAGE))


def test_a_csv_whose_first_header_starts_with_a_less_than_sign_is_still_csv() -> None:
    columns = ColumnMap(unit="<unit>", parties=("a",))
    assert parse_csv("<unit>,a\nX,1\n", columns).unit_ids == ["X"]


def test_a_utf8_byte_order_mark_is_accepted() -> None:
    body = "\ufeffprovince,party,votes\nTakéo,CPP,1\n".encode()
    snap = CSV_FORMAT.parse(body, context())
    assert snap.unit_ids == ["Takéo"]
    body = "\ufeff" + json.dumps([{"province": "Takeo", "party": "CPP", "votes": 1}])
    assert parse_json(body.encode()).unit_ids == ["Takeo"]


def test_a_decode_error_names_the_byte_offset() -> None:
    body = b"province,party,votes\nTak\xe9o,CPP,1\n"
    with pytest.raises(FeedError) as caught:
        CSV_FORMAT.parse(body, context())
    assert "not valid utf-8 at byte offset 24 (line 2, byte 0xe9)" in str(caught.value)
    with pytest.raises(FeedError, match="byte offset 2"):
        JSON_FORMAT.parse(b'[{\xff"', context())


def test_a_latin1_body_is_named_and_the_encoding_option_suggested() -> None:
    """Nothing is guessed (a wrong guess renames units silently); the error says what to set."""
    body = "province,party,votes\nTakeo,CPP,1\nKâmpóng Cham,CPP,2\n".encode("latin-1")
    with pytest.raises(FeedError) as caught:
        CSV_FORMAT.parse(body, context())
    assert str(caught.value) == (
        "source 'nec': the feed is not valid utf-8 at byte offset 34 (line 3, byte 0xe2); "
        'it reads as Windows-1252/Latin-1: set encoding = "cp1252" for this source if that '
        "is what it sends"
    )
    assert CSV_FORMAT.parse(body, context(encoding="cp1252")).unit_ids == ["Takeo", "Kâmpóng Cham"]


def test_binary_garbage_gets_no_encoding_advice() -> None:
    body = b"province,party,votes\nTak\xe9o,CPP,1\x00\x01\n"
    with pytest.raises(FeedError) as caught:
        CSV_FORMAT.parse(body, context())
    assert "cp1252" not in str(caught.value)
    assert "if the source uses another encoding, set encoding for it" in str(caught.value)
    with pytest.raises(FeedError) as caught:  # JSON is UTF-8 by definition (RFC 8259)
        JSON_FORMAT.parse('[{"province": "Takéo"}]'.encode("latin-1"), context())
    assert str(caught.value).endswith("(line 1, byte 0xe9); a JSON feed must be UTF-8")


def test_the_encoding_option_reads_legacy_feeds() -> None:
    body = "province,party,votes\nTakéo,CPP,1\n".encode("cp1252")
    assert CSV_FORMAT.parse(body, context(encoding="cp1252")).unit_ids == ["Takéo"]
    with pytest.raises(FeedError, match="unknown encoding 'klingon'"):
        CSV_FORMAT.parse(body, context(encoding="klingon"))


def test_the_delimiter_option() -> None:
    snap = parse_csv("province;party;votes\nTakeo;CPP;1\n", delimiter=";")
    assert grid(snap) == {"Takeo": {"CPP": 1}}
    assert "one character" in str(csv_error("a,b\n", delimiter=";;"))
    error = csv_error("province;party;votes\nTakeo;CPP;1\n")
    assert "is the delimiter option right?" in str(error)


def test_ragged_rows_are_malformed() -> None:
    error = csv_error("province,party,votes\nTakeo,CPP,1\nTakeo,CNRP,2,3\n")
    assert "the CSV is malformed" in str(error) and "line 3" in str(error)
    error = csv_error("province,party,votes\nTakeo,CPP,1,\nKandal,CPP,2,\n")
    assert "more fields than the header" in str(error)


def test_a_row_with_fewer_fields_than_the_header_is_an_error() -> None:
    """A truncated feed must not look like a valid one with some units not reported."""
    columns = ColumnMap(
        unit="province",
        party="party",
        votes="votes",
        optional={"seats": "seats", "reporting": "reporting"},
    )
    error = csv_error("province,party,votes,seats,reporting\nTakeo,CPP,1,8,1\nA,Y\n", columns)
    assert (error.source, error.row) == ("nec", 2)
    message = str(error)
    assert "line 3 has 2 fields where the header has 5" in message
    assert "the feed may be truncated" in message


def test_a_feed_cut_off_mid_row_is_an_error() -> None:
    text = "province,CPP,CNRP\nTakeo,1,2\n\nKandal,3,4\nPursat,5"  # no newline: cut off
    error = csv_error(text, WIDE)
    assert error.row == 3
    assert "line 5 has 2 fields where the header has 3" in str(error)
    assert "truncated" in str(error)
    error = csv_error("province,party,votes\nTakeo,CPP,1\nTakeo\n")
    assert "line 3 has 1 field where the header has 3" in str(error)


def test_a_short_row_is_found_after_multiline_cells_and_blank_lines() -> None:
    text = 'province,party,votes,note\n\nTakeo,CPP,1,"two\nlines"\n   \nTakeo,CNRP,2\n'
    error = csv_error(text)
    assert error.row == 2
    assert "line 6 has 3 fields where the header has 4" in str(error)


def test_rows_whose_last_cells_are_empty_but_present_are_fine() -> None:
    snap = parse_csv("province,party,votes,note\nTakeo,CPP,1,\nTakeo,CNRP,,\n\n")
    assert grid(snap) == {"Takeo": {"CPP": 1, "CNRP": None}}


def test_a_column_named_twice_is_an_error() -> None:
    error = csv_error("province,party,votes,votes\nTakeo,CPP,1,2\n")
    assert "column 'votes' appears twice in the header (columns 3 and 4)" in str(error)


def test_empty_unnamed_columns_are_dropped_but_unnamed_values_are_not() -> None:
    star = ColumnMap(unit="province", parties="*")
    assert parse_csv("province,CPP,\nTakeo,1,\n", star).party_ids == ["CPP"]
    error = csv_error("province,CPP,\nTakeo,1,\nKandal,2,7\n", star)
    assert "column 3 has no name in the header but holds '7' (line 3)" in str(error)


def test_malformed_json_gives_line_and_column() -> None:
    error = json_error(b'[\n  {"province": "Takeo",\n   "votes": 1,,}\n]')
    assert "malformed JSON at line 3, column 15" in str(error)


@pytest.mark.parametrize(
    "body",
    [
        b'{"rows": [{"province": "Takeo", "votes": 1}, {"province": "Ka',
        b'{"rows": [{"province": "Takeo", "votes": 1}, {"province": "Kandal", "vo',
        b'{"rows": [{"province": "Takeo", "votes": 1}, {"province": "Kandal", "votes": 12',
        b'{"rows": [{"province": "Takeo", "votes": 1}]\n  ',
    ],
)
def test_a_truncated_json_document_is_called_truncated(body: bytes) -> None:
    error = json_error(body, records="rows")
    assert "the JSON stops before its end (line " in str(error)
    assert str(error).endswith("; the feed is truncated")


def test_records_path_errors_say_what_is_there() -> None:
    document = {"data": {"rows": [{"province": "Takeo"}]}}
    error = json_error(document)
    assert "not an array of row objects" in str(error) and "data.rows" in str(error)
    error = json_error(document, records="data.results")
    assert "data has no key 'results'; its keys are: rows" in str(error)
    error = json_error({"data": "x"}, records="data")
    assert "leads to a string or number" in str(error)


def test_json_rows_must_be_objects() -> None:
    error = json_error([{"province": "Takeo", "party": "CPP", "votes": 1}, [1, 2]])
    assert error.row == 2
    assert "$[1] is an array, not a row object" in str(error)


def test_json_numeric_ids_keep_their_text() -> None:
    rows = [{"province": 10, "party": "CPP", "votes": 1}, {"province": 1.5, "party": 7, "votes": 2}]
    assert grid(parse_json(rows)) == {"10": {"CPP": 1, "7": None}, "1.5": {"CPP": None, "7": 2}}


# --- the feed's own time -----------------------------------------------------------------


def test_published_at_comes_from_last_modified() -> None:
    headers = {"Last-Modified": "Sun, 28 Jul 2013 12:00:00 GMT"}
    snap = CSV_FORMAT.parse(b"province,party,votes\nT,C,1\n", context(headers=headers))
    assert snap.published_at == datetime(2013, 7, 28, 12, tzinfo=UTC)
    assert parse_csv("province,party,votes\nT,C,1\n").published_at is None


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"last-modified": "not a date"}, None),
        (
            {"LAST-MODIFIED": "Sun, 28 Jul 2013 19:00:00 +0700"},
            datetime(2013, 7, 28, 12, tzinfo=UTC),
        ),
        (
            {"last-modified": "Sun, 28 Jul 2013 12:00:00 -0000"},
            datetime(2013, 7, 28, 12, tzinfo=UTC),
        ),
    ],
)
def test_published_at_helper(headers: dict[str, str], expected: datetime | None) -> None:
    assert published_at(headers) == expected


# --- a real feed -------------------------------------------------------------------------


def _ga_primary() -> bytes:
    if not SHARED.is_dir():
        pytest.skip(f"the shared feed samples are absent ({SHARED} does not exist)")
    if not GA_PRIMARY.is_file():
        pytest.skip(f"the Georgia 2020 primary sample is absent ({GA_PRIMARY})")
    return GA_PRIMARY.read_bytes()


def test_georgia_primary_by_county_is_refused_as_duplicates() -> None:
    """The file has one row per precinct × candidate: counties repeat, and that is an error."""
    body = _ga_primary()
    columns = ColumnMap(unit="county", party="candidate", votes="election_day_votes")
    with pytest.raises(FeedError) as caught:
        CSV_FORMAT.parse(body, context(columns))
    assert caught.value.row == 2
    assert "unit 'Appling' has two rows for party 'Amy Klobuchar': line 2 and line 3" in str(
        caught.value
    )


def test_georgia_primary_by_precinct_in_the_long_shape() -> None:
    """Precinct names repeat across counties, so the unit id is county/precinct."""
    rows = list(csv.DictReader(io.StringIO(_ga_primary().decode())))
    kinds = ("election_day_votes", "advanced_votes", "absentee_by_mail_votes", "provisional_votes")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["unit", "county", "candidate", "votes"])
    expected: Counter[str] = Counter()
    for row in rows:
        total = sum(int(row[kind]) for kind in kinds)
        expected[row["candidate"]] += total
        writer.writerow(
            [f"{row['county']}/{row['precinct']}", row["county"], row["candidate"], total]
        )
    columns = ColumnMap(
        unit="unit", party="candidate", votes="votes", optional={"parent": "county"}
    )
    snap = CSV_FORMAT.parse(out.getvalue().encode(), context(columns))
    assert len(snap.unit_ids) == 2627  # as SOURCES.md counts them
    assert len(snap.party_ids) == 13
    assert snap.unit_ids[0] == "Appling/1B"
    assert snap.units["parent"].nunique() == 159
    assert snap.party_totals().to_dict() == dict(expected)
    assert not snap.votes.isna().any().any()  # every candidate is on every precinct's ballot
    biden = int(snap.party_totals()["Joseph R. Biden"])
    assert abs(biden - 922_177) < 922_177 * 0.001  # the certified total, within 0.1%


# --- spellings: ids are stripped, but two spellings are never merged unseen -----------------


@pytest.mark.parametrize("kind", ["csv", "quoted csv", "json"])
def test_party_ids_differing_only_in_spaces_stay_apart(kind: str) -> None:
    rows = [("A", "Warnock ", 1), ("B", "Warnock", 2), ("C", " CPP ", 3)]
    if kind == "json":
        snap = parse_json([{"province": u, "party": p, "votes": v} for u, p, v in rows])
    else:
        quote = '"' if kind == "quoted csv" else ""
        text = "".join(f"{u},{quote}{p}{quote},{v}\n" for u, p, v in rows)
        snap = parse_csv("province,party,votes\n" + text)
    assert snap.party_ids == ["Warnock ", "Warnock", "CPP"]  # CPP: one spelling, stripped
    assert grid(snap)["A"]["Warnock "] == 1 and grid(snap)["B"]["Warnock"] == 2


# --- several races, unit paths, vote types -----------------------------------------------

RACES = ColumnMap(unit="precinct", party="candidate", votes="votes", race=("office", "district"))
RACES_CSV = (
    "office,district,precinct,candidate,votes\n"
    "House,1,P1,Ann,10\n"
    "House,1,P1,Bob,7\n"
    "House,2,P2,Cat,4\n"
    "Senate,,P1,Dan,12\n"
    "Senate,,P2,Dan,3\n"
)


def parse_races(text: str, columns: ColumnMap, **options: Any) -> list[Snapshot]:
    result = CSV_FORMAT.parse(text.encode(), context(columns, **options))
    assert isinstance(result, list)
    return result


def test_one_snapshot_per_race_named_by_its_joined_values() -> None:
    house1, house2, senate = parse_races(RACES_CSV, RACES)
    assert [s.race.id if s.race else None for s in (house1, house2, senate)] == [
        "House / 1",
        "House / 2",
        "Senate",
    ]
    assert house1.race is not None and house1.race.name == "House / 1"
    assert grid(house1) == {"P1": {"Ann": 10, "Bob": 7}}
    assert grid(senate) == {"P1": {"Dan": 12}, "P2": {"Dan": 3}}


def test_one_race_column_as_a_string() -> None:
    columns = ColumnMap(unit="precinct", party="candidate", votes="votes", race=("office",))
    text = "office,precinct,candidate,votes\nGov,P1,A,1\nGov,P2,A,2\nSen,P1,B,3\n"
    assert [s.race.id for s in parse_races(text, columns) if s.race] == ["Gov", "Sen"]


def test_races_picks_by_name_in_the_configs_order_case_aside() -> None:
    picked = parse_races(RACES_CSV, RACES, races=["senate", "House / 1"])
    assert [s.race.id for s in picked if s.race] == ["Senate", "House / 1"]


def test_an_unknown_race_names_close_ones_and_lists_the_races() -> None:
    e = csv_error(RACES_CSV, RACES, races=["Senat", "Mayor"])
    assert "races 'Senat' (close: 'Senate'); 'Mayor' not in the feed" in str(e)
    assert "its 3 races are: 'House / 1', 'House / 2', 'Senate'" in str(e)


def test_a_race_matching_several_by_case_must_be_named_exactly() -> None:
    text = "office,precinct,candidate,votes\nLabor,P1,A,1\nLABOR,P1,B,2\n"
    columns = ColumnMap(unit="precinct", party="candidate", votes="votes", race=("office",))
    assert [s.race.id for s in parse_races(text, columns, races=["LABOR"]) if s.race] == ["LABOR"]
    assert "matches several races ('Labor', 'LABOR')" in str(
        csv_error(text, columns, races=["labor"])
    )


def test_rows_of_races_not_watched_are_not_read() -> None:
    text = RACES_CSV + "Ballots Cast,,P1,,99\n"
    e = csv_error(text, RACES)
    assert "the party id is empty (line 7 in race 'Ballots Cast')" in str(e)
    assert e.column == "candidate" and e.row == 6
    assert len(parse_races(text, RACES, races=["Senate", "House / 2"])) == 2


def test_races_without_a_race_column_is_an_error() -> None:
    e = csv_error("province,party,votes\nA,X,1\n", LONG, races=["Senate"])
    assert "names no race column" in str(e)


def test_an_empty_race_and_a_race_read_two_ways() -> None:
    e = csv_error(RACES_CSV + ",,P9,Eve,1\n", RACES)
    assert "the race is empty ('office' and 'district' all empty) (line 7)" in str(e)
    clash = "office,district,precinct,candidate,votes\nA / B,,P1,X,1\nA,B,P1,X,2\n"
    assert "two races read as 'A / B': line 2 and line 3" in str(csv_error(clash, RACES))


def test_a_unit_twice_in_one_race_names_the_race_and_both_lines() -> None:
    e = csv_error(RACES_CSV + "Senate,,P2,Dan,5\n", RACES)
    assert (
        "unit 'P2' has two rows for party 'Dan': line 6 in race 'Senate' and line 7 in race "
        "'Senate'"
    ) in str(e)
    assert e.row == 6


PATH = ColumnMap(unit="precinct", party="candidate", votes="votes", parent_path=("state", "county"))
PATH_CSV = (
    "state,county,precinct,candidate,votes\n"
    "GA,Fulton,Precinct 1,A,10\n"
    "GA,Fulton,Precinct 1,B,5\n"
    "GA,Cobb,Precinct 1,A,3\n"
    "GA,Cobb,Precinct 2,B,4\n"
)


def test_a_parent_path_qualifies_ids_and_gives_the_levels_above() -> None:
    (snap,) = parse_races(PATH_CSV, PATH)
    assert snap.race is None
    assert snap.unit_ids == [
        "GA",
        "GA/Fulton",
        "GA/Cobb",
        "GA/Fulton/Precinct 1",
        "GA/Cobb/Precinct 1",
        "GA/Cobb/Precinct 2",
    ]
    units = snap.units
    assert units["name"].tolist() == [
        "GA",
        "Fulton",
        "Cobb",
        "Precinct 1",
        "Precinct 1",
        "Precinct 2",
    ]
    assert units["parent"].tolist()[:3] == [pd.NA, "GA", "GA"]
    assert units.at["GA/Cobb/Precinct 2", "parent"] == "GA/Cobb"
    assert snap.votes.loc["GA/Fulton"].isna().all()  # skeletons: the engine fills them


def test_the_engine_rolls_the_path_up() -> None:
    (snap,) = parse(CSV_FORMAT, PATH_CSV.encode(), context(PATH))
    assert grid(snap)["GA/Cobb"] == {"A": 3, "B": 4}
    assert grid(snap)["GA"] == {"A": 13, "B": 9}
    assert snap.party_totals().to_dict() == {"A": 13, "B": 9}  # the top level only


def test_a_path_with_a_name_column_keeps_the_feeds_names() -> None:
    columns = ColumnMap(
        unit="code",
        party="candidate",
        votes="votes",
        parent_path=("county",),
        optional={"name": "label", "registered": "registered"},
    )
    text = (
        "county,code,label,registered,candidate,votes\n"
        "Cobb,01,Acworth,100,A,1\nCobb,01,Acworth,100,B,2\nFulton,01,,50,A,3\n"
    )
    (snap,) = parse_races(text, columns)
    assert snap.units["name"].tolist() == ["Cobb", "Fulton", "Acworth", "01"]
    assert snap.units["registered"].tolist() == [pd.NA, pd.NA, 100, 50]


def test_an_empty_path_value_is_named() -> None:
    e = csv_error(PATH_CSV + "GA,,Precinct 3,A,1\n", PATH)
    assert "the county id is empty (line 6)" in str(e) and e.column == "county"


def test_one_column_parent_semantics_are_unchanged() -> None:
    columns = ColumnMap(unit="unit", party="p", votes="v", optional={"parent": "up"})
    snap = parse_csv("unit,up,p,v\nFulton/1,Fulton,A,1\n", columns)
    assert snap.unit_ids == ["Fulton/1"]
    assert snap.units.at["Fulton/1", "parent"] == "Fulton"


TYPES = ColumnMap(
    unit="precinct",
    party="candidate",
    votes=None,
    vote_types=(("Election Day", "election_day_votes"), ("Absentee", "absentee_votes")),
)


def test_vote_types_sum_to_the_votes_and_the_split_is_kept() -> None:
    text = "precinct,candidate,election_day_votes,absentee_votes\nP1,A,10,5\nP1,B,3,\nP2,A,,\n"
    (snap,) = parse_races(text, TYPES)
    assert grid(snap) == {"P1": {"A": 15, "B": 3}, "P2": {"A": None, "B": None}}
    assert snap.vote_types is not None
    assert list(snap.vote_types) == ["Election Day", "Absentee"]
    assert snap.vote_types["Election Day"].loc["P1"].tolist() == [10, 3]
    assert snap.vote_types["Absentee"].at["P1", "B"] is pd.NA  # not reported, not 0


def test_a_total_with_vote_types_must_agree() -> None:
    columns = ColumnMap(
        unit="precinct",
        party="candidate",
        votes="votes",
        vote_types=(("Election Day", "ed"), ("Absentee", "ab")),
    )
    good = "precinct,candidate,votes,ed,ab\nP1,A,15,10,5\nP1,B,9,3,\n"
    (snap,) = parse_races(good, columns)
    assert grid(snap) == {"P1": {"A": 15, "B": 9}}  # B's absentee not in yet: total stands
    e = csv_error(good.replace("P1,A,15", "P1,A,14"), columns)
    assert "votes '14' is not the sum of its vote types (Election Day 10 + Absentee 5 = 15)" in (
        str(e)
    )
    assert "(line 2)" in str(e) and e.column == "votes"
    e = csv_error(good.replace("P1,B,9,3", "P1,B,2,3"), columns)
    assert "Absentee (empty) = 3" in str(e)


def test_a_bad_vote_type_cell_names_its_column() -> None:
    e = csv_error("precinct,candidate,election_day_votes,absentee_votes\nP1,A,1,x\n", TYPES)
    assert e.column == "absentee_votes" and "'x' is not a number (line 2)" in str(e)


def test_vote_types_need_a_long_table() -> None:
    columns = ColumnMap(unit="u", parties="*", vote_types=(("Absentee", "ab"),))
    assert "vote types need a long table" in str(csv_error("u,ab,A\nP,1,2\n", columns))


def test_a_wide_table_with_races_and_a_path() -> None:
    columns = ColumnMap(unit="precinct", parties="*", race=("office",), parent_path=("county",))
    text = "office,county,precinct,Yes,No,Kemp\nQ1,X,1,5,2,\nQ1,Y,1,1,1,\nGov,X,1,,,9\n"
    q1, gov = parse_races(text, columns)
    assert q1.party_ids == ["Yes", "No"] and gov.party_ids == ["Kemp"]
    assert grid(q1)["X/1"] == {"Yes": 5, "No": 2}
    assert gov.unit_ids == ["X", "X/1"]
    e = csv_error(text + "Gov,X,1,,,3\n", columns)
    assert "unit 'X/1' has two rows: line 4 in race 'Gov' and line 5 in race 'Gov'" in str(e)


def test_json_with_races_and_vote_types() -> None:
    columns = ColumnMap(
        unit="u",
        party="p",
        votes=None,
        race=("race",),
        vote_types=(("Early", "early"), ("Day", "day")),
    )
    rows = [
        {"race": "Gov", "u": "A", "p": "X", "early": 1, "day": 2},
        {"race": "Sen", "u": "A", "p": "Y", "early": "3", "day": None},
    ]
    result = JSON_FORMAT.parse(json.dumps(rows).encode(), context(columns))
    assert isinstance(result, list)
    gov, sen = result
    assert grid(gov) == {"A": {"X": 3}} and grid(sen) == {"A": {"Y": 3}}


# --- a zip of CSV files ------------------------------------------------------------------


def zipped(members: dict[str, str | bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in members.items():
            z.writestr(name, text)
    return out.getvalue()


COUNTIES = {
    "counties/": "",
    "counties/a.csv": "province,party,votes\nTakeo,CPP,1\nTakeo,CNRP,2\n",
    "counties/b.csv": "votes,province,party\n3,Kandal,CPP\n",
    "counties/README.txt": "not a table",
}


def test_a_zip_of_csv_files_is_one_table_joined_by_column_name() -> None:
    snap = CSV_FORMAT.parse(zipped(COUNTIES), context())
    assert isinstance(snap, Snapshot)
    assert grid(snap) == {"Takeo": {"CPP": 1, "CNRP": 2}, "Kandal": {"CPP": 3, "CNRP": None}}


def test_members_picks_files_and_errors_name_the_member_and_line() -> None:
    body = zipped({**COUNTIES, "counties/c.csv": "province,party,votes\nPursat,CPP,x\n"})
    e = csv_error_body(body)
    assert "'x' is not a number (counties/c.csv line 2)" in str(e)
    snap = CSV_FORMAT.parse(body, context(members="counties/[ab].csv"))
    assert isinstance(snap, Snapshot) and snap.unit_ids == ["Takeo", "Kandal"]
    e = csv_error_body(body, members="*.tsv")
    assert "no .csv file matching members = '*.tsv'" in str(e)
    assert "'counties/a.csv'" in str(e)


def csv_error_body(body: bytes, columns: ColumnMap | None = LONG, **options: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        CSV_FORMAT.parse(body, context(columns, **options))
    return caught.value


def test_a_member_lacking_a_mapped_column_is_named() -> None:
    body = zipped({**COUNTIES, "d.csv": "province,party,vote\nPursat,CPP,1\n"})
    e = csv_error_body(body)
    assert "d.csv in the zip has no column 'votes' (mapped as votes)" in str(e)


def test_a_member_with_a_header_alone_adds_nothing() -> None:
    body = zipped({**COUNTIES, "empty.csv": "province,party,votes\n", "blank.csv": ""})
    snap = CSV_FORMAT.parse(body, context())
    assert isinstance(snap, Snapshot) and grid(snap)["Kandal"] == {"CPP": 3, "CNRP": None}
    e = csv_error_body(zipped({"empty.csv": "province,party,votes\n"}))
    assert "every .csv file in the zip is empty" in str(e)


def test_a_bad_member_is_named() -> None:
    body = zipped({"a.csv": "<!DOCTYPE html><title>Oops</title></html>"})
    assert "a.csv in the zip: the feed looks like HTML" in str(csv_error_body(body))
    body = zipped({"a.csv": "province,party,votes\nTak\xe9o,CPP,1\n".encode("cp1252")})
    e = csv_error_body(body)
    assert "a.csv in the zip: the feed is not valid utf-8" in str(e) and "cp1252" in str(e)


def test_a_zip_bomb_and_a_broken_zip_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    body = zipped({"big.csv": "province,party,votes\n" + "Takeo,CPP,1\n" * 1000})
    monkeypatch.setattr(table_zip, "MAX_UNZIPPED_BYTES", 5_000)
    e = csv_error_body(body)
    assert "would inflate to 12,021 bytes" in str(e) and "zip bomb" in str(e)
    monkeypatch.undo()
    assert "not a readable zip archive" in str(csv_error_body(body[: len(body) // 2]))
    assert "no .csv file" in str(csv_error_body(zipped({"x.txt": "a"})))


def test_a_zip_with_races_and_a_parent_path() -> None:
    body = zipped(
        {
            "fulton.csv": "county,precinct,office,candidate,votes\nFulton,1,Gov,A,1\n",
            "cobb.csv": "office,candidate,votes,precinct,county\nGov,A,2,1,Cobb\nSen,B,4,1,Cobb\n",
        }
    )
    columns = ColumnMap(
        unit="precinct", party="candidate", votes="votes", race=("office",), parent_path=("county",)
    )
    result = CSV_FORMAT.parse(body, context(columns))
    assert isinstance(result, list)
    gov, sen = result
    assert gov.unit_ids == ["Fulton", "Cobb", "Fulton/1", "Cobb/1"]
    assert sen.unit_ids == ["Cobb", "Cobb/1"]


def test_spellings_are_kept_apart_within_a_race_only() -> None:
    text = (
        "office,district,precinct,candidate,votes\n"
        "House,1,P1,David Clark ,1\nHouse,2,P2,David Clark,2\n"
        "Senate,,P1,Dan ,1\nSenate,,P2,Dan,2\n"
    )
    house1, house2, senate = parse_races(text, RACES)
    assert house1.party_ids == house2.party_ids == ["David Clark"]  # different races
    assert senate.party_ids == ["Dan ", "Dan"]
