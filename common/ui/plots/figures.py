"""A program's figures: where they are written, the hyperparameter-effect graphs from its log, and showing them."""

from pathlib import Path

from rich.console import Console

from common.ui.plots import plotting
from common.ui.plots.plotting import plot_against, varied_runs


class Figures:
    """Figures of one program (`name`: "autoencoder", "classifier") under `folder/plots`; shown in windows when
    `show` and a window can be opened, else only written."""

    def __init__(self, folder: Path, name: str, console: Console, show: bool = True):
        self.folder = Path(folder)
        self.name = name
        self.console = console
        self.show = show

    def path(self, name: str) -> Path:
        return self.folder / "plots" / f"{self.name}_{name}.png"

    def present(self, paths: list[Path]) -> None:
        """Print the path of each figure written, and show them when a window can be opened."""
        for path in paths:
            self.console.print(f"Wrote {path}")
        if paths and self.show and plotting.window_available() and plotting.window_toolkit():
            self.console.print("Close the figure windows to return to the menu.")
            plotting.show(paths)

    def effects(self, runs, labels: dict[str, str], baseline: dict, panels, x_of=lambda name: name) -> list[Path]:
        """One figure per hyperparameter varied with the others at `baseline`, from `runs` (finished runs on the
        same data)."""
        paths = [plot_against(subset, x_of(name), labels[name], panels, self.path(f"vs_{name}"),
                              f"Final metrics against {labels[name].lower()}")
                 for name, subset in varied_runs(runs, list(labels), baseline).items()]
        if not paths:
            self.console.print("No hyperparameter has been varied from the baseline yet on this data: "
                               "train again with one changed to compare.")
        return paths
