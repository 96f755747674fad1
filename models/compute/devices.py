"""Where training runs: the CPU, one GPU, or several GPUs with `tf.distribute.MirroredStrategy`, chosen from the
devices TensorFlow sees, with no flag. How it computes there (precision, XLA) is models/training/compute.py's."""

import contextlib
import os
from dataclasses import dataclass

from common.keras_setup import tf


@dataclass(frozen=True)
class Placement:
    """How training is spread over the machine's devices."""
    kind: str  # "cpu", "gpu" (one) or "gpus" (several, mirrored)
    replicas: int  # copies of the model training side by side: the batch is split among them
    description: str  # for the run's summary and log

    @property
    def device(self) -> str:
        """'CPU' or 'GPU': what a run's compute description starts with."""
        return "CPU" if self.kind == "cpu" else "GPU"

    def batch_size(self, per_device: int) -> int:
        """The batch `fit` gets: each device takes `per_device` images."""
        return per_device * self.replicas


def choose_placement(devices: list[tuple[str, str]], cpu_cores: int | None = None) -> Placement:
    """The placement for `devices`, (device type, name) pairs as TensorFlow lists them: every GPU when there are
    some (mirrored when more than one), else the CPU."""
    gpus = [name for kind, name in devices if kind == "GPU"]
    if not gpus:
        return Placement("cpu", 1, f"CPU ({cpu_cores or os.cpu_count()} cores)")
    if len(gpus) == 1:
        return Placement("gpu", 1, f"GPU ({gpus[0]})")
    return Placement("gpus", len(gpus), f"{len(gpus)} GPUs ({', '.join(sorted(set(gpus)))}), MirroredStrategy")


def detect() -> Placement:
    """The placement for this machine."""
    devices = []
    for device in tf.config.list_physical_devices():
        name = device.name
        if device.device_type == "GPU":
            name = tf.config.experimental.get_device_details(device).get("device_name", device.name)
        devices.append((device.device_type, name))
    return choose_placement(devices)


_mirrored = []  # the process's MirroredStrategy, made on first use


def scope(placement: Placement):
    """The context models are built and trained in: MirroredStrategy's scope for several GPUs, else nothing."""
    if placement.kind != "gpus":
        return contextlib.nullcontext()
    if not _mirrored:
        _mirrored.append(tf.distribute.MirroredStrategy())
    return _mirrored[0].scope()
