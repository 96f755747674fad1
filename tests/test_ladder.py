"""The ladder on the saved autoencoder (models/ladder.py): its corrupted and clean passes, its top-down decoder with
lateral connections and combinators, its costs; the ladder and Γ arms; what is refused before training."""

import numpy as np
import pytest

from common.data import splits
from common.keras_setup import keras
from common.study.arms import JOINT_RECIPE
from common.study.plan import label_study
from common.study.runner import reusable
from common.tracking.run_log import RunLog
from common.tracking.schema import CLASSIFIER
from models.classifier import build_classifier
from models.config import ClassifierConfig, ladder_weights
from models.joint import JointClassifier
from models.ladder import GAUSS_START, VARIANCE_FLOOR, Ladder
from models.training import classifier_stages
from models.training.batches import batches
from models.training.classifier_stages import compile_classifier, fit_joint
from models.training.joint_batches import joint_batches
from tests.conftest import assert_one_line_error
from tests.helpers import cut, run_study, same, weights
from tests.test_label_study import CONTEXT, RecordingTrainer
from tests.test_label_study import data as study_data  # noqa: F401  (a fixture)

SMALL = dict(fc_units=16, epochs=1, fine_tune_epochs=1, batch_size=16)


@pytest.fixture(scope="module")
def data(mnist_split):
    return mnist_split


def test_the_corrupted_pass_differs_from_the_clean_one_only_by_the_noise(saved_autoencoder, data):
    ladder = Ladder(*cut(saved_autoencoder))
    images = data[0][0][:64]
    _, clean = ladder.encode(images)
    _, quiet = ladder.encode(images, 0.0, 0.0, keras.random.SeedGenerator(1))
    assert all(np.array_equal(np.asarray(a), np.asarray(b)) for a, b in zip(clean, quiet))
    _, noisy = ladder.encode(images, 0.0, 0.3, keras.random.SeedGenerator(1))
    first = np.asarray(noisy[1]) - np.asarray(clean[1])  # the first level: the same inputs, noise added after it
    assert abs(first.std() - 0.3) < 0.03 and abs(first.mean()) < 0.01
    assert [tuple(np.shape(level)) for level in clean] == [(64, 28, 28, 1), (64, 28, 28, 4), (64, 14, 14, 8)]


def test_a_level_s_constant_channel_counts_as_much_as_a_live_one_would_not_a_million_times(saved_autoencoder, data):
    """A channel whose ReLU never fires is constant after its normalisation: its error is measured against the
    variance floor, not divided by a variance of nearly 0."""
    ladder = Ladder(*cut(saved_autoencoder))
    _, clean = ladder.encode(data[0][0][:64])
    level = np.asarray(clean[1]).copy()
    level[..., 0] = 0.5  # a dead channel: the same value everywhere
    off = level.copy()
    off[..., 0] += 0.1  # the estimate misses it by 0.1
    cost = float(ladder.costs([clean[0], off], [clean[0], level])[1])
    assert cost == pytest.approx(0.1 ** 2 / VARIANCE_FLOOR / level.shape[-1], rel=1e-3)


def test_without_laterals_and_with_the_image_s_weight_alone_the_ladder_is_the_plain_reconstruction(
        saved_autoencoder, data):
    encoder, decoder = cut(saved_autoencoder)
    config = ClassifierConfig(**SMALL, joint=True)
    classifier, _ = build_classifier(encoder, config, 10)
    images = data[0][0][:32]
    plain = JointClassifier(classifier, encoder, decoder, weight=1.0, noise=0.2, seed=5)
    ladder = JointClassifier(classifier, encoder, decoder, weight=0.0, noise=0.2, seed=5,
                             ladder=Ladder(encoder, decoder, lateral=False), denoising=(1.0, 0.0, 0.0))
    expected = float(plain.reconstruction_loss(images))
    total, image = (float(cost) for cost in ladder.ladder_costs(images))
    assert total == pytest.approx(expected, rel=1e-6) and image == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("ladder", [False, True], ids=["joint, no terms", "ladder, weights 0"])
def test_with_its_weights_and_noise_at_0_joint_training_trains_as_the_plain_classifier(saved_autoencoder, data,
                                                                                         ladder):
    """Joint training with no term on the unlabelled images and no noise (the ladder's decoder too, its weights
    all 0): step for step the plain classifier's training on the same labelled batches, the decoder untouched."""
    train, images = splits.labelled_part(*data[0], 40, seed=1), data[0][0]
    config = ClassifierConfig(**SMALL, label_budget=40, joint=True)
    steps = len(images) // config.batch_size
    trained = []
    for joint in (True, False):
        encoder, decoder = cut(saved_autoencoder)
        before = weights(decoder)
        keras.utils.set_random_seed(3)
        classifier, _ = build_classifier(encoder, config, 10)
        encoder.trainable = True
        extra = dict(ladder=Ladder(encoder, decoder), denoising=(0.0, 0.0, 0.0)) if ladder else {}
        model = JointClassifier(classifier, encoder, decoder, weight=0.0, noise=0.0, seed=3, **extra) if joint \
            else classifier
        compile_classifier(model, config, 1e-3, len(images), 1)
        initial = weights(classifier)
        feed = joint_batches(train, images, config.batch_size, seed=3) if joint else \
            batches(*train, config.batch_size, seed=3, drop_remainder=True).repeat().take(steps)
        history = model.fit(feed, epochs=1, verbose=0).history
        trained.append(weights(classifier))
        assert same(weights(decoder), before) and len(history["loss"]) == 1 and not same(trained[-1], initial)
    assert same(*trained)


def test_the_ladder_trains_its_combinators_and_predicts_from_the_clean_pass(saved_autoencoder, data, monkeypatch):
    """Through the program's own stage 2 (`fit_joint`, which builds the optimizer before the first step: every
    variable it updates, the combinators' too, must exist by then)."""
    encoder, decoder = cut(saved_autoencoder)
    config = ClassifierConfig(**SMALL, joint=True, decoder="ladder", layer_noise=0.3, reconstruction_weight=0.0,
                              noise=0.3, consistency=0.0, entropy_weight=0.0)
    classifier, _ = build_classifier(encoder, config, 10)
    assert ladder_weights(config, 2) == (100.0, 1.0, 0.01) and ladder_weights(config, 4)[-2:] == (0.01, 0.01)
    train = splits.labelled_part(*data[0], 40, seed=1)
    captured = []
    real = classifier_stages.JointClassifier
    monkeypatch.setattr(classifier_stages, "JointClassifier",
                        lambda *args, **kwargs: captured.append(real(*args, **kwargs)) or captured[-1])
    result = fit_joint(classifier, encoder, decoder, config, train, data[0][0][:320],
                       (data[1][0][:64], data[1][1][:64]), seed=3)
    assert result.epochs_done == 1 and result.history["reconstruction"][0] > 0  # the image level's cost, as logged
    model, ladder = captured[0], captured[0].ladder
    moved = [not np.allclose(np.asarray(a), start) for combinator in ladder.combinators
             for a, start in zip(combinator.a, GAUSS_START)]
    assert sum(moved) >= 10  # the combinators' parameters learn
    images = data[1][0][:50]
    first, second = model.predict(images, verbose=0), model.predict(images, verbose=0)
    assert np.array_equal(first, second) and np.allclose(first, classifier.predict(images, verbose=0))


def test_the_ladder_arms_and_the_gamma_arm_are_the_recipe_changed_where_they_say():
    plan = label_study(ClassifierConfig(**SMALL), (20,), 1, seed=7, arms=("joint", "gamma", "ladder",
                                                                          "ladder-nolateral"))
    joint, gamma, ladder, top_down = (plan.config_of(p) for p in plan.runs())
    assert (gamma.reconstruction_weight, gamma.layer_noise, gamma.decoder) == (0.0, 0.3, "plain")
    assert (ladder.reconstruction_weight, ladder.layer_noise, ladder.decoder) == (0.0, 0.3, "ladder")
    assert top_down.decoder == "top-down" and ladder.consistency == JOINT_RECIPE["consistency"] > 0
    assert {name for name in vars(joint) if getattr(joint, name) != getattr(ladder, name)} == {
        "reconstruction_weight", "layer_noise", "decoder"}


def test_a_study_s_own_ladder_settings_reach_both_ladder_arms():
    study = ClassifierConfig(**SMALL, layer_noise=0.15, denoising_weights="100,1,0.01")
    plan = label_study(study, (20,), 1, seed=7, arms=("ladder", "ladder-nolateral"))
    for config in (plan.config_of(p) for p in plan.runs()):
        assert (config.layer_noise, config.denoising_weights) == (0.15, "100,1,0.01")


def test_a_study_s_own_stage_2_epochs_reach_the_joint_arms_and_the_default_keeps_the_recipe_s():
    arms = ("supervised", "joint", "ladder")
    longer = label_study(ClassifierConfig(**{**SMALL, "fine_tune_epochs": 4}), (20,), 1, seed=7, arms=arms)
    assert [longer.config_of(p).fine_tune_epochs for p in longer.runs()] == [4, 4, 4]
    default = label_study(ClassifierConfig(**{**SMALL, "fine_tune_epochs": 5}), (20,), 1, seed=7, arms=arms)
    assert [default.config_of(p).fine_tune_epochs for p in default.runs()] == [JOINT_RECIPE["fine_tune_epochs"]] * 3


def test_a_stopped_ladder_study_resumes_without_training_a_run_twice(study_data, tmp_path):  # noqa: F811
    plan = label_study(ClassifierConfig(fc_units=8, epochs=1, fine_tune_epochs=1, batch_size=10), (20,), 2, seed=7,
                       arms=("ladder", "ladder-nolateral"))
    log = RunLog(tmp_path / "log.csv", CLASSIFIER)
    first = RecordingTrainer(stop_at=3)
    stopped = run_study(plan, study_data, first, log=log, context=CONTEXT)
    assert stopped.interrupted and stopped.trained == 2
    second = RecordingTrainer()
    resumed = run_study(plan, study_data, second, log=log, context=CONTEXT)
    assert resumed.reused == 2 and resumed.trained == 2 and len(second.calls) == 2
    assert len(reusable(log.read()[0], plan, CONTEXT)) == 4


@pytest.mark.parametrize("flags, fragments", [
    (["--denoising-weights", "-1"], ["argument --denoising-weights: '-1': expected weights from 0 to 10000"]),
    (["--layer-noise", "5"], ["argument --layer-noise: '5': must be from 0.0 to 1.0"]),
    (["--decoder", "ladder", "--denoising-weights", "1000,10"], ["--denoising-weights 1000,10: the ladder on this "
                                                                 "encoder has 3 levels", "give 3 weights"]),
    (["--denoising-weights", "1,2,3"], ["--denoising-weights are the ladder's: add --decoder ladder"]),
])
def test_ladder_settings_that_cannot_be_are_refused_before_training(mnist, saved_autoencoder, tmp_path, in_process,
                                                                    flags, fragments):
    done = in_process("classification.py", "-d", mnist["train_images"], "-dl", mnist["train_labels"],
                      "-t", mnist["test_images"], "-tl", mnist["test_labels"], "-model", saved_autoencoder,
                      "--no-menu", *map(str, flags), cwd=tmp_path)
    assert_one_line_error(done, *fragments)
    assert not (tmp_path / "runs" / "classification_loss_values.csv").exists()
