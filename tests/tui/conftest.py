"""Snapshot pictures without toasts: a notification expires on the wall clock (Textual's
timer), so whether it is still up when the picture is taken depends on the machine's speed.
The alerts tests check the toasts themselves with the pilot."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import pytest
from textual.app import App
from textual.pilot import Pilot


@pytest.fixture
def snap_compare(snap_compare: Callable[..., bool]) -> Callable[..., bool]:
    def compare(
        app: Any,
        press: Iterable[str] = (),
        terminal_size: tuple[int, int] = (80, 24),
        run_before: Callable[[Pilot[Any]], Awaitable[None] | None] | None = None,
    ) -> bool:
        async def before(pilot: Pilot[Any]) -> None:
            if run_before is not None:
                done = run_before(pilot)
                if inspect.isawaitable(done):
                    await done
            for key in press:  # pressed here so the toasts they raise are cleared too
                await (pilot.pause() if key == "_" else pilot.press(key))
            app_: App[Any] = pilot.app
            app_.clear_notifications()
            await pilot.pause()

        return snap_compare(app, terminal_size=terminal_size, run_before=before)

    return compare
