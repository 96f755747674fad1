"""Several programs changing one run log at once: every row and every update survives."""

import subprocess
import sys
import time

from common.tracking.run_log import Column, RunLog
from tests.conftest import ROOT

COLUMNS = [Column("writer", "Writer", numeric=False), Column("n", "N"), Column("note", "Note", numeric=False),
           Column("run_id", "Run_ID", numeric=False)]
EXISTING = 200  # rows in the log before the programs start; the updaters fill in each one's note
APPENDS = 200  # rows each appender adds

WORKER = """
import sys, time
from pathlib import Path
sys.path.insert(0, {root!r})
from common.tracking.run_log import Column, RunLog
columns = [Column("writer", "Writer", numeric=False), Column("n", "N"), Column("note", "Note", numeric=False),
           Column("run_id", "Run_ID", numeric=False)]
log = RunLog({path!r}, columns)
role, name, first, last = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
while not Path({go!r}).exists():  # start together
    time.sleep(0.01)
for i in range(first, last):
    if role == "append":
        log.append({{"writer": name, "n": i, "run_id": f"{{name}}-{{i}}"}})
    else:
        assert log.update(f"old-{{i}}", {{"note": f"by {{name}}"}}), i
"""


def test_appends_and_updates_from_several_processes_all_survive(tmp_path):
    path, go = tmp_path / "log.csv", tmp_path / "go"
    log = RunLog(path, COLUMNS)
    for i in range(EXISTING):
        log.append({"writer": "before", "n": i, "run_id": f"old-{i}"})
    script = WORKER.format(root=str(ROOT), path=str(path), go=str(go))
    jobs = [("append", "a", 0, APPENDS), ("append", "b", 0, APPENDS),
            ("update", "u1", 0, EXISTING // 2), ("update", "u2", EXISTING // 2, EXISTING)]
    workers = [subprocess.Popen([sys.executable, "-c", script, *map(str, job)], stderr=subprocess.PIPE, text=True)
               for job in jobs]
    time.sleep(1.0)  # let every worker import and wait
    go.touch()
    for worker in workers:
        assert worker.wait(timeout=240) == 0, worker.stderr.read()
    runs, notes = log.read()
    assert notes == []
    assert len(runs) == EXISTING + 2 * APPENDS and runs["run_id"].is_unique
    for name in ("a", "b"):
        assert sorted(runs.loc[runs["writer"] == name, "n"].astype(int)) == list(range(APPENDS))
    old = runs[runs["writer"] == "before"].set_index("n")["note"]
    assert (old[old.index < EXISTING // 2] == "by u1").all() and (old[old.index >= EXISTING // 2] == "by u2").all()
