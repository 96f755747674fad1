"""The bundled MNIST; loading images and labels from any format the programs read; turning them into model
inputs, splits and labelled subsets."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.data.arrays import as_images, as_labels, npy_shape, npz_names, read_npy, read_npz
from common.data.classes import Classes, names_file_beside
from common.data.idx import idx_dims, read_images, read_labels
from common.data.image_folder import is_image_folder, read_folder
from common.data.selection import in_turn
from common.errors import DataError

MNIST_DIR = Path(__file__).resolve().parents[2] / "data" / "mnist"
TRAIN_IMAGES = MNIST_DIR / "train-images-idx3-ubyte.gz"
TRAIN_LABELS = MNIST_DIR / "train-labels-idx1-ubyte.gz"
TEST_IMAGES = MNIST_DIR / "t10k-images-idx3-ubyte.gz"
TEST_LABELS = MNIST_DIR / "t10k-labels-idx1-ubyte.gz"
MNIST_CLASSES = 10  # the bundled set's classes; any other set's come from its labels (common/data/classes.py)


@dataclass(frozen=True)
class Labelled:
    """Images and their class numbers, and the classes those number."""
    images: np.ndarray  # uint8 (count, rows, columns, channels)
    labels: np.ndarray  # class numbers 0 .. K-1
    classes: Classes


def load_images(path, limit: int | None = None) -> np.ndarray:
    """The images of an IDX file, a .npy array, an .npz archive (`x_train`) or a folder of image files, `limit` of
    them (common/data/selection.py: a folder's classes in turn, else the first; an IDX or .npy file reads no more),
    as uint8 (count, rows, columns, channels); checked that there is something to train on."""
    path = Path(path)
    if is_image_folder(path):
        images = read_folder(path, limit).images
    elif path.suffix == ".npz":
        images = as_images(read_npz(path, ("x_train",))["x_train"][:limit], f"{path} (x_train)")
    elif path.suffix == ".npy":
        images = as_images(read_npy(path, limit), str(path))
    else:
        images = with_channels(read_images(path, limit), path)
    _check_images(images, path)
    return images


def carries_labels(path) -> bool:
    """Whether a training or test path holds its own labels: a folder (of class sub-folders) or an .npz archive."""
    return Path(path).suffix == ".npz" or is_image_folder(path)


def load_labelled(images_path, labels_path=None, limit: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Images and their labels as the files write them (numbers, or a folder's class names), `limit` of them taken
    from the classes in turn (common/data/selection.py): from an images file and its labels file (IDX or .npy), an
    .npz archive (`x_train`, `y_train`), or a folder with one sub-folder per class."""
    images, labels, _ = _labelled(images_path, labels_path, limit)
    return images, labels


def _labelled(images_path, labels_path, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`load_labelled`'s images and labels, and every label of the set (those `limit` left out too)."""
    path = Path(images_path)
    if carries_labels(path):
        if labels_path is not None:
            raise DataError(f"{labels_path}: the labels of {path} are in it: leave out the separate labels file")
        images, labels, every = _own_labels(path, "x_train", "y_train", limit)
    else:
        if labels_path is None:
            raise DataError(f"{path}: holds images without labels; give their labels file too")
        every = _read_labels(Path(labels_path))
        _check_counts(image_count(path), every, path, labels_path)
        keep = in_turn(every, limit)
        images = load_images(path, int(keep[-1]) + 1 if len(keep) else None)[keep]  # read no further than needed
        labels = every[keep]
    _check_images(images, path)
    return images, labels, every


def image_count(path) -> int:
    """How many images a file or folder holds, read from an IDX header or a .npy header where it can be."""
    path = Path(path)
    if not is_image_folder(path) and path.suffix not in (".npy", ".npz"):
        return idx_dims(path)[0]
    if path.suffix == ".npy" and len(npy_shape(path)) >= 3:
        return npy_shape(path)[0]
    return len(load_images(path))  # also says what is wrong with a file that holds no images


def load_test_part(path, limit: int | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """An .npz archive's test images and labels (`x_test`, `y_test`), or None when the path is no such archive."""
    path = Path(path)
    if path.suffix != ".npz" or is_image_folder(path):
        return None
    return _own_labels(path, "x_test", "y_test", limit)[:2]


def load_classification(train: tuple, test: tuple | None, limit: int | None = None) -> tuple[Labelled, Labelled]:
    """The training and test sets of the classifier, each given as (images path, labels path or None), `limit`
    images of each taken from the classes in turn, labelled with the classes of every training label (named by a
    `classes.txt` beside them). `test` None: the test part of the training .npz. DataError for a test set of another
    image shape or with labels the training set lacks."""
    images, raw, every = _labelled(*train, limit)
    names = names_file_beside(train[1] if train[1] is not None else train[0])
    classes = Classes.of(every, names)
    if len(classes) < 2:
        raise DataError(f"{train[1] or train[0]}: holds one class only ({classes.values[0]}); a classifier needs two "
                        f"or more")
    if test is None:
        found = load_test_part(train[0], limit)
        if found is None:
            raise DataError(f"{train[0]}: holds no test set; give the test images and labels (-t, -tl)")
        test_images, test_raw, test_name = *found, f"{train[0]} (y_test)"
    else:  # an .npz's test part when it has one (its x_train and y_train otherwise)
        own = test[1] is None and {"x_test", "y_test"} <= npz_names(test[0])
        test_images, test_raw = load_test_part(test[0], limit) if own else load_labelled(*test, limit=limit)
        test_name = str(test[1] if test[1] is not None else test[0])
    if test_images.shape[1:] != images.shape[1:]:
        raise DataError(f"{test[0] if test else train[0]}: test images are {describe_shape(test_images)} but the "
                        f"training images in {train[0]} are {describe_shape(images)}")
    train_set = Labelled(images, classes.indices(raw, str(train[1] or train[0])), classes)
    return train_set, Labelled(test_images, classes.indices(test_raw, test_name), classes)


def fit_sides(images: np.ndarray, multiple: int, pad: bool, where) -> np.ndarray:
    """The images when both sides are multiples of `multiple` (what the network's poolings need); padded with zeros
    to the next multiples (centred) when `pad`; else a DataError that says what is needed and offers the padding."""
    rows, cols = images.shape[1:3]
    to_rows = -(-rows // multiple) * multiple
    to_cols = -(-cols // multiple) * multiple
    if (rows, cols) == (to_rows, to_cols):
        return images
    if not pad:
        raise DataError(f"{where}: images are {rows}x{cols}; the network's poolings need sides divisible by "
                        f"{multiple}: --pad pads them with black to {to_rows}x{to_cols}")
    top = (to_rows - rows) // 2
    left = (to_cols - cols) // 2
    return np.pad(images, ((0, 0), (top, to_rows - rows - top), (left, to_cols - cols - left), (0, 0)))


def describe_shape(images: np.ndarray, padded: np.ndarray | None = None) -> str:
    """'28x28' for grey images, '32x32x3' for colour ones; '30x30 padded to 32x32' with the padded images."""
    rows, cols, channels = images.shape[1:4]
    text = f"{rows}x{cols}" + (f"x{channels}" if channels != 1 else "")
    if padded is not None and padded.shape[1:3] != images.shape[1:3]:
        text += f" padded to {padded.shape[1]}x{padded.shape[2]}"
    return text


def with_channels(images: np.ndarray, path) -> np.ndarray:
    """IDX images with a channel axis (a 3-dimensional file's one channel); DataError for other than 1 or 3."""
    if images.ndim == 3:
        return images[..., np.newaxis]
    if images.shape[-1] not in (1, 3):
        raise DataError(f"{path}: holds images of {images.shape[-1]} channels; expected 1 (grey) or 3 (colour)")
    return images


def _own_labels(path: Path, x: str, y: str, limit: int | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Images and labels from one source, `limit` of them in turn, and every label it holds: a folder of class
    sub-folders, or an .npz archive's arrays `x`, `y`."""
    if is_image_folder(path):
        found = read_folder(path, limit)
        if found.labels is None:
            raise DataError(f"{path}: holds images but no class sub-folders; put each class's images in a "
                            f"sub-folder named after it")
        return found.images, found.labels, found.every_label
    arrays = read_npz(path, (x, y))
    if x not in arrays or y not in arrays:
        missing = " and ".join(k for k in (x, y) if k not in arrays)
        raise DataError(f"{path}: holds no {missing}" + ("; give the test images and labels (-t, -tl)"
                                                            if x == "x_test" else "; the classifier needs labels"))
    images = as_images(arrays[x], f"{path} ({x})")
    labels = as_labels(arrays[y], f"{path} ({y})")
    _check_counts(len(images), labels, f"{path} ({x})", f"{path} ({y})")
    keep = in_turn(labels, limit)
    return images[keep], labels[keep], labels


def _read_labels(path: Path) -> np.ndarray:
    if path.suffix == ".npy":
        return as_labels(read_npy(path), str(path))
    return read_labels(path).astype(np.int64)


def _check_counts(images: int, labels: np.ndarray, images_name, labels_name) -> None:
    if images != labels.shape[0]:
        raise DataError(f"{labels_name}: holds {labels.shape[0]} labels but {images_name} holds {images} images")


def _check_images(images: np.ndarray, path) -> None:
    """DataError for a file with nothing to train on: no images, or images with no pixels."""
    if images.shape[0] == 0:
        raise DataError(f"{path}: holds no images")
    if 0 in images.shape[1:3]:
        raise DataError(f"{path}: holds images of {images.shape[1]}x{images.shape[2]} pixels: nothing to learn from")


def to_model_input(images: np.ndarray) -> np.ndarray:
    """Scale uint8 images to float32 in [0, 1], with a trailing channel axis (added to 3-dimensional arrays)."""
    pixels = images.astype(np.float32) / 255.0
    return pixels[..., np.newaxis] if pixels.ndim == 3 else pixels
