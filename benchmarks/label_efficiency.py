"""Does a pretrained encoder help when few labels are available? Test accuracy of the two-stage classifier on a
saved autoencoder's encoder against the same architecture with random weights, for several numbers of labels.

    python benchmarks/label_efficiency.py -model runs/ae.h5 [--labels 100 1000 10000] [--epochs 10]
                                          [--fine-tune-epochs 5] [--fc-units 128] [--batch-size 32] [--seed 1]

Both sides get the same balanced, seeded labelled subset, the same head and the same training; validation is the
held-out 12,000 images of the training file, and accuracy is measured on the 10,000 test images.
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import dataset  # noqa: E402
from models.autoencoder import build_autoencoder  # noqa: E402
from models.classifier import predict_classes, train_classifier  # noqa: E402
from models.config import AutoencoderConfig, ClassifierConfig  # noqa: E402
from models.encoder import describe, encoder_view, extract_encoder  # noqa: E402
from models.evaluation import evaluate  # noqa: E402
from models.persistence import load_model  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-model", "--model", required=True, help="a saved autoencoder")
    parser.add_argument("--labels", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=5)
    parser.add_argument("--fc-units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    images, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS)
    part = dataset.split(len(images), 0.2, seed=args.seed)
    x = dataset.to_model_input(images)
    train_x, train_y, val = x[part.train], labels[part.train], (x[part.val], labels[part.val])
    test_images, test_y = dataset.load_labelled(dataset.TEST_IMAGES, dataset.TEST_LABELS)
    test_x = dataset.to_model_input(test_images)
    pretrained = load_model(args.model)
    shape = describe(encoder_view(pretrained))
    untrained = build_autoencoder(AutoencoderConfig(layers=shape.layers, filter_size=shape.filter_size,
                                                    filters=shape.filters))
    print(f"encoder: {shape}; head: {args.fc_units} units; epochs {args.epochs} + {args.fine_tune_epochs}")
    print(f"{'labels':>7} {'pretrained':>11} {'random':>8}")
    for count in args.labels:
        chosen = dataset.balanced_subset(train_y, count, args.seed)
        config = ClassifierConfig(fc_units=args.fc_units, epochs=args.epochs, fine_tune_epochs=args.fine_tune_epochs,
                                  batch_size=min(args.batch_size, count), labels=count)
        accuracy = []
        for autoencoder in (pretrained, untrained):
            run = train_classifier(extract_encoder(autoencoder), config, (train_x[chosen], train_y[chosen]), val,
                                   seed=args.seed)
            accuracy.append(evaluate(predict_classes(run.model, test_x), test_y).accuracy)
        print(f"{count:>7} {accuracy[0]:>11.4f} {accuracy[1]:>8.4f}", flush=True)


if __name__ == "__main__":
    main()
