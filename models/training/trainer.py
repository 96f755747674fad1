"""What the training environment (environment.py) needs of a program to train one run: the one object that owns
the run's training, with a named method for each thing the environment asks of it."""

from abc import ABC, abstractmethod


class Trainer(ABC):
    """One run of a program, ready to train: its data, seed and callbacks are the trainer's own; the environment
    hands each method the configuration scaled to the devices."""

    @abstractmethod
    def shape(self, config) -> dict:
        """What the cost of a step depends on: the key under which the way of computing it is remembered."""

    @abstractmethod
    def steps(self, config) -> int:
        """The training steps of the run: whether timing the ways of computing would repay itself."""

    @abstractmethod
    def candidates(self, config):
        """The ways of computing to time, built as the run's model will be (models/compute/way_trials.py)."""

    @abstractmethod
    def fit(self, config, way, candidates):
        """Train the run computing in `way` (`candidates`: those timed, whose model the run may keep); its
        TrainedRun."""

    def fixed_way(self, config):
        """The one way this run computes in, whatever the flags and the cache say; None: chosen as usual."""
        return None
