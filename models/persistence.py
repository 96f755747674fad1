"""Saving and loading whole models (.h5 or .keras) with a JSON sidecar of hyperparameters and metrics."""

import json
import os
from pathlib import Path

from common.errors import UserError
from common.keras_setup import keras

MODEL_SUFFIXES = (".h5", ".keras")


def sidecar_path(path) -> Path:
    """The JSON file saved beside a model: `model.h5` -> `model.h5.json`."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def save_model(model, path, metadata: dict) -> Path:
    """Write the model and its sidecar; a failure leaves any earlier file at `path` as it was."""
    path = Path(path)
    if path.suffix not in MODEL_SUFFIXES:
        raise UserError(f"{path}: a model file must end in .h5 or .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.partial{path.suffix}")
    try:
        model.save(partial)
        os.replace(partial, path)
    except OSError as e:
        raise UserError(f"{path}: cannot be written ({e.strerror or e})") from None
    finally:
        partial.unlink(missing_ok=True)
    sidecar = sidecar_path(path)
    sidecar.write_text(json.dumps(metadata, indent=2, default=str) + "\n")
    return sidecar


def load_model(path):
    """Load a whole Keras model without its training configuration; a clear UserError if it cannot be."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such model file")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as e:  # Keras raises many kinds for a file that is not one of its models
        reason = str(e).strip().splitlines()[0][:160] if str(e).strip() else type(e).__name__
        raise UserError(f"{path}: not a Keras model file (.h5 or .keras): {reason}") from None


def read_metadata(path) -> dict:
    """The sidecar's contents, or an empty dict when there is none or it is unreadable."""
    try:
        return json.loads(sidecar_path(path).read_text())
    except (OSError, ValueError):
        return {}
