"""A trained run of either program, however it ended, and the metrics its log row records."""

from dataclasses import dataclass, field

from models.training.fit import FitResult
from models.training.self_training import Round

FINAL_METRICS = ("loss", "val_loss", "accuracy", "val_accuracy")  # logged at the epoch whose weights the model has


@dataclass
class TrainedRun:
    """A model and the history of every stage it trained in (fit calls), as one curve."""
    model: object = None  # the trained keras.Model (for the classifier: image -> class probabilities)
    history: dict[str, list[float]] = field(default_factory=dict)  # metric -> value per epoch, stage after stage
    stage_boundary: int = 0  # epochs of the first stage in `history`, when the run has stages
    stage_seconds: list[float] = field(default_factory=list)  # wall time of each stage (and round) that ran
    interrupted: bool = False  # Ctrl-C ended training early
    final_epoch: int = -1  # index in `history` of the epoch whose weights the model ends with
    best_epoch: int | None = None  # with early stopping: the best epoch of the last stage (0-based), else None
    rounds: list[Round] = field(default_factory=list)  # self-training rounds, after stage 2
    compute: str = ""  # how it computed: "CPU, float32, no XLA"
    extra: dict = field(default_factory=dict)  # more values for its log row (the study's stage-1 test accuracy)

    @property
    def seconds(self) -> float:
        return sum(self.stage_seconds)

    @property
    def epochs_done(self) -> int:
        return len(self.history.get("loss", next(iter(self.history.values()), [])))

    def add(self, stage: FitResult) -> None:
        """Append one stage's epochs, time and ending to the run."""
        if stage.epochs_done:
            self.final_epoch = self.epochs_done + stage.final_epoch
            self.best_epoch = stage.best_epoch
        for name, values in stage.history.items():
            self.history.setdefault(name, []).extend(values)
        self.stage_seconds.append(stage.seconds)
        self.interrupted = self.interrupted or stage.interrupted

    def metrics(self) -> dict:
        """What the run adds to its log row: final metrics, the time of each stage (of a run in stages), how it
        computed, each self-training round's pseudo-labels, how many of them were right and the validation accuracy
        after it, joint training's last reconstruction loss, and the epochs done."""
        values = {name: self.history[name][self.final_epoch] for name in FINAL_METRICS if self.history.get(name)}
        if self.stage_boundary:  # a run in stages (the classifier's): the time of each
            values.update(zip(("stage1_time", "stage2_time"), (round(s, 2) for s in self.stage_seconds)))
        values.update(compute=self.compute, epochs_done=self.epochs_done, train_time=round(self.seconds, 2),
                      interrupted="yes" if self.interrupted else "")
        if self.best_epoch is not None:
            values["best_epoch"] = self.final_epoch + 1
        if self.history.get("reconstruction"):  # joint training's epochs only: after stage 1's
            joint = self.history["reconstruction"]
            values["reconstruction_loss"] = joint[min(max(self.final_epoch - self.stage_boundary, 0), len(joint) - 1)]
        if self.rounds:
            last = self.rounds[-1]
            values.update(pseudo_labels=last.pseudo_labels, pseudo_accuracy=last.pseudo_accuracy,
                          rounds="; ".join(f"{r.number}: {r.pseudo_labels} at {r.pseudo_accuracy:.4f}, "
                                           f"val_accuracy {r.val_accuracy:.4f}" for r in self.rounds))
        return {**values, **self.extra}
