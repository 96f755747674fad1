"""autoencoder.py run as a user runs it without a terminal: the one-shot mode and every bad input."""

import gzip
import subprocess
import sys

import pandas as pd
import pytest

from common.keras_setup import keras
from tests.conftest import ROOT, assert_one_line_error, run_program

SMALL = ["--layers", 2, "--filter-size", 3, "--filters", 4, "--epochs", 1, "--batch-size", 32]


def test_help_and_argument_errors_do_not_import_tensorflow():
    code = ("import sys, autoencoder, classification; autoencoder.parse(['--layers', '3']); "
            "classification.parse(['-model', 'x.h5']); print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_help_lists_every_option(tmp_path):
    done = run_program("autoencoder.py", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for flag in ("-d PATH", "--layers", "--filter-size", "--filters", "--epochs", "--batch-size", "--limit",
                 "--val-split", "--seed", "--out", "--save", "--no-menu"):
        assert flag in done.stdout


def test_no_menu_trains_logs_saves_and_exits_0(mnist, tmp_path, in_process):
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", *SMALL, "--limit", 200,
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no TensorFlow noise, no legacy-format warning
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert len(runs) == 1
    assert runs.loc[0, ["Layers", "Filter_Size", "Filters/Layer", "Epochs", "Batch_Size"]].tolist() == [2, 3, 4, 1, 32]
    assert runs.loc[0, "Images"] == 200 and 0 < runs.loc[0, "Val_Loss"] < 1
    model_path = tmp_path / runs.loc[0, "Model_Path"]
    assert model_path.suffix == ".h5" and str(model_path.name) in done.stdout
    assert keras.models.load_model(model_path, compile=False).output_shape == (None, 28, 28, 1)


def test_a_second_run_is_appended_and_never_overwrites_a_saved_model(mnist, tmp_path, in_process):
    for _ in range(2):
        done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", *SMALL, "--limit", 100,
                           cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    runs = pd.read_csv(tmp_path / "runs" / "loss_values.csv")
    assert len(runs) == 2 and runs["Model_Path"].nunique() == 2


def test_save_as_keras_format(mnist, tmp_path, in_process):
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", *SMALL, "--limit", 100,
                       "--save", tmp_path / "mine.keras", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    loaded = keras.models.load_model(tmp_path / "mine.keras")
    assert "code" in [layer.name for layer in loaded.layers] and loaded.output_shape == (None, 28, 28, 1)
    assert (tmp_path / "mine.keras.json").exists()


def test_without_a_terminal_missing_values_name_their_flags(mnist, tmp_path, in_process):
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--layers", 2, cwd=tmp_path)
    assert_one_line_error(done, "not a terminal", "--filter-size --filters --epochs --batch-size", "--no-menu")


def _broken_files(folder, mnist):
    full = gzip.decompress(mnist["train_images"].read_bytes())
    (folder / "truncated").write_bytes(full[:5000])
    (folder / "notes.txt").write_text("just some text\n")
    packed = mnist["train_images"].read_bytes()
    (folder / "corrupt.gz").write_bytes(packed[:len(packed) // 2])
    return folder


@pytest.mark.parametrize("args, fragments", [
    (["-d", "missing.gz"], ["missing.gz: no such file"]),
    (["-d", "{train_labels}"], ["is an IDX labels file, expected IDX images"]),
    (["-d", "truncated"], ["truncated: truncated: the header promises 300 images of 28x28"]),
    (["-d", "notes.txt"], ["notes.txt: not an IDX file"]),
    (["-d", "corrupt.gz"], ["corrupt.gz: corrupt gzip data"]),
    (["--layers", "two"], ["argument --layers: 'two': expected a whole number from 2 to 8"]),
    (["--layers", "12"], ["argument --layers: '12': must be from 2 to 8"]),
    (["--batch-size", "-5"], ["--batch-size", "must be from 1 to 4096"]),
    (["--val-split", "1.5"], ["--val-split", "expected a fraction between 0 and 1"]),
    (["--batch-size", "100", "--limit", "100"], ["batch size 100 is larger than the 80 training images"]),
])
def test_bad_inputs_give_one_line_and_a_non_zero_exit(mnist, tmp_path, in_process, args, fragments):
    folder = _broken_files(tmp_path, mnist)
    args = [a.format(train_labels=mnist["train_labels"]) for a in args]
    if "-d" not in args:
        args = ["-d", str(mnist["train_images"]), *args]
    done = in_process("autoencoder.py", *args, "--no-menu", "--epochs", 1, cwd=folder)
    assert_one_line_error(done, *fragments)
    assert not (folder / "runs" / "loss_values.csv").exists()


def test_absurd_model_is_refused_before_building(mnist, tmp_path, in_process):
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", "--layers", 8, "--filters", 256,
                       cwd=tmp_path)
    assert_one_line_error(done, "GiB to train")
    assert not (tmp_path / "runs" / "loss_values.csv").exists()


def test_an_unwritable_log_is_reported_and_the_model_still_saved(mnist, tmp_path, in_process):
    (tmp_path / "runs" / "loss_values.csv").mkdir(parents=True)  # a folder where the log file should be
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", *SMALL, "--limit", 100,
                       "--save", tmp_path / "kept.h5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "the run was not logged" in done.stdout and "loss_values.csv: is not a regular file" in done.stdout
    assert "Logged to" not in done.stdout and done.stdout.count("loss_values.csv: is not a regular file") == 1
    assert (tmp_path / "kept.h5").exists()


def test_a_full_disk_while_logging_is_reported_not_logged_and_the_model_still_saved(mnist, tmp_path, in_process,
                                                                                    monkeypatch):
    import common.tracking.csv_file as csv_file

    def disk_full(fd, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(csv_file.os, "write", disk_full)  # the append of the run's row
    done = in_process("autoencoder.py", "-d", mnist["train_images"], "--no-menu", *SMALL, "--limit", 100,
                      "--save", tmp_path / "kept.h5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "the run was not logged" in said and "No space left on device" in said and "Logged to" not in said
    assert (tmp_path / "kept.h5").exists()
    header = (tmp_path / "runs" / "loss_values.csv").read_text().splitlines()
    assert len(header) == 1 and header[0].startswith("Layers,")  # the header alone: no half row
