"""Test accuracy along a joint run: measured every so many steps without changing the run, written beside the run
log a row per checkpoint, and drawn against minutes of training."""

import numpy as np
import pandas as pd

from common.data import splits
from common.study.plan import plan_of
from common.study.runner import run_plan
from common.study.trials import AUTOENCODER_IDENTITY, CHECKPOINTS, ClassifierTrials
from common.tracking.checkpoint_log import CHECKPOINT_LOG, CheckpointLog
from common.tracking.run_log import RunLog, run_row
from common.tracking.schema import AUTOENCODER
from common.ui.plots.study_plots import plot_accuracy_curves
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.config.settings import make
from models.networks.encoder import copy_autoencoder, decoder_view, encoder_view
from models.training.checkpoints import Checkpoints
from models.training.classifier_stages import ClassifierData, train_classifier
from models.training.persistence import load_model


def test_measuring_along_the_way_changes_nothing_in_the_run(saved_autoencoder, study_data):
    train, val = study_data.train, study_data.val
    data = ClassifierData(splits.labelled_part(*train, 40, seed=1), val, 10, images=train[0])
    config = make(ClassifierConfig, {"fc_units": 16, "epochs": 1, "fine_tune_epochs": 1, "batch_size": 16,
                                     "label_budget": 40, "reconstruction_weight": 1.0, "noise": 0.2,
                                     "consistency": 1.0})
    trials = ClassifierTrials(study_data, 10, None)
    runs = []
    for watched in (False, True):  # the study's own measurement: statistics estimated again, validation predicted
        copy = copy_autoencoder(load_model(saved_autoencoder), seed=1)
        callbacks_for, curve = trials.with_checkpoints(config, lambda stage: [], data.train, every=5)
        run = train_classifier(encoder_view(copy), config, data, seed=3, decoder=decoder_view(copy),
                               callbacks_for=callbacks_for if watched else lambda stage: [])
        runs.append([w.copy() for w in run.model.get_weights()])
    assert [step for step, _, _ in curve.points] == [5, 10, 15]  # 240 images / 16 = 15 steps: the end is the third
    assert all(0 <= minutes < 1 and 0.1 < accuracy <= 1 for _, minutes, accuracy in curve.points)
    assert curve.points[0][1] <= curve.points[-1][1]
    assert all(np.array_equal(a, b) for a, b in zip(*runs))  # the same weights, measured or not


def test_a_run_shorter_than_the_interval_logs_its_end_point_and_one_on_it_logs_it_once():
    short = Checkpoints(lambda model: 0.5, every=250)
    short.on_train_begin()
    for batch in range(150):  # a study run of 150 steps
        short.on_train_batch_end(batch)
    short.on_train_end()
    assert [(step, accuracy) for step, _, accuracy in short.points] == [(150, 0.5)]
    exact = Checkpoints(lambda model: 0.5, every=75)
    exact.on_train_begin()
    for batch in range(150):
        exact.on_train_batch_end(batch)
    exact.on_train_end()
    assert [step for step, _, _ in exact.points] == [75, 150]


class WithCheckpoints:
    """Trials whose rows carry checkpoints, as a joint run's do."""

    identity, scored = AUTOENCODER_IDENTITY, "val_loss"

    def check(self, plan):
        pass

    def cost(self, plan, planned):
        return 1.0

    def train(self, plan, planned, context, reporter):
        values = {**context, "seed": planned.seed, "wall_time": 1.0, CHECKPOINTS: [(250, 0.5, 0.90), (500, 1.0, 0.95)]}
        return run_row(plan.config_of(planned), {"loss": 0.1, "val_loss": 0.1, "interrupted": ""}, values)


def test_the_checkpoint_csv_has_a_row_per_checkpoint_and_the_curve_is_drawn(tmp_path):
    context = {"dataset": "/d", "images": 10, "val_split": 0.2, "split_seed": 1,
           "recipe_version": "v1", "val_images": 60}
    plan = plan_of(AutoencoderConfig, {"layers": 2, "filters": 4, "epochs": 1, "batch_size": 8},
                   (("filters", (4, 8)),), 1, 1)
    outcome = run_plan(plan, WithCheckpoints(), log=RunLog(tmp_path / "loss_values.csv", AUTOENCODER),
                       context=context)
    points = CheckpointLog(tmp_path / CHECKPOINT_LOG).read()
    assert len(points) == 4 and sorted(set(points["run_id"])) == sorted(outcome.rows["run_id"])
    assert points["step"].tolist() == [250, 500, 250, 500] and points["val_accuracy"].tolist()[1] == 0.95
    assert "checkpoints" not in pd.read_csv(tmp_path / "loss_values.csv").columns.str.lower()
    points = points.assign(arm=["joint"] * 4, labels_used=[100] * 4)
    path = plot_accuracy_curves(points, tmp_path / "curve.png", "curve")
    assert path.read_bytes()[:4] == b"\x89PNG"
