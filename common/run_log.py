"""The CSV run log: one row per training run, appended the moment the run ends.

Appends are single `write` calls on a file opened for appending, synced to disk, so a crash or Ctrl-C can at
worst leave the last line cut short; readers skip such a line with a warning. Rewrites (adding a column, filling
in a value later) go through a temporary file and an atomic rename, so earlier rows are never at risk.

Several programs may use one log at once (a study in one terminal, the menu in another): every change holds an
operating-system lock on a file beside the log (`.NAME.lock`) from its read to its write, so no program's rows or
updates are lost to another's rewrite, and reads hold it too, so none sees half an append.
"""

import csv
import io
import os
import uuid
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import datetime
from pathlib import Path

import pandas as pd
from filelock import FileLock, Timeout

from common import phases
from common.errors import UserError
from common.files import replace_atomically

LOCK_TIMEOUT = 60.0  # seconds to wait for another program's change of the same log
FIELD_LIMIT = 1 << 24  # characters in one CSV field: Python's default (131,072) would stop at a long hand edit
csv.field_size_limit(FIELD_LIMIT)


@dataclass(frozen=True)
class Column:
    """One column of a run log: the key in a run's row dict and its header in the CSV file."""
    key: str
    header: str
    numeric: bool = True  # convert to numbers when reading
    in_table: bool = True  # shown by "Show the run log" (long paths and ids are not)
    missing: object = None  # the value of rows written before the column existed (None: left empty)


def hyperparameter_columns(config_type) -> list[Column]:
    """Columns for a hyperparameter dataclass, headed by each field's `column` metadata; named choices are text."""
    return [Column(f.name, f.metadata["column"], numeric="choices" not in f.metadata) for f in fields(config_type)]


def new_run_id() -> str:
    """A run's id: when it started, and six random hex digits."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_row(config, history: dict, seconds: float, interrupted: bool, values: dict, run_id: str | None = None
            ) -> dict:
    """A run's log row: its hyperparameters (`asdict(config)`), its training time, `values` (metrics and where the
    run came from), the epochs it finished, whether Ctrl-C ended it, when it ended and its run id (a new one
    unless given)."""
    return {**asdict(config), "train_time": round(seconds, 2), **values,
            "epochs_done": len(next(iter(history.values()), [])), "interrupted": "yes" if interrupted else "",
            "timestamp": datetime.now().isoformat(timespec="seconds"), "run_id": run_id or new_run_id()}


class RunLog:
    """A CSV file of runs with a fixed column order; tolerant of older or hand-edited files."""

    def __init__(self, path, columns: list[Column]):
        self.path = Path(path)
        self.columns = columns
        self._header_of = {c.key: c.header for c in columns}

    def append(self, row: dict) -> list[str]:
        """Append one run; return warnings about the existing file (e.g. columns it lacked and now has).
        Raises UserError when the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with phases.phase(phases.SAVING), self._locked():
                return self._append(row)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be written ({e.strerror or e})") from None

    def _append(self, row: dict) -> list[str]:
        header, notes = self._ensure_header()
        values = {self._header_of.get(k, k): v for k, v in row.items()}
        line = _csv_line([_cell(values.get(h)) for h in header])
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if _ends_without_newline(self.path):
                line = "\n" + line
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return notes

    def update(self, run_id: str, values: dict) -> bool:
        """Fill in values of the run whose `run_id` column matches; False if no such run is in the file.
        Raises UserError when the file cannot be rewritten."""
        try:
            with phases.phase(phases.SAVING), self._locked():
                return self._update(run_id, values)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be updated ({e.strerror or e})") from None

    def _update(self, run_id: str, values: dict) -> bool:
        if not self.path.exists():
            return False
        header, rows = self._raw()
        id_header = self._header_of["run_id"]
        if id_header not in header:
            return False
        at = header.index(id_header)
        targets = [r for r in rows if len(r) == len(header) and r[at] == run_id]
        if not targets:
            return False
        for key, value in values.items():
            name = self._header_of.get(key, key)
            if name not in header:
                header.append(name)
                for r in rows:
                    if len(r) == len(header) - 1:
                        r.append("")
            targets[0][header.index(name)] = _cell(value)
        self._rewrite(header, rows)
        return True

    def read(self) -> tuple[pd.DataFrame, list[str]]:
        """All well-formed runs as a DataFrame keyed by column key, and warnings about anything skipped."""
        keys = [c.key for c in self.columns]
        if not self.path.exists():
            return pd.DataFrame(columns=keys), []
        notes = []
        try:
            with self._locked(reading=True):
                header, rows = self._raw(notes)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be read ({e.strerror or e})") from None
        good = []
        for number, r in enumerate(rows, start=2):
            if len(r) == len(header):
                good.append(r)
            elif any(cell.strip() for cell in r):
                notes.append(f"{self.path}: line {number} has {len(r)} fields, expected {len(header)}: skipped")
        frame = pd.DataFrame(good, columns=header).rename(columns={c.header: c.key for c in self.columns})
        missing = [c for c in self.columns if c.key not in frame.columns]
        if missing and header:
            notes.append(f"{self.path}: no column {', '.join(c.header for c in missing)} (older log?): "
                         f"left empty")
        for c in missing:
            frame[c.key] = pd.NA
        for c in self.columns:
            if c.missing is not None:
                empty = frame[c.key].isna() | (frame[c.key].astype(str).str.strip() == "")
                frame[c.key] = frame[c.key].astype(object).where(~empty, c.missing)
            if c.numeric:
                notes += self._to_numbers(frame, c)
        return frame, notes

    def _to_numbers(self, frame: pd.DataFrame, column: Column) -> list[str]:
        """Convert a column to numbers in place; warn about cells that are not numbers."""
        raw = frame[column.key]
        numbers = pd.to_numeric(raw, errors="coerce")
        bad = numbers.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        frame[column.key] = numbers
        return [f"{self.path}: line {i + 2}: {column.header} is not a number ({raw[i]!r}): ignored"
                for i in frame.index[bad]]

    def _ensure_header(self) -> tuple[list[str], list[str]]:
        """The file's header, written or widened first so that every column of ours is in it."""
        ours = [c.header for c in self.columns]
        if not self.path.exists() or self.path.stat().st_size == 0:
            self._rewrite(ours, [])
            return ours, []
        header, rows = self._raw()
        missing = [h for h in ours if h not in header]
        if not missing:
            return header, []
        for r in rows:
            if len(r) == len(header):
                r.extend([""] * len(missing))
        self._rewrite(header + missing, rows)
        return header + missing, [f"{self.path}: added columns {', '.join(missing)} to an older log"]

    @contextmanager
    def _locked(self, reading: bool = False):
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

    def _raw(self, notes: list[str] | None = None) -> tuple[list[str], list[list[str]]]:
        """The header and the other rows as lists of strings. A line the CSV reader cannot parse is skipped with
        a note when `notes` is given (reading); otherwise (before a rewrite) it is an error, so no rewrite ever
        drops it."""
        if not self.path.is_file():
            raise UserError(f"{self.path}: is not a regular file, expected a CSV run log")
        rows = []
        errors = "replace" if notes is not None else "surrogateescape"  # a rewrite keeps every byte
        with open(self.path, newline="", encoding="utf-8", errors=errors) as f:
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

    def _rewrite(self, header: list[str], rows: list[list[str]]) -> None:
        """Replace the file atomically with this header and these rows, synced to disk; bytes that are not UTF-8
        (a hand edit) are written back as they were read."""
        def write(partial):
            with open(partial, "w", newline="", encoding="utf-8", errors="surrogateescape") as f:
                f.write(_csv_line(header))
                f.writelines(_csv_line(r) for r in rows)
                f.flush()
                os.fsync(f.fileno())

        replace_atomically(self.path, write)


def _csv_line(cells) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _ends_without_newline(path: Path) -> bool:
    size = path.stat().st_size
    if size == 0:
        return False
    with open(path, "rb") as f:
        f.seek(size - 1)
        return f.read(1) != b"\n"
