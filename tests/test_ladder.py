"""The ladder network (models/networks/ladder*.py, combinator.py): its levels, where the noise goes, the
combinator's start, the denoising cost's normalisation, each against a small hand computation; with no noise and no
denoising cost it trains step for step as a plain network; on the workbench's own encoder; its arms."""

import warnings

import numpy as np
import pytest

from common.errors import ConfigError, UserError
from common.keras_setup import keras, layers
from common.study.plan import label_study
from models.config.autoencoder import AutoencoderConfig
from models.config.classifier import (
    GAMMA_WEIGHT,
    ClassifierConfig,
    LadderSettings,
    check_classifier,
    check_ladder,
    ladder_head,
    ladder_weights,
)
from models.config.settings import make
from models.networks.autoencoder import build_autoencoder
from models.networks.combinator import GAUSS_START, Combinator
from models.networks.ladder import Ladder
from models.networks.ladder_encoder import EPSILON, Level
from models.networks.ladder_levels import PRE_ACTIVATION, head_levels, load_encoder
from models.training.classifier_stages import ClassifierData
from models.training.ladder_training import LinearDecay, train_ladder

ops = keras.ops
TINY = [Level("dense", 3), Level("dense", 2)]  # on images of 2x2 pixels: 4 inputs


def normalise(x):
    """Batch normalisation by hand: per unit, over the batch, the variance without Bessel's correction."""
    return (x - x.mean(0)) / np.sqrt(x.var(0) + EPSILON)


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def tiny_ladder(weights=(0.0, 0.0, 0.0), noise=0.0, seed=1):
    keras.utils.set_random_seed(seed)
    ladder = Ladder(TINY, (2, 2, 1), weights=weights, noise=noise, per="unit", seed=seed)
    rng = np.random.default_rng(seed)
    for i, linear in enumerate(ladder.encoder.linears):
        linear.kernel.assign(rng.normal(size=linear.kernel.shape))
        ladder.encoder.beta[i].assign(rng.normal(size=ladder.encoder.beta[i].shape))
    ladder.encoder.gamma.assign(rng.uniform(0.5, 2.0, size=ladder.encoder.gamma.shape))
    return ladder


def test_a_level_is_the_papers_block_normalised_by_the_batchs_own_statistics():
    ladder = tiny_ladder()
    x = np.random.default_rng(2).uniform(size=(5, 2, 2, 1)).astype("float32")
    found = ladder.encoder.run(x)  # one half of a step (a step runs each half apart: tests/test_ladder_step.py)
    w1, w2 = (np.asarray(linear.kernel) for linear in ladder.encoder.linears)
    b1, b2 = (np.asarray(b) for b in ladder.encoder.beta)
    flat = x.reshape(5, 4)
    pre1 = flat @ w1
    z1 = normalise(pre1)
    h1 = np.maximum(z1 + b1, 0)  # the shift after the normalisation, then the ReLU: no scale below the top
    pre2 = h1 @ w2
    z2 = normalise(pre2)
    top = softmax((z2 + b2) * np.asarray(ladder.encoder.gamma))  # softmax(γ ⊙ (z + β)) at the top
    for got, want in ((found["z"][0], flat), (found["z"][1], z1), (found["z"][2], z2), (found["top"], top)):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(np.asarray(found["mean"][1]).ravel(), pre1.mean(0), rtol=1e-5)
    np.testing.assert_allclose(np.asarray(found["variance"][2]).ravel(), pre2.var(0), rtol=1e-4)


def test_the_noise_goes_on_the_images_and_on_every_normalised_level_before_its_shift():
    ladder = Ladder([Level("dense", 6), Level("dense", 4)], (2, 2, 1), weights=(0, 0, 0), noise=0.5, seed=3)
    x = np.random.default_rng(4).uniform(size=(4000, 2, 2, 1)).astype("float32")
    clean, corrupted = ladder.encoder.run(x), ladder.encoder.run(x, 0.5, keras.random.SeedGenerator(5))
    added = np.asarray(corrupted["z"][0]) - np.asarray(clean["z"][0])
    assert abs(added.std() - 0.5) < 0.02  # the images' noise itself
    for level in (1, 2):  # normalised first (variance 1), then the noise: 1 + 0.25; noise before it would give 1
        variance = np.asarray(corrupted["z"][level]).var(0)
        assert np.all(np.abs(variance - 1.25) < 0.1), variance
        assert np.allclose(np.asarray(clean["z"][level]).var(0), 1.0, atol=1e-3)


def test_the_combinator_starts_at_zero_as_the_reference_and_computes_the_gauss_function():
    assert GAUSS_START == (0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0)  # a2 = a7 = 1, the other eight 0
    rng = np.random.default_rng(6)
    noisy, u = rng.normal(size=(5, 3)).astype("float32"), rng.normal(size=(5, 3)).astype("float32")
    combinator = Combinator(per="unit")
    combinator.build((None, 3))
    assert np.array_equal(np.asarray(combinator(noisy, u)), np.zeros((5, 3)))  # ẑ = 0 at the start
    a = rng.normal(size=(10, 3)).astype("float32")
    combinator.a.assign(a)
    sigmoid = lambda v: 1 / (1 + np.exp(-v))  # noqa: E731
    mean = a[0] * sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    scale = a[5] * sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]
    np.testing.assert_allclose(np.asarray(combinator(noisy, u)), (noisy - mean) * scale + mean, rtol=1e-5)
    alone = Combinator(lateral=False, per="unit")
    alone.build((None, 3))
    alone.a.assign(a)
    np.testing.assert_allclose(np.asarray(alone(noisy, u)), mean, rtol=1e-5)  # without z̃: μ(u)
    channel = Combinator(per="channel")
    channel.build((None, 7, 7, 3))
    assert tuple(channel.a.shape) == (10, 3)  # a convolutional level: per channel


def test_the_denoising_cost_normalises_the_estimate_by_the_clean_statistics_and_not_the_images():
    ladder = tiny_ladder(weights=(1.0, 1.0, 1.0))
    rng = np.random.default_rng(7)
    estimates = {0: rng.normal(size=(4, 4)), 1: rng.normal(size=(4, 3)), 2: rng.normal(size=(4, 2))}
    clean = {"z": [rng.normal(size=(4, n)) for n in (4, 3, 2)],
             "mean": [None, *(rng.normal(size=(1, n)) for n in (3, 2))],
             "variance": [None, *(rng.uniform(0.5, 2, size=(1, n)) for n in (3, 2))]}
    costs = ladder.denoising_costs({k: v.astype("float32") for k, v in estimates.items()},
                                   {k: [None if v is None else v.astype("float32") for v in vs]
                                    for k, vs in clean.items()})
    assert float(costs[0]) == pytest.approx(np.mean((estimates[0] - clean["z"][0]) ** 2), rel=1e-5)
    for level in (1, 2):
        normalised = (estimates[level] - clean["mean"][level]) / np.sqrt(clean["variance"][level] + EPSILON)
        assert float(costs[level]) == pytest.approx(np.mean((normalised - clean["z"][level]) ** 2), rel=1e-5)


class ShiftThenScale(layers.Layer):
    """(z + β)·γ, per unit: the top of the paper's network as plain Keras would build it."""

    def build(self, shape):
        self.beta = self.add_weight(shape=(shape[-1],), initializer="zeros")
        self.gamma = self.add_weight(shape=(shape[-1],), initializer="ones")

    def call(self, z):
        return (z + self.beta) * self.gamma


def plain_network(image_shape):
    """The ladder's encoder of CONV_LEVELS as a plain Keras model: convolution, batch normalisation with a shift
    and no scale, ReLU, pooling; then the class level."""
    inputs = keras.Input(image_shape)
    x = layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs)
    x = layers.BatchNormalization(scale=False, epsilon=EPSILON, momentum=0.0)(x)
    x = layers.MaxPooling2D(2)(layers.ReLU()(x))
    x = layers.Dense(10, use_bias=False)(layers.Flatten()(x))
    x = layers.BatchNormalization(center=False, scale=False, epsilon=EPSILON, momentum=0.0)(x)
    return keras.Model(inputs, layers.Softmax()(ShiftThenScale()(x)))


CONV_LEVELS = [Level("conv", 4, 3, pool=True), Level("dense", 10)]


def test_without_noise_or_denoising_cost_it_trains_step_for_step_as_the_plain_network(mnist_first):
    (x, y), _ = mnist_first
    keras.utils.set_random_seed(1)
    ladder = Ladder(CONV_LEVELS, x.shape[1:], weights=(0, 0, 0), noise=0.0, seed=1)
    plain = plain_network(x.shape[1:])
    conv, norm, dense, top = (plain.layers[i] for i in (1, 2, 6, 8))
    conv.kernel.assign(ladder.encoder.linears[0].kernel)
    dense.kernel.assign(ladder.encoder.linears[1].kernel)
    for model in (ladder, plain):  # SGD: Adam's first steps would magnify float32 rounding near 0 into whole steps
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss="sparse_categorical_crossentropy")
    for step in range(3):
        labelled, labels = x[step * 20:(step + 1) * 20], y[step * 20:(step + 1) * 20]
        ladder.train_on_batch((labelled, labels), x[100 + step * 20:120 + step * 20])  # as fit feeds it
        plain.train_on_batch(labelled, labels)
    pairs = [(ladder.encoder.linears[0].kernel, conv.kernel), (ladder.encoder.beta[0], norm.beta),
             (ladder.encoder.linears[1].kernel, dense.kernel), (ladder.encoder.beta[1], top.beta),
             (ladder.encoder.gamma, top.gamma)]
    for mine, theirs in pairs:
        np.testing.assert_allclose(np.asarray(mine), np.asarray(theirs), rtol=1e-4, atol=1e-6)
    assert not np.allclose(np.asarray(ladder.encoder.gamma), 1.0)  # and they did move


def test_the_levels_of_a_pre_activation_autoencoder_and_its_weights_in_the_ladder():
    autoencoder = build_autoencoder(AutoencoderConfig(layers=3, filters=4, block_order="pre-activation"))
    encoder = keras.Model(autoencoder.inputs, autoencoder.get_layer("code").output)
    levels = head_levels(encoder, (16,), 10)
    assert levels == [Level("conv", 4, 3, True), Level("conv", 8, 3, True), Level("conv", 16, 3, False),
                      Level("dense", 16), Level("dense", 10)]
    for layer in encoder.layers:  # trained weights, not the initial ones
        for weight in layer.weights:
            weight.assign(np.random.default_rng(8).normal(size=weight.shape))
    ladder = Ladder(levels, (28, 28, 1), weights=ladder_weights(LadderSettings(), len(levels)), seed=1)
    load_encoder(ladder, encoder)
    for i in range(3):
        conv, norm = encoder.get_layer(f"encoder_conv_{i + 1}"), encoder.get_layer(f"encoder_bn_{i + 1}")
        assert np.array_equal(np.asarray(ladder.encoder.linears[i].kernel), np.asarray(conv.kernel))
        assert np.array_equal(np.asarray(ladder.encoder.beta[i]), np.asarray(norm.beta))
    assert [tuple(shape) for shape in ladder.encoder.shapes] == [(28, 28, 1), (28, 28, 4), (14, 14, 8), (7, 7, 16),
                                                                 (16,), (10,)]
    post = build_autoencoder(AutoencoderConfig(layers=2, filters=4, block_order="post-activation"))
    with pytest.raises(UserError, match=PRE_ACTIVATION):
        load_encoder(ladder, keras.Model(post.inputs, post.get_layer("code").output), "ae.h5")


def test_the_ladders_weights_and_the_gamma_model_keeps_the_top_alone():
    assert ladder_weights(LadderSettings(), 4) == (1000.0, 10.0, 0.1, 0.1, 0.1)  # the reference's, from the images up
    assert ladder_weights(LadderSettings(denoising_weights="0"), 3) == (0.0,) * 4  # one weight: every level's
    assert ladder_weights(LadderSettings(decoder="gamma"), 3) == (0.0, 0.0, 0.0, GAMMA_WEIGHT)
    ladder = Ladder(TINY, (2, 2, 1), weights=(0.0, 0.0, 1.0), seed=1)
    assert sorted(ladder.combinators) == [2] and not ladder.vertical  # the Γ-model: no decoder below the top


def test_the_linear_decay_is_the_references():
    decay = LinearDecay(0.002, 150, 0.67)
    assert decay.at(0) == decay.at(100) == 0.002
    assert decay.at(101) == pytest.approx(0.002 * 49 / 49.5) and decay.at(149) == pytest.approx(0.002 / 49.5)


def test_a_ladder_run_on_the_workbench_encoder_learns_and_predicts_above_chance(mnist_first, mnist_pixels):
    (x, y), val = mnist_first
    autoencoder = build_autoencoder(AutoencoderConfig(layers=2, filters=4, block_order="pre-activation"))
    encoder = keras.Model(autoencoder.inputs, autoencoder.get_layer("code").output)
    config = make(ClassifierConfig, {"fc_units": 16, "batch_size": 20, "unlabelled_batch": 20,
                                        "fine_tune_epochs": 3, "ladder": True, "init": "scratch"})
    labelled = (x[:100], y[:100])
    run = train_ladder(encoder, config, ClassifierData(labelled, val, 10, images=mnist_pixels[0][:240]), seed=1)
    assert run.epochs_done == 3 and run.history["val_accuracy"][-1] > 0.3  # chance: 0.1
    assert run.history["denoising"][-1] < run.history["denoising"][0]
    predicted = np.asarray(run.model.predict(val[0], verbose=0))
    assert predicted.shape == (len(val[0]), 10) and np.allclose(predicted.sum(1), 1.0, atol=1e-5)


def test_the_ladder_arms_differ_only_in_the_decoder_and_the_weights():
    plan = label_study({}, (100,), 1, seed=1, arms=("ladder", "ladder-nolateral", "gamma", "ladder-w0",
                                                   "ladder-scratch"))
    arms = {p.arm: plan.config_of(p) for p in plan.runs()}
    decoders = {arm: (config.ladder.decoder, config.ladder.denoising_weights, config.init)
                for arm, config in arms.items()}
    assert decoders == {"ladder": ("ladder", "", "pretrained"), "ladder-nolateral": ("top-down", "", "pretrained"),
                        "gamma": ("gamma", "", "pretrained"), "ladder-w0": ("ladder", "0", "pretrained"),
                        "ladder-scratch": ("ladder", "", "scratch")}
    shared = {(c.batch_size, c.unlabelled_batch, c.fine_tune_epochs, c.ladder.ladder_noise) for c in arms.values()}
    assert len(shared) == 1 and all(c.joint is None for c in arms.values())


def test_a_ladder_without_laterals_trains_without_a_warning_about_its_unused_lateral_terms(mnist_first):
    """Without laterals the combinators' lateral terms (a6-a10) get no gradient, as they should; they share one
    variable with the terms that do, so Keras has no variable without a gradient to warn about."""
    (x, y), val = mnist_first
    config = make(ClassifierConfig, {"fc_units": 8, "batch_size": 20, "unlabelled_batch": 20, "fine_tune_epochs": 1,
                                     "ladder": True, "decoder": "top-down", "init": "scratch"})
    data = ClassifierData((x[:40], y[:40]), val, 10, images=x[:40])
    autoencoder = build_autoencoder(AutoencoderConfig(layers=1, filters=2, block_order="pre-activation"))
    encoder = keras.Model(autoencoder.inputs, autoencoder.get_layer("code").output)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = train_ladder(encoder, config, data, seed=1)
    assert run.epochs_done == 1
    assert not [w for w in caught if "Gradients do not exist" in str(w.message)]


def test_the_exported_classifier_predicts_as_the_ladder_and_saves_as_h5(mnist_first, tmp_path):
    from models.networks.ladder_export import export_classifier
    from models.training.persistence import load_model, save_model

    (x, _), _ = mnist_first
    ladder = Ladder([*CONV_LEVELS[:1], Level("dense", 8), Level("dense", 10)], x.shape[1:], weights=(1, 1, 1, 1),
                    seed=2)
    rng = np.random.default_rng(9)
    for weight in ladder.encoder.weights:  # trained-looking weights and statistics, variances positive
        weight.assign(rng.uniform(0.5, 1.5, size=weight.shape) if "variance" in weight.name or "gamma" in weight.name
                      else rng.normal(size=weight.shape) * 0.3)
    expected = np.asarray(ladder(x[:32]))
    exported = export_classifier(ladder)
    np.testing.assert_allclose(exported.predict(x[:32], verbose=0), expected, rtol=1e-4, atol=1e-5)
    save_model(exported, tmp_path / "ladder.h5", {"kind": "classifier"})
    np.testing.assert_allclose(load_model(tmp_path / "ladder.h5").predict(x[:32], verbose=0), expected, rtol=1e-4,
                               atol=1e-5)


def test_a_head_of_several_dense_levels_trains_exports_and_asks_a_weight_per_level(mnist_first):
    (x, y), val = mnist_first
    config = make(ClassifierConfig, {"batch_size": 20, "unlabelled_batch": 20, "fine_tune_epochs": 1, "ladder": True,
                                     "ladder_head": "12,8", "denoising_weights": "1,1,1,1,1", "init": "scratch"})
    assert ladder_head(config) == (12, 8) and ladder_head(make(ClassifierConfig, {"ladder": True})) == (128,)
    check_ladder(config, 1)  # the images, one block, two dense levels, the class level: five weights
    with pytest.raises(ConfigError, match="has 6 levels .*2 encoder blocks, the head's 2 dense levels"):
        check_ladder(config, 2)
    with pytest.raises(ConfigError, match="--ladder-head 12,0: expected whole numbers from 1 to 4096"):
        check_classifier(make(ClassifierConfig, {"ladder": True, "ladder_head": "12,0"}))
    autoencoder = build_autoencoder(AutoencoderConfig(layers=1, filters=2, block_order="pre-activation"))
    encoder = keras.Model(autoencoder.inputs, autoencoder.get_layer("code").output)
    run = train_ladder(encoder, config, ClassifierData((x[:40], y[:40]), val, 10, images=x[:40]), seed=1)
    dense = [layer.units for layer in run.model.layers if isinstance(layer, layers.Dense)]
    assert dense == [12, 8, 10] and run.epochs_done == 1
