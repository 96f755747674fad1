"""The tuning tables: runs on the tuning seeds with the settings tried side by side, each setting's mean validation
accuracy over its seeds computed from the printed (rounded) values, and the setting chosen (the highest mean)
marked. Only validation accuracy is read: the test set of a tuning seed is never looked at."""

import csv
import math
import statistics
from collections.abc import Callable
from pathlib import Path

DIGITS = 4  # validation accuracy as printed; means are computed from these values


def logged_rows(log: Path, version: str) -> list[dict]:
    """The rows of a run log made by the training code of `version`."""
    if not log.exists():
        return []
    with log.open(newline="") as f:
        return [row for row in csv.DictReader(f) if row.get("Recipe_Version") == version]


def matches(row: dict, where: dict[str, str]) -> bool:
    """Whether every column of `where` holds its value in `row` (numbers compared as numbers)."""
    return all(same(row.get(column, ""), value) for column, value in where.items())


def same(cell: str, value: str) -> bool:
    try:
        return float(cell) == float(value)
    except ValueError:
        return cell == value


def tuning_table(log: Path, version: Callable[[], str], varied: tuple[tuple[str, str], ...],
                 where: dict[str, str], note: str, seeds: int = 3, most_minutes: float = math.inf,
                 among: dict[str, str] | None = None) -> Callable[[], tuple[list[dict], list[str]]]:
    """A tuning table's collect: the runs of `log` at this code matching `where`, a row per run with its `varied`
    columns ((log column, header); keyed by the column in lower case) first, then each setting's mean ± sd over
    its seeds; the chosen one marked among the settings run on all `seeds` seeds, each run within `most_minutes`
    and matching `among` (the ablations a table shows beside its arm are not its choices)."""
    def collect() -> tuple[list[dict], list[str]]:
        code = version()
        runs: dict[tuple, dict[str, dict]] = {}  # setting -> seed -> its latest row
        for row in logged_rows(log, code):
            if matches(row, where):
                runs.setdefault(tuple(row.get(column, "") for column, _ in varied), {})[row["Seed"]] = row
        rows, means = [], {}
        for setting, by_seed in runs.items():
            shown = dict(zip((column.lower() for column, _ in varied), (value or "–" for value in setting)))
            accuracies = []
            for seed, row in sorted(by_seed.items(), key=lambda item: int(item[0])):
                accuracies.append(round(float(row["Val_Accuracy"]), DIGITS))
                rows.append({**shown, "seed": seed, "epochs": row["Fine_Tune_Epochs"],
                             "val_accuracy": f"{accuracies[-1]:.{DIGITS}f}",
                             "minutes": f"{float(row['Wall_Time']) / 60:.1f}", "chosen": "", "code": code})
            mean = statistics.mean(accuracies)
            if len(accuracies) == seeds and all(float(r["Wall_Time"]) / 60 <= most_minutes and matches(r, among or {})
                                                for r in by_seed.values()):
                means[setting] = mean
            spread = f" ± {statistics.stdev(accuracies):.{DIGITS}f}" if len(accuracies) > 1 else ""
            rows.append({**shown, "seed": f"mean of {len(accuracies)}", "epochs": "",
                         "val_accuracy": f"{mean:.{DIGITS}f}{spread}", "minutes": "", "chosen": "",
                         "code": ""})
        if means:
            best = dict(zip((column.lower() for column, _ in varied),
                            (value or "–" for value in max(means, key=means.get))))
            for row in rows:
                if row["seed"].startswith("mean") and all(row[key] == value for key, value in best.items()):
                    row["chosen"] = "chosen"
        return rows, [note, "Validation accuracy on 1,000 held-out images of each tuning seed (the test set is not "
                            "looked at); minutes of the whole run, two runs at a time on the 2 cores; the mean "
                            "over the seeds from the printed values; chosen: the highest mean of the settings run on "
                            f"all {seeds} seeds" + ("" if math.isinf(most_minutes) else
                                                    f", each run within {most_minutes:.0f} minutes") + "."]
    return collect


def tuning_columns(varied: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    """The docs' columns of a tuning table: its varied settings ((log column, header)), then the run's."""
    length = () if any(column == "Fine_Tune_Epochs" for column, _ in varied) else (("epochs", "epochs"),)
    return (*((column.lower(), header) for column, header in varied), ("seed", "seed"), *length,
            ("val_accuracy", "validation accuracy"), ("minutes", "minutes"), ("chosen", "chosen"), ("code", "code"))
