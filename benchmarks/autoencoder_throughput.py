"""Training throughput, in images per second, of every way of computing this machine supports (float32 or
bfloat16 / float16 arithmetic, with or without XLA), and the way the programs choose by their own short timing.

    python benchmarks/autoencoder_throughput.py [--program autoencoder|classifier] [--layers 4 --filter-size 3
                                                --filters 16 --batch-size 64] [--images 12000] [--repeat 2]
                                                [--run-steps 2250] [--trial-only]

For each way, a fresh model seeded alike trains a short warm-up epoch (tracing, XLA compiling), then `--repeat`
timed epochs of `--images` images through the programs' own `fit` (models/training/fit.py; no validation); the best
epoch counts. The classifier is timed in its second stage (the whole network, on a random encoder of the given
shape). Then the programs' choice is made as they make it (models/training/compute.py: a few steps of each way), and
its throughput here is given as a share of the best way's, on one line:
`program's choice: <way>, <share> of the best`; before it, what each way timed cost (building, the first steps,
the timed steps). `--trial-only` skips the epochs and gives only the programs' timing.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from common.data import dataset
from common.keras_setup import keras, tf
from models.compute.devices import detect
from models.compute.way_trials import run_trials
from models.compute.ways import candidates, choose, computing, cpu_flags, processor_name
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.networks.classifier import build_classifier
from models.networks.encoder import copy_autoencoder, encoder_view
from models.training.autoencoder_training import new_autoencoder
from models.training.autoencoder_training import way_timer as autoencoder_timer
from models.training.classifier_stages import FINE_TUNE_LEARNING_RATE, compile_classifier
from models.training.classifier_stages import way_timer as classifier_timer
from models.training.fit import fit


def make_model(program: str, config, way, images: int):
    """A fresh, seeded model of the program computing in `way`."""
    keras.utils.set_random_seed(1)
    with computing(way):
        autoencoder = new_autoencoder(config, steps=images // config.batch_size, xla=way.xla)
    if program == "autoencoder":
        return autoencoder
    encoder = encoder_view(copy_autoencoder(autoencoder, init="scratch", seed=1, policy=way.policy))
    classifier_config = ClassifierConfig(batch_size=config.batch_size)
    with computing(way):
        classifier, _ = build_classifier(encoder, classifier_config, dataset.MNIST_CLASSES)
    compile_classifier(classifier, classifier_config, FINE_TUNE_LEARNING_RATE, images, 1, way.xla)
    return classifier


def images_per_second(program: str, config, way, x, y, repeat: int) -> float:
    """Best throughput over `repeat` timed epochs of a fresh model trained in `way`."""
    model = make_model(program, config, way, len(x))
    warm = slice(0, config.batch_size * 20)
    validation = (x[:config.batch_size], None if y is None else y[:config.batch_size])
    fit(model, x[warm], None if y is None else y[warm], validation_data=validation, epochs=1,
        batch_size=config.batch_size, seed=1)
    best = 0.0
    for _ in range(repeat):
        start = time.perf_counter()
        result = fit(model, x, y, validation_data=validation, epochs=1, batch_size=config.batch_size, seed=1)
        best = max(best, len(x) / (result.seconds if result.seconds else time.perf_counter() - start))
    return best


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--program", choices=("autoencoder", "classifier"), default="autoencoder")
    parser.add_argument("--layers", type=int, default=4)
    parser.add_argument("--filter-size", type=int, default=3)
    parser.add_argument("--filters", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--images", type=int, default=12000, help="training images in each timed epoch")
    parser.add_argument("--repeat", type=int, default=2, help="timed epochs per way (the best counts)")
    parser.add_argument("--run-steps", type=int, default=2250,
                        help="the steps of the run the choice is made for, which bound how long two close ways are "
                             "timed on (default: the default autoencoder run, 48,000 images, batch 64, 3 epochs)")
    parser.add_argument("--trial-only", action="store_true",
                        help="only the programs' own timing of the ways, with what each way cost (no epochs)")
    args = parser.parse_args()
    config = AutoencoderConfig(layers=args.layers, filter_size=args.filter_size, filters=args.filters, epochs=1,
                               batch_size=args.batch_size)
    images, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, args.images)
    x = dataset.to_model_input(images)
    y = None if args.program == "autoencoder" else labels.astype(np.int64)
    placement = detect()
    ways = candidates(placement.kind, cpu_flags())
    devices = [d.device_type for d in tf.config.list_physical_devices()]
    print(f"program: {args.program}; config: {config}; {len(x)} images per epoch")
    print(f"processor: {processor_name()}; devices: {', '.join(devices)}; {placement.description}")
    rates = {}
    for way in [] if args.trial_only else ways:
        rates[way] = images_per_second(args.program, config, way, x, y, args.repeat)
        print(f"{way.describe(placement.device):>24}: {rates[way]:7.0f} images/s  "
              f"({rates[way] / rates[ways[0]]:.2f} x float32 without XLA)", flush=True)
    if args.program == "autoencoder":
        timer = autoencoder_timer(config, x, seed=1)
    else:
        timer = classifier_timer(lambda way: encoder_view(copy_autoencoder(
            make_model("autoencoder", config, way, len(x)), init="scratch", seed=1, policy=way.policy)),
            ClassifierConfig(batch_size=config.batch_size), (x, y), seed=1, classes=dataset.MNIST_CLASSES)
    start = time.perf_counter()
    chosen = choose(run_trials(ways, timer, args.run_steps))
    seconds = time.perf_counter() - start
    for way, candidate in timer.made.items():
        print(f"{way.describe(placement.device):>24}: building {candidate.built_seconds:.1f} s, first steps "
              f"(tracing, compiling) {candidate.warm_seconds:.1f} s, timed {candidate.timed_seconds:.1f} s, "
              f"{candidate.rate:.0f} images/s")
    if args.trial_only:
        print(f"program's choice: {chosen.describe(placement.device)} (its timing took {seconds:.0f} s)")
        return
    best = max(rates.values())
    print(f"program's choice: {chosen.describe(placement.device)}, {rates[chosen] / best:.2f} of the best "
          f"(its timing took {seconds:.0f} s)")


if __name__ == "__main__":
    main()
