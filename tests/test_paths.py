"""Paths a run will write, checked before it trains: a model file's name and folder, --out and --keep-models; and a
model whose path went bad during training saved elsewhere rather than lost."""

import io
import re

import pandas as pd
import pytest
from rich.console import Console

import autoencoder
from common.errors import UserError
from common.paths import model_path, writable_folder
from common.ui.programs.autoencoder_program import AutoencoderProgram
from common.ui.session.session import Session
from tests.conftest import assert_one_line_error, run_program


def test_a_model_file_ends_in_h5_or_keras_in_a_folder_that_can_be_written(tmp_path):
    assert model_path(tmp_path / "new" / "m.h5") == tmp_path / "new" / "m.h5"  # a folder that can be made
    assert model_path(str(tmp_path / "m.keras")).name == "m.keras"
    (tmp_path / "file").write_text("")
    (tmp_path / "folder.h5").mkdir()
    for bad, message in ((tmp_path / "m.pt", "m.pt: a model file must end in .h5 or .keras"),
                         (tmp_path / "m.weights.h5", "m.weights.h5: a model file must end in .h5 or .keras (not "
                                                     ".weights.h5"),
                         (tmp_path / "folder.h5", "folder.h5: is a folder, expected a model file"),
                         (tmp_path / "file" / "m.h5", f"{tmp_path / 'file'}: is a file, expected a folder")):
        with pytest.raises(UserError, match=re.escape(message)):
            model_path(bad)
    with pytest.raises(UserError, match="cannot be made: .*file is a file"):
        writable_folder(tmp_path / "file" / "below")


@pytest.mark.parametrize("script, flags", [("autoencoder.py", []), ("classification.py", ["-model", "ae.h5"])])
@pytest.mark.parametrize("bad, fragment", [("m.pt", "m.pt: a model file must end in .h5 or .keras"),
                                           ("README.md/m.h5", "README.md: is a file, expected a folder")])
def test_a_save_path_that_cannot_be_written_is_refused_before_training(tmp_path, script, flags, bad, fragment):
    (tmp_path / "README.md").write_text("")
    done = run_program(script, "--no-menu", "--save", bad, *flags, cwd=tmp_path)
    assert_one_line_error(done, "--save", fragment)
    assert done.returncode == 2
    assert not (tmp_path / "runs").exists()  # nothing trained, nothing logged


def test_a_save_path_that_went_bad_during_training_saves_under_out_instead(mnist, tmp_path):
    args = autoencoder.parse(["-d", str(mnist["train_images"]), "--out", str(tmp_path / "runs"), "--no-show",
                              "--no-menu", "--layers", "2", "--filter-size", "3", "--filters", "4", "--epochs", "1",
                              "--batch-size", "32", "--save", str(tmp_path / "gone" / "m.h5")])
    (tmp_path / "gone").write_text("made a file meanwhile")  # the folder the path needs can no longer be made
    console = Console(file=io.StringIO(), width=200)
    assert Session(AutoencoderProgram(args, console), args, console).run() == 0
    out = " ".join(console.file.getvalue().split())
    assert "gone: is a file, expected a folder; saving under" in out and "Saved the autoencoder to" in out
    saved = pd.read_csv(tmp_path / "runs" / "loss_values.csv").loc[0, "Model_Path"]
    assert saved.startswith(str(tmp_path / "runs")) and saved.endswith(".h5")
