"""One retry policy for a plan's runs on several workers, whatever starts them: processes on this machine
(common/study/parallel.py, `--workers N`) or Ray actors (common/study/ray_workers.py, `--ray`).

Each idle worker is handed the next run and each finished run is yielded as it arrives. A run that failed in its
worker (an error) or whose worker died under it (killed, out of memory) is charged one attempt and queued again, up
to ATTEMPTS, then reported and left out; a dead worker is replaced by a new one. A run is only ever charged for what
happened while it was running: runs still waiting are untouched by another run's crash. A Ctrl-C noted meanwhile is
raised between waits, after the runs already finished are yielded, and every worker is stopped on the way out.
"""

import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from common.interrupts import ctrl_c_noted

ATTEMPTS = 2  # a run is tried at most this many times
POLL_SECONDS = 0.2  # how often the workers' news is relayed and a noted Ctrl-C looked for


@dataclass(frozen=True)
class Outcome:
    """How a run handed to a worker ended."""
    row: dict | None = None  # its log row, when it finished
    why: str = ""  # otherwise what happened: "failed", "its worker stopped"
    detail: str = ""  # and the details: "RuntimeError: out of memory", "killed or out of memory"
    lost: bool = False  # the worker died: a new one takes its place
    trace: str = ""  # an error's traceback, as the worker saw it


class WorkerPool(Protocol):
    """What runs the runs: `count` workers, numbered from 0."""
    count: int

    def start(self, slot: int) -> None:
        """Start worker `slot`, in place of the one there (ended first, if any)."""

    def submit(self, slot: int, plan, planned, context: dict) -> None:
        """Hand run `planned` to worker `slot`, which is idle."""

    def wait(self, timeout: float, reporter) -> list[tuple[int, Outcome]]:
        """The runs that ended within `timeout` seconds, by worker; news of the others goes to
        `reporter.working`."""

    def stop(self) -> None:
        """End every worker now."""


def dispatch(pool: WorkerPool, plan, todo: list, context: dict, reporter, folder: Path | None = None
             ) -> Iterator[tuple[object, dict]]:
    """Yield (planned run, its log row) as `pool`'s workers finish the runs of `todo`, in any order. An error's
    traceback is kept in a file under `folder` (the run log's), which the warning names."""
    queue = deque(todo)
    attempts = dict.fromkeys(todo, 0)
    running = {}
    idle = list(reversed(range(pool.count)))
    asked = []
    try:
        with ctrl_c_noted(lambda: asked.append(True)):
            for slot in range(pool.count):
                pool.start(slot)
            while queue or running:
                while queue and idle:
                    slot = idle.pop()
                    planned = queue.popleft()
                    running[slot] = planned
                    pool.submit(slot, plan, planned, context)
                    reporter.working(slot + 1, planned, "", 0, 0, {})
                for slot, outcome in pool.wait(POLL_SECONDS, reporter):
                    planned = running.pop(slot)
                    if outcome.lost:
                        pool.start(slot)
                    idle.append(slot)
                    if outcome.row is not None:
                        yield planned, outcome.row
                        continue
                    attempts[planned] += 1
                    kept = keep_trace(folder, planned, attempts[planned], outcome.trace)
                    if attempts[planned] < ATTEMPTS:
                        queue.append(planned)
                    else:
                        where = f"; its traceback in {kept}" if kept else ""
                        reporter.warn(f"{name_of(planned)}: {outcome.why} {times(ATTEMPTS)} ({outcome.detail}"
                                      f"{where}); left out")
                if asked:  # after the finished runs: a Ctrl-C now still keeps them
                    raise KeyboardInterrupt
    finally:
        pool.stop()


def keep_trace(folder: Path | None, planned, attempt: int, trace: str) -> Path | None:
    """Write a failed run's traceback to `folder`/failed-RUN-ATTEMPT.txt; the path, or None when there is no
    traceback or it cannot be written (the warning then says what it can)."""
    if not trace or folder is None:
        return None
    path = Path(folder) / f"failed-{re.sub(r'[^A-Za-z0-9.]+', '-', name_of(planned)).strip('-')}-{attempt}.txt"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(trace)
    except OSError:
        return None
    return path


def times(n: int) -> str:
    return {1: "once", 2: "twice"}.get(n, f"{n} times")


def name_of(planned) -> str:
    """'filters 8, repeat 2': a planned run in a warning."""
    values = ", ".join(f"{name} {value}" for name, value in planned.values)
    return f"{values}, repeat {planned.repeat}{', ' + planned.arm if planned.arm else ''}"
