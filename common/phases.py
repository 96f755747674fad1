"""Where a program's time goes: seconds per phase (training steps, validation, batch-normalisation statistics,
saving and logging, ...).

Phases nest: entering one pauses the phase it interrupts, so each second counts once. The code that spends the
time says so with `phase(name)` (or `enter` / `leave`); what it is counted into is the recorder of the program run
in progress, which `recording()` opens (the programs open one for their whole run, common/ui/cli/main.py; a
benchmark or a test may open its own). Without one open, nothing is counted. A recorder keeps the totals; it keeps
the timeline of every phase only when asked to (`timeline=True`), so that a long run does not grow a list for
nobody. With the environment variable WORKBENCH_PHASES set to a file name, the programs record the timeline too and
write both there as JSON when they end (`benchmarks/run_phases.py` reads it).
"""

import contextlib
import json
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

ENVIRONMENT = "WORKBENCH_PHASES"  # file to write the phases to at exit, when set
SAVING = "saving and logging"  # writing run-log rows and model files


class Recorder:
    """The phases of one program run: totals, open phases, and the timeline when it is kept."""

    def __init__(self, timeline: bool = False):
        self.totals: dict[str, float] = defaultdict(float)  # phase -> seconds
        self.timeline: list[tuple[str, float, float]] | None = [] if timeline else None  # (phase, start, end)
        self.stack: list[tuple[str, float]] = []  # open phases, innermost last, with when each last (re)started

    def enter(self, name: str) -> None:
        now = time.time()
        if self.stack:
            self._close(*self.stack[-1], now)
        self.stack.append((name, now))

    def leave(self, name: str) -> None:
        if not any(open_name == name for open_name, _ in self.stack):
            return
        now = time.time()
        while self.stack:
            open_name, since = self.stack.pop()
            self._close(open_name, since, now)
            if open_name == name:
                break
        if self.stack:
            self.stack[-1] = (self.stack[-1][0], now)

    def _close(self, name: str, since: float, now: float) -> None:
        self.totals[name] += now - since
        if self.timeline is not None:
            self.timeline.append((name, since, now))


_current: ContextVar[Recorder | None] = ContextVar("phases", default=None)


@contextmanager
def recording(timeline: bool | None = None):
    """Count the phases of the block into a new Recorder (yielded): the timeline too when `timeline`, or, when
    None, when WORKBENCH_PHASES asks for the phases to be written."""
    recorder = Recorder(bool(os.environ.get(ENVIRONMENT)) if timeline is None else timeline)
    token = _current.set(recorder)
    try:
        yield recorder
    finally:
        _current.reset(token)


def enter(name: str) -> None:
    """Start phase `name`, pausing the one it interrupts."""
    recorder = _current.get()
    if recorder is not None:
        recorder.enter(name)


def leave(name: str) -> None:
    """End phase `name` (and any phase left open inside it), resuming the one it interrupted."""
    recorder = _current.get()
    if recorder is not None:
        recorder.leave(name)


@contextmanager
def phase(name: str):
    """The block's time counts as `name`."""
    enter(name)
    try:
        yield
    finally:
        leave(name)


def totals() -> dict[str, float]:
    """Seconds per finished phase so far, in the recording open now (none: empty)."""
    recorder = _current.get()
    return dict(recorder.totals) if recorder is not None else {}


def write_if_asked(recorder: Recorder) -> None:
    """Write the recorder's totals and timeline to the file named by WORKBENCH_PHASES, if it is set."""
    target = os.environ.get(ENVIRONMENT)
    if not target:
        return
    with contextlib.suppress(OSError):  # a measurement aid: never a reason to fail the program
        Path(target).write_text(json.dumps({"totals": dict(recorder.totals), "timeline": recorder.timeline or []}))
