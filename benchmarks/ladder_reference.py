"""The ladder network as published (Rasmus et al. 2015), reproduced with the workbench's ladder code.

The paper's MNIST network, an MLP 784-1000-500-250-250-250-10, with the paper's settings: Gaussian noise of 0.3 on
the images and every level, denoising weights 1000, 10, 0.1, 0.1, 0.1, 0.1, 0.1 (from the images up), Adam at
0.002 decaying linearly to 0 over the last third of the epochs, 100 labelled and 100 unlabelled images a step (an
epoch: one pass over the unlabelled images), inputs scaled to [0, 1]. The paper trains 150 epochs on all 60,000
images; here 1,000 images (seeded) are held out for validation, the other 59,000 are the unlabelled images, and the
labelled ones a balanced, seeded subset of them. Validation accuracy is logged against time every epoch (with
batch statistics estimated on training images); the test set is scored once, at the end, and printed last.

    python benchmarks/ladder_reference.py --labels 100 --seed 1 --epochs 150 [--no-lateral] [--weights W0,...]

Rows: each epoch's in OUT/curve-RUN.csv, each finished run's in OUT/results.csv (its code version too: a run
already there with the same settings and code is not trained again unless --fresh). An interrupted run resumes
from its last finished epoch (OUT/backup-RUN). Prediction uses batch statistics estimated on the unlabelled images
after training; the test accuracy with statistics from the labelled images alone (the reference's choice) is
logged beside it.
"""

import argparse
import csv
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from common.data import dataset, splits

LEVELS = (1000, 500, 250, 250, 250, 10)  # the paper's MNIST MLP above the 784 pixels
CODE = ("models/networks/ladder.py", "models/networks/ladder_encoder.py", "models/networks/combinator.py",
        "models/training/ladder_training.py", "common/data/splits.py", "benchmarks/ladder_reference.py",
        "benchmarks/ladder_callbacks.py")  # what a run's results depend on: its code version hashes them
PAPER_WEIGHTS = "1000,10,0.1,0.1,0.1,0.1,0.1"  # CuriousAI/ladder README, "MNIST 100 labels, Full"


def parse(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add = parser.add_argument
    add("--labels", type=int, default=100, help="labelled images, balanced over the classes (default 100)")
    add("--seed", type=int, default=1, help="seed of the split, the labelled subset, the weights and the noise")
    add("--epochs", type=int, default=150, help="passes over the unlabelled images (the paper: 150)")
    add("--no-lateral", action="store_true", help="the decoder without lateral connections (from u alone)")
    add("--weights", default=PAPER_WEIGHTS, help=f"denoising weights from the images up (default {PAPER_WEIGHTS})")
    add("--noise", type=float, default=0.3, help="noise on the images and every level (default 0.3)")
    add("--learning-rate", type=float, default=0.002, help="Adam's initial rate (default 0.002)")
    add("--batch-size", type=int, default=100, help="labelled and unlabelled images a step, each (default 100)")
    add("--val-limit", type=int, default=1000, help="validation images held out of the training set (1000)")
    add("--out", type=Path, default=Path("runs/ladder_reference"), help="folder of the logs (runs/ladder_reference)")
    add("--fresh", action="store_true", help="train again a run that results.csv already holds at this code")
    args = parser.parse_args(argv)
    weights = tuple(float(w) for w in args.weights.split(","))
    if len(weights) != len(LEVELS) + 1:
        parser.error(f"--weights {args.weights}: give {len(LEVELS) + 1} weights, from the images up")
    args.weights = weights
    return args


def run_name(args) -> str:
    weights = "-".join(f"{w:g}" for w in args.weights)
    lateral = "nolateral" if args.no_lateral else "lateral"
    return f"labels{args.labels}-seed{args.seed}-epochs{args.epochs}-{lateral}-w{weights}-noise{args.noise:g}"


def load(args) -> dict:
    """The images scaled to [0, 1] (float32), split: validation, unlabelled, labelled (from the unlabelled), test."""
    images, labels = dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS)
    test_images, test_labels = dataset.load_labelled(dataset.TEST_IMAGES, dataset.TEST_LABELS)
    scale = lambda x: (x.astype(np.float32) / 255.0)  # noqa: E731
    part = splits.split(len(images), args.val_limit / len(images), args.seed)
    train_x = scale(images[part.train])
    train_y = labels[part.train]
    chosen, _ = splits.label_split(train_y, args.labels, args.seed)
    return {"unlabelled": train_x, "labelled": (train_x[chosen], train_y[chosen]),
            "val": (scale(images[part.val]), labels[part.val]), "test": (scale(test_images), test_labels)}


def batches(data: dict, batch_size: int, seed: int):
    """((labelled images, labels), unlabelled images) a step: the unlabelled reshuffled every pass, the labelled
    cycled, reshuffled every pass over them."""
    import tensorflow as tf

    labelled = tf.data.Dataset.from_tensor_slices(data["labelled"]).shuffle(len(data["labelled"][0]), seed=seed)
    labelled = labelled.repeat().batch(batch_size, drop_remainder=True)
    unlabelled = tf.data.Dataset.from_tensor_slices(data["unlabelled"]).shuffle(len(data["unlabelled"]), seed=seed)
    unlabelled = unlabelled.batch(batch_size, drop_remainder=True).repeat()
    return tf.data.Dataset.zip((labelled, unlabelled)).prefetch(2)


def build(args, image_shape):
    from common.keras_setup import keras
    from models.networks.ladder import Ladder
    from models.networks.ladder_encoder import Level

    keras.utils.set_random_seed(args.seed)
    ladder = Ladder([Level("dense", size) for size in LEVELS], image_shape, weights=args.weights,
                    noise=args.noise, lateral=not args.no_lateral, per="unit", seed=args.seed)
    adam = keras.optimizers.Adam(args.learning_rate, epsilon=1e-8)  # blocks' Adam, as the reference trains
    ladder.compile(optimizer=adam, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                   jit_compile=False)  # as its runs were made; benchmarks/ladder_speed.py times XLA against it
    ladder(np.zeros((1, *image_shape), np.float32))  # built before fit, which restores an interrupted run
    return ladder


def main(argv=None) -> int:
    args = parse(argv)
    from benchmarks.ladder_callbacks import Curve, RunProgress
    from common.keras_setup import keras
    from models.training.ladder_training import LadderStatistics, LinearDecay

    name = run_name(args)
    done = finished(args.out / "results.csv", name)
    if done is not None and not args.fresh:
        print(f"{name}: in {args.out / 'results.csv'} at this code already (--fresh trains it again)")
        print(f"test accuracy {float(done['test_accuracy']):.4f}")
        return 0
    data = load(args)
    args.out.mkdir(parents=True, exist_ok=True)
    steps = len(data["unlabelled"]) // args.batch_size
    ladder = build(args, data["unlabelled"].shape[1:])
    print(f"{name}: {len(data['labelled'][0])} labelled, {len(data['unlabelled']):,} unlabelled, "
          f"{len(data['val'][0]):,} validation images; {args.epochs} epochs of {steps} steps; "
          f"{processor()}", flush=True)
    started = time.time()
    backup = args.out / f"backup-{name}"
    curve = Curve(args.out / f"curve-{name}.csv", resume=backup.exists())
    ladder.fit(batches(data, args.batch_size, args.seed), epochs=args.epochs, steps_per_epoch=steps,
               validation_data=data["val"], validation_batch_size=1000, verbose=0, shuffle=False,
               callbacks=[LadderStatistics(ladder, data["unlabelled"], args.batch_size, limit=10_000),
                          LinearDecay(args.learning_rate, args.epochs), curve,
                          keras.callbacks.BackupAndRestore(str(backup)),
                          RunProgress(args.epochs * steps)])
    minutes = curve.minutes() or (time.time() - started) / 60
    ladder.estimate_statistics(data["labelled"][0])  # the reference's: statistics of the labelled images
    labelled_statistics = accuracy(ladder, *data["test"])
    ladder.estimate_statistics(data["unlabelled"])
    validation = accuracy(ladder, *data["val"])
    test = accuracy(ladder, *data["test"])
    append_row(args.out / "results.csv", {"date": time.strftime("%Y-%m-%d %H:%M"),
        "run": name, "labels": args.labels, "seed": args.seed, "epochs": args.epochs, "lateral": not args.no_lateral,
        "weights": ",".join(f"{w:g}" for w in args.weights), "noise": args.noise, "minutes": round(minutes, 1),
        "val_accuracy": round(validation, 4), "test_accuracy": round(test, 4), "code": code_version(),
        "processor": processor(), "test_accuracy_labelled_statistics": round(labelled_statistics, 4)})
    print(f"validation accuracy {validation:.4f}; {minutes:.1f} minutes of training")
    print(f"test accuracy {test:.4f}")
    return 0


def code_version() -> str:
    """Twelve hex digits of the ladder's code and this script: what the results of a run depend on."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for name in CODE:
        digest.update((root / name).read_bytes())
    return digest.hexdigest()[:12]


def finished(path: Path, name: str) -> dict | None:
    """The row of run `name` in the results file at this code, or None."""
    if not path.exists():
        return None
    with path.open(newline="") as f:
        rows = [row for row in csv.DictReader(f) if row["run"] == name and row.get("code") == code_version()]
    return rows[-1] if rows else None


def append_row(path: Path, row: dict) -> None:
    """Append `row` to a CSV file; columns it adds go after the file's own, the file rewritten then."""
    rows = []
    header = list(row)
    if path.exists():
        with path.open(newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = list(reader.fieldnames or [])
    wider = [name for name in row if name not in header]
    if not rows or wider:
        header += wider
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, header, restval="")
            writer.writeheader()
            writer.writerows(rows)
    with path.open("a", newline="") as f:
        csv.DictWriter(f, header, restval="").writerow(row)


def processor() -> str:
    """The processor's model name and the cores this process may use."""
    name = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        models = [line.split(":", 1)[1].strip() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("model name")]
        name = models[0] if models else name
    return f"{name}, {len(os.sched_getaffinity(0))} cores"


def accuracy(model, images, labels) -> float:
    predicted = np.argmax(model.predict(images, batch_size=1000, verbose=0), axis=-1)
    return float(np.mean(predicted == labels))


if __name__ == "__main__":
    sys.exit(main())
