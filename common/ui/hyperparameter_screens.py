"""Asking for hyperparameters: every one a run needs at the start (those not given as flags), and later the one
to change from the baseline with its new value."""

from dataclasses import fields, replace

import questionary
from rich.console import Console

from common.errors import UserError
from common.ui.prompts import Prompter
from models.config import asked, shown

BACK = "Back"


def ask_baseline(ask: Prompter, program, given: dict, can_ask: bool, console: Console):
    """Hyperparameters from the flags, asking for the rest when `can_ask`, until the program accepts them; None if
    the user backs out. Without asking, a configuration the program refuses raises its UserError."""
    values = dict(given)
    while True:
        for f in fields(program.config_type):
            if f.name in values:
                continue
            if not can_ask or not asked(f):  # kept at its flag's value or default; the menu changes it
                values[f.name] = f.default
                continue
            value = ask.ask_int(f.metadata["label"], f.default, f.metadata["low"], f.metadata["high"])
            if value is None:
                return None
            values[f.name] = value
        config = program.config_type(**values)
        try:
            program.check(config)
            return config
        except UserError as e:
            if not can_ask:
                raise
            console.print(f"[red]{e}[/]; please choose again.")
            values = {}  # ask for every value, those given as flags too: they may be the problem


def ask_change(ask: Prompter, program, baseline):
    """The baseline with one hyperparameter changed, as the user picks it and its value; None if they back out."""
    choices = [questionary.Choice(f"{f.metadata['label']} (baseline {shown(getattr(baseline, f.name))})", f.name)
               for f in fields(program.config_type)] + [BACK]
    name = ask.choose("Change which hyperparameter?", choices)
    if name in (None, BACK):
        return None
    meta = next(f.metadata for f in fields(program.config_type) if f.name == name)
    label, now = meta["label"].lower(), getattr(baseline, name)
    if "choices" in meta:
        value = ask.choose(f"New {label}", [questionary.Choice(shown(c), c) for c in meta["choices"]], default=now)
    else:
        value = ask.ask_int(f"New {label}", now, meta["low"], meta["high"])
    if value is None:
        return None
    return program.changed(replace(baseline, **{name: value}), name)
