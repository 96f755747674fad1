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
    """Per budget: test accuracy of both arms (mean ± standard deviation over the repeats), their difference
    (pretrained minus scratch, over the seeds both have) and the wall time of the budget's runs."""
    table = Table(title=title, caption=caption or None)
    for name in ("labels", "pretrained", "scratch", "difference", "runs", "wall time"):
        table.add_column(name, justify="right")
    for _, line in summary.iterrows():
        runs = f"{line['pretrained_n']:.0f} + {line['scratch_n']:.0f}"
        used = f"{int(line['labels_used']):,}"
        table.add_row(used if line["labels"] else f"all ({used})",
                      _spread(line["pretrained_mean"], line["pretrained_sd"]),
                      _spread(line["scratch_mean"], line["scratch_sd"]),
                      _spread(line["difference_mean"], line["difference_sd"], signed=True), runs,
                      _duration(line["wall_time"]))
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
