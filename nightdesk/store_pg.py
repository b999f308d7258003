"""The history store on PostgreSQL: the newsroom setup (one collector writes, many viewers
read and are told of each commit).

The same tables and guarantees as the SQLite store (:mod:`nightdesk.store`, whose core runs
every query): cells as changes, bodies chunked once per SHA-256, one transaction per record
deciding "new or not" inside it. What differs, and why:

- Writers are serialised by a transaction-level advisory lock (``pg_advisory_xact_lock``),
  PostgreSQL's ``BEGIN IMMEDIATE``: two collectors by mistake never store a duplicate, and
  ids are the highest + 1 as on SQLite (dense, no sequence gaps after a rollback).
- Each commit bumps ``marker`` and sends ``NOTIFY nightdesk`` inside the transaction, so a
  viewer is woken exactly when the data is visible (:meth:`HistoryStore.wait_for_change`
  waits on a second connection that LISTENs).
- The schema is versioned (``schema_version``) and changed only by ``nightdesk db upgrade
  --store URL`` (:func:`upgrade`): opening an older or empty database refuses and names the
  command, so viewers can run under a read-only role: the GRANTs are in the README
  ("Newsroom"), tested against a real server by ``tests/engine/test_readonly_role_pg.py``.

  (A viewer under that role cannot keep a baseline or a view in the database.)
- Credentials come from libpq: ``PGPASSWORD``, ``~/.pgpass``, ``PGSERVICE``; a password in the
  URL works but is never shown (``display_url`` in every message).
- A lost connection (the server restarted) fails the call in progress with a StoreError;
  the next call connects again.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time
from collections.abc import Sequence
from typing import Any, Self
from urllib.parse import unquote, urlsplit

import psycopg

from nightdesk.errors import StoreError
from nightdesk.store import HistoryStore, display_url

__all__ = ["CHANNEL", "PG_SCHEMA", "PostgresStore", "upgrade"]

#: The LISTEN/NOTIFY channel; the payload is the change marker.
CHANNEL = "nightdesk"
#: ``pg_advisory_xact_lock`` key of the writers ("ndsk", as SQLite's application_id).
WRITE_LOCK = 0x6E64736B
CONNECT_TIMEOUT = 10

_MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        # The SQLite store's schema 3, in PostgreSQL's types. Cell batches and body chunks
        # are zlib already: STORAGE EXTERNAL keeps PostgreSQL from compressing them again.
        """
        CREATE TABLE streams (
            id BIGINT PRIMARY KEY,
            source TEXT NOT NULL,
            race TEXT NOT NULL,
            UNIQUE (source, race)
        );
        CREATE TABLE chunks (
            id BIGINT PRIMARY KEY,
            sha256 BYTEA NOT NULL UNIQUE,
            size INTEGER NOT NULL,
            data BYTEA NOT NULL
        );
        ALTER TABLE chunks ALTER COLUMN data SET STORAGE EXTERNAL;
        CREATE TABLE bodies (
            sha256 TEXT PRIMARY KEY,
            size BIGINT NOT NULL,
            chunks BYTEA NOT NULL
        );
        CREATE TABLE snapshots (
            id BIGINT PRIMARY KEY,
            stream BIGINT NOT NULL REFERENCES streams (id),
            seq INTEGER NOT NULL,
            race_name TEXT,
            race_test INTEGER NOT NULL DEFAULT 0,
            fetched_at TEXT NOT NULL,
            published_at TEXT,
            evidence_fetched_at TEXT NOT NULL,
            status INTEGER NOT NULL,
            url TEXT NOT NULL,
            etag TEXT,
            last_modified TEXT,
            date TEXT,
            body_sha256 TEXT NOT NULL REFERENCES bodies (sha256),
            cells INTEGER NOT NULL,
            cells_changed INTEGER NOT NULL,
            corrections INTEGER NOT NULL,
            UNIQUE (stream, seq)
        );
        CREATE TABLE cells (
            snapshot_id BIGINT PRIMARY KEY REFERENCES snapshots (id),
            data BYTEA NOT NULL
        );
        ALTER TABLE cells ALTER COLUMN data SET STORAGE EXTERNAL;
        CREATE TABLE baselines (
            source TEXT NOT NULL,
            race TEXT NOT NULL,
            snapshot_id BIGINT NOT NULL REFERENCES snapshots (id),
            PRIMARY KEY (source, race)
        );
        CREATE TABLE views (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE settings (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            config_text TEXT NOT NULL,
            config_path TEXT
        );
        CREATE TABLE health (
            source TEXT PRIMARY KEY,
            health_json TEXT NOT NULL,
            written_at TEXT NOT NULL
        );
        CREATE TABLE marker (id INTEGER PRIMARY KEY CHECK (id = 1), n BIGINT NOT NULL);
        INSERT INTO marker (id, n) VALUES (1, 0);
        """,
    ),
]
#: The schema this code reads and writes.
PG_SCHEMA = _MIGRATIONS[-1][0]


def _password(url: str) -> str | None:
    with contextlib.suppress(ValueError):
        secret = urlsplit(url).password
        return unquote(secret) if secret else None
    return None


def _scrub(text: str, url: str) -> str:
    """One line, and never the URL's password (libpq does not echo it; this makes sure)."""
    line = " ".join(str(text).split())
    secret = _password(url)
    return line.replace(secret, "***") if secret else line


@functools.lru_cache(maxsize=256)
def _pg(sql: str) -> str:
    """The core's ``?`` placeholders as psycopg's ``%s`` (no query of ours has a ``%``)."""
    return sql.replace("?", "%s")


class _Connection:
    """A psycopg connection that takes the core's SQL (``?`` placeholders)."""

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw

    def execute(self, sql: str, args: Sequence[Any] | None = None) -> psycopg.Cursor[Any]:
        return self.raw.execute(_pg(sql), args if args else None)

    @property
    def usable(self) -> bool:
        return not (self.raw.closed or self.raw.broken)

    def close(self) -> None:
        self.raw.close()


def _connect(url: str) -> psycopg.Connection[Any]:
    return psycopg.connect(
        url, autocommit=True, connect_timeout=CONNECT_TIMEOUT, application_name="nightdesk"
    )


def _version(conn: psycopg.Connection[Any]) -> int | None:
    """The schema version, 0 for an empty schema, None for tables that are not ours."""
    row = conn.execute("SELECT to_regclass('schema_version'), to_regclass('snapshots')").fetchone()
    assert row is not None
    if row[0] is None:
        return None if row[1] is not None else 0
    got = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(got[0]) if got and got[0] is not None else 0


def _upgrade_command(url: str) -> str:
    return f"nightdesk db upgrade --store {display_url(url)}"


class PostgresStore(HistoryStore):
    """The history store in a PostgreSQL database (see the module doc)."""

    _errors = (psycopg.Error,)

    def __init__(self, url: str, conn: _Connection) -> None:
        super().__init__(display_url(url), conn)
        self.path = self.where  # what messages show (the SQLite store's is its file)
        self._url = url  # with its credentials: only ever given to libpq
        self._listener: psycopg.Connection[Any] | None = None
        self._listen_lock = threading.Lock()
        self._seen = self.change_marker()

    @classmethod
    def open(cls, target: Any, *, upgrade: bool = False) -> Self:
        """Open the database at ``url``; it must hold this nightdesk's schema (``upgrade``:
        bring it there first, as ``nightdesk db upgrade`` does)."""
        url = str(target)
        if upgrade:
            _migrate(url)
        where = display_url(url)
        try:
            raw = _connect(url)
        except psycopg.Error as exc:
            raise StoreError(f"cannot open {where}: {_scrub(str(exc), url)}") from exc
        try:
            version = _version(raw)
            if version is None:
                raise StoreError(f"{where} holds tables that are not a nightdesk store")
            if version > PG_SCHEMA:
                raise StoreError(
                    f"{where} was written by a newer nightdesk (schema {version} > {PG_SCHEMA})"
                )
            if version < PG_SCHEMA:
                state = "has no nightdesk store" if version == 0 else f"has schema {version}"
                raise StoreError(
                    f"{where} {state} (this nightdesk needs {PG_SCHEMA}):"
                    f" run `{_upgrade_command(url)}`"
                )
            return cls(url, _Connection(raw))
        except psycopg.Error as exc:
            raw.close()
            raise StoreError(f"cannot open {where}: {_scrub(str(exc), url)}") from exc
        except BaseException:
            raw.close()
            raise

    def close(self) -> None:
        with self._listen_lock:
            listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(psycopg.Error):
                listener.close()
        super().close()

    # ------------------------------------------------------------------ the backend's part

    def _message(self, exc: BaseException) -> str:
        return _scrub(str(exc), self._url)

    def _connection(self) -> Any:
        conn = self._conn
        if not conn.usable:  # the server restarted, or the network went: connect again
            with contextlib.suppress(psycopg.Error):
                conn.close()
            self._conn = conn = _Connection(_connect(self._url))
        return conn

    def _begin(self, db: Any) -> None:
        db.execute("BEGIN")
        db.execute("SELECT pg_advisory_xact_lock(?)", (WRITE_LOCK,))

    def _changed(self, db: Any) -> None:
        db.execute(
            "WITH m AS (UPDATE marker SET n = n + 1 WHERE id = 1 RETURNING n)"
            f" SELECT pg_notify('{CHANNEL}', n::text) FROM m"
        )

    def _insert(self, db: Any, table: str, columns: Sequence[str], args: Sequence[Any]) -> int:
        marks = ", ".join("?" * len(args))
        row = db.execute(
            f"INSERT INTO {table} (id, {', '.join(columns)})"
            f" VALUES ((SELECT coalesce(max(id), 0) + 1 FROM {table}), {marks}) RETURNING id",
            args,
        ).fetchone()
        return int(row[0])

    def _bytes_used(self) -> int:
        with self._db("read the statistics") as db:
            row = db.execute(
                "SELECT coalesce(sum(pg_total_relation_size(to_regclass(t))), 0)"
                " FROM unnest(?::text[]) AS t",
                (
                    [
                        "streams",
                        "chunks",
                        "bodies",
                        "snapshots",
                        "cells",
                        "baselines",
                        "views",
                        "settings",
                        "health",
                        "marker",
                    ],
                ),
            ).fetchone()
        return int(row[0])

    def integrity_check(self) -> str:
        """ "ok" when the schema is this nightdesk's and the tables answer (PostgreSQL keeps
        its own pages sound; what we check is that the store is the one we expect)."""
        with self._db("check the database") as db:
            version = _version(db.raw)
            db.execute("SELECT count(*) FROM snapshots").fetchone()
        return "ok" if version == PG_SCHEMA else f"schema {version}, expected {PG_SCHEMA}"

    # ------------------------------------------------------------------ waiting

    def wait_for_change(self, timeout: float) -> bool:
        # Listen before reading the marker: a commit in between is then queued, not missed.
        with self._listen_lock:
            self._listening()
        return super().wait_for_change(timeout)

    def _listening(self) -> psycopg.Connection[Any] | None:
        """The LISTEN connection (made on first use and after a failure); None if it cannot
        be made now (the caller then polls)."""
        if self._listener is None or self._listener.closed or self._listener.broken:
            try:
                listener = _connect(self._url)
                listener.execute(f"LISTEN {CHANNEL}")
            except psycopg.Error:
                self._listener = None
                return None
            self._listener = listener
        return self._listener

    def _wait(self, most: float) -> None:
        with self._listen_lock:
            listener = self._listening()
            if listener is not None:
                try:
                    for _ in listener.notifies(timeout=most, stop_after=1):
                        pass
                    return
                except psycopg.Error:
                    with contextlib.suppress(psycopg.Error):
                        listener.close()
                    self._listener = None
        time.sleep(min(most, 0.5))  # no listener now: poll the marker, gently


def upgrade(url: str) -> tuple[int, int]:
    """Apply the migrations the database lacks, in one transaction under the writers' lock
    (a second `db upgrade` at the same time waits, then finds nothing to do); returns
    (version before, version after): ``nightdesk db upgrade --store URL``."""
    return _migrate(url)


def _migrate(url: str) -> tuple[int, int]:
    where = display_url(url)
    try:
        with _connect(url) as conn:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
                before = _version(conn)
                if before is None:
                    raise StoreError(f"{where} holds tables that are not a nightdesk store")
                if before > PG_SCHEMA:
                    raise StoreError(
                        f"{where} was written by a newer nightdesk (schema {before} > {PG_SCHEMA})"
                    )
                if before == 0:
                    conn.execute(
                        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY,"
                        " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
                    )
                for version, sql in _MIGRATIONS:
                    if version > before:
                        conn.execute(sql)  # type: ignore[call-overload]
                        conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (version,))
            return before, PG_SCHEMA
    except psycopg.Error as exc:
        raise StoreError(f"cannot upgrade {where}: {_scrub(str(exc), url)}") from exc
