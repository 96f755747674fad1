"""Choosing how to compute (precision, XLA): candidates per device and flags, the choice from timings, the cache."""

import io
import json

import numpy as np
import pytest
from rich.console import Console

from common.errors import UserError
from common.tracking.way_cache import WayCache
from common.ui.tables import WayReport
from models.training.compute import Trial, Way, candidates, choose, cpu_flags, run_trials
from models.training.devices import Placement
from models.training.way_choice import MEASURE_MIN_STEPS, WayChooser

CPU = Placement("cpu", 1, "CPU (2 cores)")
GPU = Placement("gpu", 1, "GPU (NVIDIA H100)")
SHAPE = {"program": "autoencoder", "layers": 4, "filters": 16, "batch_size": 64}


def faked(rates: dict[str, float], losses: dict[str, float] | None = None):
    """A time_way that reports the given images per second (and losses) per way, and remembers what it timed."""
    timed = []

    def time_way(way):
        timed.append(way)
        return Trial(way, rates[way.key()], (losses or {}).get(way.key(), 0.05))

    time_way.timed = timed
    return time_way


def test_the_fastest_way_wins():
    trials = [Trial(Way("float32", False), 250, 0.05), Trial(Way("float32", True), 300, 0.05),
              Trial(Way("bfloat16", True), 280, 0.0505)]
    assert choose(trials) == Way("float32", True)


def test_a_way_that_changes_the_loss_by_more_than_two_percent_is_dropped():
    trials = [Trial(Way("float32", False), 250, 0.050), Trial(Way("bfloat16", False), 400, 0.0515)]
    assert choose(trials) == Way("float32", False)  # 3% off: dropped however fast
    trials[1] = Trial(Way("bfloat16", False), 400, 0.0509)
    assert choose(trials) == Way("bfloat16", False)  # 1.8% off: kept


def test_reduced_precision_is_timed_only_with_the_xla_setting_that_won_in_float32():
    ways = candidates("cpu", {"avx512_bf16"})
    assert set(ways) == {Way("float32", False), Way("float32", True), Way("bfloat16", False), Way("bfloat16", True)}
    time_way = faked({"float32": 200, "float32+xla": 150, "bfloat16": 260, "bfloat16+xla": 999})
    trials = run_trials(ways, time_way)
    assert [t.way for t in trials] == [Way("float32", False), Way("float32", True), Way("bfloat16", False)]
    assert choose(trials) == Way("bfloat16", False)


def test_candidates_follow_the_device_and_the_flags():
    assert candidates("cpu", set()) == [Way("float32", False), Way("float32", True)]
    assert candidates("cpu", set(), xla="off") == [Way("float32", False)]
    assert candidates("cpu", {"amx_bf16"}, xla="on") == [Way("float32", True), Way("bfloat16", True)]
    assert candidates("cpu", {"avx512_bf16"}, precision="float32", xla="off") == [Way("float32", False)]
    assert {w.precision for w in candidates("gpu", set())} == {"float32", "float16", "bfloat16"}
    assert candidates("gpu", set(), xla="off", precision="float16") == [Way("float16", False)]


def test_precisions_the_processor_lacks_are_refused_with_one_clear_line():
    with pytest.raises(UserError, match="bfloat16 instructions") as refused:
        candidates("cpu", {"avx2", "fma"}, precision="bfloat16")
    assert "\n" not in str(refused.value)
    with pytest.raises(UserError, match="needs a GPU"):
        candidates("cpu", {"avx512_bf16"}, precision="float16")
    assert candidates("cpu", {"avx512_bf16"}, precision="bfloat16", xla="off") == [Way("bfloat16", False)]


def test_cpu_flags_are_read_from_cpuinfo():
    text = "processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu avx2 avx512_bf16\n"
    assert cpu_flags(text) == {"fpu", "avx2", "avx512_bf16"}
    assert cpu_flags("") == set()


def chooser(tmp_path, xla="auto", precision="auto", placement=CPU):
    console = Console(file=io.StringIO(), width=120)
    return WayChooser(xla, precision, placement, WayReport(console), WayCache(tmp_path / "ways.json")), console


def test_the_measured_choice_is_cached_reused_and_ignored_for_another_shape(tmp_path, monkeypatch):
    monkeypatch.setattr("models.training.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    ways, console = chooser(tmp_path)
    first = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, first) == Way("float32", True)
    assert len(first.timed) == 2 and "Ways of computing" in console.file.getvalue()
    again = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, again) == Way("float32", True)
    assert again.timed == []  # from the cache: nothing timed on the second run
    other = faked({"float32": 140, "float32+xla": 130})
    assert ways.way({**SHAPE, "filters": 32}, MEASURE_MIN_STEPS, other) == Way("float32", False)
    assert len(other.timed) == 2
    entries = json.loads((tmp_path / "ways.json").read_text())
    assert len(entries) == 2 and all("images_per_second" in e for e in entries.values())


def test_short_runs_are_not_measured_and_flags_that_leave_one_way_measure_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("models.training.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    ways, _ = chooser(tmp_path)
    short = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS - 1, short) == Way("float32", False) and short.timed == []
    monkeypatch.undo()
    forced, _ = chooser(tmp_path, xla="on", precision="float32")
    none = faked({})
    assert forced.way(SHAPE, 10**6, none) == Way("float32", True) and none.timed == []


def test_a_broken_cache_file_counts_as_empty(tmp_path, monkeypatch):
    monkeypatch.setattr("models.training.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    (tmp_path / "ways.json").write_text("{not json")
    ways, _ = chooser(tmp_path)
    timed = faked({"float32": 100, "float32+xla": 90})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, timed) == Way("float32", False) and len(timed.timed) == 2
    assert json.loads((tmp_path / "ways.json").read_text())


def test_timing_real_steps_gives_a_rate_and_the_same_loss_for_the_same_way(mnist_pixels):
    from models.config import AutoencoderConfig
    from models.training.autoencoder_training import way_timer

    time_way = way_timer(AutoencoderConfig(layers=2, filters=4, batch_size=16), mnist_pixels, seed=1)
    first, again = time_way(Way()), time_way(Way())
    assert first.images_per_second > 0 and np.isfinite(first.loss)
    assert first.loss == pytest.approx(again.loss, rel=1e-5)  # seeded: the same start, the same batches
    assert choose([first, Trial(Way("bfloat16"), first.images_per_second * 2, first.loss * 1.5)]) == Way()


@pytest.fixture(scope="module")
def mnist_pixels():
    from common.data import dataset

    return dataset.to_model_input(dataset.load_images(dataset.TRAIN_IMAGES, 400))
