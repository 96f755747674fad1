"""The label-budget study in the terminal: started from flags or from the menu, with its progress, its table and
its plot."""

from dataclasses import replace

from common.study.plan import ARM_NAMES, ARMS, Plan, default_arms, joint_recipe, label_study, parse_arms
from common.study.runner import run_plan
from common.study.summary import summarize
from common.study.trials import check_plan
from common.ui.cli.flags import DEFAULT_BUDGETS, DEFAULT_REPEATS, given_hyperparameters, label_budgets, label_items
from common.ui.plots.plotting import plot_label_study
from common.ui.programs.workers import workers_for
from common.ui.screens.sweep_screens import run_from_menu, seeds_of
from common.ui.terminal.prompts import ask_parsed
from common.ui.terminal.tables import label_study_table
from models.config import ClassifierConfig, check_classifier

ARM_DESCRIPTIONS = {
    "pretrained": "the classifier on the autoencoder's encoder",
    "scratch": "on random weights of the encoder's shape",
    "self-training": "pretrained, augmented, self-trained on the rest of the training images",
    "joint": "trained with the decoder reconstructing every training image",
    "joint-w0": "the joint recipe without the reconstruction term",
}


class StudyScreens:
    """The study's screens for one classifier program (its data, log, autoencoder and figures)."""

    def __init__(self, program, console, ask):
        self.program, self.console, self.ask = program, console, ask

    def from_flags(self, args) -> int:
        """--study labels: the study with the hyperparameters given (defaults for the rest), then exit; 130 when
        Ctrl-C stopped it."""
        config = ClassifierConfig(**given_hyperparameters(args, ClassifierConfig))
        check_classifier(config)
        outcome = self.run(label_study(config, tuple(args.budgets), args.repeats, args.seed, args.arms), args.fresh)
        return 130 if outcome.interrupted else 0

    def from_menu(self, session) -> None:
        """Menu: ask for the budgets, the repeats and the arms, then run the study with the baseline settings."""
        plan = self.ask_plan(session.baseline, session.args.seed)
        if plan is not None:
            run_from_menu(self, session, plan)

    def ask_plan(self, baseline, seed: int) -> Plan | None:
        """The study's budgets, repeats and arms, asked for (a wrong answer is said and asked again); None when the
        user backs out."""
        def budgets_of(text: str) -> list[int]:
            budgets = label_budgets(label_items(text), len(self.program.classes), study=True)
            check_plan(label_study(baseline, tuple(budgets), 1, seed, ("pretrained",)), len(self.program.classes),
                       len(self.program.train_y))
            return budgets

        budgets = ask_parsed(self.ask, self.console, "Numbers of labelled images, separated by commas (all = every "
                             "label):", DEFAULT_BUDGETS, budgets_of)
        if budgets is None:
            return None
        repeats = self.ask.ask_int("Repeats of each budget and arm", DEFAULT_REPEATS, 1, 100)
        if repeats is None:
            return None
        arms = ask_parsed(self.ask, self.console, f"Arms, separated by commas ({', '.join(ARMS)}):",
                          ",".join(default_arms(baseline)), parse_arms)
        if arms is None:
            return None
        return label_study(replace(baseline, label_budget=0, init="pretrained"), tuple(budgets), repeats, seed, arms)

    def run(self, plan: Plan, fresh: bool):
        """Run the study, then show its table and plot (of the runs finished, when Ctrl-C stopped it)."""
        from common.ui.terminal.progress import StudyProgress

        program = self.program
        check_plan(plan, len(program.classes), len(program.train_y))
        self.console.print(study_description(plan, len(program.test_y)))
        outcome = run_plan(plan, program.trials(), log=program.log, context=program.context(), fresh=fresh,
                           reporter=StudyProgress(self.console), workers=workers_for(program, program.args))
        if outcome.interrupted:
            self.console.print("Stopped (Ctrl-C): the runs finished so far are logged; run the same study again to "
                               "carry on.")
        if outcome.rows.empty:
            return outcome
        summary = summarize(outcome.rows)
        caption = (f"Test accuracy, mean ± standard deviation over {count(plan.repeats, 'repeat')}: "
                   + "; ".join(f"{ARM_NAMES[a]}: {ARM_DESCRIPTIONS[a]}" for a in plan.arms)
                   + ". After stage 1: a head trained on the frozen encoder. Wall time: every run of the arm.")
        self.console.print(label_study_table(summary, f"Label-budget study ({len(program.test_y):,} test images)",
                                             caption))
        path = plot_label_study(summary, outcome.rows, program.figures.path("label_study"),
                                f"Encoder of {program.source.path.name}: {', '.join(plan.arms)}")
        self.console.print(f"Logged to {program.log.path}")
        program.figures.present([path])
        return outcome


def study_description(plan: Plan, test_images: int) -> str:
    """The line that opens a study: budgets, repeats and seeds, arms, the shared settings."""
    config = plan.config
    text = (f"Label-budget study: {', '.join(budget(b) for b in plan.budgets)} labelled images, "
            f"{count(plan.repeats, 'repeat')} ({seeds_of(plan)}); arms: {', '.join(ARM_NAMES[a] for a in plan.arms)}; "
            f"{config.fc_units} units, {config.epochs} + {config.fine_tune_epochs} epochs, batch {config.batch_size}")
    if "self-training" in plan.arms:
        rounds = plan.config_of(next(p for p in plan.runs() if p.arm == "self-training")).self_training
        text += (f", {rounds} self-training rounds (threshold {config.pseudo_threshold}, at most "
                 f"{config.pseudo_cap} per class)")
    if "joint" in plan.arms or "joint-w0" in plan.arms:
        recipe = joint_recipe(config)
        text += (f", joint: W {recipe['reconstruction_weight']:g}, noise {recipe['noise']:g}, consistency "
                 f"{recipe['consistency']:g}{teacher(recipe['teacher_decay'])}, entropy {recipe['entropy_weight']:g}"
                 f"{', augmented' if recipe.get('augment') else ''}, learning rate "
                 f"{recipe['joint_learning_rate']:g} ({recipe['schedule']}), "
                 f"{count(recipe['fine_tune_epochs'], 'epoch')} over every training image")
    return text + f"; tested on {test_images} test images."


def teacher(decay: float) -> str:
    """How the consistency's targets are made, in words: by a teacher of averaged weights, or by the classifier."""
    return f" (teacher's decay {decay:g})" if decay else ""


def budget(labels: int) -> str:
    return f"{labels:,}" if labels else "all"


def count(n: int, thing: str) -> str:
    """'1 repeat', '3 repeats'."""
    return f"{n} {thing}{'' if n == 1 else 's'}"
