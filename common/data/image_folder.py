"""A folder of image files (PNG, JPEG, BMP, GIF): one sub-folder per class (the layout of
`keras.utils.image_dataset_from_directory`, labels from the sub-folder names), or images directly in the folder
for the autoencoder alone. Decoded by Pillow straight into one array: never two decoded copies of the set."""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from common.errors import DataError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
GREY_MODES = ("1", "L", "LA", "I", "I;16", "I;16B", "F")  # Pillow's modes of grey images: decoded as one channel


@dataclass(frozen=True)
class FolderImages:
    """What a folder holds."""
    images: np.ndarray  # uint8 (count, rows, columns, channels): 1 channel when every image is grey, else 3
    labels: np.ndarray | None  # each image's class folder name, None for a flat folder
    files: list[Path]  # each image's file, in the order of `images`


def is_image_folder(path) -> bool:
    return Path(path).is_dir()


def read_folder(path, limit: int | None = None) -> FolderImages:
    """Decode every image of the folder (or `limit` of them, taken from the classes in turn) in the order of their
    class and file names. DataError naming the file for an unreadable image or one of another size, and for a
    folder with no images."""
    path = Path(path)
    files, labels = _listing(path)
    if limit and limit < len(files):
        keep = np.sort(_in_turn(labels, limit)) if labels is not None else np.arange(limit)
        files, labels = [files[i] for i in keep], None if labels is None else labels[keep]
    size, channels = _survey(files)
    images = np.empty((len(files), size[1], size[0], channels), dtype=np.uint8)
    mode = "L" if channels == 1 else "RGB"
    for i, file in enumerate(files):
        images[i] = _decode(file, mode).reshape(images.shape[1:])
    return FolderImages(images, labels, files)


def _listing(path: Path) -> tuple[list[Path], np.ndarray | None]:
    """The image files and their labels (None for a flat folder), sorted by class then by name."""
    if not path.exists():
        raise DataError(f"{path}: no such folder")
    entries = sorted(p for p in path.iterdir() if not p.name.startswith("."))
    loose = [p for p in entries if _is_image(p)]
    classes = {d.name: _images_under(d) for d in entries if d.is_dir()}
    classes = {name: found for name, found in classes.items() if found}
    if loose and classes:
        raise DataError(f"{path}: holds images beside class sub-folders ({loose[0].name}); put every image in the "
                        f"sub-folder of its class, or use a folder without sub-folders")
    if loose:
        return loose, None
    if not classes:
        raise DataError(f"{path}: holds no images ({', '.join(s[1:].upper() for s in IMAGE_SUFFIXES)} files, "
                        f"directly or in one sub-folder per class)")
    files = [file for name in classes for file in classes[name]]
    labels = np.array([name for name in classes for _ in classes[name]])
    return files, labels


def _images_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if _is_image(p) and not p.name.startswith("."))


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES and path.is_file()


def _in_turn(labels: np.ndarray, limit: int) -> np.ndarray:
    """Indices of `limit` images taken from each class in turn, each class's first images first."""
    pools = [np.flatnonzero(labels == name) for name in dict.fromkeys(labels)]
    order = [pool[i] for i in range(max(map(len, pools))) for pool in pools if i < len(pool)]
    return np.array(order[:limit])


def _survey(files: list[Path]) -> tuple[tuple[int, int], int]:
    """The images' common size (width, height) from their headers, and 3 channels when any of them is in colour."""
    from PIL import Image

    size, colour = None, False
    for file in files:
        try:
            with Image.open(file) as image:
                if size is None:
                    size, first = image.size, file
                elif image.size != size:
                    raise DataError(f"{file}: is {image.size[0]}x{image.size[1]} pixels but {first.name} is "
                                    f"{size[0]}x{size[1]}; every image must have the same size")
                colour = colour or image.mode not in GREY_MODES
        except (OSError, SyntaxError, ValueError) as e:
            raise DataError(f"{file}: not a readable image ({_reason(e)})") from None
    return size, 3 if colour else 1


def _decode(file: Path, mode: str) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(file) as image:
            if image.mode.startswith("I;16"):  # 16-bit grey: 0-65535 to 0-255 (Pillow would clip it)
                grey = np.rint(np.asarray(image, dtype=np.float64) / 257).astype(np.uint8)
                return grey if mode == "L" else np.repeat(grey[..., np.newaxis], 3, axis=-1)
            return np.asarray(image.convert(mode), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{file}: not a readable image ({_reason(e)})") from None


def _reason(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:120] if text else type(error).__name__
