"""The IDX reader on the real files and on every kind of broken file."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common.data import dataset
from common.data.idx import read_images, read_labels, write_idx
from common.errors import DataError


def test_reads_the_bundled_training_images_and_labels():
    images, labels = read_images(dataset.TRAIN_IMAGES), read_labels(dataset.TRAIN_LABELS)
    assert images.shape == (60000, 28, 28) and images.dtype == np.uint8
    assert labels.shape == (60000,) and set(np.unique(labels)) == set(range(10))
    assert labels[:5].tolist() == [5, 0, 4, 1, 9]  # the well-known first MNIST labels


def test_raw_and_gzip_files_read_the_same(tmp_path):
    images = read_images(dataset.TEST_IMAGES)[:50]
    write_idx(tmp_path / "raw", images)
    write_idx(tmp_path / "packed.gz", images)
    assert np.array_equal(read_images(tmp_path / "raw"), images)
    assert np.array_equal(read_images(tmp_path / "packed.gz"), images)


@settings(max_examples=60, deadline=None)
@given(count=st.integers(0, 12), rows=st.integers(1, 5), columns=st.integers(1, 5), limit=st.integers(0, 15),
       packed=st.booleans(), seed=st.integers(0, 2**16))
def test_reading_the_first_n_images_gives_those_of_the_whole_file(tmp_path_factory, count, rows, columns, limit,
                                                                   packed, seed):
    images = np.random.default_rng(seed).integers(0, 256, (count, rows, columns), dtype=np.uint8)
    path = tmp_path_factory.mktemp("idx") / ("images.gz" if packed else "images")
    write_idx(path, images)
    assert np.array_equal(read_images(path, limit), read_images(path)[:limit])


def test_the_first_n_images_are_read_without_the_rest(tmp_path):
    """A gzip file whose later images are missing (cut short) gives its first ones; read whole, it is refused."""
    images = read_images(dataset.TEST_IMAGES)[:200]
    write_idx(tmp_path / "whole.gz", images)
    packed = (tmp_path / "whole.gz").read_bytes()
    (tmp_path / "cut.gz").write_bytes(packed[:len(packed) // 3])
    assert np.array_equal(read_images(tmp_path / "cut.gz", 5), images[:5])
    with pytest.raises(DataError, match="cut.gz"):
        read_images(tmp_path / "cut.gz")


def test_missing_file_is_named(tmp_path):
    with pytest.raises(DataError, match="nothere.gz: no such file"):
        read_images(tmp_path / "nothere.gz")


def test_labels_file_passed_as_images():
    with pytest.raises(DataError, match="IDX labels file, expected IDX images"):
        read_images(dataset.TRAIN_LABELS)


def test_images_file_passed_as_labels():
    with pytest.raises(DataError, match="IDX images file, expected IDX labels"):
        read_labels(dataset.TEST_IMAGES)


def test_truncated_file(tmp_path):
    write_idx(tmp_path / "full", read_images(dataset.TEST_IMAGES)[:10])
    (tmp_path / "cut").write_bytes((tmp_path / "full").read_bytes()[:-100])
    with pytest.raises(DataError, match=r"cut: truncated: the header promises 10 images of 28x28 \(7840 bytes\) "
                                        r"but only 7740 bytes follow"):
        read_images(tmp_path / "cut")


def test_extra_bytes_after_the_data(tmp_path):
    write_idx(tmp_path / "full", read_labels(dataset.TEST_LABELS)[:10])
    (tmp_path / "long").write_bytes((tmp_path / "full").read_bytes() + b"xyz")
    with pytest.raises(DataError, match="3 unexpected bytes"):
        read_labels(tmp_path / "long")


def test_not_an_idx_file(tmp_path):
    (tmp_path / "notes.txt").write_text("hello, these are not images\n")
    with pytest.raises(DataError, match="notes.txt: not an IDX file"):
        read_images(tmp_path / "notes.txt")


def test_corrupt_gzip(tmp_path):
    packed = gzip.compress(b"\x00\x00\x08\x03" + bytes(1000))
    (tmp_path / "bad.gz").write_bytes(packed[:len(packed) // 2])
    with pytest.raises(DataError, match="bad.gz: corrupt gzip data"):
        read_images(tmp_path / "bad.gz")


def test_truncated_header(tmp_path):
    (tmp_path / "stub").write_bytes(b"\x00\x00\x08\x03\x00\x00")
    with pytest.raises(DataError, match="truncated header"):
        read_images(tmp_path / "stub")


def test_directory_instead_of_a_file(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        read_images(tmp_path)
