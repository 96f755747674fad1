"""Results as data: each reported table's figures in a small CSV under docs/results/, written by
benchmarks/reproduce.py, and the tables in the docs rendered from those files, never typed by hand.

A results file starts with comment lines that say how it was made (`# command:`, `# code:`, `# processor:`,
`# date:`, and `# note:` lines), then the CSV of its rows. A table in a Markdown file sits between the markers
`<!-- results: NAME -->` and `<!-- /results -->`; `render_docs` writes it from docs/results/NAME.csv, and
tests/test_results.py fails when the docs and a results file disagree.
"""

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "docs" / "results"
DOCS = (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md")), ROOT / "benchmarks" / "README.md")
BLOCK = re.compile(r"(<!-- results: (?P<name>[a-z0-9-]+) -->\n)(?P<body>.*?)(<!-- /results -->)", re.S)
META = ("command", "code", "processor", "date")


@dataclass
class Results:
    """One results file: how it was made, and its rows."""
    name: str
    meta: dict[str, str] = field(default_factory=dict)  # command, code, processor, date
    notes: list[str] = field(default_factory=list)  # what the table's caption says of it
    rows: list[dict[str, str]] = field(default_factory=list)

    @property
    def path(self) -> Path:
        return RESULTS / f"{self.name}.csv"


def write(results: Results) -> Path:
    """Write a results file: its comment lines, then its rows as CSV."""
    results.path.parent.mkdir(parents=True, exist_ok=True)
    out = io.StringIO()
    for key in META:
        out.write(f"# {key}: {results.meta.get(key, '')}\n")
    for note in results.notes:
        out.write(f"# note: {note}\n")
    columns = list(dict.fromkeys(key for row in results.rows for key in row))
    writer = csv.DictWriter(out, columns, restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(results.rows)
    results.path.write_text(out.getvalue())
    return results.path


def read(name: str) -> Results:
    """Read docs/results/NAME.csv."""
    results = Results(name)
    lines = results.path.read_text().splitlines()
    body = []
    for line in lines:
        if line.startswith("# "):
            key, _, value = line[2:].partition(": ")
            if key == "note":
                results.notes.append(value)
            else:
                results.meta[key] = value
        else:
            body.append(line)
    results.rows = list(csv.DictReader(io.StringIO("\n".join(body))))
    return results


def markdown(results: Results, columns: list[tuple[str, str]]) -> str:
    """The table in Markdown: a column per (key, header), numbers right-aligned; then where it came from."""
    head = "| " + " | ".join(header for _, header in columns) + " |\n"
    rule = "| " + " | ".join("---:" if _numeric(results, key) else "---" for key, _ in columns) + " |\n"
    body = "".join("| " + " | ".join(row.get(key, "") for key, _ in columns) + " |\n" for row in results.rows)
    meta = results.meta
    source = (f"\nFrom `docs/results/{results.name}.csv`, made by `{meta.get('command', '')}` at code "
              f"{meta.get('code', '')} on {meta.get('processor', '')}, {meta.get('date', '')}.")
    notes = "".join(f" {note}" for note in results.notes)
    return head + rule + body + source + notes + "\n"


def _numeric(results: Results, key: str) -> bool:
    values = [row.get(key, "") for row in results.rows if row.get(key, "")]
    return bool(values) and all(re.fullmatch(r"[-+−]?[\d.,]+( ± [\d.]+)?%?|\[.*\]\s?\*?", v) for v in values)


def blocks(text: str) -> list[tuple[str, str]]:
    """(name, body) of every results block in a Markdown text."""
    return [(m.group("name"), m.group("body")) for m in BLOCK.finditer(text)]


def rendered(text: str, render) -> str:
    """`text` with every results block's body replaced by `render(name)`."""
    return BLOCK.sub(lambda m: m.group(1) + render(m.group("name")) + m.group(4), text)
