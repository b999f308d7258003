"""What nightdesk costs on a real terminal: bytes, CPU, latency, memory, launch time.

Every app runs as a child process in a real pseudo-terminal (200×50, ``TERM=xterm-256color``,
no ``COLORTERM``), and the bytes read from the pty master are counted per update
(``benchmarks._pty``). CPU is the child's, read from /proc: per update from the per-thread
``schedstat`` run times (nanoseconds; ``/proc/<pid>/stat`` utime+stime move in 10 ms ticks,
so they are shown as a per-run mean beside it). The stock ``DataTable`` comparison runs in the
same invocation, so the ratios compare like with like. Prints numbers; asserts nothing.

``python -m benchmarks.terminal [--quick] [--polls N]``; progress goes to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from benchmarks._pty import COLS, REPO, ROWS, ChildFailed, PtyChild, child_env
from benchmarks.feedgen import FeedGenServer

PY = sys.executable
HIGHLIGHT = 1.0  # seconds a changed cell stays highlighted before it fades
AFTER_FADE = HIGHLIGHT + 1.0  # a window lasts at least this long, so the fade is inside it
QUIET = 0.6  # …and ends once the pty has been silent this long
STOCK_QUIET = 0.3
FEED_KIND = "csv"  # 20,000 units × 8 parties is the "7 MB feed" in CSV (22 MB in JSON)
NO_POLLING = 3600.0  # interval when the benchmark triggers every poll itself


def progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0–100)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


@dataclass
class Idle:
    seconds: float
    bytes_per_second: float
    cpu_percent: float
    tick_percent: float
    polls: int = 0


@dataclass
class Updates:
    """Per-update samples of one app, pooled over runs."""

    bytes: list[int] = field(default_factory=list)
    update_bytes: list[int] = field(default_factory=list)  # before the fade
    cpu: list[float] = field(default_factory=list)  # seconds, schedstat
    main_cpu: list[float] = field(default_factory=list)  # seconds, the event loop's thread
    tick_means: list[float] = field(default_factory=list)  # seconds, /proc/pid/stat per run
    frames: list[dict[str, Any]] = field(default_factory=list)
    fill: list[float] = field(default_factory=list)  # seconds, data → first frame
    idle: Idle | None = None


@dataclass
class Scale:
    units: int
    feed_bytes: int
    first_frame: float  # data published → frame written, seconds
    launch_to_frame: float  # process start → first frame written
    frames: list[dict[str, Any]]
    rss_first: int
    rss_last: int
    seconds: float  # wall time of the polls


@dataclass
class Launch:
    first_frame: list[float] = field(default_factory=list)
    provinces: list[float] = field(default_factory=list)


@dataclass
class Plan:
    runs: int = 3
    updates: int = 10
    app_polls: int = 8
    warmup: int = 15  # polls that fill the changes pane before the app is measured
    idle_seconds: float = 20.0
    stock_idle_seconds: float = 10.0
    mid_polls: int = 20
    big_polls: int = 1000
    big_stock_updates: int = 5
    launches: int = 3


QUICK = Plan(
    runs=2,
    updates=5,
    app_polls=5,
    warmup=12,
    idle_seconds=10.0,
    stock_idle_seconds=5.0,
    mid_polls=10,
    big_polls=50,
    big_stock_updates=3,
    launches=2,
)


@contextlib.contextmanager
def _running(module: str, *args: object) -> Iterator[PtyChild]:
    """A ``benchmarks.<module>`` child, mounted and drawn; always closed afterwards."""
    with PtyChild([PY, "-m", f"benchmarks.{module}", *map(str, args)]) as child:
        child.wait_event("ready", 180)
        child.settle(0.4)
        yield child


# --- the two tables: stock DataTable and nightdesk's ResultsTable ---------------------------


def stock_table(rows: int, runs: int, updates: int, idle_seconds: float = 0.0) -> Updates:
    """A stock DataTable, ROWS × 10 integers, 3 cells changed per update with update_cell_at."""
    out = Updates()
    for run in range(runs):
        progress(f"stock DataTable, {rows:,} rows: run {run + 1}/{runs}")
        with _running("_stock_table", rows) as c:
            out.fill.append(c.ask("fill", "filled", timeout=300)["seconds"])
            c.settle(0.5)
            ticks = c.cpu_ticks()
            for _ in range(updates):
                total, cpu = c.total, c.cpu()
                c.ask("update", "updated", timeout=120)
                c.settle(STOCK_QUIET)
                out.bytes.append(c.total - total)
                out.cpu.append(c.cpu() - cpu)
            out.tick_means.append((c.cpu_ticks() - ticks) / updates)
            if run == 0 and idle_seconds:
                out.idle = measure_idle(c, idle_seconds)
    return out


def widget_table(runs: int, updates: int) -> Updates:
    """nightdesk's ResultsTable alone, fed feedgen versions: each update + its fade."""
    out = Updates()
    for run in range(runs):
        progress(f"ResultsTable alone, 24 units: run {run + 1}/{runs}")
        with _running("_widget_table", 24, updates, HIGHLIGHT) as c:
            c.ask("fill", "filled", timeout=60)
            c.settle(QUIET, at_least=AFTER_FADE)
            ticks = c.cpu_ticks()
            for _ in range(updates):
                total, cpu = c.total, c.cpu()
                c.ask("update", "updated", timeout=60)
                c.settle(0.1)  # the update's own bytes; the fade comes HIGHLIGHT s later
                out.update_bytes.append(c.total - total)
                c.settle(QUIET, at_least=AFTER_FADE)
                out.bytes.append(c.total - total)
                out.cpu.append(c.cpu() - cpu)
            out.tick_means.append((c.cpu_ticks() - ticks) / updates)
    return out


def measure_idle(c: PtyChild, seconds: float) -> Idle:
    total, cpu, ticks = c.total, c.cpu(), c.cpu_ticks()
    start = time.monotonic()
    c.idle(seconds)
    elapsed = time.monotonic() - start
    return Idle(
        seconds=elapsed,
        bytes_per_second=(c.total - total) / elapsed,
        cpu_percent=100 * (c.cpu() - cpu) / elapsed,
        tick_percent=100 * (c.cpu_ticks() - ticks) / elapsed,
    )


# --- the whole app on a generated feed ------------------------------------------------------


def _app(server: FeedGenServer, interval: float) -> contextlib.AbstractContextManager[PtyChild]:
    return _running("_whole_app", server.feed_url(FEED_KIND), interval, HIGHLIGHT)


def _poll(c: PtyChild, server: FeedGenServer, timeout: float = 600.0) -> dict[str, Any]:
    """Move the feed one version on (3 cells) and have the app poll it; the frame event."""
    server.advance()
    main = c.cpu(main=True)
    c.send("poll")
    frame = c.wait_event("frame", timeout)
    frame["main_cpu"] = c.cpu(main=True) - main  # the event loop's thread, poll → frame
    frame["pty_last"] = _last_byte(c, frame)
    return frame


def _last_byte(c: PtyChild, frame: dict[str, Any]) -> float:
    """When the last byte of the frame reached the pty master (parent's view, same clock)."""
    c.settle(0.02, at_most=0.2)
    last = math.nan
    for at, _ in reversed(c.chunks):
        if at < frame["delivered"]:
            break
        if at <= frame["received"] + 0.05:
            last = at if math.isnan(last) else max(last, at)
    return last


def app_polls(runs: int, polls: int, warmup: int) -> Updates:
    """The whole app at 24 units: bytes and CPU of a poll that changes 3 cells, fade included."""
    out = Updates()
    for run in range(runs):
        progress(f"whole app, 24 units: run {run + 1}/{runs} ({warmup} warm-up polls first)")
        with FeedGenServer(24) as server, _app(server, NO_POLLING) as c:
            c.wait_event("frame", 120)
            for _ in range(warmup):  # fill the changes pane: its steady state is full
                _poll(c, server)
            c.settle(QUIET, at_least=AFTER_FADE)
            ticks = c.cpu_ticks()
            for _ in range(polls):
                total, cpu, main = c.total, c.cpu(), c.cpu(main=True)
                frame = _poll(c, server)
                out.update_bytes.append(c.total - total)
                c.settle(QUIET, at_least=AFTER_FADE)
                out.bytes.append(c.total - total)
                out.cpu.append(c.cpu() - cpu)
                out.main_cpu.append(c.cpu(main=True) - main)
                out.frames.append(frame)
            out.tick_means.append((c.cpu_ticks() - ticks) / polls)
    return out


def app_idle(seconds: float) -> Idle:
    """The whole app polling an unchanging feed at its interval (304s), nothing to show."""
    progress(f"whole app, idle: {seconds:.0f} s")
    with FeedGenServer(24) as server, _app(server, 2.0) as c:
        c.wait_event("frame", 120)
        c.settle(QUIET, at_least=AFTER_FADE + 0.5)
        requests = server.requests
        idle = measure_idle(c, seconds)
        idle.polls = server.requests - requests
        return idle


def app_scale(units: int, polls: int) -> Scale:
    """First frame, then POLLS back-to-back polls that each change 3 cells, then the RSS."""
    progress(f"whole app, {units:,} units: starting")
    with FeedGenServer(units) as server:
        feed_bytes = len(server.current(FEED_KIND)[1])
        with _app(server, NO_POLLING) as c:
            c.ask("probe_loop", "probing")  # a 5 ms sleeper that notes how late it wakes
            first = c.wait_event("frame", 600)
            c.settle(0.3, at_least=AFTER_FADE)
            rss_first = c.rss()
            frames: list[dict[str, Any]] = []
            start = time.monotonic()
            for i in range(polls):
                frames.append(_poll(c, server))
                done = i + 1
                if done in (10, 100) or done % 100 == 0 or done == polls:
                    elapsed = time.monotonic() - start
                    left = elapsed / done * (polls - done)
                    progress(
                        f"whole app, {units:,} units: {done}/{polls} polls, "
                        f"{elapsed:.0f} s so far, ~{left:.0f} s to go"
                    )
            seconds = time.monotonic() - start
            c.settle(0.3, at_least=AFTER_FADE)
            return Scale(
                units=units,
                feed_bytes=feed_bytes,
                first_frame=first["frame"] - first["published"],
                launch_to_frame=first["frame"] - c.started,
                frames=frames,
                rss_first=rss_first,
                rss_last=c.rss(),
                seconds=seconds,
            )


# --- launch -----------------------------------------------------------------------------------


def nightdesk_command() -> str:
    for candidate in (REPO / ".venv" / "bin" / "nightdesk", Path(PY).parent / "nightdesk"):
        if candidate.exists():
            return str(candidate)
    found = shutil.which("nightdesk")
    if found is None:
        raise ChildFailed("no nightdesk command installed (make demo installs it)")
    return found


def demo_launch(runs: int) -> Launch:
    """``nightdesk demo`` as a user starts it: process start → first full frame → provinces."""
    from nightdesk.demo.definition import PROVINCES

    out = Launch()
    for run in range(runs):
        progress(f"nightdesk demo launch: run {run + 1}/{runs}")
        c = PtyChild([nightdesk_command(), "demo"], control=False, env=child_env(animations=True))
        c.keep = bytearray()
        try:
            # The first full frame has the header, the side panes and the footer all drawn.
            first = max(c.wait_output(m) for m in (b"nightdesk", b"National totals", b"Quit"))
            out.first_frame.append(first - c.started)
            out.provinces.append(c.wait_output(PROVINCES[-1].name.encode()) - c.started)
            c.settle(0.3)
            c.type(b"q")
        finally:
            c.close()
    return out


# --- the table ------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds * 1000:,.0f} ms"


def _s(seconds: float) -> str:
    return "—" if math.isnan(seconds) else f"{seconds:.2f} s"


def _n(value: float) -> str:
    return "—" if math.isnan(value) else f"{value:,.0f}"


def _verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("pass" if ok else "FAIL")


def _latency(frames: list[dict[str, Any]], key: str = "frame") -> list[float]:
    return [f[key] - f["poll_started"] for f in frames if not math.isnan(f.get(key, 0.0))]


def _update_time(frames: list[dict[str, Any]]) -> list[float]:
    return [f["frame"] - f["delivered"] for f in frames]


@dataclass
class Results:
    stock: Updates | None = None
    stock_big: Updates | None = None
    widget: Updates | None = None
    app: Updates | None = None
    idle: Idle | None = None
    mid: Scale | None = None
    big: Scale | None = None
    launch: Launch | None = None
    errors: dict[str, str] = field(default_factory=dict)


def rows(r: Results) -> list[tuple[str, str, str, str, str]]:
    nan = math.nan
    out: list[tuple[str, str, str, str, str]] = []
    stock_bytes = median(r.stock.bytes) if r.stock else nan
    stock_cpu = median(r.stock.cpu) if r.stock else nan

    w = median(r.widget.bytes) if r.widget else nan
    ratio = stock_bytes / w if w else nan
    ours = "—" if math.isnan(w) else f"{w:,.0f} ({ratio:.0f}× less)"
    ok = None if math.isnan(w) else (w <= 300 and ratio >= 40)
    out.append(
        (
            "bytes per 3-cell update, table widget, 24 rows, 200×50, highlight and fade included",
            _n(stock_bytes),
            ours,
            "≤ 300 (≥ 40× less, same run)",
            _verdict(ok),
        )
    )
    a = median(r.app.bytes) if r.app else nan
    out.append(
        (
            "bytes per such poll, whole app (totals, changes pane, status included)",
            "—",
            _n(a),
            "≤ 1,500",
            _verdict(None if math.isnan(a) else a <= 1500),
        )
    )
    c = median(r.app.cpu) if r.app else nan
    out.append(
        (
            "CPU per such poll, whole app",
            f"{_ms(stock_cpu)} (table alone)",
            _ms(c),
            "≤ 10 ms",
            _verdict(None if math.isnan(c) else c <= 0.010),
        )
    )
    big_fill = median(r.stock_big.fill) if r.stock_big else nan
    ff = r.big.first_frame if r.big else nan
    out.append(
        (
            "first frame with 20,000 units (data arrived → frame written)",
            _s(big_fill),
            _s(ff),
            "≤ 0.4 s after the data arrives",
            _verdict(None if math.isnan(ff) else ff <= 0.4),
        )
    )
    small = median(_update_time(r.app.frames)) if r.app else nan
    mid = median(_update_time(r.mid.frames)) if r.mid else nan
    big = median(_update_time(r.big.frames)) if r.big else nan
    big_cpu = median([f["main_cpu"] for f in r.big.frames]) if r.big else nan
    flat = not math.isnan(small) and big <= max(2 * small, small + 0.005)
    out.append(
        (
            "update at 20,000 units (state delivered → frame written, wall)",
            f"{_ms(median(r.stock_big.cpu) if r.stock_big else nan)} CPU",
            f"{_ms(big)} (24: {_ms(small)}, 1,600: {_ms(mid)}); loop CPU/poll {_ms(big_cpu)}",
            "≤ 20 ms, flat in N",
            _verdict(None if math.isnan(big) else big <= 0.020 and flat),
        )
    )
    for scale, label in ((r.big, None), (r.mid, "1,600 units"), (r.app, "24 units")):
        frames = scale.frames if scale else []
        lat = _latency(frames)
        value = "—" if not lat else f"p50 {_ms(median(lat))}, p95 {_ms(percentile(lat, 95))}"
        if label is None:
            mb = f"{r.big.feed_bytes / 1e6:.1f} MB" if r.big else "7 MB"
            out.append(
                (
                    f"poll → screen, {mb} feed, 20,000 units",
                    "—",
                    value,
                    "≤ 250 ms p50",
                    _verdict(None if not lat else median(lat) <= 0.25),
                )
            )
        else:
            out.append((f"poll → screen, {label}", "—", value, "(reported)", "—"))
    stock_idle = r.stock.idle if r.stock else None
    idle = r.idle
    out.append(
        (
            "idle, nothing changing, whole app: bytes/s"
            + (f" ({idle.polls} unchanged polls in {idle.seconds:.0f} s)" if idle else ""),
            "—" if stock_idle is None else f"{stock_idle.bytes_per_second:,.0f} B/s",
            "—" if idle is None else f"{idle.bytes_per_second:,.0f} B/s",
            "≤ 100 B/s (the clock)",
            _verdict(None if idle is None else idle.bytes_per_second <= 100),
        )
    )
    out.append(
        (
            "idle, nothing changing, whole app: CPU",
            "—" if stock_idle is None else f"{stock_idle.cpu_percent:.2f}%",
            "—" if idle is None else f"{idle.cpu_percent:.2f}%",
            "≤ 0.3% CPU",
            _verdict(None if idle is None else idle.cpu_percent <= 0.3),
        )
    )
    launch = median(r.launch.first_frame) if r.launch else nan
    shown = median(r.launch.provinces) if r.launch else nan
    out.append(
        (
            "launch to first frame (`nightdesk demo`, installed)",
            "—",
            f"{_s(launch)} (provinces shown: {_s(shown)})",
            "≤ 1.5 s",
            _verdict(None if math.isnan(launch) else launch <= 1.5),
        )
    )
    lag = max((f["max_lag"] for f in r.big.frames), default=nan) if r.big else nan
    out.append(
        (
            "max event-loop block during polls, 20,000 units",
            "—",
            _ms(lag),
            "≤ 50 ms (issue item 3)",
            _verdict(None if math.isnan(lag) else lag <= 0.05),
        )
    )
    if r.big:
        polls = len(r.big.frames)
        out.append(
            (
                f"RSS after {polls:,} polls at 20,000 units",
                "—",
                f"{r.big.rss_last / 2**20:,.0f} MiB (after the first: "
                f"{r.big.rss_first / 2**20:,.0f} MiB)",
                "(reported)" if polls >= 1000 else f"(reported; {polls} polls: --quick)",
                "—",
            )
        )
    else:
        out.append(("RSS after 1,000 polls at 20,000 units", "—", "—", "(reported)", "—"))
    wc = median(r.widget.cpu) if r.widget else nan
    out.append(
        (
            "CPU per 3-cell update, table widget alone, fade included",
            _ms(stock_cpu),
            _ms(wc),
            "(reported)",
            "—",
        )
    )
    return out


def print_table(table: list[tuple[str, str, str, str, str]]) -> None:
    head = ("measure", "stock DataTable (this run)", "nightdesk (this run)", "target", "")
    widths = [max(len(row[i]) for row in [head, *table]) for i in range(5)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    print(line(head))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in table:
        print(line(row))


def print_details(r: Results) -> None:
    """How each number was taken, and the pieces behind the headline figures."""
    print()
    print("details")
    if r.stock:
        print(
            f"  stock DataTable 24×10: bytes/update {sorted(set(r.stock.bytes))}; CPU median "
            f"{_ms(median(r.stock.cpu))} (schedstat), mean {_ms(median(r.stock.tick_means))} "
            f"(/proc/pid/stat utime+stime); fill → frame {_s(median(r.stock.fill))}"
        )
    if r.stock_big:
        print(
            f"  stock DataTable 20,000×10: fill → frame {_s(median(r.stock_big.fill))}; "
            f"update CPU {_ms(median(r.stock_big.cpu))}, bytes {_n(median(r.stock_big.bytes))}"
        )
    if r.widget:
        u, b = median(r.widget.update_bytes), median(r.widget.bytes)
        print(
            f"  ResultsTable alone: {_n(u)} B update + {_n(b - u)} B fade (medians); "
            f"range {min(r.widget.bytes):,}–{max(r.widget.bytes):,} B; CPU median "
            f"{_ms(median(r.widget.cpu))} (schedstat), mean {_ms(median(r.widget.tick_means))} "
            "(/proc/pid/stat)"
        )
    if r.app:
        u, b = median(r.app.update_bytes), median(r.app.bytes)
        print(
            f"  whole app, 24 units: {_n(u)} B poll + {_n(b - u)} B fade; range "
            f"{min(r.app.bytes):,}–{max(r.app.bytes):,} B; CPU {_ms(median(r.app.cpu))} "
            f"(event-loop thread {_ms(median(r.app.main_cpu))}; /proc/pid/stat mean "
            f"{_ms(median(r.app.tick_means))})"
        )
    if r.idle:
        print(
            f"  idle: {r.idle.seconds:.1f} s, {r.idle.polls} polls answered 304; CPU "
            f"{r.idle.cpu_percent:.2f}% (schedstat), {r.idle.tick_percent:.2f}% (/proc/pid/stat)"
        )
    for scale, name in ((r.app, "24"), (r.mid, "1,600"), (r.big, "20,000")):
        frames = getattr(scale, "frames", None)
        if not frames:
            continue
        fetch = [f["published"] - f["poll_started"] for f in frames]
        queue = [f["delivered"] - f["published"] for f in frames]
        show = _update_time(frames)
        pty = _latency(frames, "pty_last")
        loop = [f["main_cpu"] for f in frames]
        print(
            f"  {name} units, {len(frames)} polls (medians): fetch+parse+assess "
            f"{_ms(median(fetch))}, queued {_ms(median(queue))}, "
            f"deliver → frame {_ms(median(show))} "
            f"(p95 {_ms(percentile(show, 95))}); poll → last byte on the pty p50 "
            f"{_ms(median(pty))}, p95 {_ms(percentile(pty, 95))}; event-loop thread CPU "
            f"poll → frame {_ms(median(loop))}"
        )
    if r.big and r.big.frames:
        lags = [f["max_lag"] for f in r.big.frames]
        print(
            f"  event-loop block per poll at 20,000 units (5 ms sleeper's lateness): median "
            f"{_ms(median(lags))}, p95 {_ms(percentile(lags, 95))}, max {_ms(max(lags))}"
        )
    for scale in (r.mid, r.big):
        if scale:
            print(
                f"  {scale.units:,} units: feed {scale.feed_bytes / 1e6:.1f} MB; launch → first "
                f"frame {_s(scale.launch_to_frame)}; {len(scale.frames)} polls took "
                f"{scale.seconds:.0f} s; RSS {scale.rss_first / 2**20:.0f} → "
                f"{scale.rss_last / 2**20:.0f} MiB"
            )
    if r.launch:
        print(
            f"  demo launch runs: first frame {[round(x, 2) for x in r.launch.first_frame]} s, "
            f"provinces {[round(x, 2) for x in r.launch.provinces]} s"
        )
    for name, error in r.errors.items():
        print(f"  ERROR in {name}: {error}")


def measure(plan: Plan) -> Results:
    r = Results()

    def attempt(name: str, fn: Callable[[], Any]) -> Any:
        try:
            return fn()
        except Exception as exc:  # one broken section must not hide the others' numbers
            progress(f"{name} failed: {type(exc).__name__}: {exc}")
            r.errors[name] = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
            return None

    p = plan
    r.stock = attempt(
        "stock", lambda: stock_table(24, p.runs, p.updates, idle_seconds=p.stock_idle_seconds)
    )
    r.widget = attempt("widget", lambda: widget_table(p.runs, p.updates))
    r.app = attempt("app", lambda: app_polls(p.runs, p.app_polls, p.warmup))
    r.idle = attempt("idle", lambda: app_idle(p.idle_seconds))
    r.launch = attempt("launch", lambda: demo_launch(p.launches))
    r.mid = attempt("1,600 units", lambda: app_scale(1_600, p.mid_polls))
    r.stock_big = attempt("stock 20,000", lambda: stock_table(20_000, 1, p.big_stock_updates))
    r.big = attempt("20,000 units", lambda: app_scale(20_000, p.big_polls))
    return r


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Run the benchmarks; these options shape the terminal section.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer runs, and 50 polls at 20,000 units"
    )
    parser.add_argument(
        "--polls", type=int, metavar="N", help="polls at 20,000 units before the RSS (1,000)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    args = parse_args(argv)
    plan = QUICK if args.quick else Plan()
    if args.polls:
        plan = replace(plan, big_polls=args.polls)
    start = time.monotonic()
    results = measure(plan)
    import textual

    print()
    print(
        f"terminal: {COLS}×{ROWS} pty, TERM=xterm-256color, Textual {textual.__version__}; "
        f"medians of {plan.runs} runs × {plan.updates} updates (table) / {plan.app_polls} polls "
        f"(app); highlight {HIGHLIGHT:g} s, fade counted in"
    )
    print_table(rows(results))
    print_details(results)
    progress(f"terminal benchmarks took {time.monotonic() - start:.0f} s")


if __name__ == "__main__":
    main()
