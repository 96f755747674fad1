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

from common.interrupts import ctrl_c_noted
from common.study.parallel import ATTEMPTS, POLL_SECONDS, name_of

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
            dispatcher = _Dispatcher(ray, actors, lambda: _new_actor(ray, options, self), todo, reporter)
            yield from dispatcher.results(plan, context)
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


class _Dispatcher:
    """Each idle actor given the next run (and `reporter.working` told which); each finished run yielded; a failed
    run put back in the queue once, then reported; a lost actor replaced. A noted Ctrl-C is raised between waits."""

    def __init__(self, ray, actors: list, replace, todo: list, reporter):
        self.ray, self.actors, self.replace, self.reporter = ray, actors, replace, reporter
        self.queue, self.idle, self.running = deque(todo), list(enumerate(actors, 1)), {}
        self.attempts = dict.fromkeys(todo, 0)

    def results(self, plan, context: dict):
        asked = []
        try:
            with ctrl_c_noted(lambda: asked.append(True)):
                while self.queue or self.running:
                    self._hand_out(plan, context)
                    ready, _ = self.ray.wait(list(self.running), num_returns=1, timeout=POLL_SECONDS)
                    if ready:
                        yield from self._settle(ready[0])
                    if asked:  # after the finished run: a Ctrl-C now still keeps it
                        raise KeyboardInterrupt
        finally:
            for actor in self.actors:
                self.ray.kill(actor)

    def _hand_out(self, plan, context: dict) -> None:
        while self.queue and self.idle:
            planned, (slot, actor) = self.queue.popleft(), self.idle.pop()
            self.running[actor.train.remote(plan, planned, context)] = (planned, actor, slot)
            self.reporter.working(slot, planned, "", 0, 0, {})

    def _settle(self, ref):
        planned, actor, slot = self.running.pop(ref)
        row, why, lost = _outcome(self.ray, ref)
        if lost:  # the actor's process was lost: a new actor takes its place
            actor = self.replace()
            self.actors.append(actor)
        self.idle.append((slot, actor))
        if row is not None:
            yield planned, row
            return
        self.attempts[planned] += 1
        if self.attempts[planned] < ATTEMPTS:
            self.queue.append(planned)
        else:
            self.reporter.warn(f"{name_of(planned)}: {why}; left out")


def _outcome(ray, ref) -> tuple[dict | None, str | None, bool]:
    """A finished task's row, or why it failed (said as for its second failure) and whether its actor was lost."""
    try:
        return ray.get(ref), None, False
    except ray.exceptions.RayActorError:
        return None, "its actor stopped twice (killed or out of memory)", True
    except ray.exceptions.RayTaskError as e:
        cause = e.cause if e.cause is not None else e
        return None, f"failed twice ({type(cause).__name__}: {cause})", False
