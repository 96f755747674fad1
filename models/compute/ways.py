"""How training computes: the arithmetic (float32, or bfloat16 / float16 with float32 weights) and whether the
training step is compiled with XLA, chosen by timing a few steps of each candidate on the machine at hand.

The fastest way differs between machines: XLA trained the autoencoder 1.29 times as fast as plain Keras on one
2-core x86_64 machine and 0.87 times as fast on another, where bfloat16 was fastest (benchmarks/README.md). So the
candidates that the device supports are timed on real batches from the same initial weights, a candidate whose
loss strays more than 2% from float32's is dropped, and the fastest of the rest is kept.
"""

import platform
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.errors import UserError

PRECISIONS = ("float32", "bfloat16", "float16")  # the arithmetic; weights, outputs and statistics stay float32
POLICIES = {"float32": "float32", "bfloat16": "mixed_bfloat16", "float16": "mixed_float16"}  # Keras' names
XLA_CHOICES = ("auto", "on", "off")
LOSS_TOLERANCE = 0.02  # a candidate's loss may differ from float32's by this share at most
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
    device cannot compute in. `device_kind` is "cpu" or "gpu". On a CPU, `--xla auto` tries no XLA way: it lost
    by 7-16% on every CPU measured since it was a candidate, and compiling it was the largest part of the first
    run's measurement (docs/performance.md); `--xla on` still compiles with it."""
    if precision == "auto":
        precisions = ["float32"]
        if device_kind != "cpu":
            precisions += ["float16", "bfloat16"]
        elif bfloat16_on_cpu(flags):
            precisions.append("bfloat16")
    else:
        check_precision(precision, device_kind, flags)
        precisions = [precision]
    jit = {"auto": [False] if device_kind == "cpu" else [False, True], "on": [True], "off": [False]}[xla]
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


@contextmanager
def computing(way: Way):
    """Build and train in `way`'s precision: Keras' global dtype policy is set for the block, then restored."""
    from common.keras_setup import keras  # TensorFlow: the flags read this module before any network is built

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(way.policy)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)
