"""The CSV run log: one row per training run, appended the moment the run ends.

Appends are single `write` calls on a file opened for appending, synced to disk, so a crash or Ctrl-C can at
worst leave the last line cut short; readers skip such a line with a warning. Rewrites (adding a column, filling
in a value later) go through a temporary file and an atomic rename, so earlier rows are never at risk.
"""

import csv
import io
import os
from dataclasses import dataclass, fields
from pathlib import Path

import pandas as pd

from common.errors import UserError


@dataclass(frozen=True)
class Column:
    """One column of a run log: the key in a run's row dict and its header in the CSV file."""
    key: str
    header: str
    numeric: bool = True  # convert to numbers when reading
    in_table: bool = True  # shown by "Show the run log" (long paths and ids are not)


def hyperparameter_columns(config_type) -> list[Column]:
    """Columns for a hyperparameter dataclass, headed by each field's `column` metadata."""
    return [Column(f.name, f.metadata["column"]) for f in fields(config_type)]


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
            return self._append(row)
        except OSError as e:
            raise UserError(f"{self.path}: cannot be written ({e.strerror or e})") from None

    def _append(self, row: dict) -> list[str]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
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
        header, rows = self._raw()
        notes = []
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

    def _raw(self) -> tuple[list[str], list[list[str]]]:
        """The header and the other rows as lists of strings."""
        with open(self.path, newline="", encoding="utf-8", errors="replace") as f:
            rows = [r for r in csv.reader(f)]
        return (rows[0] if rows else []), rows[1:]

    def _rewrite(self, header: list[str], rows: list[list[str]]) -> None:
        """Replace the file atomically with this header and these rows."""
        partial = self.path.with_name(f".{self.path.name}.partial")
        with open(partial, "w", newline="", encoding="utf-8") as f:
            f.write(_csv_line(header))
            f.writelines(_csv_line(r) for r in rows)
            f.flush()
            os.fsync(f.fileno())
        os.replace(partial, self.path)


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
