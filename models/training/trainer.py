"""One run of a program, the one object that trains it: `train` scales the configuration to the devices, asks the
training environment (environment.py) for the way to compute, which reads the trainer's named methods, and fits."""

from abc import ABC, abstractmethod


class Trainer(ABC):
    """One run of a program, ready to train in `environment`: its data, seed and callbacks are the trainer's own;
    every method but `train` takes the configuration scaled to the devices."""

    def __init__(self, environment):
        self.environment = environment

    def train(self, config):
        """Train a run of `config`; the run says how it computed."""
        scaled = self.environment.scaled(config)
        with self.environment.scope():
            way, candidates = self.environment.choose(self, scaled)
            run = self.fit(scaled, way, candidates)
        run.compute = self.environment.describe(way)
        return run

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
