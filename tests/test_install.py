"""What an install needs: every package the code imports is declared in a requirements file, every package
installed is pinned in constraints.txt, and the README's commands install with those pins on a supported Python."""

import ast
import importlib.metadata
import re
import sys
from pathlib import Path

from tests.conftest import ROOT

REQUIREMENTS = ("requirements.txt", "requirements-ray.txt", "requirements-dev.txt")
SUPPORTED = ((3, 11), (3, 12), (3, 13))  # the Python versions the suite has passed on


def names_in(path: Path) -> set[str]:
    """The distribution names a requirements or constraints file pins, normalised."""
    found = set()
    for line in path.read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement and not requirement.startswith("-"):
            found.add(normalised(re.split(r"[=<>~! ;\[]", requirement)[0]))
    return found


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def imported_modules() -> set[str]:
    """The top-level modules the project's code imports (tests and benchmarks included)."""
    modules = set()
    for folder in ("common", "models", "benchmarks", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name.split(".")[0] for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    modules.add(node.module.split(".")[0])
    return modules - set(sys.stdlib_module_names) - {"common", "models", "benchmarks", "tests", "autoencoder",
                                                      "classification"}


def test_every_package_the_code_imports_is_declared_in_a_requirements_file():
    declared = set().union(*(names_in(ROOT / name) for name in REQUIREMENTS))
    providers = importlib.metadata.packages_distributions()
    undeclared = sorted(f"{module} ({', '.join(providers.get(module, ['?']))})" for module in imported_modules()
                        if not {normalised(d) for d in providers.get(module, [module])} & declared)
    assert undeclared == [], "imported but not in a requirements file"


def test_every_installed_package_is_pinned_in_the_constraints_file():
    pinned = names_in(ROOT / "constraints.txt")
    installed = {normalised(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    tools = {"pip", "setuptools", "wheel", "coverage", "pytest-cov"}  # the venv's own, or measuring aids
    assert sorted(installed - pinned - tools) == []


def test_the_readme_installs_with_the_constraints_and_says_which_pythons():
    readme = (ROOT / "README.md").read_text()
    installs = re.findall(r"pip install [^\n`&]*", readme)
    assert installs and all("-c constraints.txt" in command for command in installs), installs
    assert "Python 3.11, 3.12 or 3.13" in readme
    assert sys.version_info[:2] in SUPPORTED
    requires = re.search(r'requires-python = "(.*)"', (ROOT / "pyproject.toml").read_text()).group(1)
    assert requires == ">=3.11,<3.14"
