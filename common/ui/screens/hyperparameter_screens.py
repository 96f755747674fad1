"""Asking for hyperparameters: every one a run needs at the start (those not given as flags), and later the one
to change from the baseline with its new value."""

from dataclasses import fields, replace

import questionary
from rich.console import Console

from common.errors import UserError
from common.ui.terminal.messages import error
from common.ui.terminal.prompts import Prompter
from models.fields import asked, is_choice, is_weights, parse_weights, shown

BACK = "Back"


def ask_baseline(ask: Prompter, program, given: dict, can_ask: bool, console: Console):
    """Hyperparameters from the flags, asking for the rest when `can_ask`, until the program accepts them; None if
    the user backs out. A configuration the program refuses is said, and only what it refused is asked for again
    (the value in use offered), every other value and flag kept. Without asking, the refusal raises its
    UserError."""
    values = dict(given)
    for f in fields(program.config_type):
        if f.name in values:
            continue
        if not can_ask or not asked(f):  # kept at its flag's value or default; the menu changes it
            values[f.name] = f.default
            continue
        values[f.name] = ask_value(ask, f, f.default, f.metadata["label"])
        if values[f.name] is None:
            return None
    while True:
        config = program.config_type(**values)
        try:
            program.check(config)
            return config
        except UserError as e:
            if not can_ask:
                raise
            error(console, f"{e}; please choose again.")
            refused = getattr(e, "fields", ()) or [f.name for f in fields(program.config_type) if asked(f)]
        for f in fields(program.config_type):
            if f.name in refused:
                values[f.name] = ask_value(ask, f, values[f.name], f.metadata["label"], console)
                if values[f.name] is None:
                    return None


def ask_value(ask: Prompter, f, now, message: str, console: Console | None = None):
    """A new value of field `f` (a choice among its values, weights, or a number in its range), `now` offered; None
    if the user backs out."""
    meta = f.metadata
    if is_weights(f):
        while True:  # empty is a value here (the default weights), so `ask_parsed` would not do
            answer = ask.ask_text(f"{message} (numbers separated by commas; empty: the default)", now)
            if answer is None:
                return None
            try:
                return ",".join(f"{value:g}" for value in parse_weights(answer))
            except UserError as e:
                error(console or Console(), e)
                now = answer
    if is_choice(f):
        return ask.choose(message, [questionary.Choice(shown(c), c) for c in meta["choices"]], default=now)
    return ask.ask_int(message, now, meta["low"], meta["high"])


def ask_change(ask: Prompter, program, baseline, console: Console):
    """The baseline with one hyperparameter changed, as the user picks it and its value (the baseline's own value
    is said and asked for again: it would train the same run); None if they back out."""
    choices = [questionary.Choice(f"{f.metadata['label']} (baseline {shown(getattr(baseline, f.name))})", f.name)
               for f in fields(program.config_type)] + [BACK]
    name = ask.choose("Change which hyperparameter?", choices)
    if name in (None, BACK):
        return None
    f = next(f for f in fields(program.config_type) if f.name == name)
    now = getattr(baseline, name)
    while True:
        value = ask_value(ask, f, now, f"New {f.metadata['label'].lower()}", console)
        if value is None:
            return None
        if value != now:
            return program.changed(replace(baseline, **{name: value}), name)
        error(console, f"{shown(value)} is the baseline's own {f.metadata['label'].lower()}: choose another value "
                       f"(Esc goes back)")
