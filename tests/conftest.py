"""Shared fixtures: a home of the tests' own, small slices of the real MNIST written as IDX files, the data the
study's tests share, and a way to run the programs."""

import contextlib
import importlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from common.data import dataset
from common.data.idx import read_images, read_labels, write_idx
from tests.helpers import undeclared_columns

ROOT = Path(__file__).resolve().parent.parent
TRAIN_SLICE = 300  # training images in the slice: enough for a split and a balanced label subset
TEST_SLICE = 100
FIRST = 240  # the slice's first images, for tests that train on them and validate on the rest
HOME_VARIABLES = ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME")


@pytest.fixture(autouse=True)
def own_home(tmp_path_factory, monkeypatch) -> Path:
    """Every test runs with a home and cache folders of the test run's own (as pip's test suite does): nothing
    reads or writes the user's cache of measured ways, configuration or runs, so the suite answers the same on a
    fresh machine and on one where the programs have run. Programs the tests start inherit it."""
    home = tmp_path_factory.getbasetemp() / "home"
    for name in HOME_VARIABLES:
        folder = home if name == "HOME" else home / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        monkeypatch.setenv(name, str(folder))
    monkeypatch.delenv("WORKBENCH_CACHE", raising=False)
    return home


@pytest.fixture(autouse=True)
def every_logged_value_has_its_column(request):
    """After a test, every run log it wrote under its tmp_path has only the columns the schema declares
    (common/tracking/schema.py): a value a run measures without its column fails the test that logged it."""
    yield
    folder = request.node.funcargs.get("tmp_path")
    if folder is not None and getattr(request.node, "rep_call_passed", False):
        assert undeclared_columns(folder) == {}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Notes on the test item whether its call passed, for the fixtures above to check only then."""
    report = yield
    if report.when == "call":
        item.rep_call_passed = report.passed
    return report


def pytest_collection_modifyitems(items: list) -> None:
    """Tests marked slow (half a minute or more on 2 cores) run first: with `-n auto` the last ones to finish are
    then short, instead of a long one keeping a core busy while the others wait."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)  # stable: otherwise in their order


@contextlib.contextmanager
def shared(tmp_path_factory, name: str):
    """A folder that every xdist worker of this test run shares (pytest-xdist's "session-scoped fixtures executed
    once"), held under a file lock: the first worker to get it makes what the fixture needs, the others find it
    made."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # a worker's folder lies in the run's, which all workers share
        root = root.parent
    folder = root / name
    with FileLock(str(root / f"{name}.lock")):
        folder.mkdir(exist_ok=True)
        yield folder


@pytest.fixture(scope="session")
def mnist(tmp_path_factory) -> dict[str, Path]:
    """The first images of the bundled MNIST as four .gz IDX files (only those images are read)."""
    files = {
        "train_images": (lambda: read_images(dataset.TRAIN_IMAGES, TRAIN_SLICE), "train-images-idx3-ubyte.gz"),
        "train_labels": (lambda: read_labels(dataset.TRAIN_LABELS)[:TRAIN_SLICE], "train-labels-idx1-ubyte.gz"),
        "test_images": (lambda: read_images(dataset.TEST_IMAGES, TEST_SLICE), "t10k-images-idx3-ubyte.gz"),
        "test_labels": (lambda: read_labels(dataset.TEST_LABELS)[:TEST_SLICE], "t10k-labels-idx1-ubyte.gz"),
    }
    paths = {}
    with shared(tmp_path_factory, "mnist") as folder:
        for key, (array, name) in files.items():
            paths[key] = folder / name
            if not paths[key].exists():
                write_idx(paths[key], array())
    return paths


@pytest.fixture(scope="session")
def mnist_pixels(mnist):
    """The slice's training images as model inputs, and their labels."""
    images, labels = dataset.load_labelled(mnist["train_images"], mnist["train_labels"])
    return dataset.to_model_input(images), labels


@pytest.fixture(scope="session")
def mnist_first(mnist_pixels):
    """The slice's first FIRST images and the rest, each as (images, labels): (train, val)."""
    x, labels = mnist_pixels
    return (x[:FIRST], labels[:FIRST]), (x[FIRST:], labels[FIRST:])


@pytest.fixture(scope="session")
def study_data(mnist, mnist_first):
    """A study's images: the slice's first images to train on, the rest to validate on, the test slice."""
    from common.study.trials import StudyData

    test_images, test_labels = dataset.load_labelled(mnist["test_images"], mnist["test_labels"])
    return StudyData(*mnist_first, (dataset.to_model_input(test_images), test_labels))


@pytest.fixture(scope="session")
def mnist_split(mnist):
    """The slice's images as model inputs and its labels, split as the programs split them: (train, val)."""
    from common.data import splits

    images, labels = dataset.load_labelled(mnist["train_images"], mnist["train_labels"])
    x = dataset.to_model_input(images)
    part = splits.split(len(x), 0.2, seed=1)
    return (x[part.train], labels[part.train]), (x[part.val], labels[part.val])


def program_env() -> dict[str, str]:
    """The environment for running the programs: no screen, so figures are only written; no Ray authentication
    mode left by a Ray instance an earlier test started in this process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "RAY_AUTH_MODE")}
    env.update(CI="1", MPLBACKEND="Agg", PYTHONUNBUFFERED="1", COLUMNS="200",
               PROMPT_TOOLKIT_NO_CPR="1")  # a pseudo-terminal never answers prompt_toolkit's cursor question
    return env


def run_program(script: str, *args, cwd, timeout=300) -> subprocess.CompletedProcess:
    """Run autoencoder.py or classification.py with standard input not a terminal."""
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd, env=program_env(),
                          capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _run_here(patch: pytest.MonkeyPatch, script: str, args, cwd) -> subprocess.CompletedProcess:
    """Run autoencoder.py's or classification.py's main() in this process, as run_program does in a new one: the
    same arguments, folder and environment, stdout and stderr captured, the exit status returned."""
    patch.chdir(cwd)
    for name, value in program_env().items():
        patch.setenv(name, value)
    for name in ("DISPLAY", "WAYLAND_DISPLAY"):
        patch.delenv(name, raising=False)
    patch.setattr(sys, "stdin", io.StringIO())  # not a terminal, nothing to read
    main = importlib.import_module(Path(script).stem).main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as e:  # argparse's errors
            code = e.code if isinstance(e.code, int) else 1
    return subprocess.CompletedProcess([script, *map(str, args)], code, out.getvalue(), err.getvalue())


@pytest.fixture
def in_process(monkeypatch):
    """A program run in this process (`_run_here`): where a new process would spend most of its time starting
    TensorFlow."""
    def run(script: str, *args, cwd) -> subprocess.CompletedProcess:
        return _run_here(monkeypatch, script, args, cwd)
    return run


@pytest.fixture(scope="session")
def saved_autoencoder(mnist, tmp_path_factory) -> Path:
    """A small autoencoder trained for one epoch by the real program (in this process) and saved as .h5: once for
    the whole test run, whichever worker gets there first. In the post-activation order: the classifier tests'
    runs are a few steps long, and on a network this small a classifier on the default pre-activation encoder (or
    on random weights in its shape) leaves chance more slowly (test accuracy 0.09-0.15 where the post-activation
    encoder's is 0.15-0.25); at the default network's size it validates higher
    (docs/few-labels.md#the-autoencoders-block-order)."""
    with shared(tmp_path_factory, "ae") as folder:
        path = folder / "ae.h5"
        if not path.exists():
            with pytest.MonkeyPatch.context() as patch:
                done = _run_here(patch, "autoencoder.py", ["-d", mnist["train_images"], "--no-menu", "--layers", 2,
                                                           "--filter-size", 3, "--filters", 4, "--epochs", 1,
                                                           "--batch-size", 32, "--block-order", "post-activation",
                                                           "--out", folder, "--save", path],
                                 cwd=folder)
            assert done.returncode == 0, done.stderr
    return path


def assert_one_line_error(done: subprocess.CompletedProcess, *fragments: str) -> None:
    """The program failed with a non-zero exit and one line on stderr containing each fragment, no traceback."""
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
