"""The answer table (`few-labels`): does attaching the autoencoder help with 100 and 1,000 labels? Every arm of the
label-budget study on the default autoencoder, reported seeds, each run's test accuracy printed; each arm's mean and
each paired difference computed from those printed values, with its 95 % interval; minutes a run; which of the
issue's targets the table meets. Its figure: validation accuracy against minutes, a curve per arm."""

import math
import statistics
from collections.abc import Callable
from pathlib import Path

from benchmarks.tuning import logged_rows
from common.study.intervals import excludes_zero, paired_interval

DIGITS = 4  # test accuracy as printed
SEEDS = (1, 2, 3, 4, 5)  # reported seeds; runs longer than LONG_MINUTES have the first three
LONG_MINUTES = 20
ARMS = {100: ("supervised", "scratch", "pretrained", "joint", "ladder-w0", "ladder", "ladder-nolateral",
              "ladder-scratch"),
        1000: ("supervised", "pretrained", "joint", "ladder-w0", "ladder")}
DIFFERENCES = (  # (a, b, what a − b measures)
    ("ladder", "ladder-w0", "the attached autoencoder's denoising costs, the network and steps the same"),
    ("pretrained", "scratch", "the pretrained weights, the assignment's way"),
    ("ladder", "ladder-scratch", "the pretrained weights under the ladder"),
    ("ladder", "ladder-nolateral", "the lateral connections"),
    ("ladder", "supervised", "the ladder against the labels alone"),
    ("ladder", "pretrained", "the ladder against the assignment's way"),
    ("ladder", "joint", "the ladder against the joint recipe"),
    ("joint", "supervised", "the joint recipe's unlabelled terms"))
TARGETS = {100: (0.990, 0.004), 1000: (0.992, None)}  # mean test accuracy of the ladder at least, sd at most
EARLY = (15.0, 0.985)  # the ladder's validation curve (median over seeds) by this minute at least this accuracy
MOST_MINUTES = 60.0  # a ladder run at most


def runs_by_arm(log: Path, version: str) -> dict[int, dict[str, dict[int, dict]]]:
    """budget -> arm -> seed -> its latest run at this code, reported seeds only."""
    found: dict[int, dict[str, dict[int, dict]]] = {}
    for row in logged_rows(log, version):
        seed = int(float(row["Seed"]))
        if seed in SEEDS and row.get("Arm"):
            found.setdefault(int(float(row["Labels"])), {}).setdefault(row["Arm"], {})[seed] = row
    return found


def accuracy_of(row: dict) -> float:
    return round(float(row["Test_Accuracy"]), DIGITS)


def answer_table(log: Path, version: Callable[[], str]) -> Callable[[], tuple[list[dict], list[str]]]:
    """The table's collect: per budget a row per arm, then a row per paired difference, then the targets."""
    def collect() -> tuple[list[dict], list[str]]:
        code = version()
        rows, notes = [], []
        for budget, arms in sorted(runs_by_arm(log, code).items()):
            for arm in (a for a in ARMS.get(budget, ()) if a in arms):
                rows.append(_arm_row(budget, arm, arms[arm], code))
            for a, b, _ in DIFFERENCES:
                if a in arms and b in arms:
                    rows.append(_difference_row(budget, a, b, arms[a], arms[b], code))
            notes.append(_targets(budget, arms.get("ladder", {})))
        notes.append(early(log.parent, code))
        return rows, [*NOTES, *(note for note in notes if note)]
    return collect


NOTES = ("Test accuracy of each reported seed (scored once, at the run's end), each arm's mean ± sd over its seeds "
         "from the printed values; a difference a − b paired by seed, its mean ± sd and Student's t 95 % interval "
         "(pairs − 1 degrees of freedom), * where the interval excludes 0: a finding; without *, no difference is "
         "shown. Minutes: the mean of a run, two runs at a time on the 2 cores.",)


def _arm_row(budget: int, arm: str, runs: dict[int, dict], code: str) -> dict:
    accuracies = [accuracy_of(runs[seed]) for seed in sorted(runs)]
    minutes = statistics.mean(float(run["Wall_Time"]) / 60 for run in runs.values())
    return {"labels": str(budget), "what": arm, **_by_seed({s: accuracy_of(r) for s, r in runs.items()}, "f"),
            "summary": _spread(accuracies), "minutes": f"{minutes:.1f}", "code": code}


def _difference_row(budget: int, a: str, b: str, first: dict[int, dict], second: dict[int, dict], code: str) -> dict:
    gains = {seed: round(accuracy_of(first[seed]) - accuracy_of(second[seed]), DIGITS)
             for seed in sorted(first) if seed in second}
    summary = ""
    if len(gains) > 1:
        mean, sd = statistics.mean(gains.values()), statistics.stdev(gains.values())
        low, high = paired_interval(mean, sd, len(gains))
        summary = (f"{mean:+.{DIGITS}f} ± {sd:.{DIGITS}f} [{low:+.{DIGITS}f}, {high:+.{DIGITS}f}]"
                   + (" *" if excludes_zero(low, high) else ""))
    return {"labels": str(budget), "what": f"{a} − {b}", **_by_seed(gains, "+f"), "summary": summary, "minutes": "",
            "code": code}


def _by_seed(values: dict[int, float], form: str) -> dict[str, str]:
    return {f"seed{seed}": format(values[seed], f"{form[:-1]}.{DIGITS}{form[-1]}") if seed in values else ""
            for seed in SEEDS}


def _spread(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.{DIGITS}f}"
    return f"{statistics.mean(values):.{DIGITS}f} ± {statistics.stdev(values):.{DIGITS}f}"


def _targets(budget: int, ladder: dict[int, dict]) -> str:
    """Which of the ladder's targets at this budget the table meets, with the figures."""
    if budget not in TARGETS or not ladder:
        return ""
    least, most_sd = TARGETS[budget]
    accuracies = [accuracy_of(run) for run in ladder.values()]
    mean = statistics.mean(accuracies)
    sd = statistics.stdev(accuracies) if len(accuracies) > 1 else math.nan
    minutes = max(float(run["Wall_Time"]) / 60 for run in ladder.values())
    said = [f"mean {mean:.{DIGITS}f} {'≥' if mean >= least else '<'} {least} ({'met' if mean >= least else 'missed'})"]
    if most_sd is not None and not math.isnan(sd):
        said.append(f"sd {sd:.{DIGITS}f} {'≤' if sd <= most_sd else '>'} {most_sd} "
                    f"({'met' if sd <= most_sd else 'missed'})")
    said.append(f"longest run {minutes:.1f} min {'≤' if minutes <= MOST_MINUTES else '>'} {MOST_MINUTES:.0f} "
                f"({'met' if minutes <= MOST_MINUTES else 'missed'})")
    return f"Targets, ladder, {budget:,} labels: " + "; ".join(said) + "."


COLUMNS = (("labels", "labels"), ("what", "arm, or difference a − b"),
           *((f"seed{seed}", f"seed {seed}") for seed in SEEDS), ("summary", "mean ± sd [95 % interval]"),
           ("minutes", "minutes a run"), ("code", "code"))


def curves(folder: Path, version: str) -> dict[int, dict[str, dict[int, list[tuple[float, float]]]]]:
    """budget -> arm -> seed -> [(minutes, validation accuracy)] of the runs at this code (their checkpoints), the
    arms without checkpoints (two stages) a single point at the run's end."""
    import pandas as pd  # only when the figure or the early target is computed

    runs = runs_by_arm(folder / "classification_loss_values.csv", version)
    ids = {row["Run_ID"]: (budget, arm, seed) for budget, arms in runs.items() for arm, seeds in arms.items()
           for seed, row in seeds.items()}
    found: dict[int, dict[str, dict[int, list[tuple[float, float]]]]] = {}
    path = folder / "validation_checkpoints.csv"
    points = pd.read_csv(path) if path.exists() else pd.DataFrame(columns=["Run_ID"])
    for run_id, steps in points.groupby("Run_ID"):
        if run_id in ids:
            budget, arm, seed = ids[run_id]
            found.setdefault(budget, {}).setdefault(arm, {})[seed] = list(zip(steps["Minutes"], steps["Val_Accuracy"]))
    for budget, arms in runs.items():
        for arm, seeds in arms.items():
            for seed, row in seeds.items():
                found.setdefault(budget, {}).setdefault(arm, {}).setdefault(
                    seed, [(float(row["Wall_Time"]) / 60, float(row["Val_Accuracy"]))])
    return found


def by_minute(points: list[tuple[float, float]], minute: float) -> float:
    """The validation accuracy of the last checkpoint at or before `minute` (nan before the first)."""
    before = [accuracy for minutes, accuracy in points if minutes <= minute]
    return before[-1] if before else math.nan


def early(folder: Path, version: str, budget: int = 100) -> str:
    """The early target: the ladder's median validation accuracy over its seeds by minute EARLY[0]."""
    seeds = curves(folder, version).get(budget, {}).get("ladder", {})
    if not seeds:
        return ""
    minute, least = EARLY
    median = statistics.median(by_minute(points, minute) for points in seeds.values())
    verdict = "met" if median >= least else "missed"
    return (f"Target, ladder, {budget} labels, by minute {minute:.0f} of its validation curve: median "
            f"{median:.3f} {'≥' if median >= least else '<'} {least} ({verdict}).")


def answer_figure(folder: Path, version: Callable[[], str]) -> Callable[[Path], Path | None]:
    """The figure: per budget, validation accuracy against minutes, a curve per arm (the median over its seeds at
    each checkpoint, the seeds' range shaded); two-stage arms a point at their end with its range."""
    def draw(path: Path) -> Path | None:
        from matplotlib.figure import Figure  # only when a figure is drawn

        from common.study.arms import ARM
        from common.ui.plots.plotting import save_figure

        found = curves(folder, version())
        if not found:
            return None
        fig = Figure(figsize=(6.5 * len(found), 4.8), layout="constrained")
        for ax, (budget, arms) in zip(fig.subplots(1, len(found), squeeze=False)[0], sorted(found.items())):
            for arm in (a for a in ARMS.get(budget, ()) if a in arms):
                _curve(ax, arms[arm], arm, ARM[arm].marker)
            if budget == 100:
                ax.plot([EARLY[0]], [EARLY[1]], "k+", markersize=14, label="target: 0.985 by minute 15")
            ax.set_title(f"{budget:,} labels")
            ax.set_xlabel("minutes of the run (two runs sharing the two cores)")
            ax.set_ylabel("validation accuracy (1,000 held-out images)")
            ax.set_ylim(0.8, 1.0)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=7, loc="lower right")
        return save_figure(fig, path)
    return draw


def _curve(ax, seeds: dict[int, list[tuple[float, float]]], label: str, marker: str) -> None:
    """An arm's median over its seeds at each checkpoint, the range shaded; one point with its range when the runs
    have a single point."""
    length = min(len(points) for points in seeds.values())
    minutes = [statistics.median(points[i][0] for points in seeds.values()) for i in range(length)]
    values = [[points[i][1] for points in seeds.values()] for i in range(length)]
    median = [statistics.median(v) for v in values]
    if length == 1:
        ax.errorbar(minutes, median, yerr=[[median[0] - min(values[0])], [max(values[0]) - median[0]]],
                    marker=marker, linestyle="none", capsize=3, label=f"{label} (its end)")
        return
    line, = ax.plot(minutes, median, marker=marker, markersize=3, label=label)
    ax.fill_between(minutes, [min(v) for v in values], [max(v) for v in values], color=line.get_color(), alpha=0.15)
