"""Asking for hyperparameters: every one a run needs at the start (those not given as flags), and later the one
to change from the baseline with its new value. What the user said (flags, answers) is kept apart from the
defaults (models/config/settings.py): a study's arms keep every value said, whatever it is."""

import questionary
from rich.console import Console

from common.errors import UserError
from common.ui.terminal.messages import error
from common.ui.terminal.prompts import Prompter
from models.config.fields import asked, is_choice, is_weights, parse_list, shown
from models.config.settings import idle, make, settings, value_of, with_values

BACK = "Back"


def ask_baseline(ask: Prompter, program, given: dict, can_ask: bool, console: Console):
    """Hyperparameters from the flags, asking for the rest when `can_ask`, until the program accepts them:
    (the configuration, what was said: the flags and the answers), or None if the user backs out. A configuration
    the program refuses is said, and only what it refused is asked for again (the value in use offered), every
    other value and flag kept. Without asking, the refusal raises its UserError."""
    said = dict(given)
    proposed = program.proposals(given)  # in place of the defaults
    for s in settings(program.config_type):
        if s.name in said or not can_ask or not asked(s) or idle(s, said):  # unsaid: proposed, or its default
            continue
        said[s.name] = ask_value(ask, s, proposed.get(s.name, s.default), s.metadata["label"])
        if said[s.name] is None:
            return None
    while True:
        try:
            config = make(program.config_type, {**proposed, **said})
            program.check(config)
            return config, said
        except UserError as e:
            if not can_ask:
                raise
            error(console, f"{e}; please choose again.")
            refused = getattr(e, "fields", ()) or [s.name for s in settings(program.config_type) if asked(s)]
        defaults = {s.name: proposed.get(s.name, s.default) for s in settings(program.config_type)}
        for s in settings(program.config_type):
            if s.name in refused:
                said[s.name] = ask_value(ask, s, said.get(s.name, defaults[s.name]), s.metadata["label"], console)
                if said[s.name] is None:
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
                return ",".join(f"{value:g}" for value in parse_list(f, answer))
            except UserError as e:
                error(console or Console(), e)
                now = answer
    if is_choice(f):
        return ask.choose(message, [questionary.Choice(shown(c), c) for c in meta["choices"]], default=now)
    return ask.ask_int(message, now, meta["low"], meta["high"])


def ask_change(ask: Prompter, program, baseline, console: Console):
    """The baseline with one hyperparameter changed, as the user picks it and its value (the baseline's own value
    is said and asked for again: it would train the same run); None if they back out."""
    choices = [questionary.Choice(f"{s.metadata['label']} (baseline {shown(value_of(baseline, s.name))})", s.name)
               for s in settings(program.config_type)] + [BACK]
    name = ask.choose("Change which hyperparameter?", choices)
    if name in (None, BACK):
        return None
    s = next(s for s in settings(program.config_type) if s.name == name)
    now = value_of(baseline, name)
    while True:
        value = ask_value(ask, s, now, f"New {s.metadata['label'].lower()}", console)
        if value is None:
            return None
        if value != now:
            try:
                return with_values(baseline, **{name: value})
            except UserError as e:  # a setting of a way of training that is off, say
                error(console, e)
                return None
        error(console, f"{shown(value)} is the baseline's own {s.metadata['label'].lower()}: choose another value "
                       f"(Esc goes back)")
