"""A yes/no question in a small box: keys that would disturb a wall display ask first.

A stray ``q`` on a projector's keyboard must not end the night on screen; ``y`` confirms,
``n`` or Esc keeps everything as it was.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True on ``y``, False on ``n`` or Esc."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Yes, do it"),
        Binding(
            "n,escape", "answer(False)", "No", id="confirm.no", tooltip="No, leave it as it is"
        ),
    ]
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical { width: auto; max-width: 90%; height: auto;
        border: round $warning; background: $surface; padding: 0 2; }
    ConfirmScreen #question { text-style: bold; }
    ConfirmScreen #keys { color: $text-muted; }
    """

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="question", markup=False)
            yield Label("y: yes   n or Esc: no", id="keys")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
