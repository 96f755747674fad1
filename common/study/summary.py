"""A study's table in numbers: per budget and arm, test accuracy (at the end and after stage 1) with its spread
over the repeats, and the differences between arms on the same seeds with their paired 95 % intervals."""

import math

import pandas as pd

from common.study.arms import DIFFERENCES, arm_of, names
from common.study.intervals import paired_interval


def summarize(rows: pd.DataFrame) -> pd.DataFrame:
    """Per budget: for each arm present, the mean, standard deviation and count of its test accuracy (`ARM_mean`,
    `ARM_sd`, `ARM_n`), of its test accuracy after stage 1 (`ARM_stage1_mean`, `ARM_stage1_sd`) and its wall time
    (`ARM_time`); for each of DIFFERENCES (common/study/arms.py) whose arms are both present, the mean and standard
    deviation of the difference over the seeds both have and its paired 95 % interval (`NAME_mean`, `NAME_sd`,
    `NAME_pairs`, `NAME_low`, `NAME_high`); the wall time of all the budget's runs (`wall_time`)."""
    rows = rows.assign(arm=[arm_of(row) for _, row in rows.iterrows()])
    present = [arm for arm in names() if (rows["arm"] == arm).any()]
    lines = []
    for labels, runs in rows.groupby("label_budget", sort=False):
        line = {"labels": int(labels), "labels_used": int(runs["labels_used"].max()),
                "wall_time": float(runs["wall_time"].sum())}
        by_arm = {}
        for arm in present:
            mine = runs[runs["arm"] == arm].set_index("seed")
            by_arm[arm] = accuracy = mine["test_accuracy"].astype(float)
            stage1 = _column(mine, "stage1_test_accuracy").dropna()
            line.update({f"{arm}_mean": accuracy.mean(), f"{arm}_sd": _sd(accuracy), f"{arm}_n": len(accuracy),
                         f"{arm}_stage1_mean": stage1.mean() if len(stage1) else math.nan,
                         f"{arm}_stage1_sd": _sd(stage1), f"{arm}_time": float(mine["wall_time"].sum())})
        for name, (a, b) in DIFFERENCES.items():
            if a in by_arm and b in by_arm:
                pairs = (by_arm[a] - by_arm[b]).dropna()
                mean = pairs.mean()
                sd = _sd(pairs)
                low, high = paired_interval(mean, sd, len(pairs))
                line.update({f"{name}_mean": mean, f"{name}_sd": sd, f"{name}_pairs": len(pairs),
                             f"{name}_low": low, f"{name}_high": high})
        lines.append(line)
    frame = pd.DataFrame(lines)
    if frame.empty:
        return frame
    return frame.sort_values("labels", key=lambda s: s.replace(0, math.inf)).reset_index(drop=True)


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    """A column as floats; all missing when the frame (rows logged before it existed) has none."""
    if name not in frame:
        return pd.Series(math.nan, index=frame.index, dtype=float)
    return pd.to_numeric(frame[name], errors="coerce")


def _sd(values: pd.Series) -> float:
    """Sample standard deviation; NaN for fewer than two values."""
    return float(values.std(ddof=1)) if len(values) > 1 else math.nan


def summarize_sweep(rows: pd.DataFrame, swept: tuple[str, ...], metrics: tuple[str, ...]) -> pd.DataFrame:
    """Per combination of the swept values, in the order of `rows`: the runs (`n`), the mean and sample standard
    deviation of each metric over them (`METRIC_mean`, `METRIC_sd`), and their wall time (`wall_time`)."""
    lines = []
    for values, runs in rows.groupby(list(swept), sort=False):
        line = dict(zip(swept, values if isinstance(values, tuple) else (values,)))
        line.update(n=len(runs), wall_time=float(_column(runs, "wall_time").sum()))
        for metric in metrics:
            column = _column(runs, metric).dropna()
            line.update({f"{metric}_mean": column.mean() if len(column) else math.nan,
                         f"{metric}_sd": _sd(column)})
        lines.append(line)
    return pd.DataFrame(lines)
