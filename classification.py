#!/usr/bin/env python3
"""Train a digit classifier on the encoder of a saved autoencoder, in two stages, and predict the test set."""

import sys

from common.data.dataset import NUM_CLASSES, TEST_IMAGES, TEST_LABELS, TRAIN_IMAGES, TRAIN_LABELS
from common.ui.cli import Parser, add_hyperparameter_flags, add_labels_flags, add_run_flags, resolve_labels_flags
from common.ui.main import guarded
from models.config import ClassifierConfig


def parse(argv):
    parser = Parser(prog="classification.py", description=__doc__)
    data = parser.add_argument_group("data (default: the bundled MNIST)")
    data.add_argument("-d", "--dataset", metavar="PATH", default=str(TRAIN_IMAGES), help="training images (IDX)")
    data.add_argument("-dl", "--dataset-labels", metavar="PATH", default=str(TRAIN_LABELS),
                      help="training labels (IDX)")
    data.add_argument("-t", "--test", metavar="PATH", default=str(TEST_IMAGES), help="test images (IDX)")
    data.add_argument("-tl", "--test-labels", metavar="PATH", default=str(TEST_LABELS), help="test labels (IDX)")
    parser.add_argument("-model", "--model", metavar="PATH",
                        help="autoencoder saved by autoencoder.py (.h5 or .keras); asked for when not given")
    add_labels_flags(parser, add_hyperparameter_flags(parser, ClassifierConfig, skip=("labels",)))
    add_run_flags(parser)
    args = parser.parse_args(argv)
    resolve_labels_flags(parser, args, NUM_CLASSES)
    if (args.reconstruction_weight or args.noise or args.consistency) and args.joint is None:
        args.joint = True  # a reconstruction weight, noise or consistency asks for joint training
    return args


def main(argv=None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)

    def run():
        from common.ui.classifier_program import main as program
        return program(args)

    return guarded(run, args.out)


if __name__ == "__main__":
    sys.exit(main())
