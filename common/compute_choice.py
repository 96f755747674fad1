"""Choosing how a run computes (precision, XLA) on this machine: from the flags, from an earlier measurement kept
in a small cache file, or by timing the candidates before a run long enough to repay it.

The cache lives in the user's cache folder, not under --out: a `runs/` folder may be shared by several machines,
and the fastest way belongs to one machine. Its key is the processor, the device, TensorFlow's version and the
model's shape, so another model shape or another machine measures again.
"""

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout
from rich.console import Console
from rich.table import Table

from common import phases
from common.files import write_text_atomically

MEASURE_MIN_STEPS = 1000  # runs of fewer training steps never pay for a measurement (about 30-60 s on 2 cores)
PHASE = "choosing the way"  # the measurement's time, as common/phases.py counts it
CACHE_ENVIRONMENT = "WORKBENCH_CACHE"  # a folder for the cache instead of the user's cache folder


def cache_folder() -> Path:
    """$WORKBENCH_CACHE, or $XDG_CACHE_HOME/autoencoder-workbench, or ~/.cache/autoencoder-workbench."""
    if os.environ.get(CACHE_ENVIRONMENT):
        return Path(os.environ[CACHE_ENVIRONMENT])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autoencoder-workbench"


class WayCache:
    """Measured choices, one per machine and model shape, in a JSON file; unreadable or foreign files count as
    empty, and a cache that cannot be written is only a lost shortcut."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_folder() / "compute-ways.json"

    def get(self, key: str) -> dict | None:
        return self._read().get(key)

    def put(self, key: str, entry: dict) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(self.path.with_name(f".{self.path.name}.lock"), timeout=10):
                entries = self._read()
                entries[key] = entry
                write_text_atomically(self.path, json.dumps(entries, indent=1) + "\n")
        except (OSError, Timeout):
            pass

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}


class WayChooser:
    """The way each run computes in, for one program: `--xla` and `--precision` narrow the candidates; with
    more than one left, the cache answers, or they are timed (runs of MEASURE_MIN_STEPS steps or more)."""

    def __init__(self, xla: str, precision: str, placement, console: Console, cache: WayCache | None = None):
        self.xla, self.precision = xla, precision
        self.placement, self.console = placement, console
        self.cache = cache or WayCache()

    def candidates(self) -> list:
        """The ways the flags and the device allow; UserError for a precision the device lacks."""
        from models.compute import candidates, cpu_flags

        return candidates(self.placement.kind, cpu_flags(), self.xla, self.precision)

    def way(self, shape: dict, steps: int, time_way):
        """The way to train a model of this `shape` (what the cache key says of it) for `steps` steps;
        `time_way(way) -> Trial` times one candidate."""
        from models.compute import Way, choose, run_trials

        ways = self.candidates()
        if len(ways) == 1:
            return ways[0]
        key = self.key(shape)
        cached = self.cache.get(key)
        if cached and cached.get("way") in [w.key() for w in ways]:
            return Way.from_key(cached["way"])
        if steps < MEASURE_MIN_STEPS:
            return ways[0]  # float32 without XLA: nothing measured yet, and too short a run to measure for
        self.console.print(f"Timing {len(ways)} ways of computing a training step on this machine (once for "
                           f"this model's shape; later runs reuse the choice)...")
        with phases.phase(PHASE):
            trials = run_trials(ways, time_way)
        chosen = choose(trials)
        self.console.print(trial_table(trials, chosen, self.placement.kind.upper()))
        self.cache.put(key, {"way": chosen.key(), "images_per_second": {
            t.way.key(): round(t.images_per_second, 1) for t in trials}, "loss": {
            t.way.key(): t.loss for t in trials}})
        return chosen

    def key(self, shape: dict) -> str:
        """The cache key: processor, device, TensorFlow's version and the model's shape."""
        from common.keras_setup import tf
        from models.compute import processor_name

        parts = [processor_name(), self.placement.description, f"TensorFlow {tf.__version__}",
                 *(f"{k}={v}" for k, v in sorted(shape.items()))]
        return " | ".join(parts)


def trial_table(trials: list, chosen, device: str) -> Table:
    """The timed ways: images per second, loss against float32's, and which was chosen."""
    table = Table(title="Ways of computing, timed on this machine")
    for name in ("way", "images/s", "loss", ""):
        table.add_column(name, justify="left" if name == "way" else "right")
    for t in trials:
        table.add_row(t.way.describe(device), f"{t.images_per_second:.0f}", f"{t.loss:.4g}",
                      "chosen" if t.way == chosen else "")
    return table
