"""How training computes: the arithmetic (float32, or bfloat16 / float16 with float32 weights) and whether the
training step is compiled with XLA, chosen by timing a few steps of each candidate on the machine at hand.

The fastest way differs between machines: XLA trained the autoencoder 1.29 times as fast as plain Keras on one
2-core x86_64 machine and 0.87 times as fast on another, where bfloat16 was fastest (benchmarks/README.md). So the
candidates that the device supports are timed on real batches from the same initial weights, a candidate whose
loss strays more than 2% from float32's is dropped, and the fastest of the rest is kept.
"""

import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError

PRECISIONS = ("float32", "bfloat16", "float16")  # the arithmetic; weights, outputs and statistics stay float32
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}  # Keras' names
XLA_CHOICES = ("auto", "on", "off")
LOSS_TOLERANCE = 0.02  # a candidate's loss may differ from float32's by this share at most
WARM_STEPS = 2  # steps run before timing: tracing, XLA compiling
LOSS_STEPS = 12  # the loss compared between ways: the mean over the first steps (the same batches for each way)
ROUND_SECONDS = 0.5  # each way's steps in one round of timing; the ways take turns, round by round
MIN_SECONDS = 2.0  # timed steps per way, at least
CLOSE = 0.10  # the two fastest ways closer than this share are timed on ...
BUDGET_SHARE = 0.05  # ... while the whole measurement stays within this share of the run's estimated time ...
MAX_SECONDS = 8.0  # ... and this many seconds of steps per way
BF16_FLAGS = ("avx512_bf16", "amx_bf16")  # x86 instructions that make bfloat16 worth trying on a CPU


@dataclass(frozen=True)
class Way:
    """One way to compute a training step."""
    precision: str = "float32"  # one of PRECISIONS
    xla: bool = False  # the training step compiled with XLA

    @property
    def policy(self) -> str:
        """Keras' dtype policy for this precision."""
        return POLICIES[self.precision]

    def describe(self, device: str = "CPU") -> str:
        """'CPU, bfloat16, no XLA'."""
        return f"{device}, {self.precision}, {'XLA' if self.xla else 'no XLA'}"

    def key(self) -> str:
        """A short name, for the cache: 'bfloat16+xla'."""
        return self.precision + ("+xla" if self.xla else "")

    @classmethod
    def from_key(cls, key: str) -> "Way":
        precision, _, xla = key.partition("+")
        if precision not in PRECISIONS:
            raise ValueError(key)
        return cls(precision, xla == "xla")


FLOAT32 = Way()  # plain Keras: float32, no XLA; the way of runs too short to measure and of the tests


@dataclass(frozen=True)
class Trial:
    """How one way did on a few timed steps."""
    way: Way
    images_per_second: float
    loss: float  # mean training loss over the timed steps


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The processor's feature flags (from /proc/cpuinfo on Linux; empty where it cannot be read)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith(("flags", "Features")):
            return set(line.split(":", 1)[1].split())
    return set()


def processor_name(cpuinfo: str | None = None) -> str:
    """The processor's model name, or the machine type where the system does not say."""
    import platform

    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    for line in cpuinfo.splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def bfloat16_on_cpu(flags: set[str]) -> bool:
    """True where the processor has bfloat16 instructions (AVX-512 BF16 or AMX on x86; BF16 on Arm)."""
    return bool(flags & {*BF16_FLAGS, "bf16"})


def candidates(device_kind: str, flags: set[str], xla: str = "auto", precision: str = "auto") -> list[Way]:
    """The ways to try on this device for the `--xla` and `--precision` flags; UserError for a precision the
    device cannot compute in. `device_kind` is "cpu" or "gpu"."""
    if precision == "auto":
        precisions = ["float32"]
        if device_kind != "cpu":
            precisions += ["float16", "bfloat16"]
        elif bfloat16_on_cpu(flags):
            precisions.append("bfloat16")
    else:
        check_precision(precision, device_kind, flags)
        precisions = [precision]
    jit = {"auto": [False, True], "on": [True], "off": [False]}[xla]
    return [Way(p, j) for p in precisions for j in jit]


def check_precision(precision: str, device_kind: str, flags: set[str]) -> None:
    """UserError when the device cannot compute in `precision`."""
    if precision == "float16" and device_kind == "cpu":
        raise UserError("--precision float16 (--mixed-precision) needs a GPU, and this machine has none (training "
                        "runs on the CPU); use --precision float32 or auto")
    if precision == "bfloat16" and device_kind == "cpu" and not bfloat16_on_cpu(flags):
        raise UserError(f"--precision bfloat16: this processor ({processor_name()}) has no bfloat16 instructions "
                        f"(AVX-512 BF16 or AMX), so it would only be slower; use --precision float32 or auto")


def choose(trials: list[Trial], tolerance: float = LOSS_TOLERANCE) -> Way:
    """The fastest way among those whose loss is within `tolerance` of float32's (float32 ways always qualify)."""
    reference = [t.loss for t in trials if t.way.precision == "float32"]
    base = reference[0] if reference else None
    kept = [t for t in trials if t.way.precision == "float32" or base is None
            or abs(t.loss - base) <= tolerance * abs(base)]
    return max(kept, key=lambda t: t.images_per_second).way


def run_trials(ways: list[Way], start, steps: int = 0) -> list[Trial]:
    """Time the `ways` with `start(way) -> Candidate` (a model built and compiled in that way, see `Candidate`),
    side by side: first every way without XLA and float32 with XLA; then, only if XLA made float32 faster, the
    other precisions with XLA, beside the fastest so far, which goes on (XLA helped or hurt alike in every
    precision measured, and each XLA way costs seconds of compiling). `steps`: the run's training steps, which
    bound how long two close ways are timed on (`time_in_turns`)."""
    first = [w for w in ways if not w.xla or w.precision == "float32"]
    made = [start(w) for w in first]
    trials = {t.way: t for t in time_in_turns(made, steps)}
    rate = {t.way: t.images_per_second for t in trials.values()}
    xla_helps = Way("float32", True) in rate and rate[Way("float32", True)] > rate.get(Way("float32", False), 0.0)
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
        self.way, self.model, self.dataset, self.images_per_step = way, model, dataset, images_per_step
        self.steps, self.loss, self.step_seconds = 0, float("nan"), 0.0
        self.timed_images, self.timed_seconds = 0, 0.0
        self.cost = 0.0  # seconds spent on this way: building it, its warm steps and every timed one
        self.built_seconds = self.warm_seconds = 0.0
        self.iterator = self.initial = None

    def warm(self) -> None:
        """The untimed first steps: tracing, and XLA's compiling; the last of them estimates a step's time.
        The weights and the optimizer's state are kept as they were before them (`restored`)."""
        from models.training.optimizers import build_optimizer

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
        self.timed_seconds += time.perf_counter() - started
        self.cost += time.perf_counter() - started
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
        self.timed_images, self.timed_seconds = 0, 0.0

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
    """The candidates of one timing, each `build(way)` (a compiled model) trained on `batches()` (a new dataset
    for each, so that each sees the same batches in the same order); a `start(way)` for `run_trials`. The chosen
    way's model can then go on to the run (`model_for`)."""

    def __init__(self, build, batches, images_per_step: int):
        self.build, self.batches, self.images_per_step = build, batches, images_per_step
        self.made: dict[Way, Candidate] = {}

    def __call__(self, way: Way) -> Candidate:
        started = time.perf_counter()
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


@contextmanager
def computing(way: Way):
    """Build and train in `way`'s precision: Keras' global dtype policy is set for the block, then restored."""
    from common.keras_setup import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(way.policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)
