"""The reproduction's validation curves (benchmarks/ladder_reference.py logs one per run) as a figure: validation
accuracy against minutes of training, a line per run, the paper's figure for scale."""

import csv
from pathlib import Path

from matplotlib.figure import Figure

from common.ui.plots.plotting import save_figure

PAPER = (0.9894, 0.0037)  # Rasmus et al. 2015, table 1: 1.06 % ± 0.37 error with 100 labels


def read_curve(path: Path) -> tuple[list[float], list[float]]:
    """(minutes, validation accuracy) of each epoch of one run."""
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return [float(r["minutes"]) for r in rows], [float(r["val_accuracy"]) for r in rows]


def plot_curves(curves: dict[str, Path], path: Path, title: str) -> Path:
    """A line per labelled curve file, and the paper's test accuracy with its spread as a band."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    lowest = 1.0
    for label, curve in curves.items():
        minutes, accuracy = read_curve(curve)
        ax.plot(minutes, accuracy, marker=".", label=label)
        lowest = min(lowest, *accuracy)
    mean, sd = PAPER
    ax.axhspan(mean - sd, mean + sd, color="grey", alpha=0.2, label="the paper's test accuracy (± sd)")
    ax.set_xlabel("minutes of training (two runs sharing two cores, one thread each)")
    ax.set_ylabel("validation accuracy (1,000 held-out images)")
    ax.set_ylim(max(0.0, min(lowest, PAPER[0] - PAPER[1]) - 0.02), 1.0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="lower right")
    ax.set_title(title)
    return save_figure(fig, path)
