"""The history store: every distinct snapshot of every source, with the evidence of what
the feed served, in one SQLite file (the embedded default) or in PostgreSQL (the newsroom:
one collector, many viewers; :mod:`nightdesk.store_pg`).

:class:`HistoryStore` is the interface and the backend-neutral core: every query is written
once, in the SQL both databases speak (``?`` placeholders — the PostgreSQL backend turns them
into ``%s`` —, ``ON CONFLICT`` upserts; inserts that need the new id go through
:meth:`HistoryStore._insert`).
A backend supplies the connection, the transaction that serialises writers
(:meth:`_begin`), what a commit announces (:meth:`_changed`) and the schema. ``HistoryStore.open``
picks the backend from its argument (:mod:`nightdesk.stores`); :class:`SqliteStore` is the
SQLite one.

Why it is shaped this way:

- A snapshot is stored as the cells that changed since the previous stored snapshot of its
  (source, race) (:mod:`nightdesk.cells`), so storage grows with what changed, not with polls.
- Raw bodies are kept once per SHA-256, split into content-defined chunks that are stored
  once each (zlib level 1), so a 3-cell change to an 8 MB feed stores a few chunks, not
  another copy of the feed. :meth:`HistoryStore.evidence` puts the body back together and
  checks its hash.
- One writing transaction per :meth:`HistoryStore.record` (SQLite: ``BEGIN IMMEDIATE``;
  PostgreSQL: a transaction-level advisory lock); whether a snapshot is new is decided
  inside it, against the latest stored content key of its (source, race), so a restart or a
  second writer never stores a duplicate. SQLite: WAL with ``synchronous=FULL``; a committed
  snapshot survives ``kill -9`` and power loss.
- Every writing transaction also bumps the change marker (:meth:`HistoryStore.change_marker`)
  before it commits; on PostgreSQL it sends ``NOTIFY nightdesk`` in the same transaction, so
  a viewer is told exactly when the data is there (:meth:`HistoryStore.wait_for_change`).
- Everything is synchronous; callers run writes in a thread. One connection, one lock.
- What a snapshot keeps: its votes, unit figures and labels, party labels and race calls
  (cells), and its race (id, name, whether the feed marked it as test data). Not the vote
  types (``Snapshot.vote_types``): they are a view of the body, which is kept as evidence.

Schema history (a store is upgraded in place when opened; older code refuses the result):
1 — the first; 2 — ``snapshots.race_test``, and party label cells may carry ``called``
(batches of schema 1 have no calls: read as ``<NA>``); 3 — ``health`` (the collector's view of
each source) and ``marker`` (the change counter).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import sqlite3
import threading
import time
import zlib
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pandas as pd

from nightdesk import cells, chunks
from nightdesk.errors import StoreError
from nightdesk.model import UNIT_FIGURES, Race, Snapshot

__all__ = [
    "SCHEMA",
    "Evidence",
    "HistoryStore",
    "NoSnapshot",
    "SqliteStore",
    "StoredSnapshot",
    "display_url",
]

#: The schema this code writes; a file with a higher number was written by a newer nightdesk.
SCHEMA = 3
#: ``PRAGMA application_id``: "ndsk". Tells a nightdesk store from any other SQLite file.
APPLICATION_ID = 0x6E64736B
BUSY_TIMEOUT_MS = 10_000
#: Body chunks: zlib level 1 compresses an 8 MB CSV 7× faster than level 6 for 23 % more
#: bytes (benchmarks/store.py); with chunks stored once, only the few new chunks of a poll
#: are compressed, so speed matters more than the last bytes.
BODY_LEVEL = 1
#: How often a SQLite store looks at the change marker while waiting (another process's
#: commit cannot tell it: SQLite has no notifications).
SQLITE_WAIT_STEP = 0.05

_TABLES = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE streams (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    race TEXT NOT NULL,
    UNIQUE (source, race)
);
CREATE TABLE chunks (
    id INTEGER PRIMARY KEY,
    sha256 BLOB NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    data BLOB NOT NULL
);
CREATE TABLE bodies (
    sha256 TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    chunks BLOB NOT NULL
);
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    stream INTEGER NOT NULL REFERENCES streams (id),
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
    snapshot_id INTEGER PRIMARY KEY REFERENCES snapshots (id),
    data BLOB NOT NULL
);
CREATE TABLE baselines (
    source TEXT NOT NULL,
    race TEXT NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots (id),
    PRIMARY KEY (source, race)
);
CREATE TABLE views (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE settings (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    config_text TEXT NOT NULL,
    config_path TEXT
);
"""
#: What schema 3 added (also how an older store is upgraded).
_SCHEMA_3 = """
CREATE TABLE health (
    source TEXT PRIMARY KEY,
    health_json TEXT NOT NULL,
    written_at TEXT NOT NULL
);
CREATE TABLE marker (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO marker (id, n) VALUES (1, 0);
"""
_TABLES += _SCHEMA_3


class NoSnapshot(StoreError, LookupError):
    """The store has no snapshot of that id (a LookupError too, for callers that look up)."""


@dataclass(frozen=True)
class Evidence:
    """What the feed served, for one fetch."""

    source: str
    url: str  # as displayed: no credentials, no query string
    fetched_at: datetime  # aware UTC
    status: int  # HTTP status (200 for files)
    etag: str | None
    last_modified: str | None
    date: str | None  # the HTTP Date header
    body: bytes  # raw, exactly as served (after content decoding)


@dataclass(frozen=True)
class StoredSnapshot:
    """One timeline row."""

    id: int  # global, increasing
    source: str
    race: str  # race id, "" when the source has one race
    race_name: str | None
    seq: int  # 1, 2, 3 … per (source, race)
    fetched_at: datetime
    published_at: datetime | None
    status: int
    url: str
    etag: str | None
    last_modified: str | None
    date: str | None
    body_sha256: str
    body_size: int
    cells_changed: int  # vote cells that differ from the previous stored snapshot (0 for seq 1)
    corrections: int  # counts (votes or unit figures) that went down, + vanished units
    race_test: bool = False  # the feed marked the race's results as test data


@dataclass(frozen=True, eq=False)
class _Latest:
    """A stream's latest stored snapshot, kept in memory to diff the next one against."""

    id: int
    state: cells.State

    @property
    def snapshot(self) -> Snapshot:
        return self.state.snapshot


class _ChainGone(Exception):
    """A stream's fold names a snapshot the store no longer holds as it was."""


@dataclass(frozen=True, eq=False)
class _Chain:
    """A stream's batches up to ``seq`` folded into one (:func:`cells.compact`): the next
    rebuild reads only the batches after it. ``meta`` is the row of snapshot ``id``."""

    id: int
    seq: int
    batch: cells.Batch
    meta: tuple[Any, ...]


_SNAPSHOT_COLUMNS = (
    "stream",
    "seq",
    "race_name",
    "race_test",
    "fetched_at",
    "published_at",
    "evidence_fetched_at",
    "status",
    "url",
    "etag",
    "last_modified",
    "date",
    "body_sha256",
    "cells",
    "cells_changed",
    "corrections",
)

_TIMELINE = """
SELECT s.id, st.source, st.race, s.race_name, s.seq, s.fetched_at, s.published_at, s.status,
       s.url, s.etag, s.last_modified, s.date, s.body_sha256, b.size, s.cells_changed,
       s.corrections, s.race_test
FROM snapshots s JOIN streams st ON st.id = s.stream JOIN bodies b ON b.sha256 = s.body_sha256
"""


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.isoformat()


def _time(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _one_line(text: object) -> str:
    return " ".join(str(text).split())


def display_url(url: str) -> str:
    """``url`` without credentials, query or fragment (a path is kept as it is): the store
    never keeps a secret, even one passed by mistake."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class HistoryStore:
    """The history store (see the module doc): the interface both backends provide, and
    everything they share. ``HistoryStore.open(path_or_url)`` opens either."""

    #: The driver's errors, turned into one-line :class:`StoreError`\ s.
    _errors: tuple[type[Exception], ...] = (sqlite3.Error,)

    def __init__(self, where: str, conn: Any) -> None:
        self.where = where  # shown in every message: a path, or a URL without credentials
        self._conn: Any = conn
        self._lock = threading.RLock()
        self._latest: dict[int, _Latest] = {}
        self._rebuilt: OrderedDict[int, Snapshot] = OrderedDict()
        self._chains: dict[int, _Chain] = {}  # stream → its batches folded, for the next load
        self._seen = 0

    # ------------------------------------------------------------------ opening and closing

    @classmethod
    def open(cls, target: Path | str) -> HistoryStore:
        """The store ``target`` names: a path or ``sqlite://PATH`` (SQLite, created if there is
        none) or ``postgresql://…`` (see :func:`nightdesk.stores.open_store`)."""
        from nightdesk.stores import open_store

        return open_store(target)

    @staticmethod
    def default_path(config_path: Path) -> Path:
        """The store of a config file in the user's data folder: one per config file."""
        import platformdirs

        resolved = Path(config_path).expanduser().resolve()
        slug = re.sub(r"[^a-z0-9]+", "-", resolved.stem.lower()).strip("-") or "election"
        digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:10]
        return Path(platformdirs.user_data_dir("nightdesk")) / "stores" / f"{slug}-{digest}.sqlite"

    def close(self) -> None:
        with self._lock:
            conn, self._conn = self._conn, None
            self._latest.clear()
            self._rebuilt.clear()
            self._chains.clear()
            if conn is not None:
                conn.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _connection(self) -> Any:
        """The open connection (a backend may reconnect here); None when closed."""
        return self._conn

    @contextlib.contextmanager
    def _db(self, action: str) -> Iterator[Any]:
        """The connection, under the lock; driver errors become one-line StoreErrors."""
        with self._lock:
            if self._conn is None:
                raise StoreError(f"{self.where}: the store is closed")
            try:
                yield self._connection()
            except self._errors as exc:
                raise StoreError(f"{self.where}: cannot {action}: {self._message(exc)}") from exc

    def _message(self, exc: BaseException) -> str:
        return _one_line(exc)

    @contextlib.contextmanager
    def _write(self, action: str, *, announce: bool = True) -> Iterator[Any]:
        """One writing transaction that bumps the change marker before it commits (unless
        the caller announces itself, or not, with :meth:`_changed`)."""
        with self._db(action) as db:
            self._begin(db)
            try:
                yield db
                if announce:
                    self._changed(db)
                db.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(*self._errors):
                    db.execute("ROLLBACK")
                raise

    # ------------------------------------------------------------------ the backend's part

    def _begin(self, db: Any) -> None:
        """Start a transaction that no other writer runs beside."""
        db.execute("BEGIN IMMEDIATE")

    def _changed(self, db: Any) -> None:
        """Announce a commit: the marker grows (PostgreSQL also notifies)."""
        db.execute("UPDATE marker SET n = n + 1 WHERE id = 1")

    def _insert(self, db: Any, table: str, columns: Sequence[str], args: Sequence[Any]) -> int:
        """Insert a row into a table keyed by ``id``; the new row's id (SQLite: the highest
        id + 1, which the writers' lock makes safe)."""
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(args))})"
        return int(db.execute(sql, args).lastrowid or 0)

    def _bytes_used(self) -> int:
        """What the store takes on disk."""
        raise NotImplementedError

    def integrity_check(self) -> str:
        """ "ok", or what is wrong (one line)."""
        raise NotImplementedError

    # ------------------------------------------------------------------ settings

    def remember_settings(self, config_text: str, config_path: str | None) -> None:
        """Keep the election's config text, so replay and export need only the store."""
        with self._write("remember the settings") as db:
            db.execute(
                "INSERT INTO settings (id, config_text, config_path) VALUES (1, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET config_text = excluded.config_text,"
                " config_path = excluded.config_path",
                (config_text, config_path),
            )

    def settings(self) -> tuple[str, str | None] | None:
        with self._db("read the settings") as db:
            row = db.execute("SELECT config_text, config_path FROM settings").fetchone()
        return None if row is None else (row[0], row[1])

    # ------------------------------------------------------------------ writing

    def record(
        self, evidence: Evidence, snapshots: Sequence[Snapshot], *, health: str | None = None
    ) -> list[int]:
        """Store the snapshots one fetch produced, with its evidence; returns the new ids.

        A snapshot that counted the same as the latest stored one of its (source, race) is
        skipped (decided inside the transaction). The body is stored with the first new
        snapshot, once per SHA-256. ``health`` (a collector's record of the source, as
        :meth:`record_health` takes it) is written in the same transaction when something
        new is: viewers then hear of the commit once, not once for the data and again for
        the health that follows it.
        """
        snapshots = list(snapshots)
        for s in snapshots:
            if s.source != evidence.source:
                raise ValueError(f"snapshot of {s.source!r} recorded as {evidence.source!r}")
        if not snapshots:
            return []
        body = bytes(evidence.body)
        sha = hashlib.sha256(body).hexdigest()
        url = display_url(evidence.url)
        # The costly part that needs no database runs before taking the lock and the write
        # lock: the readers (the timeline, a unit's history) wait less.
        with self._db("look up a body") as db:
            known = db.execute("SELECT 1 FROM bodies WHERE sha256 = ?", (sha,)).fetchone()
        pieces = None if known else chunks.split(body)
        with self._lock:
            with self._write("record a snapshot", announce=False) as db:
                ids, working = self._record(db, evidence, url, body, sha, pieces, snapshots)
                if ids:  # a repeat commits nothing a viewer needs to hear of
                    if health is not None:
                        self._put_health(db, evidence.source, health)
                    self._changed(db)
            self._latest.update(working)  # committed: the next diff starts from these
        return ids

    def _record(
        self,
        db: Any,
        evidence: Evidence,
        url: str,
        body: bytes,
        sha: str,
        pieces: list[tuple[bytes, memoryview]] | None,
        snapshots: list[Snapshot],
    ) -> tuple[list[int], dict[int, _Latest]]:
        ids: list[int] = []
        working: dict[int, _Latest] = {}
        body_stored = False
        for s in snapshots:
            race = s.race.id if s.race is not None else ""
            stream = self._stream(db, s.source, race, create=True)
            assert stream is not None
            row = db.execute(
                "SELECT id, seq FROM snapshots WHERE stream = ? ORDER BY seq DESC LIMIT 1",
                (stream,),
            ).fetchone()
            latest = working.get(stream) or self._latest.get(stream)
            if row is None:
                previous, seq = None, 1
            else:
                last_id, last_seq = row
                if latest is None or latest.id != last_id:
                    # Written by another process, or not read since opening: rebuilt exactly.
                    latest = self._load(db, last_id)
                    working[stream] = latest
                # Distinct = not the same counts as the latest stored snapshot: compared
                # exactly (what content_key() hashes, without paying for the hash).
                if latest.snapshot.same_counts(s):
                    continue
                previous, seq = latest.state, last_seq + 1
            diff = cells.diff(previous, s)
            if not body_stored:
                self._put_body(db, sha, body, pieces)
                body_stored = True
            first = previous is None
            sid = self._insert(
                db,
                "snapshots",
                _SNAPSHOT_COLUMNS,
                (
                    stream,
                    seq,
                    s.race.name if s.race is not None else None,
                    int(s.race is not None and s.race.test),
                    _iso(s.fetched_at),
                    _iso(s.published_at),
                    _iso(evidence.fetched_at),
                    int(evidence.status),
                    url,
                    evidence.etag,
                    evidence.last_modified,
                    evidence.date,
                    sha,
                    diff.batch.cells,
                    0 if first else diff.cells_changed,
                    0 if first else diff.corrections,
                ),
            )
            db.execute(
                "INSERT INTO cells (snapshot_id, data) VALUES (?, ?)", (sid, diff.batch.encode())
            )
            working[stream] = _Latest(sid, diff.state)
            ids.append(sid)
        return ids, working

    def _put_body(
        self,
        db: Any,
        sha: str,
        body: bytes,
        pieces: list[tuple[bytes, memoryview]] | None,
    ) -> None:
        if db.execute("SELECT 1 FROM bodies WHERE sha256 = ?", (sha,)).fetchone():
            return
        if pieces is None:
            pieces = chunks.split(body)
        known: dict[bytes, int] = {}
        digests = list({d for d, _ in pieces})
        for i in range(0, len(digests), 500):
            part = digests[i : i + 500]
            marks = ",".join("?" * len(part))
            known.update(
                (bytes(d), int(cid))
                for cid, d in db.execute(
                    f"SELECT id, sha256 FROM chunks WHERE sha256 IN ({marks})", part
                )
            )
        ids = []
        for digest, piece in pieces:
            if digest not in known:
                known[digest] = self._insert(
                    db,
                    "chunks",
                    ("sha256", "size", "data"),
                    (digest, len(piece), zlib.compress(piece, BODY_LEVEL)),
                )
            ids.append(known[digest])
        db.execute(
            "INSERT INTO bodies (sha256, size, chunks) VALUES (?, ?, ?)",
            (sha, len(body), np.asarray(ids, dtype="<i8").tobytes()),
        )

    def _stream(self, db: Any, source: str, race: str, *, create: bool) -> int | None:
        row = db.execute(
            "SELECT id FROM streams WHERE source = ? AND race = ?", (source, race)
        ).fetchone()
        if row is not None:
            return int(row[0])
        if not create:
            return None
        return self._insert(db, "streams", ("source", "race"), (source, race))

    # ------------------------------------------------------------------ rebuilding

    def _batches(
        self, db: Any, stream: int, seq: int | None = None, after: _Chain | None = None
    ) -> list[tuple[tuple[Any, ...], cells.Batch]]:
        """The stream's snapshot rows (id, seq, fetched_at, published_at, race_name,
        race_test) and their batches, oldest first, up to ``seq``; only those after the
        chain ``after`` when it is given (and still stored as it was: else _ChainGone)."""
        sql = (
            "SELECT s.id, s.seq, s.fetched_at, s.published_at, s.race_name, s.race_test,"
            " CASE WHEN s.seq > ? THEN c.data END"
            " FROM snapshots s LEFT JOIN cells c ON c.snapshot_id = s.id"
            " WHERE s.stream = ? AND s.seq >= ?"
        )
        args: tuple[Any, ...] = (0, stream, 0) if after is None else (after.seq, stream, after.seq)
        if seq is not None:
            sql += " AND s.seq <= ?"
            args = (*args, seq)
        out = []
        anchored = after is None
        for *meta, data in db.execute(sql + " ORDER BY s.seq", args):
            if after is not None and int(meta[1]) == after.seq:
                # The chain's own snapshot, still stored as it was (not another store's).
                anchored = int(meta[0]) == after.id
                continue
            if data is None:
                raise StoreError(f"{self.where}: snapshot {meta[0]} has lost its cells")
            try:
                batch = cells.Batch.decode(data)
            except (ValueError, KeyError, zlib.error) as exc:
                raise StoreError(
                    f"{self.where}: snapshot {meta[0]} is damaged ({_one_line(exc)})"
                ) from exc
            out.append((tuple(meta), batch))
        if not anchored:
            raise _ChainGone
        return out

    def _row(self, db: Any, id: int) -> tuple[Any, ...]:
        row = db.execute(
            "SELECT s.stream, s.seq, st.source, st.race FROM snapshots s"
            " JOIN streams st ON st.id = s.stream WHERE s.id = ?",
            (id,),
        ).fetchone()
        if row is None:
            raise NoSnapshot(f"{self.where}: there is no snapshot {id}")
        return tuple(row)

    def _load(self, db: Any, id: int) -> _Latest:
        """Snapshot ``id`` rebuilt exactly. From the stream's chain when it ends at or
        before ``id`` (a viewer or a second writer following the night reads only the new
        batches); from the stream's first batch otherwise."""
        stream, seq, source, race = self._row(db, id)
        chain = self._chains.get(stream)
        rows: list[tuple[tuple[Any, ...], cells.Batch]] | None = None
        if chain is not None and chain.seq <= seq:
            try:
                rows = self._batches(db, stream, seq, after=chain)
            except _ChainGone:
                self._chains.pop(stream, None)
                chain = None
        else:
            chain = None
        if rows is None:
            rows = self._batches(db, stream, seq)
        batches = [b for _, b in rows]
        if chain is not None:
            batches.insert(0, chain.batch)
        meta = rows[-1][0] if rows else chain.meta if chain is not None else None
        if meta is None:
            raise NoSnapshot(f"{self.where}: there is no snapshot {id}")
        (sid, _, fetched, published, race_name, race_test) = meta
        try:
            state = cells.rebuild(
                batches,
                source=source,
                fetched_at=datetime.fromisoformat(fetched),
                published_at=_time(published),
                race=None if race_name is None else Race(race, race_name, bool(race_test)),
            )
        except ValueError as exc:
            raise StoreError(
                f"{self.where}: snapshot {id} cannot be rebuilt ({_one_line(exc)})"
            ) from exc
        kept = self._chains.get(stream)
        if kept is None or seq > kept.seq:  # an older snapshot (the timeline) leaves it be
            self._chains[stream] = _Chain(int(sid), int(seq), cells.compact(batches), meta)
        return _Latest(int(sid), state)

    # ------------------------------------------------------------------ reading

    def latest_id(self, source: str, race: str = "") -> int | None:
        with self._db("read the timeline") as db:
            row = db.execute(
                "SELECT s.id FROM snapshots s JOIN streams st ON st.id = s.stream"
                " WHERE st.source = ? AND st.race = ? ORDER BY s.seq DESC LIMIT 1",
                (source, race),
            ).fetchone()
        return None if row is None else int(row[0])

    def snapshot(self, id: int) -> Snapshot:
        """Snapshot ``id`` rebuilt from its cells: its tables ``.equals()`` the recorded ones."""
        with self._db("read a snapshot") as db:
            for latest in self._latest.values():
                if latest.id == id:
                    return latest.snapshot
            if id in self._rebuilt:
                self._rebuilt.move_to_end(id)
                return self._rebuilt[id]
            loaded = self._load(db, id)
            stream = self._row(db, id)[0]
            last = db.execute(
                "SELECT id FROM snapshots WHERE stream = ? ORDER BY seq DESC LIMIT 1", (stream,)
            ).fetchone()
            if last is not None and int(last[0]) == id:
                self._latest[stream] = loaded
            else:
                self._rebuilt[id] = loaded.snapshot
                while len(self._rebuilt) > 2:
                    self._rebuilt.popitem(last=False)
            return loaded.snapshot

    def previous_id(self, id: int) -> int | None:
        with self._db("read the timeline") as db:
            stream, seq, _, _ = self._row(db, id)
            row = db.execute(
                "SELECT id FROM snapshots WHERE stream = ? AND seq < ? ORDER BY seq DESC LIMIT 1",
                (stream, seq),
            ).fetchone()
        return None if row is None else int(row[0])

    def races(self, source: str) -> list[tuple[str, str | None]]:
        """The source's races in first-seen order, each with its latest name."""
        with self._db("read the races") as db:
            rows = db.execute(
                "SELECT st.race, (SELECT s.race_name FROM snapshots s WHERE s.stream = st.id"
                " ORDER BY s.seq DESC LIMIT 1) FROM streams st WHERE st.source = ? ORDER BY st.id",
                (source,),
            ).fetchall()
        return [(r, n) for r, n in rows]

    def timeline(
        self, source: str | None = None, race: str | None = None, *, after: int = 0
    ) -> list[StoredSnapshot]:
        """The stored snapshots, oldest first (of one source, and one race, if given; with
        ids above ``after``: what a follower has not seen yet)."""
        where, args = [], []
        if after:
            where.append("s.id > ?")
            args.append(after)
        if source is not None:
            where.append("st.source = ?")
            args.append(source)
        if race is not None:
            where.append("st.race = ?")
            args.append(race)
        sql = _TIMELINE + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY s.id"
        with self._db("read the timeline") as db:
            rows = db.execute(sql, args).fetchall()
        return [_stored(r) for r in rows]

    def entry(self, id: int) -> StoredSnapshot:
        with self._db("read the timeline") as db:
            row = db.execute(_TIMELINE + " WHERE s.id = ?", (id,)).fetchone()
        if row is None:
            raise NoSnapshot(f"{self.where}: there is no snapshot {id}")
        return _stored(row)

    def evidence(self, id: int) -> Evidence:
        """What the feed served for snapshot ``id``; the body is checked against its hash."""
        with self._db("read the evidence") as db:
            row = db.execute(
                "SELECT st.source, s.url, s.evidence_fetched_at, s.status, s.etag,"
                " s.last_modified, s.date, s.body_sha256, b.size, b.chunks FROM snapshots s"
                " JOIN streams st ON st.id = s.stream JOIN bodies b ON b.sha256 = s.body_sha256"
                " WHERE s.id = ?",
                (id,),
            ).fetchone()
            if row is None:
                raise NoSnapshot(f"{self.where}: there is no snapshot {id}")
            chunk_ids = np.frombuffer(row[9], dtype="<i8").tolist()
            data: dict[int, bytes] = {}
            unique = list(dict.fromkeys(chunk_ids))
            for i in range(0, len(unique), 500):
                part = unique[i : i + 500]
                marks = ",".join("?" * len(part))
                data.update(db.execute(f"SELECT id, data FROM chunks WHERE id IN ({marks})", part))
        try:
            body = b"".join(zlib.decompress(data[c]) for c in chunk_ids)
        except (KeyError, zlib.error) as exc:
            raise StoreError(f"{self.where}: the body of snapshot {id} is damaged") from exc
        if hashlib.sha256(body).hexdigest() != row[7] or len(body) != row[8]:
            raise StoreError(f"{self.where}: the body of snapshot {id} does not match its SHA-256")
        return Evidence(
            source=row[0],
            url=row[1],
            fetched_at=datetime.fromisoformat(row[2]),
            status=row[3],
            etag=row[4],
            last_modified=row[5],
            date=row[6],
            body=body,
        )

    def _history(
        self, source: str, race: str, action: str
    ) -> tuple[list[tuple[Any, ...]], list[cells.Batch]]:
        with self._db(action) as db:
            stream = self._stream(db, source, race, create=False)
            rows = [] if stream is None else self._batches(db, stream)
        return [m for m, _ in rows], [b for _, b in rows]

    def changes(
        self,
        source: str,
        race: str = "",
        *,
        unit: str | None = None,
        since_id: int | None = None,
    ) -> pd.DataFrame:
        """Every stored change after the stream's first snapshot, oldest first (see
        :data:`CHANGE_COLUMNS`); label and party-name changes are not changes here."""
        metas, batches = self._history(source, race, "read the changes")
        if not batches:
            return _changes_frame([], [], [])
        names = cells.names_of(batches)
        watch = None
        if unit is not None:
            found = names.units.get_indexer([unit])[0]
            if found < 0:
                return _changes_frame([], [], [])
            watch = int(found)
        steps, kept = [], []
        for step in cells.replay(batches):
            sid = metas[step.position][0]
            if step.position == 0 or (since_id is not None and sid <= since_id):
                continue
            if watch is not None:
                step = _only_unit(step, watch)
            if len(step.kind):
                steps.append(step)
                kept.append(metas[step.position])
        return _changes_frame(steps, kept, [names])

    def unit_series(self, source: str, race: str, unit: str) -> pd.DataFrame:
        """One unit's votes through the night: a row per stored snapshot where they changed
        (and where the unit appeared), a column per party the stream ever had (first-seen
        order, ``Int64``), and ``fetched_at``; index ``snapshot_id``."""
        metas, batches = self._history(source, race, "read a unit's history")
        names = cells.names_of(batches)
        found = names.units.get_indexer([unit])[0] if len(names.units) else -1
        ids: list[int] = []
        times: list[str] = []
        rows: list[np.ndarray] = []
        nulls: list[np.ndarray] = []
        if found >= 0:
            was_present = False
            for step in cells.replay(batches, watch=int(found)):
                mine = (step.unit == found) & (step.kind == cells.VOTE)
                appeared = step.row_present and not was_present
                was_present = step.row_present
                if step.row_present and (appeared or mine.any()):
                    assert step.row is not None and step.row_null is not None
                    ids.append(int(metas[step.position][0]))
                    times.append(metas[step.position][2])
                    rows.append(step.row)
                    nulls.append(step.row_null)
        parties = list(names.parties)
        shape = (len(rows), len(parties))
        values = np.vstack(rows) if rows else np.zeros(shape, dtype=np.int64)
        null = np.vstack(nulls) if nulls else np.ones(shape, dtype=bool)
        frame = pd.DataFrame(
            {
                p: pd.arrays.IntegerArray(values[:, j].copy(), null[:, j].copy())
                for j, p in enumerate(parties)
            },
            index=pd.Index(ids, dtype=np.int64, name="snapshot_id"),
        )
        frame["fetched_at"] = _times(times)
        return frame

    # ------------------------------------------------------------------ baselines and views

    def set_baseline(self, source: str, race: str, snapshot_id: int | None) -> None:
        """Mark ``snapshot_id`` as the (source, race)'s baseline; ``None`` clears it."""
        with self._write("set the baseline") as db:
            if snapshot_id is None:
                db.execute("DELETE FROM baselines WHERE source = ? AND race = ?", (source, race))
                return
            _, _, s_source, s_race = self._row(db, snapshot_id)
            if (s_source, s_race) != (source, race):
                raise StoreError(
                    f"{self.where}: snapshot {snapshot_id} is of {s_source!r} {s_race!r},"
                    f" not {source!r} {race!r}"
                )
            db.execute(
                "INSERT INTO baselines (source, race, snapshot_id) VALUES (?, ?, ?)"
                " ON CONFLICT (source, race) DO UPDATE SET snapshot_id = excluded.snapshot_id",
                (source, race, snapshot_id),
            )

    def baseline(self, source: str, race: str = "") -> int | None:
        with self._db("read the baseline") as db:
            row = db.execute(
                "SELECT snapshot_id FROM baselines WHERE source = ? AND race = ?", (source, race)
            ).fetchone()
        return None if row is None else int(row[0])

    def set_view(self, key: str, value: str) -> None:
        with self._write("remember the view") as db:
            db.execute(
                "INSERT INTO views (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def view(self, key: str) -> str | None:
        with self._db("read the view") as db:
            row = db.execute("SELECT value FROM views WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    # ------------------------------------------------------------------ the collector's side

    def record_health(self, source: str, health_json: str) -> None:
        """The collector's view of ``source`` (state, last success, last error … as JSON),
        replacing the previous one, with the time of writing."""
        with self._write("record a source's health") as db:
            self._put_health(db, source, health_json)

    def _put_health(self, db: Any, source: str, health_json: str) -> None:
        db.execute(
            "INSERT INTO health (source, health_json, written_at) VALUES (?, ?, ?)"
            " ON CONFLICT (source) DO UPDATE SET health_json = excluded.health_json,"
            " written_at = excluded.written_at",
            (source, health_json, datetime.now(UTC).isoformat()),
        )

    def health(self) -> dict[str, tuple[str, datetime]]:
        """Source → (health JSON, when the collector wrote it), as last recorded."""
        with self._db("read the sources' health") as db:
            rows = db.execute(
                "SELECT source, health_json, written_at FROM health ORDER BY source"
            ).fetchall()
        return {s: (h, datetime.fromisoformat(w)) for s, h, w in rows}

    def change_marker(self) -> int:
        """A number that grows with every commit (a snapshot, a health record, a setting):
        a viewer that saw it unchanged has nothing new to read."""
        with self._db("read the change marker") as db:
            row = db.execute("SELECT n FROM marker WHERE id = 1").fetchone()
        return 0 if row is None else int(row[0])

    def wait_for_change(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a commit (by any process); True when the change
        marker moved since the previous call (or since opening), at once if it already has.
        Meant for a viewer's thread; raises StoreError when the database cannot be read."""
        deadline = time.monotonic() + timeout
        while True:
            marker = self.change_marker()
            if marker != self._seen:
                self._seen = marker
                return True
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._wait(left)

    def _wait(self, most: float) -> None:
        """Sleep until a commit may have happened, at most ``most`` seconds."""
        time.sleep(min(SQLITE_WAIT_STEP, most))

    # ------------------------------------------------------------------ health

    def stats(self) -> dict[str, int]:
        """Counts and sizes: snapshots, cells, bodies, chunks, body bytes raw and stored, and
        the bytes the store takes (SQLite: the database and write-ahead log files)."""
        with self._db("read the statistics") as db:
            snaps, cell_count = db.execute(
                "SELECT count(*), coalesce(sum(cells), 0) FROM snapshots"
            ).fetchone()
            bodies, raw = db.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM bodies"
            ).fetchone()
            chunk_count, stored = db.execute(
                "SELECT count(*), coalesce(sum(length(data)), 0) FROM chunks"
            ).fetchone()
            cell_bytes = db.execute("SELECT coalesce(sum(length(data)), 0) FROM cells").fetchone()
        return {
            "snapshots": int(snaps),
            "cells": int(cell_count),
            "cell_bytes": int(cell_bytes[0]),
            "bodies": int(bodies),
            "chunks": int(chunk_count),
            "body_bytes_raw": int(raw),
            "body_bytes_stored": int(stored),
            "file_bytes": self._bytes_used(),
        }


class SqliteStore(HistoryStore):
    """The embedded store: one SQLite file (WAL, ``synchronous=FULL``)."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        super().__init__(str(path), conn)
        self.path = path
        self._seen = self.change_marker()

    @classmethod
    def open(cls, target: Path | str) -> SqliteStore:
        """Open the store at ``path``, creating it (and its folders) if there is none."""
        path = Path(target).expanduser()
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a nightdesk store")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot open {path}: {_one_line(exc.strerror or exc)}") from exc
        try:
            conn = sqlite3.connect(
                path,
                timeout=BUSY_TIMEOUT_MS / 1000,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {path}: {_one_line(exc)}") from exc
        try:
            _prepare(conn, path)
            return cls(path, conn)
        except sqlite3.Error as exc:
            conn.close()
            raise _open_error(path, exc) from exc
        except BaseException:
            conn.close()
            raise

    def integrity_check(self) -> str:
        """``PRAGMA integrity_check``: "ok", or what is wrong (one line)."""
        with self._db("check the file") as db:
            rows = db.execute("PRAGMA integrity_check").fetchall()
        return "; ".join(str(r[0]) for r in rows)

    def _bytes_used(self) -> int:
        size = 0
        for suffix in ("", "-wal"):
            with contextlib.suppress(OSError):
                size += os.path.getsize(f"{self.path}{suffix}")
        return size


# ---------------------------------------------------------------------- helpers


def _prepare(conn: sqlite3.Connection, path: Path) -> None:
    """Check that ``conn`` is a nightdesk store of a schema we know, or make it one."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    app = conn.execute("PRAGMA application_id").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not tables and app == 0:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone():
                for statement in _TABLES.split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute("INSERT INTO meta (key, value) VALUES ('schema', ?)", (str(SCHEMA),))
                conn.execute("INSERT INTO meta (key, value) VALUES ('application', 'nightdesk')")
                conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
                conn.execute(f"PRAGMA user_version = {SCHEMA}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        app = conn.execute("PRAGMA application_id").fetchone()[0]
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    else:
        mode = None
    if app != APPLICATION_ID or "meta" not in tables:
        raise StoreError(f"{path} is not a nightdesk store")
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
    try:
        schema = int(row[0]) if row is not None else None
    except ValueError:
        schema = None
    if schema is None:
        raise StoreError(f"{path} is not a nightdesk store (it has no schema version)")
    if schema > SCHEMA:
        raise StoreError(f"{path} was written by a newer nightdesk (schema {schema} > {SCHEMA})")
    if mode is None:
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":
        raise StoreError(f"cannot open {path}: the file system does not allow SQLite's WAL mode")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = ON")
    if schema < SCHEMA:
        _upgrade(conn)


def _upgrade(conn: sqlite3.Connection) -> None:
    """Bring a store of an older schema to :data:`SCHEMA`, in one transaction (a second
    process opening it at the same time finds it done)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        schema = int(conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()[0])
        if schema < 2:
            # Races stored before were not marked: not test data, as they were shown.
            conn.execute("ALTER TABLE snapshots ADD COLUMN race_test INTEGER NOT NULL DEFAULT 0")
        if schema < 3:
            for statement in _SCHEMA_3.split(";"):
                if statement.strip():
                    conn.execute(statement)
        if schema < SCHEMA:
            conn.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (str(SCHEMA),))
            conn.execute(f"PRAGMA user_version = {SCHEMA}")
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise


def _open_error(path: Path, exc: sqlite3.Error) -> StoreError:
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_NOTADB":
        return StoreError(f"{path} is not a nightdesk store")
    if name == "SQLITE_CORRUPT":
        return StoreError(f"cannot open {path}: the file is damaged ({_one_line(exc)})")
    return StoreError(f"cannot open {path}: {_one_line(exc)}")


def _times(texts: Sequence[str | None] | np.ndarray) -> pd.api.extensions.ExtensionArray:
    """ISO 8601 texts (``None``: NaT) as one UTC datetime array."""
    return pd.to_datetime(pd.Series(texts, dtype=object), utc=True).astype(_TIME).array


_TIME = "datetime64[us, UTC]"


def _stored(row: tuple[Any, ...]) -> StoredSnapshot:
    return StoredSnapshot(
        id=int(row[0]),
        source=row[1],
        race=row[2],
        race_name=row[3],
        seq=int(row[4]),
        fetched_at=datetime.fromisoformat(row[5]),
        published_at=_time(row[6]),
        status=int(row[7]),
        url=row[8],
        etag=row[9],
        last_modified=row[10],
        date=row[11],
        body_sha256=row[12],
        body_size=int(row[13]),
        cells_changed=int(row[14]),
        corrections=int(row[15]),
        race_test=bool(row[16]),
    )


#: Columns of :meth:`HistoryStore.changes`.
CHANGE_COLUMNS = (
    "snapshot_id",
    "fetched_at",
    "published_at",
    "unit",
    "kind",
    "item",
    "before",
    "after",
    "change",
    "correction",
)


def change_records(frame: pd.DataFrame) -> Iterator[tuple[Any, ...]]:
    """The rows of a :meth:`HistoryStore.changes` table as plain tuples in
    :data:`CHANGE_COLUMNS` order (one list per column, not a pandas scalar per cell)."""
    return zip(*(frame[c].tolist() for c in CHANGE_COLUMNS), strict=True)


_KIND_NAMES = {cells.VOTE: "vote", cells.FIGURE: "figure", cells.WITHDRAWN: "withdrawn"}


def _only_unit(step: cells.Step, unit: int) -> cells.Step:
    keep = step.unit == unit
    return cells.Step(
        step.position,
        step.kind[keep],
        step.unit[keep],
        step.item[keep],
        step.before[keep],
        step.before_null[keep],
        step.after[keep],
        step.after_null[keep],
        step.correction[keep],
    )


def _values(values: np.ndarray, null: np.ndarray, floats: np.ndarray) -> np.ndarray:
    """int64 cells (float bits where ``floats``) as Python ints/floats, ``None`` for null."""
    out = values.astype(object)
    if floats.any():
        out[floats] = values[floats].view(np.float64).astype(object)
    out[null] = None
    return out


def _changes_frame(
    steps: list[cells.Step], metas: list[tuple[Any, ...]], names: list[cells.Names]
) -> pd.DataFrame:
    if not steps:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in CHANGE_COLUMNS})
        return frame.astype(
            {
                "snapshot_id": np.int64,
                "fetched_at": _TIME,
                "published_at": _TIME,
                "unit": str,
                "kind": str,
                "item": str,
                "correction": bool,
            }
        )
    (n,) = names
    counts = [len(s.kind) for s in steps]
    kind = np.concatenate([s.kind for s in steps])
    unit = np.concatenate([s.unit for s in steps])
    item = np.concatenate([s.item for s in steps])
    floats = (kind == cells.FIGURE) & (item == cells.REPORTING)
    before = _values(
        np.concatenate([s.before for s in steps]),
        np.concatenate([s.before_null for s in steps]),
        floats,
    )
    after = _values(
        np.concatenate([s.after for s in steps]),
        np.concatenate([s.after_null for s in steps]),
        floats,
    )
    b_raw = np.where(
        np.concatenate([s.before_null for s in steps]), 0, np.concatenate([s.before for s in steps])
    )
    a_raw = np.where(
        np.concatenate([s.after_null for s in steps]), 0, np.concatenate([s.after for s in steps])
    )
    change = (a_raw - b_raw).astype(object)
    if floats.any():
        change[floats] = (a_raw[floats].view(np.float64) - b_raw[floats].view(np.float64)).astype(
            object
        )
    is_vote = kind == cells.VOTE
    is_fig = kind == cells.FIGURE
    items = np.full(len(kind), "", dtype=object)
    if is_vote.any():
        items[is_vote] = n.parties.to_numpy(dtype=object)[item[is_vote]]
    if is_fig.any():
        items[is_fig] = np.asarray(UNIT_FIGURES, dtype=object)[item[is_fig]]
    kinds = np.array([_KIND_NAMES[k] for k in (cells.VOTE, cells.FIGURE, cells.WITHDRAWN)])
    kind_text = kinds[np.select([is_vote, is_fig], [0, 1], 2)]
    ids = np.repeat([int(m[0]) for m in metas], counts)
    fetched = np.repeat([m[2] for m in metas], counts)
    published = np.repeat(np.array([m[3] for m in metas], dtype=object), counts)
    return pd.DataFrame(
        {
            "snapshot_id": ids.astype(np.int64),
            "fetched_at": _times(fetched),
            "published_at": _times(published),
            "unit": pd.Series(n.units.to_numpy(dtype=object)[unit], dtype=str),
            "kind": pd.Series(kind_text, dtype=str),
            "item": pd.Series(items, dtype=str),
            "before": before,
            "after": after,
            "change": change,
            "correction": np.concatenate([s.correction for s in steps]).astype(bool),
        }
    )
