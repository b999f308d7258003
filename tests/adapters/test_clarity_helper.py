"""The helper process that runs defusedxml's pass beside the fast reader.

Real helper processes throughout: what a body gets through the helper (a document, or the
refusal and its message) must be what it gets with the helper off, and whatever goes wrong
with the helper (killed, stopped, garbling, never started) may cost time, never a result.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from adapters import clarity_helper, clarity_xml
from adapters.clarity import CLARITY_FORMAT
from adapters.clarity_helper import GIVE_UP_AFTER, CheckHelper
from nightdesk.errors import FeedError
from nightdesk.formats import ParseContext
from tests.adapters.test_clarity import (
    BILLION_LAUGHS,
    EXTERNAL_DTD,
    EXTERNAL_ENTITY,
    FETCHED,
    ODD_BUT_VALID,
    PARAMETER_ENTITY,
    document,
    feed,
)

ALL = lambda key, text: True  # noqa: E731

#: Bodies that must be refused, each with what is wrong with it.
REFUSED = {
    "billion laughs": BILLION_LAUGHS,
    "external entity": EXTERNAL_ENTITY,
    "parameter entity": PARAMETER_ENTITY,
    "external DTD": EXTERNAL_DTD,
    "garbage": b"\x00\x01garbage\xff",
    "JSON": b'{"races": []}',
    "truncated": document()[:-40],
    "HTML page": b"<!DOCTYPE html><html><body>Login</body></html>",
    "wrong root": b"<results/>",
    "only a comment": b"<?xml version='1.0'?><!-- only a comment -->",
    "undefined entity": document(text="A &nbsp; B"),
    "bad UTF-8": document(text="cafXX").replace(b"cafXX", b"caf\xe9"),
    "control character": document(text="a\x01b"),
    "unknown encoding": document().replace(b'version="1.0"', b'version="1.0" encoding="bogus"'),
    # (A name longer than the helper's verdict may carry: the message shows its start.)
    "70,000-character root": ("<" + "é" * 70_000 + "/>").encode(),
}


def read(body: bytes, helper: CheckHelper, monkeypatch: pytest.MonkeyPatch) -> Any:
    """What ``read_document`` gives with this helper: the document, or the exception."""
    monkeypatch.setattr(clarity_xml, "CHECKS", helper)
    try:
        return clarity_xml.read_document(body, ALL)
    except Exception as exc:  # compared below, type and message
        return exc


def same(a: Any, b: Any) -> bool:
    if isinstance(a, Exception) or isinstance(b, Exception):
        return type(a) is type(b) and str(a) == str(b)
    return bool(a == b)


@pytest.fixture
def helper() -> Iterator[CheckHelper]:
    """A helper for bodies of any size, started and ready."""
    made = CheckHelper(min_bytes=0, enabled=True)
    assert made.ready(10.0), "the helper process did not start"
    yield made
    made.close()


@pytest.fixture
def off() -> CheckHelper:
    return CheckHelper(enabled=False)


def test_a_document_read_beside_the_helper_is_the_one_read_without_it(
    helper: CheckHelper, off: CheckHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    for body in (document(), ODD_BUT_VALID, document(text="Judge &quot;A&quot; &#233;lu")):
        with_helper = read(body, helper, monkeypatch)
        assert not isinstance(with_helper, Exception)
        assert same(with_helper, read(body, off, monkeypatch))
    assert helper.checked == 3 and helper.failures == 0
    assert off.checked == 0 and off._proc is None  # (off: never started)


@pytest.mark.parametrize("name", list(REFUSED))
def test_a_refusal_from_the_helper_is_the_one_given_here(
    name: str, helper: CheckHelper, off: CheckHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = REFUSED[name]
    refused = read(body, helper, monkeypatch)
    assert isinstance(refused, FeedError), refused
    assert same(refused, read(body, off, monkeypatch))
    assert helper.checked == 1 and helper.failures == 0
    assert len(str(refused)) < 400  # (a name from the feed is shortened, on or off)


def test_a_large_real_file_is_checked_in_the_default_helper(
    off: CheckHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = feed("ga_20180522_primary_detail.xml")  # 4 MB: above MIN_BYTES
    assert len(body) >= clarity_helper.MIN_BYTES
    helper = CheckHelper(enabled=True)
    try:
        assert helper.ready(10.0)
        doc = read(body, helper, monkeypatch)
        assert helper.checked == 1
        assert same(doc, read(body, off, monkeypatch))
        cut = read(body[: len(body) // 2], helper, monkeypatch)
        assert isinstance(cut, FeedError) and "line" in str(cut)
        assert helper.checked == 2
        small = read(document(), helper, monkeypatch)  # under MIN_BYTES: checked here
        assert not isinstance(small, Exception) and helper.checked == 2
    finally:
        helper.close()


def test_a_parse_never_waits_for_the_helper_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    helper = CheckHelper(min_bytes=0, enabled=True)
    try:
        assert not isinstance(read(document(), helper, monkeypatch), Exception)
        assert helper.checked == 0 and helper._proc is not None  # started, not awaited
        assert helper.ready(10.0)
        assert not isinstance(read(document(), helper, monkeypatch), Exception)
        assert helper.checked == 1
    finally:
        helper.close()


def test_work_on_unchecked_bytes_gives_way_to_the_refusal(helper: CheckHelper) -> None:
    def fails() -> None:
        raise ValueError("the reader choked on bytes that were never XML")

    with pytest.raises(FeedError, match="nightdesk refuses"):
        helper.beside(BILLION_LAUGHS, fails)
    with pytest.raises(FeedError, match="nightdesk refuses"):
        helper.beside(EXTERNAL_ENTITY, lambda: "read anyway")
    # On a body that passes, the work's own error is the error.
    with pytest.raises(ValueError, match="choked"):
        helper.beside(document(), fails)
    with pytest.raises(KeyboardInterrupt):
        helper.beside(document(), _interrupted)
    assert helper.beside(document(), lambda: "read") == "read"
    assert helper.checked == 5 and helper.failures == 0


def _interrupted() -> None:
    raise KeyboardInterrupt


def test_a_killed_helper_costs_time_not_results(
    helper: CheckHelper, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    assert helper._proc is not None
    helper._proc.kill()
    helper._proc.wait()
    with caplog.at_level(logging.INFO, logger="adapters.clarity_helper"):
        assert not isinstance(read(document(), helper, monkeypatch), Exception)
        refused = read(BILLION_LAUGHS, helper, monkeypatch)
    assert isinstance(refused, FeedError) and "nightdesk refuses" in str(refused)
    assert helper.failures == 1 and "runs in this process" in caplog.text
    assert helper.ready(10.0)  # a new helper
    assert not isinstance(read(document(), helper, monkeypatch), Exception)
    assert helper.checked == 1


def test_a_helper_that_stops_answering_is_given_up_in_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helper = CheckHelper(min_bytes=0, enabled=True, seconds_for=lambda size: 0.3)
    try:
        assert helper.ready(10.0) and helper._proc is not None
        stopped = helper._proc
        os.kill(stopped.pid, signal.SIGSTOP)
        started = time.monotonic()
        refused = read(EXTERNAL_ENTITY, helper, monkeypatch)
        took = time.monotonic() - started
        assert isinstance(refused, FeedError) and "<!DOCTYPE r>" in str(refused)
        assert 0.3 <= took < 5.0  # the deadline, then the check here and a kill
        assert helper.failures == 1 and stopped.poll() is not None  # (killed)
    finally:
        helper.close()


GARBLER = f"""
import os, sys
os.write(1, {clarity_helper._READY!r})
sys.stdin.buffer.read(8)
os.write(1, b"\\xff" * 9)
sys.stdin.buffer.read()
"""


def test_a_helper_that_answers_garbage_is_not_believed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    helper = CheckHelper([sys.executable, "-c", GARBLER], min_bytes=0, enabled=True)
    try:
        assert helper.ready(10.0)
        refused = read(BILLION_LAUGHS, helper, monkeypatch)
        assert isinstance(refused, FeedError) and "nightdesk refuses" in str(refused)
        assert helper.failures == 1 and helper.checked == 0
    finally:
        helper.close()


def test_a_helper_that_cannot_start_is_given_up_after_a_few_tries(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    helper = CheckHelper([str(tmp_path / "no-such-python")], min_bytes=0, enabled=True)
    with caplog.at_level(logging.INFO, logger="adapters.clarity_helper"):
        for _ in range(GIVE_UP_AFTER + 2):
            assert not isinstance(read(document(), helper, monkeypatch), Exception)
            assert isinstance(read(BILLION_LAUGHS, helper, monkeypatch), FeedError)
    assert helper.failures == GIVE_UP_AFTER and helper.checked == 0
    assert not helper.ready(0.1)
    assert "from now on" in caplog.text  # said once, as a warning
    assert [r.levelname for r in caplog.records].count("WARNING") == 1
    helper.close()


def test_a_busy_helper_is_not_waited_for(helper: CheckHelper) -> None:
    """Two parses at once: one beside the helper, the other checks here."""
    results: list[Any] = []
    inside = threading.Event()
    release = threading.Event()

    def slow() -> str:
        inside.set()
        release.wait(5)
        return "slow"

    thread = threading.Thread(target=lambda: results.append(helper.beside(document(), slow)))
    thread.start()
    assert inside.wait(5)
    with pytest.raises(FeedError, match="nightdesk refuses"):
        helper.beside(BILLION_LAUGHS, lambda: "never returned")
    assert helper.beside(document(), lambda: "fast") == "fast"
    assert helper.checked == 0  # both checked here: the helper was busy
    release.set()
    thread.join(5)
    assert results == ["slow"] and helper.checked == 1


def test_a_forked_child_does_not_use_its_parents_helper(
    helper: CheckHelper, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(os, "getpid", lambda: -1)
    assert helper.beside(document(), lambda: "read") == "read"
    assert helper.checked == 0


def test_the_helper_is_off_on_request_or_on_one_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(clarity_helper.ENV, "0")
    assert not CheckHelper().enabled
    monkeypatch.setenv(clarity_helper.ENV, "1")
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0})
    assert not CheckHelper().enabled
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert CheckHelper().enabled


def test_closing_stops_the_helper(helper: CheckHelper) -> None:
    proc = helper._proc
    assert proc is not None and proc.poll() is None
    helper.close()
    assert proc.poll() is not None
    assert helper.beside(document(), lambda: "read") == "read"  # here, after close
    assert helper._proc is None


def test_the_format_reads_a_large_file_the_same_with_the_helper_on_or_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = feed("ga_20180724_primary_runoff_detail.xml")
    ctx = ParseContext(source="enr", fetched_at=FETCHED)
    helper = CheckHelper(min_bytes=0, enabled=True)
    try:
        assert helper.ready(10.0)
        monkeypatch.setattr(clarity_xml, "CHECKS", helper)
        on = CLARITY_FORMAT.parse(body, ctx)
        assert helper.checked == 1
        monkeypatch.setattr(clarity_xml, "CHECKS", CheckHelper(enabled=False))
        off = CLARITY_FORMAT.parse(body, ctx)
    finally:
        helper.close()
    assert [s.race for s in on] == [s.race for s in off]
    assert all(a.votes.equals(b.votes) for a, b in zip(on, off, strict=True))
