"""How a hyperparameter is declared: a dataclass field with its range or choices, its prompt label and its
run-log column, from which the flags, the questions, the log and the sidecars are made (settings.py reads them);
a group of settings that belong to one way of training; the checks of a value."""

from dataclasses import field, fields, is_dataclass

from common.errors import ConfigError, UserError


def hyperparameter(default, low, high, label: str, column: str, *, asked: bool = True, flag: str | None = None,
                   idle_with: tuple[str, ...] = ()):
    """A number field (a whole number, or a fraction when `default` is a float) with its allowed range, a prompt
    label and its run-log column. `asked=False`: set by its flag or from the menu, not asked for at start; `flag`:
    the command line's name for it when that is not the field's (`--labels` for `label_budget`); `idle_with`: the
    groups whose way of training does without it (neither asked for nor shown while one of them is on)."""
    return field(default=default, metadata={"low": low, "high": high, "label": label, "column": column,
                                            "asked": asked, "idle_with": idle_with,
                                            **({"flag": flag} if flag else {})})


def group(settings_type, title: str, label: str, column: str, *, count: str | None = None):
    """A field holding the settings of one way of training (a dataclass of hyperparameters), or None when the run
    does not train that way. On the command line, in questions and in the log its settings are flat, each under
    its own name; the group itself is a yes / no switch named after the field (`--joint`, column `column`), or,
    with `count`, that field of the group's under the group's name (`--self-training 3`, the rounds; 0: none).
    `title` names the way of training in messages ("joint training")."""
    return field(default=None, metadata={"group": settings_type, "title": title, "label": label, "column": column,
                                         "count": count})


def is_group(f) -> bool:
    """True for a field made by `group`."""
    return "group" in f.metadata and is_dataclass(f.metadata["group"])


def choice(default: str, choices: tuple[str, ...], label: str, column: str, *, idle_with: tuple[str, ...] = ()):
    """A field taking one of a few named values; set by its flag or from the menu, not asked at start."""
    return field(default=default, metadata={"choices": choices, "label": label, "column": column, "asked": False,
                                            "switch": None, "idle_with": idle_with})


def switch(label: str, column: str):
    """A yes/no field, off by default; its flag takes no value and switches it on (`--augment`); set by its flag or
    from the menu, not asked at start. The run log writes it as yes / no."""
    return field(default=False, metadata={"choices": (False, True), "label": label, "column": column,
                                          "asked": False, "switch": True})


def weights(default: str, label: str, column: str, *, low: float = 0.0, high: float = 1e4, whole: bool = False,
            example: str = "1000,10,0.1,0.1,0.1"):
    """A number per level, from `low` to `high` (whole numbers with `whole`), separated by commas (`1000,10,0.1`),
    kept as that text; set by its flag or from the menu, not asked at start, never swept."""
    return field(default=default, metadata={"weights": True, "low": low, "high": high, "whole": whole,
                                            "example": example, "label": label, "column": column, "asked": False})


def is_weights(f) -> bool:
    """True for a field made by `weights`."""
    return "weights" in f.metadata


def parse_list(f, text: str) -> tuple:
    """The numbers of field `f`'s text (a field made by `weights`); ConfigError naming the flag and the value for
    anything else."""
    meta = f.metadata
    kind = int if meta["whole"] else float
    try:
        values = tuple(kind(item) for item in text.split(",")) if text.strip() else ()
    except ValueError:
        values = None
    if values is None or any(not meta["low"] <= v <= meta["high"] for v in values):
        flag = meta.get("flag") or "--" + f.name.replace("_", "-")
        numbers = "whole numbers" if meta["whole"] else "numbers"
        raise ConfigError(f"{flag} {text}: expected {numbers} from {meta['low']:g} to {meta['high']:g} separated by "
                          f"commas (for example {meta['example']})", (f.name,))
    return values


def shown(value) -> str:
    """A hyperparameter's value as the programs show and log it: yes / no for a switch."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def is_choice(f) -> bool:
    """True for a field made by `choice` rather than `hyperparameter`."""
    return "choices" in f.metadata


def asked(f) -> bool:
    """True for a field asked for when the programs start (unless its flag is given)."""
    return f.metadata.get("asked", True)


def flag(name: str, f=None) -> str:
    """The command-line flag of a setting: `fine_tune_epochs` -> `--fine-tune-epochs`, or its declared one."""
    declared = f.metadata.get("flag") if f is not None else None
    return declared or f"--{name.replace('_', '-')}"


def parse_number(text: str, low, high, kind=int):
    """The number in `text` (whole unless `kind` is float) if it lies in [low, high]; UserError naming the value
    otherwise."""
    problem = number_problem(text, low, high, kind, empty_ok=False)
    if problem is not True:
        raise UserError(f"{text!r}: {problem}")
    return kind(text)


def number_problem(text: str, low, high, kind=int, empty_ok: bool = True):
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


def check_ranges(config) -> None:
    """Raise UserError naming the first hyperparameter outside its range (or not among its choices), in the
    groups too."""
    for f in fields(config):
        value = getattr(config, f.name)
        if is_group(f):
            if value is not None:
                check_ranges(value)
            continue
        if is_weights(f):
            parse_list(f, value)
            continue
        if is_choice(f):
            if value not in f.metadata["choices"]:
                raise ConfigError(f"{f.metadata['label']} must be one of "
                                  f"{', '.join(map(shown, f.metadata['choices']))}, got {value!r}", (f.name,))
            continue
        low = f.metadata["low"]
        high = f.metadata["high"]
        if not low <= value <= high:
            raise ConfigError(f"{f.metadata['label']} must be from {low} to {high}, got {value}", (f.name,))
