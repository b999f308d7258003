"""The test PostgreSQL: ``pg_url`` is a URL to an empty schema of a real server.

The server is the one the environment names (PG* variables, NIGHTDESK_TEST_PG_URL, a local
socket) or a throwaway cluster started once per session by scripts/pg-test-server and stopped
at the end. Where neither is possible the tests that ask for ``pg_url`` skip and say why.
Each test gets its own schema (``search_path`` in the URL's ``options``), dropped afterwards:
creating a schema costs milliseconds where a database costs a copy of template1.
"""

from __future__ import annotations

import contextlib
import importlib.machinery
import importlib.util
import itertools
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "pg-test-server"
_names = itertools.count(1)


def _server_module() -> ModuleType:
    loader = importlib.machinery.SourceFileLoader("pg_test_server", str(SCRIPT))
    spec = importlib.util.spec_from_loader("pg_test_server", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    loader.exec_module(module)
    return module


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections use ``schema`` first (libpq ``options``)."""
    option = quote(f"-csearch_path={schema}", safe="")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """A server URL for the session (found, or started and stopped at the end)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg: pip install -e '.[test]'")
    server = _server_module()
    url = server.find()
    if url is not None:
        yield url
        return
    if os.environ.get("NIGHTDESK_TEST_PG") == "off":
        pytest.skip("PostgreSQL tests are off (NIGHTDESK_TEST_PG=off)")
    try:
        cluster = server.start()
    except server.Unavailable as exc:
        pytest.skip(f"no PostgreSQL for the tests: {exc}")
    try:
        yield cluster.url
    finally:
        cluster.stop()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A URL to a fresh, empty schema of the test server (dropped after the test)."""
    import psycopg

    schema = f"nd_test_{os.getpid()}_{next(_names)}"
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        conn.execute(f"CREATE SCHEMA {schema}")
    yield with_schema(pg_server, schema)
    with (
        contextlib.suppress(psycopg.Error),
        psycopg.connect(pg_server, autocommit=True) as conn,
    ):
        conn.execute("SET lock_timeout = '5s'")
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture(scope="module")
def pg_cluster() -> Iterator[Any]:
    """A throwaway cluster of the module's own, restartable on its port and data folder
    (``shut_down`` / ``start_again``): never the environment's server, which a test must not
    stop. Skips where no cluster can be started."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need psycopg: pip install -e '.[test]'")
    if os.environ.get("NIGHTDESK_TEST_PG") == "off":
        pytest.skip("PostgreSQL tests are off (NIGHTDESK_TEST_PG=off)")
    server = _server_module()
    try:
        cluster = server.start()
    except server.Unavailable as exc:
        pytest.skip(f"no throwaway PostgreSQL for the tests: {exc}")
    try:
        yield cluster
    finally:
        cluster.stop()
