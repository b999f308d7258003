"""The ``nightdesk`` command: wires config, pollers, the demo feed and the monitor together.

Exit codes follow design.md: 0 when every source was read, 1 when any failed, 2 for a bad
command line or config. Errors a person can fix are one line on stderr, never a traceback.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

# Only light modules here: the engine (pandas) and Textual load when a command needs them,
# so `--help`, `--version` and usage errors answer at once.
from nightdesk import __version__
from nightdesk.errors import ConfigError, NightdeskError
from tui import launch

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_PORT = 8765
#: Seconds a unit stays on the big screen (``--kiosk-interval``); tui.kiosk_screen.INTERVAL.
KIOSK_INTERVAL = 8.0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nightdesk",
        description="A terminal monitor for election night: live results, what changed, "
        "corrections and seats.",
        epilog="Without a command, runs the monitor on CONFIG (or the user's config file). "
        "Try `nightdesk demo` for the built-in simulated night.",
    )
    parser.add_argument("--version", action="version", version=f"nightdesk {__version__}")
    parser.add_argument("-c", "--config", type=Path, help="the election config (TOML)")
    parser.add_argument(
        "--store",
        type=_store_target,
        metavar="URL",
        help="the history store to keep the night in: a SQLite file (or sqlite:///PATH) or "
        "postgresql://[USER@]HOST[:PORT]/DATABASE; default: one per config in the user's data "
        "directory. Without -c (or with -c while a collector writes the store): a viewer of "
        "what `nightdesk collect` stores, polling no feed" + CREDENTIALS_HELP,
    )
    _kiosk_arguments(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run the monitor on the built-in simulated night (Cambodia 2013)",
        description="Serve the built-in simulated counting night on 127.0.0.1 and watch it. "
        "Province votes are simulated; seats and national totals match the real 2013 result.",
    )
    demo.add_argument(
        "--feed-only", action="store_true", help="only serve the demo feed (no monitor)"
    )
    demo.add_argument(
        "--port",
        type=_port,
        default=None,
        help=f"port for the feed (default {DEMO_PORT} with --feed-only, else a free one)",
    )
    demo.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="how fast the night runs: 1 = about three minutes, 1000 = over at once",
    )
    demo.add_argument(
        "--seed", type=_seed, default=2013, help="simulation seed, a whole number ≥ 0 (2013)"
    )
    _kiosk_arguments(demo, sub=True)

    serve = sub.add_parser(
        "serve",
        help="serve the monitor in a web browser (textual-serve)",
        description="Serve the monitor of CONFIG to web browsers: each browser session runs "
        "its own monitor. There is no authentication: the default host is 127.0.0.1, and "
        "any other host is warned about on stderr.",
    )
    _store_arguments(serve)
    serve.add_argument(
        "--demo", action="store_true", help="serve the built-in simulated night instead"
    )
    serve.add_argument(
        "--host",
        default=None,
        help="the address to listen on (default 127.0.0.1; anything else is reachable "
        "from other machines, without authentication)",
    )
    serve.add_argument(
        "--port", type=_serve_port, default=None, help="the port to listen on (default 8000)"
    )
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, when it differs (behind a reverse proxy: "
        "https://desk.example/nightdesk)",
    )
    _kiosk_arguments(serve, sub=True)

    snap = sub.add_parser(
        "snapshot",
        help="fetch every source once and print the results",
        description="Fetch every source of CONFIG once and print units, votes and seats. "
        "Exit 0 when every source was read, 1 when any failed, 2 for a bad config.",
    )
    snap.add_argument(
        "-c",
        "--config",
        dest="snapshot_config",
        metavar="CONFIG",
        type=Path,
        help="the election config (TOML)",
    )
    snap.add_argument(
        "--format", choices=("json", "csv", "table"), default="table", help="output format"
    )

    replay = sub.add_parser(
        "replay",
        help="play a stored night back through the monitor",
        description="Play every stored snapshot back through the same screens, in order. "
        "r shows the next snapshot at once.",
    )
    _store_arguments(replay)
    replay.add_argument(
        "--speed",
        type=_positive_float,
        default=1.0,
        help="how fast: 1 = the night's own pace, 60 = an hour a minute (default 1)",
    )

    export = sub.add_parser(
        "export",
        help="write the stored state and change log (CSV or JSON)",
        description="Write the latest stored state of every source and the whole change log, "
        "each row with its source, times and the SHA-256 of the body it came from.",
    )
    _store_arguments(export)
    export.add_argument("--format", choices=("csv", "json"), default="csv", help="output format")
    export.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout"
    )

    evidence = sub.add_parser(
        "evidence",
        help="write out the raw body of a stored snapshot, exactly as served",
        description="Write the bytes a feed served for SNAPSHOT (its number in the timeline or "
        "in `export`), checked against their SHA-256; what came with them goes to stderr.",
    )
    _store_arguments(evidence)
    evidence.add_argument("snapshot", type=_snapshot_id, metavar="SNAPSHOT", help="snapshot number")
    evidence.add_argument(
        "-o", "--output", type=Path, metavar="FILE", help="write here instead of stdout"
    )
    _collect_arguments(sub)
    return parser


#: The URLs ``--store`` takes; anything without ``://`` is a file path.
STORE_SCHEMES = ("postgresql", "postgres", "sqlite")
#: Said in ``--help`` wherever a PostgreSQL URL may be given.
CREDENTIALS_HELP = (
    "; credentials come from libpq's environment (PGPASSWORD, ~/.pgpass, PGSERVICE), "
    "never from the config"
)


def _store_target(text: str) -> Path | str:
    """A store URL stays a string (``postgresql://…``); anything else is a file path."""
    return text if "://" in text else Path(text)


def _check_store_urls(args: argparse.Namespace) -> None:
    """A ``--store`` URL nightdesk cannot open is a command-line error (exit 2, one line,
    never the URL itself: it may hold a password)."""
    from urllib.parse import urlsplit

    for attr in ("store", "collect_store", "db_store", "sub_store"):
        text = getattr(args, attr, None)
        if not isinstance(text, str):
            continue
        scheme = text.split("://", 1)[0].lower()
        if scheme not in STORE_SCHEMES:
            raise UsageError(
                f"--store: {scheme}:// is not a store nightdesk knows; give a file path, "
                "sqlite:///PATH or postgresql://[USER@]HOST[:PORT]/DATABASE"
            )
        try:
            _ = urlsplit(text).port  # a port that is not a number, a broken [IPv6] host
        except ValueError as exc:
            raise UsageError(f"--store: not a URL nightdesk can read: {exc}") from None


def _collect_arguments(sub: Any) -> None:
    """``collect`` and ``db upgrade`` (issue 9: one collector, many viewers)."""
    collect = sub.add_parser(
        "collect",
        help="poll the feeds without a screen and keep the night in the store, for viewers",
        description="Poll every source of CONFIG (no terminal UI) and store every distinct "
        "snapshot and each source's health, for viewers (`nightdesk --store URL`). One "
        "collector per store: the feeds see one request per interval however many desks "
        "watch. One line per event on stderr. SIGTERM or Ctrl+C: stops polling, finishes "
        "the writes in flight, exits 0.",
        epilog="Example: nightdesk collect -c night.toml --store postgresql://db.example/nightdesk",
    )
    collect.add_argument(
        "-c",
        "--config",
        dest="collect_config",
        type=Path,
        metavar="CONFIG",
        help="the election config (TOML)",
    )
    collect.add_argument(
        "--store",
        dest="collect_store",
        type=_store_target,
        metavar="URL",
        help="a SQLite file (or sqlite:///PATH) or postgresql://[USER@]HOST[:PORT]/DATABASE "
        "(prepared by `nightdesk db upgrade`); default: the config's store in the user's "
        "data directory" + CREDENTIALS_HELP,
    )
    db = sub.add_parser("db", help="the store's schema", description="The store's schema.")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    upgrade = db_sub.add_parser(
        "upgrade",
        help="bring the store's schema up to date",
        description="Apply the schema migrations this nightdesk knows to the store: once "
        "before the first `collect` on a PostgreSQL database, and after each nightdesk "
        "upgrade (a SQLite file is upgraded when opened, too). Run it as the role that "
        "owns the tables (the collector's).",
        epilog="Example: nightdesk db upgrade --store postgresql://db.example/nightdesk",
    )
    upgrade.add_argument(
        "--store",
        dest="db_store",
        type=_store_target,
        metavar="URL",
        required=True,
        help="a SQLite file (or sqlite:///PATH) or postgresql://[USER@]HOST[:PORT]/DATABASE"
        + CREDENTIALS_HELP,
    )


def _store_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store",
        dest="sub_store",
        type=_store_target,
        metavar="URL",
        help="the history store: a SQLite file (or sqlite:///PATH) or "
        "postgresql://[USER@]HOST[:PORT]/DATABASE (a collector's: read only)",
    )
    parser.add_argument(
        "-c",
        "--config",
        dest="sub_config",
        type=Path,
        metavar="CONFIG",
        help="the election config whose default store to read",
    )


def _kiosk_arguments(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """``--kiosk`` and its interval, on the monitor and on the commands that run one.

    On a subcommand the defaults are suppressed, so ``nightdesk --kiosk demo`` and
    ``nightdesk demo --kiosk`` both work (a subparser's default would overwrite the other).
    """
    parser.add_argument(
        "--kiosk",
        action="store_true",
        default=argparse.SUPPRESS if sub else False,
        help="the big screen, for a projector or a wall: national totals in big digits, "
        "the units one after another; q and p ask before acting",
    )
    parser.add_argument(
        "--kiosk-interval",
        type=_positive_float,
        metavar="SECONDS",
        default=argparse.SUPPRESS if sub else KIOSK_INTERVAL,
        help=f"how long each unit stays on the big screen (default {KIOSK_INTERVAL:g})",
    )


def _serve_port(text: str) -> int:
    return _whole(text, 1, 65535, "a port from 1 to 65535")


def _snapshot_id(text: str) -> int:
    return _whole(text, 1, 2**63 - 1, "a snapshot number (1, 2, …)")


class UsageError(Exception):
    """A command line that cannot be followed; the message starts with the command."""


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number > 0, got {text!r}")
    return value


def _whole(text: str, low: int, high: int, what: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"expected {what}, got {text!r}")
    return value


def _port(text: str) -> int:
    return _whole(text, 0, 65535, "a port from 0 to 65535 (0: any free port)")


def _seed(text: str) -> int:
    return _whole(text, 0, 2**32 - 1, "a whole number from 0 to 4294967295")


def main(argv: Sequence[str] | None = None) -> int:
    # Before NumPy loads: its OpenBLAS starts a thread per core that spins ~0.1 s of CPU after
    # the import, on a core the launch needs. nightdesk does no BLAS work (integer arrays
    # only), so one thread loses nothing; a value the user set is kept.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    args = _parser().parse_args(argv)
    _log_to_file(os.environ.get("NIGHTDESK_LOG"))
    if args.command is None or (args.command == "demo" and not args.feed_only):
        launch.pause()  # the app resumes it after its first frame (see tui/launch.py)
    try:
        _check_store_urls(args)
        if args.command == "snapshot":
            path = args.snapshot_config or args.config
            if path is None:
                print("nightdesk snapshot: -c CONFIG is required", file=sys.stderr)
                return EXIT_USAGE
            return _snapshot(path, args.format)
        if args.command == "demo":
            return _demo(args)
        if args.command in ("replay", "export", "evidence"):
            return _from_store(args)
        if args.command == "serve":
            return _serve(args)
        if args.command in ("collect", "db"):
            from tui import collect_cli

            return collect_cli.run(args)
        if args.config is None and args.store is not None:
            from tui import collect_cli

            return collect_cli.view(args.store, None, args.kiosk, args.kiosk_interval)
        return _monitor(args.config, args.store, args.kiosk, args.kiosk_interval)
    except UsageError as exc:
        print(f"nightdesk {exc}", file=sys.stderr)
        return EXIT_USAGE
    except ConfigError as exc:
        print(f"nightdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NightdeskError as exc:  # a store that cannot be read, a feed that failed
        print(f"nightdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `nightdesk snapshot … | head`: the reader is gone; leave quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_FAILED
    except Exception as exc:  # never a traceback for the user; the log has it
        logging.getLogger("nightdesk").exception("unexpected error")
        if os.environ.get("NIGHTDESK_DEBUG"):
            raise
        print(
            f"nightdesk: unexpected error: {type(exc).__name__}: {exc} "
            "(set NIGHTDESK_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        launch.resume(freeze=False)  # if the app never drew its first frame


def _log_to_file(path: str | None) -> None:
    """NIGHTDESK_LOG=FILE writes the engine's log there (never to the terminal)."""
    if not path:
        return
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logger = logging.getLogger("nightdesk")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)


def _monitor(
    path: Path | None,
    store_path: Path | str | None = None,
    kiosk: bool = False,
    kiosk_interval: float = KIOSK_INTERVAL,
) -> int:
    from nightdesk import config as config_mod
    from nightdesk.store import HistoryStore

    if path is None:
        default = config_mod.default_path()
        if not default.exists():
            print(
                f"nightdesk: no config given and none at {default}; "
                "run `nightdesk demo` for the built-in demo, or `nightdesk -c CONFIG`",
                file=sys.stderr,
            )
            return EXIT_USAGE
        path = default
    cfg = config_mod.load(path)
    store_path = store_path or HistoryStore.default_path(path)
    from nightdesk.stores import is_postgres, open_store

    try:
        store = open_store(store_path)
    except NightdeskError as exc:
        # A server that does not answer fails the night (1); a file that is not a store is
        # a wrong --store (2).
        print(f"nightdesk: {exc}", file=sys.stderr)
        return EXIT_FAILED if is_postgres(store_path) else EXIT_USAGE
    try:
        _check_same_election(store, cfg.election.name)
        from tui import collect_cli

        viewer = collect_cli.collector_writes(store, cfg)  # one poller per store
        if not viewer:
            store.remember_settings(path.read_text(encoding="utf-8"), str(path.resolve()))
    except NightdeskError as exc:
        print(f"nightdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if viewer:
        return collect_cli.view(store_path, store, kiosk, kiosk_interval)
    from tui.app import run_monitor

    return run_monitor(cfg, store, kiosk=kiosk, kiosk_interval=kiosk_interval)


def _check_same_election(store: Any, name: str) -> None:
    """One store, one election: a night is never mixed with another's (an edited config of
    the same election is fine, and becomes the remembered one)."""
    import tomllib

    settings = store.settings()
    if settings is None:
        return
    try:
        stored = tomllib.loads(settings[0])["election"]["name"]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        return
    if stored != name:
        store.close()
        raise NightdeskError(
            f"the store {store.where} keeps the night of {stored!r}, not {name!r}; "
            "give another --store"
        )


def _open_stored(args: argparse.Namespace) -> Any:
    """The store a command names (``--store``, or the default one of ``-c CONFIG``)."""
    from nightdesk.store import HistoryStore
    from nightdesk.stores import is_postgres, open_store, sqlite_path

    target = args.sub_store or args.store
    config = args.sub_config or args.config
    if target is None and config is None:
        raise UsageError(f"{args.command}: give --store URL (or -c CONFIG for its store)")
    if target is None:
        target = HistoryStore.default_path(config)
    if is_postgres(target):
        return open_store(target)  # never made here: an unprepared database is refused
    path = sqlite_path(target)
    if path is None:
        raise UsageError(f"{args.command}: not a store nightdesk can read: {target}")
    # Reading must not make a store: opening a missing or empty file would create one.
    if not path.is_file():
        raise UsageError(f"{args.command}: no history store at {path}")
    if path.stat().st_size == 0:
        raise UsageError(f"{args.command}: {path} is empty, not a nightdesk store")
    return HistoryStore.open(path)


def _on_server(args: argparse.Namespace) -> bool:
    """Whether the command's store is a database server's (PostgreSQL)."""
    from nightdesk.stores import is_postgres

    return is_postgres(args.sub_store or args.store or "")


def _stored_config(store: Any) -> Any:
    """The election settings the store remembers."""
    from nightdesk import config as config_mod

    settings = store.settings()
    if settings is None:
        raise ConfigError(f"{store.where} holds no election settings")
    text, where = settings
    return config_mod.parse(text, where)


def _from_store(args: argparse.Namespace) -> int:
    try:
        store = _open_stored(args)
    except NightdeskError as exc:
        print(f"nightdesk: {exc}", file=sys.stderr)
        # A server that does not answer or refuses the login is not a usage error.
        return EXIT_FAILED if _on_server(args) else EXIT_USAGE
    with store:
        if args.command == "evidence":
            return _evidence(store, args.snapshot, args.output)
        cfg = _stored_config(store)
        if args.command == "export":
            return _export(store, cfg, args.format, args.output)
        from nightdesk.replay import Replayer
        from tui.app import NightdeskApp

        replayer = Replayer(cfg, store, speed=args.speed)
        NightdeskApp(cfg, poller=replayer, now=replayer.now, badge="REPLAY").run()
        return EXIT_OK


def _evidence(store: Any, snapshot: int, output: Path | None) -> int:
    from nightdesk.store import NoSnapshot

    try:
        entry = store.entry(snapshot)
    except NoSnapshot:
        print(f"nightdesk: no snapshot {snapshot} in {store.where}", file=sys.stderr)
        return EXIT_USAGE
    if output is None and sys.stdout.isatty():
        # A feed's raw bytes may hold escape sequences: never sent to a terminal.
        print(
            "nightdesk: evidence writes raw bytes; give -o FILE or redirect stdout to a file",
            file=sys.stderr,
        )
        return EXIT_USAGE
    evidence = store.evidence(snapshot)  # StoreError if the body no longer matches its hash
    if output is None:
        sys.stdout.buffer.write(evidence.body)
        sys.stdout.buffer.flush()
    else:
        output.write_bytes(evidence.body)
    details = [
        f"snapshot {entry.id}: {entry.source}",
        f"{len(evidence.body):,} bytes",
        f"sha256 {entry.body_sha256}",
        f"HTTP {entry.status} from {entry.url}",
        f"fetched {entry.fetched_at.isoformat()}",
    ]
    details += [
        f"{name} {value}"
        for name, value in (
            ("ETag", entry.etag),
            ("Last-Modified", entry.last_modified),
            ("Date", entry.date),
        )
        if value
    ]
    print("nightdesk: " + "; ".join(details), file=sys.stderr)
    return EXIT_OK


def _export(store: Any, cfg: Any, fmt: str, output: Path | None) -> int:
    from nightdesk.export import CSV_COLUMNS, csv_rows, export_document

    document = export_document(cfg, store)
    try:
        out = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
    except OSError as exc:
        print(f"nightdesk: cannot write {output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        if fmt == "json":
            json.dump(document, out, ensure_ascii=False, indent=2)
            out.write("\n")
        else:
            writer = csv.DictWriter(
                out, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore"
            )
            writer.writeheader()
            writer.writerows(csv_rows(document))
    finally:
        if output:
            out.close()
        else:
            out.flush()
    return EXIT_OK


def _demo(args: argparse.Namespace) -> int:
    from nightdesk.demo.server import DemoFeedServer

    if args.feed_only:
        port = DEMO_PORT if args.port is None else args.port
        server = DemoFeedServer(port=port, speed=args.speed, seed=args.seed)
        try:
            server.start()
        except OSError as exc:
            print(f"nightdesk: cannot serve on 127.0.0.1:{port}: {exc.strerror}", file=sys.stderr)
            return EXIT_USAGE
        print(
            f"nightdesk demo feed (simulated) on {server.url.rstrip('/')}/results.csv "
            f"(also /tally.csv and /claim.csv) at speed {args.speed:g}; Ctrl+C to stop",
            file=sys.stderr,
        )
        server.serve_forever()
        return EXIT_OK
    from tui.app import run_demo

    try:
        return run_demo(
            port=args.port or 0,
            speed=args.speed,
            seed=args.seed,
            kiosk=args.kiosk,
            kiosk_interval=args.kiosk_interval,
        )
    except OSError as exc:
        print(f"nightdesk: cannot serve the demo feed: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


def serve_plan(args: argparse.Namespace) -> tuple[list[str], str, str]:
    """What ``serve`` runs per browser session (the arguments after ``python -m tui.cli``),
    the page's title, and the warning to print first ("" on loopback).

    The config is read here, so a bad one fails once, now, not in every browser.
    """
    from tui import serve

    host = args.host or serve.DEFAULT_HOST
    port = args.port or serve.DEFAULT_PORT
    kiosk = ["--kiosk", "--kiosk-interval", f"{args.kiosk_interval:g}"] if args.kiosk else []
    config = args.sub_config or args.config
    if args.demo:
        if config is not None or args.sub_store or args.store:
            raise UsageError("serve: --demo takes no -c CONFIG or --store")
        arguments, title = ["demo", *kiosk], "nightdesk demo (simulated)"
    else:
        if config is None:
            raise UsageError("serve: give -c CONFIG (or --demo for the simulated night)")
        from nightdesk import config as config_mod

        config = Path(config).resolve()
        cfg = config_mod.load(config)
        arguments = ["-c", str(config), *kiosk]
        store = args.sub_store or args.store
        if store is not None:
            arguments[2:2] = ["--store", str(Path(store).resolve())]
        _check_store(Path(store) if store else None, config, cfg.election.name)
        title = f"nightdesk — {cfg.election.name}"
    return arguments, title, serve.no_auth_warning(host, port) or ""


def _check_store(path: Path | None, config: Path, election: str) -> None:
    """A store of another election fails now, once, not in every browser session (a store
    not made yet is left for the monitor to make)."""
    from nightdesk.store import HistoryStore

    path = path or HistoryStore.default_path(config)
    if path.is_file() and path.stat().st_size:
        store = HistoryStore.open(path)
        try:
            _check_same_election(store, election)
        except NightdeskError as exc:
            raise UsageError(f"serve: {exc}") from None
        store.close()


def _serve(args: argparse.Namespace) -> int:
    from tui import serve

    arguments, title, warning = serve_plan(args)
    if warning:
        print(warning, file=sys.stderr)
    host = args.host or serve.DEFAULT_HOST
    port = args.port or serve.DEFAULT_PORT
    try:
        serve.serve(
            serve.app_command(arguments), host=host, port=port, title=title, url=args.public_url
        )
    except OSError as exc:
        print(f"nightdesk: cannot serve on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _snapshot(path: Path, fmt: str) -> int:
    import asyncio

    from nightdesk import config as config_mod
    from nightdesk.polling import Poller
    from nightdesk.report import snapshot_document

    cfg = config_mod.load(path)

    async def once() -> dict[str, Any]:
        async with Poller(cfg) as poller:
            states = await poller.poll_all_once()
        return snapshot_document(cfg, states)

    document = asyncio.run(once())
    out = sys.stdout
    if fmt == "json":
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
    elif fmt == "csv":
        from nightdesk.report import CSV_COLUMNS, csv_records

        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(csv_records(document))
    else:
        from tui.snapshot_table import print_tables

        print_tables(document, out)
    for failure in document["failures"]:
        print(f"nightdesk: source {failure['name']!r}: {failure['error']}", file=sys.stderr)
    out.flush()
    return EXIT_FAILED if document["failures"] else EXIT_OK


if __name__ == "__main__":
    # `python -m tui.cli`: run the imported module, so its exception classes are the ones
    # tui.collect_cli raises (this file runs as __main__, a second copy of the module).
    from tui.cli import main as _main

    sys.exit(_main())
