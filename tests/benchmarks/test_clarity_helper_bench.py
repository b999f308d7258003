"""The Clarity helper benchmark runs and prints a row per setting."""

from __future__ import annotations

import pytest

from benchmarks import clarity_helper
from tests.conftest import shared_path


def test_it_prints_parse_time_and_lateness_with_the_helper_off_and_on(
    capsys: pytest.CaptureFixture[str],
) -> None:
    shared_path("feeds", "clarity", "ga_20180522_primary_detail.xml")  # skips when absent
    clarity_helper.main(["--runs", "2"])
    lines = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line.split()[1:] for line in lines[2:]}
    assert set(rows) == {"off", "on"}
    assert all(len(values) == 4 and float(values[0]) > 0 for values in rows.values())
