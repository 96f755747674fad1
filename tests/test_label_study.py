"""The label-budget study: its plan, the subsets both arms get, resuming after an interruption, the aggregation."""

import io

import numpy as np
import pandas as pd
import pytest
from rich.console import Console

from common.data import splits
from common.errors import UserError
from common.study.arms import JOINT_RECIPE, SUPERVISED_RATE, arm_of, parse_arms
from common.study.plan import label_study
from common.study.runner import reusable
from common.study.summary import summarize
from common.tracking.run_log import RunLog
from common.tracking.schema import CLASSIFIER as LOG_COLUMNS
from common.ui.screens.study_screens import computed, study_description
from common.ui.terminal.tables import label_study_table
from models.config.classifier import ClassifierConfig, uses_unlabelled
from models.config.settings import value_of, with_values
from tests.helpers import CONTEXT, RecordingTrainer, run_study

SAID = {"fc_units": 8, "epochs": 1, "fine_tune_epochs": 1, "batch_size": 10}  # what the study is told
PLAN = label_study(SAID, (20, 0), 2, seed=7)


def test_the_plan_pairs_both_arms_on_each_seed():
    runs = PLAN.runs()
    assert len(runs) == 2 * 2 * 2
    assert [(r.label_budget, r.repeat, r.seed, r.arm) for r in runs[:4]] == [
        (20, 1, 7, "pretrained"), (20, 1, 7, "scratch"), (20, 2, 8, "pretrained"), (20, 2, 8, "scratch")]
    assert PLAN.config_of(runs[1]) == ClassifierConfig(fc_units=8, epochs=1, fine_tune_epochs=1, batch_size=10,
                                                       label_budget=20, init="scratch")


def test_a_setting_said_at_its_default_value_is_kept_by_every_arm():
    plan = label_study({"fine_tune_epochs": 5, "joint_learning_rate": 2e-4}, (20,), 1, seed=7,
                       arms=("pretrained", "supervised", "joint", "joint-w0", "ladder"))
    arms = {p.arm: plan.config_of(p) for p in plan.runs()}
    assert {arm: config.fine_tune_epochs for arm, config in arms.items()} == dict.fromkeys(arms, 5)
    assert {arm: arms[arm].joint.joint_learning_rate for arm in ("supervised", "joint", "joint-w0")} == \
        dict.fromkeys(("supervised", "joint", "joint-w0"), 2e-4)  # the default's value, said: not the recipe's
    unsaid = label_study({}, (20,), 1, seed=7, arms=("pretrained", "supervised", "joint"))
    arms = {p.arm: unsaid.config_of(p) for p in unsaid.runs()}
    epochs = (arms["pretrained"].fine_tune_epochs, arms["joint"].fine_tune_epochs)
    assert epochs == (5, JOINT_RECIPE["fine_tune_epochs"])
    assert (arms["supervised"].joint.joint_learning_rate, arms["joint"].joint.joint_learning_rate) == \
        (SUPERVISED_RATE, JOINT_RECIPE["joint_learning_rate"])  # left unsaid: each arm's own choice


def test_both_arms_get_the_same_balanced_subset_and_seeds_change_it(study_data, tmp_path):
    trainer = RecordingTrainer()
    run_study(PLAN, study_data, trainer, log=RunLog(tmp_path / "log.csv", LOG_COLUMNS), context=CONTEXT)
    by_run = {(labels, init, seed): images for labels, init, seed, images in trainer.calls}
    for seed in (7, 8):
        assert np.array_equal(by_run[(20, "pretrained", seed)], by_run[(20, "scratch", seed)])
    assert not np.array_equal(by_run[(20, "pretrained", 7)], by_run[(20, "pretrained", 8)])
    assert len(by_run[(20, "scratch", 7)]) == 20 and len(by_run[(0, "scratch", 7)]) == 240
    chosen = splits.balanced_subset(study_data.train[1], 20, seed=7)
    assert np.bincount(study_data.train[1][chosen], minlength=10).tolist() == [2] * 10


def test_an_interrupted_study_resumes_without_training_a_run_twice_or_losing_one(study_data, tmp_path):
    log = RunLog(tmp_path / "log.csv", LOG_COLUMNS)
    first = RecordingTrainer(stop_at=3)
    stopped = run_study(PLAN, study_data, first, log=log, context=CONTEXT)
    assert stopped.interrupted and stopped.trained == 2 and len(stopped.rows) == 2
    rows, _ = log.read()
    assert len(rows) == 3 and rows["interrupted"].tolist() == ["", "", "yes"]  # nothing finished is lost

    second = RecordingTrainer()
    resumed = run_study(PLAN, study_data, second, log=log, context=CONTEXT)
    assert not resumed.interrupted and resumed.reused == 2 and resumed.trained == 6
    assert not set(first.trained()[:2]) & set(second.trained())  # finished runs are not trained again
    assert first.trained()[2] in second.trained()  # the interrupted one is
    assert len(resumed.rows) == 8 and resumed.rows["run_id"].nunique() == 8

    third = RecordingTrainer()
    again = run_study(PLAN, study_data, third, log=log, context=CONTEXT)
    assert third.calls == [] and again.reused == 8
    pd.testing.assert_frame_equal(summarize(again.rows), summarize(resumed.rows))


def test_other_settings_or_another_autoencoder_are_not_reused_and_fresh_trains_all(study_data, tmp_path):
    log = RunLog(tmp_path / "log.csv", LOG_COLUMNS)
    run_study(PLAN, study_data, RecordingTrainer(), log=log, context=CONTEXT)
    logged, _ = log.read()
    assert len(reusable(logged, PLAN, CONTEXT)) == 8
    assert reusable(logged, PLAN, {**CONTEXT, "autoencoder_sha256": "other"}) == {}
    wider = label_study({**SAID, "fc_units": 16}, (20, 0), 2, 7)
    assert reusable(logged, wider, CONTEXT) == {}
    more = label_study(SAID, (20, 0), 3, seed=7)  # a third repeat: only it is missing
    assert len(reusable(logged, more, CONTEXT)) == 8
    fresh = RecordingTrainer()
    run_study(PLAN, study_data, fresh, log=log, context=CONTEXT, fresh=True)
    assert len(fresh.calls) == 8


def _rows():
    """Three seeds at 100 labels and two at all of them, with accuracies whose aggregates are easy to check."""
    lines = []
    for seed, (pretrained, scratch) in zip((1, 2, 3), ((0.8, 0.7), (0.9, 0.7), (1.0, 0.7))):
        lines += [dict(label_budget=100, labels_used=100, seed=seed, init="pretrained", test_accuracy=pretrained,
                       wall_time=10.0),
                  dict(label_budget=100, labels_used=100, seed=seed, init="scratch", test_accuracy=scratch,
                       wall_time=5.0)]
    for seed, (pretrained, scratch) in zip((1, 2), ((0.99, 0.98), (0.97, 0.98))):
        lines += [dict(label_budget=0, labels_used=48000, seed=seed, init=init, test_accuracy=value, wall_time=100.0)
                  for init, value in (("pretrained", pretrained), ("scratch", scratch))]
    return pd.DataFrame(lines)


def test_summary_gives_mean_spread_paired_difference_and_time_per_budget():
    summary = summarize(_rows())
    assert summary["labels"].tolist() == [100, 0] and summary["labels_used"].tolist() == [100, 48000]
    few = summary.iloc[0]
    assert few["pretrained_mean"] == pytest.approx(0.9) and few["pretrained_sd"] == pytest.approx(0.1)
    assert few["scratch_mean"] == pytest.approx(0.7) and few["scratch_sd"] == pytest.approx(0.0)
    assert few["pretraining_mean"] == pytest.approx(0.2) and few["pretraining_sd"] == pytest.approx(0.1)
    assert few["pretraining_pairs"] == 3 and few["wall_time"] == pytest.approx(45.0)
    half = 4.303 * 0.1 / 3 ** 0.5  # t with 2 degrees of freedom, from a printed table
    assert (few["pretraining_low"], few["pretraining_high"]) == (pytest.approx(0.2 - half, abs=1e-4),
                                                                 pytest.approx(0.2 + half, abs=1e-4))
    assert few["pretrained_time"] == pytest.approx(30.0) and few["scratch_time"] == pytest.approx(15.0)
    every = summary.iloc[1]
    assert every["pretraining_mean"] == pytest.approx(0.0) and every["pretraining_sd"] == pytest.approx(2e-4 ** 0.5)


def test_a_missing_partner_is_left_out_of_the_difference():
    rows = _rows().drop(index=1)  # seed 1's scratch run at 100 labels
    few = summarize(rows).iloc[0]
    assert few["scratch_n"] == 2 and few["pretraining_pairs"] == 2
    assert few["pretraining_mean"] == pytest.approx(0.25)


def test_the_table_shows_each_budget_and_arm_with_its_spread_even_at_80_columns():
    for width in (120, 80):
        out = io.StringIO()
        Console(file=out, width=width).print(label_study_table(summarize(_rows()), "study"))
        text = out.getvalue()
        assert "0.9000 ± 0.1000" in text and "0.7000 ± 0.0000" in text and "+0.2000 ± 0.1000" in text
        assert "all (48,000)" in text and "30 s" in text and "15 s" in text and "3 min 20 s" in text
        assert "pretrained" in text and "scratch" in text and "[-0.0484, +0.4484]" in text  # numbers whole
        if width == 120:  # a narrower terminal may fold the difference's name, never a number
            assert "*" not in next(line for line in text.splitlines() if "pretrained − scratch" in line)
        assert "…" not in text  # nothing cut short


def test_self_training_adds_a_third_arm_on_the_same_seeds(study_data, tmp_path):
    plan = label_study({**SAID, "self_training": 2}, (20,), 2, seed=7)
    assert plan.arms == ("pretrained", "scratch", "self-training")
    arms = {planned.arm: plan.config_of(planned) for planned in plan.runs()[:3]}
    assert (arms["pretrained"].self_training, arms["scratch"].self_training) == (None, None)
    assert arms["self-training"].init == "pretrained" and arms["self-training"].augment is True
    assert arms["self-training"].self_training.rounds == 2
    trainer = RecordingTrainer()
    outcome = run_study(plan, study_data, trainer, log=RunLog(tmp_path / "log.csv", LOG_COLUMNS), context=CONTEXT)
    assert len(trainer.calls) == 6 and len(outcome.rows) == 6
    summary = summarize(outcome.rows)
    assert summary.loc[0, "self-training_n"] == 2 and summary.loc[0, "self_training_gain_pairs"] == 2
    out = io.StringIO()
    Console(file=out, width=200).print(label_study_table(summary, "study"))
    assert "pretrained + self-training" in out.getvalue()
    assert len(reusable(log_rows(tmp_path), plan, CONTEXT)) == 6


def log_rows(folder):
    return RunLog(folder / "log.csv", LOG_COLUMNS).read()[0]


def test_the_joint_arms_differ_only_in_the_reconstruction_weight_and_resume(study_data, tmp_path):
    unsaid = {k: v for k, v in SAID.items() if k != "fine_tune_epochs"}
    plan = label_study(unsaid, (20,), 2, seed=7, arms=("joint", "joint-w0"))
    joint, ablation = (plan.config_of(p) for p in plan.runs()[:2])
    settings = joint.joint
    assert settings.reconstruction_weight == JOINT_RECIPE["reconstruction_weight"] > 0
    assert settings.noise == JOINT_RECIPE["noise"] and joint.fine_tune_epochs == JOINT_RECIPE["fine_tune_epochs"]
    assert settings.consistency == JOINT_RECIPE["consistency"] > 0 and joint.augment is JOINT_RECIPE["augment"]
    assert settings.joint_learning_rate == JOINT_RECIPE["joint_learning_rate"] and joint.schedule == "cosine"
    assert settings.teacher_decay == JOINT_RECIPE["teacher_decay"] > 0 and settings.entropy_weight == 1.0
    assert ablation == with_values(joint, reconstruction_weight=0.0)
    mine = label_study({**SAID, "noise": 0.5}, (20,), 1, seed=7, arms=("joint",))
    assert mine.config_of(mine.runs()[0]).joint.noise == 0.5  # a setting of the study's own wins over the recipe
    rate = label_study({**SAID, "joint_learning_rate": 3e-3}, (20,), 1, seed=7, arms=("joint", "pretrained"))
    arms = {p.arm: rate.config_of(p) for p in rate.runs()}
    assert arms["joint"].joint.joint_learning_rate == 3e-3 and arms["pretrained"].joint is None  # not joint
    log = RunLog(tmp_path / "log.csv", LOG_COLUMNS)
    stopped = run_study(plan, study_data, RecordingTrainer(stop_at=2), log=log, context=CONTEXT)
    assert stopped.interrupted and stopped.trained == 1
    rows, _ = log.read()
    assert rows["arm"].tolist() == ["joint", "joint-w0"] and rows["stage1_test_accuracy"].notna().all()
    second = RecordingTrainer()
    resumed = run_study(plan, study_data, second, log=log, context=CONTEXT)
    assert resumed.reused == 1 and resumed.trained == 3 and len(second.calls) == 3
    assert (resumed.rows["arm"].tolist() == ["joint", "joint-w0"] * 2)
    summary = summarize(resumed.rows)
    assert summary.loc[0, "reconstruction_pairs"] == 2 and summary.loc[0, "joint_n"] == 2
    assert not np.isnan(summary.loc[0, "joint_stage1_mean"])


def test_arms_are_parsed_in_the_studys_order_and_unknown_ones_refused():
    assert parse_arms("joint, pretrained") == ("pretrained", "joint")
    with pytest.raises(UserError, match="bogus is not an arm"):
        parse_arms("joint,bogus")
    assert arm_of(pd.Series({"init": "pretrained", "self_training": 10})) == "self-training"  # logged before Arm
    assert arm_of(pd.Series({"arm": "unlabelled", "init": "pretrained"})) == "self-training"


def test_the_study_says_which_joint_recipe_it_trains():
    plan = label_study({}, (20,), 1, seed=7, arms=("pretrained", "joint"))
    text = study_description(plan, 100)
    assert "arms: pretrained, joint;" in text and "1 repeat (seed 7)" in text
    assert ("joint: W 1, noise 0.3, consistency 10 (teacher's decay 0.99), entropy 1, augmented, learning rate 0.003 "
            f"(cosine), {JOINT_RECIPE['fine_tune_epochs']} epochs over every training image") in text
    mine = label_study({"joint": True, "noise": 0.5}, (20,), 1, seed=7, arms=("joint",))
    assert "noise 0.5," in study_description(mine, 100)


def test_a_ladder_study_names_its_arms_and_no_stages_it_does_not_train():
    ladder = study_description(label_study({}, (100,), 1, seed=11, arms=("ladder", "ladder-w0")), 100)
    assert "arms: ladder, ladder-w0;" in ladder and "epochs, batch" not in ladder
    assert "3 epochs over every training image" in study_description(
        label_study({"fine_tune_epochs": 3}, (100,), 1, seed=11, arms=("ladder",)), 100)
    both = study_description(label_study({}, (100,), 1, seed=11, arms=("pretrained", "ladder")), 100)
    assert "10 + 5 epochs, batch 64" in both


def test_the_supervised_arm_is_the_joint_arm_without_its_terms_on_the_unlabelled_images():
    plan = label_study({}, (20,), 1, seed=7, arms=("supervised", "joint"))
    supervised, joint = (plan.config_of(p) for p in plan.runs())
    unlabelled = ("reconstruction_weight", "consistency", "teacher_decay", "entropy_weight")
    own = {name: value_of(supervised, name) for name in (*unlabelled, "joint_learning_rate")}
    assert with_values(joint, **own) == supervised  # but for the unlabelled terms and the rate its tuning chose
    assert (supervised.joint.joint_learning_rate, joint.joint.joint_learning_rate) == (SUPERVISED_RATE, 3e-3)
    assert all(value_of(supervised, n) == 0 for n in unlabelled) and all(value_of(joint, n) for n in unlabelled)
    assert (supervised.augment, supervised.joint.noise) == (True, JOINT_RECIPE["noise"])
    assert not uses_unlabelled(supervised) and uses_unlabelled(joint)
    paired = summarize(pd.DataFrame([dict(label_budget=20, labels_used=20, seed=s, arm=arm, init="pretrained",
                                          test_accuracy=accuracy, wall_time=1.0)
                                     for s in (1, 2) for arm, accuracy in (("supervised", 0.8), ("joint", 0.9))]))
    assert paired.loc[0, "unlabelled_gain_mean"] == pytest.approx(0.1)  # joint − supervised, on the same seeds


def test_a_row_of_another_recipe_version_is_never_reused(study_data, tmp_path):
    log = RunLog(tmp_path / "log.csv", LOG_COLUMNS)
    run_study(PLAN, study_data, RecordingTrainer(), log=log, context=CONTEXT)
    logged, _ = log.read()
    assert len(reusable(logged, PLAN, CONTEXT)) == 8
    assert reusable(logged, PLAN, {**CONTEXT, "recipe_version": "v2"}) == {}  # the training code changed since
    again = RecordingTrainer()
    run_study(PLAN, study_data, again, log=log, context={**CONTEXT, "recipe_version": "v2"})
    assert len(again.calls) == 8


def test_a_study_on_tuning_seeds_never_writes_into_the_reported_tables_rows(study_data, tmp_path):
    log = RunLog(tmp_path / "log.csv", LOG_COLUMNS)
    tuning = label_study(SAID, (20,), 3, seed=11)  # seeds 11-13: for choosing settings
    run_study(tuning, study_data, RecordingTrainer(), log=log, context=CONTEXT)
    reported = label_study(SAID, (20,), 3, seed=1)  # seeds 1-3: the table
    trainer = RecordingTrainer()
    outcome = run_study(reported, study_data, trainer, log=log, context=CONTEXT)
    assert outcome.reused == 0 and len(trainer.calls) == 6
    assert sorted(set(outcome.rows["seed"])) == [1, 2, 3] and len(outcome.rows) == 6
    assert sorted(set(log.read()[0]["seed"])) == [1, 2, 3, 11, 12, 13]  # both in the log, apart


def test_the_tables_caption_says_how_the_arms_computed():
    rows = pd.DataFrame([dict(arm="pretrained", init="pretrained", compute="CPU, float32, no XLA"),
                         dict(arm="joint", init="pretrained", compute="CPU, float32, no XLA")])
    assert computed(rows) == " Computed as CPU, float32, no XLA."
    rows.loc[1, "compute"] = "CPU, bfloat16, no XLA"
    assert computed(rows) == (" The arms computed differently: pretrained CPU, float32, no XLA; joint CPU, bfloat16, "
                              "no XLA.")


def test_the_plot_draws_each_arm_beside_the_others_at_its_budget(tmp_path, monkeypatch):
    from common.ui.plots import study_plots

    drawn = []
    monkeypatch.setattr(study_plots, "save_figure", lambda fig, path: drawn.append(fig) or path)
    rows = _rows()
    study_plots.plot_label_study(summarize(rows), rows, tmp_path / "study.png", "study")
    ax = drawn[0].axes[0]
    means = [line.get_xdata() for line in ax.get_lines() if line.get_marker() not in ("", "None", "_")]
    assert len(means) == 2 and all(len(x) == 2 for x in means)
    for budget, (pretrained, scratch) in zip((100, 48000), zip(*means)):
        assert pretrained != scratch and 0.9 < pretrained / budget < 1.1 and 0.9 < scratch / budget < 1.1
    assert ax.get_legend() is None and drawn[0].legends  # the legend beside the axes, not over the points


def test_the_t_intervals_match_the_printed_tables_and_a_clear_difference_is_starred():
    from common.study.intervals import excludes_zero, paired_interval, t_critical

    assert [round(t_critical(df), 3) for df in (1, 2, 4, 9, 29)] == [12.706, 4.303, 2.776, 2.262, 2.045]
    assert paired_interval(0.01, 0.002, 5) == pytest.approx((0.01 - 2.776 * 0.002 / 5 ** 0.5,
                                                            0.01 + 2.776 * 0.002 / 5 ** 0.5), abs=1e-6)
    assert np.isnan(paired_interval(0.01, float("nan"), 1)[0])
    assert excludes_zero(0.001, 0.02) and excludes_zero(-0.02, -0.001) and not excludes_zero(-0.01, 0.02)
    rows = pd.DataFrame([dict(label_budget=100, labels_used=100, seed=s, arm=arm, init="pretrained",
                              test_accuracy=value, wall_time=1.0)
                         for s, gain in zip((1, 2, 3), (0.010, 0.012, 0.011))
                         for arm, value in (("pretrained", 0.9 + gain), ("scratch", 0.9))])
    out = io.StringIO()
    Console(file=out, width=160).print(label_study_table(summarize(rows), "study"))
    line = next(line for line in out.getvalue().splitlines() if "pretrained − scratch" in line)
    assert "[+0.0085, +0.0135] *" in line
