"""A CSV file that several programs read and change at once: an operating-system lock beside it (`.NAME.lock`)
held from each read to its write, appends in one synced `write`, rewrites through a temporary file and a rename."""

import csv
import errno
import io
import json
import os
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from common.errors import UserError
from common.files import replace_atomically

LOCK_TIMEOUT = 60.0  # seconds to wait for another program's change of the same file
FIELD_LIMIT = 1 << 24  # characters in one CSV field: Python's default (131,072) would stop at a long hand edit


class CsvFile:
    """One CSV file on disk: its rows as lists of strings."""

    def __init__(self, path: Path):
        self.path = Path(path)

    def append(self, cells: list[str]) -> None:
        """Append one row, synced to disk (after a newline if the file's last line lacks one). A write the system
        cuts short is carried on; one that fails (a full disk) takes back what it wrote and raises OSError, so the
        file never keeps half a row."""
        line = _csv_line(cells)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if _ends_without_newline(self.path):
                line = "\n" + line
            try:
                _write_all(fd, line.encode())
                os.fsync(fd)
            except OSError:
                os.ftruncate(fd, size)
                raise
        finally:
            os.close(fd)

    @contextmanager
    def locked(self, reading: bool = False):
        """Hold the log's lock for the block; UserError if another program keeps it past LOCK_TIMEOUT. A reader
        in a folder where no lock file can be made (read-only) reads without one."""
        lock = FileLock(self.path.with_name(f".{self.path.name}.lock"), timeout=LOCK_TIMEOUT, preserve_lock_file=True)
        try:
            lock.acquire()
        except Timeout:
            raise UserError(f"{self.path}: another program has held its lock ({lock.lock_file}) for "
                            f"{LOCK_TIMEOUT:.0f} s; try again when it is done") from None
        except OSError:
            if not reading:
                raise
            yield
            return
        try:
            yield
        finally:
            lock.release()

    def rows(self, notes: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
        """The header and the other rows as lists of strings. A line the CSV reader cannot parse is skipped with
        a note when `notes` is given (reading); otherwise (before a rewrite) it is an error, so no rewrite ever
        drops it."""
        if not self.path.is_file():
            raise UserError(f"{self.path}: is not a regular file, expected a CSV run log")
        rows = []
        errors = "replace" if notes is not None else "surrogateescape"  # a rewrite keeps every byte
        with _long_fields(), open(self.path, newline="", encoding="utf-8", errors=errors) as f:
            reader = csv.reader(f)
            while True:
                try:
                    rows.append(next(reader))
                except StopIteration:
                    break
                except csv.Error as e:
                    if notes is None:
                        raise UserError(f"{self.path}: line {reader.line_num} is not valid CSV ({e}): the log is "
                                        f"left as it is; mend or move that line") from None
                    notes.append(f"{self.path}: line {reader.line_num} is not valid CSV ({e}): skipped")
        return (rows[0] if rows else []), rows[1:]

    def rewrite(self, header: list[str], rows: list[list[str]]) -> None:
        """Replace the file atomically with this header and these rows, synced to disk; bytes that are not UTF-8
        (a hand edit) are written back as they were read."""
        def write(partial):
            with open(partial, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
                f.write(_csv_line(header))
                f.writelines(_csv_line(r) for r in rows)
                f.flush()
                os.fsync(f.fileno())

        replace_atomically(self.path, write)


@contextmanager
def _long_fields():
    """Let the CSV reader take fields of up to FIELD_LIMIT characters meanwhile (the limit is the process's)."""
    before = csv.field_size_limit(FIELD_LIMIT)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def cell(value) -> str:
    """A value as the log writes it: floats to 6 significant digits, None empty, lists and dicts as JSON."""
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte: `os.write` may write fewer than it is given (a signal, a nearly full disk); a write of
    nothing at all is a full disk."""
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        if written <= 0:
            raise OSError(errno.ENOSPC, "no space left: nothing could be written")
        view = view[written:]


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1) != b"\n"
