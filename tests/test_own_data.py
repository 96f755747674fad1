"""Users' own data: .npz, .npy and folders of images read to the same arrays as the IDX files they were made from;
classes from the labels, named; colour; sides that need padding; and a one-line error for each kind of bad set."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from common.data import dataset
from common.data.classes import Classes
from common.data.idx import read_images, read_labels, write_idx
from common.errors import DataError
from tests.helpers import save_folder


@pytest.fixture(scope="module")
def mnist_slice():
    return read_images(dataset.TRAIN_IMAGES)[:60], read_labels(dataset.TRAIN_LABELS)[:60]


def test_npz_npy_and_a_folder_of_pngs_give_the_idx_arrays(mnist_slice, tmp_path):
    images, labels = mnist_slice
    write_idx(tmp_path / "x.gz", images)
    write_idx(tmp_path / "y.gz", labels)
    from_idx = dataset.load_labelled(tmp_path / "x.gz", tmp_path / "y.gz")
    np.savez(tmp_path / "set.npz", x_train=images, y_train=labels, x_test=images[:7], y_test=labels[:7])
    np.save(tmp_path / "x.npy", images)
    np.save(tmp_path / "y.npy", labels)
    save_folder(tmp_path / "pngs", images[..., np.newaxis], labels)
    order = np.lexsort((np.arange(len(labels)), labels))  # a folder lists its images by class, then by name
    for found, expected_order in [(dataset.load_labelled(tmp_path / "set.npz"), slice(None)),
                                  (dataset.load_labelled(tmp_path / "x.npy", tmp_path / "y.npy"), slice(None)),
                                  (dataset.load_labelled(tmp_path / "pngs"), order)]:
        assert found[0].dtype == np.uint8 and np.array_equal(found[0], from_idx[0][expected_order])
        assert [int(v) for v in found[1]] == from_idx[1][expected_order].tolist()
    assert np.array_equal(dataset.load_test_part(tmp_path / "set.npz")[0], from_idx[0][:7])
    assert np.array_equal(dataset.load_images(tmp_path / "pngs"), from_idx[0][order])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(images=hnp.arrays(np.uint8, st.tuples(st.integers(1, 4), st.integers(1, 9), st.integers(1, 9),
                                             st.sampled_from([1, 3]))))
def test_every_format_reads_back_what_was_written(images, tmp_path_factory):
    folder = tmp_path_factory.mktemp("formats")
    write_idx(folder / "x.idx", images)
    np.save(folder / "x.npy", images)
    np.savez(folder / "x.npz", x_train=images)
    save_folder(folder / "flat", images, None)
    for path in ("x.idx", "x.npy", "x.npz", "flat"):
        assert np.array_equal(dataset.load_images(folder / path), images), path


def test_floats_in_0_1_are_scaled_and_a_column_of_labels_is_one_label_each(tmp_path):
    np.savez(tmp_path / "f.npz", x_train=np.array([[[0.0, 0.5], [1.0, 0.2]]], dtype=np.float32),
             y_train=np.array([[4]]))
    images, labels = dataset.load_labelled(tmp_path / "f.npz")
    assert images[0, ..., 0].tolist() == [[0, 128], [255, 51]] and labels.tolist() == [4]


def test_classes_are_sorted_like_numbers_and_named_from_classes_txt(tmp_path):
    labels = np.array([26, 1, 9, 10, 2])
    assert Classes.of(labels).values == (1, 2, 9, 10, 26)
    assert Classes.of(np.array(["10", "9", "b", "a"])).values == ("9", "10", "a", "b")
    (tmp_path / "classes.txt").write_text("one\ntwo\nnine\nten\ntwenty-six\n")
    assert Classes.of(labels, tmp_path / "classes.txt").names == ("one", "two", "nine", "ten", "twenty-six")
    (tmp_path / "classes.txt").write_text("one\ntwo\n")
    with pytest.raises(DataError, match="classes.txt: names 2 classes but the training labels hold 5"):
        Classes.of(labels, tmp_path / "classes.txt")


def test_a_folders_classes_are_its_sub_folders_and_limit_takes_them_in_turn(mnist_slice, tmp_path):
    images, labels = mnist_slice
    names = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    save_folder(tmp_path / "set", images[..., np.newaxis], labels, names)
    train, test = dataset.load_classification((tmp_path / "set", None), (tmp_path / "set", None))
    assert train.classes.names == tuple(sorted(names)) and len(train.classes) == 10
    assert np.array_equal(train.labels, test.labels)
    assert [train.classes.names[c] for c in train.labels[:3]] == ["eight"] * 3
    _, few = dataset.load_labelled(tmp_path / "set", limit=10)
    assert sorted(few.tolist()) == sorted(names)  # one of each class, not ten of the first


def test_colour_idx_files_keep_their_channels(tmp_path):
    colour = np.random.default_rng(1).integers(0, 256, (5, 8, 12, 3), dtype=np.uint8)
    write_idx(tmp_path / "colour.gz", colour)
    assert np.array_equal(dataset.load_images(tmp_path / "colour.gz"), colour)
    assert dataset.describe_shape(colour) == "8x12x3"


def test_sides_are_padded_to_what_the_poolings_need_only_when_asked(tmp_path):
    images = np.full((2, 30, 29, 1), 200, dtype=np.uint8)
    with pytest.raises(DataError, match="x.gz: images are 30x29; the network's poolings need sides divisible by "
                                        "4: --pad pads them with black to 32x32"):
        dataset.fit_sides(images, 4, False, "x.gz")
    padded = dataset.fit_sides(images, 4, True, "x.gz")
    assert padded.shape == (2, 32, 32, 1) and padded.sum() == images.sum()
    assert padded[0, 1, 1, 0] == 200 and padded[0, 0, 0, 0] == 0  # centred: one row above, two below
    assert dataset.fit_sides(padded, 4, False, "x.gz") is padded


def _empty_folder(folder):
    (folder / "empty").mkdir()
    (folder / "empty" / "notes.txt").write_text("no images here")
    return folder / "empty"


def _corrupt_png(folder):
    save_folder(folder / "broken", np.zeros((2, 8, 8, 1), dtype=np.uint8), np.array([0, 1]))
    path = folder / "broken" / "1" / "00001.png"
    path.write_bytes(path.read_bytes()[:40])
    return folder / "broken"


def _saved(name, write):
    def make(folder):
        write(folder / name)
        return folder / name
    return make


@pytest.mark.parametrize("make, fragment", [
    (_empty_folder, "empty: holds no images (PNG, JPG, JPEG, BMP, GIF files, directly or in one sub-folder per class)"),
    (_corrupt_png, "00001.png: not a readable image"),
    (_saved("other.npz", lambda path: np.savez(path, images=np.zeros((2, 4, 4)))),
     "other.npz: holds no x_train (found images); expected Keras' names: x_train, y_train, x_test, y_test"),
    (_saved("x.npy", lambda path: np.save(path, np.zeros((2, 4, 4, 4)))),
     "x.npy: holds an array of 2x4x4x4; expected images as count x rows x columns, with 1 or 3 channels last"),
    (_saved("x.npy", lambda path: np.save(path, np.full((2, 4, 4), 300.0))),
     "x.npy: pixel values run from 300 to 300; expected floats in 0-1 or 0-255"),
    (_saved("n.npy", lambda path: path.write_bytes(b"not numpy")), "n.npy: not a readable .npy array"),
])
def test_bad_sets_are_refused_with_one_line_naming_the_file(tmp_path, make, fragment):
    path = make(tmp_path)
    with pytest.raises(DataError) as caught:
        dataset.load_images(path)
    assert fragment in str(caught.value) and "\n" not in str(caught.value)


def test_images_of_different_sizes_in_one_folder(tmp_path):
    save_folder(tmp_path / "set", np.zeros((2, 8, 8, 1), dtype=np.uint8), np.array([0, 1]))
    Image.fromarray(np.zeros((9, 8), dtype=np.uint8)).save(tmp_path / "set" / "1" / "odd.png")
    with pytest.raises(DataError, match=r"odd.png: is 8x9 pixels but 00000.png is 8x8"):
        dataset.load_labelled(tmp_path / "set")


def test_a_test_set_of_another_shape_and_an_npz_without_labels(mnist_slice, tmp_path):
    images, labels = mnist_slice
    np.savez(tmp_path / "train.npz", x_train=images, y_train=labels)
    np.savez(tmp_path / "wide.npz", x_train=np.zeros((3, 32, 32, 3), dtype=np.uint8), y_train=labels[:3])
    with pytest.raises(DataError, match="wide.npz: test images are 32x32x3 but the training images in .*train.npz "
                                        "are 28x28"):
        dataset.load_classification((tmp_path / "train.npz", None), (tmp_path / "wide.npz", None))
    with pytest.raises(DataError, match=r"train.npz: holds no x_test and y_test; give the test images and labels "
                                        r"\(-t, -tl\)"):
        dataset.load_classification((tmp_path / "train.npz", None), None)
    np.savez(tmp_path / "unlabelled.npz", x_train=images)
    with pytest.raises(DataError, match="unlabelled.npz: holds no y_train; the classifier needs labels"):
        dataset.load_labelled(tmp_path / "unlabelled.npz")


def test_an_npz_given_as_the_test_set_gives_its_test_part(mnist_slice, tmp_path):
    images, labels = mnist_slice
    np.savez(tmp_path / "all.npz", x_train=images[:40], y_train=labels[:40], x_test=images[40:], y_test=labels[40:])
    np.savez(tmp_path / "only.npz", x_train=images[:30], y_train=labels[:30])
    _, test = dataset.load_classification((tmp_path / "all.npz", None), (tmp_path / "all.npz", None))
    assert np.array_equal(test.images[..., 0], images[40:])
    _, test = dataset.load_classification((tmp_path / "all.npz", None), (tmp_path / "only.npz", None))
    assert np.array_equal(test.images[..., 0], images[:30])
