"""The autoencoder a classifier program builds on: chosen among those saved under --out (or given), loaded, checked
against the images, described for the run log; and replaced from the menu."""

import hashlib
from pathlib import Path

from rich.console import Console

from common.errors import UserError
from common.paths import MODEL_SUFFIXES
from common.ui.terminal.messages import error
from common.ui.terminal.prompts import Prompter, ask_parsed, interactive
from models.networks.encoder import check_input, describe, encoder_view
from models.training.persistence import load_model, read_metadata

OTHER_PATH = "Type a path..."
BACK = "Back"


class AutoencoderSource:
    """The current autoencoder: its model, path, SHA-256 and encoder shape (`encoder`: the log's encoder
    columns). Nothing is loaded until `load` or `choose_at_start`."""

    def __init__(self, folder: Path, image_shape, images_name: str, console: Console, ask: Prompter):
        self.folder = Path(folder)
        self.image_shape = image_shape
        self.images_name = images_name
        self.console = console
        self.ask = ask
        self.model = self.path = self.sha256 = None
        self.encoder = {}

    def load(self, path) -> None:
        """Load an autoencoder and check its encoder fits the images; UserError (and no change) otherwise."""
        model = load_model(path)
        check_input(model, self.image_shape, source=str(path), images=f"the images in {self.images_name}")
        shape = describe(encoder_view(model, source=str(path)))
        with open(path, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()
        self.model = model
        self.path = Path(path)
        self.sha256 = digest
        self.encoder = {"encoder_layers": shape.layers, "encoder_filter_size": shape.filter_size,
                        "encoder_filters": shape.filters}
        self.console.print(f"Encoder of {path}: {shape.layers} convolutional layers, filter size "
                           f"{shape.filter_size}, {shape.filters} filters in the first layer")

    def saved(self) -> list[Path]:
        """Model files under the folder that are autoencoders of images of this shape (as far as their sidecars
        say), newest first."""
        shape = "x".join(map(str, self.image_shape))  # as sidecars record it: rows x columns x channels
        files = [p for p in self.folder.rglob("*") if p.suffix in MODEL_SUFFIXES and not p.name.startswith(".")]
        found = [p for p, sidecar in ((p, read_metadata(p)) for p in files)
                 if sidecar.get("kind", "autoencoder") == "autoencoder" and sidecar.get("image_shape", shape) == shape]
        return sorted(found, key=lambda p: p.stat().st_mtime, reverse=True)

    def choose_at_start(self, given: str | None, can_ask: bool) -> bool:
        """Load the autoencoder given, or ask which saved one to use (without questions: the newest, said so).
        False when the user backs out of the question."""
        if given:
            self.load(given)
            return True
        candidates = self.saved()
        if not candidates:
            raise UserError(f"no autoencoder given and none saved under {self.folder}/: pass -model PATH (a model "
                            f"saved by autoencoder.py)")
        if not can_ask or not interactive():
            self.console.print(f"Using the newest autoencoder under {self.folder}/: {candidates[0]} (-model PATH "
                               f"chooses another)")
            self.load(candidates[0])
            return True
        choice = self.ask.choose("Which autoencoder?", [str(p) for p in candidates])
        if choice is None:
            return False
        self.load(choice)
        return True

    def switch(self) -> bool:
        """Menu: pick another saved autoencoder (or type a path: one that cannot be loaded is said and asked for
        again) and load it; True when one was loaded."""
        choices = [str(p) for p in self.saved() if p.resolve() != self.path.resolve()]
        choice = self.ask.choose("Use which autoencoder?", [*choices, OTHER_PATH, BACK])
        if choice in (None, BACK):
            return False
        if choice == OTHER_PATH:
            return ask_parsed(self.ask, self.console, "Path of the autoencoder (.h5 or .keras):", "",
                              lambda text: self.load(Path(text).expanduser()) or True) is not None
        try:
            self.load(Path(choice))
        except UserError as e:
            error(self.console, e)
            return False
        return True

    def context(self) -> dict:
        """What a run's log row says of the autoencoder it used."""
        return {**self.encoder, "autoencoder": str(self.path), "autoencoder_sha256": self.sha256}
