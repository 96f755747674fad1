"""The label-budget study in the terminal: a sweep of the number of labelled images, every arm of it on the same
seeds (common/study/arms.py), started from flags or from the menu, with its own table and plot."""

import pandas as pd

from common.files import write_text_atomically
from common.study.arms import ARM, arm_of, default_arms, names, parse_arms
from common.study.plan import Plan, label_study
from common.study.summary import summarize
from common.study.trials import check_plan
from common.tracking.checkpoint_log import CHECKPOINT_LOG, CheckpointLog
from common.ui.cli.flags import DEFAULT_BUDGETS, DEFAULT_REPEATS, given_hyperparameters, label_budgets, label_items
from common.ui.plots.study_plots import plot_accuracy_curves, plot_label_study
from common.ui.screens.sweep_screens import SweepScreens, seeds_of
from common.ui.terminal.prompts import ask_parsed
from common.ui.terminal.tables import label_study_table
from models.config.classifier import ClassifierConfig, ladder_head
from models.config.settings import said_of

SUMMARY = "label_study_summary.csv"  # beside the run log: the last study's table in numbers (common/study/summary.py)


class StudyScreens(SweepScreens):
    """The study's screens for one classifier program (its data, log, autoencoder and figures)."""

    name = "study"

    def plan_of(self, args) -> Plan:
        """--study labels: every budget and arm, with the hyperparameters given (defaults for the rest). The study's
        own settings are not checked as one run: each arm's run is, before anything trains (`trials.check` in
        `run`), so a ladder's weights, say, are refused only where an arm would train with them."""
        return label_study(given_hyperparameters(args, ClassifierConfig), tuple(args.budgets), args.repeats,
                           args.seed, args.arms)

    def ask_plan(self, session) -> Plan | None:
        """The study's budgets, repeats and arms, asked for (a wrong answer is said and asked again); None when the
        user backs out. The arms keep what the session was told of its baseline (flags and answers) and propose
        their own values for the rest."""
        program = self.program
        said = session.said
        seed = session.args.seed

        def budgets_of(text: str) -> list[int]:
            budgets = label_budgets(label_items(text), len(program.classes), study=True)
            check_plan(label_study(said, tuple(budgets), 1, seed, ("pretrained",)), len(program.classes),
                       len(program.train_y))
            return budgets

        budgets = ask_parsed(self.ask, self.console, "Numbers of labelled images, separated by commas (all = every "
                             "label):", DEFAULT_BUDGETS, budgets_of)
        if budgets is None:
            return None
        repeats = self.ask.ask_int("Repeats of each budget and arm", DEFAULT_REPEATS, 1, 100)
        if repeats is None:
            return None
        arms = ask_parsed(self.ask, self.console, f"Arms, separated by commas ({', '.join(names())}):",
                          ",".join(default_arms(said_of(session.baseline))), parse_arms)
        if arms is None:
            return None
        return label_study(said, tuple(budgets), repeats, seed, arms)

    def show(self, plan: Plan, rows: pd.DataFrame) -> None:
        """Per budget and arm, test accuracy with its spread and the paired differences; the plot."""
        program = self.program
        caption = (f"Test accuracy, mean ± standard deviation over {count(plan.repeats, 'repeat')}: "
                   + "; ".join(f"{ARM[a].title}: {ARM[a].description}" for a in plan.arms)
                   + ". After stage 1: a head trained on the frozen encoder. Wall time: every run of the arm."
                   + computed(rows))
        summary = summarize(rows)
        self.console.print(label_study_table(summary, f"Label-budget study ({len(program.test_y):,} test images)",
                                             caption))
        written = write_text_atomically(program.log.path.with_name(SUMMARY), summary.to_csv(index=False))
        self.console.print(f"The table's figures, the paired differences' 95 % intervals included: {written}")
        paths = [plot_label_study(summary, rows, program.figures.path("label_study"),
                                  f"Encoder of {program.source.path.name}: {', '.join(plan.arms)}")]
        points = CheckpointLog(program.log.path.with_name(CHECKPOINT_LOG)).read()
        points = points[points["run_id"].isin(rows["run_id"])]
        if not points.empty:  # the joint runs' test accuracy along the way
            paths.append(plot_accuracy_curves(points, program.figures.path("accuracy_against_time"),
                                              f"Encoder of {program.source.path.name}"))
        self.console.print(f"Logged to {program.log.path}")
        program.figures.present(paths)

    def description(self, plan: Plan) -> str:
        return study_description(plan, len(self.program.test_y))


def study_description(plan: Plan, test_images: int) -> str:
    """The line that opens a study: budgets, repeats and seeds, arms, the shared settings."""
    config = plan.config
    runs = [plan.config_of(planned) for planned in plan.runs()]
    stages = any(run.ladder is None for run in runs)  # the ladder has no stage 1; its epochs are said below
    text = (f"Label-budget study: {', '.join(budget(b) for b in plan.budgets)} labelled images, "
            f"{count(plan.repeats, 'repeat')} ({seeds_of(plan)}); arms: {', '.join(plan.arms)}"
            + (f"; {config.fc_units} units, {config.epochs} + {config.fine_tune_epochs} epochs, batch "
               f"{config.batch_size}" if stages else ""))
    first = {}  # the configuration of the first run of each way of training
    for run in runs:
        for way in ("self_training", "joint", "ladder"):
            if getattr(run, way) is not None:
                first.setdefault(way, run)
    if "self_training" in first:
        rounds = first["self_training"].self_training
        text += (f", {rounds.rounds} self-training rounds (threshold {rounds.pseudo_threshold}, at most "
                 f"{rounds.pseudo_cap} per class)")
    if "joint" in first:
        run = first["joint"]
        joint = first["joint"].joint
        text += (f", joint: W {joint.reconstruction_weight:g}, noise {joint.noise:g}, consistency "
                 f"{joint.consistency:g}{teacher(joint.teacher_decay)}, entropy {joint.entropy_weight:g}"
                 f"{', augmented' if run.augment else ''}, learning rate {joint.joint_learning_rate:g} "
                 f"({run.schedule}), {count(run.fine_tune_epochs, 'epoch')} over every training image")
    if "ladder" in first:
        run = first["ladder"]
        ladder = first["ladder"].ladder
        weights = ladder.denoising_weights.replace(",", ", ") or "the reference's"
        text += (f"{',' if stages else ';'} ladder: dense levels {'-'.join(map(str, ladder_head(run)))}, "
                 f"denoising weights {weights}, noise {ladder.ladder_noise:g}, learning rate "
                 f"{ladder.ladder_learning_rate:g}, "
                 f"batches of {run.batch_size} + {run.unlabelled_batch or run.batch_size}, "
                 f"{count(run.fine_tune_epochs, 'epoch')} over every training image")
    return text + f"; tested on {test_images} test images."


def computed(rows: pd.DataFrame) -> str:
    """' Computed as CPU, float32, no XLA.' when every run computed the same way; else each arm's ways, so that a
    difference the arithmetic may make is in plain sight."""
    if "compute" not in rows:
        return ""
    ways = rows.assign(arm=[arm_of(row) for _, row in rows.iterrows()]).groupby("arm", sort=False)["compute"]
    seen = {arm: sorted(set(values.dropna())) for arm, values in ways}
    every = sorted({way for values in seen.values() for way in values})
    if len(every) <= 1:
        return f" Computed as {every[0]}." if every else ""
    return " The arms computed differently: " + "; ".join(f"{ARM[arm].title} {', '.join(values)}"
                                                         for arm, values in seen.items()) + "."


def teacher(decay: float) -> str:
    """How the consistency's targets are made, in words: by a teacher of averaged weights, or by the classifier."""
    return f" (teacher's decay {decay:g})" if decay else ""


def budget(labels: int) -> str:
    return f"{labels:,}" if labels else "all"


def count(n: int, thing: str) -> str:
    """'1 repeat', '3 repeats'."""
    return f"{n} {thing}{'' if n == 1 else 's'}"

