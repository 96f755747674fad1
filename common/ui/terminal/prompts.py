"""Questionary prompts where Ctrl-C or Esc means "back": each returns None then instead of raising.

Every function takes `**kwargs` for questionary (tests pass `input=` and `output=`).
"""

import sys

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from rich.console import Console

from common.errors import UserError
from common.ui.terminal.messages import error


def interactive() -> bool:
    """True when standard input and output are terminals, so prompts can be shown."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def ask_int(label: str, default, low, high, **kwargs):
    """Ask for a number from `low` to `high`, a whole one unless `default` is a float; Enter alone takes
    `default`."""
    kind = type(default)
    answer = _ask(questionary.text(f"{label} ({low}-{high}) [{default}]:",
                                   validate=lambda t: _number_problem(t, low, high, kind), **kwargs))
    if answer is None:
        return None
    return kind(answer) if answer.strip() else default


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


def drop_type_ahead() -> None:
    """Discard what was typed at the terminal while the program was busy (an Enter pressed during training), so
    that it cannot answer the next question. Pipes and files are left alone: there, input is meant to be read."""
    try:
        import termios

        if sys.stdin.isatty():
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError):  # no termios (Windows), or no usable standard input
        pass


def parse_int(text: str, low, high, kind=int):
    """The number in `text` (whole unless `kind` is float) if it lies in [low, high]; UserError naming the value
    otherwise."""
    problem = _number_problem(text, low, high, kind, empty_ok=False)
    if problem is not True:
        raise UserError(f"{text!r}: {problem}")
    return kind(text)


def _number_problem(text: str, low, high, kind=int, empty_ok: bool = True):
    """True if `text` is acceptable, else what is wrong with it (questionary's validate protocol)."""
    expected = f"expected a whole number from {low} to {high}" if kind is int else \
        f"expected a number from {low} to {high}"
    text = text.strip()
    if not text:
        return True if empty_ok else expected
    try:
        value = kind(text)
    except ValueError:
        return expected
    return True if low <= value <= high else f"must be from {low} to {high}"  # NaN fails here too


ESCAPE_WAIT: float | None = None  # seconds an Esc waits for the keys of a longer sequence; None: prompt_toolkit's


def _ask(question):
    """Run a question; Esc and Ctrl-C give None."""
    escape = KeyBindings()

    @escape.add("escape")
    def _back(event):
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings, escape])
    if ESCAPE_WAIT is not None:
        app.ttimeoutlen = app.timeoutlen = ESCAPE_WAIT
    try:
        return question.unsafe_ask()
    except KeyboardInterrupt:
        return None


class Prompter:
    """The prompts of one program, bound once to their input and output: the terminal by default, a pipe and a
    dummy output in tests (prompt_toolkit's `create_pipe_input()` and `DummyOutput()`). Every answer is None when
    the user backs out (Esc, Ctrl-C)."""

    def __init__(self, **streams):
        self.streams = streams  # input= and output= for questionary, or nothing for the terminal

    def ask_int(self, label: str, default, low, high):
        self._fresh()
        return ask_int(label, default, low, high, **self.streams)

    def choose(self, message: str, choices: list, default=None):
        self._fresh()
        return choose(message, choices, default, **self.streams)

    def ask_text(self, message: str, default: str = "") -> str | None:
        self._fresh()
        return ask_text(message, default, **self.streams)

    def confirm(self, message: str, default: bool = False) -> bool | None:
        self._fresh()
        return confirm(message, default, **self.streams)

    def _fresh(self) -> None:
        """At the terminal, keys typed before the question is shown do not answer it."""
        if not self.streams:
            drop_type_ahead()


def ask_parsed(ask: Prompter, console: Console, message: str, default: str, parse):
    """Ask for a line of text until `parse` takes it: a UserError from `parse` is said in one line and the question
    comes again, holding what was typed to be corrected. `parse`'s value, or None when the user backs out (Esc,
    Ctrl-C) or leaves the answer empty."""
    text = default
    while True:
        answer = ask.ask_text(message, text)
        if answer is None or not answer.strip():
            return None
        try:
            return parse(answer.strip())
        except UserError as e:
            error(console, e)
            text = answer
