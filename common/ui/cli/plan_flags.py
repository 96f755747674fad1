"""The flags of repeated runs: `--sweep NAME=V1,V2,...` (which hyperparameter a sweep varies and its values, checked
before anything trains), `--repeats` and `--fresh`."""

import importlib.util

from common.errors import UserError
from common.ui.cli.flags import ALL_LABELS, DEFAULT_REPEATS, Parser, int_in, output_folder
from models.config.fields import is_choice, is_weights, parse_number, shown
from models.config.names import flag
from models.config.settings import settings

SWITCH_VALUES = {"yes": True, "no": False}  # how a switch's values are written (as in the run log)



def add_plan_flags(parser: Parser, example: str, studies: str = "") -> None:
    """--sweep, --repeats and --fresh: repeated runs over a hyperparameter's values (`example`: one of the
    program's, for the help), or `studies`, the program's study flag, named in the help."""
    plans = parser.add_argument_group("sweeps: a hyperparameter's values, each trained several times" + studies)
    plans.add_argument("--sweep", metavar="NAME=V1,V2", action="append",
                       help=f"train every value of a hyperparameter (NAME as its flag, without --: {example}); "
                            "several --sweep flags make a grid; then show the table and graphs with error bars and "
                            "exit; runs already in the run log are reused")
    plans.add_argument("--repeats", metavar="N", type=int_in(1, 100),
                       help=f"runs per value (or budget and arm), with seeds --seed, --seed + 1, ... (default "
                            f"{DEFAULT_REPEATS})")
    plans.add_argument("--fresh", action="store_true",
                       help="train every run of the sweep or study again, and any run from its first epoch: its "
                            "backup (a stopped run resumes from its last finished epoch) is discarded")
    plans.add_argument("--keep-models", metavar="DIR", type=output_folder,
                       help="save every run's model as DIR/RUN_ID.h5 with its sidecar, noted in the run log "
                            "(with --ray on several machines, a folder all of them can write)")
    plans.add_argument("--workers", metavar="N", type=int_in(1, 64), default=1,
                       help="train N runs of the sweep or study at a time, each in a process of its own with its "
                            "share of the CPU cores (or its own GPU) (default 1)")
    plans.add_argument("--ray", metavar="ADDRESS",
                       help="train the runs on a Ray cluster (its address, or auto) or on a Ray instance started "
                            "here (local); --workers N sets the runs at a time (default: one per GPU, or per 2 "
                            "CPUs); needs Ray (pip install -r requirements-ray.txt)")


def resolve_plan_flags(parser: Parser, args, config_type) -> None:
    """Turn --sweep flags into `args.axes` (() without one), checked for names, values and clashes; --repeats and
    --workers, --ray and --keep-models only with a sweep or a study."""
    study = getattr(args, "study", None)
    has_study = hasattr(args, "study")
    try:
        args.axes = parse_sweeps(args.sweep or [], config_type)
    except UserError as e:
        parser.error(str(e))
    if not args.axes and not study:
        for name in ("repeats", "workers", "ray", "keep_models"):
            if getattr(args, name) and (name != "workers" or args.workers > 1):
                parser.error(f"{flag(name)} goes with --sweep{' or --study labels' if has_study else ''}")
    if args.axes and study:
        parser.error("--sweep does not go with --study labels (the study sweeps --labels itself)")
    for name, _ in args.axes:
        if getattr(args, name, None) is not None:
            parser.error(f"{flag(name)} and --sweep {flag(name)[2:]}=...: give the values in --sweep only")
    if args.ray and importlib.util.find_spec("ray") is None:
        parser.error("--ray needs Ray, which is not installed: pip install -r requirements-ray.txt")
    args.repeats = args.repeats or DEFAULT_REPEATS

def sweepable(config_type) -> dict[str, object]:
    """The settings a sweep may vary, by every name the user may give them: the flag's (`fc-units`, `labels`) and
    the setting's (`fc_units`, `label_budget`)."""
    names = {}
    for s in settings(config_type):
        if not is_weights(s):  # a list of weights per run: given with its flag, never swept
            names[s.flag[2:]] = names[s.name] = s
    return names


def parse_sweep(text: str, config_type) -> tuple[str, tuple]:
    """'filters=8,16,32' -> ('filters', (8, 16, 32)): the field and its values in the order given, repeats dropped;
    UserError naming what is wrong (no '=', an unknown name, no values, a value of the wrong kind or range)."""
    name, sep, values = text.partition("=")
    name = name.strip()
    known = sweepable(config_type)
    if not sep or not name:
        raise UserError(f"--sweep {text}: expected NAME=V1,V2,... (for example epochs=1,2,4)")
    if name not in known:
        choices = sorted({n for n in known if "_" not in n})
        raise UserError(f"--sweep {text}: {name!r} is not a hyperparameter; choose among {', '.join(choices)}")
    f = known[name]
    items = [item.strip() for item in values.split(",")]
    if not any(items):
        raise UserError(f"--sweep {text}: no values given for {name}")
    parsed = []
    for item in items:
        try:
            value = _value(item, f)
        except UserError as e:
            raise UserError(f"--sweep {text}: {e}") from None
        if value not in parsed:
            parsed.append(value)
    return f.name, tuple(parsed)


def parse_sweeps(texts: list[str], config_type) -> tuple[tuple[str, tuple], ...]:
    """Several --sweep flags: a grid; UserError when one hyperparameter is swept twice."""
    axes = [parse_sweep(text, config_type) for text in texts]
    names = [name for name, _ in axes]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise UserError(f"--sweep: {', '.join(twice)} swept twice; give all its values in one --sweep")
    return tuple(axes)


def _value(item: str, f):
    """One value of a field, as the field takes it."""
    if not item:
        raise UserError("an empty value")
    meta = f.metadata
    if f.name == "label_budget" and item.lower() == ALL_LABELS:
        return 0
    if is_choice(f) and meta["switch"]:
        if item.lower() not in SWITCH_VALUES:
            raise UserError(f"{item!r}: expected yes or no")
        return SWITCH_VALUES[item.lower()]
    if is_choice(f):
        if item not in meta["choices"]:
            raise UserError(f"{item!r}: expected one of {', '.join(map(shown, meta['choices']))}")
        return item
    return parse_number(item, meta["low"], meta["high"], type(f.default))
