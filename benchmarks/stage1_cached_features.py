"""Stage 1 of the classifier (head only, encoder frozen) two ways, on the same data for the same epochs:
on encoder features computed once, and through the frozen encoder at every step.

    python benchmarks/stage1_cached_features.py -model runs/ae.h5 [--epochs 5 --fc-units 128 --batch-size 64]
                                                [--limit 60000]
"""

import argparse
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.data import dataset, splits
from models.config.classifier import ClassifierConfig
from models.networks.encoder import copy_autoencoder, encoder_view
from models.training.classifier_stages import ClassifierData, train_classifier
from models.training.persistence import load_model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-model", "--model", required=True, help="a saved autoencoder")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--fc-units", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    images, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, args.limit)
    part = splits.split(len(images), 0.2, seed=1)
    x = dataset.to_model_input(images)
    train = (x[part.train], labels[part.train])
    val = (x[part.val], labels[part.val])
    config = ClassifierConfig(fc_units=args.fc_units, epochs=args.epochs, fine_tune_epochs=0,
                              batch_size=args.batch_size)
    autoencoder = load_model(args.model)
    print(f"autoencoder: {args.model}; {len(train[0])} training and {len(val[0])} validation images; {config}")
    for cached in (True, False):
        run = train_classifier(encoder_view(copy_autoencoder(autoencoder)), config,
                               ClassifierData(train, val, dataset.MNIST_CLASSES), seed=1, cache_features=cached)
        how = "cached features (one encoder pass)" if cached else "through the frozen encoder"
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux
        print(f"stage 1, {how}: {run.seconds:.1f} s, val_accuracy {run.history['val_accuracy'][-1]:.4f}, "
              f"process peak memory so far {peak:.2f} GiB")


if __name__ == "__main__":
    main()
