"""Command-line pieces both programs share: one-line argument errors, hyperparameter and run flags."""

import argparse
from functools import partial

from common.errors import UserError
from common.paths import model_path, writable_folder
from common.study.arms import names as arm_names
from common.study.arms import parse_arms
from models.compute.ways import PRECISIONS, XLA_CHOICES
from models.config.classifier import check_label_budget
from models.config.fields import asked, is_choice, is_weights, parse_list, parse_number
from models.config.settings import make, settings

ALL_LABELS = "all"  # --labels all: every labelled training image
DEFAULT_BUDGETS = "100,300,1000,all"  # the study's --labels when not given
DEFAULT_REPEATS = 3  # the study's --repeats when not given


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, naming the problem, with exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def as_argument_type(convert):
    """`convert(text)` as an argparse type: its UserError becomes argparse's one-line error, naming the flag."""
    def converted(text: str):
        try:
            return convert(text)
        except UserError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return converted


def add_hyperparameter_flags(parser: Parser, config_type, skip=()):
    """One `--name` flag per flat setting of a hyperparameter dataclass (models/config/settings.py), checked
    against its range or choices; a flag not given leaves its setting unsaid (None). Settings in `skip` are left to
    the caller. Returns the argument group, for the caller's own flags."""
    group = parser.add_argument_group("hyperparameters (asked for when not given)")
    for f in settings(config_type):
        if f.name in skip:
            continue
        meta = f.metadata
        if is_weights(f):
            group.add_argument(f.flag, dest=f.name, metavar="W0,W1,..." if not meta["whole"] else "N0,N1,...",
                               type=as_argument_type(partial(_weights, f)),
                               help=f"{meta['label']}; not asked for")
        elif is_choice(f) and meta["switch"]:
            group.add_argument(f.flag, dest=f.name, action="store_const", const=meta["switch"],
                               help=f"{meta['label']} (default: not)")
        elif is_choice(f):
            group.add_argument(f.flag, dest=f.name, choices=meta["choices"],
                               help=f"{meta['label']} (default {f.default}; not asked for)")
        else:
            kind = type(f.default)
            group.add_argument(f.flag, dest=f.name, metavar="N" if kind is int else "F",
                               type=_number_in(meta["low"], meta["high"], kind),
                               help=f"{meta['label']}, {meta['low']}-{meta['high']} (default {f.default}"
                                    f"{'' if asked(f) else '; not asked for'})")
    return group


def label_items(text: str) -> list[str]:
    """Numbers of labelled images separated by commas, or 'all': checked for form here (UserError), for sense by
    `label_budgets`."""
    items = [item.strip().lower() for item in text.split(",")]
    for item in items:
        if item != ALL_LABELS and not item.isdigit():
            raise UserError(f"{text!r}: expected numbers of labelled images separated by commas, or '{ALL_LABELS}' "
                            f"(for example 100,1000,{ALL_LABELS})")
    return items


label_list = as_argument_type(label_items)  # --labels


def label_budgets(items: list[str], classes: int, study: bool) -> list[int]:
    """Label counts from `label_list` items, 0 for all; UserError for one that cannot be a budget. A single run
    also takes 0 for all; a study needs one label per class at least."""
    if not study and len(items) > 1:
        raise UserError(f"--labels {','.join(items)}: give one number (a list is for --study labels)")
    budgets = []
    for item in items:
        value = 0 if item == ALL_LABELS else int(item)
        if value == 0 and item != ALL_LABELS and study:
            raise UserError(f"--labels {item}: at least one labelled image per class is needed, or '{ALL_LABELS}' "
                            f"for every label")
        if value not in budgets:
            budgets.append(value)
    for value in budgets:
        check_label_budget(value, classes)
    return sorted(budgets, key=lambda b: b or float("inf"))


def add_run_flags(parser: Parser, default_out: str = "runs") -> None:
    """Flags about the data and the run rather than the network."""
    parser.add_argument("--limit", metavar="N", type=int_in(1, 10**9),
                        help="use only N images of each set: with labels (a labels file, an .npz, a folder of class "
                             "sub-folders), N taken from the classes in turn; without, the first N")
    parser.add_argument("--pad", action="store_true",
                        help="pad images whose sides are not multiples of 4 (what the two poolings need) with black "
                             "to the next multiples, centred")
    parser.add_argument("--val-split", metavar="F", type=_fraction, default=0.2,
                        help="fraction of the training file held out for validation, seeded (default 0.2)")
    parser.add_argument("--val-limit", metavar="N", type=int_in(1, 10**9),
                        help="validate on only the first N images of the validation split (a realistic validation "
                             "set when labels are few); the training split stays as it is")
    parser.add_argument("--seed", metavar="N", type=int_in(0, 2**31 - 1), default=1,
                        help="seed of the split and the weights (default 1)")
    parser.add_argument("--out", metavar="DIR", default=default_out, type=output_folder,
                        help=f"folder of the run log, plots and saved models (default {default_out}/)")
    parser.add_argument("--save", metavar="PATH", type=_model_file,
                        help="where --no-menu saves the model (.h5 or .keras), checked before training")
    parser.add_argument("--no-menu", action="store_true",
                        help="train once with the given or default values, log, save and exit")
    parser.add_argument("--no-show", action="store_true", help="write graphs as PNG files without opening windows")
    parser.add_argument("--tensorboard", action="store_true",
                        help="also write TensorBoard logs of every run under DIR/tensorboard/RUN_ID/")
    parser.add_argument("--xla", choices=XLA_CHOICES, default="auto",
                        help="compile the training step with XLA: on, off, or auto (default): on a GPU, timed against "
                             "plain Keras before a long run, the choice kept for later runs; on a CPU, off (faster on "
                             "one CPU, slower on others, docs/performance.md: `on` to try it)")
    parser.add_argument("--precision", choices=("auto", *PRECISIONS), default="auto",
                        help="arithmetic of training, with float32 weights: float32, bfloat16 (processors with "
                             "AVX-512 BF16 or AMX, GPUs), float16 (GPUs), or auto (default): timed like --xla")
    parser.add_argument("--mixed-precision", action="store_const", dest="precision", const="float16",
                        help="the same as --precision float16 (GPUs only)")


def add_labels_flags(parser: Parser, group) -> None:
    """--labels (one budget, or a study's list) in the hyperparameter `group`, and the study's own flags."""
    group.add_argument("--labels", metavar="N", type=label_list,
                       help=f"labelled training images, balanced across the classes and seeded: a number, or "
                            f"{ALL_LABELS} (default); with --study labels, several separated by commas "
                            f"(default {DEFAULT_BUDGETS})")
    study = parser.add_argument_group("the label-budget study: arms against each other, repeated")
    study.add_argument("--study", choices=["labels"],
                       help="train and test every arm for each --labels budget, --repeats times each, then show "
                            "the table and plot; runs already in the run log are reused")
    study.add_argument("--arms", metavar="ARMS",
                       help=f"the study's arms, separated by commas, among {', '.join(arm_names())} (default: "
                            f"pretrained,scratch, and self-training with --self-training N)")


def resolve_labels_flags(parser: Parser, args) -> None:
    """Check the study flags go together and turn --labels into `args.label_budget` (a single run's, or None) and
    `args.budgets` (a study's); their check against the number of classes waits for the labels (models/config.py,
    `check_label_budget`)."""
    if not args.study and args.arms:
        parser.error("--arms goes with --study labels")
    if args.study and args.init is not None:
        parser.error("--init does not go with --study labels: the study trains both encoders")
    items = args.labels or (label_list(DEFAULT_BUDGETS) if args.study else None)
    try:
        budgets = label_budgets(items, 1, study=bool(args.study)) if items else None
    except UserError as e:
        parser.error(str(e))
    args.budgets = budgets if args.study else None
    args.label_budget = budgets[0] if budgets and not args.study else None
    if args.arms is not None:
        try:
            args.arms = parse_arms(args.arms)
        except UserError as e:
            parser.error(str(e))
    args.arms = args.arms or ()


def given_hyperparameters(args, config_type) -> dict:
    """The settings said on the command line, by flat name: those not given are absent, whatever their value
    would be (models/config/settings.py fills them)."""
    return {s.name: getattr(args, s.name) for s in settings(config_type) if getattr(args, s.name, None) is not None}


def resolve_settings(parser: Parser, args, config_type) -> None:
    """Refuse, as an argument error, settings said on the command line that do not go together as a
    configuration (a setting of a way of training that is switched off)."""
    try:
        make(config_type, given_hyperparameters(args, config_type))
    except UserError as e:
        parser.error(str(e))


def missing_flags(config_type, given: dict) -> list[str]:
    """The flags of hyperparameters that would be asked for and were not given."""
    return [s.flag for s in settings(config_type) if s.name not in given and asked(s)]


def int_in(low: int, high: int):
    return _number_in(low, high, int)


def _number_in(low, high, kind):
    return as_argument_type(lambda text: parse_number(text, low, high, kind))


output_folder = as_argument_type(lambda text: writable_folder(text) and text)  # a folder that can be written


def _weights(f, text: str) -> str:
    """Field `f`'s numbers separated by commas, written plainly (`1000,10,0.1`); UserError naming the text as the
    flag's type."""
    try:
        return ",".join(f"{value:g}" for value in parse_list(f, text))
    except UserError as e:
        raise UserError(f"{text!r}: {str(e).split(': ', 1)[1]}") from None


_model_file = as_argument_type(lambda text: model_path(text) and text)  # checked before anything trains


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction between 0 and 1") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction between 0 and 1")
    return value

