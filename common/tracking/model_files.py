"""Names for saved models under a folder: one that says the hyperparameters and is not taken, claimed by creating
the file, so programs running side by side never pick the same one."""

from dataclasses import fields
from pathlib import Path

from common.files import claim_free_path
from models.fields import asked, is_choice, is_weights


class ModelFiles:
    """Model file names under `folder` for models of one kind ("autoencoder", "classifier")."""

    def __init__(self, folder: Path, kind: str):
        self.folder, self.kind = Path(folder), kind

    def propose(self, config) -> Path:
        """A free name now (proposed, not claimed): `autoencoder-l4-fs3-f16-e3-bs64.h5`, then `-2`, ..."""
        stem, n = self.stem(config), 2
        path = self.folder / f"{stem}.h5"
        while path.exists():
            path, n = self.folder / f"{stem}-{n}.h5", n + 1
        return path

    def claim(self, config) -> Path:
        """Like `propose`, but the name is created for this program at once."""
        return claim_free_path(self.folder, self.stem(config), ".h5")

    def stem(self, config) -> str:
        """`classifier-fu128-e10-fte5-bs64-l100-scratch-augment-st3`: every value asked at start, the others only
        when changed from their default."""
        parts = [self.kind]
        for f in fields(config):
            value = getattr(config, f.name)
            if not asked(f) and value == f.default:
                continue
            if is_weights(f):
                parts.append("".join(word[0] for word in f.name.split("_")) + value.replace(",", "-"))
            elif is_choice(f):
                parts.append(f.name.replace("_", "-") if value == f.metadata["switch"] else str(value))
            else:
                parts.append("".join(word[0] for word in f.name.split("_")) + f"{value:g}")
        return "-".join(parts)
