"""Leave when the terminal is gone.

Textual 8.2.8's Linux input thread takes an empty read as "stdin is piped" and selects
again at once: a monitor whose terminal disappears without a SIGHUP reaching it (a killed
tmux pane, an SSH session torn down oddly) spins a core for as long as it lives, on the
newsroom's shared server. A terminal that hung up is no longer a tty (``isatty`` is false,
``tcgetattr`` fails with EIO), so the app looks every few seconds and leaves when it is gone.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App

#: Seconds between looks: a check costs one ``isatty`` call.
EVERY = 2.0


def terminal_fd() -> int | None:
    """stdin's descriptor when the app runs on a terminal (None: piped, headless, a browser)."""
    stdin = sys.__stdin__
    try:
        fd = stdin.fileno() if stdin is not None else -1
    except (OSError, ValueError):
        return None
    return fd if fd >= 0 and os.isatty(fd) else None


def gone(fd: int) -> bool:
    """Whether the terminal on ``fd`` hung up."""
    return not os.isatty(fd)


def watch(app: App[object], fd: int | None = None) -> None:
    """Exit ``app`` once its terminal is gone (nothing to do when it has none)."""
    fd = terminal_fd() if fd is None else fd
    if fd is None:
        return

    def look() -> None:
        if gone(fd):
            app.exit(1)

    app.set_interval(EVERY, look, name="terminal hang-up watch")
