"""The newsroom's roles on a real PostgreSQL, with exactly the GRANTs the README gives: the
collector's role owns the tables (it runs `db upgrade` and `collect`); the viewers' role
reads and follows (SELECT, LISTEN) and every write it tries is refused, in one clear line."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from nightdesk import config as cfg
from nightdesk.collector import encode_health
from nightdesk.errors import StoreError
from nightdesk.follower import Follower
from nightdesk.polling import Poller
from nightdesk.stores import open_store, upgrade
from tests.conftest import FeedServer
from tests.engine.test_collect import body, config_text
from tests.tui.test_viewer import status, until
from tui import cli
from tui.app import NightdeskApp

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
_names = itertools.count(1)


def readme_grants(schema: str, collector: str, viewer: str) -> list[str]:
    """README.md's statements ("Newsroom: one collector, many viewers"), for ``schema``
    (the README's is ``public``) and these role names (the README's: nightdesk_collector,
    nightdesk_viewer). Keep the two in step."""
    return [
        f"CREATE ROLE {collector} LOGIN",
        f"GRANT USAGE, CREATE ON SCHEMA {schema} TO {collector}",
        f"CREATE ROLE {viewer} LOGIN",
        f"GRANT USAGE ON SCHEMA {schema} TO {viewer}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {viewer}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {collector} IN SCHEMA {schema}"
        f" GRANT SELECT ON TABLES TO {viewer}",
    ]


def test_the_readme_gives_these_grants() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for statement in readme_grants("public", "nightdesk_collector", "nightdesk_viewer"):
        assert statement + ";" in readme, statement


@dataclass
class Roles:
    collector_url: str
    viewer_url: str


def as_role(url: str, role: str) -> str:
    """``url`` connecting as ``role`` (a ``user`` in the query overrides the URL's)."""
    return f"{url}{'&' if '?' in url else '?'}user={role}"


@pytest.fixture
def roles(pg_server: str, pg_url: str) -> Iterator[Roles]:
    schema = parse_qs(urlsplit(pg_url).query)["options"][0].split("=", 1)[1]
    n = f"{os.getpid()}_{next(_names)}"
    collector, viewer = f"nd_collector_{n}", f"nd_viewer_{n}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        try:
            for statement in readme_grants(schema, collector, viewer):
                admin.execute(statement)  # type: ignore[arg-type]
        except psycopg.errors.InsufficientPrivilege as exc:
            pytest.skip(f"the test server does not let us create roles: {exc}")
    yield Roles(as_role(pg_url, collector), as_role(pg_url, viewer))
    with psycopg.connect(pg_server, autocommit=True) as admin:
        # One role at a time: both in one DROP OWNED trips over the default ACL they share.
        for role in (collector, viewer):
            admin.execute(f"DROP OWNED BY {role} CASCADE")  # type: ignore[arg-type]
        admin.execute(f"DROP ROLE {collector}, {viewer}")  # type: ignore[arg-type]


async def collect_once(url: str, text: str, feed_server: FeedServer, cpp: int) -> None:
    """What `nightdesk collect` does for one poll: a snapshot, then the source's health."""
    c = cfg.parse(text)
    with open_store(url) as store:
        store.remember_settings(text, None)
        async with Poller(c, store=store, store_after=0) as poller:
            feed_server.set(body(cpp))
            state = await poller.poll(c.sources[0])
        store.record_health("nec", encode_health(state, datetime.now(UTC)))


async def test_a_viewer_role_reads_and_follows_and_cannot_write(
    roles: Roles,
    feed_server: FeedServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert upgrade(roles.collector_url) == (0, 1)  # the collector's role owns the tables
    text = config_text(feed_server.url, interval=30)
    await collect_once(roles.collector_url, text, feed_server, 10)

    # The viewer, as `nightdesk --store URL` runs it: settings and night from the store.
    store = open_store(roles.viewer_url)
    settings = store.settings()
    assert settings is not None
    c = cfg.parse(*settings)
    app = NightdeskApp(c, poller=Follower(c, store), badge="VIEWER")  # type: ignore[arg-type]
    async with app.run_test(size=(160, 30)) as pilot:
        await app.ready.wait()
        await pilot.pause()
        assert app.result is not None
        assert int(app.result.snapshot.votes.loc["Kandal", "CPP"]) == 10
        assert "nec: ok" in status(app) and "collector wrote" in status(app)
        # The collector commits; the viewer (LISTEN) shows it.
        await collect_once(roles.collector_url, text, feed_server, 20)
        await until(
            lambda: (
                app.result is not None and int(app.result.snapshot.votes.loc["Kandal", "CPP"]) == 20
            )
        )
        await pilot.press("b")  # a baseline: kept in this viewer's memory, not written
        await pilot.press("r")
        await pilot.pause(0.3)
        said = [str(n.message) for n in app._notifications]
        assert "Reading the store now" in said
        assert not [m for m in said if "cannot" in m or "denied" in m], said

    # A write under the viewer's role: refused, one line, saying why.
    with pytest.raises(StoreError, match="permission denied for table health") as info:
        store.record_health("nec", "{}")
    assert "\n" not in str(info.value)
    store.close()

    # `collect` under the viewer's role: one line, exit 1 (the night cannot be written).
    config = tmp_path / "night.toml"
    config.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert cli.main(["collect", "-c", str(config), "--store", roles.viewer_url]) == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("nightdesk: ") and "permission denied" in last
    assert "Traceback" not in last

    # `db upgrade` of an up-to-date store needs no write: the viewer may run it.
    assert cli.main(["db", "upgrade", "--store", roles.viewer_url]) == 0
    assert "up to date" in capsys.readouterr().err
