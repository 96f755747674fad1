"""The rich progress callback, rendered into a string as rich's own tests do."""

import io
import sys

import numpy as np
from rich.console import Console

from common.keras_setup import keras
from common.study.plan import plan_of
from common.ui.terminal.progress import RichProgress, StudyProgress
from models.config.autoencoder import AutoencoderConfig
from models.training.fit import fit


def test_progress_shows_epochs_batches_and_losses():
    out = io.StringIO()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    result = fit(model, x, x[:, :1], validation_data=(x[:8], x[:8, :1]), epochs=2, batch_size=10,
                 callbacks=[RichProgress(Console(file=out, force_terminal=True, width=120), "stage 1")])
    text = out.getvalue()
    assert result.epochs_done == 2
    assert "stage 1, epoch 1/2" in text and "stage 1, epoch 2/2" in text
    assert "4/4" in text and "val_loss" in text


def test_without_a_terminal_each_epoch_is_one_plain_line():
    out = io.StringIO()
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    fit(model, x, x[:, :1], validation_data=(x[:8], x[:8, :1]), epochs=3, batch_size=10,
        callbacks=[RichProgress(Console(file=out, force_terminal=False, width=120))])
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert lines[2].startswith("epoch 3/3  loss ") and "val_loss" in lines[2] and "\x1b" not in lines[2]


def test_a_sweep_with_workers_shows_a_line_per_worker_with_its_run_and_epoch():
    out = io.StringIO()
    plan = plan_of(AutoencoderConfig, dict(layers=2, filters=4, epochs=1, batch_size=32), (("filters", (4, 8)),),
                   1, 1)
    first, second = plan.runs()
    display = StudyProgress(Console(file=out, force_terminal=True, width=160), "sweep")
    display.begin([first, second], [1.0, 1.0], reused=0, planned=2)
    display.working(1, first, "", 0, 0, {})
    display.working(2, second, "stage 2", 3, 5, {"loss": 0.25, "val_loss": 0.5})
    display.progress.refresh()
    display.end()
    text = out.getvalue()
    assert "worker 1: filters 4, repeat 1" in text and "starting" in text
    assert "worker 2: filters 8, repeat 1" in text and "stage 2, epoch 3/5  loss 0.2500 val_loss 0.5000" in text


def test_output_sent_to_a_file_gets_wide_tables_unless_columns_says_otherwise(monkeypatch):
    from common.ui.terminal.messages import FILE_WIDTH, program_console

    monkeypatch.setattr(sys, "stdout", io.StringIO())  # a file, not a terminal
    monkeypatch.delenv("COLUMNS", raising=False)
    assert program_console().width == FILE_WIDTH > 80
    monkeypatch.setenv("COLUMNS", "90")
    assert program_console().width == 90
