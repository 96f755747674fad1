"""Choosing how a run computes (precision, XLA) on this machine: from the flags, from an earlier measurement kept
in a small cache file (common/way_cache.py), or by timing the candidates before a run long enough to
repay it. The cache key is the processor, the device, TensorFlow's version and the model's shape, so another model
shape or another machine measures again.
"""

import time

from common import phases
from common.keras_setup import tf
from models.compute.way_cache import WayCache
from models.compute.way_trials import run_trials
from models.compute.ways import Way, candidates, choose, cpu_flags, processor_name

MEASURE_MIN_STEPS = 1000  # runs of fewer training steps never pay for a measurement (about 30-60 s on 2 cores)
PHASE = "choosing the way"  # the measurement's time, as common/phases.py counts it


class WayChooser:
    """The way each run computes in, for one program: `--xla` and `--precision` narrow the candidates; with
    more than one left, the cache answers, or they are timed (runs of MEASURE_MIN_STEPS steps or more)."""

    def __init__(self, xla: str, precision: str, placement, reporter=None, cache: WayCache | None = None):
        self.xla = xla
        self.precision = precision
        self.placement = placement
        self.reporter = reporter or QuietWays()
        self.cache = cache or WayCache()
        self.unsaved = False  # a failed write of the cache has been reported: once is enough

    def candidates(self) -> list:
        """The ways the flags and the device allow; UserError for a precision the device lacks."""
        return candidates(self.placement.kind, cpu_flags(), self.xla, self.precision)

    def way(self, shape: dict, steps: int, start):
        """The way to train a model of this `shape` (what the cache key says of it) for `steps` steps;
        `start(way) -> Candidate` makes one candidate to time (models/training/way_trials.py)."""
        ways = self.candidates()
        if len(ways) == 1:
            return ways[0]
        key = self.key(shape)
        cached = self.cache.get(key)
        if cached and cached.get("way") in [w.key() for w in ways]:
            return Way.from_key(cached["way"])
        if steps < MEASURE_MIN_STEPS:
            return ways[0]  # float32 without XLA: nothing measured yet, and too short a run to measure for
        self.reporter.timing(len(ways))
        started = time.perf_counter()
        with phases.phase(PHASE):
            trials = run_trials(ways, start, steps)
        chosen = choose(trials)
        self.reporter.timed(trials, chosen, self.placement.device, time.perf_counter() - started)
        problem = self.cache.put(key, {"way": chosen.key(), "images_per_second": {
            t.way.key(): round(t.images_per_second, 1) for t in trials}, "loss": {
            t.way.key(): t.loss for t in trials}})
        if problem and not self.unsaved:
            self.reporter.unsaved(problem)
            self.unsaved = True
        return chosen

    def key(self, shape: dict) -> str:
        """The cache key: processor, device, TensorFlow's version and the model's shape."""
        parts = [processor_name(), self.placement.description, f"TensorFlow {tf.__version__}",
                 *(f"{k}={v}" for k, v in sorted(shape.items()))]
        return " | ".join(parts)


class QuietWays:
    """Says nothing of the ways timed: a WayChooser's reporter for callers without a screen."""

    def timing(self, count: int) -> None:
        pass

    def timed(self, trials: list, chosen, device: str, seconds: float | None = None) -> None:
        pass

    def unsaved(self, problem: str) -> None:
        pass
