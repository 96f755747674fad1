"""A plan's runs on a Ray cluster (`--ray ADDRESS`), or on a Ray instance started here (`--ray local`).

Each Ray actor builds the program's trials once (its data, its autoencoder: the files must be at the same paths on
every node, a shared folder, as they are here) and trains the runs it is given, on one GPU of its own when the
cluster has GPUs, else on its share of the CPUs. Only rows come back: the program that started the plan keeps the
run log and draws the plots. A run whose actor failed (an error, or the actor's process lost) is tried once more,
then reported and left out. Ray is an optional dependency (requirements-ray.txt).
"""

import contextlib
import io
import logging
import os
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from common.study.parallel import ATTEMPTS, name_of

ROOT = Path(__file__).resolve().parents[2]  # the project: what a local Ray's workers import the programs from
LOCAL = "local"


@dataclass(frozen=True)
class RayWorkers:
    """How to train a plan's runs on Ray: at `address` ("local": a Ray instance started for the plan and ended
    after it), with `count` actors (0: one per GPU of the cluster, or one per 2 CPUs)."""
    address: str
    count: int
    factory: object  # makes an actor's trials from factory_args (a module-level function and plain values)
    factory_args: tuple

    def results(self, plan, todo: list, context: dict, reporter):
        """Yield (planned run, its log row) as the actors finish them."""
        import ray

        self._connect(ray)
        try:
            actors, options = self._actors(ray)
            yield from _dispatch(ray, actors, lambda: _new_actor(ray, options, self), plan, todo, context,
                                 reporter)
        finally:
            if self.address == LOCAL:
                ray.shutdown()

    def _connect(self, ray) -> None:
        local = self.address == LOCAL
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):  # Ray's notes
            self._init(ray, local)

    def _init(self, ray, local: bool) -> None:
        ray.init(address=None if local else self.address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.ERROR, configure_logging=False, ignore_reinit_error=True,
                 runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}} if local else
                 {"working_dir": str(ROOT), "excludes": ["runs/", ".venv/", ".git/", "*.h5", "*.keras"]})

    def _actors(self, ray) -> tuple[list, dict]:
        """The actors and the resources each takes."""
        resources = ray.cluster_resources()
        gpus, cpus = int(resources.get("GPU", 0)), max(1, int(resources.get("CPU", 1)))
        count = self.count or gpus or max(1, cpus // 2)
        options = {"num_gpus": 1, "num_cpus": 1} if gpus else {"num_cpus": max(1, cpus // count)}
        options["threads"] = options["num_cpus"]
        return [_new_actor(ray, options, self) for _ in range(count)], options


class TrialActor:
    """A Ray actor: the program's trials, built once, training the runs it is given."""

    def __init__(self, factory, factory_args: tuple, threads: int):
        for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
            os.environ[name] = str(threads)  # before TensorFlow starts in this process
        self.trials = factory(*factory_args)

    def train(self, plan, planned, context: dict) -> dict:
        from common.study.runner import QuietReporter

        return self.trials.train(plan, planned, context, QuietReporter())


def _new_actor(ray, options: dict, workers: RayWorkers):
    resources = {k: v for k, v in options.items() if k != "threads"}
    return ray.remote(**resources)(TrialActor).remote(workers.factory, workers.factory_args, options["threads"])


def _dispatch(ray, actors: list, replace, plan, todo: list, context: dict, reporter):
    """Give each idle actor the next run; yield each finished run; a failed run goes back in the queue once."""
    queue, idle, running = deque(todo), list(actors), {}
    attempts = dict.fromkeys(todo, 0)
    try:
        while queue or running:
            while queue and idle:
                planned, actor = queue.popleft(), idle.pop()
                running[actor.train.remote(plan, planned, context)] = (planned, actor)
            (ref,), _ = ray.wait(list(running), num_returns=1)
            planned, actor = running.pop(ref)
            row = why = None
            try:
                row = ray.get(ref)
            except ray.exceptions.RayActorError:  # its process was lost: a new actor takes its place
                actor, why = replace(), "its actor stopped twice (killed or out of memory)"
                actors.append(actor)
            except ray.exceptions.RayTaskError as e:
                cause = e.cause if e.cause is not None else e
                why = f"failed twice ({type(cause).__name__}: {cause})"
            idle.append(actor)
            if row is not None:
                yield planned, row
                continue
            attempts[planned] += 1
            if attempts[planned] < ATTEMPTS:
                queue.append(planned)
            else:
                reporter.warn(f"{name_of(planned)}: {why}; left out")
    finally:
        for actor in actors:
            ray.kill(actor)
