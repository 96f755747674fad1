"""The README against the programs: each synopsis and option table names every flag its parser has, and none it
lacks; the quick start's and the test command's lines are there for CI to run."""

import re

import pytest

import autoencoder
import classification
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
FLAG = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")


def section(name: str) -> str:
    """The README's section on a program, from its heading to the next."""
    start = README.index(f"## `{name}`")
    return README[start:README.index("\n## ", start + 1)]


def options(parser) -> list[tuple[str, ...]]:
    return [tuple(a.option_strings) for a in parser._actions if a.option_strings and a.dest != "help"]


@pytest.mark.parametrize("program", [autoencoder, classification], ids=["autoencoder.py", "classification.py"])
def test_the_synopsis_and_the_table_name_every_flag_and_no_other(program):
    text = section(f"{program.__name__}.py")
    synopsis = text[text.index("```") + 3:text.index("```", text.index("```") + 3)]
    table = "\n".join(line.split("|")[1] for line in text.splitlines() if line.startswith("| `"))
    known = {flag for strings in options(program.build_parser()) for flag in strings}
    in_synopsis, in_table = set(FLAG.findall(synopsis)), set(FLAG.findall(table))
    missing = [strings for strings in options(program.build_parser()) if not in_synopsis & set(strings)]
    untabled = [strings for strings in options(program.build_parser()) if not in_table & set(strings)]
    assert missing == [] and untabled == []
    assert in_synopsis - known == set() and in_table - known == set()


def test_the_quick_start_has_its_two_commands():
    assert ".venv/bin/pip install -c constraints.txt -r requirements.txt && .venv/bin/python autoencoder.py" in README
    command = README[README.index("<!-- test-command -->"):README.index("<!-- /test-command -->")]
    assert "pip install -c constraints.txt -r requirements-dev.txt" in command and "ruff check ." in command
    assert "pytest" in command
