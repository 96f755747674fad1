"""The version of the code that trains: a short hash of what the networks and their training do. A run's log row
records it (`Recipe_Version`), and a study or sweep started again reuses only runs of the same version.

Why a hash rather than a number bumped by hand: a number has to be remembered at every change that alters a run,
and it was not once (the joint recipe's entropy term moved between experiments while its settings stayed the same,
so old rows were reused for the new code). The hash is of the syntax trees of the modules that build and train
the networks and choose their data (models/, the splits and --limit), with docstrings left out and without line
numbers: prose, comments and layout change nothing, while any change to that code changes the version. Resume is
then conservative, never wrong: after such a change the runs are trained again.
"""

import ast
import functools
import hashlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TRAINING_CODE = ("models", "common/data/splits.py", "common/data/selection.py")  # relative to the project


@functools.cache
def training_version() -> str:
    """Twelve hex digits that change whenever the code that trains changes."""
    digest = hashlib.sha256()
    for path in sorted(_modules()):
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(ast.dump(_without_docstrings(ast.parse(path.read_text(encoding="utf-8")))).encode())
    return digest.hexdigest()[:12]


def _modules() -> list[Path]:
    found = []
    for name in TRAINING_CODE:
        path = ROOT / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return found


def _without_docstrings(tree: ast.AST) -> ast.AST:
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body and \
                isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant) and \
                isinstance(node.body[0].value.value, str):
            node.body = node.body[1:] or [ast.Pass()]
    return tree
