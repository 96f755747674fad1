"""How a hyperparameter is declared: a dataclass field with its range or choices, its prompt label and its
run-log column, from which the flags, the questions, the log and the sidecars are made; and the range check."""

from dataclasses import field, fields

from common.errors import ConfigError


def hyperparameter(default, low, high, label: str, column: str, *, asked: bool = True):
    """A number field (a whole number, or a fraction when `default` is a float) with its allowed range, a prompt
    label and its run-log column. `asked=False`: set by its flag or from the menu, not asked for at start."""
    return field(default=default, metadata={"low": low, "high": high, "label": label, "column": column,
                                            "asked": asked})


def choice(default: str, choices: tuple[str, ...], label: str, column: str):
    """A field taking one of a few named values; set by its flag or from the menu, not asked at start."""
    return field(default=default, metadata={"choices": choices, "label": label, "column": column, "asked": False,
                                            "switch": None})


def switch(label: str, column: str):
    """A yes/no field, off by default; its flag takes no value and switches it on (`--augment`); set by its flag or
    from the menu, not asked at start. The run log writes it as yes / no."""
    return field(default=False, metadata={"choices": (False, True), "label": label, "column": column,
                                          "asked": False, "switch": True})


def weights(default: str, label: str, column: str):
    """A weight per level, numbers from 0 to 10000 separated by commas (`1000,10,0.1`), kept as that text; set by
    its flag or from the menu, not asked at start, never swept."""
    return field(default=default, metadata={"weights": True, "low": 0.0, "high": 1e4, "label": label,
                                            "column": column, "asked": False})


def is_weights(f) -> bool:
    """True for a field made by `weights`."""
    return "weights" in f.metadata


def parse_weights(text: str, name: str = "--denoising-weights") -> tuple[float, ...]:
    """The numbers of a weights field's text; ConfigError naming the value for anything else."""
    try:
        values = tuple(float(item) for item in text.split(",")) if text.strip() else ()
    except ValueError:
        values = None
    if values is None or any(not 0 <= v <= 1e4 for v in values):
        raise ConfigError(f"{name} {text}: expected weights from 0 to 10000 separated by commas, from the image "
                          f"up (for example 1000,10,0.1,0.1,0.1)", ("denoising_weights",))
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


def check_ranges(config) -> None:
    """Raise UserError naming the first hyperparameter outside its range (or not among its choices)."""
    for f in fields(config):
        value = getattr(config, f.name)
        if is_weights(f):
            parse_weights(value)
            continue
        if is_choice(f):
            if value not in f.metadata["choices"]:
                raise ConfigError(f"{f.metadata['label']} must be one of "
                                  f"{', '.join(map(shown, f.metadata['choices']))}, got {value!r}", (f.name,))
            continue
        low, high = f.metadata["low"], f.metadata["high"]
        if not low <= value <= high:
            raise ConfigError(f"{f.metadata['label']} must be from {low} to {high}, got {value}", (f.name,))
