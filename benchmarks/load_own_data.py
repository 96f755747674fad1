"""Time and memory to load the 60,000 MNIST training images and labels from each format the programs read: IDX
(.gz), .npz, .npy and a folder of PNG files in one sub-folder per class. Each format is loaded in a fresh process,
which reports the time and its peak memory (VmHWM) before and after loading, then loads again to report the most
memory Python and NumPy held at once while loading (tracemalloc, which slows loading down, so it is not timed): one
decoded copy of the images is 45 MiB, two would be 90. The folder is read twice: as the programs read it (in several
processes when the machine has several cores) and in one process.

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
from common.data import image_folder  # noqa: E402
from common.data.dataset import TRAIN_IMAGES, TRAIN_LABELS  # noqa: E402
from common.data.idx import read_images, read_labels, write_idx  # noqa: E402

CHILD = """
import json, sys, time, tracemalloc
sys.path.insert(0, {root!r})
from common.data import dataset, image_folder
image_folder.MAX_WORKERS = {workers}

def high_water():  # MiB; /proc's VmHWM starts afresh with the new program, unlike getrusage's ru_maxrss
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024

before = high_water()
start = time.perf_counter()
images, labels = dataset.load_labelled({images!r}, {labels!r})
seconds, after, mib = time.perf_counter() - start, high_water(), images.nbytes / 2**20
del images, labels
tracemalloc.start()  # a second load, traced: tracing slows Python down, so the first one is the one timed
images, labels = dataset.load_labelled({images!r}, {labels!r})
traced = tracemalloc.get_traced_memory()[1] / 2**20
print(json.dumps({{"seconds": seconds, "before": before, "after": after, "traced": traced, "mib": mib}}))
"""


def write_sets(folder: Path) -> dict[str, tuple[str, str | None]]:
    """The training set in every format, written under `folder`; each format's (images, labels) paths."""
    from PIL import Image

    sets = {"IDX (.gz)": (str(folder / "images.gz"), str(folder / "labels.gz")),
            ".npz": (str(folder / "mnist.npz"), None),
            ".npy": (str(folder / "images.npy"), str(folder / "labels.npy")),
            "folder of PNGs": (str(folder / "pngs"), None)}
    if (folder / "written").exists():  # by an earlier call with --keep
        return sets
    images = read_images(TRAIN_IMAGES)
    labels = read_labels(TRAIN_LABELS)
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
    (folder / "written").touch()
    return sets


def measure(images: str, labels: str | None, workers: int) -> dict:
    code = CHILD.format(root=str(ROOT), images=images, labels=labels, workers=workers)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="loads per format, each in a fresh process")
    parser.add_argument("--keep", metavar="DIR",
                        help="write the sets here and keep them, or use those an earlier call kept there (default: a "
                             "temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(args.keep or scratch)
        folder.mkdir(parents=True, exist_ok=True)
        sets = write_sets(folder)
        print(f"processor: {processor()}")
        print("| format | load time s (best, median) | peak MiB before | peak MiB after | increase MiB | "
              "most allocated at once MiB | images MiB |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        sets["folder of PNGs, one process"] = sets["folder of PNGs"]
        for name, paths in sets.items():
            workers = 1 if name.endswith("one process") else image_folder.MAX_WORKERS
            runs = [measure(*paths, workers) for _ in range(args.repeat)]
            times = sorted(r["seconds"] for r in runs)
            last = runs[-1]
            print(f"| {name} | {times[0]:.2f}, {times[len(times) // 2]:.2f} | {last['before']:.0f} | "
                  f"{last['after']:.0f} | {last['after'] - last['before']:.0f} | {last['traced']:.0f} | "
                  f"{last['mib']:.0f} |")


if __name__ == "__main__":
    main()
