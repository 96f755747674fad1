"""Figures of the workbench, written as PNG files: hyperparameter effects, training curves and image grids.

Built with matplotlib's object API (no global pyplot state), so they work with or without a screen.
"""

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from common.errors import UserError
from common.files import replace_atomically


def varied_runs(runs: pd.DataFrame, names: list[str], baseline: dict) -> dict[str, pd.DataFrame]:
    """For each hyperparameter that took two or more values while all the others were at the baseline, those runs."""
    varied = {}
    for name in names:
        others = [n for n in names if n != name]
        at_baseline = np.logical_and.reduce([runs[n] == baseline[n] for n in others]) if others else True
        subset = runs[at_baseline & runs[name].notna()]
        if subset[name].nunique() >= 2:
            varied[name] = subset.sort_values(name)
    return varied


def plot_against(runs: pd.DataFrame, x: str, label: str, panels: list[list[tuple[str, str]]], path,
                 title: str, series: str | None = None) -> Path:
    """Final metrics against a hyperparameter's value, one panel per metric group: a point per run, and a line
    through the mean at each value; where a value has several runs (repeats, a sweep), a bar of one standard
    deviation each way and the number of runs under each point. `series`: a column whose values each get their
    own lines (the other hyperparameters of a grid)."""
    fig = Figure(figsize=(6 * len(panels), 4), layout="constrained")
    fig.suptitle(title)
    groups = list(runs.groupby(series, sort=False)) if series else [("", runs)]
    repeated = False
    for i, metrics in enumerate(panels, start=1):
        ax = fig.add_subplot(1, len(panels), i)
        for name, group in groups:
            for key, metric_label in metrics:
                values = group[[x, key]].dropna()
                if not values.empty:
                    repeated |= _mean_with_spread(ax, values, x, key, f"{metric_label}, {name}" if name else
                                                  metric_label)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    if repeated:
        fig.suptitle(f"{title}\nmean ± standard deviation; n: runs at each value")
    return save_figure(fig, path)


def _mean_with_spread(ax, values: pd.DataFrame, x: str, key: str, label: str) -> bool:
    """One metric's runs as dots and the mean at each value as a line (with a standard-deviation bar and the
    count of runs where a value has several); True when one has."""
    stats = values.groupby(x)[key].agg(["mean", "std", "count"])
    if stats["count"].max() < 2:
        line, = ax.plot(stats.index, stats["mean"], marker="o", label=label)
        ax.scatter(values[x], values[key], color=line.get_color(), alpha=0.35, s=14)
        return False
    bars = ax.errorbar(stats.index, stats["mean"], yerr=stats["std"].fillna(0), marker="o", capsize=4, label=label)
    ax.scatter(values[x], values[key], color=bars[0].get_color(), alpha=0.35, s=14)
    for value, line in stats.iterrows():
        ax.annotate(f"n={line['count']:.0f}", (value, line["mean"]), textcoords="offset points", xytext=(4, -12),
                    fontsize=7, color=bars[0].get_color())
    return True


def plot_history(history: dict[str, list[float]], path, title: str, stage_boundary: int | None = None) -> Path:
    """Per-epoch curves (loss, and accuracy when present), training and validation; a line at a stage boundary."""
    families = [f for f in ("loss", "accuracy") if f in history]
    fig = Figure(figsize=(6 * len(families), 4), layout="constrained")
    for i, family in enumerate(families, start=1):
        ax = fig.add_subplot(1, len(families), i)
        for key in (family, f"val_{family}"):
            if key in history:
                ax.plot(range(1, len(history[key]) + 1), history[key], marker=".", label=key)
        if stage_boundary:
            ax.axvline(stage_boundary + 0.5, color="grey", linestyle="--", label="stage 1 | stage 2")
        ax.set_xlabel("epoch")
        ax.set_title(f"{title}: {family}")
        ax.grid(alpha=0.3)
        ax.legend()
    return save_figure(fig, path)


def plot_reconstructions(originals: np.ndarray, reconstructions: np.ndarray, path) -> Path:
    """Originals on the top row, their reconstructions below."""
    count = len(originals)
    fig = Figure(figsize=(1.2 * count, 2.8), layout="constrained")
    for i in range(count):
        for row, (images, name) in enumerate(((originals, "original"), (reconstructions, "reconstructed"))):
            ax = fig.add_subplot(2, count, row * count + i + 1)
            _show_image(ax, images[i])
            ax.set_axis_off()
            if i == 0:
                ax.set_title(name, fontsize=8, loc="left")
    return save_figure(fig, path)


def plot_image_grid(images: np.ndarray, captions: list[str], path, title: str, columns: int = 8) -> Path:
    """A grid of images, each with a caption above it, drawn as one picture: the images laid into a single array
    with white margins and caption bands, shown in one axes (a figure of dozens of small axes took most of the
    drawing time), the captions written over their bands."""
    rows = max(1, -(-len(images) // columns))
    lines = max((caption.count("\n") + 1 for caption in captions), default=1)
    side = images.shape[1]  # the images' rows; cells are square in inches, 1.15 of 1.3 for the image
    pad = round(side * 0.075)  # in pixels of the images
    band = round(side * (0.14 * lines + 0.12) / 1.15)
    cell_w = images.shape[2] + 2 * pad
    cell_h = side + band
    colour = images.ndim == 4 and images.shape[-1] == 3
    mosaic = np.ones((rows * cell_h, columns * cell_w, *((3,) if colour else ())), dtype=np.float32)
    for i, picture in enumerate(images):
        row, column = divmod(i, columns)
        top = row * cell_h + band
        left = column * cell_w + pad
        mosaic[top:top + side, left:left + picture.shape[1]] = np.clip(picture if colour else picture[..., 0]
                                                                       if picture.ndim == 3 else picture, 0, 1)
    inches = 1.3 * columns / mosaic.shape[1]  # per pixel of the mosaic
    title_band = 0.3
    width = 1.3 * columns
    height = mosaic.shape[0] * inches + title_band
    fig = Figure(figsize=(width, height))
    fig.suptitle(title, y=1 - 0.1 / height, va="top")
    ax = fig.add_axes((0, 0, 1, (height - title_band) / height))
    ax.imshow(mosaic, cmap=None if colour else "gray", vmin=0, vmax=1, interpolation="nearest", aspect="auto")
    for i, text in enumerate(captions):
        row, column = divmod(i, columns)
        ax.text(column * cell_w + cell_w / 2, row * cell_h + band - 1, text, fontsize=8, ha="center", va="bottom")
    ax.set_axis_off()
    return save_figure(fig, path)


def _show_image(ax, image: np.ndarray) -> None:
    """One image in [0, 1]: grey with one channel, in colour with three."""
    if image.ndim == 3 and image.shape[-1] == 3:
        ax.imshow(np.clip(image, 0, 1))
    else:
        ax.imshow(np.squeeze(image), cmap="gray", vmin=0, vmax=1)


def plot_confusion(confusion: np.ndarray, path, title: str, names: list[str] | None = None) -> Path:
    """The confusion matrix with counts: rows are true classes, columns predicted ones, each named by `names`
    (by number when not given); larger for many classes."""
    side = max(6, 0.35 * confusion.shape[0] + 2)
    fig = Figure(figsize=(side, side - 0.5), layout="constrained")
    ax = fig.add_subplot()
    image = ax.imshow(confusion, cmap="Blues")
    fig.colorbar(image, ax=ax)
    threshold = confusion.max() / 2
    for (t, p), count in np.ndenumerate(confusion):
        ax.text(p, t, str(count), ha="center", va="center", fontsize=7,
                color="white" if count > threshold else "black")
    names = list(names) if names is not None else [str(c) for c in range(confusion.shape[0])]
    ax.set_xticks(range(confusion.shape[1]), names, rotation=90 if max(map(len, names)) > 2 else 0)
    ax.set_yticks(range(confusion.shape[0]), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return save_figure(fig, path)


def window_available() -> bool:
    """True when figures can be shown in a window (a desktop session, not a bare terminal or CI)."""
    if os.environ.get("CI") or os.environ.get("MPLBACKEND", "").lower() == "agg":
        return False
    return sys.platform in ("darwin", "win32") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def window_toolkit() -> bool:
    """True when matplotlib found a toolkit to open windows with (Tk, Qt, ...), not only its file-writing backend."""
    import matplotlib.pyplot as plt  # pyplot: only to open windows, seconds to import

    return plt.get_backend().lower() != "agg"


def show(paths: list[Path]) -> None:
    """Open saved figures in windows and wait until they are closed."""
    import matplotlib.pyplot as plt  # pyplot: only to open windows, seconds to import

    for path in paths:
        image = plt.imread(path)
        fig = plt.figure(path.stem)
        fig.figimage(image)
        fig.set_size_inches(image.shape[1] / fig.dpi, image.shape[0] / fig.dpi)
    plt.show()
    plt.close("all")


def save_figure(fig: Figure, path) -> Path:
    """Write the figure as a PNG, replacing any earlier one in one step (another program may be drawing it too)."""
    try:
        return replace_atomically(path, lambda partial: fig.savefig(partial, dpi=100))
    except OSError as e:
        raise UserError(f"{path}: the figure cannot be written ({e.strerror or e})") from None
