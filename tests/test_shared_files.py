"""Files that several programs, or someone else's hands, may touch: model names, sidecars, hostile inputs."""

import subprocess
import sys

import pytest

from common.errors import UserError
from common.files import replace_atomically
from common.keras_setup import keras
from models.training.persistence import load_model, read_metadata, sidecar_path
from tests.conftest import ROOT

CLAIMER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from common.files import claim_free_path
while not Path({go!r}).exists():
    time.sleep(0.01)
print("\\n".join(str(claim_free_path({folder!r}, "autoencoder-l4", ".h5")) for _ in range(50)))
"""


def test_programs_claiming_model_names_at_once_never_get_the_same_one(tmp_path):
    go = tmp_path / "go"
    script = CLAIMER.format(root=str(ROOT), go=str(go), folder=str(tmp_path / "runs"))
    workers = [subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True) for _ in range(3)]
    go.touch()
    names = [line for worker in workers for line in worker.communicate(timeout=120)[0].split()]
    assert len(names) == 150 and len(set(names)) == 150
    assert sorted(p.name for p in (tmp_path / "runs").iterdir())[:2] == ["autoencoder-l4-10.h5",
                                                                         "autoencoder-l4-100.h5"]


def test_a_failed_replacement_leaves_the_old_file_and_no_partial(tmp_path):
    (tmp_path / "plot.png").write_bytes(b"old")

    def fail(partial):
        partial.write_bytes(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        replace_atomically(tmp_path / "plot.png", fail)
    assert (tmp_path / "plot.png").read_bytes() == b"old" and len(list(tmp_path.iterdir())) == 1


@pytest.mark.parametrize("content", ["[1, 2, 3]", "{" * 100000, "not json", '{"kind": "autoencoder"' + " " * (2 << 20)
                                     + "}"])
def test_a_broken_or_hostile_sidecar_reads_as_empty(tmp_path, content):
    sidecar_path(tmp_path / "ae.h5").write_text(content)
    assert read_metadata(tmp_path / "ae.h5") == {}


def test_a_model_file_asking_to_run_code_is_refused(tmp_path):
    inputs = keras.Input((28, 28, 1))
    keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2)(inputs)).save(tmp_path / "code.h5")
    with pytest.raises(UserError, match="code.h5: refused: the model holds Python code"):
        load_model(tmp_path / "code.h5")
    with pytest.raises(UserError, match="null: is not a regular file"):
        load_model("/dev/null")
