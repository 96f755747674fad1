"""Where a program's time goes: seconds per phase (training steps, validation, batch-normalisation statistics,
saving and logging, ...), kept for the whole process.

Phases nest: entering one pauses the phase it interrupts, so each second counts once. With the environment
variable WORKBENCH_PHASES set to a file name, the programs write the totals and the timeline there as JSON when
they end (`benchmarks/run_phases.py` reads it); otherwise this only adds up a few numbers.
"""

import contextlib
import json
import os
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

ENVIRONMENT = "WORKBENCH_PHASES"  # file to write the phases to at exit, when set
SAVING = "saving and logging"  # writing run-log rows and model files

_totals: dict[str, float] = defaultdict(float)  # phase -> seconds
_timeline: list[tuple[str, float, float]] = []  # (phase, start, end) in seconds since the epoch, in order
_stack: list[tuple[str, float]] = []  # open phases, innermost last, with when each last (re)started


def enter(name: str) -> None:
    """Start phase `name`, pausing the one it interrupts."""
    now = time.time()
    if _stack:
        _close(*_stack[-1], now)
    _stack.append((name, now))


def leave(name: str) -> None:
    """End phase `name` (and any phase left open inside it), resuming the one it interrupted."""
    if not any(open_name == name for open_name, _ in _stack):
        return
    now = time.time()
    while _stack:
        open_name, since = _stack.pop()
        _close(open_name, since, now)
        if open_name == name:
            break
    if _stack:
        _stack[-1] = (_stack[-1][0], now)


@contextmanager
def phase(name: str):
    """The block's time counts as `name`."""
    enter(name)
    try:
        yield
    finally:
        leave(name)


def totals() -> dict[str, float]:
    """Seconds per finished phase so far."""
    return dict(_totals)


def write_if_asked() -> None:
    """Write the totals and the timeline to the file named by WORKBENCH_PHASES, if it is set."""
    target = os.environ.get(ENVIRONMENT)
    if not target:
        return
    with contextlib.suppress(OSError):  # a measurement aid: never a reason to fail the program
        Path(target).write_text(json.dumps({"totals": totals(), "timeline": _timeline}))


def _close(name: str, since: float, now: float) -> None:
    _totals[name] += now - since
    _timeline.append((name, since, now))
