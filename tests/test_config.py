"""Hyperparameter bounds and the checks that reject impossible or absurd autoencoders before building."""

from dataclasses import fields

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.errors import ConfigError, UserError
from models.config.autoencoder import AutoencoderConfig, check_autoencoder, training_memory
from models.config.classifier import ClassifierConfig, JointSettings, SelfTrainingSettings, check_classifier
from models.config.settings import flat, in_effect, make, settings, value_of, with_values
from tests.helpers import bounds

JOINT = [f.name for f in fields(JointSettings)]
SELF_TRAINING = [f.name for f in fields(SelfTrainingSettings) if f.name != "rounds"]


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
    plain = {s.name for s in in_effect(ClassifierConfig())}
    assert not plain & {*JOINT, *SELF_TRAINING} and {"fc_units", "joint", "self_training", "ladder"} <= plain
    joint = {s.name for s in in_effect(make(ClassifierConfig, {"joint": True, "self_training": 2}))}
    assert {*JOINT, *SELF_TRAINING} <= joint
    assert [s.name for s in in_effect(AutoencoderConfig())] == [f.name for f in fields(AutoencoderConfig)]


def test_a_groups_settings_are_flat_under_their_own_names_and_the_group_is_a_switch_or_a_count():
    config = make(ClassifierConfig, {"noise": 0.3, "self_training": 3, "pseudo_cap": 7})
    assert config.joint == JointSettings(noise=0.3)  # a setting of joint training turns it on
    assert config.self_training == SelfTrainingSettings(rounds=3, pseudo_cap=7)
    row = flat(config)
    assert (row["joint"], row["noise"], row["self_training"], row["pseudo_cap"], row["ladder"]) == (True, 0.3, 3, 7,
                                                                                                 False)
    assert list(row) == [s.name for s in settings(ClassifierConfig)]
    off = flat(ClassifierConfig())
    assert (off["joint"], off["self_training"], off["noise"]) == (False, 0, 0.0)  # a group off reads as its defaults


def test_a_setting_of_a_way_of_training_that_is_off_is_refused_naming_its_switch():
    with pytest.raises(ConfigError, match="--pseudo-cap is a setting of self-training: add --self-training N"):
        make(ClassifierConfig, {"pseudo_cap": 7})
    with pytest.raises(ConfigError, match="--noise is a setting of joint training: add --joint"):
        make(ClassifierConfig, {"joint": False, "noise": 0.3})
    with pytest.raises(ConfigError, match="not a setting: bogus"):
        make(ClassifierConfig, {"bogus": 1})
    with pytest.raises(ConfigError, match="--ladder trains in a way of its own: leave out --joint"):
        check_classifier(make(ClassifierConfig, {"ladder": True, "joint": True}))


def test_changing_one_setting_turns_its_group_on_or_off_and_keeps_the_rest():
    base = make(ClassifierConfig, {"fc_units": 32, "joint": True, "consistency": 5.0})
    assert with_values(base, joint=False) == make(ClassifierConfig, {"fc_units": 32})
    assert with_values(ClassifierConfig(), entropy_weight=1.0).joint == JointSettings(entropy_weight=1.0)
    assert with_values(base, noise=0.2).joint == JointSettings(consistency=5.0, noise=0.2)
    with pytest.raises(ConfigError, match="add --self-training N"):
        with_values(base, round_epochs=2)


NAMES = [s.name for s in settings(ClassifierConfig) if s.role == "value" and s.group in (None, "joint")
         and "choices" not in s.metadata and "weights" not in s.metadata]


@given(st.dictionaries(st.sampled_from(NAMES), st.floats(0, 1)))
def test_what_is_said_comes_back_from_the_flat_view_and_the_rest_is_the_default(values):
    said = {name: type(setting_default(name))(value * bounds(ClassifierConfig, name)[1]) for name, value in
            values.items()}
    config = make(ClassifierConfig, said)
    for s in settings(ClassifierConfig):
        expected = said.get(s.name, s.default)
        if s.name == "joint":
            expected = any(name in said for name in JOINT)
        assert value_of(config, s.name) == expected, s.name


def setting_default(name: str):
    return next(s.default for s in settings(ClassifierConfig) if s.name == name)


def test_the_ladder_does_without_stage_1_and_the_stages_optimizer():
    shown = {s.name for s in in_effect(make(ClassifierConfig, {"ladder": True}))}
    assert not {"epochs", "optimizer", "schedule"} & shown and {"fine_tune_epochs", "ladder_noise"} <= shown
