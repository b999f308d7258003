"""The fast readers against the careful one: same Snapshot whenever they accept, and they
decline whatever the careful reader refuses (so its message is the one a desk sees)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.csv_table import read_csv_table
from adapters.fast_csv import read_plain_csv
from adapters.fast_json import read_fast_json
from adapters.fast_table import FastTable, frame_table
from adapters.feed_text import decode_text
from adapters.json_table import read_json_table
from adapters.json_template import read_template_json
from adapters.spans import Decline
from adapters.tabular import CSV_FORMAT, JSON_FORMAT, fast_tables, snapshot_from_table
from nightdesk.errors import FeedError
from nightdesk.formats import ColumnMap, ParseContext
from nightdesk.model import Snapshot

FETCHED = datetime(2013, 7, 28, 20, 15, tzinfo=UTC)
LONG = ColumnMap(
    unit="u",
    party="p",
    votes="v",
    optional={"name": "n", "seats": "s", "reporting": "r", "registered": "reg"},
)
WIDE = ColumnMap(unit="u", parties="*", optional={"seats": "s", "reporting": "r"})


def context(columns: ColumnMap, **options: Any) -> ParseContext:
    return ParseContext(source="nec", fetched_at=FETCHED, columns=columns, options=options)


def assert_same(fast: Snapshot, careful: Snapshot) -> None:
    for name in ("votes", "units", "parties"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(careful, name))


def careful_csv(body: bytes, ctx: ParseContext) -> Snapshot:
    text = decode_text(body, encoding="utf-8", source="nec")
    return snapshot_from_table(read_csv_table(text, delimiter=",", source="nec"), ctx.columns, ctx)


def careful_json(body: bytes, ctx: ParseContext, records: str | None) -> Snapshot:
    text = decode_text(body, encoding="utf-8", source="nec")
    table = read_json_table(text, records=records, source="nec")
    return snapshot_from_table(table, ctx.columns, ctx)


def check(
    fast: Callable[[], FastTable], careful: Callable[[], Snapshot], ctx: ParseContext
) -> bool:
    """Compare one fast reader with the careful one; whether the fast one accepted."""
    assert ctx.columns is not None
    try:
        expected: Snapshot | None = careful()
    except FeedError:
        expected = None
    try:  # not fast_snapshot: an unexpected exception must fail the test, not fall back
        votes, units = fast_tables(fast, ctx.columns)
        quick: Snapshot | None = Snapshot.build(
            source="nec", votes=votes, units=units, fetched_at=FETCHED
        )
    except Decline:
        quick = None
    if expected is None:
        assert quick is None, "the fast path accepted what the careful path refuses"
        return False
    if quick is not None:
        assert_same(quick, expected)
    return quick is not None


# --- cells a feed may hold ---------------------------------------------------------------

NUMBERS = st.one_of(
    st.integers(0, 10**6).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "0",
            "007",
            " 12",
            "12 ",
            "-0",
            "-5",
            "+5",
            "1.5",
            "1.0",
            "1e3",
            "1,234",
            "999999999999",
            "1000000000000",
            "0000000000000000001",
            "12x",
            "٣",
            "١٢",
            "½",
            "1_000",
            "\u00a012",
            "12\u2003",
            "Infinity",
            "NaN",
        ]
    ),
)
FRACTIONS = st.one_of(
    st.integers(0, 1000).map(lambda n: f"{n / 1000:.3f}"),
    st.sampled_from(
        [
            "",
            "0",
            "1",
            ".5",
            "5.",
            "45%",
            "45.5%",
            "100%",
            "150%",
            "1.5",
            "45",
            "-0.1",
            " 0.4",
            "0.4 ",
            "45 %",
            "%",
            ".",
            "1e-1",
            "0.1.2",
            "4%5",
            "00.5",
            "0.5%%",
            "NaN",
            "-0",
            "-0.0",
            "5e-1",
        ]
    ),
)
LABELS = st.one_of(
    st.sampled_from(["Takeo", "Kandal", "Takéo", "ពោធិ៍សាត់", " Takeo", "Takeo ", "", "  ", "a\tb"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_characters='\x00\r\n"'), max_size=12),
)
IDS = st.sampled_from(["T1", "T2", "T3", " T1", "T1 ", "", "K9", "ខ"])
PARTIES = st.sampled_from(["CPP", "CNRP", "FUN", " CPP", "", "SRP"])


TRICKY = {
    "u": IDS,
    "p": PARTIES,
    "v": NUMBERS,
    "n": LABELS,
    "s": NUMBERS,
    "r": FRACTIONS,
    "reg": NUMBERS,
}


@st.composite
def long_rows(draw: st.DrawFn, regular: bool) -> list[dict[str, str]]:
    """Rows of a long table: tidy (every unit, every party, figures on every row), then,
    unless ``regular``, shuffled, thinned, and given a few cells drawn from the tricky ones."""
    units = draw(
        st.lists(
            st.sampled_from(["T1", "T2", "T3", "K9", "ខ"]), min_size=1, max_size=4, unique=True
        )
    )
    parties = draw(
        st.lists(
            st.sampled_from(["CPP", "CNRP", "FUN", "SRP"]), min_size=1, max_size=3, unique=True
        )
    )
    plain = st.integers(0, 10**6).map(str)
    rows = []
    for unit in units:
        figures = {
            "n": draw(st.sampled_from(["Takeo", "Takéo", "ពោធិ៍សាត់", "Kampong Cham"])),
            "s": draw(st.integers(1, 12).map(str)),
            "r": draw(st.sampled_from(["0.5", "0.125", "1", "0", "45%", ".25", "100%"])),
            "reg": draw(plain),
        }
        rows += [{"u": unit, "p": party, "v": draw(plain), **figures} for party in parties]
    if regular:
        return rows
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))
    for _ in range(draw(st.integers(0, 3))):
        row = draw(st.integers(0, len(rows) - 1))
        key = draw(st.sampled_from(list(TRICKY)))
        if draw(st.integers(0, 3)) == 0:
            rows[row][key] = ""  # a figure left empty on one row defers to the others
        else:
            rows[row][key] = draw(TRICKY[key])
    if len(rows) > 1 and draw(st.integers(0, 4)) == 0:
        del rows[draw(st.integers(0, len(rows) - 1))]
    return rows


def to_csv(rows: list[dict[str, str]], crlf: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n" if crlf else "\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def plain(cell: str) -> int:
    """A vote count like the cell, that any reader takes."""
    digits = cell.strip()
    return int(digits) % 10**9 if digits.isascii() and digits.isdecimal() else 7


SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(
    long_rows(regular=False),
    st.booleans(),
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(["", "  ", "\t", ",,"])), max_size=2),
    st.booleans(),
)
def test_plain_and_pandas_csv_readers_agree_with_the_careful_one(
    rows: list[dict[str, str]], crlf: bool, blanks: list[tuple[int, str]], cut: bool
) -> None:
    newline = "\r\n" if crlf else "\n"
    lines = to_csv(rows, crlf).decode().split(newline)
    for at, line in blanks:  # blank lines, lines of spaces, empty rows
        lines.insert(min(at, len(lines)), line)
    text = newline.join(lines)
    if cut:  # no newline at the end, or cut off mid-row
        text = text.rstrip("\r\n")[: max(1, len(text) - 5)]
    body = text.encode()
    ctx = context(LONG)
    check(
        lambda: read_plain_csv(body, text, delimiter=",", encoding="utf-8"),
        lambda: careful_csv(body, ctx),
        ctx,
    )
    try:
        table = read_csv_table(text, delimiter=",", source="nec")
    except FeedError:
        return
    check(lambda: frame_table(table.frame), lambda: careful_csv(body, ctx), ctx)


@SETTINGS
@given(long_rows(regular=True))
def test_tidy_csv_is_read_the_fast_way(rows: list[dict[str, str]]) -> None:
    body = to_csv([{"u": r["u"], "p": r["p"], "v": str(plain(r["v"]))} for r in rows])
    ctx = context(ColumnMap(unit="u", party="p", votes="v"))
    assert check(
        lambda: read_plain_csv(body, body.decode(), delimiter=",", encoding="utf-8"),
        lambda: careful_csv(body, ctx),
        ctx,
    )


def json_value(text: str, how: str) -> Any:
    """A cell as a JSON feed might write it: as text, or as a number where it is one."""
    if how == "text":
        return text
    try:
        return json.loads(text) if text.strip() == text and text else text
    except ValueError:
        return text


@SETTINGS
@given(
    long_rows(regular=False),
    st.sampled_from(["text", "number"]),
    st.sampled_from([None, 1, 2]),
    st.sampled_from([None, "results", "data.rows"]),
    st.lists(st.sampled_from([None, True, 1.5, -0.0, {"x": 1}, [1], "7"]), max_size=2),
    st.booleans(),
)
def test_json_readers_agree_with_the_careful_one(
    rows: list[dict[str, str]],
    how: str,
    indent: int | None,
    records: str | None,
    odd: list[Any],
    ascii_only: bool,
) -> None:
    cells = [{k: json_value(v, how) for k, v in row.items()} for row in rows]
    for k, value in enumerate(odd):  # a null, a boolean, a float … in some cell
        cells[k % len(cells)][["v", "s", "r", "u", "n"][k % 5]] = value
    document: Any = cells
    if records == "results":
        document = {"version": 3, "results": cells}
    elif records == "data.rows":
        document = {"data": {"rows": cells, "note": "x"}, "results": []}
    body = json.dumps(document, indent=indent, ensure_ascii=ascii_only).encode()
    ctx = context(LONG, records=records)
    careful = lambda: careful_json(body, ctx, records)  # noqa: E731
    check(lambda: read_template_json(body, records=records), careful, ctx)
    check(lambda: read_fast_json(body, records=records, columns=LONG), careful, ctx)


@SETTINGS
@given(long_rows(regular=True), st.sampled_from([None, 2]))
def test_tidy_json_is_read_the_template_way(rows: list[dict[str, str]], indent: int | None) -> None:
    cells = [
        {
            "u": r["u"],
            "p": r["p"],
            "v": plain(r["v"]),
        }
        for r in rows
    ]
    body = json.dumps({"results": cells}, indent=indent).encode()
    ctx = context(ColumnMap(unit="u", party="p", votes="v"), records="results")
    assert check(
        lambda: read_template_json(body, records="results"),
        lambda: careful_json(body, ctx, "results"),
        ctx,
    )


@SETTINGS
@given(st.binary(min_size=1, max_size=3), st.integers(0, 400), st.booleans())
def test_a_damaged_body_is_never_read_differently(patch: bytes, at: int, is_json: bool) -> None:
    """Bytes overwritten anywhere: each fast reader declines or reads what the careful one
    reads (for JSON, also: never accepts a document the standard library rejects)."""
    rows = [
        {"u": f"T{k}", "p": p, "v": str(k * 7 + j), "n": "Takeo", "s": "3", "r": "0.5", "reg": "90"}
        for k in range(3)
        for j, p in enumerate(["CPP", "CNRP"])
    ]
    if is_json:
        cells = [{**r, "v": int(r["v"]), "s": 3, "r": 0.5} for r in rows]
        clean = json.dumps({"results": cells}, indent=1).encode()
    else:
        clean = to_csv(rows)
    at %= len(clean)
    body = clean[:at] + patch + clean[at + len(patch) :]
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return
    ctx = context(LONG, records="results")
    if is_json:
        careful = lambda: careful_json(body, ctx, "results")  # noqa: E731
        check(lambda: read_template_json(body, records="results"), careful, ctx)
        check(lambda: read_fast_json(body, records="results", columns=LONG), careful, ctx)
    else:
        text = body.decode()
        check(
            lambda: read_plain_csv(body, text, delimiter=",", encoding="utf-8"),
            lambda: careful_csv(body, ctx),
            ctx,
        )


@st.composite
def wide_rows(draw: st.DrawFn) -> list[dict[str, str]]:
    """Rows of a wide table, a few cells drawn from the tricky ones."""
    units = draw(st.lists(IDS, min_size=1, max_size=4))
    rows = [
        {
            "u": unit,
            "CPP": draw(st.integers(0, 999).map(str)),
            "CNRP": draw(st.integers(0, 999).map(str)),
            "s": draw(st.integers(1, 12).map(str)),
            "r": draw(st.sampled_from(["0.5", "1", "45%"])),
        }
        for unit in units
    ]
    for _ in range(draw(st.integers(0, 2))):
        row = rows[draw(st.integers(0, len(rows) - 1))]
        key = draw(st.sampled_from(["CPP", "CNRP", "s", "r"]))
        row[key] = draw(FRACTIONS if key == "r" else NUMBERS)
    return rows


@SETTINGS
@given(wide_rows(), st.sampled_from(["text", "number"]))
def test_wide_tables_agree_with_the_careful_one(rows: list[dict[str, str]], how: str) -> None:
    ctx = context(WIDE)
    body = to_csv(rows)
    check(
        lambda: read_plain_csv(body, body.decode(), delimiter=",", encoding="utf-8"),
        lambda: careful_csv(body, ctx),
        ctx,
    )
    cells = [{k: json_value(v, how) for k, v in row.items()} for row in rows]
    body = json.dumps(cells).encode()
    careful = lambda: careful_json(body, ctx, None)  # noqa: E731
    check(lambda: read_template_json(body, records=None), careful, ctx)
    check(lambda: read_fast_json(body, records=None, columns=WIDE), careful, ctx)


# --- the readers decline what they cannot vouch for ----------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b'u,p,v\n"T1",CPP,1\n',  # a quote: pandas reads it
        b"u,p,v\nT1,CPP,1\rT2,CPP,2\n",  # a lone carriage return
        b"\nu,p,v\nT1,CPP,1\n",  # the header is not first
        b"u,p,v\nT1,CPP\n",  # a short row
        b"u,p,v\nT1,CPP,1,\n",  # a long row
        b"u,p,v\n   \nT1,CPP,1\n",  # a line of spaces
        b"u,p,v,\nT1,CPP,1,\n",  # an unnamed column
        b"u,p,v\nT1,CPP,1\x00\n",  # a NUL
    ],
)
def test_the_plain_csv_reader_declines_the_unusual(body: bytes) -> None:
    with pytest.raises(Decline):
        read_plain_csv(body, body.decode(), delimiter=",", encoding="utf-8")


@pytest.mark.parametrize(
    "body",
    [
        b'[{"u": "T\\"1", "p": "CPP", "v": 1}]',  # an escaped quote
        b'[{"u": "T\\q", "p": "CPP", "v": 1}]',  # not an escape
        b'[{"u": "T1", "p": "CPP", "v": 1}, {"u": "T2", "v": 1, "p": "CPP"}]',  # key order
        b'[{"u": "T1", "p": "CPP", "v": 1}, {"u": "T2", "p": "CPP", "v": "1"}]',  # kinds
        b'[{"u": "T1", "p": "CPP", "v": {"n": 1}}]',  # nested
        b'[{"u": "T1", "p": "CPP", "v": 01}]',  # not JSON
        b'[{"u": "T1", "p": "CPP", "v": 1},]',  # not JSON
        b'[{"u": "T1", "p": "CPP", "v": 1}] x',  # not JSON
        b'[{"u": "T1", "p": "CPP", "v": NaN}]',  # not strict JSON
        b'[{"u": "T1", "p": "CPP", "v": 1, "v": 2}]',  # a key twice
    ],
)
def test_the_template_json_reader_declines_the_unusual(body: bytes) -> None:
    with pytest.raises(Decline):
        read_template_json(body, records=None)


def test_the_template_reader_checks_the_records_path_leads_to_its_array() -> None:
    rows = [{"u": "T1", "p": "CPP", "v": 1}]
    body = json.dumps({"a": {"results": rows}, "results": rows}).encode()
    with pytest.raises(Decline):
        read_template_json(body, records="results")
    body = json.dumps({"a": {"results": rows}, "b": 1}).encode()
    with pytest.raises(Decline):
        read_template_json(body, records="results")  # the path leads elsewhere
    assert read_template_json(body, records="a.results").rows == 1


def test_a_negative_zero_or_an_exponent_is_not_read_as_a_parsed_number() -> None:
    columns = ColumnMap(unit="u", party="p", votes="v", optional={"reporting": "r"})
    for body in (
        b'[{"u": "T1", "p": "CPP", "v": -0, "r": 0.5}]',
        b'[{"u": "T1", "p": "CPP", "v": 1, "r": 5e-1}]',
    ):
        with pytest.raises(Decline):
            table = read_fast_json(body, records=None, columns=columns)
            table.column("v").whole(10**12 - 1)
            table.column("r").fraction()
        with pytest.raises(FeedError):
            JSON_FORMAT.parse(body, context(columns))


def test_both_formats_take_the_fast_way_on_a_tidy_feed(monkeypatch: pytest.MonkeyPatch) -> None:
    import adapters.tabular as tabular

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the careful path was taken")

    monkeypatch.setattr(tabular, "snapshot_from_table", refuse)
    monkeypatch.setattr(tabular, "read_json_table", refuse)
    body = b"u,p,v,s\nT1,CPP,1,3\nT1,CNRP,2,3\r\n\nT2,CPP,0,\nT2,CNRP,,4\n"
    columns = ColumnMap(unit="u", party="p", votes="v", optional={"seats": "s"})
    snap = CSV_FORMAT.parse(body, context(columns))
    assert snap.units["seats"].tolist() == [3, 4]
    json_body = json.dumps([{"u": "T1", "p": "CPP", "v": 1, "s": 3}]).encode()
    assert JSON_FORMAT.parse(json_body, context(columns)).votes.at["T1", "CPP"] == 1
