"""Saving and loading whole models (.h5 or .keras) with a JSON sidecar of hyperparameters and metrics."""

import json
from pathlib import Path

from common import phases
from common.errors import UserError, first_line
from common.files import replace_atomically, write_text_atomically
from common.keras_setup import keras
from common.paths import model_path
from models.networks.precision import in_float32

SIDECAR_LIMIT = 1 << 20  # bytes: a sidecar is a few hundred; a larger file is not ours


def sidecar_path(path) -> Path:
    """The JSON file saved beside a model: `model.h5` -> `model.h5.json`."""
    path = Path(path)
    return path.with_name(path.name + ".json")


def save_model(model, path, metadata: dict) -> Path:
    """Write the model and its sidecar, each replaced in one step: a failure leaves any earlier file at `path`
    as it was, and a program reading it meanwhile sees the old file or the new one."""
    path = model_path(path)
    try:
        with phases.phase(phases.SAVING):
            replace_atomically(path, in_float32(model).save)
        sidecar = write_text_atomically(sidecar_path(path), json.dumps(metadata, indent=2, default=str) + "\n")
    except OSError as e:
        raise UserError(f"{path}: cannot be written ({e.strerror or e})") from None
    return sidecar


def load_model(path):
    """Load a whole Keras model without its training configuration; a clear UserError if it cannot be. Keras'
    safe mode stays on: a file asking to run Python code (a Lambda layer) is refused, never run."""
    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such model file")
    if not path.is_file():
        raise UserError(f"{path}: is not a regular file, expected a model file (.h5 or .keras)")
    try:
        return keras.models.load_model(path, compile=False, safe_mode=True)
    except Exception as e:  # noqa: BLE001  (Keras raises many kinds for a file that is not one of its models)
        reason = first_line(e, 160)
        if "arbitrary code execution" in reason:
            raise UserError(f"{path}: refused: the model holds Python code (a Lambda layer), which is never run "
                            f"from a file") from None
        raise UserError(f"{path}: not a Keras model file (.h5 or .keras): {reason}") from None


def read_metadata(path) -> dict:
    """The sidecar's contents, or an empty dict when there is none or it is unreadable, too large or not an
    object: a sidecar only ever informs, so a broken one never stops anything."""
    try:
        sidecar = sidecar_path(path)
        if sidecar.stat().st_size > SIDECAR_LIMIT:
            return {}
        data = json.loads(sidecar.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}
