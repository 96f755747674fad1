"""Measured ways of computing (models/training/way_choice.py), one per machine and model shape, kept in a small
JSON file in the user's cache folder: not under --out, which several machines may share."""

import json
import os
from pathlib import Path

from filelock import FileLock, Timeout

from common.files import write_text_atomically

CACHE_ENVIRONMENT = "WORKBENCH_CACHE"  # a folder for the cache instead of the user's cache folder


def cache_folder() -> Path:
    """$WORKBENCH_CACHE, or $XDG_CACHE_HOME/autoencoder-workbench, or ~/.cache/autoencoder-workbench."""
    if os.environ.get(CACHE_ENVIRONMENT):
        return Path(os.environ[CACHE_ENVIRONMENT])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "autoencoder-workbench"


class WayCache:
    """Measured choices, one per machine and model shape, in a JSON file; unreadable or foreign files count as
    empty. A cache that cannot be written is only a lost shortcut: `put` says why (the chooser tells the user
    once), and nothing else changes."""

    def __init__(self, path: Path | None = None):
        self.path = path or cache_folder() / "compute-ways.json"

    def get(self, key: str) -> dict | None:
        return self._read().get(key)

    def put(self, key: str, entry: dict) -> str | None:
        """Keep `entry` under `key`; None, or why it could not be kept."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with FileLock(self.path.with_name(f".{self.path.name}.lock"), timeout=10):
                entries = self._read()
                entries[key] = entry
                write_text_atomically(self.path, json.dumps(entries, indent=1) + "\n")
        except OSError as e:
            return f"{self.path}: cannot be written ({e.strerror or e})"
        except Timeout:
            return f"{self.path}: locked by another program for more than 10 s"
        return None

    def _read(self) -> dict:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}
