"""Timing the ways of computing (models/training/compute.py) on the machine at hand: a model built in each way from
the same initial weights, trained on the run's first batches through the run's own pipeline, the ways timed in
turns so that a change in the machine's speed meanwhile reaches them all alike. The chosen way's model can go on
to the run, its training step already traced (and compiled)."""

import time

from common.keras_setup import keras
from models.compute.tracing import build_optimizer
from models.compute.ways import Trial, Way

WARM_STEPS = 2  # steps run before timing: tracing, XLA compiling
LOSS_STEPS = 12  # the loss compared between ways: the mean over the first steps (the same batches for each way)
ROUND_SECONDS = 0.5  # each way's steps in one round of timing; the ways take turns, round by round
MIN_SECONDS = 1.0  # timed steps per way, at least (two rounds: the first run's measurement stays within 5%)
CLOSE = 0.10  # the two fastest ways closer than this share are timed on ...
BUDGET_SHARE = 0.05  # ... while the whole measurement stays within this share of the run's estimated time ...
MAX_SECONDS = 8.0  # ... and this many seconds of steps per way


def run_trials(ways: list[Way], start, steps: int = 0) -> list[Trial]:
    """Time the `ways` with `start(way) -> Candidate` (a model built and compiled in that way, see `Candidate`),
    side by side: first every way without XLA and the first way's precision (float32, unless the flags chose
    another) with XLA; then, only if XLA made that precision faster, the other precisions with XLA, beside the
    fastest so far, which goes on (XLA helped or hurt alike in every precision measured, and each XLA way costs
    seconds of compiling). `steps`: the run's training steps, which bound how long two close ways are timed on
    (`time_in_turns`)."""
    reference = ways[0].precision
    made = [start(w) for w in ways if not w.xla or w.precision == reference]
    trials = {t.way: t for t in time_in_turns(made, steps)}
    rate = {t.way: t.images_per_second for t in trials.values()}
    with_xla = Way(reference, True)
    without = Way(reference, False)
    xla_helps = with_xla in rate and rate[with_xla] > rate.get(without, 0.0)
    rest = [w for w in ways if w not in trials and xla_helps]
    if rest:
        fastest = max(made, key=lambda c: c.rate)
        fastest.restart_clock()
        trials.update((t.way, t) for t in time_in_turns([fastest, *(start(w) for w in rest)], steps, before=made))
    return [trials[w] for w in ways if w in trials]


def time_in_turns(candidates: list, steps: int = 0, before: list = ()) -> list[Trial]:
    """Warm each candidate, then time them round by round, each its ROUND_SECONDS of steps a round, so that a
    change in the machine's speed meanwhile reaches them all alike; until each has MIN_SECONDS and LOSS_STEPS.
    If the two fastest are closer than CLOSE, those two go on in turns, up to MAX_SECONDS each, while the whole
    measurement (these candidates and those timed `before`) stays within BUDGET_SHARE of the run's estimated
    time (`steps` steps of the fastest)."""
    for candidate in candidates:
        candidate.warm()
    _rounds(candidates, lambda c: c.timed_seconds >= MIN_SECONDS and c.steps >= LOSS_STEPS)
    ranked = sorted(candidates, key=lambda c: c.rate, reverse=True)
    if len(ranked) > 1 and ranked[1].rate >= (1 - CLOSE) * ranked[0].rate:
        budget = BUDGET_SHARE * steps * ranked[0].images_per_step / ranked[0].rate
        everyone = list({id(c): c for c in [*before, *candidates]}.values())
        _rounds(ranked[:2], lambda c: c.timed_seconds >= MAX_SECONDS or sum(o.cost for o in everyone) >= budget)
    return [c.trial() for c in candidates]


def _rounds(candidates: list, enough) -> None:
    """Rounds in which every candidate runs its round's steps, until `enough(candidate)` holds for each."""
    while not all(enough(c) for c in candidates):
        for candidate in candidates:
            candidate.run(candidate.round_steps())


class Candidate:
    """One way being timed: a model built and compiled in that way, trained step by step on the trial's batches
    (a dataset of them, as `fit` is fed, so that the step timed is the step the run takes and its trace can be
    kept for the run; repeated when the timing outlasts it)."""

    def __init__(self, way: Way, model, dataset, images_per_step: int):
        self.way = way
        self.model = model
        self.dataset = dataset
        self.images_per_step = images_per_step
        self.steps = 0
        self.loss = float("nan")
        self.step_seconds = 0.0
        self.timed_images = 0
        self.timed_seconds = 0.0
        self.cost = 0.0  # seconds spent on this way: building it, its warm steps and every timed one
        self.built_seconds = self.warm_seconds = 0.0
        self.iterator = self.initial = None

    def warm(self) -> None:
        """The untimed first steps: tracing, and XLA's compiling; the last of them estimates a step's time.
        The weights and the optimizer's state are kept as they were before them (`restored`)."""
        if self.steps:
            return  # warm already: timed before, beside other ways
        build_optimizer(self.model)
        self.initial = ([v.numpy() for v in self.model.variables], [v.numpy() for v in self.model.optimizer.variables])
        self.model.make_train_function()
        self.iterator = iter(self.dataset.repeat())
        for _ in range(WARM_STEPS):
            started = time.perf_counter()
            float(self._step()["loss"])
            self.step_seconds = time.perf_counter() - started
            self.warm_seconds += self.step_seconds
            self.cost += self.step_seconds

    def round_steps(self) -> int:
        """Steps in one round of timing: about ROUND_SECONDS' worth."""
        return max(1, round(ROUND_SECONDS / max(self.step_seconds, 1e-6)))

    def run(self, count: int) -> None:
        """Time `count` steps."""
        started = time.perf_counter()
        for _ in range(count):
            logs = self._step()
        float(logs["loss"])  # waits for the last step
        seconds = time.perf_counter() - started
        self.timed_seconds = self.timed_seconds + seconds
        self.cost = self.cost + seconds
        self.timed_images += count * self.images_per_step

    def _step(self) -> dict:
        logs = self.model.train_function(self.iterator)
        self.steps += 1
        if self.steps == LOSS_STEPS:
            self.loss = float(logs["loss"])  # Keras' running mean over the first LOSS_STEPS steps
        return logs

    @property
    def rate(self) -> float:
        """Images per second over the timed steps."""
        return self.timed_images / self.timed_seconds if self.timed_seconds else 0.0

    def restart_clock(self) -> None:
        """Forget the timings so far, to be timed again beside other ways."""
        self.timed_images = 0
        self.timed_seconds = 0.0

    def trial(self) -> Trial:
        return Trial(self.way, self.rate, self.loss)

    def restored(self):
        """The model back at its weights and optimizer state before the first step, its training step still
        traced (and compiled, with XLA): training it then is training a freshly built one, seconds sooner."""
        weights, optimizer = self.initial
        for variable, value in zip(self.model.variables, weights):
            variable.assign(value)
        for variable, value in zip(self.model.optimizer.variables, optimizer):
            variable.assign(value)
        self.model.reset_metrics()
        return self.model


class Candidates:
    """The candidates of one timing, each `build(way)` (a compiled model, its weights drawn after seeding with
    `seed`, as the run's will be) trained on `batches()` (a new dataset for each, so that each sees the same batches
    in the same order); a `start(way)` for `run_trials`. The chosen way's model can then go on to the run
    (`model_for`)."""

    def __init__(self, build, batches, images_per_step: int, seed: int):
        self.build = build
        self.batches = batches
        self.images_per_step = images_per_step
        self.seed = seed
        self.made: dict[Way, Candidate] = {}

    def __call__(self, way: Way) -> Candidate:
        started = time.perf_counter()
        keras.utils.set_random_seed(self.seed)
        candidate = Candidate(way, self.build(way), self.batches(), self.images_per_step)
        candidate.built_seconds = time.perf_counter() - started
        candidate.cost += candidate.built_seconds
        self.made[way] = candidate
        return candidate

    def model_for(self, way: Way):
        """The model timed in `way`, back at its first state (`Candidate.restored`), or None when that way was not
        timed (the choice came from the cache or the flags). The other candidates are let go."""
        chosen = self.made.pop(way, None)
        self.made.clear()
        return chosen.restored() if chosen is not None and chosen.initial is not None else None
