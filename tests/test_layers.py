"""The layering contract: every module imports only from its own layer or the layers below it (ARCHITECTURE.md);
and the structure limits: no module over 250 lines, no class over 150, no function over 40.

Imports inside functions (the lazy TensorFlow imports) count as much as those at the top of a file.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYERS = [  # top first, one folder (or module) each; a module belongs to the first layer with a prefix of its name
    ("entry points", ("autoencoder", "classification")),
    ("the session", ("common.ui.session",)),  # each program's start, its menu flow: baseline, runs, menu, exit
    ("the programs", ("common.ui.programs",)),  # each program's data, training, graphs and menu entries
    ("screens", ("common.ui.screens",)),  # questions, the sweep and study screens, saving, the test report
    ("the program interface", ("common.ui.program",)),  # what the screens need of a program
    ("command line", ("common.ui.cli",)),  # flags, one-line errors
    ("terminal and plots", ("common.ui.terminal", "common.ui.plots")),  # prompts, messages, tables, figures
    ("the study", ("common.study",)),  # arms, plans, trials, the runner, workers
    ("training", ("models.training",)),  # fit, stages, trainers, the environment, costs
    ("way of computing", ("models.compute",)),  # precision, XLA, devices, timing the ways, their cache
    ("tracking", ("common.tracking",)),  # run logs, their columns, model-file names
    ("networks", ("models.networks",)),  # the autoencoder, encoder, classifier, joint model, ladder
    ("hyperparameters and data", ("models.config", "common.data")),
    ("base", ("common.errors", "common.keras_setup", "common.phases", "common.interrupts", "common.paths",
              "common.files")),
]


def layer_of(module: str) -> int | None:
    for depth, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return depth
    return None


def project_modules() -> dict[str, Path]:
    found = {path.stem: ROOT / path for path in (Path("autoencoder.py"), Path("classification.py"))}
    for package in ("common", "models"):
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(path: Path, module: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            base = node.module
            if node.level:  # relative: from the module's package
                base = ".".join([*module.split(".")[:-node.level], node.module])
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}  # `from common.data import dataset`
    return {n for n in names if n.split(".")[0] in ("common", "models", "autoencoder", "classification")}


def test_every_project_module_has_a_layer():
    packages = ("common", "models", "common.ui")  # folders of layers, empty themselves
    assert [m for m in project_modules() if layer_of(m) is None and m not in packages] == []


def test_no_module_imports_from_a_layer_above_its_own():
    modules = project_modules()
    upward = set()
    for module, path in modules.items():
        mine = layer_of(module)
        for name in imports_of(path, module):
            imported = name
            while imported not in modules and "." in imported:  # `from package import name`: the module
                imported = imported.rsplit(".", 1)[0]
            theirs = layer_of(imported)
            if mine is not None and theirs is not None and theirs < mine:
                upward.add(f"{module} ({LAYERS[mine][0]}) imports {imported} ({LAYERS[theirs][0]})")
    assert sorted(upward) == []


LIMITS = {"module": 250, "class": 150, "function": 40}  # lines, docstrings and comments included


def test_every_module_class_and_function_is_within_the_structure_limits():
    over = []
    for module, path in project_modules().items():
        source = path.read_text()
        if len(source.splitlines()) > LIMITS["module"]:
            over.append(f"{module}: {len(source.splitlines())} lines")
        for node in ast.walk(ast.parse(source)):
            kind = "class" if isinstance(node, ast.ClassDef) else "function" if isinstance(
                node, ast.FunctionDef | ast.AsyncFunctionDef) else None
            if kind and node.end_lineno - node.lineno + 1 > LIMITS[kind]:
                over.append(f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines (a {kind})")
    assert over == []


def test_the_layering_test_would_see_an_upward_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from common.ui.terminal.prompts import ask_int\n")
    assert "common.ui.terminal.prompts" in imports_of(sample, "models.training.fit")
    assert layer_of("common.ui.terminal.prompts") < layer_of("models.training.fit")


def test_an_import_inside_a_function_says_why_it_waits():
    """Imports belong at the top of a module; one that must wait (TensorFlow out of `--help`, an optional extra)
    says so in a comment on its line."""
    silent = []
    for module, path in project_modules().items():
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                silent += [f"{module}:{sub.lineno}" for sub in ast.walk(node)
                           if isinstance(sub, ast.Import | ast.ImportFrom) and "#" not in lines[sub.lineno - 1]]
    assert sorted(set(silent)) == []
