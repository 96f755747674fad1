"""Batch-normalisation statistics after a training run: Keras' moving averages against re-estimation.

    python benchmarks/batchnorm_statistics.py [--limit 3000 --layers 3 --filters 16 --epochs 2 --batch-size 64]
                                              [--seeds 1 2 3 4]

For each seed one autoencoder is trained (training does not depend on the statistics: every batch is normalised by
its own), then its validation loss in inference mode is measured with the statistics each mechanism leaves: the
moving averages with Keras' default momentum 0.99, the same with momentum 0.9, and the statistics re-estimated on
training images afterwards (what the programs do). The reference is the loss the network gives with batch
statistics, as in training: statistics that match the weights give that loss.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.data import dataset, splits
from common.keras_setup import keras
from models.config.autoencoder import AutoencoderConfig
from models.training.autoencoder_training import new_autoencoder
from models.training.batch_norm import batch_norm_layers, batch_statistics_loss, calibrate


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=3000, help="images of the bundled training file (0: all)")
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4])
    args = parser.parse_args()
    images = dataset.load_images(dataset.TRAIN_IMAGES, args.limit or None)
    part = splits.split(len(images), 0.2, seed=1)
    x = dataset.to_model_input(images)
    train_x = x[part.train]
    val_x = x[part.val]
    config = AutoencoderConfig(layers=args.layers, filters=args.filters, epochs=args.epochs,
                               batch_size=args.batch_size)
    steps = -(-len(train_x) // args.batch_size) * args.epochs
    print(f"{config}; {len(train_x)} training and {len(val_x)} validation images, {steps} steps")
    print(f"{'seed':>4} {'train loss':>10} {'batch stats':>11} {'momentum 0.99':>13} {'momentum 0.9':>12} "
          f"{'re-estimated':>12} {'re-estimation':>13}")
    for seed in args.seeds:
        row = {}
        for momentum in (0.99, 0.9):
            keras.utils.set_random_seed(seed)
            model = new_autoencoder(config)
            for layer in batch_norm_layers(model):
                layer.momentum = momentum
            history = model.fit(train_x, train_x, epochs=args.epochs, batch_size=args.batch_size, verbose=0)
            row[momentum] = model.evaluate(val_x, val_x, batch_size=256, verbose=0)
        reference = batch_statistics_loss(model, val_x, args.batch_size)
        start = time.perf_counter()
        calibrate(model, train_x, args.batch_size)
        seconds = time.perf_counter() - start
        estimated = model.evaluate(val_x, val_x, batch_size=256, verbose=0)
        print(f"{seed:>4} {history.history['loss'][-1]:>10.4f} {reference:>11.4f} {row[0.99]:>13.4f} "
              f"{row[0.9]:>12.4f} {estimated:>12.4f} {seconds:>11.1f} s", flush=True)


if __name__ == "__main__":
    main()
