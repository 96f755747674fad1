"""Splits, label subsets and labelled-file checks."""

import numpy as np
import pytest

from common.data import dataset, splits
from common.data.idx import write_idx
from common.errors import DataError, UserError


def test_split_is_seeded_disjoint_and_complete():
    first, again = splits.split(1000, 0.2, seed=3), splits.split(1000, 0.2, seed=3)
    other = splits.split(1000, 0.2, 4)
    assert len(first.val) == 200 and len(first.train) == 800
    assert np.array_equal(first.val, again.val)
    assert not np.array_equal(first.val, other.val)
    assert np.array_equal(np.sort(np.concatenate([first.train, first.val])), np.arange(1000))


def test_split_that_leaves_nothing_to_train_on():
    with pytest.raises(UserError, match="leaves no training images"):
        splits.split(1, 0.5, seed=1)


def test_balanced_subset_has_equal_classes_and_is_seeded():
    labels = np.repeat(np.arange(10), 50)
    chosen = splits.balanced_subset(labels, 105, seed=1)
    counts = np.bincount(labels[chosen], minlength=10)
    assert len(np.unique(chosen)) == 105 and counts.max() - counts.min() <= 1
    assert np.array_equal(chosen, splits.balanced_subset(labels, 105, seed=1))


def test_balanced_subset_fills_from_other_classes_when_one_runs_out():
    labels = np.array([0] * 2 + [1] * 100 + list(range(2, 10)) * 100)
    counts = np.bincount(labels[splits.balanced_subset(labels, 100, seed=1)], minlength=10)
    assert counts[0] == 2 and counts.sum() == 100 and counts[1:].min() >= 10


@pytest.mark.parametrize("count, message", [(5, "from 10 \\(one per class\\) to 500"),
                                            (10**6, "from 10 \\(one per class\\) to 500")])
def test_balanced_subset_rejects_impossible_counts(count, message):
    with pytest.raises(UserError, match=message):
        splits.balanced_subset(np.repeat(np.arange(10), 50), count, seed=1)


def test_to_model_input_scales_and_adds_a_channel():
    x = dataset.to_model_input(np.array([[[0, 255]]], dtype=np.uint8))
    assert x.shape == (1, 1, 2, 1) and x.dtype == np.float32 and x.max() == 1.0


def test_labels_and_images_of_different_counts(mnist, tmp_path):
    write_idx(tmp_path / "labels", np.zeros(7, dtype=np.uint8))
    with pytest.raises(DataError, match="holds 7 labels but .* holds 300 images"):
        dataset.load_labelled(mnist["train_images"], tmp_path / "labels")


def test_any_whole_number_labels_become_classes_in_sorted_order(tmp_path):
    write_idx(tmp_path / "images", np.zeros((4, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "labels", np.array([12, 1, 3, 12], dtype=np.uint8))
    train, test = dataset.load_classification((tmp_path / "images", tmp_path / "labels"),
                                              (tmp_path / "images", tmp_path / "labels"))
    assert train.classes.values == (1, 3, 12) and train.classes.names == ("1", "3", "12")
    assert train.labels.tolist() == [2, 0, 1, 2] and test.labels.tolist() == [2, 0, 1, 2]


def test_a_test_label_the_training_labels_lack_is_refused(tmp_path):
    write_idx(tmp_path / "images", np.zeros((3, 28, 28), dtype=np.uint8))
    write_idx(tmp_path / "labels", np.array([1, 2, 3], dtype=np.uint8))
    write_idx(tmp_path / "test-labels", np.array([1, 7, 3], dtype=np.uint8))
    with pytest.raises(DataError, match="test-labels: holds labels the training labels do not: 7 "
                                        r"\(the model knows 3 classes: 1, 2, 3\)"):
        dataset.load_classification((tmp_path / "images", tmp_path / "labels"),
                                    (tmp_path / "images", tmp_path / "test-labels"))


def test_limit_takes_the_classes_in_turn_in_every_format(mnist, tmp_path):
    """--limit N: N images from the classes in turn (two of each of MNIST's ten for 20), each class's first; the same
    from IDX files, .npy files and an .npz archive; images without labels: the first N."""
    every_image, every_label = dataset.load_labelled(mnist["train_images"], mnist["train_labels"])
    images, labels = dataset.load_labelled(mnist["train_images"], mnist["train_labels"], limit=20)
    assert np.bincount(labels).tolist() == [2] * 10
    first_two = np.sort(np.concatenate([np.flatnonzero(every_label == c)[:2] for c in range(10)]))
    assert np.array_equal(images, every_image[first_two]) and np.array_equal(labels, every_label[first_two])
    np.save(tmp_path / "x.npy", every_image[..., 0])
    np.save(tmp_path / "y.npy", every_label)
    np.savez(tmp_path / "set.npz", x_train=every_image[..., 0], y_train=every_label)
    for found in (dataset.load_labelled(tmp_path / "x.npy", tmp_path / "y.npy", limit=20),
                  dataset.load_labelled(tmp_path / "set.npz", limit=20)):
        assert np.array_equal(found[0], images) and np.array_equal(found[1], labels)
    assert np.array_equal(dataset.load_images(mnist["train_images"], 7), every_image[:7])
    assert np.array_equal(dataset.load_images(tmp_path / "x.npy", 7), every_image[:7])


def test_images_without_pixels_are_refused(tmp_path):
    write_idx(tmp_path / "flat", np.zeros((5, 0, 28), dtype=np.uint8))
    with pytest.raises(DataError, match="flat: holds images of 0x28 pixels"):
        dataset.load_images(tmp_path / "flat")
