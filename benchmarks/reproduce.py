"""Every reported table from one command: its study or benchmark run at the current code (what its logs already
hold at this code is reused, not trained again), its rows written to docs/results/TABLE.csv, and the docs' tables
rendered from those files.

    python benchmarks/reproduce.py TABLE [TABLE ...]   run the tables' commands, write their results, render the docs
    python benchmarks/reproduce.py --all               every table (hours: the long runs take one to two hours each)
    python benchmarks/reproduce.py --collect TABLE     write the results from the logs as they are, running nothing
                                                       (never fewer rows than the file holds, but with --replace)
    python benchmarks/reproduce.py --render            render the docs' tables from the results files
    python benchmarks/reproduce.py --stale             the tables whose results were made by other code than today's
    python benchmarks/reproduce.py --list              the tables and their commands
"""

import argparse
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import results
from benchmarks.ladder_reference import processor
from benchmarks.tables import TABLES, already_made


def run(name: str) -> None:
    """Run a table's commands in the project's folder (but a model already made at this code); stop at the first
    that fails."""
    for command in TABLES[name].commands:
        if already_made(command):
            print("made already at this code:", shlex.join(command), flush=True)
            continue
        print("+", shlex.join(command), flush=True)
        done = subprocess.run(command, cwd=results.ROOT)
        if done.returncode != 0:
            raise SystemExit(f"{name}: {shlex.join(command)} exited with {done.returncode}")


def collect(name: str, replace: bool = False) -> Path:
    """Write docs/results/NAME.csv from the table's logs; SystemExit, the file untouched, when the logs give fewer
    rows than it holds (their runs are not here, or were made by other code) unless `replace`."""
    table = TABLES[name]
    rows, notes = table.collect()
    held = len(results.read(name).rows) if (results.RESULTS / f"{name}.csv").exists() else 0
    if len(rows) < held and not replace:
        raise SystemExit(f"{name}: the logs here give {len(rows)} rows at this code, docs/results/{name}.csv holds "
                         f"{held}: not replaced (run the table to make its rows here, or --replace to replace it)")
    made = sorted({row["code"] for row in rows if row.get("code")})
    command = "python benchmarks/reproduce.py " + name
    meta = {"command": command, "code": ", ".join(made) or table.version(),
            "processor": processor() if platform.system() == "Linux" else platform.processor(),
            "date": time.strftime("%Y-%m-%d")}
    path = results.write(results.Results(name, meta, [table.title + ".", *notes], rows))
    print(f"{name}: {len(rows)} rows in {_shown(path)}")
    drawn = table.figure(path.with_suffix(".png")) if table.figure is not None else None
    if drawn is not None:
        print(f"{name}: its figure in {_shown(drawn)}")
    return path


def _shown(path: Path) -> Path:
    """A path within the project relative to its folder, another as it is."""
    return path.relative_to(results.ROOT) if path.is_relative_to(results.ROOT) else path


def render(name: str) -> str:
    """A table's Markdown from its results file; a line saying how to make it while there is none."""
    if not (results.RESULTS / f"{name}.csv").exists():
        return f"No results yet at this code: `python benchmarks/reproduce.py {name}` makes them.\n"
    return results.markdown(results.read(name), list(TABLES[name].columns))


def render_docs() -> list[Path]:
    """Rewrite every results block of the docs from its file; the files changed."""
    changed = []
    for path in results.DOCS:
        text = path.read_text()
        new = results.rendered(text, render)
        if new != text:
            path.write_text(new)
            changed.append(path)
    return changed


def stale() -> list[str]:
    """'NAME: made at CODE, the code now is NOW' for each table whose results another code made (or none yet)."""
    found = []
    for name, table in TABLES.items():
        if not (results.RESULTS / f"{name}.csv").exists():
            found.append(f"{name}: no results file yet")
            continue
        made = results.read(name).meta.get("code", "")
        now = table.version()
        if made != now:
            found.append(f"{name}: made at code {made}, the code now is {now}")
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tables", nargs="*", choices=[[], *TABLES], metavar="TABLE")
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--collect", action="store_true")
    parser.add_argument("--replace", action="store_true",
                        help="write a results file even with fewer rows than it holds")
    parser.add_argument("--render", action="store_true")
    parser.add_argument("--stale", action="store_true")
    parser.add_argument("--list", action="store_true")
    args = parser.parse_args()
    if args.list:
        for name, table in TABLES.items():
            print(f"{name}: {table.title}")
            print("".join(f"    python {shlex.join(c[1:])}\n" for c in table.commands), end="")
        return 0
    if args.stale:
        print("\n".join(stale()) or "every table's results were made by the code as it is now")
        return 0
    for name in TABLES if args.all else args.tables:
        if not args.collect:
            run(name)
        collect(name, args.replace)
    for path in render_docs():
        print(f"rendered {path.relative_to(results.ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
