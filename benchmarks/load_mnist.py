"""Time to read the 60,000 MNIST training images and the process's peak memory for it.

    python benchmarks/load_mnist.py [--repeat 5]
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common.data.dataset import TRAIN_IMAGES
from common.data.idx import read_images


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    before = peak_mib()
    times = []
    for _ in range(args.repeat):
        start = time.perf_counter()
        images = read_images(TRAIN_IMAGES)
        times.append(time.perf_counter() - start)
        del images
    print(f"file: {TRAIN_IMAGES}")
    print(f"images: 60000 of 28x28 ({60000 * 28 * 28 / 2**20:.1f} MiB as uint8)")
    print(f"load time: best {min(times):.3f} s, median {sorted(times)[len(times) // 2]:.3f} s over {args.repeat}")
    print(f"peak memory: {peak_mib():.0f} MiB for the process ({before:.0f} MiB before loading)")


if __name__ == "__main__":
    main()
