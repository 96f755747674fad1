"""A folder of image files (PNG, JPEG, BMP, GIF): one sub-folder per class (the layout of
`keras.utils.image_dataset_from_directory`, labels from the sub-folder names), or images directly in the folder
for the autoencoder alone. Decoded by Pillow (in several processes for a large set), chunk by chunk into one array:
never two decoded copies of the set."""

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.data.selection import in_turn
from common.errors import DataError, first_line

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "F")  # Pillow's modes of grey images: decoded as one channel
CHUNK = 1000  # images decoded at a time (by one process)
PARALLEL_FROM = 4000  # images: fewer are decoded in this process (starting others would cost more than it saves)
MAX_WORKERS = 8  # processes decoding at most


@dataclass(frozen=True)
class FolderImages:
    """What a folder holds."""
    images: np.ndarray  # uint8 (count, rows, columns, channels): 1 channel when every image is grey, else 3
    labels: np.ndarray | None  # each image's class folder name, None for a flat folder
    files: list[str]  # each image's file, in the order of `images`
    every_label: np.ndarray | None  # the class folder name of every image in the folder, those not read too


def is_image_folder(path) -> bool:
    return Path(path).is_dir()


def read_folder(path, limit: int | None = None) -> FolderImages:
    """Decode every image of the folder (or `limit` of them: common/data/selection.py) in the order of their
    class and file names: in one process, or for many files in several (each decodes a share and hands it back, so
    the set is held decoded only once). DataError naming the file for an unreadable image or one of another size,
    and for a folder with no images."""
    path = Path(path)
    files, labels = _listing(path)
    every = labels
    if limit and limit < len(files):
        keep = in_turn(labels, limit) if labels is not None else np.arange(limit)
        files = [files[i] for i in keep]
        labels = None if labels is None else labels[keep]
    images = None
    for start, chunk in _decoded_chunks(files):
        images = _place(images, chunk, start, len(files), files)
    return FolderImages(images, labels, files, every)


def _decoded_chunks(files: list[str]):
    """(index of the first, uint8 array) for consecutive chunks of the files, in order."""
    workers = min(os.cpu_count() or 1, MAX_WORKERS)
    chunks = [files[i:i + CHUNK] for i in range(0, len(files), CHUNK)]
    if workers < 2 or len(files) < PARALLEL_FROM:
        yield from ((i * CHUNK, _decode_all(chunk)) for i, chunk in enumerate(chunks))
        return
    spawn = multiprocessing.get_context("spawn")  # never fork a process that may be running TensorFlow's threads
    with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
        yield from ((i * CHUNK, decoded) for i, decoded in enumerate(pool.map(_decode_all, chunks)))


def _place(images: np.ndarray | None, chunk: np.ndarray, start: int, count: int, files: list[str]) -> np.ndarray:
    """Put a decoded chunk into the set's array (made at the first chunk; made colour when a colour chunk comes
    after grey ones), checking its images have the set's size."""
    if images is None:
        images = np.empty((count, *chunk.shape[1:]), dtype=np.uint8)
    if chunk.shape[1:3] != images.shape[1:3]:
        raise DataError(f"{files[start]}: is {chunk.shape[2]}x{chunk.shape[1]} pixels but {_name(files[0])} is "
                        f"{images.shape[2]}x{images.shape[1]}; every image must have the same size")
    if chunk.shape[3] > images.shape[3]:  # the first colour image: the grey ones so far become colour
        images = np.repeat(images, 3, axis=3)
    images[start:start + len(chunk)] = chunk  # a grey chunk into a colour set is repeated over the channels
    return images


def _decode_all(files: list[str]) -> np.ndarray:
    """The files decoded into one uint8 array (count, rows, columns, channels): 1 channel when all are grey, else
    3. DataError for an unreadable file or one whose size differs from the first's."""
    decoded = [_decode(file) for file in files]
    for file, image in zip(files, decoded):
        if image.shape[:2] != decoded[0].shape[:2]:
            raise DataError(f"{file}: is {image.shape[1]}x{image.shape[0]} pixels but {_name(files[0])} is "
                            f"{decoded[0].shape[1]}x{decoded[0].shape[0]}; every image must have the same size")
    channels = max(image.shape[2] for image in decoded)
    return np.stack([np.repeat(image, channels // image.shape[2], axis=2) for image in decoded])


def _listing(path: Path) -> tuple[list[str], np.ndarray | None]:
    """The image files and their labels (None for a flat folder), sorted by class then by name."""
    if not path.exists():
        raise DataError(f"{path}: no such folder")
    entries = sorted((e for e in os.scandir(path) if not e.name.startswith(".")), key=lambda e: e.name)
    loose = [e.path for e in entries if _is_image(e)]
    classes = {e.name: _images_under(e.path) for e in entries if e.is_dir()}
    classes = {name: found for name, found in classes.items() if found}
    if loose and classes:
        raise DataError(f"{path}: holds images beside class sub-folders ({_name(loose[0])}); put every image in the "
                        f"sub-folder of its class, or use a folder without sub-folders")
    if loose:
        return loose, None
    if not classes:
        raise DataError(f"{path}: holds no images ({', '.join(s[1:].upper() for s in IMAGE_SUFFIXES)} files, "
                        f"directly or in one sub-folder per class)")
    files = [file for name in classes for file in classes[name]]
    labels = np.array([name for name in classes for _ in classes[name]])
    return files, labels


def _images_under(folder: str) -> list[str]:
    """The image files in a class folder and the folders under it, sorted by path."""
    found = []
    for entry in os.scandir(folder):
        if entry.name.startswith("."):
            continue
        if entry.is_dir():
            found += _images_under(entry.path)
        elif _is_image(entry):
            found.append(entry.path)
    return sorted(found)


def _is_image(entry: os.DirEntry) -> bool:
    return entry.name.lower().endswith(IMAGE_SUFFIXES) and entry.is_file()


def _decode(file: str) -> np.ndarray:
    """One image as uint8 (rows, columns, channels): 1 channel for a grey image, 3 for a colour one."""
    from PIL import Image  # Pillow: only for folders of images, not at every start

    try:
        with Image.open(file) as image:
            if image.mode.startswith("I;16"):  # 16-bit grey: 0-65535 to 0-255 (Pillow would clip it)
                grey = np.rint(np.asarray(image, dtype=np.float64) / 257).astype(np.uint8)
            elif image.mode in GREY_MODES:
                grey = np.asarray(image if image.mode == "L" else image.convert("L"), dtype=np.uint8)
            else:
                return np.asarray(image.convert("RGB"), dtype=np.uint8)
            return grey[..., np.newaxis]
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{file}: not a readable image ({first_line(e)})") from None


def _name(file: str) -> str:
    return os.path.basename(file)

