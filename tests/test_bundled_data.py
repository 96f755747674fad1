"""The bundled MNIST is complete and unchanged."""

import hashlib

from common.data import dataset


def test_bundled_files_match_their_checksums():
    sums = dict(reversed(line.split()) for line in (dataset.MNIST_DIR / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in (dataset.TRAIN_IMAGES, dataset.TRAIN_LABELS, dataset.TEST_IMAGES,
                                          dataset.TEST_LABELS)}
    for name, expected in sums.items():
        assert hashlib.sha256((dataset.MNIST_DIR / name).read_bytes()).hexdigest() == expected, name
