"""Hyperparameter bounds and the checks that reject impossible or absurd autoencoders before building."""

from dataclasses import fields

import pytest

from common.errors import UserError
from models.config import (
    JOINT_SETTINGS,
    SELF_TRAINING_SETTINGS,
    AutoencoderConfig,
    ClassifierConfig,
    check_autoencoder,
    in_effect,
    training_memory,
)
from tests.helpers import bounds


def test_defaults_pass_on_mnist():
    check_autoencoder(AutoencoderConfig(), (28, 28), train_count=48000)


@pytest.mark.parametrize("change, message", [
    (dict(layers=1), "Convolutional layers must be from 2 to 8, got 1"),
    (dict(filters=0), "Filters in the first layer must be from 1 to 256, got 0"),
    (dict(epochs=0), "Epochs must be from 1 to 1000"),
    (dict(filter_size=9), "Filter size must be from 1 to 7"),
])
def test_out_of_range_values_are_named(change, message):
    with pytest.raises(UserError, match=message):
        check_autoencoder(AutoencoderConfig(**change), (28, 28), 48000)


def test_sides_not_divisible_by_4():
    with pytest.raises(UserError, match="30x28: both sides must be divisible by 4"):
        check_autoencoder(AutoencoderConfig(), (30, 28), 48000)


def test_filter_larger_than_the_pooled_maps():
    with pytest.raises(UserError, match="filter size 5 is larger than the 4x4 feature maps"):
        check_autoencoder(AutoencoderConfig(filter_size=5), (16, 16), 48000)


def test_batch_larger_than_the_training_set():
    with pytest.raises(UserError, match="batch size 64 is larger than the 40 training images"):
        check_autoencoder(AutoencoderConfig(batch_size=64), (28, 28), 40)


def test_model_too_big_for_memory_is_rejected_with_its_size():
    with pytest.raises(UserError, match=r"would need about [\d.]+ GiB to train"):
        check_autoencoder(AutoencoderConfig(layers=8, filters=256), (28, 28), 48000)


def test_memory_estimate_grows_with_the_model():
    small = training_memory(AutoencoderConfig(layers=3, filters=16), (28, 28))
    assert training_memory(AutoencoderConfig(layers=4, filters=16), (28, 28)) > small
    assert training_memory(AutoencoderConfig(layers=3, filters=16, batch_size=128), (28, 28)) > small


def test_bounds_read_from_the_fields():
    assert bounds(AutoencoderConfig, "layers") == (2, 8)
    assert bounds(ClassifierConfig, "fine_tune_epochs")[0] == 0


def test_a_runs_table_shows_the_settings_in_effect():
    """Joint training's settings only with joint training, self-training's only with rounds; all of the
    autoencoder's."""
    plain = {f.name for f in in_effect(ClassifierConfig())}
    assert not plain & {*JOINT_SETTINGS, *SELF_TRAINING_SETTINGS} and {"fc_units", "joint", "self_training"} <= plain
    joint = {f.name for f in in_effect(ClassifierConfig(joint=True, self_training=2))}
    assert {*JOINT_SETTINGS, *SELF_TRAINING_SETTINGS} <= joint
    assert [f.name for f in in_effect(AutoencoderConfig())] == [f.name for f in fields(AutoencoderConfig)]
