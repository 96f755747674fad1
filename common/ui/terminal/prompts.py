"""Questionary prompts where Ctrl-C or Esc means "back": each returns None then instead of raising.

Every function takes `**kwargs` for questionary (tests pass `input=` and `output=`).
"""

import sys

import questionary
from prompt_toolkit.key_binding import KeyBindings, merge_key_bindings
from rich.console import Console

from common.errors import UserError
from common.ui.terminal.messages import error
from models.config.fields import number_problem


def interactive() -> bool:
    """True when standard input and output are terminals, so prompts can be shown."""
    return sys.stdin.isatty() and sys.stdout.isatty()


SHORTCUTS = "1234567890abcdefghilmnopqrstuvwxyz"  # a menu's entries in order, picked by a key each (j and k move)


def ask_int(label: str, default, low, high, *, escape_wait: float | None = None, **kwargs):
    """Ask for a number from `low` to `high`, a whole one unless `default` is a float; Enter alone takes
    `default`."""
    kind = type(default)
    answer = _ask(questionary.text(f"{label} ({low}-{high}) [{default}]:",
                                   validate=lambda t: number_problem(t, low, high, kind), **kwargs), escape_wait)
    if answer is None:
        return None
    return kind(answer) if answer.strip() else default


def choose(message: str, choices: list, default=None, *, escape_wait: float | None = None, **kwargs):
    """Pick one of `choices` (strings or questionary.Choice) with the arrow keys, or with its key: the entry's
    place in SHORTCUTS, shown beside it (menus of more entries: the arrow keys alone)."""
    keyed = len(choices) <= len(SHORTCUTS)
    entries = [_keyed(choice, SHORTCUTS[i]) if keyed else choice for i, choice in enumerate(choices)]
    chosen = default.value if isinstance(default, questionary.Choice) else default
    start = next((e for e in entries if isinstance(e, questionary.Choice) and e.value == chosen), chosen)
    return _ask(questionary.select(message, choices=entries, default=start, use_shortcuts=keyed, **kwargs),
                escape_wait)


def _keyed(choice, key: str) -> questionary.Choice:
    """`choice` as a questionary.Choice picked by `key`."""
    if isinstance(choice, questionary.Choice):
        return questionary.Choice(choice.title, choice.value, disabled=choice.disabled, shortcut_key=key)
    return questionary.Choice(choice, choice, shortcut_key=key)


def ask_text(message: str, default: str = "", *, escape_wait: float | None = None, **kwargs) -> str | None:
    """Ask for a line of text, pre-filled with `default`."""
    return _ask(questionary.text(message, default=default, **kwargs), escape_wait)


def confirm(message: str, default: bool = False, *, escape_wait: float | None = None, **kwargs) -> bool | None:
    """Ask a yes / no question."""
    return _ask(questionary.confirm(message, default=default, **kwargs), escape_wait)


def drop_type_ahead() -> None:
    """Discard what was typed at the terminal while the program was busy (an Enter pressed during training), so
    that it cannot answer the next question. Pipes and files are left alone: there, input is meant to be read."""
    try:
        import termios  # POSIX only: Windows has none

        if sys.stdin.isatty():
            termios.tcflush(sys.stdin.fileno(), termios.TCIFLUSH)
    except (ImportError, OSError, ValueError):  # no termios (Windows), or no usable standard input
        pass


def _ask(question, escape_wait: float | None = None):
    """Run a question; Esc and Ctrl-C give None. `escape_wait`: seconds an Esc waits for the keys of a longer
    sequence (None: prompt_toolkit's own)."""
    escape = KeyBindings()

    @escape.add("escape")
    def _back(event):
        event.app.exit(exception=KeyboardInterrupt, style="class:aborting")

    app = question.application
    app.key_bindings = merge_key_bindings([app.key_bindings, escape])
    if escape_wait is not None:
        app.ttimeoutlen = app.timeoutlen = escape_wait
    try:
        return question.unsafe_ask()
    except KeyboardInterrupt:
        return None


class Prompter:
    """The prompts of one program, bound once to their input and output: the terminal by default, a pipe and a
    dummy output in tests (prompt_toolkit's `create_pipe_input()` and `DummyOutput()`). Every answer is None when
    the user backs out (Esc, Ctrl-C). `escape_wait`: seconds an Esc waits for more keys (None: prompt_toolkit's
    own; a pipe, where an Esc comes alone, needs no wait)."""

    def __init__(self, escape_wait: float | None = None, **streams):
        self.escape_wait = escape_wait
        self.streams = streams  # input= and output= for questionary, or nothing for the terminal

    def ask_int(self, label: str, default, low, high):
        self._fresh()
        return ask_int(label, default, low, high, escape_wait=self.escape_wait, **self.streams)

    def choose(self, message: str, choices: list, default=None):
        self._fresh()
        return choose(message, choices, default, escape_wait=self.escape_wait, **self.streams)

    def ask_text(self, message: str, default: str = "") -> str | None:
        self._fresh()
        return ask_text(message, default, escape_wait=self.escape_wait, **self.streams)

    def confirm(self, message: str, default: bool = False) -> bool | None:
        self._fresh()
        return confirm(message, default, escape_wait=self.escape_wait, **self.streams)

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
