"""The xlsx format: workbooks built with openpyxl in tmp dirs, read like CSV; every way an
untrusted body can be wrong (not a workbook, too big inflated, entity tricks, no such sheet,
formulas never calculated) is a FeedError that says so."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest

from adapters import table_zip
from adapters.tabular import XLSX_FORMAT
from nightdesk import config, formats
from nightdesk.errors import ConfigError, FeedError
from nightdesk.formats import ColumnMap, Format, ParseContext
from nightdesk.model import Snapshot

FETCHED = datetime(2013, 7, 28, 20, 15, tzinfo=UTC)
LONG = ColumnMap(unit="province", party="party", votes="votes")
WIDE = ColumnMap(unit="province", parties="*")
SHEET_XML = "xl/worksheets/sheet1.xml"


def workbook(tmp_path: Path, *sheets: tuple[str, list[list[Any]]]) -> bytes:
    """An .xlsx with these sheets (name, rows), saved in ``tmp_path`` and read back."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    path = tmp_path / "results.xlsx"
    book.save(path)
    return path.read_bytes()


def rewrite(body: bytes, member: str, change: Callable[[str], str]) -> bytes:
    """The workbook with one member's XML changed (what openpyxl cannot write)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(body)) as old, zipfile.ZipFile(out, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == member:
                data = change(data.decode()).encode()
            new.writestr(info, data)
    return out.getvalue()


def context(columns: ColumnMap | None = LONG, **options: Any) -> ParseContext:
    return ParseContext(source="nec", fetched_at=FETCHED, columns=columns, options=options)


def parse(body: bytes, columns: ColumnMap | None = LONG, **options: Any) -> Snapshot:
    result = XLSX_FORMAT.parse(body, context(columns, **options))
    assert isinstance(result, Snapshot)
    return result


def error(body: bytes, columns: ColumnMap | None = LONG, **options: Any) -> FeedError:
    with pytest.raises(FeedError) as caught:
        XLSX_FORMAT.parse(body, context(columns, **options))
    return caught.value


def grid(snapshot: Snapshot) -> dict[str, dict[str, int | None]]:
    return {
        unit: {party: (None if pd.isna(v) else int(v)) for party, v in row.items()}
        for unit, row in snapshot.votes.to_dict(orient="index").items()
    }


LONG_ROWS = [["province", "party", "votes"], ["Takeo", "CPP", 120], ["Takeo", "CNRP", 95]]


# --- reading ------------------------------------------------------------------------------


def test_the_plugin_and_its_options() -> None:
    assert isinstance(XLSX_FORMAT, Format)
    assert XLSX_FORMAT.name == "xlsx" and XLSX_FORMAT.needs_columns
    assert set(XLSX_FORMAT.options) == {"sheet", "header_row", "races"}
    if "xlsx" in formats.available():
        assert formats.load("xlsx") is XLSX_FORMAT


def test_a_long_sheet(tmp_path: Path) -> None:
    snap = parse(workbook(tmp_path, ("Results", LONG_ROWS)))
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95}}


def test_a_wide_sheet_with_unit_figures(tmp_path: Path) -> None:
    rows = [
        ["province", "seats", "reporting", "CPP", "CNRP"],
        ["Takeo", 8, 0.45, 120, 95],
        ["Kandal", 11, "100%", 80.0, None],
    ]
    columns = ColumnMap(
        unit="province", parties="*", optional={"seats": "seats", "reporting": "reporting"}
    )
    snap = parse(workbook(tmp_path, ("R", rows)), columns)
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95}, "Kandal": {"CPP": 80, "CNRP": None}}
    assert snap.units.at["Takeo", "seats"] == 8
    assert snap.units.at["Takeo", "reporting"] == pytest.approx(0.45)
    assert snap.units.at["Kandal", "reporting"] == pytest.approx(1.0)


def test_the_first_sheet_by_default_or_by_name_or_number(tmp_path: Path) -> None:
    other = [["province", "party", "votes"], ["Kandal", "CPP", 7]]
    body = workbook(tmp_path, ("Notes", other), ("Results", LONG_ROWS))
    assert parse(body).unit_ids == ["Kandal"]
    assert parse(body, sheet="Results").unit_ids == ["Takeo"]
    assert parse(body, sheet="results").unit_ids == ["Takeo"]  # case aside when unambiguous
    assert parse(body, sheet=2).unit_ids == ["Takeo"]


def test_a_missing_sheet_lists_the_sheets(tmp_path: Path) -> None:
    body = workbook(tmp_path, ("Notes", LONG_ROWS), ("Results", LONG_ROWS))
    e = error(body, sheet="Totals")
    assert "no sheet 'Totals'" in str(e) and "'Notes', 'Results'" in str(e)
    e = error(body, sheet=3)
    assert "no sheet 3" in str(e) and "it has 2" in str(e)


def test_header_row_skips_a_title_block(tmp_path: Path) -> None:
    rows = [["National Election Committee"], [], *LONG_ROWS]
    body = workbook(tmp_path, ("R", rows))
    assert grid(parse(body, header_row=3)) == {"Takeo": {"CPP": 120, "CNRP": 95}}
    e = error(body, header_row=2)
    assert "row 2 of sheet 'R' is empty" in str(e) and "header_row" in str(e)


def test_blank_rows_are_skipped_and_errors_name_the_sheet_row(tmp_path: Path) -> None:
    rows = [*LONG_ROWS, [None, None, None], ["Kandal", "CPP", "12a"]]
    e = error(workbook(tmp_path, ("Results", rows)))
    assert "'12a' is not a number (row 5 of sheet 'Results')" in str(e)
    assert e.column == "votes"


@pytest.mark.parametrize(
    ("cell", "problem"),
    [
        (12.5, "'12.5' is not a whole number"),
        (True, "'TRUE' is not a number"),
        (datetime(2013, 7, 28), "'2013-07-28T00:00:00' is not a number"),
        (-3, "'-3' is negative"),
    ],
)
def test_cells_are_read_as_text_and_refused_like_csv(
    tmp_path: Path, cell: Any, problem: str
) -> None:
    rows = [["province", "party", "votes"], ["Takeo", "CPP", cell]]
    assert problem in str(error(workbook(tmp_path, ("R", rows))))


def test_whole_floats_are_whole_numbers(tmp_path: Path) -> None:
    rows = [["province", "party", "votes"], ["Takeo", "CPP", 120.0], [7, 2013, 5]]
    snap = parse(workbook(tmp_path, ("R", rows)))
    assert grid(snap) == {"Takeo": {"CPP": 120, "2013": None}, "7": {"CPP": None, "2013": 5}}


def test_header_mistakes(tmp_path: Path) -> None:
    twice = [["province", "party", "votes", "party"], ["Takeo", "CPP", 1, "x"]]
    assert "column 'party' appears twice in the header (columns B and D)" in str(
        error(workbook(tmp_path, ("R", twice)))
    )
    unnamed = [["province", None, "party", "votes"], ["Takeo", "x", "CPP", 1]]
    e = error(workbook(tmp_path, ("R", unnamed)))
    assert "column B has no name in the header (row 1) but holds 'x'" in str(e)
    empty_unnamed = [["province", None, "party", "votes"], ["Takeo", None, "CPP", 1]]
    assert grid(parse(workbook(tmp_path, ("R", empty_unnamed)))) == {"Takeo": {"CPP": 1}}
    alone = [["province", "party", "votes"]]
    assert "has a header (row 1) and no rows" in str(error(workbook(tmp_path, ("R", alone))))


def test_cells_right_of_the_header_are_notes_not_data(tmp_path: Path) -> None:
    rows = [["province", "party", "votes"], ["Takeo", "CPP", 120, None, "checked by SN"]]
    assert grid(parse(workbook(tmp_path, ("R", rows)))) == {"Takeo": {"CPP": 120}}


def test_a_missing_mapped_column_is_named(tmp_path: Path) -> None:
    rows = [["province", "party", "vote"], ["Takeo", "CPP", 1]]
    e = error(workbook(tmp_path, ("R", rows)))
    assert "votes column 'votes' (mapped as votes) is not in the table" in str(e)
    assert "renamed to 'vote'" in str(e)


# --- formulas ----------------------------------------------------------------------------


def test_a_formula_without_a_saved_value_is_an_error(tmp_path: Path) -> None:
    rows = [["province", "CPP", "CNRP", "total"], ["Takeo", 120, 95, "=B2+C2"]]
    body = workbook(tmp_path, ("R", rows))
    e = error(body, ColumnMap(unit="province", parties=("CPP", "CNRP", "total")))
    assert "cell D2 of sheet 'R' holds a formula ('=B2+C2') with no saved value" in str(e)
    assert "open and save it" in str(e)
    # An unmapped formula column does not matter.
    snap = parse(body, ColumnMap(unit="province", parties=("CPP", "CNRP")))
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95}}


def test_formulas_count_by_their_saved_values(tmp_path: Path) -> None:
    rows = [["province", "CPP", "CNRP", "total"], ["Takeo", 120, 95, "=B2+C2"]]
    body = rewrite(
        workbook(tmp_path, ("R", rows)),
        SHEET_XML,
        lambda xml: re.sub(r"<v\s*/>", "<v>215</v>", xml),
    )
    snap = parse(body, ColumnMap(unit="province", parties="*"))
    assert grid(snap) == {"Takeo": {"CPP": 120, "CNRP": 95, "total": 215}}


# --- untrusted bodies ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "empty response"),
        (b"province,party,votes\nTakeo,CPP,1\n", 'is it CSV (format = "csv")'),
        (b"<!DOCTYPE html><title>Login</title>", "looks like HTML or XML"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel 97-2003 .xls"),
        (b"PK\x03\x04garbage", "not a readable zip archive"),
    ],
)
def test_bodies_that_are_not_workbooks_are_named(body: bytes, words: str) -> None:
    assert words in str(error(body))


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def test_other_archives_are_named() -> None:
    ods = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b""})
    assert "OpenDocument spreadsheet (.ods)" in str(error(ods))
    assert "binary Excel workbook (.xlsb)" in str(error(_zip({"xl/workbook.bin": b"x"})))
    e = error(_zip({"results.csv": b"a,b\n1,2\n"}))
    assert "not an Excel workbook" in str(e) and 'format = "csv"' in str(e)


def test_a_zip_bomb_is_refused_before_inflating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = workbook(tmp_path, ("R", LONG_ROWS))
    monkeypatch.setattr(table_zip, "MAX_UNZIPPED_BYTES", 1_000)
    e = error(body)
    assert "would inflate to" in str(e) and "zip bomb" in str(e)


def test_entity_expansion_in_a_sheet_is_refused(tmp_path: Path) -> None:
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY a "aaaaaaaaaa">'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    )
    body = rewrite(
        workbook(tmp_path, ("R", LONG_ROWS)),
        SHEET_XML,
        lambda xml: bomb + xml.replace("<t>Takeo</t>", "<t>&b;</t>"),
    )
    e = error(body)
    assert "entities" in str(e) and "refused" in str(e)


def test_broken_xml_in_a_sheet_is_a_feed_error(tmp_path: Path) -> None:
    body = rewrite(
        workbook(tmp_path, ("R", LONG_ROWS)),
        SHEET_XML,
        lambda xml: xml.replace("</sheetData>", "<row r='9'><c r='A9'><v>1</v></sheetData>"),
    )
    e = error(body)
    assert "the workbook cannot be read (ParseError: mismatched tag" in str(e)


def test_a_declared_sheet_size_that_lies_costs_nothing(tmp_path: Path) -> None:
    body = rewrite(
        workbook(tmp_path, ("R", LONG_ROWS)),
        SHEET_XML,
        lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:XFD1048576"', xml),
    )
    assert grid(parse(body)) == {"Takeo": {"CPP": 120, "CNRP": 95}}


# --- through the config -------------------------------------------------------------------


CONFIG = """\
[election]
name = "x"
[[sources]]
name = "nec"
url = "results.xlsx"
format = "xlsx"
{options}
[sources.columns]
unit = "precinct"
parent = ["county"]
party = "candidate"
race = "office"
votes = ["election day", "absentee"]
"""


def test_a_workbook_with_races_a_parent_path_and_vote_types(tmp_path: Path) -> None:
    rows = [
        ["GA 2022, unofficial"],
        ["office", "county", "precinct", "candidate", "election day", "absentee"],
        ["Senate", "Fulton", "1", "Warnock", 10, 5],
        ["Senate", "Fulton", "1", "Walker", 8, None],
        ["Senate", "Cobb", "1", "Warnock", 4, 1],
        ["Governor", "Cobb", "1", "Kemp", 9, 2],
    ]
    body = workbook(tmp_path, ("Cover", [["nothing here"]]), ("Precincts", rows))
    source = config.parse(
        CONFIG.format(options='sheet = "Precincts"\nheader_row = 2\nraces = ["Senate"]')
    ).sources[0]
    assert source.options == {"sheet": "Precincts", "header_row": 2, "races": ["Senate"]}
    fmt = formats.load("xlsx") if "xlsx" in formats.available() else XLSX_FORMAT
    ctx = ParseContext(
        source="nec", fetched_at=FETCHED, columns=source.columns, options=source.options
    )
    (senate,) = formats.parse(fmt, body, ctx)
    assert senate.race is not None and senate.race.id == "Senate"
    assert senate.votes.loc["Fulton/1"].tolist() == [15, 8]
    assert senate.votes.loc["Fulton"].tolist() == [15, 8]  # rolled up by the engine
    assert senate.units.at["Cobb/1", "name"] == "1"
    assert senate.units.at["Cobb/1", "parent"] == "Cobb"
    assert senate.vote_types is not None and list(senate.vote_types) == [
        "Election Day",
        "Absentee",
    ]
    assert senate.vote_types["Absentee"].at["Fulton/1", "Walker"] is pd.NA


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ("sheet = 0", "sheets are counted from 1"),
        ('sheet = ""', "an empty sheet name"),
        ("sheet = true", "a sheet's name, or its number"),
        ("header_row = 0", "rows are counted from 1"),
        ('header_row = "2"', "the number of the row"),
    ],
)
def test_bad_options_are_config_errors(options: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config.parse(CONFIG.format(options=options))
    assert words in str(caught.value)
