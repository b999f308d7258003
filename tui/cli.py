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
from nightdesk.errors import ConfigError
from tui import launch

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEMO_PORT = 8765


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
    return parser


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
        if args.command == "snapshot":
            path = args.snapshot_config or args.config
            if path is None:
                print("nightdesk snapshot: -c CONFIG is required", file=sys.stderr)
                return EXIT_USAGE
            return _snapshot(path, args.format)
        if args.command == "demo":
            return _demo(args)
        return _monitor(args.config)
    except ConfigError as exc:
        print(f"nightdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
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


def _monitor(path: Path | None) -> int:
    from nightdesk import config as config_mod

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
    from tui.app import run_monitor

    return run_monitor(cfg)


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
            f"at speed {args.speed:g}; Ctrl+C to stop",
            file=sys.stderr,
        )
        server.serve_forever()
        return EXIT_OK
    from tui.app import run_demo

    try:
        return run_demo(port=args.port or 0, speed=args.speed, seed=args.seed)
    except OSError as exc:
        print(f"nightdesk: cannot serve the demo feed: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE


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
    sys.exit(main())
