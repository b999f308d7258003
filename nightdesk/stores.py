"""Which store a ``--store`` names: a path or ``sqlite://PATH`` is the embedded SQLite store,
``postgresql://…`` / ``postgres://…`` the newsroom's PostgreSQL. psycopg is imported only
when a PostgreSQL store is opened, so the embedded default starts as fast as before."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nightdesk.errors import StoreError
from nightdesk.store import HistoryStore, SqliteStore, display_url

__all__ = ["display_url", "is_postgres", "open_store", "sqlite_path", "upgrade"]

_POSTGRES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.lower().startswith(_POSTGRES)


def sqlite_path(target: str | Path) -> Path | None:
    """The file of a SQLite target (a path, or ``sqlite://`` + the path: ``sqlite:///abs``);
    None for any other URL."""
    if isinstance(target, Path) or "://" not in target:
        return Path(target).expanduser()
    if target.lower().startswith("sqlite://"):
        return Path(target[len("sqlite://") :]).expanduser()
    return None


def _unknown(target: str) -> StoreError:
    return StoreError(
        f"{display_url(target)}: not a store nightdesk knows (a file path, sqlite:///PATH or"
        " postgresql://HOST/DATABASE)"
    )


def open_store(target: str | Path, **options: Any) -> HistoryStore:
    """Open the store ``target`` names. SQLite is created (and upgraded) on open; a
    PostgreSQL database must have been prepared by ``nightdesk db upgrade --store URL``
    (``upgrade=True`` does it on open, for tests and one-process setups)."""
    if is_postgres(target):
        from nightdesk.store_pg import PostgresStore

        return PostgresStore.open(str(target), **options)
    path = sqlite_path(target)
    if path is None:
        raise _unknown(str(target))
    return SqliteStore.open(path)


def upgrade(target: str | Path) -> tuple[int, int]:
    """Bring the store to the schema this nightdesk writes (``nightdesk db upgrade``);
    returns (schema before, schema after); 0 before means it was empty."""
    if is_postgres(target):
        from nightdesk.store_pg import upgrade as upgrade_postgres

        return upgrade_postgres(str(target))
    path = sqlite_path(target)
    if path is None:
        raise _unknown(str(target))
    import sqlite3

    from nightdesk.store import SCHEMA

    before = 0
    if path.exists() and path.stat().st_size:
        try:
            conn = sqlite3.connect(path)
            try:
                row = conn.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
                before = int(row[0]) if row else 0
            finally:
                conn.close()
        except (sqlite3.Error, ValueError):
            before = 0  # opening says what is wrong
    SqliteStore.open(path).close()  # opening upgrades a SQLite store in place
    return before, SCHEMA
