"""A monitor whose terminal hangs up leaves instead of spinning (Textual's input thread
takes EOF for piped stdin and selects again at once)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from tui import hangup


class FakeApp:
    def __init__(self) -> None:
        self.looks: list[Callable[[], None]] = []
        self.exited: list[Any] = []

    def set_interval(self, every: float, callback: Callable[[], None], **kw: Any) -> None:
        self.looks.append(callback)

    def exit(self, code: Any = None) -> None:
        self.exited.append(code)


def test_the_app_leaves_once_its_terminal_hangs_up() -> None:
    master, slave = os.openpty()
    try:
        app = FakeApp()
        hangup.watch(app, slave)  # type: ignore[arg-type]
        (look,) = app.looks
        look()
        assert app.exited == []  # the terminal is there: stay
        os.close(master)  # the far end goes (tmux pane killed, SSH torn down)
        master = -1
        assert hangup.gone(slave)
        look()
        assert app.exited == [1]
    finally:
        os.close(slave)
        if master >= 0:
            os.close(master)


def test_without_a_terminal_nothing_is_watched(monkeypatch: Any) -> None:
    monkeypatch.setattr(hangup, "terminal_fd", lambda: None)
    app = FakeApp()
    hangup.watch(app)  # type: ignore[arg-type]
    assert app.looks == []
