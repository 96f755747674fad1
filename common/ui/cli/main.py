"""Running a program's main function with one-line errors and quiet exits, never a traceback."""

import traceback
from pathlib import Path

from rich.console import Console

from common import phases
from common.errors import UserError
from common.ui.terminal.messages import error


def guarded(main, log_dir: str = "runs") -> int:
    """Call `main()`; turn user errors into one line on stderr (exit 2) and Ctrl-C into exit 130."""
    errors = Console(stderr=True, highlight=False)
    try:
        return _measured(main)
    except UserError as e:
        error(errors, e)
        return 2
    except KeyboardInterrupt:
        errors.print("Interrupted.")
        return 130
    except Exception as e:  # noqa: BLE001  (a bug: keep the details in a file, tell the user in one line)
        report = Path(log_dir) / "crash.log"
        try:
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(traceback.format_exc())
            where = f" (details in {report})"
        except OSError:
            where = ""
        errors.print(f"[red]internal error:[/] {type(e).__name__}: {e}{where}", soft_wrap=True)
        return 1


def _measured(main) -> int:
    """Call `main()`, counting where its time goes, and write that down when asked (common/phases.py)."""
    with phases.recording() as recorder:
        try:
            return main()
        finally:
            phases.write_if_asked(recorder)
