"""The menu-driven flow both programs share: ask the hyperparameters, train, then a menu until Exit.

A program (a `Program`: common/ui/program.py) says how to check, train and draw its runs and which menu
entries it adds; the session asks, records every run in the log the moment it ends, prints its summary and runs the
menu. Entries are found by their label.
"""

import shutil

from rich.console import Console

from common.errors import UserError
from common.study.run_backups import backed_up, single_run
from common.tracking.recorder import RunRecorder
from common.tracking.run_log import new_run_id
from common.ui.cli.flags import given_hyperparameters, missing_flags
from common.ui.program import Program
from common.ui.screens.hyperparameter_screens import ask_baseline, ask_change
from common.ui.screens.saving import NOTHING_YET, Saving
from common.ui.screens.sweep_screens import SWEEP_ENTRY, SweepScreens
from common.ui.terminal.messages import error, warn
from common.ui.terminal.prompts import Prompter, interactive
from common.ui.terminal.tables import run_log_table, run_summary

TRAIN_AGAIN, SHOW_GRAPHS, SHOW_LOG, EXIT = ("Train again with one hyperparameter changed", "Show graphs",
                                            "Show the run log", "Exit")
RESUME = "Resume the stopped run from its last finished epoch"


class Session:
    """One program's session: its baseline hyperparameters, its last run, and the menu."""

    def __init__(self, program: Program, args, console: Console | None = None, prompter: Prompter | None = None):
        self.program = program
        self.args = args
        self.console = console or Console(highlight=False)
        self.ask = prompter or Prompter()
        self.recorder = RunRecorder(program.log)
        self.saving = Saving(self, program.model_name)
        self.sweeps = SweepScreens(program, self.console, self.ask)
        self.baseline = None  # the first run's hyperparameters: "train again" changes one of them
        self.said = {}  # what the user said of them (flags and answers, by flat name): a study's arms keep it
        self.stopped = None  # the configuration of a run stopped with its backup kept: the menu offers to resume it

    @property
    def last(self):
        return self.recorder.last

    def run(self) -> int:
        """The whole program after its data is loaded: baseline, first training, then the menu or saving; the exit
        status (130 when Ctrl-C stopped a run without a menu)."""
        can_ask = not self.args.no_menu and interactive()
        if not self.program.start(can_ask):
            return 0
        given = given_hyperparameters(self.args, self.program.config_type)
        if not self.args.no_menu and not can_ask:
            missing = missing_flags(self.program.config_type, given)
            if missing:
                raise UserError(f"standard input is not a terminal, so nothing can be asked: pass "
                                f"{' '.join(missing)}, or --no-menu to use the defaults")
            self.console.print("Standard input is not a terminal: training once, as with --no-menu.")
            self.args.no_menu = True
        asked = ask_baseline(self.ask, self.program, given, can_ask, self.console)
        if asked is None:
            return 0
        self.baseline, self.said = asked
        self.train(self.baseline)
        if not self.args.no_menu:
            self.menu()
            return 0
        stopped = self.last is None or self.last.run.interrupted
        if self.last is not None:
            if not stopped:
                self.program.after_single_run(self)
            self.saving.save_to(self.args.save)
        return 130 if stopped else 0  # scripts can tell a run stopped by Ctrl-C from a finished one

    def menu(self) -> None:
        """The main menu, until Exit."""
        items = [(TRAIN_AGAIN, self.train_changed), (SWEEP_ENTRY, lambda: self.sweeps.from_menu(self)),
                 *self.program.menu_items(self), (SHOW_GRAPHS, self.show_graphs),
                 (f"Save the {self.program.model_name}", self.saving.save_interactive), (SHOW_LOG, self.show_log),
                 (EXIT, None)]
        actions = {**dict(items), RESUME: lambda: self.train(self.stopped)}
        while True:
            shown = [RESUME] * (self.stopped is not None) + [label for label, _ in items]
            label = self.ask.choose("What next?", shown)
            if label is None or actions[label] is None:
                if self.confirm_exit():
                    return
                continue
            try:
                actions[label]()
            except UserError as e:  # a file that cannot be written, say: tell, and stay in the menu
                error(self.console, e)
            except KeyboardInterrupt:  # Ctrl-C in an entry (predicting, drawing, a sweep's setup): back here
                self.console.print("Stopped (Ctrl-C): back to the menu.")

    def confirm_exit(self) -> bool:
        """True to leave; asks first when the last model has not been saved."""
        if self.last is None or self.last.saved:
            return True
        return bool(self.ask.confirm(f"The last {self.program.model_name} is not saved. Exit anyway?"))

    def train(self, config) -> None:
        """Train a run (from its backup where an earlier start of it stopped), append it to the log at once and
        print its summary."""
        run_id = new_run_id()
        context = self.program.context()
        folder, fingerprint = single_run(self.program, config, context, fresh=self.args.fresh)
        with backed_up(folder, fingerprint, self.warn) as kept:
            run = self.program.train(config, run_id)
        if run is None or not run.history:
            self.console.print("Stopped before the first epoch ended: nothing to log.")
            return
        for note in self.recorder.record(config, run, {**context, **kept}, run_id):
            self.warn(note)
        shown = {"Training time (s)": round(run.seconds, 1), **self.program.results(run),
                 "Trained on": context["device"], "Computed as": run.compute}
        shown.update(resumed(kept))
        if run.interrupted:
            shown["Stopped early"] = f"after {run.epochs_done} epochs (Ctrl-C)"
        self.console.print(run_summary(f"{self.program.model_name.capitalize()} run", config, shown))
        if self.last.logged:
            self.console.print(f"Logged to {self.program.log.path}")
        self.stopped = config if run.interrupted else None
        if run.interrupted:
            self.console.print(f"Its backup is kept: {RESUME.lower()} from the menu, or give the same command "
                               "again, and it goes on from there (--fresh starts it afresh).")
        else:
            shutil.rmtree(folder, ignore_errors=True)

    def train_changed(self) -> None:
        """Ask which hyperparameter to change and its value; train with the others at the baseline."""
        config = ask_change(self.ask, self.program, self.baseline, self.console)
        if config is not None:
            self.train_checked(config)

    def train_checked(self, config) -> None:
        """Train `config` if the program accepts it; otherwise say why and stay in the menu."""
        try:
            self.program.check(config)
        except UserError as e:
            self.console.print(f"[red]{e}[/]")
            return
        self.train(config)

    def show_graphs(self) -> None:
        """Write the program's figures and present them."""
        if self.last is None:
            self.console.print(NOTHING_YET)
            return
        self.program.figures.present(self.program.graphs(self))

    def show_log(self) -> None:
        """Print the last runs of the log."""
        runs = self.read_runs()
        if runs.empty:
            self.console.print(f"{self.program.log.path}: no runs yet.")
            return
        self.console.print(run_log_table(runs, self.program.log.columns,
                                         f"{self.program.log.path} (last 20 of {len(runs)} runs)"))

    def read_runs(self):
        """The run log as a DataFrame, printing its warnings."""
        runs, notes = self.recorder.read()
        for note in notes:
            self.warn(note)
        return runs

    def update_log(self, values: dict) -> None:
        """Fill in values of the last run's log row, warning if the log cannot be rewritten."""
        for note in self.recorder.update(values):
            self.warn(note)

    def warn(self, message: str) -> None:
        warn(self.console, message)


def resumed(kept: dict) -> dict:
    """The summary's line on a run's resumptions, when it had any."""
    times = kept["resumed"]
    return {"Resumed": f"{times} time{'s' * (times != 1)}, {kept['lost_minutes']:g} minutes of training lost"} \
        if times else {}
