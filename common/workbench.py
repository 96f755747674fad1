"""The menu-driven flow both programs share: ask the hyperparameters, train, then a menu until Exit.

A subclass says how to load its data, train a run, draw its graphs and what its model is called; this class owns
the prompts, the run log rows, saving and the menu loop.
"""

from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import ClassVar

import questionary
from rich.console import Console

from common import plotting, prompts
from common.cli import given_hyperparameters, missing_flags
from common.errors import UserError
from common.files import claim_free_path
from common.plotting import plot_against, varied_runs
from common.run_log import Column, RunLog, run_row
from common.tables import run_log_table, run_summary
from models.config import asked, is_choice

BACK = "Back"
RUN_COLUMNS = {c.key: c for c in [  # columns that `Workbench.record` fills for every program
    Column("train_time", "Train_Time"), Column("loss", "Loss"), Column("val_loss", "Val_Loss"),
    Column("timestamp", "Timestamp", numeric=False, in_table=False),
    Column("dataset", "Dataset", numeric=False, in_table=False), Column("images", "Images"),
    Column("seed", "Seed", in_table=False), Column("model_path", "Model_Path", numeric=False, in_table=False),
    Column("val_split", "Val_Split", in_table=False), Column("epochs_done", "Epochs_Done"),
    Column("interrupted", "Interrupted", numeric=False), Column("run_id", "Run_ID", numeric=False, in_table=False),
]}


def run_columns(*keys: str) -> list[Column]:
    """The shared run columns named, in that order."""
    return [RUN_COLUMNS[k] for k in keys]


class Workbench:
    """Shared state and menu of a training program; subclasses fill in the network-specific steps."""

    config_type = None  # the hyperparameter dataclass
    model_name = "model"  # used in messages and default file names
    log_name = "runs.csv"  # file name of the run log under --out
    log_columns: ClassVar[list] = []  # common.run_log.Column list, in CSV order

    def __init__(self, args, console: Console | None = None, **prompt_kwargs):
        self.args = args
        self.console = console or Console(highlight=False)
        self.prompt_kwargs = prompt_kwargs  # passed to every questionary prompt (tests give input= / output=)
        self.out = Path(args.out)
        self.log = RunLog(self.out / self.log_name, self.log_columns)
        self.baseline = None  # the first run's hyperparameters: "train again" changes one of them
        self.model = None  # the last trained model
        self.last = {}  # the last run's config, history, run_id and metrics
        self.saved = True  # whether the last model has been saved
        self.dataset = None  # resolved path of the training images, as logged
        self.count = 0  # images used from that file
        self._placement = None  # where training runs, found at the first run (it needs TensorFlow)
        self._ways = None  # chooses how each run computes (precision, XLA), made with the placement

    # --- to be filled in by subclasses ---------------------------------------------------------------------------
    def check(self, config) -> None:
        """Raise UserError if `config` cannot be trained on the loaded data."""

    def train(self, config) -> None:
        """Train one run with `config` and call `self.record` with its results."""
        raise NotImplementedError

    def graphs(self) -> list[Path]:
        """Write the program's figures; return their paths."""
        raise NotImplementedError

    def after_single_run(self) -> None:
        """With --no-menu: what to do between training and saving."""

    def extra_menu_items(self) -> list[tuple[str, object]]:
        """(label, method) pairs shown before Show graphs."""
        return []

    # --- the flow ------------------------------------------------------------------------------------------------
    def run(self) -> int:
        """The whole program after the data is loaded: baseline, first training, then the menu or saving."""
        ask = not self.args.no_menu and prompts.interactive()
        given = given_hyperparameters(self.args, self.config_type)
        if not self.args.no_menu and not ask:
            missing = missing_flags(self.config_type, given)
            if missing:
                raise UserError(f"standard input is not a terminal, so nothing can be asked: pass "
                                f"{' '.join(missing)}, or --no-menu to use the defaults")
            self.console.print("Standard input is not a terminal: training once, as with --no-menu.")
            self.args.no_menu = True
        self.ways().candidates()  # a precision this machine cannot compute in is refused before anything else
        self.baseline = self.ask_baseline(given, ask)
        if self.baseline is None:
            return 0
        self.train(self.baseline)
        if self.args.no_menu:
            stopped = self.model is None or self.last.get("interrupted", False)
            if self.model is not None:
                if not stopped:
                    self.after_single_run()
                self.save(Path(self.args.save) if self.args.save else self.claim_model_path())
            return 130 if stopped else 0  # scripts can tell a run stopped by Ctrl-C from a finished one
        self.menu()
        return 0

    def ask_baseline(self, given: dict, ask: bool):
        """Hyperparameters from the flags, asking for the rest when `ask`; None if the user backs out."""
        values = dict(given)
        while True:
            for f in fields(self.config_type):
                if f.name in values:
                    continue
                if not ask or not asked(f):  # kept at its flag's value or default; the menu changes it
                    values[f.name] = f.default
                    continue
                value = prompts.ask_int(f.metadata["label"], f.default, f.metadata["low"], f.metadata["high"],
                                        **self.prompt_kwargs)
                if value is None:
                    return None
                values[f.name] = value
            config = self.config_type(**values)
            try:
                self.check(config)
                return config
            except UserError as e:
                if not ask:
                    raise
                self.console.print(f"[red]{e}[/]; please choose again.")
                values = {}  # ask for every value, those given as flags too: they may be the problem

    def menu(self) -> None:
        """The main menu, until Exit."""
        items = [("Train again with one hyperparameter changed", self.train_changed),
                 *self.extra_menu_items(),
                 ("Show graphs", self.show_graphs),
                 (f"Save the {self.model_name}", self.save_interactive),
                 ("Show the run log", self.show_log),
                 ("Exit", None)]
        actions = dict(items)
        while True:
            label = prompts.choose("What next?", [label for label, _ in items], **self.prompt_kwargs)
            if label is None or actions[label] is None:
                if self.confirm_exit():
                    return
                continue
            try:
                actions[label]()
            except UserError as e:  # a file that cannot be written, say: tell, and stay in the menu
                self.console.print(f"[red]error:[/] {e}", soft_wrap=True)

    def confirm_exit(self) -> bool:
        """True to leave; asks first when the last model has not been saved."""
        if self.saved:
            return True
        return bool(prompts.confirm(f"The last {self.model_name} is not saved. Exit anyway?", default=False,
                                    **self.prompt_kwargs))

    def train_changed(self) -> None:
        """Ask which hyperparameter to change and its value; train with the others at the baseline."""
        choices = [questionary.Choice(f"{f.metadata['label']} (baseline {getattr(self.baseline, f.name)})", f.name)
                   for f in fields(self.config_type)] + [BACK]
        name = prompts.choose("Change which hyperparameter?", choices, **self.prompt_kwargs)
        if name in (None, BACK):
            return
        meta = next(f.metadata for f in fields(self.config_type) if f.name == name)
        if "choices" in meta:
            value = prompts.choose(f"New {meta['label'].lower()}", list(meta["choices"]),
                                   default=getattr(self.baseline, name), **self.prompt_kwargs)
        else:
            value = prompts.ask_int(f"New {meta['label'].lower()}", getattr(self.baseline, name), meta["low"],
                                    meta["high"], **self.prompt_kwargs)
        if value is None:
            return
        config = replace(self.baseline, **{name: value})
        try:
            self.check(config)
        except UserError as e:
            self.console.print(f"[red]{e}[/]")
            return
        self.train(config)

    def record(self, config, history: dict, seconds: float, interrupted: bool, results: dict,
               extra: dict | None = None, run_id: str | None = None) -> None:
        """Append the run to the log at once and print its summary. `results` are shown and logged, `extra` only
        logged (and kept in a saved model's sidecar)."""
        extra, context = extra or {}, self.context()
        row = run_row(config, history, seconds, interrupted, {**results, **extra, **context}, run_id)
        run_id, epochs_done = row["run_id"], row["epochs_done"]
        logged = True
        try:
            for note in self.log.append(row):
                self.warn(note)
        except UserError as e:  # the trained model is still here and can be saved
            self.warn(f"the run was not logged: {e}")
            logged = False
        self.last = dict(config=config, history=history, run_id=run_id, results=results, extra=extra,
                         context=context, seconds=seconds, interrupted=interrupted, logged=logged)
        self.saved = False
        shown = {"Training time (s)": round(seconds, 1), **{k.replace("_", " "): v for k, v in results.items()},
                 "Trained on": context["device"], "Computed as": extra.get("compute", "")}
        if interrupted:
            shown["Stopped early"] = f"after {epochs_done} epochs (Ctrl-C)"
        self.console.print(run_summary(f"{self.model_name.capitalize()} run", config, shown))
        if logged:
            self.console.print(f"Logged to {self.log.path}")

    def context(self) -> dict:
        """Where a run came from, for its log row: the data, the seed and the devices."""
        return {"dataset": str(self.dataset), "images": self.count, "seed": self.args.seed,
                "val_split": self.args.val_split, "device": self.placement().description}

    # --- devices and TensorBoard ---------------------------------------------------------------------------------
    def placement(self):
        """Where training runs (found once)."""
        if self._placement is None:
            from models.devices import detect

            self._placement = detect()
        return self._placement

    def ways(self):
        """The chooser of how each run computes, from --xla and --precision (made once)."""
        if self._ways is None:
            from common.compute_choice import WayChooser

            self._ways = WayChooser(self.args.xla, self.args.precision, self.placement(), self.console)
        return self._ways

    def on_devices(self):
        """The context to build and train in: several GPUs share the work."""
        from models.devices import scope

        return scope(self.placement())

    def for_devices(self, config):
        """The config to train with: with several GPUs, each takes the configured batch."""
        return replace(config, batch_size=self.placement().batch_size(config.batch_size))

    def with_tensorboard(self, callbacks_for, run_id: str, config):
        """`callbacks_for` plus, with --tensorboard, the run's TensorBoard logs for each stage."""
        if not self.args.tensorboard:
            return callbacks_for
        from models.tensorboard_log import tensorboard_callbacks

        return lambda stage="": [*callbacks_for(stage), *tensorboard_callbacks(
            self.out / "tensorboard", run_id, asdict(config), stage)]

    def show_graphs(self) -> None:
        """Write the figures and present them."""
        if self.model is None:
            self.console.print("Nothing trained yet.")
            return
        self.present(self.graphs())

    def present(self, paths: list[Path]) -> None:
        """Print the path of each figure written, and show them when a window can be opened."""
        for path in paths:
            self.console.print(f"Wrote {path}")
        if paths and not self.args.no_show and plotting.window_available() and plotting.window_toolkit():
            self.console.print("Close the figure windows to return to the menu.")
            plotting.show(paths)

    def effect_graphs(self, labels: dict[str, str], baseline: dict, panels, x_of=lambda name: name) -> list[Path]:
        """One figure per hyperparameter varied with the others at `baseline`, from this data's finished runs."""
        runs = self.read_runs()
        runs = runs[(runs["dataset"] == str(self.dataset)) & (runs["images"] == self.count)
                    & (runs["interrupted"].fillna("") != "yes")]
        paths = [plot_against(subset, x_of(name), labels[name], panels, self.plot_path(f"vs_{name}"),
                              f"Final metrics against {labels[name].lower()}")
                 for name, subset in varied_runs(runs, list(labels), baseline).items()]
        if not paths:
            self.console.print("No hyperparameter has been varied from the baseline yet on this data: "
                               "train again with one changed to compare.")
        return paths

    def read_runs(self):
        """The run log as a DataFrame, printing its warnings."""
        runs, notes = self.log.read()
        for note in notes:
            self.warn(note)
        return runs

    def show_log(self) -> None:
        """Print the last runs of the log."""
        runs = self.read_runs()
        if runs.empty:
            self.console.print(f"{self.log.path}: no runs yet.")
            return
        self.console.print(run_log_table(runs, self.log_columns, f"{self.log.path} (last 20 of {len(runs)} runs)"))

    def save_interactive(self) -> None:
        """Ask where to save the last model (offering a free name), confirm overwriting, and save."""
        if self.model is None:
            self.console.print("Nothing trained yet.")
            return
        proposed = self.free_model_path()
        answer = prompts.ask_text(f"Save the {self.model_name} to (.h5 or .keras):", str(proposed),
                                  **self.prompt_kwargs)
        if not answer:
            return
        path = Path(answer.strip()).expanduser()
        if path == proposed:  # claim it now: another program may have taken the name while we asked
            path = self.claim_model_path()
        elif path.exists() and not prompts.confirm(f"{path} exists. Overwrite it?", default=False,
                                                   **self.prompt_kwargs):
            return
        try:
            self.save(path)
        except UserError as e:
            self.console.print(f"[red]{e}[/]")

    def save(self, path: Path) -> None:
        """Save the last model with a sidecar of its hyperparameters and metrics; note the path in the log."""
        from models.persistence import save_model

        metadata = {"kind": self.model_name, "hyperparameters": asdict(self.last["config"]),
                    "metrics": self.last["results"], **self.last["extra"], **self.last["context"],
                    "run_id": self.last["run_id"]}
        try:
            sidecar = save_model(self.model, path, metadata)
        except UserError:
            if path.exists() and path.stat().st_size == 0:  # a name claimed for this model: give it back
                path.unlink(missing_ok=True)
            raise
        self.update_log({"model_path": str(path)})
        self.saved = True
        self.console.print(f"Saved the {self.model_name} to {path} (hyperparameters and metrics in {sidecar})")

    def free_model_path(self) -> Path:
        """A file name under --out that says the hyperparameters and is not taken now (proposed, not claimed)."""
        stem, n = self._model_stem(), 2
        path = self.out / f"{stem}.h5"
        while path.exists():
            path, n = self.out / f"{stem}-{n}.h5", n + 1
        return path

    def claim_model_path(self) -> Path:
        """Like `free_model_path`, but the name is created for this program at once, so no other program running
        beside it can pick the same one."""
        return claim_free_path(self.out, self._model_stem(), ".h5")

    def _model_stem(self) -> str:
        """`classifier-fu128-e10-fte5-bs64-l100-scratch-augment-st3`: every value asked at start, the others only
        when changed from their default."""
        config, parts = self.last["config"], [self.model_name]
        for f in fields(config):
            value = getattr(config, f.name)
            if not asked(f) and value == f.default:
                continue
            if is_choice(f):
                parts.append(f.name.replace("_", "-") if value == f.metadata["switch"] else str(value))
            else:
                parts.append("".join(word[0] for word in f.name.split("_")) + f"{value:g}")
        return "-".join(parts)

    def update_log(self, values: dict) -> None:
        """Fill in values of the last run's log row, warning if the log cannot be rewritten."""
        if not self.last.get("logged"):
            return  # its row never made it to the log: that was said when it happened
        try:
            self.log.update(self.last["run_id"], values)
        except UserError as e:
            self.warn(str(e))

    def plot_path(self, name: str) -> Path:
        return self.out / "plots" / f"{self.model_name}_{name}.png"

    def warn(self, message: str) -> None:
        self.console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)

