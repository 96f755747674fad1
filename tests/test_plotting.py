"""Figures from run logs and histories are written as PNG files, without a screen."""

import numpy as np
import pandas as pd
import pytest

from common.errors import UserError
from common.ui.plots.plotting import (
    plot_against,
    plot_confusion,
    plot_history,
    plot_image_grid,
    plot_reconstructions,
    varied_runs,
    window_available,
)

PNG = b"\x89PNG"


def runs():
    return pd.DataFrame({"layers": [3, 4, 5, 4, 4, 4], "filters": [16, 16, 16, 8, 32, 8], "epochs": [1] * 6,
                         "loss": [0.3, 0.2, 0.1, 0.25, 0.15, 0.26], "val_loss": [0.31, 0.21, 0.12, 0.2, 0.2, 0.3]})


def test_varied_runs_keep_the_other_hyperparameters_at_the_baseline():
    varied = varied_runs(runs(), ["layers", "filters", "epochs"], {"layers": 4, "filters": 16, "epochs": 1})
    assert set(varied) == {"layers", "filters"}
    assert varied["layers"]["layers"].tolist() == [3, 4, 5]
    assert varied["filters"]["filters"].tolist() == [8, 8, 16, 32]


def test_nothing_is_varied_when_every_run_is_the_baseline():
    same = runs().iloc[[1, 1]]
    assert varied_runs(same, ["layers", "filters"], {"layers": 4, "filters": 16}) == {}


def test_each_figure_is_a_png(tmp_path):
    history = {"loss": [0.5, 0.4, 0.3], "val_loss": [0.6, 0.5, 0.45], "accuracy": [0.5, 0.7, 0.8],
               "val_accuracy": [0.4, 0.6, 0.7]}
    images = np.random.default_rng(0).random((4, 28, 28, 1))
    paths = [
        plot_against(runs(), "layers", "Layers", [[("loss", "loss"), ("val_loss", "val_loss")]], tmp_path / "a.png",
                     "t"),
        plot_history(history, tmp_path / "sub" / "b.png", "run", stage_boundary=2),
        plot_reconstructions(images, images, tmp_path / "c.png"),
        plot_image_grid(images, ["a", "b", "c", "d"], tmp_path / "d.png", "grid"),
        plot_confusion(np.eye(10, dtype=int) * 5, tmp_path / "e.png", "confusion"),
    ]
    for path in paths:
        assert path.read_bytes()[:4] == PNG and path.stat().st_size > 5000


def test_no_window_without_a_screen(monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("MPLBACKEND", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert not window_available()  # no screen
    monkeypatch.setenv("DISPLAY", ":0")
    assert window_available()  # a screen
    monkeypatch.setenv("CI", "1")
    assert not window_available()  # a screen, but a CI run
    monkeypatch.delenv("CI")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    assert not window_available()  # a screen, but only the file-writing backend asked for


def test_a_figure_that_cannot_be_written_is_a_users_error_naming_it(tmp_path):
    (tmp_path / "plots").write_text("a file where the folder should be")
    with pytest.raises(UserError, match="plots/c.png: the figure cannot be written"):
        plot_reconstructions(np.zeros((2, 28, 28, 1)), np.zeros((2, 28, 28, 1)), tmp_path / "plots" / "c.png")
