#!/usr/bin/env python3
"""Train, compare and save mirrored convolutional autoencoders on images: MNIST by default, or your own.

A run stopped after its first epoch (Ctrl-C, a killed process) resumes from its last finished epoch when the same
command is given again: its backup lies beside the run log (--fresh starts it afresh)."""

import sys

from common.data.dataset import TRAIN_IMAGES
from common.ui.cli.flags import Parser, add_hyperparameter_flags, add_run_flags, resolve_settings
from common.ui.cli.main import guarded
from common.ui.cli.plan_flags import add_plan_flags, resolve_plan_flags
from models.config.autoencoder import AutoencoderConfig


def build_parser() -> Parser:
    """The program's command line: every flag, with its help."""
    parser = Parser(prog="autoencoder.py", description=__doc__)
    parser.add_argument("-d", "--dataset", metavar="PATH", default=str(TRAIN_IMAGES),
                        help="images: an IDX file (raw or .gz), a .npy array, an .npz in Keras' convention (its "
                             "x_train) or a folder of PNG/JPEG files (default: the bundled MNIST training images)")
    add_hyperparameter_flags(parser, AutoencoderConfig)
    add_plan_flags(parser, "filters=8,16,32")
    add_run_flags(parser)
    return parser


def parse(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    resolve_plan_flags(parser, args, AutoencoderConfig)
    resolve_settings(parser, args, AutoencoderConfig)
    return args


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)

    def run():
        from common.ui.session.launch import run_autoencoder  # TensorFlow and the data: after the arguments

        return run_autoencoder(args)

    return guarded(run, args.out)


if __name__ == "__main__":
    sys.exit(main())
