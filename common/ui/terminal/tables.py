"""Rich tables: a run's summary, the run log, and a classification report."""


import pandas as pd
from rich import box
from rich.console import Group
from rich.table import Table

from common.study.arms import ARM, DIFFERENCES
from common.study.intervals import excludes_zero
from models.config.fields import shown
from models.config.names import flag
from models.config.settings import in_effect, value_of


def run_summary(title: str, config, results: dict[str, object]) -> Table:
    """The hyperparameters in effect (models/config.py, `in_effect`) and the results of one run, two columns."""
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for f in in_effect(config):
        table.add_row(f.metadata["label"], shown(value_of(config, f.name)))
    for name, value in results.items():
        table.add_row(name, _format(value))
    return table


def run_log_table(runs: pd.DataFrame, columns, title: str, last: int = 20) -> Table:
    """The last runs of a log, one row each, with the log's headers."""
    shown = [c for c in columns if c.in_table and c.key in runs.columns and runs[c.key].notna().any()]
    table = Table(title=title)
    for c in shown:
        table.add_column(c.header, justify="right" if c.numeric else "left", overflow="fold")
    for _, run in runs.tail(last).iterrows():
        table.add_row(*(_format(run[c.key]) for c in shown))
    return table


def classification_report(per_class: list[dict], accuracy: float, loss: float, correct: int, wrong: int,
                          names: list[str] | None = None) -> Table:
    """Precision, recall, F1 and support per class (named by `names`, else by number), with the overall figures
    as a caption."""
    table = Table(title="Test set: per-class report",
                  caption=f"accuracy {accuracy:.4f}   loss {loss:.4f}   correct {correct}   wrong {wrong}")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for row in per_class:
        table.add_row(names[row["label"]] if names else str(row["label"]), f"{row['precision']:.4f}",
                      f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      str(row["support"]))
    return table


def _format(value) -> str:
    if isinstance(value, bool):
        return shown(value)
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def label_study_table(summary: pd.DataFrame, title: str, caption: str = "") -> Group:
    """Per budget and arm: test accuracy (mean ± standard deviation over the repeats), the same after stage 1,
    the runs and their wall time; then per budget the differences between arms on the same seeds."""
    arms = [arm for arm in ARM if f"{arm}_mean" in summary]
    table = Table(title=title, caption=caption or None, box=box.SIMPLE_HEAD)
    for name in ("labels", "arm", "test accuracy", "after stage 1", "runs", "wall time"):
        table.add_column(name, justify="left" if name == "arm" else "right", overflow="fold",
                         no_wrap=name not in ("labels", "arm"), min_width=10 if name == "arm" else None)
    for _, line in summary.iterrows():
        shown = [arm for arm in arms if line.get(f"{arm}_n", 0) > 0]
        for i, arm in enumerate(shown):
            table.add_row(_budget(line) if i == 0 else "", ARM[arm].title,
                          _spread(line[f"{arm}_mean"], line[f"{arm}_sd"]),
                          _spread(line.get(f"{arm}_stage1_mean"), line.get(f"{arm}_stage1_sd")),
                          f"{line[f'{arm}_n']:.0f}", _duration(line[f"{arm}_time"]),
                          end_section=i == len(shown) - 1)
    differences = [name for name in DIFFERENCES if f"{name}_mean" in summary]
    if not differences:
        return Group(table)
    paired = Table(title="Differences on the same subsets and seeds", box=box.SIMPLE_HEAD,
                   caption="95 % interval: Student's t with pairs − 1 degrees of freedom; * where it excludes 0")
    for name in ("labels", "difference", "mean ± standard deviation", "95 % interval", "pairs"):
        paired.add_column(name, justify="left" if name == "difference" else "right", no_wrap=name != "difference",
                          overflow="fold")
    for _, line in summary.iterrows():
        present = [d for d in differences if not pd.isna(line.get(f"{d}_mean"))]
        for i, name in enumerate(present):
            a, b = DIFFERENCES[name]
            paired.add_row(_budget(line) if i == 0 else "", f"{ARM[a].title} − {ARM[b].title}",
                           _spread(line[f"{name}_mean"], line[f"{name}_sd"], signed=True),
                           _interval(line.get(f"{name}_low"), line.get(f"{name}_high")),
                           f"{line[f'{name}_pairs']:.0f}", end_section=i == len(present) - 1)
    return Group(table, paired)


def sweep_table(summary: pd.DataFrame, swept: tuple[str, ...], metrics: tuple[str, ...], title: str,
                caption: str = "") -> Table:
    """Per combination of the swept values: each metric's mean ± standard deviation over the runs, the runs and
    their wall time."""
    table = Table(title=title, caption=caption or None, box=box.SIMPLE_HEAD)
    for name in swept:
        table.add_column(flag(name)[2:], justify="right", no_wrap=True, min_width=len(flag(name)) - 2)
    for name in (*metrics, "runs", "wall time"):
        table.add_column(name, justify="right", no_wrap=True)
    for _, line in summary.iterrows():
        table.add_row(*(_format(line[name]) for name in swept),
                      *(_significant(line[f"{m}_mean"], line[f"{m}_sd"]) for m in metrics),
                      f"{line['n']:.0f}", _duration(line["wall_time"]))
    return table


def _budget(line) -> str:
    """'100', or 'all (48,000)'."""
    used = f"{int(line['labels_used']):,}"
    return used if line["labels"] else f"all ({used})"


def _spread(mean: float | None, sd: float | None, signed: bool = False) -> str:
    """'0.9123 ± 0.0040', or the mean alone when there is no spread to show."""
    if mean is None or pd.isna(mean):
        return "–"
    text = f"{mean:+.4f}" if signed else f"{mean:.4f}"
    return text if sd is None or pd.isna(sd) else f"{text} ± {sd:.4f}"


def _interval(low: float | None, high: float | None) -> str:
    """'[+0.0012, +0.0100] *' (the star: the interval excludes 0), or '–' without one."""
    if low is None or high is None or pd.isna(low) or pd.isna(high):
        return "–"
    return f"[{low:+.4f}, {high:+.4f}]" + (" *" if excludes_zero(low, high) else "")


def _significant(mean: float, sd: float) -> str:
    """'0.003275 ± 2.1e-05': four significant digits, two of the spread (losses can be small)."""
    if pd.isna(mean):
        return "–"
    return f"{mean:.4g}" if pd.isna(sd) else f"{mean:.4g} ± {sd:.2g}"


def _duration(seconds: float) -> str:
    """'42 s', '12 min 5 s', '2 h 3 min'."""
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60} min"


def self_training_table(rounds) -> Table:
    """One line per self-training round: pseudo-labels chosen, how many were right, validation accuracy after."""
    table = Table(title="Self-training on the unlabelled images",
                  caption="right: share of the pseudo-labels equal to the true label (measured, never used)")
    for name in ("round", "pseudo-labels", "right", "val_accuracy", "time"):
        table.add_column(name, justify="right")
    for r in rounds:
        table.add_row(str(r.number), f"{r.pseudo_labels:,}", _format(r.pseudo_accuracy), f"{r.val_accuracy:.4f}",
                      _duration(r.seconds))
    return table


class WayReport:
    """Says on a console which ways of computing are being timed, then how they did (models/compute/way_choice),
    and when the choice cannot be remembered."""

    def __init__(self, console):
        self.console = console

    def unsaved(self, problem: str) -> None:
        self.console.print(f"[yellow]warning:[/] the way chosen is not remembered for later runs: {problem}")

    def timing(self, count: int) -> None:
        self.console.print(f"Timing the ways of computing a training step on this machine (up to {count}; once "
                           f"for this model's shape, later runs reuse the choice)...")

    def timed(self, trials: list, chosen, device: str, seconds: float | None = None) -> None:
        caption = f"timed in {seconds:.0f} s; remembered for later runs of this shape" if seconds else None
        table = Table(title="Ways of computing, timed on this machine", caption=caption)
        for name in ("way", "images/s", "loss", ""):
            table.add_column(name, justify="left" if name == "way" else "right")
        for t in trials:
            table.add_row(t.way.describe(device), f"{t.images_per_second:.0f}", f"{t.loss:.4g}",
                          "chosen" if t.way == chosen else "")
        self.console.print(table)
