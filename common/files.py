"""Writing files that other programs may be writing or reading at the same moment.

A file is replaced whole (written under a name no other program uses, then renamed over the old one), so a reader
sees the old file or the new one, never half of either; and a new file name is claimed by creating the file
exclusively, so two programs can never both pick the same free name.
"""

import os
import uuid
from pathlib import Path


def replace_atomically(path, write) -> Path:
    """Call `write(temporary_path)` to write the new contents, then rename the result over `path`. The
    temporary name keeps `path`'s suffix (writers choose their format by it) and is unique to this call."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.stem}.{os.getpid()}-{uuid.uuid4().hex[:8]}.partial{path.suffix}")
    try:
        write(partial)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def write_text_atomically(path, text: str) -> Path:
    """Replace `path` with `text` (UTF-8) in one step."""
    return replace_atomically(path, lambda partial: Path(partial).write_text(text, encoding="utf-8"))


def claim_free_path(folder, stem: str, suffix: str) -> Path:
    """Create and return the first of `folder/stem.suffix`, `stem-2.suffix`, ... that does not exist yet, as an
    empty file this program now owns: another program claiming a name at the same time gets a different one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    n = 1
    while True:
        path = folder / (f"{stem}{suffix}" if n == 1 else f"{stem}-{n}{suffix}")
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
            return path
        except FileExistsError:
            n += 1
