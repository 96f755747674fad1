"""Time and memory to load the 60,000 MNIST training images and labels from each format the programs read: IDX
(.gz), .npz, .npy and a folder of PNG files in one sub-folder per class. Each format is loaded in a fresh process,
which reports its peak memory before and after loading.

    python benchmarks/load_own_data.py [--repeat 3] [--keep DIR]
"""

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run_phases import processor  # noqa: E402
from common.data.dataset import TRAIN_IMAGES, TRAIN_LABELS  # noqa: E402
from common.data.idx import read_images, read_labels, write_idx  # noqa: E402

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {root!r})
from common.data import dataset
peak = lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
before = peak()
start = time.perf_counter()
images, labels = dataset.load_labelled({images!r}, {labels!r})
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "before": before, "after": peak(), "shape": list(images.shape),
                  "mib": images.nbytes / 2**20}}))
"""


def write_sets(folder: Path) -> dict[str, tuple[str, str | None]]:
    """The training set in every format, written under `folder`; each format's (images, labels) paths."""
    from PIL import Image

    images, labels = read_images(TRAIN_IMAGES), read_labels(TRAIN_LABELS)
    write_idx(folder / "images.gz", images)
    write_idx(folder / "labels.gz", labels)
    np.savez(folder / "mnist.npz", x_train=images, y_train=labels)
    np.save(folder / "images.npy", images)
    np.save(folder / "labels.npy", labels)
    start = time.perf_counter()
    for i, (image, label) in enumerate(zip(images, labels)):
        place = folder / "pngs" / str(label)
        place.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(place / f"{i:05d}.png")
    print(f"wrote 60,000 PNG files in {time.perf_counter() - start:.1f} s")
    return {"IDX (.gz)": (str(folder / "images.gz"), str(folder / "labels.gz")),
            ".npz": (str(folder / "mnist.npz"), None),
            ".npy": (str(folder / "images.npy"), str(folder / "labels.npy")),
            "folder of PNGs": (str(folder / "pngs"), None)}


def measure(images: str, labels: str | None) -> dict:
    code = CHILD.format(root=str(ROOT), images=images, labels=labels)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="loads per format, each in a fresh process")
    parser.add_argument("--keep", metavar="DIR", help="write the sets here and keep them (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        sets = write_sets(folder)
        print(f"processor: {processor()}")
        print("| format | load time s (best, median) | peak MiB before | peak MiB after | increase MiB | images MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: |")
        for name, paths in sets.items():
            runs = [measure(*paths) for _ in range(args.repeat)]
            times = sorted(r["seconds"] for r in runs)
            last = runs[-1]
            print(f"| {name} | {times[0]:.2f}, {times[len(times) // 2]:.2f} | {last['before']:.0f} | "
                  f"{last['after']:.0f} | {last['after'] - last['before']:.0f} | {last['mib']:.0f} |")


if __name__ == "__main__":
    main()
