"""The suite runs in a home of its own (tests/conftest.py, `own_home`): what the programs cache or write in the
user's home on a machine where they have run before never reaches a test, in this process or in the programs the
tests start."""

import subprocess
import sys
from pathlib import Path

from models.compute.way_cache import WayCache, cache_folder
from tests.conftest import program_env


def test_the_home_and_the_cache_of_measured_ways_are_the_test_runs_own(own_home, tmp_path_factory):
    assert Path.home() == own_home and own_home.is_relative_to(tmp_path_factory.getbasetemp())
    assert cache_folder().is_relative_to(own_home) and WayCache().path.is_relative_to(own_home)


def test_a_program_the_tests_start_sees_the_same_home(own_home):
    probe = ("from pathlib import Path; from models.compute.way_cache import cache_folder; "
             "print(Path.home()); print(cache_folder())")
    seen = subprocess.run([sys.executable, "-c", probe], env=program_env(), capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parent.parent).stdout.split()
    assert seen == [str(own_home), str(cache_folder())]


def test_a_cache_left_in_the_users_home_is_not_read(own_home, monkeypatch, tmp_path):
    """A cache of the kind a default run leaves in ~/.cache (bfloat16 chosen for a shape) in another home: the
    tests' own cache has no entry for it, so a test's run measures or takes float32 as on a fresh machine."""
    used = tmp_path / "user" / ".cache" / "autoencoder-workbench" / "compute-ways.json"
    used.parent.mkdir(parents=True)
    used.write_text('{"any shape": {"way": "bfloat16"}}\n')
    assert WayCache().get("any shape") is None
    monkeypatch.setenv("HOME", str(tmp_path / "user"))  # what a test would read without its own home
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert WayCache().get("any shape") == {"way": "bfloat16"}
