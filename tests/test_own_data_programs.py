"""Both programs on sets other than MNIST's ten grey digits: a colour set in an .npz, 3 and 26 classes with
named or numbered labels, a folder of PNGs that needs padding, and what each program answers to a bad set."""

import json

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from common.data import dataset
from common.data.idx import read_images, read_labels, write_idx
from tests.conftest import assert_one_line_error
from tests.helpers import save_folder

AE = ["--layers", 2, "--filter-size", 3, "--filters", 4, "--epochs", 1, "--batch-size", 32]
CLASSIFIER = ["--fc-units", 16, "--epochs", 1, "--fine-tune-epochs", 1, "--batch-size", 16]


def colour_set(mnist, path):
    """MNIST's digits padded to 32x32 and painted in a colour of their class, as an .npz with a test part."""
    colours = np.random.default_rng(0).uniform(0.3, 1.0, (10, 3))

    def paint(images, labels):
        padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))[..., np.newaxis]
        return np.rint(padded * colours[labels][:, np.newaxis, np.newaxis, :]).astype(np.uint8)

    train_y, test_y = read_labels(mnist["train_labels"]), read_labels(mnist["test_labels"])
    np.savez(path, x_train=paint(read_images(mnist["train_images"]), train_y), y_train=train_y,
             x_test=paint(read_images(mnist["test_images"]), test_y), y_test=test_y)
    return path


def test_a_colour_set_goes_through_both_programs_in_colour(mnist, tmp_path, in_process):
    data = colour_set(mnist, tmp_path / "colour.npz")
    done = in_process("autoencoder.py", "-d", data, "--no-menu", *AE, "--save", tmp_path / "ae.h5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Loaded 300 images of 32x32x3 from" in " ".join(done.stdout.split())
    assert json.loads((tmp_path / "ae.h5.json").read_text())["image_shape"] == "32x32x3"
    assert pd.read_csv(tmp_path / "runs" / "loss_values.csv").loc[0, "Image_Shape"] == "32x32x3"
    done = in_process("classification.py", "-d", data, "-model", tmp_path / "ae.h5", "--no-menu", *CLASSIFIER,
                       cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())  # long paths wrap lines
    assert "(10 classes: 0, 1, 2, ..., 8, 9)" in said and "100 test images" in said
    assert "Test accuracy:" in done.stdout
    grid = np.asarray(Image.open(tmp_path / "runs" / "plots" / "classifier_correct_predictions.png").convert("RGB"))
    spread = grid.astype(int).max(axis=-1) - grid.astype(int).min(axis=-1)
    assert spread.max() > 60  # coloured pixels, not grey ones (grey has equal red, green and blue)


def report_rows(stdout: str) -> list[str]:
    """The class column of the per-class report."""
    report = stdout[stdout.index("per-class report"):]
    cells = [[cell.strip() for cell in line.split("│")[1:-1]] for line in report.splitlines() if "│" in line]
    return [row[0] for row in cells if len(row) == 5]


def _subset(mnist, labels_of):
    """The MNIST slice's images with labels mapped by `labels_of(original labels)` (None: the image is left out)."""
    out = {}
    for part in ("train", "test"):
        images, labels = read_images(mnist[f"{part}_images"]), read_labels(mnist[f"{part}_labels"])
        mapped = labels_of(labels, np.arange(len(labels)))
        keep = mapped >= 0
        out[part] = images[keep], mapped[keep].astype(np.uint8)
    return out


def _write_idx_set(sets, folder):
    for part, (images, labels) in sets.items():
        write_idx(folder / f"{part}-images.gz", images)
        write_idx(folder / f"{part}-labels.gz", labels)
    return ["-d", folder / "train-images.gz", "-dl", folder / "train-labels.gz", "-t", folder / "test-images.gz",
            "-tl", folder / "test-labels.gz"]


def test_three_named_classes_train_and_report_by_name(mnist, saved_autoencoder, tmp_path, in_process):
    flags = _write_idx_set(_subset(mnist, lambda y, i: np.where(y < 3, 10 * (y.astype(int) + 1), -1)), tmp_path)
    (tmp_path / "classes.txt").write_text("zero\none\ntwo\n")  # labels 10, 20, 30 in that order
    done = in_process("classification.py", *flags, "-model", saved_autoencoder, "--no-menu", *CLASSIFIER,
                      cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(3 classes: zero, one, two)" in " ".join(done.stdout.split())
    assert report_rows(done.stdout) == ["zero", "one", "two"]
    sidecar = json.loads(next((tmp_path / "runs").glob("classifier*.h5.json")).read_text())
    assert sidecar["classes"] == {"values": [10, 20, 30], "names": ["zero", "one", "two"]}


def test_twenty_six_classes_numbered_1_to_26_train_and_report_each(mnist, saved_autoencoder, tmp_path, in_process):
    flags = _write_idx_set(_subset(mnist, lambda y, i: i % 26 + 1), tmp_path)
    done = in_process("classification.py", *flags, "-model", saved_autoencoder, "--no-menu", *CLASSIFIER,
                      "--labels", 52, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "(26 classes: 1, 2, 3, ..., 25, 26)" in " ".join(done.stdout.split())
    assert report_rows(done.stdout) == [str(n) for n in range(1, 27)]
    runs = pd.read_csv(tmp_path / "runs" / "classification_loss_values.csv")
    assert runs.loc[0, "Labels_Used"] == 52 and 1 / 26 < runs.loc[0, "Test_Accuracy"] <= 1  # above chance


def test_a_folder_of_30x30_pngs_trains_once_padded(mnist, tmp_path, in_process):
    images = np.pad(read_images(mnist["train_images"])[:80], ((0, 0), (1, 1), (1, 1)))[..., np.newaxis]
    save_folder(tmp_path / "pngs", images, None)
    done = in_process("autoencoder.py", "-d", tmp_path / "pngs", "--no-menu", *AE, cwd=tmp_path)
    assert_one_line_error(done, "pngs: images are 30x30; the network's poolings need sides divisible by 4: --pad "
                                "pads them with black to 32x32")
    done = in_process("autoencoder.py", "-d", tmp_path / "pngs", "--pad", "--no-menu", *AE, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "Loaded 80 images of 30x30 padded to 32x32 from" in " ".join(done.stdout.split())
    assert pd.read_csv(tmp_path / "runs" / "loss_values.csv").loc[0, "Image_Shape"] == "32x32x1"


def _bad_sets(folder, mnist):
    colour_set(mnist, folder / "colour.npz")
    write_idx(folder / "unseen-labels.gz", np.where(read_labels(mnist["test_labels"]) == 3, 42, 1).astype(np.uint8))
    (folder / "empty").mkdir()
    save_folder(folder / "broken", np.zeros((2, 28, 28, 1), dtype=np.uint8), np.array([0, 1]))
    (folder / "broken" / "1" / "00001.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 30)
    np.savez(folder / "arrays.npz", images=np.zeros((3, 28, 28), dtype=np.uint8))


@pytest.mark.parametrize("change, fragments", [
    ({"-tl": "unseen-labels.gz"}, ["unseen-labels.gz: holds labels the training labels do not: 42 (the model knows "
                                   "10 classes: 0, 1, 2, ..., 8, 9)"]),
    ({"-t": "colour.npz", "-tl": None}, ["colour.npz: test images are 32x32x3 but the training images in"]),
    ({"-d": "colour.npz", "-dl": None, "-t": None, "-tl": None},
     ["ae.h5: expects inputs of 28x28x1 but the images in", "colour.npz are 32x32x3"]),
    ({"-d": "empty", "-dl": None}, ["empty: holds no images"]),
    ({"-d": "broken", "-dl": None}, ["00001.png: not a readable image"]),
    ({"-d": "arrays.npz", "-dl": None}, ["arrays.npz: holds no x_train (found images)"]),
    ({"-dl": None}, ["-d/-dl:", "holds images only: give their labels file too"]),
])
def test_bad_sets_give_one_line_and_a_non_zero_exit(mnist, saved_autoencoder, tmp_path, in_process, change,
                                                   fragments):
    _bad_sets(tmp_path, mnist)
    flags = {"-d": mnist["train_images"], "-dl": mnist["train_labels"], "-t": mnist["test_images"],
             "-tl": mnist["test_labels"], "-model": saved_autoencoder, **change}
    args = [str(a) for key, value in flags.items() if value is not None for a in (key, value)]
    done = in_process("classification.py", *args, "--no-menu", *CLASSIFIER, cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert not (tmp_path / "runs" / "classification_loss_values.csv").exists()


def test_only_autoencoders_of_the_images_shape_are_offered(tmp_path):
    from rich.console import Console

    from common.ui.programs.autoencoder_source import AutoencoderSource

    for name, shape in (("grey.h5", "28x28x1"), ("colour.h5", "32x32x3"), ("older.h5", None)):
        (tmp_path / name).write_bytes(b"model")
        sidecar = {"kind": "autoencoder"} | ({"image_shape": shape} if shape else {})
        (tmp_path / f"{name}.json").write_text(json.dumps(sidecar))
    source = AutoencoderSource(tmp_path, (32, 32, 3), "colour.npz", Console(), ask=None)
    assert sorted(p.name for p in source.saved()) == ["colour.h5", "older.h5"]  # an older sidecar does not say


def test_limit_takes_the_classes_in_turn_and_a_scarce_class_is_named(mnist, saved_autoencoder, tmp_path,
                                                                     in_process):
    """A folder of three classes, 40 images each, sorted by class: --limit 60 trains on 20 of each (not 40, 20
    and none). A label that appears once among the training labels is named in a warning; training would go on."""
    digits, labels = read_images(dataset.TRAIN_IMAGES, 600), read_labels(dataset.TRAIN_LABELS)[:600]
    keep = np.concatenate([np.flatnonzero(labels == digit)[:40] for digit in (0, 1, 2)])
    save_folder(tmp_path / "three", digits[keep][..., np.newaxis], labels[keep], ["zero", "one", "two"])
    train, _ = dataset.load_classification((tmp_path / "three", None), (tmp_path / "three", None), limit=60)
    assert np.bincount(train.labels).tolist() == [20, 20, 20]
    done = in_process("classification.py", "-d", tmp_path / "three", "-t", tmp_path / "three", "--limit", 60,
                      "-model", saved_autoencoder, "--no-menu", *CLASSIFIER, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    said = " ".join(done.stdout.split())
    assert "Loaded 60 labelled images" in said and "(3 classes: one, two, zero)" in said and "warning" not in said
    stray = read_labels(mnist["train_labels"]).copy()
    stray[7] = 42
    write_idx(tmp_path / "stray-labels.gz", stray)
    done = in_process("classification.py", "-d", mnist["train_images"], "-dl", tmp_path / "stray-labels.gz",
                      "-t", mnist["test_images"], "-tl", mnist["test_labels"], "-model", tmp_path / "missing.h5",
                      "--no-menu", *CLASSIFIER, cwd=tmp_path)
    assert "warning: " in done.stdout and "class with fewer than 5 training images: 42 (1 image); training goes " \
                                          "on" in " ".join(done.stdout.split())
