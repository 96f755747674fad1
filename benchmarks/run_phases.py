"""Where the programs' time goes: both programs' default `--no-menu` runs, a 100-label run with self-training, and
plain Keras `fit` on the same autoencoder, each in its own process, with the process's CPU use sampled from
outside every quarter second.

    python benchmarks/run_phases.py [--limit N] [--runs autoencoder,classifier,self-training,plain-keras]
                                    [--rounds 10] [--baseline REV]

Per run: wall time, the time in training steps, validation, batch-normalisation statistics, encoding features,
prediction, saving and logging, choosing the way of computing (the programs count them when WORKBENCH_PHASES names a
file, common/phases.py; every call starts with no way remembered, so the autoencoder's is a first run),
`Train_Time` from the run log and its ratio to steps plus validation, the average CPU use during the training
steps (200% is both cores of a 2-core machine), and the longest stretch below 10% CPU. With `--baseline REV`, the
default autoencoder run of that commit (a git worktree of it) runs too, in the same call, for a before/after
comparison of wall time; that commit's programs count no phases.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

IDLE = 0.10  # CPU share (of one core) below which the process counts as idle
PERIOD = 0.25  # seconds between CPU samples
PHASES = ("training steps", "validation", "batch-norm statistics", "encoding features", "prediction",
          "saving and logging", "choosing the way")
RUNS = ("autoencoder", "classifier", "self-training", "plain-keras")


def processor() -> str:
    """The processor's model name, from /proc/cpuinfo where there is one."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class CpuSampler:
    """CPU use of one process (all its threads), sampled from /proc every PERIOD seconds in a thread."""

    def __init__(self, pid: int):
        self.pid = pid  # (wall time at the end of the sample, CPU share over it)
        self.samples = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _run(self):
        try:
            last = (time.time(), self._cpu_seconds())
            while True:
                time.sleep(PERIOD)
                now = (time.time(), self._cpu_seconds())
                self.samples.append((now[0], (now[1] - last[1]) / (now[0] - last[0])))
                last = now
        except (OSError, IndexError, ValueError):  # the process ended
            pass

    def longest_idle(self) -> float:
        """The longest stretch of consecutive samples below IDLE, in seconds."""
        longest = current = 0.0
        for _, share in self.samples:
            current = current + PERIOD if share < IDLE else 0.0
            longest = max(longest, current)
        return longest

    def average_during(self, intervals) -> float | None:
        """Average CPU share over the samples that end inside any of `intervals` (start, end)."""
        inside = [share for t, share in self.samples if any(a + PERIOD <= t <= b for a, b in intervals)]
        return sum(inside) / len(inside) if inside else None


def measure(name: str, command: list[str], workdir: Path, cwd: Path = ROOT) -> dict:
    """Run one command with the phase file asked for and its CPU sampled; its figures."""
    phase_file = workdir / f"{name}.phases.json"
    env = {**os.environ, "WORKBENCH_PHASES": str(phase_file), "MPLBACKEND": "Agg", "CI": "1",
           "WORKBENCH_CACHE": str(workdir / "cache")}  # no way remembered: a first run, measuring included
    start = time.time()
    with open(workdir / f"{name}.out", "w") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        sampler = CpuSampler(process.pid)
        code = process.wait()
    wall = time.time() - start
    sampler.thread.join(timeout=2)
    if code != 0:
        raise SystemExit(f"{name}: exited with {code}; see {workdir / (name + '.out')}")
    phases = json.loads(phase_file.read_text()) if phase_file.exists() else {"totals": {}, "timeline": []}
    steps = [(a, b) for phase, a, b in phases["timeline"] if phase == "training steps"]
    return {"name": name, "wall": wall, **{p: phases["totals"].get(p) for p in PHASES},
            "train_cpu": sampler.average_during(steps), "longest_idle": sampler.longest_idle()}


def train_time(log: Path) -> float | None:
    """Train_Time of the last run in a run log."""
    import pandas as pd

    return float(pd.read_csv(log)["Train_Time"].iloc[-1]) if log.exists() else None


def plain_keras(epochs: int, limit: int | None) -> None:
    """The default autoencoder trained by Keras alone: `fit` on arrays with validation data, Keras' pipelines."""
    from common import phases
    from common.data import dataset, splits
    from common.keras_setup import keras
    from models.config.autoencoder import AutoencoderConfig
    from models.training.autoencoder_training import new_autoencoder

    images = dataset.load_images(dataset.TRAIN_IMAGES, limit)
    part = splits.split(len(images), 0.2, seed=1)
    x = dataset.to_model_input(images)
    keras.utils.set_random_seed(1)
    config = AutoencoderConfig(epochs=epochs)
    model = new_autoencoder(config)

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            phases.enter("training steps")

        def on_test_begin(self, logs=None):
            phases.enter("validation")

        def on_test_end(self, logs=None):
            phases.leave("validation")

        def on_epoch_end(self, epoch, logs=None):
            phases.leave("training steps")

    started = time.perf_counter()
    with phases.recording() as recorder:
        model.fit(x[part.train], x[part.train], validation_data=(x[part.val], x[part.val]), epochs=epochs,
                  batch_size=config.batch_size, verbose=0, callbacks=[Clock()])
    print(f"fit returned after {time.perf_counter() - started:.1f} s")
    phases.write_if_asked(recorder)


def row(figures: dict, train: float | None) -> str:
    cells = [f"{figures['wall']:.0f}"]
    cells += ["" if figures[p] is None else f"{figures[p]:.1f}" for p in PHASES]
    cells.append("" if train is None else f"{train:.1f}")
    steps_and_validation = (figures["training steps"] or 0) + (figures["validation"] or 0)
    cells.append(f"{train / steps_and_validation:.2f}" if train and steps_and_validation else "")
    cells.append("" if figures["train_cpu"] is None else f"{100 * figures['train_cpu']:.0f}%")
    cells.append(f"{figures['longest_idle']:.1f}")
    return f"| {figures['name']} | " + " | ".join(cells) + " |"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, help="only the first N images of each file (default: all)")
    parser.add_argument("--runs", default=",".join(RUNS), help=f"which runs, of {', '.join(RUNS)}")
    parser.add_argument("--rounds", type=int, default=10, help="self-training rounds of the 100-label run")
    parser.add_argument("--plain-epochs", type=int, default=3, help="epochs of the plain Keras run")
    parser.add_argument("--baseline", metavar="REV", help="also run this commit's default autoencoder run")
    parser.add_argument("--plain-keras", action="store_true", help=argparse.SUPPRESS)  # the child of plain-keras
    args = parser.parse_args()
    if args.plain_keras:
        return plain_keras(args.plain_epochs, args.limit)
    runs = args.runs.split(",")
    python = sys.executable
    limit = ["--limit", str(args.limit)] if args.limit else []
    print(f"processor: {processor()}; {os.cpu_count()} cores; {platform.python_version()}")
    print("| run | wall s | training steps s | validation s | batch-norm statistics s | encoding features s | "
          "prediction s | saving and logging s | choosing the way s | Train_Time s | "
          "Train_Time / (steps + validation) | CPU in training | longest stretch < 10% CPU s |")
    print("| --- |" + " ---: |" * 12)
    walls = {}
    with tempfile.TemporaryDirectory() as temporary:
        work = Path(temporary)
        out = ["--out", str(work / "runs"), "--no-menu", "--no-show", *limit]
        model = work / "runs" / "ae.h5"
        if "autoencoder" in runs or "classifier" in runs or "self-training" in runs:
            figures = measure("autoencoder", [python, "autoencoder.py", *out, "--save", str(model)], work)
            walls["autoencoder"] = figures["wall"]
            print(row(figures, train_time(work / "runs" / "loss_values.csv")), flush=True)
        classifier_log = work / "runs" / "classification_loss_values.csv"
        if "classifier" in runs:
            figures = measure("classifier", [python, "classification.py", *out, "-model", str(model)], work)
            print(row(figures, train_time(classifier_log)), flush=True)
        if "self-training" in runs:
            figures = measure("self-training", [
                python, "classification.py", *out, "-model", str(model), "--labels", "100", "--batch-size", "32",
                "--augment", "--self-training", str(args.rounds)], work)
            print(row(figures, train_time(classifier_log)), flush=True)
        if "plain-keras" in runs:
            figures = measure("plain-keras", [python, __file__, "--plain-keras", "--plain-epochs",
                                              str(args.plain_epochs), *limit], work)
            walls["plain-keras"] = figures["wall"]
            print(row(figures, None), flush=True)
        if len(walls) == 2:
            print(f"\nwall time: the program's default autoencoder run {walls['autoencoder']:.1f} s, plain Keras "
                  f"(float32, the same network and settings) {walls['plain-keras']:.1f} s: "
                  f"{walls['autoencoder'] / walls['plain-keras']:.2f} times")
        if args.baseline:
            print(baseline(args.baseline, work, out, python))


def baseline(revision: str, work: Path, out: list[str], python: str) -> str:
    """The default autoencoder run of another commit, from a git worktree of it."""
    tree = work / "baseline"
    subprocess.run(["git", "worktree", "add", "--detach", str(tree), revision], cwd=ROOT, check=True,
                   capture_output=True)
    try:
        log_folder = work / "baseline-runs"
        command = [python, "autoencoder.py", *out[2:], "--out", str(log_folder), "--save", str(work / "base.h5")]
        figures = measure(f"autoencoder at {revision}", command, work, cwd=tree)
        return row(figures, train_time(log_folder / "loss_values.csv"))
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)


if __name__ == "__main__":
    main()
