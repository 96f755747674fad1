"""One-line messages on a console: warnings and errors, the same everywhere."""

from rich.console import Console


def warn(console: Console, message: str) -> None:
    console.print(f"[yellow]warning:[/] {message}", soft_wrap=True)


def error(console: Console, problem) -> None:
    console.print(f"[red]error:[/] {problem}", soft_wrap=True)
