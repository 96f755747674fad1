"""The ladder's training step wired as published, against a hand computation in NumPy (float64) on a tiny ladder:
the decoder (u from the corrupted pass's class probabilities, normalised; V on ẑ of the level above; the
combinator fed z̃ and u), the costs (the clean pass's statistics and targets on the unlabelled half, the supervised
cost on the corrupted pass, the noise on the labelled half too) and the gradients, which flow through the clean
pass as well (finite differences of the hand computation). The noise is made deterministic here so that the hand
computation can add the same."""

import numpy as np
import pytest

from common.keras_setup import keras, tf
from models.networks import ladder_encoder
from models.networks.ladder import Ladder
from models.networks.ladder_encoder import EPSILON, Level

ops = keras.ops
TINY = [Level("dense", 3), Level("dense", 2)]  # on images of 2x2 pixels: 4 inputs
WEIGHTS = (2.0, 0.5, 0.3)  # denoising weights from the images up: every level's cost counts
NOISE = 0.3


def pattern(shape) -> np.ndarray:
    """The deterministic 'noise' of a tensor of `shape`: a sine of the element's index."""
    return np.sin(np.arange(int(np.prod(shape))) * 0.37 + 1.0).reshape(shape)


def fixed_noise(x, std, seed):
    """ladder_encoder._noisy with the pattern in place of Gaussian noise."""
    if not std:
        return x
    return x + std * ops.convert_to_tensor(pattern(tuple(x.shape)), dtype=x.dtype)


@pytest.fixture
def deterministic_noise(monkeypatch):
    monkeypatch.setattr(ladder_encoder, "_noisy", fixed_noise)


def tiny_ladder(lateral=True, seed=1) -> Ladder:
    """The tiny ladder with every weight random (the combinators' too, which start at 0), compiled."""
    keras.utils.set_random_seed(seed)
    ladder = Ladder(TINY, (2, 2, 1), weights=WEIGHTS, noise=NOISE, lateral=lateral, per="unit", seed=seed)
    rng = np.random.default_rng(seed)
    for variable in ladder.trainable_variables:
        variable.assign(rng.normal(scale=0.8, size=variable.shape))
    ladder.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    return ladder


def params(ladder: Ladder) -> dict[str, np.ndarray]:
    return {v.path: np.asarray(v, dtype=np.float64) for v in ladder.trainable_variables}


def normalise(x):
    mean, variance = x.mean(0), x.var(0)
    return (x - mean) / np.sqrt(variance + EPSILON), mean, variance


def softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def encoder_pass(p, x, noise):
    """A pass over one half: each level's z (the images at 0), the mean and variance of each pre-activation, the
    top."""
    h = x + noise * pattern(x.shape)
    zs, means, variances = [h], [None], [None]
    for i in (1, 2):
        z, mean, variance = normalise(h @ p[f"encoder_{i}/kernel"])
        z = z + noise * pattern(z.shape)
        zs.append(z)
        means.append(mean)
        variances.append(variance)
        shifted = z + p[f"ladder_encoder/beta_{i}"]
        h = softmax(shifted * p["ladder_encoder/gamma_2"]) if i == 2 else np.maximum(shifted, 0)
    return zs, means, variances, h


def combinator(p, i, noisy, u, lateral):
    a = p[f"combinator_{i}/a"]  # a1..a10, stacked
    mean = a[0] * sigmoid(a[1] * u + a[2]) + a[3] * u + a[4]
    if not lateral:
        return mean
    return (noisy - mean) * (a[5] * sigmoid(a[6] * u + a[7]) + a[8] * u + a[9]) + mean


def hand_step(p, labelled, labels, unlabelled, lateral=True):
    """(supervised cost, weighted denoising cost, the denoising estimates) of the published step, by hand."""
    split = len(labelled)
    _, _, _, top = encoder_pass(p, labelled.reshape(-1, 4).astype(np.float64), NOISE)
    supervised = -np.mean(np.log(top[np.arange(split), labels]))
    if not len(unlabelled):
        return supervised, 0.0, {}
    x = unlabelled.reshape(-1, 4).astype(np.float64)
    corrupted, _, _, top = encoder_pass(p, x, NOISE)
    clean, means, variances, _ = encoder_pass(p, x, 0.0)
    estimates = {}
    u, _, _ = normalise(top)  # u at the top: the corrupted class probabilities, normalised
    for i in (2, 1, 0):
        estimates[i] = combinator(p, i, corrupted[i], u, lateral)
        if i:
            u, _, _ = normalise(estimates[i] @ p[f"vertical_{i - 1}/decoder_{i - 1}/kernel"])
    costs = {0: np.mean((estimates[0] - clean[0]) ** 2)}
    for i in (1, 2):
        normalised_estimate = (estimates[i] - means[i]) / np.sqrt(variances[i] + EPSILON)
        costs[i] = np.mean((normalised_estimate - clean[i]) ** 2)
    return supervised, sum(WEIGHTS[i] * costs[i] for i in costs), estimates


def batch(split, rest, seed=2):
    rng = np.random.default_rng(seed)
    labelled = rng.uniform(size=(split, 2, 2, 1)).astype("float32")
    labels = rng.integers(0, 2, size=split)
    return labelled, labels, rng.uniform(size=(rest, 2, 2, 1)).astype("float32")


@pytest.mark.parametrize("split, rest", [(4, 4), (3, 5)])  # halves alike, and unlike
@pytest.mark.parametrize("lateral", [True, False])
def test_the_costs_of_a_step_are_the_hand_computed_ones(deterministic_noise, split, rest, lateral):
    ladder = tiny_ladder(lateral)
    labelled, labels, unlabelled = batch(split, rest)
    supervised, denoising, _ = ladder.losses_of(labelled, labels, unlabelled)
    want_supervised, want_denoising, _ = hand_step(params(ladder), labelled, labels, unlabelled, lateral)
    assert float(supervised) == pytest.approx(want_supervised, rel=1e-4)
    assert float(denoising) == pytest.approx(want_denoising, rel=1e-4)


def test_the_decoder_feeds_each_combinator_its_levels_corrupted_value_and_the_projection_from_above(
        deterministic_noise):
    ladder = tiny_ladder()
    labelled, labels, unlabelled = batch(4, 4)
    got = ladder.decode(ladder.encoder.run(unlabelled, NOISE, ladder.seed))
    _, _, want = hand_step(params(ladder), labelled, labels, unlabelled)
    assert sorted(got) == [0, 1, 2]
    for i in (0, 1, 2):
        np.testing.assert_allclose(np.asarray(got[i]), want[i], rtol=1e-4, atol=1e-5)


def test_the_gradients_are_those_of_the_hand_computed_costs_through_the_clean_pass_too(deterministic_noise):
    ladder = tiny_ladder()
    labelled, labels, unlabelled = batch(4, 4)
    with tf.GradientTape() as tape:
        supervised, denoising, _ = ladder.losses_of(labelled, labels, unlabelled)
        total = supervised + denoising
    got = {v.path: np.asarray(g) for v, g in zip(ladder.trainable_variables,
                                                 tape.gradient(total, ladder.trainable_variables))}
    p = params(ladder)

    def cost(changed):
        s, d, _ = hand_step(changed, labelled, labels, unlabelled)
        return s + d

    step = 1e-5
    for name, value in p.items():
        want = np.zeros_like(value)
        for index in np.ndindex(value.shape):
            for sign in (1, -1):
                moved = dict(p, **{name: value.copy()})
                moved[name][index] += sign * step
                want[index] += sign * cost(moved) / (2 * step)
        np.testing.assert_allclose(got[name], want, rtol=2e-3, atol=2e-4, err_msg=name)


def test_the_noise_reaches_the_labelled_half_and_the_supervised_cost_reads_the_corrupted_pass(
        deterministic_noise):
    ladder = tiny_ladder()
    labelled, labels, unlabelled = batch(4, 4)
    _, _, predicted = ladder.losses_of(labelled, labels, unlabelled)
    x = labelled.reshape(-1, 4).astype(np.float64)
    _, _, _, noisy_top = encoder_pass(params(ladder), x, NOISE)
    _, _, _, clean_top = encoder_pass(params(ladder), x, 0.0)
    np.testing.assert_allclose(np.asarray(predicted), noisy_top, rtol=1e-4, atol=1e-6)
    assert not np.allclose(noisy_top, clean_top, atol=1e-3)  # so the noise did reach the labelled half


def test_a_step_without_unlabelled_images_has_the_supervised_cost_alone(deterministic_noise):
    ladder = tiny_ladder()
    labelled, labels, _ = batch(4, 0)
    supervised, denoising, _ = ladder.losses_of(labelled, labels, np.zeros((0, 2, 2, 1), "float32"))
    want, _, _ = hand_step(params(ladder), labelled, labels, np.zeros((0, 2, 2, 1)))
    assert float(supervised) == pytest.approx(want, rel=1e-4)
    assert float(denoising) == 0.0


def test_the_noise_is_a_standard_normal_of_the_levels_shape():
    x = keras.ops.zeros((4000, 7))  # an odd last axis: the transform's pairs cut to it
    noise = np.asarray(ladder_encoder.gaussian(x, keras.random.SeedGenerator(3)))
    assert noise.shape == (4000, 7)
    assert abs(noise.mean()) < 0.02 and abs(noise.std() - 1) < 0.02
    for within, share in ((1, 0.6827), (2, 0.9545), (3, 0.9973)):  # the normal's mass within 1, 2, 3 sd
        assert abs(np.mean(np.abs(noise) < within) - share) < 0.01
    assert abs(np.corrcoef(noise[:, 0], noise[:, 4])[0, 1]) < 0.05  # a pair's cosine and sine halves: independent
    again = np.asarray(ladder_encoder.gaussian(x, keras.random.SeedGenerator(3)))
    assert np.array_equal(noise, again)  # seeded


def test_in_bfloat16_only_the_linear_maps_compute_in_bfloat16_and_the_costs_match_float32s():
    from models.compute.ways import Way, computing

    levels = [Level("conv", 4, 3, pool=True), Level("dense", 6), Level("dense", 3)]
    rng = np.random.default_rng(4)
    labelled = rng.uniform(size=(8, 8, 8, 1)).astype("float32")
    labels = rng.integers(0, 3, size=8)
    unlabelled = rng.uniform(size=(8, 8, 8, 1)).astype("float32")
    found = {}
    for precision in ("float32", "bfloat16"):
        keras.utils.set_random_seed(1)
        with computing(Way(precision)):
            ladder = Ladder(levels, (8, 8, 1), weights=(1.0, 1.0, 1.0, 1.0), noise=0.0, seed=1)
        ladder.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
        assert {layer.compute_dtype for layer in ladder.encoder.linears} == {precision}
        assert {c.compute_dtype for c in ladder.combinators.values()} == {"float32"}
        passed = ladder.encoder.run(unlabelled)
        assert {keras.backend.standardize_dtype(z.dtype) for z in passed["z"]} == {"float32"}  # statistics too
        found[precision] = [float(v) for v in ladder.losses_of(labelled, labels, unlabelled)[:2]]
        predicted = ladder.predict(labelled, verbose=0)  # the clean pass with the moving statistics
        assert predicted.dtype == np.float32 and np.allclose(predicted.sum(1), 1.0, atol=1e-3)
        ladder.fit(tf.data.Dataset.from_tensors(((labelled, labels), unlabelled)), epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(found["bfloat16"], found["float32"], rtol=0.03)
