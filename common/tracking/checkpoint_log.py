"""The validation accuracy of the runs that train on every training image (joint training, the ladder) along the
way (models/training/checkpoints.py): a CSV beside the run log, a row per checkpoint, each naming its run as the
run log does."""

from pathlib import Path

import pandas as pd

from common.errors import UserError
from common.tracking.csv_file import CsvFile, cell

CHECKPOINT_LOG = "validation_checkpoints.csv"  # beside the run log
HEADER = ["Run_ID", "Arm", "Labels", "Labels_Used", "Seed", "Step", "Minutes", "Val_Accuracy"]


class CheckpointLog:
    """One checkpoint file, shared as the run log is: each append holds its lock."""

    def __init__(self, path):
        self.file = CsvFile(Path(path))

    def append(self, row: dict, points: list) -> None:
        """Append a run's (step, minutes, accuracy) points, named by its log row's id, arm, budget and seed."""
        try:
            with self.file.locked():
                if not self.file.path.exists() or self.file.path.stat().st_size == 0:
                    self.file.append(HEADER)
                for step, minutes, accuracy in points:
                    self.file.append([cell(row.get(key)) for key in ("run_id", "arm", "label_budget",
                                                                     "labels_used", "seed")]
                                     + [cell(step), cell(float(minutes)), cell(float(accuracy))])
        except OSError as e:
            raise UserError(f"{self.file.path}: cannot be written ({e.strerror or e})") from None

    def read(self) -> pd.DataFrame:
        """Every point, with columns run_id, arm, labels, labels_used, seed, step, minutes, val_accuracy."""
        names = ["run_id", "arm", "labels", "labels_used", "seed", "step", "minutes", "val_accuracy"]
        if not self.file.path.exists():
            return pd.DataFrame(columns=names)
        with self.file.locked(reading=True):
            header, rows = self.file.rows([])
        frame = pd.DataFrame([r for r in rows if len(r) == len(header)], columns=header)
        frame.columns = names
        for name in names[2:]:
            frame[name] = pd.to_numeric(frame[name], errors="coerce")
        return frame
