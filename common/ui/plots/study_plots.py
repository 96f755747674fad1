"""The study's figures: test accuracy against the number of labels per arm, and against minutes of training."""

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import NullLocator

from common.study.arms import ARM, ARMS, arm_of
from common.ui.plots.plotting import save_figure

DODGE = 0.012  # how far apart the arms are drawn at each budget, in powers of ten of the log axis (about 3 %)


def plot_label_study(summary: pd.DataFrame, runs: pd.DataFrame, path, title: str) -> Path:
    """Test accuracy against the number of labelled images (log axis) for each arm: the mean with a bar of one
    standard deviation each way, and every run as a faint dot."""
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    arm_of_run = [arm_of(row) for _, row in runs.iterrows()]
    shown = [arm for arm in ARMS if f"{arm.name}_mean" in summary]
    for k, arm in enumerate(shown):
        aside = 10 ** (DODGE * (k - (len(shown) - 1) / 2))  # each arm a little to the side, so none hides another
        errors = summary[f"{arm.name}_sd"].fillna(0)
        bars = ax.errorbar(summary["labels_used"] * aside, summary[f"{arm.name}_mean"], yerr=errors,
                           marker=arm.marker, capsize=4, label=arm.legend)
        mine = runs[[a == arm.name for a in arm_of_run]]
        ax.scatter(mine["labels_used"] * aside, mine["test_accuracy"], color=bars[0].get_color(), alpha=0.3, s=12)
    ax.set_xscale("log")
    budgets = sorted(int(b) for b in summary["labels_used"].unique())
    ax.set_xticks(budgets, [f"{b:,}" for b in budgets])  # the budgets themselves, not powers of ten
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("labelled training images")
    ax.set_ylabel("test accuracy")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    fig.legend(loc="outside lower center", ncols=2, fontsize="small")  # below the axes: it covers no point
    return save_figure(fig, path)


def plot_accuracy_curves(points: pd.DataFrame, path, title: str) -> Path:
    """Validation accuracy against minutes of training, a panel per number of labels and a curve per arm: at each
    checkpoint the mean over the seeds, with a band of one standard deviation each way (checkpoint_log.py). Runs
    of an arm end at the same step, so their last points are averaged together."""
    budgets = sorted(points["labels_used"].dropna().unique())
    fig = Figure(figsize=(6 * max(1, len(budgets)), 4.5), layout="constrained")
    for i, used in enumerate(budgets, start=1):
        ax = fig.add_subplot(1, len(budgets), i)
        mine = points[points["labels_used"] == used]
        for arm, runs in mine.groupby("arm", sort=False):
            stats = runs.groupby("step").agg(minutes=("minutes", "mean"), mean=("val_accuracy", "mean"),
                                             sd=("val_accuracy", "std"), n=("val_accuracy", "count"))
            known = ARM.get(arm)
            line, = ax.plot(stats["minutes"], stats["mean"], marker=known.marker if known else "o",
                            label=f"{known.legend if known else arm} (n={stats['n'].max():.0f})")
            spread = stats["sd"].fillna(0)
            ax.fill_between(stats["minutes"], stats["mean"] - spread, stats["mean"] + spread,
                            color=line.get_color(), alpha=0.2)
        ax.set_xlabel("minutes of training (stage 2, or the ladder's one stage)")
        ax.set_ylabel("validation accuracy")
        ax.set_title(f"{int(used):,} labelled images")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(f"{title}\nmean ± standard deviation over the seeds at each checkpoint")
    return save_figure(fig, path)
