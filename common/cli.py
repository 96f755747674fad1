"""Command-line pieces both programs share: one-line argument errors, hyperparameter and run flags."""

import argparse
from dataclasses import fields

from common.prompts import parse_int
from common.errors import UserError


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line, naming the problem, with exit status 2."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def add_hyperparameter_flags(parser: Parser, config_type) -> None:
    """One `--name` flag per field of a hyperparameter dataclass, checked against the field's range."""
    group = parser.add_argument_group("hyperparameters (asked for when not given)")
    for f in fields(config_type):
        low, high = f.metadata["low"], f.metadata["high"]
        group.add_argument(f"--{f.name.replace('_', '-')}", dest=f.name, metavar="N", type=_int_in(low, high),
                           help=f"{f.metadata['label']}, {low}-{high} (default {f.default})")


def add_run_flags(parser: Parser, default_out: str = "runs") -> None:
    """Flags about the data and the run rather than the network."""
    parser.add_argument("--limit", metavar="N", type=_int_in(1, 10**9),
                        help="use only the first N images of each file")
    parser.add_argument("--val-split", metavar="F", type=_fraction, default=0.2,
                        help="fraction of the training file held out for validation, seeded (default 0.2)")
    parser.add_argument("--seed", metavar="N", type=_int_in(0, 2**31 - 1), default=1,
                        help="seed of the split and the weights (default 1)")
    parser.add_argument("--out", metavar="DIR", default=default_out,
                        help=f"folder of the run log, plots and saved models (default {default_out}/)")
    parser.add_argument("--save", metavar="PATH", help="where --no-menu saves the model (.h5 or .keras)")
    parser.add_argument("--no-menu", action="store_true",
                        help="train once with the given or default values, log, save and exit")
    parser.add_argument("--no-show", action="store_true", help="write graphs as PNG files without opening windows")


def given_hyperparameters(args, config_type) -> dict:
    """The hyperparameters set on the command line, by field name."""
    return {f.name: getattr(args, f.name) for f in fields(config_type) if getattr(args, f.name) is not None}


def missing_flags(config_type, given: dict) -> list[str]:
    """The flags of hyperparameters not given."""
    return [f"--{f.name.replace('_', '-')}" for f in fields(config_type) if f.name not in given]


def _int_in(low: int, high: int):
    def convert(text: str) -> int:
        try:
            return parse_int(text, low, high)
        except UserError as e:
            raise argparse.ArgumentTypeError(str(e)) from None
    return convert


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction between 0 and 1") from None
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: expected a fraction between 0 and 1")
    return value

