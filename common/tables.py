"""Rich tables: a run's summary, the run log, and a classification report."""

from dataclasses import fields

import pandas as pd
from rich.table import Table


def run_summary(title: str, config, results: dict[str, object]) -> Table:
    """Hyperparameters and results of one run, two columns."""
    table = Table(title=title, show_header=False)
    table.add_column("", style="bold")
    table.add_column("", justify="right")
    for f in fields(config):
        table.add_row(f.metadata["label"], str(getattr(config, f.name)))
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


def classification_report(per_class: list[dict], accuracy: float, loss: float, correct: int, wrong: int) -> Table:
    """Precision, recall, F1 and support per class, with the overall figures as a caption."""
    table = Table(title="Test set: per-class report",
                  caption=f"accuracy {accuracy:.4f}   loss {loss:.4f}   correct {correct}   wrong {wrong}")
    for name in ("class", "precision", "recall", "F1", "support"):
        table.add_column(name, justify="right")
    for row in per_class:
        table.add_row(str(row["label"]), f"{row['precision']:.4f}", f"{row['recall']:.4f}", f"{row['f1']:.4f}",
                      str(row["support"]))
    return table


def _format(value) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:.0f}" if value.is_integer() and abs(value) >= 1 else f"{value:.4g}"
    return str(value)


def label_study_table(summary: pd.DataFrame, title: str, caption: str = "") -> Table:
    """Per budget: test accuracy of each arm (mean ± standard deviation over the repeats), the differences
    between arms on the same seeds, and the wall time of the budget's runs."""
    from common.label_study import ARM_NAMES, ARMS, DIFFERENCES

    arms = [arm for arm in ARMS if f"{arm}_mean" in summary]
    differences = [name for name in DIFFERENCES if f"{name}_mean" in summary]
    table = Table(title=title, caption=caption or None)
    for name in ("labels", *(ARM_NAMES[a] for a in arms),
                 *(f"{ARM_NAMES[DIFFERENCES[d][0]]} − {ARM_NAMES[DIFFERENCES[d][1]]}" for d in differences),
                 "runs", "wall time"):
        table.add_column(name, justify="right")
    for _, line in summary.iterrows():
        used = f"{int(line['labels_used']):,}"
        table.add_row(used if line["labels"] else f"all ({used})",
                      *(_spread(line[f"{a}_mean"], line[f"{a}_sd"]) for a in arms),
                      *(_spread(line[f"{d}_mean"], line[f"{d}_sd"], signed=True) for d in differences),
                      " + ".join(f"{line[f'{a}_n']:.0f}" for a in arms), _duration(line["wall_time"]))
    return table


def _spread(mean: float, sd: float, signed: bool = False) -> str:
    """'0.9123 ± 0.0040', or the mean alone when there is no spread to show."""
    if pd.isna(mean):
        return "–"
    text = f"{mean:+.4f}" if signed else f"{mean:.4f}"
    return text if pd.isna(sd) else f"{text} ± {sd:.4f}"


def _duration(seconds: float) -> str:
    """'42 s', '12 min 5 s', '2 h 3 min'."""
    seconds = int(round(seconds))
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
