"""Saving the last model of a session: proposing a free name, confirming an overwrite, writing the model and its
sidecar, and noting the path in the run log."""

from pathlib import Path

from common.errors import UserError
from common.paths import model_path
from common.tracking.model_files import ModelFiles
from common.ui.terminal.messages import warn
from common.ui.terminal.prompts import ask_parsed
from models.training.persistence import save_model

NOTHING_YET = "Nothing trained yet."


class Saving:
    """The save entry of a session's menu, and saving without one (--no-menu)."""

    def __init__(self, session, kind: str):
        self.session = session
        self.kind = kind
        self.files = ModelFiles(Path(session.args.out), kind)

    def save_interactive(self) -> None:
        """Ask where to save the last model (offering --save's path, or a free name), confirm overwriting, and
        save."""
        last = self.session.last
        ask = self.session.ask
        if last is None:
            self.session.console.print(NOTHING_YET)
            return
        given = getattr(self.session.args, "save", None)
        proposed = Path(given) if given else self.files.propose(last.config)
        path = ask_parsed(ask, self.session.console, f"Save the {self.kind} to (.h5 or .keras):", str(proposed),
                          model_path)
        if path is None:
            return
        if path == proposed and not given:  # claim it now: another program may have taken it while we asked
            path = self.files.claim(last.config)
        elif path.exists() and not ask.confirm(f"{path} exists. Overwrite it?"):
            return
        try:
            self.save(path)
        except UserError as e:
            self.session.console.print(f"[red]{e}[/]")

    def save_to(self, path: str | None) -> None:
        """Save the last model to `path`, or to a free name claimed under --out; when `path` (checked before
        training) cannot be written now, to a free name under --out instead, said in a warning: the model is never
        lost."""
        if path:
            try:
                self.save(Path(path))
                return
            except UserError as e:
                warn(self.session.console, f"{e}; saving under {self.files.folder}/ instead")
        self.save(self.files.claim(self.session.last.config))

    def save(self, path: Path) -> None:
        """Save the last model with a sidecar of its hyperparameters and metrics; note the path in the log."""
        last = self.session.last
        try:
            sidecar = save_model(last.run.model, path, last.metadata(self.kind))
        except UserError:
            if path.exists() and path.stat().st_size == 0:  # a name claimed for this model: give it back
                path.unlink(missing_ok=True)
            raise
        self.session.update_log({"model_path": str(path)})
        last.saved = True
        self.session.console.print(f"Saved the {self.kind} to {path} (hyperparameters and metrics in {sidecar})")
