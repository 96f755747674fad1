"""Training throughput of the autoencoder, in images per second over one epoch.

    python benchmarks/autoencoder_throughput.py [--layers 4 --filter-size 3 --filters 32 --batch-size 64]
                                                [--images 48000]

The first epoch includes graph tracing, so the script trains one short warm-up epoch first and times the next.
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import dataset  # noqa: E402
from common.keras_setup import keras, tf  # noqa: E402
from models.autoencoder import build_autoencoder  # noqa: E402
from models.config import AutoencoderConfig  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--filter-size", type=int, default=3)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--images", type=int, default=48000, help="training images in the timed epoch")
    args = parser.parse_args()
    config = AutoencoderConfig(layers=args.layers, filter_size=args.filter_size, filters=args.filters, epochs=1,
                               batch_size=args.batch_size)
    x = dataset.to_model_input(dataset.load_images(dataset.TRAIN_IMAGES, args.images))
    keras.utils.set_random_seed(1)
    model = build_autoencoder(config)
    model.fit(x[:args.batch_size * 20], x[:args.batch_size * 20], batch_size=args.batch_size, epochs=1, verbose=0)
    start = time.perf_counter()
    model.fit(x, x, batch_size=args.batch_size, epochs=1, verbose=0)
    seconds = time.perf_counter() - start
    devices = [d.device_type for d in tf.config.list_physical_devices()]
    print(f"config: {config}")
    print(f"devices: {', '.join(devices)}; CPU cores: {os.cpu_count()}")
    print(f"one epoch of {len(x)} images: {seconds:.1f} s = {len(x) / seconds:.0f} images/s")


if __name__ == "__main__":
    main()
