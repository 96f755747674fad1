"""Wall time of one classifier sweep trained one run at a time, with `--workers N`, and on a local Ray instance: the
same sweep (by default 3 values x 4 repeats, 100 labels, no self-training: 12 runs), each way in a fresh folder so
that nothing is reused, one way after the other on this machine. Prints the processor, each way's time and the
ratio to one at a time, and checks the ways trained the same runs (the test accuracies, by value and seed).

    python benchmarks/sweep_workers.py [--model runs/ae.h5] [--ways 1,2,ray] [--values 32,64,128] [--repeats 4]
        [--epochs 10 --fine-tune-epochs 5] [--limit N]

Ways: a number N is `--workers N`; `ray` is `--ray local` with its default actors (one per 2 CPUs); `rayN` is
`--ray local --workers N`.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.run_phases import processor  # noqa: E402


def sweep(way: str, folder: Path, options) -> tuple[float, pd.DataFrame]:
    """Run the sweep one way; its wall time and its log."""
    flags = ["--workers", way] if not way.startswith("ray") else \
        ["--ray", "local", *(["--workers", way[3:]] if way[3:] else [])]
    command = [sys.executable, str(ROOT / "classification.py"), "-model", options.model, "--labels", "100",
               "--batch-size", "32", "--epochs", str(options.epochs), "--fine-tune-epochs",
               str(options.fine_tune_epochs), "--sweep", f"fc-units={options.values}", "--repeats",
               str(options.repeats), "--out", str(folder), "--no-show", *flags]
    if options.limit:
        command += ["--limit", str(options.limit)]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{way}: exit {done.returncode}: {done.stderr.strip()[-500:]}")
    return seconds, pd.read_csv(folder / "classification_loss_values.csv")


def describe(way: str) -> str:
    """'--workers 2', '--ray local', '--ray local --workers 2'."""
    if not way.startswith("ray"):
        return f"--workers {way}"
    return "--ray local" + (f" --workers {way[3:]}" if way[3:] else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(ROOT / "runs" / "ae.h5"))
    parser.add_argument("--ways", default="1,2,ray",
                        help="numbers of workers; ray for --ray local with its default actors, rayN with N actors")
    parser.add_argument("--values", default="32,64,128")
    parser.add_argument("--repeats", type=int, default=4)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--fine-tune-epochs", type=int, default=5)
    parser.add_argument("--limit", type=int, default=0)
    options = parser.parse_args()
    print(f"processor: {processor()}")
    runs = len(options.values.split(",")) * options.repeats
    part = f", first {options.limit} images" if options.limit else ""
    print(f"sweep: fc-units={options.values} x {options.repeats} repeats = {runs} runs, 100 labels, batch 32, "
          f"{options.epochs} + {options.fine_tune_epochs} epochs{part}")
    times = {}
    accuracies = {}
    with tempfile.TemporaryDirectory() as scratch:
        for way in options.ways.split(","):
            seconds, log = sweep(way, Path(scratch) / way, options)
            times[way] = seconds
            accuracies[way] = log.set_index(["Fc_units", "Seed"])["Test_Accuracy"].sort_index()
            print(f"{describe(way):>24}: {seconds:7.1f} s"
                  f"  ({len(log)} runs logged)", flush=True)
    first = next(iter(times))
    for way, seconds in times.items():
        same = (accuracies[way] - accuracies[first]).abs().max()
        print(f"{way:>5}: {seconds / times[first]:.2f} of {first}'s time; test accuracies differ by at most {same:.4f}")


if __name__ == "__main__":
    main()
