"""Short ways to the product's parts that only the tests take."""

from dataclasses import fields

import numpy as np

from common.study.runner import run_plan
from common.study.trials import ClassifierTrials
from models.encoder import copy_autoencoder, encoder_view


def extract_encoder(autoencoder, source: str = "the model", *, init: str = "pretrained", seed: int | None = None,
                    policy: str | None = None):
    """The encoder of a copy of `autoencoder` (models/encoder.py): training it leaves `autoencoder` as it was."""
    return encoder_view(copy_autoencoder(autoencoder, init=init, seed=seed, policy=policy), source)


def run_study(plan, data, train_one, *, log, context: dict, fresh: bool = False, reporter=None, classes: int = 10):
    """The classifier's plan with `train_one` as its trainer (common/study/runner.py's run_plan)."""
    return run_plan(plan, ClassifierTrials(data, classes, train_one), log=log, context=context, fresh=fresh,
                    reporter=reporter)


def bounds(config_type, name: str) -> tuple:
    """The (low, high) range allowed for one hyperparameter."""
    meta = next(f.metadata for f in fields(config_type) if f.name == name)
    return meta["low"], meta["high"]


def weights(model) -> list:
    """A copy of a model's weights."""
    return [w.copy() for w in model.get_weights()]


def same(a: list, b: list) -> bool:
    """Whether two lists of weights are equal, exactly."""
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def cut(saved_autoencoder, init: str = "pretrained"):
    """The encoder and decoder of a seeded copy of a saved autoencoder."""
    from models.encoder import decoder_view
    from models.training.persistence import load_model

    copy = copy_autoencoder(load_model(saved_autoencoder), init=init, seed=1)
    return encoder_view(copy), decoder_view(copy)
