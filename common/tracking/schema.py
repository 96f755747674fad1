"""The columns of both run logs, in CSV order: the hyperparameters' own (from their dataclasses), then what a run
measured and where it came from.

A hyperparameter's column reads as the field's default in rows written before the column existed: those runs
used the default (an older log's classifier runs were pretrained, without augmentation or joint training).
"""

from common.tracking.run_log import Column
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.config.settings import settings


def hyperparameter_columns(config_type, hidden=(), before=None) -> dict[str, Column]:
    """A column per flat setting of a hyperparameter dataclass (models/config/settings.py), headed by its `column`
    metadata; named choices are text; those `hidden` are left out of the table of runs. A row written before the
    column existed reads as the setting's default, or as `before[name]` where the default has changed since."""
    before = before or {}
    return {s.name: Column(s.name, s.metadata["column"], numeric=not ({"choices", "weights"} & set(s.metadata)),
                           in_table=s.name not in hidden, missing=before.get(s.name, s.default),
                           boolean=s.metadata.get("switch") is True)
            for s in settings(config_type)}


RUN = {c.key: c for c in [  # what every run records, in both logs
    Column("train_time", "Train_Time"), Column("loss", "Loss"), Column("val_loss", "Val_Loss"),
    Column("timestamp", "Timestamp", numeric=False, in_table=False),
    Column("dataset", "Dataset", numeric=False, in_table=False), Column("images", "Images"),
    Column("image_shape", "Image_Shape", numeric=False, in_table=False),  # rows x columns x channels, padded
    Column("seed", "Seed", in_table=False), Column("model_path", "Model_Path", numeric=False, in_table=False),
    Column("val_split", "Val_Split", in_table=False), Column("epochs_done", "Epochs_Done"),
    Column("interrupted", "Interrupted", numeric=False), Column("run_id", "Run_ID", numeric=False, in_table=False),
    Column("device", "Device", numeric=False, in_table=False), Column("compute", "Compute", numeric=False),
    Column("split_seed", "Split_Seed", in_table=False),  # seeds the validation split (runs of a sweep: one split)
    Column("wall_time", "Wall_Time", in_table=False),  # a sweep's or study's run: from its start to its scores
    Column("best_epoch", "Best_Epoch"),  # with early stopping: the epoch whose weights the model kept (from 1)
    Column("recipe_version", "Recipe_Version", numeric=False, in_table=False),  # models/training/version.py
    Column("val_images", "Val_Images", in_table=False),  # validated on (--val-limit)
    Column("resumed", "Resumed", in_table=False),  # times the run resumed from its backup (run_backup.py)
    Column("lost_minutes", "Lost_Minutes", in_table=False),  # the training its stops threw away
]}


def _columns(hyper: dict[str, Column], *keys: str, extra: dict[str, Column] | None = None) -> list[Column]:
    """The columns named, in order; then every hyperparameter not named (a new field needs no change here)."""
    known = {**RUN, **hyper, **(extra or {})}
    return [known[key] for key in keys] + [column for key, column in hyper.items() if key not in keys]


_AE = hyperparameter_columns(AutoencoderConfig, before={"block_order": "post-activation"})  # the only order then
AUTOENCODER = _columns(  # loss_values.csv: the original assignment's columns first
    _AE, "layers", "filter_size", "filters", "epochs", "batch_size", "train_time", "loss", "val_loss",
    "optimizer", "schedule", "patience", "best_epoch", "device", "compute", "timestamp", "dataset", "images", "seed",
    "image_shape", "model_path", "val_split", "epochs_done", "interrupted", "run_id", "split_seed", "wall_time",
    "recipe_version", "val_images", "resumed", "lost_minutes")

_CLASSIFIER_EXTRA = {c.key: c for c in [
    Column("encoder_layers", "Layers"), Column("accuracy", "Accuracy"), Column("val_accuracy", "Val_Accuracy"),
    Column("labels_used", "Labels_Used"), Column("pseudo_labels", "Pseudo_Labels"),
    Column("pseudo_accuracy", "Pseudo_Accuracy"), Column("rounds", "Rounds", numeric=False, in_table=False),
    Column("reconstruction_loss", "Reconstruction_Loss"), Column("arm", "Arm", numeric=False),
    Column("test_accuracy", "Test_Accuracy"), Column("test_loss", "Test_Loss"),
    Column("stage1_test_accuracy", "Stage1_Test_Accuracy", in_table=False),
    Column("encoder_filter_size", "Filter_Size"), Column("encoder_filters", "Filters/Layer"),
    Column("autoencoder", "Autoencoder", numeric=False, in_table=False),
    Column("autoencoder_sha256", "Autoencoder_SHA256", numeric=False, in_table=False),
    Column("test_dataset", "Test_Dataset", numeric=False, in_table=False),
    Column("test_images", "Test_Images", in_table=False),
    Column("classes", "Classes", numeric=False, in_table=False),  # the labels the classes stand for, and names
    Column("stage1_time", "Stage1_Time", in_table=False), Column("stage2_time", "Stage2_Time", in_table=False),
]}
_CL = hyperparameter_columns(ClassifierConfig, hidden=[s.name for s in settings(ClassifierConfig)
                                                       if s.group == "self_training" and s.role == "value"])
CLASSIFIER = _columns(  # classification_loss_values.csv: the original assignment's columns first
    _CL, "encoder_layers", "fc_units", "epochs", "batch_size", "train_time", "loss", "val_loss", "accuracy",
    "val_accuracy", "fine_tune_epochs", "label_budget", "labels_used", "init", "augment", "self_training",
    "pseudo_threshold", "pseudo_cap", "round_epochs", "pseudo_labels", "pseudo_accuracy", "rounds", "joint",
    "reconstruction_weight", "noise", "consistency", "reconstruction_loss", "arm", "optimizer", "schedule", "patience",
    "best_epoch", "test_accuracy", "test_loss", "stage1_test_accuracy", "encoder_filter_size", "encoder_filters",
    "autoencoder", "autoencoder_sha256", "seed", "timestamp", "dataset", "images", "image_shape", "val_split",
    "epochs_done", "split_seed", "test_dataset", "test_images", "stage1_time", "stage2_time", "wall_time", "device",
    "compute", "interrupted", "model_path", "run_id", "classes", "recipe_version", "val_images", "resumed",
    "lost_minutes",
    extra=_CLASSIFIER_EXTRA)
