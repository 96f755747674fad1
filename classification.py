#!/usr/bin/env python3
"""Train a classifier on the encoder of a saved autoencoder, in two stages, and predict the test set.

A run stopped after its first epoch (Ctrl-C, a killed process) resumes from its last finished epoch when the same
command is given again: its backup lies beside the run log (--fresh starts it afresh)."""

import sys

from common.data.dataset import TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS, carries_labels
from common.ui.cli.flags import (
    Parser,
    add_hyperparameter_flags,
    add_labels_flags,
    add_run_flags,
    resolve_labels_flags,
    resolve_settings,
)
from common.ui.cli.main import guarded
from common.ui.cli.plan_flags import add_plan_flags, resolve_plan_flags
from models.config.classifier import ClassifierConfig


def build_parser() -> Parser:
    """The program's command line: every flag, with its help."""
    parser = Parser(prog="classification.py", description=__doc__)
    data = parser.add_argument_group("data (default: the bundled MNIST); IDX (raw or .gz), .npy, .npz in Keras' "
                                     "convention, or a folder with one sub-folder of images per class")
    data.add_argument("-d", "--dataset", metavar="PATH", help="training images (an .npz or a folder: with labels)")
    data.add_argument("-dl", "--dataset-labels", metavar="PATH", help="training labels (IDX or .npy)")
    data.add_argument("-t", "--test", metavar="PATH", help="test images (default with an .npz: its x_test)")
    data.add_argument("-tl", "--test-labels", metavar="PATH", help="test labels (IDX or .npy)")
    parser.add_argument("-model", "--model", metavar="PATH",
                        help="autoencoder saved by autoencoder.py (.h5 or .keras); asked for when not given")
    add_labels_flags(parser, add_hyperparameter_flags(parser, ClassifierConfig, skip=("label_budget",)))
    add_plan_flags(parser, "fc-units=64,128,256", ", or the label-budget study")
    add_run_flags(parser)
    return parser


def parse(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    resolve_labels_flags(parser, args)
    resolve_plan_flags(parser, args, ClassifierConfig)
    resolve_settings(parser, args, ClassifierConfig)
    resolve_data_flags(parser, args)
    return args


def resolve_data_flags(parser: Parser, args) -> None:
    """The bundled MNIST for what is not given (all four files when -d is not); a labels file required beside
    images that carry none (IDX, .npy)."""
    if args.dataset is None:
        args.dataset, args.dataset_labels = str(TRAIN_IMAGES), args.dataset_labels or str(TRAIN_LABELS)
        args.test, args.test_labels = args.test or str(TEST_IMAGES), args.test_labels or str(TEST_LABELS)
    for images, labels, flags in ((args.dataset, args.dataset_labels, "-d/-dl"), (args.test, args.test_labels,
                                                                                 "-t/-tl")):
        if images and not labels and not carries_labels(images):
            parser.error(f"{flags}: {images} holds images only: give their labels file too (IDX or .npy)")
    if args.test_labels and not args.test:
        parser.error("-tl goes with -t (the test images)")


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)

    def run():
        from common.ui.session.launch import run_classifier  # TensorFlow and the data: after the arguments

        return run_classifier(args)

    return guarded(run, args.out)


if __name__ == "__main__":
    sys.exit(main())
