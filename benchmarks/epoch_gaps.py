"""How long `fit` (models/training/fit.py) idles between epochs and after the last one, against an epoch's time.

    python benchmarks/epoch_gaps.py [--images 1500] [--epochs 4]

Keras' own pipelines for in-memory arrays waited up to a minute after an epoch, and after a fit, for a tf.data
thread; the programs feed their own pipelines (models/training/batches.py) instead. A small autoencoder is fit on
the bundled MNIST with validation; printed: the processor, each gap between an epoch's end and the next one's first
batch, the wait from the last epoch's end to `fit` returning, and the median epoch, in seconds. Gaps of a small
fraction of an epoch are the programs' behaviour; several epochs long were Keras'.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.data import dataset
from common.keras_setup import keras
from models.compute.ways import processor_name
from models.config.autoencoder import AutoencoderConfig
from models.training.autoencoder_training import new_autoencoder
from models.training.fit import fit


class Clock(keras.callbacks.Callback):
    """When each epoch ended and the next one's first batch began."""

    def __init__(self):
        super().__init__()
        self.epoch_ends = []
        self.first_batches = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_ends.append(time.perf_counter())

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.first_batches.append(time.perf_counter())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=1500)
    parser.add_argument("--epochs", type=int, default=4)
    args = parser.parse_args()
    images = dataset.to_model_input(dataset.load_images(dataset.TRAIN_IMAGES, args.images))
    split = len(images) * 4 // 5
    keras.utils.set_random_seed(1)
    model = new_autoencoder(AutoencoderConfig(layers=2, filters=8, epochs=args.epochs))
    clock = Clock()
    fit(model, images[:split], None, validation_data=(images[split:], None), epochs=args.epochs, batch_size=32,
        callbacks=[clock])
    returned = time.perf_counter()
    gaps = [begin - end for end, begin in zip(clock.epoch_ends, clock.first_batches[1:])]
    epoch = statistics.median(end - begin for begin, end in zip(clock.first_batches, clock.epoch_ends))
    print(f"{processor_name()}; {split} training images, {args.epochs} epochs")
    print(f"gaps between epochs (s): {', '.join(f'{g:.3f}' for g in gaps)}")
    print(f"wait after the last epoch (s): {returned - clock.epoch_ends[-1]:.3f}")
    print(f"median epoch (s): {epoch:.3f}")


if __name__ == "__main__":
    main()
