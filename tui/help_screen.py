"""``?``: every key the monitor knows, built from the Bindings themselves so it never lies."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen

INTRO = """\
# nightdesk — keys

Everything is on the keyboard; the Footer shows the keys of the current screen and
**Ctrl+P** opens the command palette.
"""


def _key(binding: Binding) -> str:
    if binding.key_display:
        return binding.key_display
    names = {
        "question_mark": "?",
        "slash": "/",
        "escape": "Esc",
        "enter": "Enter",
        "up": "↑",
        "down": "↓",
        "pageup": "PgUp",
        "pagedown": "PgDn",
        "home": "Home",
        "end": "End",
    }
    return " / ".join(names.get(k, k) for k in binding.key.split(","))


def help_markdown(sections: Iterable[tuple[str, Iterable[Binding | tuple[str, str, str]]]]) -> str:
    parts = [INTRO]
    for title, bindings in sections:
        rows = []
        for b in bindings:
            if isinstance(b, tuple):
                key, desc, tip = b
            else:
                key, desc, tip = _key(b), b.description, b.tooltip
            rows.append(f"| `{key}` | {desc} | {tip} |")
        if rows:
            parts.append(f"## {title}\n\n| Key | Action | What it does |\n|---|---|---|\n")
            parts[-1] += "\n".join(rows) + "\n"
    return "\n".join(parts)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [
        Binding(
            "escape,question_mark", "dismiss", "Close", id="help.close", tooltip="Close this help"
        ),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 90%; max-width: 100; height: 90%;
        border: round $primary; background: $surface; padding: 0 1; }
    """

    def __init__(self, markdown: str) -> None:
        super().__init__()
        self.markdown = markdown

    def compose(self) -> ComposeResult:
        # Imported here: Markdown (markdown-it, pygments) costs ~50 ms at launch, and only
        # `?` needs it.
        from textual.widgets import Markdown

        with VerticalScroll():
            yield Markdown(self.markdown)
