"""The clarity format: real Clarity files, the zip wrapper, contest choice, hostile XML."""

from __future__ import annotations

import io
import logging
import xml.etree.ElementTree as ET
import zipfile
from collections import defaultdict
from datetime import UTC, datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

import adapters.clarity as module
from adapters import clarity_zip
from adapters.clarity import CLARITY_FORMAT, ClarityFormat, _check_contests
from adapters.clarity_fast import read_fast
from adapters.clarity_time import clarity_time
from adapters.clarity_xml import read_document
from nightdesk.errors import FeedError
from nightdesk.formats import Format, ParseContext, load
from nightdesk.formats import parse as run_format
from nightdesk.model import Snapshot
from tests.adapters.test_clarity_speed_paths import columns_agree
from tests.conftest import shared_path

FETCHED = datetime(2018, 5, 23, 1, 0, tzinfo=UTC)
FILES = (
    "county.xml",
    "precinct.xml",
    "ga_20180522_primary_detail.xml",
    "ga_20180724_primary_runoff_detail.xml",
)
GA_FILES = FILES[2:]


def context(headers: dict[str, str] | None = None, **options: Any) -> ParseContext:
    return ParseContext(source="enr", fetched_at=FETCHED, options=options, headers=headers or {})


def parse(body: bytes, **options: Any) -> list[Snapshot]:
    return CLARITY_FORMAT.parse(body, context(**options))


def feed(name: str) -> bytes:
    return shared_path("feeds", "clarity", name).read_bytes()


@cache
def _parsed(name: str) -> tuple[Snapshot, ...]:
    return tuple(parse(feed(name)))


def parsed(name: str) -> tuple[Snapshot, ...]:
    """A reference file's snapshots, parsed once per test run (the Georgia primary takes
    seconds: one Snapshot per contest)."""
    shared_path("feeds", "clarity", name)  # skip, not cache, when absent
    return _parsed(name)


def raw_sums(path: Path) -> dict[str, dict[str, dict[str, int]]]:
    """contest key → choice key → unit → votes, summed over the vote types, read with the
    standard library's ElementTree (independent of the adapter)."""
    sums: dict[str, dict[str, dict[str, int]]] = {}
    for contest in ET.parse(path).getroot().iter("Contest"):
        choices: dict[str, dict[str, int]] = {}
        for choice in contest.findall("Choice"):
            units: dict[str, int] = defaultdict(int)
            for vote_type in choice.findall("VoteType"):
                for unit in vote_type:
                    if unit.tag in ("County", "Precinct"):
                        units[unit.get("name", "")] += int(unit.get("votes", ""))
            choices[choice.get("key", "")] = dict(units)
        sums[contest.get("key", "")] = choices
    return sums


# ------------------------------------------------------------------ the reference files


@pytest.mark.parametrize("name", FILES)
def test_every_contest_matches_an_independent_sum_of_the_raw_file(name: str) -> None:
    path = shared_path("feeds", "clarity", name)
    expected = raw_sums(path)
    snapshots = parsed(name)
    assert [s.race.id for s in snapshots if s.race] == list(expected)
    for snap in snapshots:
        assert snap.race is not None
        want = expected[snap.race.id]
        assert list(snap.votes.columns) == list(want)
        for choice, units in want.items():
            got = snap.votes[choice].dropna()
            assert got.to_dict() == units, (snap.race.id, choice)
            assert int(snap.party_totals()[choice]) == sum(units.values())


@pytest.mark.parametrize("name", GA_FILES)
def test_georgia_totals_equal_each_choices_total_votes(name: str) -> None:
    path = shared_path("feeds", "clarity", name)
    stated = {
        (c.get("key"), ch.get("key")): int(ch.get("totalVotes", ""))
        for c in ET.parse(path).getroot().iter("Contest")
        for ch in c.findall("Choice")
    }
    got = {
        (s.race.id, choice): int(total)
        for s in parsed(name)
        if s.race
        for choice, total in s.party_totals().items()
    }
    assert got == stated


def test_the_georgia_primary_in_numbers() -> None:
    snapshots = parsed("ga_20180522_primary_detail.xml")
    assert len(snapshots) == 469
    assert len({s.race.id for s in snapshots if s.race}) == 469
    assert sum(len(s.parties) for s in snapshots) == 653
    assert max(len(s.votes) for s in snapshots) == 159
    governor = snapshots[0]
    assert governor.race is not None
    assert (governor.race.id, governor.race.name) == ("20010", "Governor - REP")
    assert governor.published_at == datetime(
        2018, 8, 8, 15, 49, 7, tzinfo=timezone(-timedelta(hours=4))
    )
    assert governor.vote_types is not None
    assert list(governor.vote_types) == [
        "Election Day",
        "Absentee by Mail",
        "Advance in Person",
        "Provisional",
    ]
    # A primary: every candidate is REP, so the party is no label of its own.
    assert governor.parties["short_name"].isna().all()
    assert governor.parties.at["40", "name"] == "BRIAN KEMP  (REP)"
    assert governor.fetched_at == FETCHED


@pytest.mark.parametrize("name", FILES)
def test_vote_types_are_kept_and_sum_to_the_totals(name: str) -> None:
    for snap in parsed(name):
        assert snap.vote_types, snap.race
        total = sum(t.fillna(0).to_numpy(dtype=np.int64) for t in snap.vote_types.values())
        assert np.array_equal(total, snap.votes.fillna(0).to_numpy(dtype=np.int64))
        for table in snap.vote_types.values():
            assert table.index.equals(snap.votes.index)
            assert table.columns.equals(snap.votes.columns)
            assert all(str(d) == "Int64" for d in table.dtypes)


def test_county_file_reporting_comes_from_the_contests_participating_counties() -> None:
    path = shared_path("feeds", "clarity", "ga_20180522_primary_detail.xml")
    root = ET.parse(path).getroot()
    contest = next(root.iter("Contest"))
    expected = {
        c.get("name"): int(c.get("precinctsReported", ""))
        / int(c.get("precinctsParticipating", ""))
        for c in contest.find("ParticipatingCounties") or []
    }
    snap = parsed("ga_20180522_primary_detail.xml")[0]
    assert snap.units["reporting"].to_dict() == pytest.approx(expected)
    # The turnout block's ballot counts are Georgia's broken ones: never used.
    assert snap.units["ballots_cast"].isna().all()
    assert snap.units["registered"].isna().all()


def test_precinct_file() -> None:
    (snap,) = parse(feed("precinct.xml"))
    assert snap.race is not None
    assert (snap.race.id, snap.race.name) == ("4", "US Senator - REPUBLICAN")
    assert len(snap.votes) == 33
    assert snap.units["parent"].isna().all()
    assert list(snap.votes.index[:3]) == ["AB", "A101", "A102"]
    assert list(snap.parties["name"]) == [
        "Matt BEVIN",
        "Brad COPAS",
        "Mitch McCONNELL",
        "Chris PAYNE",
        "Shawna STERLING",
    ]
    # The contest's own Undervotes/Overvotes are not a candidate's votes.
    assert snap.vote_types is not None and list(snap.vote_types) == ["Election"]
    assert snap.party_totals().to_dict() == {"1": 820, "2": 11, "3": 1135, "4": 48, "5": 46}
    # A precinct file says nothing per precinct about reporting: unknown, not guessed.
    assert snap.units["reporting"].isna().all()
    assert snap.published_at == datetime(
        2014, 5, 20, 20, 19, 21, tzinfo=timezone(-timedelta(hours=4))
    )


def test_county_file_choice_party_is_its_label(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        (snap,) = parse(feed("county.xml"))
    assert snap.parties.at["001", "short_name"] == "REP"
    assert len(snap.votes) == 75
    assert snap.units["reporting"].eq(1.0).all()
    # The fixture's totalVotes (477,734) is not what its counties add up to: said, not used.
    assert "477,734" in caplog.text and "462,123" in caplog.text
    assert int(snap.party_totals()["001"]) == 462_123


@pytest.mark.parametrize("name", FILES)
def test_fast_and_careful_readers_agree(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    body = feed(name)
    fast = parsed(name)

    monkeypatch.setattr(module, "read_document", lambda b, w: read_document(b, w, fast=False))
    careful = parse(body)
    assert len(fast) == len(careful)
    for a, b in zip(fast, careful, strict=True):
        assert a.race == b.race
        assert a.same_counts(b)
        assert a.parties.equals(b.parties)
        assert a.vote_types is not None and b.vote_types is not None
        assert list(a.vote_types) == list(b.vote_types)
        assert all(a.vote_types[k].equals(b.vote_types[k]) for k in a.vote_types)


# ------------------------------------------------------------------ small documents


def document(
    cells: str = '<County name="Appling" votes="10" /><County name="Bacon" votes="5" />',
    *,
    text: str = "Governor",
    head: str = "",
    timestamp: str = "8/8/2018 3:49:07 PM EDT",
    extra_contests: str = "",
) -> bytes:
    return f"""<?xml version="1.0"?>{head}
<ElectionResult>
  <Timestamp>{timestamp}</Timestamp>
  <Region>GA</Region>
  <Contest key="1" text="{text}">
    <Choice key="10" text="KEMP" party="REP" totalVotes="15">
      <VoteType name="Election Day" votes="15">{cells}</VoteType>
    </Choice>
  </Contest>{extra_contests}
</ElectionResult>""".encode()


ODD_BUT_VALID = b"""<?xml version="1.0" encoding="UTF-8"?>
<!-- comments before the root are fine -->
<ElectionResult>
  <Timestamp>5/20/2014 8:19:21 PM EDT</Timestamp>
  <Region>Greenup &amp; Co</Region>
  <VoterTurnout totalVoters="0" ballotsCast="3"><Precincts>
    <Precinct name="P1" totalVoters="0" ballotsCast="1" percentReporting="4" />
  </Precincts></VoterTurnout>
  <Contest key="4" text="Judge &quot;A&quot; &#233;lu" voteFor="1">
    <ParticipatingCounties>
      <County name="P1" precinctsParticipating="2" precinctsReported="1" x="y" />
    </ParticipatingCounties>
    <VoteType name="Undervotes" votes="7"><Precinct name="P1" votes="7" /></VoteType>
    <Choice key="1" text="ANN" totalVotes="3">
      <VoteType name="Election" votes="3"><Precinct name="P1" votes="1" />
        <Precinct name="P2" votes="2"/>
      </VoteType>
      <VoteType name="Absentee" votes="0"/>
    </Choice>
    <Choice key="2" text="BOB" totalVotes="0" />
  </Contest>
  <Contest key="5" text="Skipped"><Choice key="1" text="X" totalVotes="0" /></Contest>
</ElectionResult>"""


def documents_agree(body: bytes, wanted: Any) -> None:
    fast, careful = read_document(body, wanted), read_document(body, wanted, fast=False)
    assert fast.segments is not None and careful.segments is None
    columns_agree(fast)
    fast.unit_names = [n.decode() if isinstance(n, bytes) else n for n in fast.unit_names]
    fast.vote_texts = [v.decode() if isinstance(v, bytes) else v for v in fast.vote_texts]
    for contest in careful.contests:
        contest.line = None  # (the fast reader does not count lines)
    assert fast == careful


def test_the_fast_reader_reads_odd_but_valid_layouts_as_the_careful_one() -> None:
    read_fast(ODD_BUT_VALID, lambda key, text: True)  # it does not decline them
    documents_agree(ODD_BUT_VALID, lambda key, text: key == "4")
    documents_agree(ODD_BUT_VALID, lambda key, text: True)
    (snap,) = parse(ODD_BUT_VALID, contests=["4"])
    assert snap.race is not None and snap.race.name == 'Judge "A" \xe9lu'
    assert snap.votes["1"].to_dict() == {"P1": 1, "P2": 2}
    assert snap.votes["2"].isna().all()  # a choice with no cells: not reported, not zero
    assert snap.units.at["P1", "reporting"] == 0.5
    assert pd.isna(snap.units.at["P2", "reporting"])
    assert snap.vote_types is not None and list(snap.vote_types) == ["Election", "Absentee"]
    assert snap.vote_types["Absentee"].isna().all().all()


@pytest.mark.parametrize("name", FILES)
def test_the_readers_agree_on_the_reference_files(name: str) -> None:
    documents_agree(feed(name), lambda key, text: True)


def test_another_declared_encoding_is_read() -> None:
    body = document('<County name="Peñasco" votes="4" />').replace(
        b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="ISO-8859-1"?>'
    )
    (snap,) = parse(body.replace("ñ".encode(), "ñ".encode("latin-1")))
    assert list(snap.votes.index) == ["Peñasco"]


def test_a_layout_the_fast_reader_declines_reads_the_same() -> None:
    plain = parse(document())[0]
    quoted = parse(
        document(
            "<County name='Appling' votes='10'/>\n<County  name=\"Bacon\" votes=\"5\"></County>"
        )
    )[0]
    assert quoted.same_counts(plain)
    escaped = parse(document('<County name="A&amp;B" votes="3" />'))[0]
    assert list(escaped.votes.index) == ["A&B"]
    referenced = parse(document('<County name="A" votes="&#49;2" />'))[0]
    assert referenced.votes.to_dict() == {"10": {"A": 12}}


def test_hostile_names_stay_literal_and_printable() -> None:
    (snap,) = parse(
        document(
            '<County name="[bold]red[/bold]" votes="1" /><County name="x&#x9b;2J" votes="2" />',
            text="[link=http://evil]Governor&#x9b;[/link]",
        )
    )
    assert list(snap.votes.index) == ["[bold]red[/bold]", "x\ufffd2J"]
    assert snap.race is not None
    assert snap.race.name == "[link=http://evil]Governor\ufffd[/link]"


def test_a_control_character_xml_forbids_is_a_syntax_error() -> None:
    with pytest.raises(FeedError, match=r"not valid XML.*line 7"):
        parse(document('<County name="a&#x1b;[2J" votes="1" />'))


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        (
            '<County name="Appling" votes="12a" />',
            r"contest '1' \(Governor\), choice 'KEMP', Election Day, unit 'Appling': votes '12a'",
        ),
        ('<County name="Appling" votes="-3" />', "votes '-3' is not a whole number"),
        ('<County name="Appling" votes="" />', "votes '' is not a whole number"),
        ('<County name="Appling" votes="99999999999999999999999" />', "not a whole number"),
        ('<County name="A" votes="1" /><County name="A" votes="2" />', "unit 'A' appears 2 times"),
        ('<County votes="1" />', r"lacks its 'name' attribute \(line 7"),
    ],
)
def test_bad_cells_are_feed_errors_that_say_where(cells: str, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(document(cells))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "empty response"),
        (b"   \n", "empty response"),
        (b"\x00\x01garbage\xff", r"not valid XML: .*\(line 1, column \d+\)"),
        (
            b'{"races": []}',
            r"not valid XML: not well-formed \(invalid token\) \(line 1, column 1\)",
        ),
        (b"<ElectionResult><Contest key='1'>", r"not valid XML: no element found \(line 1"),
        (b"<results/>", r"root element is <results>, not <ElectionResult>"),
        (b"<html><body>Service unavailable</body></html>", "HTML page"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "HTML page"),
        (b"<?xml version='1.0'?><ElectionResult></ElectionResult>", "lists no contests"),
        (b"<?xml version='1.0'?><!-- only a comment -->", "no element found"),
        (
            b'<?xml version="1.0" encoding="bogus"?><ElectionResult/>',
            r"declares an encoding Python does not know \(unknown encoding: bogus\)",
        ),
    ],
)
def test_garbage_is_a_feed_error(body: bytes, message: str) -> None:
    with pytest.raises(FeedError, match=message):
        parse(body)


def test_a_truncated_real_file_names_the_line() -> None:
    body = feed("ga_20180724_primary_runoff_detail.xml")
    cut = body[: len(body) // 2]
    with pytest.raises(FeedError, match=r"not valid XML: .*\(line \d+, column \d+\)"):
        parse(cut)


def test_a_feed_error_never_escapes_as_another_exception() -> None:
    """Through the engine's entry point, as the poller calls it."""
    with pytest.raises(FeedError, match="source 'enr'"):
        run_format(CLARITY_FORMAT, b"<ElectionResult><Contest/></ElectionResult>", context())


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<ElectionResult><Region>&lol4;</Region></ElectionResult>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ElectionResult><Region>&xxe;</Region></ElectionResult>"""

PARAMETER_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE r [<!ENTITY % remote SYSTEM "http://127.0.0.1:9/evil.dtd"> %remote;]>
<ElectionResult/>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE ElectionResult SYSTEM "http://127.0.0.1:9/clarity.dtd">
<ElectionResult/>"""


@pytest.mark.parametrize(
    "body", [BILLION_LAUGHS, EXTERNAL_ENTITY, PARAMETER_ENTITY, EXTERNAL_DTD], ids=str
)
def test_entities_and_document_types_are_refused(body: bytes) -> None:
    with pytest.raises(FeedError) as caught:
        parse(body)
    message = str(caught.value)
    assert "nightdesk refuses" in message
    assert "XML bomb" in message
    assert "Traceback" not in message


def test_the_refusal_reaches_the_engine_as_a_feed_error() -> None:
    with pytest.raises(FeedError, match=r"source 'enr': .*nightdesk refuses"):
        run_format(CLARITY_FORMAT, BILLION_LAUGHS, context())


# ------------------------------------------------------------------ choosing contests


def test_contests_by_key_and_by_text() -> None:
    body = feed("ga_20180522_primary_detail.xml")
    by_key = parse(body, contests=["20010", "21020"])
    assert [s.race.id for s in by_key if s.race] == ["20010", "21020"]
    # Text: case and runs of spaces do not count; the feed's order is kept.
    by_text = parse(body, contests=["lieutenant   governor - dem", "GOVERNOR - REP"])
    assert [s.race.id for s in by_text if s.race] == ["20010", "21020"]
    assert by_text[0].same_counts(by_key[0])


def test_a_contest_that_matches_nothing_names_close_ones() -> None:
    body = feed("ga_20180522_primary_detail.xml")
    with pytest.raises(
        FeedError,
        match=r"no contest has the key or name 'Govenor - REP'.*close names: 'Governor - REP'",
    ):
        parse(body, contests=["20010", "Govenor - REP"])
    with pytest.raises(
        FeedError, match=r"'zzz'.*the feed's contests are 20010 'Governor - REP'.*\(469 in all\)"
    ):
        parse(body, contests=["zzz"])


def test_the_contests_option_is_checked() -> None:
    assert _check_contests(["20010", 20020]) is None
    assert _check_contests([]) is not None
    assert _check_contests([""]) is not None
    assert _check_contests([1.5]) is not None
    assert _check_contests([True]) is not None
    with pytest.raises(FeedError, match="option contests"):
        parse(document(), contests=[])


def test_duplicate_contest_keys_are_refused() -> None:
    again = """
  <Contest key="1" text="Again"><Choice key="1" text="X" totalVotes="0" /></Contest>"""
    with pytest.raises(FeedError, match="contest key '1' appears twice"):
        parse(document(extra_contests=again))


# ------------------------------------------------------------------ detail.zip


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_detail_zip_reads_as_its_xml(tmp_path: Path) -> None:
    xml = feed("county.xml")
    path = tmp_path / "detail.zip"
    path.write_bytes(zipped({"detail.xml": xml}))
    (from_zip,) = parse(path.read_bytes())
    (plain,) = parse(xml)
    assert from_zip.same_counts(plain)
    assert from_zip.vote_types is not None and list(from_zip.vote_types) == list(
        plain.vote_types or {}
    )


@pytest.mark.parametrize(
    ("members", "message"),
    [
        ({"summary.csv": b"a,b"}, r"holds no detail.xml \(it holds 'summary.csv'\)"),
        ({}, r"holds no detail.xml \(it holds nothing\)"),
        ({"a/detail.xml": b"<x/>", "b/DETAIL.XML": b"<x/>"}, "holds 2 files called detail.xml"),
    ],
)
def test_a_zip_without_exactly_one_detail_xml_is_refused(
    members: dict[str, bytes], message: str
) -> None:
    with pytest.raises(FeedError, match=message):
        parse(zipped(members))


def test_a_zip_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    body = zipped({"detail.xml": document() + b" " * 100_000})
    assert len(body) < 2_000
    with pytest.raises(FeedError, match=r"larger than 50,000 bytes unzipped.*zip bomb"):
        parse(body, max_unzipped_bytes=50_000)
    # A member whose header understates its size is not inflated past it.
    monkeypatch.setattr(clarity_zip, "_CHUNK", 4096)
    real = zipfile.ZipFile._RealGetContents

    def lying(self: zipfile.ZipFile) -> None:
        real(self)
        for info in self.infolist():
            info.file_size = 10

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lying)
    # (zipfile stops at the declared size and then finds the checksum wrong.)
    with pytest.raises(FeedError, match="damaged"):
        parse(body, max_unzipped_bytes=50_000)


def test_a_member_that_inflates_past_its_header_is_stopped() -> None:
    class Archive:
        def open(self, info: zipfile.ZipInfo) -> io.BytesIO:
            return io.BytesIO(b"x" * 5_000_000)

    info = zipfile.ZipInfo("detail.xml")
    info.file_size = 10
    with pytest.raises(FeedError, match="inflates past that"):
        clarity_zip._read_capped(Archive(), info, 1_000_000)  # type: ignore[arg-type]


def test_a_damaged_zip_is_a_feed_error() -> None:
    body = zipped({"detail.xml": feed("county.xml")})
    with pytest.raises(FeedError, match="zip"):
        parse(body[: len(body) // 2])


# ------------------------------------------------------------------ the published time


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "8/8/2018 3:49:07 PM EDT",
            datetime(2018, 8, 8, 15, 49, 7, tzinfo=timezone(timedelta(hours=-4))),
        ),
        (
            "11/13/2014 2:58:41 PM CST",
            datetime(2014, 11, 13, 14, 58, 41, tzinfo=timezone(timedelta(hours=-6))),
        ),
        (
            "11/4/2014 12:05:00 AM PST",
            datetime(2014, 11, 4, 0, 5, tzinfo=timezone(timedelta(hours=-8))),
        ),
        ("11/4/2014 12:05 PM UTC", datetime(2014, 11, 4, 12, 5, tzinfo=UTC)),
        (
            "11/4/2014 21:05:00 +01:00",
            datetime(2014, 11, 4, 21, 5, tzinfo=timezone(timedelta(hours=1))),
        ),
        ("11/4/2014 9:05:00 PM", None),  # no zone: not guessed
        ("11/4/2014 9:05:00 PM XYZ", None),
        ("13/45/2014 9:05:00 PM EST", None),
        ("yesterday", None),
        ("", None),
    ],
)
def test_clarity_time(text: str, expected: datetime | None) -> None:
    assert clarity_time(text) == expected


def test_a_stamp_without_zone_falls_back_to_last_modified() -> None:
    body = document(timestamp="8/8/2018 3:49:07 PM")
    (snap,) = CLARITY_FORMAT.parse(
        body, context(headers={"Last-Modified": "Wed, 08 Aug 2018 19:50:00 GMT"})
    )
    assert snap.published_at == datetime(2018, 8, 8, 19, 50, tzinfo=UTC)
    (snap,) = parse(body)
    assert snap.published_at is None


# ------------------------------------------------------------------ the plugin


def test_the_format_is_found_by_name() -> None:
    fmt = load("clarity")
    assert fmt is CLARITY_FORMAT
    assert isinstance(fmt, Format)
    assert isinstance(fmt, ClarityFormat)
    assert fmt.needs_columns is False
    assert set(fmt.options) == {"contests", "max_unzipped_bytes"}


def test_a_contest_without_unit_cells_is_one_unit_for_the_region() -> None:
    body = document(cells="")
    (snap,) = parse(body)
    assert list(snap.votes.index) == ["GA"]
    assert snap.votes.to_dict() == {"10": {"GA": 15}}
    assert pd.isna(snap.units.at["GA", "reporting"])


@pytest.mark.parametrize("stated", ["²", "١٥", "9" * 5000, "1,5", " 15"])
@pytest.mark.parametrize("fast", [True, False])
def test_odd_stated_figures_are_no_figures_not_crashes(
    stated: str, fast: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unicode digits ("²", Arabic-Indic), a 5,000-digit number (past Python's int-from-text
    limit) or text: a stated total is only compared when it is a plain whole number."""
    from adapters import clarity_xml

    if not fast:
        monkeypatch.setattr(clarity_xml, "read_fast", _decline)
    body = document().replace(b'totalVotes="15"', f'totalVotes="{stated}"'.encode())
    body = body.replace(b'votes="15"', f'votes="{stated}"'.encode())
    (snapshot,) = parse(body)
    assert snapshot.votes.loc["Appling"].tolist() == [10]


def _decline(*args: object) -> None:
    from adapters.spans import Decline

    raise Decline("test: the careful reader")
