"""Where a program's time goes (common/phases.py): nested phases count each second once, into the recording of the
run in progress; without one, nothing is kept."""

import json
import time

from common import phases


def test_nested_phases_count_each_second_once_in_the_runs_own_recording():
    with phases.recording(timeline=True) as recorder:
        with phases.phase("training steps"):
            time.sleep(0.02)
            with phases.phase("validation"):
                time.sleep(0.02)
        totals = phases.totals()
    assert set(totals) == {"training steps", "validation"} and all(t >= 0.015 for t in totals.values())
    assert [name for name, _, _ in recorder.timeline] == ["training steps", "validation", "training steps"]
    assert phases.totals() == {}  # the recording belongs to its block


def test_without_a_recording_nothing_is_kept_and_the_timeline_only_when_asked(tmp_path, monkeypatch):
    with phases.phase("training steps"):
        pass
    assert phases.totals() == {}
    with phases.recording() as quiet, phases.phase("prediction"):
        pass
    assert quiet.timeline is None and set(quiet.totals) == {"prediction"}  # totals only: nothing grows
    monkeypatch.setenv(phases.ENVIRONMENT, str(tmp_path / "phases.json"))
    with phases.recording() as asked, phases.phase("prediction"):
        pass
    phases.write_if_asked(asked)
    written = json.loads((tmp_path / "phases.json").read_text())
    assert list(written["totals"]) == ["prediction"] and len(written["timeline"]) == 1
