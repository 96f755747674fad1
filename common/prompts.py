"""Questionary prompts where Ctrl-C or Esc means "back": each returns None then instead of raising.

Every function takes `**kwargs` for questionary (tests pass `input=` and `output=`).
"""

import sys

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings

from common.errors import UserError


def interactive() -> bool:
    """True when standard input and output are terminals, so prompts can be shown."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def ask_int(label: str, default: int, low: int, high: int, **kwargs) -> int | None:
    """Ask for a whole number from `low` to `high`; Enter alone takes `default`."""
    answer = _ask(questionary.text(f"{label} ({low}-{high}) [{default}]:", validate=lambda t: _int_problem(t, low, high),
                                   **kwargs))
    if answer is None:
        return None
    return int(answer) if answer.strip() else default


def choose(message: str, choices: list, default=None, **kwargs):
    """Pick one of `choices` (strings or questionary.Choice) with the arrow keys or a number."""
    return _ask(questionary.select(message, choices=choices, default=default, use_shortcuts=len(choices) <= 36,
                                   **kwargs))


def ask_text(message: str, default: str = "", **kwargs) -> str | None:
    """Ask for a line of text, pre-filled with `default`."""
    return _ask(questionary.text(message, default=default, **kwargs))


def confirm(message: str, default: bool = False, **kwargs) -> bool | None:
    """Ask a yes / no question."""
    return _ask(questionary.confirm(message, default=default, **kwargs))


def parse_int(text: str, low: int, high: int) -> int:
    """The whole number in `text` if it lies in [low, high]; UserError naming the value otherwise."""
    problem = _int_problem(text, low, high, empty_ok=False)
    if problem is not True:
        raise UserError(f"{text!r}: {problem}")
    return int(text)


def _int_problem(text: str, low: int, high: int, empty_ok: bool = True):
    """True if `text` is acceptable, else what is wrong with it (questionary's validate protocol)."""
    text = text.strip()
    if not text:
        return True if empty_ok else f"expected a whole number from {low} to {high}"
    try:
        value = int(text)
    except ValueError:
        return f"expected a whole number from {low} to {high}"
    return True if low <= value <= high else f"must be from {low} to {high}"


def _ask(question):
    """Run a question; Esc and Ctrl-C give None."""
    escape = KeyBindings()

    @escape.add("escape")
    def _back(event):
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    question.application.key_bindings = merge_key_bindings([question.application.key_bindings, escape])
    try:
        return question.unsafe_ask()
    except KeyboardInterrupt:
        return None
