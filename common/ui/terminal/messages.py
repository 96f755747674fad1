"""The programs' console, and one-line messages on it: warnings and errors, the same everywhere."""

import os
import sys

from rich.console import Console

FILE_WIDTH = 120  # columns of output sent to a file or a pipe, where Rich would take 80 and wrap the tables


def program_console() -> Console:
    """The console a program writes to: the terminal's width, or FILE_WIDTH columns when its output goes to a file
    or a pipe (a log of a long study, say) and $COLUMNS does not say otherwise."""
    to_file = not sys.stdout.isatty() and not os.environ.get("COLUMNS")
    return Console(highlight=False, width=FILE_WIDTH if to_file else None)


def warn(console: Console, message: str) -> None:
    console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


def error(console: Console, problem) -> None:
    console.print(f"[red]error:[/] {problem}", soft_wrap=True)
