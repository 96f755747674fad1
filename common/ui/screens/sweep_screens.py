"""Sweeps in the terminal: a hyperparameter's values (several make a grid), each trained several times, from
`--sweep` or from the menu, with their progress, a table of mean ± standard deviation and graphs with error bars."""

from pathlib import Path

import pandas as pd

from common.errors import UserError
from common.study.plan import Plan, plan_of
from common.study.runner import StudyOutcome, reusable, run_plan
from common.study.summary import summarize_sweep
from common.ui.cli.flags import DEFAULT_REPEATS, given_hyperparameters
from common.ui.cli.plan_flags import parse_sweep
from common.ui.plots.plotting import plot_against
from common.ui.screens.workers import workers_for
from common.ui.terminal.progress import StudyProgress
from common.ui.terminal.prompts import ask_parsed
from common.ui.terminal.tables import sweep_table
from models.config.fields import asked, shown
from models.config.names import flag
from models.config.settings import in_effect, said_of, settings, value_of

SWEEP_ENTRY = "Sweep one hyperparameter (several values, repeated)"


class SweepScreens:
    """The sweeps of one program (its data, log, trials, figures); `ask` is the session's Prompter."""

    def __init__(self, program, console, ask):
        self.program = program
        self.console = console
        self.ask = ask
        self.labels = {s.name: s.metadata["label"] for s in settings(program.config_type)}

    name = "sweep"  # what the screens call the plan

    def from_flags(self, args) -> int:
        """--sweep: every value (of every --sweep: a grid) --repeats times with the other hyperparameters as given
        (defaults for the rest), then the table and graphs; 130 when Ctrl-C stopped it."""
        return 130 if self.run(self.plan_of(args), args.fresh).interrupted else 0

    def plan_of(self, args) -> Plan:
        """The plan the flags ask for: the settings given, the defaults for the rest."""
        config_type = self.program.config_type
        return plan_of(config_type, given_hyperparameters(args, config_type), args.axes, args.repeats, args.seed)

    def from_menu(self, session) -> None:
        """Menu: the plan (`ask_plan`), then its runs, the others at the baseline."""
        plan = self.ask_plan(session)
        if plan is not None:
            run_from_menu(self, session, plan)

    def ask_plan(self, session) -> Plan | None:
        """The swept hyperparameter, its values and the repeats, asked for (wrong values are said and asked for
        again), the others as in the session's baseline; None when the user backs out."""
        names = {label: name for name, label in self.labels.items()}
        label = self.ask.choose("Which hyperparameter to sweep?", list(names))
        if label is None:
            return None
        name = names[label]
        axis = ask_parsed(self.ask, self.console, f"Values of {label.lower()}, separated by commas:", "",
                          lambda text: parse_sweep(f"{name}={text}", self.program.config_type))
        if axis is None:
            return None
        repeats = self.ask.ask_int("Runs of each value (seeds in turn)", DEFAULT_REPEATS, 1, 100)
        if repeats is None:
            return None
        return plan_of(self.program.config_type, said_of(session.baseline), (axis,), repeats, session.args.seed)

    def run(self, plan: Plan, fresh: bool) -> StudyOutcome:
        """Run the plan, then show its table and figure (of the runs finished, when Ctrl-C stopped it)."""
        program = self.program
        outcome = run_plan(plan, program.trials(), log=program.log, context=program.context(), fresh=fresh,
                           reporter=StudyProgress(self.console, self.name, self.description(plan)),
                           workers=workers_for(program, program.args))
        if outcome.interrupted:
            self.console.print(f"Stopped (Ctrl-C): the runs finished so far are logged; run the same {self.name} "
                               f"again to carry on.")
        if not outcome.rows.empty:
            self.show(plan, outcome.rows)
        return outcome

    def show(self, plan: Plan, rows: pd.DataFrame) -> None:
        """The sweep's table of mean ± standard deviation per value, and its graph with error bars."""
        metrics = self.program.sweep_metrics
        summary = summarize_sweep(rows, plan.swept, metrics)
        self.console.print(sweep_table(summary, plan.swept, metrics, f"Sweep of {self.swept(plan)}",
                                       f"Mean ± standard deviation over the runs of each value ({seeds_of(plan)}); "
                                       f"wall time: all of them."))
        self.console.print(f"Logged to {self.program.log.path}")
        self.program.figures.present([self.plot(plan, rows)])

    def plot(self, plan: Plan, rows: pd.DataFrame) -> Path:
        """The metrics against the first swept hyperparameter, a line per combination of the others."""
        metrics = self.program.sweep_metrics
        panels = [[(m, m) for m in metrics if kind in m] for kind in ("loss", "accuracy")]
        first = plan.swept[0]
        others = plan.swept[1:]
        x = "labels_used" if first == "label_budget" and "labels_used" in rows else first
        if others:
            rows = rows.assign(series=[", ".join(f"{n} {row[n]}" for n in others) for _, row in rows.iterrows()])
        return plot_against(rows, x, self.labels[first], [p for p in panels if p],
                            self.program.figures.path(f"sweep_{'_'.join(plan.swept)}"),
                            f"Sweep of {self.swept(plan)}", series="series" if others else None)

    def swept(self, plan: Plan) -> str:
        """'filters (8, 16, 32) × layers (2, 3)'."""
        return " × ".join(f"{self.labels[name].lower()} ({', '.join(map(str, values))})"
                          for name, values in plan.axes)

    def description(self, plan: Plan) -> str:
        """The line that opens a sweep."""
        runs = len(plan.runs())
        return (f"Sweep of {self.swept(plan)}: {plan.repeats} run{'s' if plan.repeats > 1 else ''} of each "
                f"({seeds_of(plan)}), {runs} runs in all; the other hyperparameters: "
                + ", ".join(f"{flag(name)[2:]} {shown(value)}" for name, value in _others(plan).items()) + ".")


def run_from_menu(screens, session, plan: Plan) -> None:
    """A study's or sweep's plan from the menu: ask whether to reuse the runs the log has already, then run it with
    `screens.run`; a UserError is said, and the menu comes back."""
    found = len(reusable(session.read_runs(), plan, screens.program.context(), screens.program.trials()))
    fresh = False
    if found:
        reuse = screens.ask.confirm(f"{found} of {len(plan.runs())} runs are in the run log already. Reuse them?",
                                    default=True)
        if reuse is None:
            return
        fresh = not reuse
    try:
        screens.run(plan, fresh)
    except UserError as e:
        screens.console.print(f"[red]{e}[/]")


def seeds_of(plan: Plan) -> str:
    """'seed 1', 'seeds 1-3'."""
    last = plan.seed + plan.repeats - 1
    return f"seed {plan.seed}" if last == plan.seed else f"seeds {plan.seed}-{last}"


def _others(plan: Plan) -> dict:
    """The hyperparameters in effect the sweep does not vary that are asked for or said."""
    said = dict(plan.said)
    return {s.name: value_of(plan.config, s.name) for s in in_effect(plan.config)
            if s.name not in plan.swept and (asked(s) or s.name in said)}
