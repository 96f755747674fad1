"""The CSV run log: one row per training run, appended the moment the run ends.

Appends are single `write` calls on a file opened for appending, synced to disk, so a crash or Ctrl-C can at
worst leave the last line cut short; readers skip such a line with a warning. Rewrites (adding a column, filling
in a value later) go through a temporary file and an atomic rename, so earlier rows are never at risk.

Several programs may use one log at once (a study in one terminal, the menu in another): every change holds an
operating-system lock on a file beside the log (`.NAME.lock`) from its read to its write, so no program's rows or
updates are lost to another's rewrite, and reads hold it too, so none sees half an append.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from common import phases
from common.errors import UserError
from common.tracking.csv_file import CsvFile, cell
from models.config.settings import flat


@dataclass(frozen=True)
class Column:
    """One column of a run log: the key in a run's row dict and its header in the CSV file."""
    key: str
    header: str
    numeric: bool = True  # convert to numbers when reading
    in_table: bool = True  # shown by "Show the run log" (long paths and ids are not)
    missing: object = None  # the value of rows written before the column existed (None: left empty)
    boolean: bool = False  # a yes / no column, read as True / False


def new_run_id() -> str:
    """A run's id: when it started, and six random hex digits."""
    return f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:6]}"


def run_row(config, metrics: dict, context: dict, run_id: str | None = None) -> dict:
    """A run's log row: `flat(config) | metrics | context` (flat: asdict with a group's settings under their own
    names, models/config/settings.py), when it ended and its run id (a new one unless given).
    `metrics` are what the run measured (TrainedRun.metrics()), `context` where it came from."""
    return {**flat(config), **metrics, **context, "timestamp": datetime.now().isoformat(timespec="seconds"),
            "run_id": run_id or new_run_id()}


class RunLog:
    """A CSV file of runs with a fixed column order; tolerant of older or hand-edited files. A row's key that no
    column names is written all the same, under its own name at the end: nothing a run measures is dropped (the
    tests check that every value has its column, tests/conftest.py)."""

    def __init__(self, path, columns: list[Column]):
        self.path = Path(path)
        self.file = CsvFile(self.path)
        self.columns = columns
        self._header_of = {c.key: c.header for c in columns}

    def append(self, row: dict) -> list[str]:
        """Append one run; return warnings about the existing file (e.g. columns it lacked and now has).
        Raises UserError when the file cannot be written."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with phases.phase(phases.SAVING), self.file.locked():
                return self._append(row)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be written ({e.strerror or e})") from None

    def _append(self, row: dict) -> list[str]:
        values = {self._header_of.get(k, k): v for k, v in row.items()}
        header, notes = self._ensure_header(list(values))
        self.file.append([cell(values.get(h)) for h in header])
        return notes

    def update(self, run_id: str, values: dict) -> bool:
        """Fill in values of the run whose `run_id` column matches; False if no such run is in the file.
        Raises UserError when the file cannot be rewritten."""
        try:
            with phases.phase(phases.SAVING), self.file.locked():
                return self._update(run_id, values)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be updated ({e.strerror or e})") from None

    def _update(self, run_id: str, values: dict) -> bool:
        if not self.path.exists():
            return False
        header, rows = self.file.rows()
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
            targets[0][header.index(name)] = cell(value)
        self.file.rewrite(header, rows)
        return True

    def read(self) -> tuple[pd.DataFrame, list[str]]:
        """All well-formed runs as a DataFrame keyed by column key, and warnings about anything skipped."""
        keys = [c.key for c in self.columns]
        if not self.path.exists():
            return pd.DataFrame(columns=keys), []
        notes = []
        try:
            with self.file.locked(reading=True):
                header, rows = self.file.rows(notes)
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
            if c.boolean:
                frame[c.key] = frame[c.key].map(lambda v: str(v).strip().lower() in ("yes", "true", "1"))
            elif c.numeric:
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

    def _ensure_header(self, written: list[str]) -> tuple[list[str], list[str]]:
        """The file's header, written or widened first so that every column of ours and every header `written`
        (a row's: one the columns lack is added at the end, never dropped) is in it."""
        ours = [c.header for c in self.columns]
        ours += [h for h in written if h not in ours]
        if not self.path.exists() or self.path.stat().st_size == 0:
            self.file.rewrite(ours, [])
            return ours, []
        header, rows = self.file.rows()
        missing = [h for h in ours if h not in header]
        if not missing:
            return header, []
        for r in rows:
            if len(r) == len(header):
                r.extend([""] * len(missing))
        self.file.rewrite(header + missing, rows)
        return header + missing, [f"{self.path}: added columns {', '.join(missing)} to an older log"]
