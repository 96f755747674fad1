"""The flat view of a configuration: every setting under its own name, as the command line, the questions, the
run log and a model's sidecar see it, whether it sits in the configuration itself or in one of its groups.

A group (fields.py, `group`) is None when its way of training is off. Flat, it is a switch named after the group
(`joint`: yes / no) or its count (`self_training`: the rounds, 0 for none), beside its settings, which read as
their defaults while the group is off. `make` builds a configuration from flat values, filling every value not
given with its default: the one place where defaults are filled. What the user said stays a plain dict of flat
values until then, so a value given on purpose is never mistaken for one left at its default.
"""

from dataclasses import MISSING, dataclass, fields
from types import MappingProxyType

from common.errors import ConfigError
from models.config.fields import flag, is_group


@dataclass(frozen=True)
class Setting:
    """One flat setting: a field of the configuration, of one of its groups, or a group's switch or count."""
    name: str  # its flat name: the field's, or the group's for a switch or a count
    default: object  # its value when not given (a group's switch: off; its count: 0)
    metadata: MappingProxyType  # the declaration's: label, column, range or choices, asked
    group: str | None = None  # the group field it belongs to, or None
    role: str = "value"  # "value", or a group's "switch" or "count"

    @property
    def flag(self) -> str:
        """Its command-line flag: `--fine-tune-epochs`, or the one declared (`--labels`)."""
        return flag(self.name, self)


def settings(config_type) -> list[Setting]:
    """Every flat setting of a configuration type, in declaration order (a group's switch or count first)."""
    found = []
    for f in fields(config_type):
        if not is_group(f):
            found.append(Setting(f.name, f.default, f.metadata))
            continue
        inner = f.metadata["group"]
        count = f.metadata["count"]
        if count is None:
            switch = MappingProxyType({"choices": (False, True), "label": f.metadata["label"], "asked": False,
                                       "column": f.metadata["column"], "switch": True})
            found.append(Setting(f.name, False, switch, f.name, "switch"))
        else:
            counted = next(g for g in fields(inner) if g.name == count).metadata
            found.append(Setting(f.name, 0, MappingProxyType({**counted, "low": 0, "column": f.metadata["column"],
                                                              "label": f.metadata["label"]}), f.name, "count"))
        found += [Setting(g.name, g.default, g.metadata, f.name) for g in fields(inner) if g.name != count]
    return found


def setting(config_type, name: str) -> Setting:
    """The flat setting `name`; KeyError for a name that is none."""
    return {s.name: s for s in settings(config_type)}[name]


def value_of(config, name: str):
    """The flat value of setting `name` in `config` (a group's settings read as their defaults while it is off)."""
    s = setting(type(config), name)
    if s.group is None:
        return getattr(config, name)
    inner = getattr(config, s.group)
    if s.role == "switch":
        return inner is not None
    if s.role == "count":
        return getattr(inner, _count_field(type(config), s.group)) if inner is not None else 0
    return getattr(inner, name) if inner is not None else s.default


def flat(config) -> dict:
    """Every flat setting's value: a run log row's hyperparameters."""
    return {s.name: value_of(config, s.name) for s in settings(type(config))}


def make(config_type, values: dict | None = None):
    """A configuration from flat values, each setting not given at its default. A group is on when its switch
    says so, when its count is above 0, or, for a switch left unsaid, when one of its settings is given;
    ConfigError for settings of a group that is off (a count of 0, a switch said off) and for unknown names."""
    values = dict(values or {})
    known = {s.name: s for s in settings(config_type)}
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"not a setting: {', '.join(unknown)}", tuple(unknown))
    built = {}
    for f in fields(config_type):
        if not is_group(f):
            if f.name in values:
                built[f.name] = values[f.name]
            elif f.default is MISSING:
                raise ConfigError(f"{f.name} has no default", (f.name,))
            continue
        built[f.name] = _group(f, {s.name: values[s.name] for s in known.values()
                                   if s.group == f.name and s.role == "value" and s.name in values},
                               values.get(f.name))
    return config_type(**built)


def _group(f, given: dict, said):
    """A group's settings from the values `given` of its fields and its switch or count (`said`: None if not)."""
    count = f.metadata["count"]
    on = bool(said) if said is not None else (count is None and bool(given))
    if on:
        return f.metadata["group"](**given, **({count: said} if count is not None else {}))
    if given:
        names = ", ".join(flag(name) for name in sorted(given))
        turn_on = f"{flag(f.name)} N" if count is not None else flag(f.name)
        raise ConfigError(f"{names} {'are settings' if len(given) > 1 else 'is a setting'} of "
                          f"{f.metadata['title']}: add {turn_on}", (f.name, *given))
    return None


def with_values(config, **values):
    """`config` with some flat settings changed: a group switched off loses its settings; a setting of a group
    that is off turns it on where it has a switch (a counted group needs its count: ConfigError)."""
    config_type = type(config)
    everything = flat(config)
    current = {k: v for k, v in everything.items() if _in_effect(config_type, k, everything)}
    for name, value in values.items():
        s = setting(config_type, name)
        if s.role != "value" and not value:
            current = {k: v for k, v in current.items() if setting(config_type, k).group != s.group}
        elif s.group is not None and s.role == "value" and setting(config_type, s.group).role == "switch":
            current[s.group] = True
        current[name] = value
    return make(config_type, current)


def said_of(config) -> dict:
    """Every setting in effect in `config` with its value: the whole configuration said, as flat values."""
    return {s.name: value_of(config, s.name) for s in in_effect(config)}


def in_effect(config) -> list[Setting]:
    """The settings that change what a run of `config` does: those of its groups only while they are on, and none
    that a way of training on does without (`idle_with`)."""
    current = flat(config)
    return [s for s in settings(type(config)) if _in_effect(type(config), s.name, current)]


def _in_effect(config_type, name: str, current: dict) -> bool:
    s = setting(config_type, name)
    if idle(s, current):
        return False  # a way of training that does without it is on
    return s.group is None or s.role != "value" or bool(current[s.group])


def idle(s: Setting, said: dict) -> bool:
    """Whether setting `s` does nothing given what was said: a way of training that does without it is said on."""
    return any(said.get(group) for group in s.metadata.get("idle_with", ()))


def _count_field(config_type, group_name: str) -> str:
    return next(f for f in fields(config_type) if f.name == group_name).metadata["count"]

