"""The command line's name of every setting of both programs (fields.py, `flag`), for the places that show a
setting by name alone: a sweep's axes, a plan's runs."""

import functools

from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import ClassifierConfig
from models.config.fields import flag as declared
from models.config.settings import settings


@functools.cache
def _flags() -> dict[str, str]:
    return {s.name: s.flag for config_type in (AutoencoderConfig, ClassifierConfig) for s in settings(config_type)}


def flag(name: str) -> str:
    """`fine_tune_epochs` -> `--fine-tune-epochs`; `label_budget` -> `--labels` (its declared flag)."""
    return _flags().get(name) or declared(name)
