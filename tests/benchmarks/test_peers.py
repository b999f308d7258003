"""The peer benchmark harness: its table and verdicts, and one quick run when the peer venv exists.

The peer venv is built by ``make bench-peers``, never here; tests that need it skip without it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import peers
from benchmarks.peers import Case, Row, Timing
from tests.conftest import shared_path

#: Small files of the same formats, so a run through the peer venv stays quick.
SMALL = (
    Case("ap/20151103_national.json", "elex", "ap"),
    Case("clarity/county.xml", "clarify", "clarity"),
)


def needs_peer_venv() -> Path:
    python = peers.peer_python(peers.PEER_VENV)
    if python is None:
        pytest.skip(f"no peer venv at {peers.PEER_VENV} (`make bench-peers` builds it)")
    return python


def test_ratio_is_peer_median_over_ours_and_judged_against_the_goal() -> None:
    fast = Row("a.json", "elex", Timing(90.0, 100.0), "parse", Timing(5.0, 10.0))
    slow = Row("a.json", "elex", Timing(90.0, 100.0), "+rollup", Timing(30.0, 40.0))
    assert fast.ratio == pytest.approx(10.0) and fast.verdict() == "met"
    assert slow.ratio == pytest.approx(2.5) and slow.verdict() == "NOT met"
    missing = Row("b.xml", "clarify", Timing(1.0, 2.0), "parse", None, "not available yet")
    assert missing.ratio is None and missing.verdict() == "-"
    lines = peers.table([fast, slow, missing])
    assert "10.0x" in lines[2] and lines[2].endswith("met")
    assert lines[3].startswith(" ") and "elex" not in lines[3]  # peer figures shown once
    assert "not available yet" in lines[4] and "clarify" in lines[4]


def test_an_absent_peer_venv_is_skipped_not_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert peers.main(["--venv", str(tmp_path / "nowhere")]) is False
    assert "skipped, no peer venv" in capsys.readouterr().out


def test_each_peer_runner_times_its_parse_and_counts_its_objects() -> None:
    python = needs_peer_venv()
    ap = peers.time_peer(python, "elex", shared_path("feeds", *SMALL[0].file.split("/")), 1, 0)
    assert ap["counts"]["races"] == 5 and ap["versions"]["elex"] == "2.4.4"
    clarity = shared_path("feeds", *SMALL[1].file.split("/"))
    xml = peers.time_peer(python, "clarify", clarity, 2, 0)
    assert xml["counts"]["contests"] == 1 and len(xml["runs_ms"]) == 2
    assert 0 < xml["best_ms"] <= xml["median_ms"]


def test_a_whole_run_prints_the_table_and_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    needs_peer_venv()
    feeds = shared_path("feeds")
    monkeypatch.setattr(peers, "CASES", SMALL)
    assert peers.main(["--runs", "1", "--feeds", str(feeds)]) is False
    out = capsys.readouterr().out
    assert "peer ms best / med" in out and "what was timed" in out
    for case in SMALL:
        row = next(line for line in out.splitlines() if line.startswith(case.file))
        # Our side is a ratio once the adapter exists, and says so until then.
        assert "x  " in row or "not available yet" in row or "parse failed" in row
