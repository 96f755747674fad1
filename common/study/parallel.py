"""A plan's runs trained N at a time, each worker a process of its own (`--workers N`).

Every worker builds the program's trials once (`factory(*factory_args)`: its data, its autoencoder) and is told how
many threads it may use (the cores divided among the workers) or which GPU, so the workers do not fight over the
machine. Each talks to the program over a pipe of its own: the runs it is given, each epoch's news, each finished
run's row. The program stays the only writer of the run log and appends each row as it arrives. Workers start deaf
to the terminal's Ctrl-C: the program notes it and stops them. What happens to a run whose worker fails or dies is
common/study/dispatch.py's one policy.
"""

import contextlib
import multiprocessing
import os
import signal
import threading
import time
import traceback
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import wait as wait_for

from common.interrupts import ctrl_c_ignored
from common.study.dispatch import Outcome, dispatch

SHOWN = ("loss", "val_loss", "accuracy", "val_accuracy")  # the metrics a worker sends after each epoch
_SPAWN = multiprocessing.get_context("spawn")  # workers start afresh: no copy of the parent's TensorFlow
PARENT_CHECK = 1.0  # seconds between a worker's looks at whether the program that started it is still there
STOPPED = Outcome(why="its worker stopped", detail="killed or out of memory", lost=True)


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

    def results(self, plan, todo: list, context: dict, reporter, folder=None):
        """Yield (planned run, its log row) as the workers finish them, in any order, telling `reporter.working`
        what each worker is training; a failed run's traceback goes to a file in `folder`."""
        yield from dispatch(ProcessPool(self), plan, todo, context, reporter, folder)

    def thread_settings(self) -> dict[str, str]:
        """The environment that gives each worker its share of the cores (TensorFlow's and oneDNN's threads)."""
        threads = str(self.threads())
        return {"TF_NUM_INTRAOP_THREADS": threads, "TF_NUM_INTEROP_THREADS": threads, "OMP_NUM_THREADS": threads}


class ProcessPool:
    """The worker processes of `Workers`, each with its pipe (common/study/dispatch.py's WorkerPool)."""

    def __init__(self, workers: Workers):
        self.workers = workers
        self.count = workers.count
        self.processes = {}
        self.pipes = {}
        self.busy = set()

    def start(self, slot: int) -> None:
        self._end(slot)
        mine, theirs = _SPAWN.Pipe()
        process = _SPAWN.Process(target=serve, args=(theirs, slot, self.workers.factory, self.workers.factory_args,
                                                     self.workers.gpus), daemon=True)
        with _environment(self.workers.thread_settings()), ctrl_c_ignored():  # it starts deaf to Ctrl-C
            process.start()
        theirs.close()  # the worker holds the only other end: its death reads as the end of the pipe here
        self.processes[slot] = process
        self.pipes[slot] = mine

    def submit(self, slot: int, plan, planned, context: dict) -> None:
        self.busy.add(slot)
        with contextlib.suppress(OSError):  # it died while idle: `wait` finds the pipe closed and says so
            self.pipes[slot].send((plan, planned, context))

    def wait(self, timeout: float, reporter) -> list[tuple[int, Outcome]]:
        ended = []
        slot_of = {pipe: slot for slot, pipe in self.pipes.items()}
        for pipe in wait_for(list(slot_of), timeout):
            slot = slot_of[pipe]
            try:
                kind, *content = pipe.recv()
            except (EOFError, OSError):  # the process died
                if slot in self.busy:
                    self.busy.discard(slot)
                    ended.append((slot, STOPPED))
                else:
                    self.start(slot)
                continue
            if kind == "news":
                reporter.working(slot + 1, *content)
                continue
            self.busy.discard(slot)
            ended.append((slot, Outcome(row=content[0]) if kind == "row" else Outcome(why="failed", detail=content[0],
                                                                                      trace=content[1])))
        return ended

    def stop(self) -> None:
        for slot in list(self.processes):
            self._end(slot)

    def _end(self, slot: int) -> None:
        process = self.processes.pop(slot, None)
        pipe = self.pipes.pop(slot, None)
        if pipe is not None:
            pipe.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=10)


def serve(pipe, slot: int, factory, factory_args: tuple, gpus: int) -> None:
    """A worker process: its GPU (its share of the cores comes with its environment), Ctrl-C left to the program;
    then each run it is given, trained with the trials built at the first, its row or its error sent back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the program stops the workers
    _leave_with_the_program(os.getppid())
    os.environ["CUDA_VISIBLE_DEVICES"] = str(slot % gpus) if gpus else ""
    trials = None
    while True:
        try:
            plan, planned, context = pipe.recv()
        except (EOFError, OSError):  # the program has gone
            return
        try:
            trials = trials or factory(*factory_args)
            reporter = WorkerReporter(lambda *news: pipe.send(("news", *news)))
            pipe.send(("row", trials.train(plan, planned, context, reporter)))
        except Exception as e:  # noqa: BLE001  (any error of one run: sent back, the worker goes on)
            pipe.send(("error", f"{type(e).__name__}: {e}", traceback.format_exc()))


def _leave_with_the_program(program: int) -> None:
    """End this worker within PARENT_CHECK seconds of the program that started it (`program`, a process id)
    going away without stopping it (killed, crashed): an orphan would go on training a run nobody will log."""
    def watch():
        while os.getppid() == program:
            time.sleep(PARENT_CHECK)
        os._exit(1)

    threading.Thread(target=watch, daemon=True, name="watching the program").start()


class WorkerReporter:
    """A worker's reporter: its runs' epochs told to the program (`tell(planned, stage, epoch, epochs, logs)`),
    which relays them to the screen."""

    def __init__(self, tell):
        self.tell = tell

    def callbacks_for(self, planned):
        from common.keras_setup import keras  # TensorFlow: a worker starts in a moment without it (tests' fakes)

        def callbacks(stage: str = "") -> list:
            told = keras.callbacks.LambdaCallback()
            told.on_epoch_end = lambda epoch, logs=None: self.tell(
                planned, stage, epoch + 1, told.params.get("epochs") or 0,
                {name: float(value) for name, value in (logs or {}).items() if name in SHOWN})
            return [told]
        return callbacks

    def warn(self, message: str) -> None:
        pass


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
