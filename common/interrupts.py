"""Ctrl-C noted, then acted on where it is safe.

Python raises KeyboardInterrupt wherever the main thread happens to be when the signal arrives; inside a destructor
or a weakref callback (a dropped data iterator, a finished future) it prints the exception and carries on, and the
user's Ctrl-C is lost. Code that runs a long time (a fit, a pool of workers) notes the first Ctrl-C instead and
raises KeyboardInterrupt itself at its next safe point; a second Ctrl-C interrupts at once as usual.
"""

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager


@contextmanager
def ctrl_c_noted(note: Callable[[], None]) -> Iterator[None]:
    """While the block runs, a first Ctrl-C only calls `note()` (and puts Python's handler back, so that a second
    one interrupts at once). Outside the main thread, where signals cannot be handled, nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.getsignal(signal.SIGINT)

    def noted(signum, frame):
        note()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, noted)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextmanager
def ctrl_c_ignored() -> Iterator[None]:
    """While the block runs, Ctrl-C does nothing; processes started in it begin with Ctrl-C ignored (a Python
    started so installs no KeyboardInterrupt handler), so the terminal's Ctrl-C reaches only their parent."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
