"""The commands of the newsroom setup: ``collect``, viewer mode and ``db upgrade``.

Kept out of ``tui/cli.py`` (which only dispatches here) so the CLI module stays small.

Viewer mode: ``nightdesk --store URL`` without ``-c`` shows the night the store holds, with
the settings it remembers, and polls no feed. ``nightdesk -c CONFIG --store URL`` is the
monitor that polls, as before, unless a collector is writing that store (a health record
younger than three intervals): then it is a viewer too, so a store never has two pollers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from nightdesk.errors import ConfigError, NightdeskError
from tui.cli import EXIT_OK, KIOSK_INTERVAL, UsageError, _check_same_election


def run(args: argparse.Namespace) -> int:
    if args.command == "collect":
        return collect(args.collect_config or args.config, args.collect_store or args.store)
    if getattr(args, "db_command", None) != "upgrade":
        raise UsageError("db: say what to do: `nightdesk db upgrade --store URL`")
    return upgrade(args.db_store)


def collect(config_path: Path | None, target: Path | str | None) -> int:
    """``nightdesk collect -c CONFIG [--store URL]``."""
    from nightdesk import config as config_mod
    from nightdesk.collector import EventLog, run_collector
    from nightdesk.follower import collector_live
    from nightdesk.store import HistoryStore
    from nightdesk.stores import open_store

    if config_path is None:
        raise UsageError("collect: -c CONFIG is required")
    cfg = config_mod.load(config_path)
    target = target or HistoryStore.default_path(config_path)
    store = open_store(target)
    log = EventLog()
    try:
        _check_same_election(store, cfg.election.name)
        if collector_live(store, cfg):
            # Perhaps one killed a moment ago; perhaps another one: say it, go on.
            log("warning", message="another collector wrote this store moments ago")
        store.remember_settings(config_path.read_text(encoding="utf-8"), str(config_path.resolve()))
    except BaseException:
        store.close()
        raise
    log("store", target=store.where)
    return run_collector(cfg, store, log=log)


def collector_writes(store: Any, cfg: Any) -> bool:
    from nightdesk.follower import collector_live

    try:
        return collector_live(store, cfg)
    except NightdeskError:
        return False


def view(
    target: Path | str,
    store: Any = None,
    kiosk: bool = False,
    kiosk_interval: float = KIOSK_INTERVAL,
) -> int:
    """Viewer mode: the store's night and settings, followed; no feed is asked."""
    from nightdesk import config as config_mod
    from nightdesk.follower import Follower
    from nightdesk.stores import open_store, sqlite_path

    if store is None:
        path = sqlite_path(target)
        # Reading must not make a store: a missing file is a mistake, not a new night.
        if path is not None and not path.is_file():
            raise UsageError(f"--store: no history store at {path}")
        store = open_store(target)
    try:
        settings = store.settings()
        if settings is None:
            raise ConfigError(
                f"{store.where} holds no election settings yet; start "
                "`nightdesk collect -c CONFIG --store URL` first"
            )
        cfg = config_mod.parse(*settings)
        from tui.app import NightdeskApp

        follower = Follower(cfg, store)
        NightdeskApp(
            cfg, poller=follower, badge="VIEWER", kiosk=kiosk, kiosk_interval=kiosk_interval
        ).run()  # type: ignore[arg-type]
    finally:
        store.close()
    return EXIT_OK


def upgrade(target: Path | str) -> int:
    """``nightdesk db upgrade --store URL``: the store's migrations (``nightdesk.stores``)."""
    from nightdesk.stores import display_url, sqlite_path
    from nightdesk.stores import upgrade as migrate

    path = sqlite_path(target)
    if path is not None and not path.is_file():  # a mistyped path must not become a store
        raise UsageError(f"db upgrade: no history store at {path}")
    before, after = migrate(target)
    where = display_url(str(target))
    said = "up to date" if before == after else f"upgraded from {before} to {after}"
    print(f"nightdesk: {where}: schema {after}, {said}", file=sys.stderr)
    return EXIT_OK
