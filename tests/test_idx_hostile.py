"""The IDX reader against damaged and hostile files: it returns exactly what the bytes say or raises its own
error, never another exception, and never asks for more memory than the file can hold."""

import gzip
import math
import tracemalloc

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from common.data import dataset
from common.data.idx import DEFLATE_MAX_RATIO, IMAGES_MAGIC, LABELS_MAGIC, read_idx, read_images, write_idx
from common.errors import DataError

IMAGES = dataset.TRAIN_IMAGES
SLACK = 2 << 20  # read chunks and bookkeeping besides the data itself


@pytest.fixture(scope="module")
def real_files(tmp_path_factory):
    """20 real images and their labels, as raw IDX bytes."""
    folder = tmp_path_factory.mktemp("idx")
    write_idx(folder / "images", read_images(IMAGES)[:20])
    write_idx(folder / "labels", dataset.load_labelled(dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, 20)[1])
    return {IMAGES_MAGIC: (folder / "images").read_bytes(), LABELS_MAGIC: (folder / "labels").read_bytes()}


def what_the_bytes_say(data: bytes, magic: int):
    """The array an IDX stream of this kind holds, or None when it is not a well-formed one."""
    if len(data) < 4 or int.from_bytes(data[:4], "big") != magic:
        return None
    ndim = data[3]
    header = 4 + 4 * ndim
    if len(data) < header:
        return None
    dims = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    if len(data) - header != math.prod(dims):
        return None
    return np.frombuffer(data[header:], dtype=np.uint8).reshape(dims)


def read_measured(path, magic):
    """Read with tracemalloc on: (array or the DataError raised, peak bytes allocated meanwhile)."""
    tracemalloc.start()
    try:
        result = read_idx(path, magic)
    except DataError as e:
        result = e
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return result, peak


edits = st.lists(st.tuples(st.integers(0, 2 ** 16), st.integers(0, 255)), max_size=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from([IMAGES_MAGIC, LABELS_MAGIC]), header_edits=edits, body_edits=edits,
       cut=st.integers(-200, 200), packed=st.booleans())
def test_mutated_files_read_as_their_bytes_say_or_fail_with_the_readers_error(real_files, tmp_path, kind,
                                                                             header_edits, body_edits, cut, packed):
    data = bytearray(real_files[kind])
    for at, value in header_edits:  # the header: magic, number of dimensions, dimensions
        data[at % 16] = value
    for at, value in body_edits:
        data[at % len(data)] = value
    data = bytes(data[:len(data) + cut]) if cut < 0 else bytes(data) + bytes(range(cut))
    path = tmp_path / "mutated"
    path.write_bytes(gzip.compress(data) if packed else data)
    result, peak = read_measured(path, kind)
    expected = what_the_bytes_say(data, kind)
    if expected is None:
        assert isinstance(result, DataError) and str(path) in str(result)
    else:
        assert isinstance(result, np.ndarray) and result.shape == expected.shape
        assert np.array_equal(result, expected)
    size = path.stat().st_size
    assert peak <= (DEFLATE_MAX_RATIO * size if packed else size) + SLACK


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edits=st.lists(st.tuples(st.integers(0, 10 ** 6), st.integers(0, 255)), min_size=1, max_size=8),
       cut=st.integers(-40, 0))
def test_damaged_gzip_streams_fail_with_the_readers_error(real_files, tmp_path, edits, cut):
    packed = bytearray(gzip.compress(real_files[IMAGES_MAGIC]))
    for at, value in edits:
        packed[at % len(packed)] = value
    path = tmp_path / "damaged.gz"
    path.write_bytes(bytes(packed[:len(packed) + cut]))
    try:
        whole = gzip.GzipFile(path).read()
    except Exception:  # noqa: BLE001  (gzip itself refuses it, however: so must the reader, in its own words)
        whole = None
    result, peak = read_measured(path, IMAGES_MAGIC)
    expected = None if whole is None else what_the_bytes_say(whole, IMAGES_MAGIC)
    if expected is None:
        assert isinstance(result, DataError) and str(path) in str(result)
    else:
        assert np.array_equal(result, expected)
    assert peak <= DEFLATE_MAX_RATIO * path.stat().st_size + SLACK


@pytest.mark.parametrize("dims", [(2 ** 32 - 1,) * 3, (60000, 2 ** 20, 2 ** 20), (2 ** 31, 28, 28)])
def test_huge_promises_are_refused_before_any_buffer_is_made(tmp_path, dims):
    header = IMAGES_MAGIC.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    for name, content in (("raw", header + bytes(15680)), ("packed.gz", gzip.compress(header + bytes(15680)))):
        (tmp_path / name).write_bytes(content)
        result, peak = read_measured(tmp_path / name, IMAGES_MAGIC)
        assert isinstance(result, DataError) and peak < SLACK, (name, result)
        assert "header promises" in str(result)


def test_what_is_not_a_regular_file_is_named(tmp_path):
    with pytest.raises(DataError, match="null: is not a regular file"):
        read_idx("/dev/null", IMAGES_MAGIC)
    (tmp_path / "stub.gz").write_bytes(b"\x1f\x8b\x08")
    with pytest.raises(DataError, match="stub.gz: corrupt gzip data"):
        read_idx(tmp_path / "stub.gz", IMAGES_MAGIC)
