"""A plan's runs trained N at a time, each in a process of its own (`--workers N`).

Every worker builds the program's trials once (`factory(*factory_args)`: its data, its autoencoder) and is told how
many threads it may use (the cores divided among the workers) or which GPU, so the workers do not fight over the
machine. The program that started the plan stays the only writer of the run log: workers send back each finished
run's row and it is appended as it arrives. Ctrl-C stops every worker and keeps what finished. A run whose worker
failed (an error, or the process killed) is tried once more in a fresh worker, then reported and left out.
"""

import multiprocessing
import os
import signal
import sys
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass

from common.interrupts import ctrl_c_ignored, ctrl_c_noted

ATTEMPTS = 2  # a run is tried at most this many times
POLL_SECONDS = 0.2  # how often the parent relays the workers' news and looks for a noted Ctrl-C
SHOWN = ("loss", "val_loss", "accuracy", "val_accuracy")  # the metrics a worker sends after each epoch
_SPAWN = multiprocessing.get_context("spawn")  # workers start afresh: no copy of the parent's TensorFlow

_worker = {}  # in a worker process: its trials, built once by `_start`


@dataclass(frozen=True)
class Workers:
    """How to train a plan's runs in parallel: `count` processes, each building its trials with
    `factory(*factory_args)` (picklable: a module-level function and plain values)."""
    count: int  # processes at once
    factory: object  # makes a worker's trials (common/study/trials.py) from factory_args
    factory_args: tuple  # e.g. the program's parsed arguments
    gpus: int = 0  # GPUs on the machine: worker i uses GPU i mod gpus; 0: the CPU cores are divided

    def threads(self) -> int:
        """Threads each worker may use on the CPU."""
        return max(1, (os.cpu_count() or 1) // self.count)

    def results(self, plan, todo: list, context: dict, reporter):
        """Yield (planned run, its log row) as the workers finish them, in any order, telling `reporter.working`
        what each worker is training. A run that failed twice is reported (`reporter.warn`) and not yielded."""
        attempts, finished, asked, left = dict.fromkeys(todo, 0), set(), [], list(todo)
        with _environment(self.thread_settings()), ctrl_c_noted(lambda: asked.append(True)):
            while left:
                news = _SPAWN.SimpleQueue()  # sent at once, before the run's row; a pool's own: a worker killed
                # while sending leaves the others of its pool waiting, and that pool is stopped anyway
                with ctrl_c_ignored():  # the workers start now, deaf to the terminal's Ctrl-C: the parent stops them
                    pool = self._pool(news)
                    running = {pool.submit(_train, plan, planned, context): planned for planned in left}
                try:
                    for planned, row in _collect(running, attempts, _Watch(news, reporter, asked)):
                        finished.add(planned)
                        yield planned, row
                finally:  # Ctrl-C, an error, or the plan done: stop every worker at once
                    _stop(pool)
                left = [planned for planned in left if planned not in finished and attempts[planned] < ATTEMPTS]

    def thread_settings(self) -> dict[str, str]:
        """The environment that gives each worker its share of the cores (TensorFlow's and oneDNN's threads)."""
        threads = str(self.threads())
        return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads, "OMP_NUM_THREADS": threads}

    def _pool(self, news) -> ProcessPoolExecutor:
        slots = _SPAWN.Queue()
        for index in range(self.count):
            slots.put(index)
        return ProcessPoolExecutor(self.count, mp_context=_SPAWN, initializer=_start,
                                   initargs=(self.factory, self.factory_args, self.gpus, slots, news))


class _Watch:
    """What the parent watches while the workers train: their news (relayed to the reporter) and a noted Ctrl-C
    (raised as KeyboardInterrupt here, a safe place)."""

    def __init__(self, news, reporter, asked: list):
        self.news, self.reporter, self.asked = news, reporter, asked

    def look(self) -> None:
        while not self.news.empty():
            slot, planned, stage, epoch, epochs, logs = self.news.get()
            self.reporter.working(slot + 1, planned, stage, epoch, epochs, logs)
        if self.asked:
            raise KeyboardInterrupt


def _collect(running: dict, attempts: dict, watch: _Watch):
    """Yield each finished run's (planned, row); count a failure against its run, and report a run's last one."""
    pending = set(running)
    while pending:
        done, pending = wait(pending, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
        for future in done:
            planned = running[future]
            try:
                row = future.result()
            except Exception as e:  # noqa: BLE001  (any error of one run: reported, the others go on)
                attempts[planned] += 1  # a dead worker (BrokenProcessPool) fails every run in flight: all retried
                if attempts[planned] >= ATTEMPTS:
                    why = "its worker stopped twice (killed or out of memory)" if isinstance(e, BrokenProcessPool) \
                        else f"failed twice ({type(e).__name__}: {e})"
                    watch.reporter.warn(f"{name_of(planned)}: {why}; left out")
                continue
            yield planned, row
        watch.look()  # after the finished runs: a Ctrl-C now still keeps them


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end every worker process now."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.kill()
    for process in processes:
        process.join(timeout=10)


@contextmanager
def _environment(values: dict[str, str]):
    """Set environment variables for the block (the processes it starts inherit them), then put them back."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def name_of(planned) -> str:
    """'filters 8, repeat 2': a planned run in a warning."""
    values = ", ".join(f"{name} {value}" for name, value in planned.values)
    return f"{values}, repeat {planned.repeat}{', ' + planned.arm if planned.arm else ''}"


def _start(factory, factory_args: tuple, gpus: int, slots, news) -> None:
    """A worker's start: its GPU (its share of the cores comes with its environment), Ctrl-C left to the parent,
    then its trials."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops the workers
    index = slots.get()
    if "tensorflow" not in sys.modules:  # the programs' factories import it later, when they build networks
        os.environ["CUDA_VISIBLE_DEVICES"] = str(index % gpus) if gpus else ""
    _worker.update(slot=index, news=news)
    _worker["trials"] = factory(*factory_args)


def _train(plan, planned, context: dict) -> dict:
    """In a worker: train one planned run, telling the parent which and each epoch's end; its log row."""
    reporter = WorkerReporter(_worker["news"], _worker["slot"])
    reporter.send(planned, "", 0, 0, {})
    return _worker["trials"].train(plan, planned, context, reporter)


class WorkerReporter:
    """A worker's reporter: its runs' epochs sent to the parent (`Workers.results` relays them to the screen)."""

    def __init__(self, news, slot: int):
        self.news, self.slot = news, slot

    def send(self, planned, stage: str, epoch: int, epochs: int, logs: dict) -> None:
        self.news.put((self.slot, planned, stage, epoch, epochs, logs))

    def callbacks_for(self, planned):
        from common.keras_setup import keras

        def callbacks(stage: str = "") -> list:
            told = keras.callbacks.LambdaCallback()
            told.on_epoch_end = lambda epoch, logs=None: self.send(
                planned, stage, epoch + 1, told.params.get("epochs") or 0,
                {name: float(value) for name, value in (logs or {}).items() if name in SHOWN})
            return [told]
        return callbacks

    def warn(self, message: str) -> None:
        pass
