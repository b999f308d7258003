"""The history store on PostgreSQL: the SQLite store's tests that are about the store (not
about its file) run again on a real server, then what only PostgreSQL has — migrations,
NOTIFY, writers in other processes, credentials in the URL, a dropped connection."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator
from datetime import timedelta

import psycopg
import pytest
from hypothesis import given, settings

from nightdesk.errors import StoreError
from nightdesk.model import Snapshot
from nightdesk.store import HistoryStore, display_url
from nightdesk.store_pg import PG_SCHEMA, PostgresStore
from nightdesk.stores import open_store, upgrade
from tests.conftest_pg import with_schema
from tests.engine.test_cells import T0, assert_same, nights

# The SQLite store's tests that hold for any backend: collected here again, with `path` below.
from tests.engine.test_store import (  # noqa: F401
    evidence,
    snap,
    test_a_closed_store_says_so,
    test_a_damaged_body_is_reported_not_returned,
    test_a_record_is_one_transaction,
    test_a_snapshot_must_belong_to_the_evidence_source,
    test_changes_list_what_compare_would_with_times,
    test_evidence_is_byte_identical_and_bodies_share_chunks,
    test_only_distinct_snapshots_are_kept_and_storage_grows_with_changes,
    test_race_calls_and_test_races_round_trip,
    test_repeats_are_skipped_across_restarts_and_writers,
    test_settings_baselines_and_views_survive_a_restart,
    test_several_races_in_one_fetch_share_the_body,
    test_two_writers_racing_never_duplicate,
    test_unit_series_follows_one_unit_through_the_night,
    test_unknown_ids_are_lookup_errors,
)

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")


@pytest.fixture
def path(pg_url: str) -> str:
    """What the imported tests open: a prepared, empty PostgreSQL store."""
    upgrade(pg_url)
    return pg_url


def test_the_url_picks_the_backend(path: str, tmp_path: object) -> None:
    with HistoryStore.open(path) as store:
        assert isinstance(store, PostgresStore)
    with open_store(f"sqlite://{tmp_path}/a.sqlite") as store:
        assert type(store).__name__ == "SqliteStore"
    with pytest.raises(StoreError, match="not a store nightdesk knows"):
        open_store("mysql://user:pw@db/night")


@settings(max_examples=15, deadline=None, derandomize=True)
@given(night=nights(max_steps=5))
def test_every_stored_snapshot_rebuilds_exactly(pg_server: str, night: list[Snapshot]) -> None:
    url = with_schema(pg_server, f"nd_rebuild_{time.monotonic_ns()}")
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {url.rsplit('%3D', 1)[1]}")
    try:
        recorded: dict[int, Snapshot] = {}
        with open_store(url, upgrade=True) as store:
            for k, s in enumerate(night):
                for sid in store.record(evidence(f"body {k}".encode(), at=s.fetched_at), [s]):
                    recorded[sid] = s
        with open_store(url) as store:  # nothing in memory: from the cells alone
            for sid, s in recorded.items():
                assert_same(store.snapshot(sid), s)
            race = night[0].race.id if night[0].race else ""
            assert [e.id for e in store.timeline("nec", race)] == sorted(recorded)
    finally:
        with psycopg.connect(pg_server, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {url.rsplit('%3D', 1)[1]} CASCADE")


# ----------------------------------------------------------------------------- migrations


def test_db_upgrade_on_an_empty_database_then_open(pg_url: str) -> None:
    with pytest.raises(StoreError, match="nightdesk db upgrade --store") as info:
        open_store(pg_url)
    assert "has no nightdesk store" in str(info.value) and "\n" not in str(info.value)
    assert upgrade(pg_url) == (0, PG_SCHEMA)
    assert upgrade(pg_url) == (PG_SCHEMA, PG_SCHEMA)  # again: nothing to do
    with open_store(pg_url) as store:
        assert store.timeline() == [] and store.integrity_check() == "ok"
        assert store.record(evidence(), [snap({"A": [1]}, ["u"])]) == [1]


def test_two_upgrades_at_once_apply_the_migrations_once(pg_url: str) -> None:
    results: list[tuple[int, int]] = []
    threads = [threading.Thread(target=lambda: results.append(upgrade(pg_url))) for _ in "ab"]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [(0, PG_SCHEMA), (PG_SCHEMA, PG_SCHEMA)]


def test_older_newer_and_foreign_schemas_are_refused(pg_url: str) -> None:
    upgrade(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (PG_SCHEMA + 1,))
    with pytest.raises(StoreError, match=rf"newer nightdesk \(schema {PG_SCHEMA + 1}"):
        open_store(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DELETE FROM schema_version")
        conn.execute("INSERT INTO schema_version (version) VALUES (0)")
    with pytest.raises(StoreError, match="run `nightdesk db upgrade --store"):
        open_store(pg_url)
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute("DROP TABLE schema_version")
    with pytest.raises(StoreError, match="not a nightdesk store"):
        open_store(pg_url)


# ----------------------------------------------------------------------------- writers and viewers


def test_writers_in_other_processes_never_duplicate(path: str) -> None:
    """Two processes record the same night at once: the advisory lock makes them take turns."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from datetime import timedelta\n"
        "from nightdesk.stores import open_store\n"
        "from tests.engine.test_store import evidence, snap\n"
        "from tests.engine.test_cells import T0\n"
        "with open_store(sys.argv[1]) as store:\n"
        "    for k in range(60):\n"
        "        s = snap({'A': [k // 2]}, ['u'], at=T0 + timedelta(seconds=k))\n"
        "        store.record(evidence(str(k // 2).encode()), [s])\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", code, path]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    with open_store(path) as store:
        entries = store.timeline()
        keys = [store.snapshot(e.id).content_key() for e in entries]
        assert all(x != y for x, y in itertools.pairwise(keys))
        assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
        assert [e.id for e in entries] == list(range(1, len(entries) + 1))  # no gaps


def test_wait_for_change_wakes_on_another_connections_commit(target: str) -> None:
    with open_store(target) as viewer, open_store(target) as collector:
        assert viewer.wait_for_change(0.05) is False
        committed: list[float] = []

        def write() -> None:
            time.sleep(0.3)
            collector.record(evidence(), [snap({"A": [1]}, ["u"])])
            committed.append(time.monotonic())

        writer = threading.Thread(target=write)
        writer.start()
        assert viewer.wait_for_change(5.0) is True
        woke = time.monotonic()
        writer.join()
        assert woke - committed[0] < 1.0
        assert viewer.timeline()[-1].id == 1  # what woke it is visible
        assert viewer.wait_for_change(0.05) is False  # nothing since


def test_a_commit_before_the_wait_is_not_missed(path: str) -> None:
    with open_store(path) as viewer, open_store(path) as collector:
        viewer.wait_for_change(0)
        collector.record_health("nec", '{"state": "ok"}')
        t = time.monotonic()
        assert viewer.wait_for_change(5.0) is True and time.monotonic() - t < 0.5


def test_a_killed_writer_process_loses_nothing_committed(path: str) -> None:
    from tests.engine.test_store_crash import kill_writers_and_check

    kill_writers_and_check(path)


def test_a_dropped_connection_is_made_again(path: str) -> None:
    with open_store(path) as store:
        store.record(evidence(), [snap({"A": [1]}, ["u"])])
        with psycopg.connect(path, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE application_name = 'nightdesk' AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreError) as info:  # the call in flight fails, in one line
            store.timeline()
        assert "\n" not in str(info.value)
        assert [e.id for e in store.timeline()] == [1]  # the next one connects again
        assert store.wait_for_change(0.1) in (True, False)
        assert store.record(evidence(b"2"), [snap({"A": [2]}, ["u"])]) == [2]


# ----------------------------------------------------------------------------- health, credentials


@pytest.fixture(params=["sqlite", "postgresql"])
def target(request: pytest.FixtureRequest, tmp_path: object) -> str:
    """A store of either backend (the new methods exist on both)."""
    if request.param == "sqlite":
        return f"sqlite://{tmp_path}/night.sqlite"
    return str(request.getfixturevalue("path"))


@pytest.fixture
def any_store(target: str) -> Iterator[HistoryStore]:
    with open_store(target) as store:
        yield store


def test_health_and_the_change_marker_on_both_backends(any_store: HistoryStore) -> None:
    store = any_store
    assert store.health() == {}
    before = store.change_marker()
    store.record_health("nec", '{"state": "ok"}')
    store.record_health("ap", '{"state": "failing"}')
    store.record_health("nec", '{"state": "stale"}')
    health = store.health()
    assert {k: v[0] for k, v in health.items()} == {
        "ap": '{"state": "failing"}',
        "nec": '{"state": "stale"}',
    }
    assert health["nec"][1].tzinfo is not None
    after_health = store.change_marker()
    assert after_health >= before + 3
    store.record(evidence(), [snap({"A": [1]}, ["u"])])
    assert store.change_marker() > after_health
    marker = store.change_marker()
    store.record(evidence(), [snap({"A": [1]}, ["u"])])  # a repeat commits nothing
    assert store.change_marker() == marker
    assert store.wait_for_change(0) is True  # moved since it was opened
    assert store.wait_for_change(0.1) is False


def test_credentials_never_reach_a_message(pg_url: str, closed_port: int) -> None:
    url = f"postgresql://nightdesk:s3cret@127.0.0.1:{closed_port}/night?sslmode=disable"
    assert display_url(url) == f"postgresql://127.0.0.1:{closed_port}/night"
    for attempt in (lambda: open_store(url), lambda: upgrade(url)):
        with pytest.raises(StoreError) as info:
            attempt()
        assert "s3cret" not in str(info.value) and "nightdesk:" not in str(info.value)
        assert "\n" not in str(info.value)
    # A working URL with a password (the test server trusts loopback: any password works).
    scheme, rest = pg_url.split("://", 1)
    user, host = rest.split("@", 1) if "@" in rest else ("", rest)
    if not user or ":" in user:
        pytest.skip("the test server URL carries no plain user to add a password to")
    secret = f"{scheme}://{user}:s3cret@{host}"
    upgrade(secret)
    with open_store(secret) as store:
        assert "s3cret" not in store.where
        store.record(evidence(), [snap({"A": [1]}, ["u"])])
        with pytest.raises(StoreError) as info:
            store.snapshot(99)
        assert "s3cret" not in str(info.value)


def test_later_snapshots_keep_their_order_across_connections(path: str) -> None:
    with open_store(path) as one, open_store(path) as two:
        for k in range(6):
            writer = one if k % 2 else two
            writer.record(
                evidence(str(k).encode()), [snap({"A": [k]}, ["u"], at=T0 + timedelta(k))]
            )
        assert [e.seq for e in one.timeline()] == list(range(1, 7))
        assert_same(two.snapshot(6), snap({"A": [5]}, ["u"], at=T0 + timedelta(5)))
