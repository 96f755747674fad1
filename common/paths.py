"""Paths the programs will write, checked before any work starts: a model file's name, and folders that exist or
can be made and that this user may write in. A run that would fail to save only after training is refused at once.
"""

import os
from pathlib import Path

from common.errors import UserError

MODEL_SUFFIXES = (".h5", ".keras")  # whole models; Keras keeps `.weights.h5` for weights alone


def writable_folder(folder) -> Path:
    """`folder`, when it is a folder or can be made one and this user may write in it; UserError naming it and
    the reason otherwise (nothing is created here)."""
    folder = Path(folder).expanduser()
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{folder}: is a file, expected a folder")
    existing = next(p for p in (folder.absolute(), *folder.absolute().parents) if p.exists())
    if not existing.is_dir():
        raise UserError(f"{folder}: cannot be made: {existing} is a file")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{folder}: cannot be written: no permission to write in {existing}")
    return folder


def model_path(text) -> Path:
    """A path to save a whole model at: ending in .h5 or .keras (not .weights.h5), not a folder, in a folder that
    can be written; UserError naming it and what is expected otherwise."""
    path = Path(text).expanduser()
    if path.suffix not in MODEL_SUFFIXES or path.name.endswith(".weights.h5"):
        raise UserError(f"{text}: a model file must end in .h5 or .keras (not .weights.h5, which Keras keeps for "
                        f"weights alone)")
    if path.is_dir():
        raise UserError(f"{text}: is a folder, expected a model file (.h5 or .keras)")
    writable_folder(path.parent)
    if path.exists() and not os.access(path, os.W_OK):
        raise UserError(f"{text}: cannot be overwritten: no permission")
    return path
