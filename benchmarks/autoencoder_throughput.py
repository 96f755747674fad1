"""Training throughput of the autoencoder, in images per second, for plain Keras `fit` and the ways to speed it up,
on the same model in the same run.

    python benchmarks/autoencoder_throughput.py [--layers 4 --filter-size 3 --filters 32 --batch-size 64]
                                                [--images 12000] [--repeat 2]

Ways compared, each against plain `model.fit(x, x)` on NumPy arrays: XLA compilation (`jit_compile=True`; Keras'
default, "auto", leaves it off on machines without a GPU), an explicit tf.data pipeline (shuffled, batched,
prefetched), and both.
Each model first trains one short warm-up epoch (graph tracing, XLA compilation), then the timed epochs; the best
of `--repeat` epochs counts.
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

WAYS = {"plain fit": dict(jit=False, pipeline=False), "XLA": dict(jit=True, pipeline=False),
        "tf.data": dict(jit=False, pipeline=True), "XLA + tf.data": dict(jit=True, pipeline=True)}


def images_per_second(config, x, jit: bool, pipeline: bool, repeat: int) -> float:
    """Best throughput over `repeat` timed epochs of a fresh, seeded model trained one of the ways."""
    keras.utils.set_random_seed(1)
    model = build_autoencoder(config)
    model.compile(optimizer=keras.optimizers.RMSprop(), loss=keras.losses.MeanSquaredError(), jit_compile=jit)
    warm = x[:config.batch_size * 20]
    if pipeline:
        data = (tf.data.Dataset.from_tensor_slices((x, x)).shuffle(len(x), seed=1)
                .batch(config.batch_size).prefetch(tf.data.AUTOTUNE))
        model.fit(tf.data.Dataset.from_tensor_slices((warm, warm)).batch(config.batch_size), epochs=1, verbose=0)
        fit = lambda: model.fit(data, epochs=1, verbose=0)  # noqa: E731
    else:
        model.fit(warm, warm, batch_size=config.batch_size, epochs=1, verbose=0)
        fit = lambda: model.fit(x, x, batch_size=config.batch_size, epochs=1, verbose=0)  # noqa: E731
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        fit()
        best = max(best, len(x) / (time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--filter-size", type=int, default=3)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--images", type=int, default=12000, help="training images in each timed epoch")
    parser.add_argument("--repeat", type=int, default=2, help="timed epochs per way (the best counts)")
    args = parser.parse_args()
    config = AutoencoderConfig(layers=args.layers, filter_size=args.filter_size, filters=args.filters, epochs=1,
                               batch_size=args.batch_size)
    x = dataset.to_model_input(dataset.load_images(dataset.TRAIN_IMAGES, args.images))
    devices = [d.device_type for d in tf.config.list_physical_devices()]
    print(f"config: {config}; {len(x)} images per epoch")
    print(f"devices: {', '.join(devices)}; CPU cores: {os.cpu_count()}")
    plain = None
    for name, way in WAYS.items():
        rate = images_per_second(config, x, way["jit"], way["pipeline"], args.repeat)
        plain = plain or rate
        print(f"{name:>14}: {rate:7.0f} images/s  ({rate / plain:.2f} x plain fit)", flush=True)


if __name__ == "__main__":
    main()
