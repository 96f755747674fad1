"""What the start of a fit costs, and what creating the optimizer's variables before it saves.

    python benchmarks/fit_start.py [--images 640] [--repeat 2]

Keras creates an optimizer's variables inside the first training step, which makes TensorFlow trace that step a
second time. The programs' `fit` (models/training/fit.py) creates them first (`build_optimizer`). For the default
autoencoder and the default classifier (on a random encoder of the default shape), a fresh, seeded model is fit for
one epoch of `--images` images with validation, once as Keras alone would (the variables left to the first step)
and once with them created first, in separate processes, `--repeat` times each, alternating; printed per model: the
traces of the training step, the seconds of the fit (best and median) and the loss after it, which must be the same.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def child(model_kind: str, first: bool, images: int) -> dict:
    """One fit in this process: its traces, seconds and final loss."""
    from common.data import dataset
    from common.keras_setup import keras
    from models.config.autoencoder import AutoencoderConfig
    from models.config.classifier import ClassifierConfig
    from models.networks.classifier import build_classifier
    from models.networks.encoder import copy_autoencoder, encoder_view
    from models.training import fit as fit_module
    from models.training.autoencoder_training import new_autoencoder
    from models.training.classifier_stages import FINE_TUNE_LEARNING_RATE, compile_classifier

    raw, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, images + 256)
    x = dataset.to_model_input(raw)
    keras.utils.set_random_seed(1)
    if model_kind == "autoencoder":
        model = new_autoencoder(AutoencoderConfig())
        y = None
    else:
        config = ClassifierConfig()
        encoder = encoder_view(copy_autoencoder(new_autoencoder(AutoencoderConfig()), init="scratch", seed=1))
        model, _ = build_classifier(encoder, config, dataset.MNIST_CLASSES)
        compile_classifier(model, config, FINE_TUNE_LEARNING_RATE, images, 1)
        y = labels.astype("int64")
    traces = []
    step = model.train_step
    model.train_step = lambda data: traces.append(1) or step(data)
    if not first:
        fit_module.build_optimizer = lambda model: None  # as Keras alone: the variables made in the first step
    start = time.perf_counter()
    result = fit_module.fit(model, x[:images], None if y is None else y[:images],
                            validation_data=(x[images:], None if y is None else y[images:]), epochs=1,
                            batch_size=64, seed=1)
    return {"traces": len(traces), "seconds": time.perf_counter() - start, "loss": result.history["loss"][-1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=640)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--child", nargs=2, metavar=("MODEL", "FIRST"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], args.child[1] == "yes", args.images)))
        return
    from models.compute.ways import processor_name

    print(f"processor: {processor_name()}; {args.images} images, batch 64, one epoch with validation")
    for model_kind in ("autoencoder", "classifier"):
        found = {"no": [], "yes": []}
        for _ in range(args.repeat):
            for first in ("no", "yes"):
                out = subprocess.run([sys.executable, __file__, "--child", model_kind, first,
                                      "--images", str(args.images)], capture_output=True, text=True, check=True)
                found[first].append(json.loads(out.stdout.strip().splitlines()[-1]))
        for first, label in (("no", "variables made in the first step"), ("yes", "variables made first")):
            runs = found[first]
            seconds = [r["seconds"] for r in runs]
            print(f"{model_kind:>11}, {label:>32}: traces {runs[0]['traces']}, fit {min(seconds):.2f} s best, "
                  f"{statistics.median(seconds):.2f} s median, loss {runs[0]['loss']:.6f}")


if __name__ == "__main__":
    main()
