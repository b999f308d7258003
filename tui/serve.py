"""``nightdesk serve``: the monitor in a browser, through textual-serve.

textual-serve answers HTTP and, for each browser session, starts the app as a subprocess by
a command line and relays its terminal over a websocket. The command here is this same
Python running ``tui.cli`` with the same config (absolute: the subprocess may start
elsewhere), so a browser sees exactly what a terminal would.

There is no authentication: anyone who reaches the port gets a monitor. So the default is
loopback, and anything else is said on stderr before serving.
"""

from __future__ import annotations

import ipaddress
import os
import shlex
import socket
import subprocess
import sys
from collections.abc import Sequence

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost`` (names are not resolved: a name that is
    not ``localhost`` counts as reachable from elsewhere)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def no_auth_warning(host: str, port: int) -> str | None:
    """The warning for a host others can reach; None on loopback."""
    if is_loopback(host):
        return None
    return (
        f"nightdesk serve: warning: listening on {host}:{port} with NO authentication — "
        "anyone who can reach this port gets a live monitor (each visit polls the feeds and "
        "can mark baselines in the store). Put an authenticating reverse proxy with TLS in "
        "front, or keep the default 127.0.0.1 and use an SSH tunnel."
    )


def public_url(host: str, port: int) -> str:
    """Where the browser finds the server (the page points its websocket there)."""
    if host in ("0.0.0.0", "::", ""):  # every interface: the browser needs a real name
        host = socket.getfqdn()
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}"


def app_command(arguments: Sequence[str]) -> str:
    """The shell command textual-serve runs per session: ``python -m tui.cli ARGUMENTS``."""
    argv = [sys.executable, "-m", "tui.cli", *arguments]
    return subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)


def serve(
    command: str,
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    title: str = "nightdesk",
    url: str | None = None,
) -> None:
    """Serve until Ctrl+C or SIGTERM (textual-serve stops its sessions and returns)."""
    import asyncio

    from textual_serve.server import Server

    # textual-serve asks asyncio for "the current loop": give it one (Python 3.12+ no
    # longer makes one on demand).
    asyncio.set_event_loop(asyncio.new_event_loop())
    Server(
        command, host=host, port=port, title=title, public_url=url or public_url(host, port)
    ).serve()
