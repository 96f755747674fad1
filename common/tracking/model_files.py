"""Names for saved models under a folder: one that says the hyperparameters and is not taken, claimed by creating
the file, so programs running side by side never pick the same one."""

from pathlib import Path

from common.files import claim_free_path
from models.config.fields import asked, is_choice, is_weights
from models.config.settings import settings, value_of


class ModelFiles:
    """Model file names under `folder` for models of one kind ("autoencoder", "classifier")."""

    def __init__(self, folder: Path, kind: str):
        self.folder = Path(folder)
        self.kind = kind

    def propose(self, config) -> Path:
        """A free name now (proposed, not claimed): `autoencoder-l4-fs3-f16-e3-bs64.h5`, then `-2`, ..."""
        stem = self.stem(config)
        n = 2
        path = self.folder / f"{stem}.h5"
        while path.exists():
            path = self.folder / f"{stem}-{n}.h5"
            n += 1
        return path

    def claim(self, config) -> Path:
        """Like `propose`, but the name is created for this program at once."""
        return claim_free_path(self.folder, self.stem(config), ".h5")

    def stem(self, config) -> str:
        """`classifier-fu128-e10-fte5-bs64-l100-scratch-augment-st3`: every value asked at start, the others only
        when changed from their default."""
        parts = [self.kind]
        for s in settings(type(config)):
            value = value_of(config, s.name)
            if not asked(s) and value == s.default:
                continue
            if is_weights(s):
                parts.append("".join(word[0] for word in s.name.split("_")) + value.replace(",", "-"))
            elif is_choice(s):
                parts.append(s.name.replace("_", "-") if value == s.metadata["switch"] else str(value))
            else:
                parts.append("".join(word[0] for word in s.name.split("_")) + f"{value:g}")
        return "-".join(parts)
