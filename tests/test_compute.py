"""Choosing how to compute (precision, XLA): candidates per device and flags, the choice from timings, the cache."""

import io
import json

import numpy as np
import pytest
from rich.console import Console

from common.errors import UserError
from common.ui.terminal.tables import WayReport
from models.compute.devices import Placement
from models.compute.way_cache import WayCache
from models.compute.way_choice import MEASURE_MIN_STEPS, WayChooser
from models.compute.way_trials import (
    BUDGET_SHARE,
    CLOSE,
    MAX_SECONDS,
    MIN_SECONDS,
    WARM_STEPS,
    Candidate,
    run_trials,
    time_in_turns,
)
from models.compute.ways import Trial, Way, candidates, choose, cpu_flags

CPU = Placement("cpu", 1, "CPU (2 cores)")
GPU = Placement("gpu", 1, "GPU (NVIDIA H100)")
SHAPE = {"program": "autoencoder", "layers": 4, "filters": 16, "batch_size": 64}


class FakeCandidate(Candidate):
    """A way that trains at a given rate on a fake clock (`clock`: seconds so far, shared by the ways of one
    timing), optionally on a machine that slows down as time passes (`slowing`: per second)."""

    def __init__(self, way, rate, loss, clock, slowing=0.0):
        self.way, self.model, self.true_rate, self.clock, self.slowing = way, None, rate, clock, slowing
        self.images_per_step, self.steps, self.loss, self.step_seconds = 64.0, 0, loss, 64.0 / rate
        self.timed_images, self.timed_seconds, self.cost = 0, 0.0, 0.0

    def warm(self):
        self.steps = max(self.steps, WARM_STEPS)

    def run(self, count):
        seconds = count * self.step_seconds * (1 + self.slowing * self.clock[0])
        self.clock[0] += seconds
        self.steps, self.timed_images, self.timed_seconds = (self.steps + count, self.timed_images + 64 * count,
                                                             self.timed_seconds + seconds)
        self.cost += seconds


def faked(rates: dict[str, float], losses: dict[str, float] | None = None, slowing: float = 0.0):
    """A start(way) whose candidates train at the given images per second (and losses) per way; it remembers the
    ways it started (`started`) and the candidates (`made`)."""
    clock, started, made = [0.0], [], {}

    def start(way):
        started.append(way)
        made[way.key()] = FakeCandidate(way, rates[way.key()], (losses or {}).get(way.key(), 0.05), clock, slowing)
        return made[way.key()]

    start.timed, start.made = started, made
    return start


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
    ways = [Way("float32", False), Way("float32", True), Way("bfloat16", False), Way("bfloat16", True)]
    start = faked({"float32": 200, "float32+xla": 150, "bfloat16": 260, "bfloat16+xla": 999})
    trials = run_trials(ways, start)
    assert [t.way for t in trials] == [Way("float32", False), Way("float32", True), Way("bfloat16", False)]
    assert start.timed == [t.way for t in trials]  # bfloat16 with XLA never built
    assert choose(trials) == Way("bfloat16", False)
    assert [round(t.images_per_second) for t in trials] == [200, 150, 260]
    xla_wins = faked({"float32": 200, "float32+xla": 250, "bfloat16": 150, "bfloat16+xla": 300})
    trials = run_trials(ways, xla_wins)
    assert xla_wins.timed == [Way("float32", False), Way("float32", True), Way("bfloat16", False),
                              Way("bfloat16", True)]
    assert choose(trials) == Way("bfloat16", True)
    assert [round(t.images_per_second) for t in trials] == [200, 250, 150, 300]
    only_bfloat16 = candidates("gpu", set(), precision="bfloat16")  # XLA still tried, in bfloat16
    both = faked({"bfloat16": 200, "bfloat16+xla": 250})
    assert choose(run_trials(only_bfloat16, both)) == Way("bfloat16", True) and len(both.timed) == 2
    assert xla_wins.made["bfloat16+xla"].timed_seconds == pytest.approx(xla_wins.made["float32+xla"].timed_seconds,
                                                                        rel=0.3)  # timed beside each other


def test_ways_timed_in_turns_are_not_favoured_by_a_machine_that_slows_down_meanwhile():
    rates = {"float32": 300, "float32+xla": 300}
    ways = [Way("float32", False), Way("float32", True)]
    trials = run_trials(ways, faked(rates, slowing=0.2))  # 20% slower every second
    first, second = (t.images_per_second for t in trials)
    assert abs(first - second) / max(first, second) < 0.10, (first, second)
    one_after_another = faked(rates, slowing=0.2)  # the same timing, one way after the other, for comparison
    alone = [time_in_turns([one_after_another(w)])[0].images_per_second for w in ways]
    assert abs(alone[0] - alone[1]) / max(alone) > 0.3, alone


def test_two_close_ways_are_timed_on_within_the_measurement_s_share_of_the_run_and_distant_ones_are_not():
    ways = [Way("float32", False), Way("float32", True)]
    close = faked({"float32": 300, "float32+xla": 300 * (1 - CLOSE / 2)})
    run_trials(ways, close, steps=100_000)
    assert all(c.timed_seconds >= MAX_SECONDS for c in close.made.values())
    short_run = faked({"float32": 300, "float32+xla": 300 * (1 - CLOSE / 2)})
    run_trials(ways, short_run, steps=1000)  # 1000 steps of 64 at 300/s: 213 s, 5% of which is 10.7 s
    assert all(MIN_SECONDS + 1 < c.timed_seconds < MAX_SECONDS for c in short_run.made.values())
    assert sum(c.cost for c in short_run.made.values()) == pytest.approx(BUDGET_SHARE * 1000 * 64 / 300, abs=0.8)
    distant, without_run = faked({"float32": 300, "float32+xla": 200}), faked({"float32": 300, "float32+xla": 200})
    run_trials(ways, distant, steps=100_000)
    run_trials(ways, without_run, steps=0)
    assert [c.timed_seconds for c in distant.made.values()] == [c.timed_seconds for c in without_run.made.values()]


def test_candidates_follow_the_device_and_the_flags():
    assert candidates("cpu", set()) == [Way("float32", False)]  # XLA is no CPU candidate unless asked for
    assert candidates("cpu", {"avx512_bf16"}) == [Way("float32", False), Way("bfloat16", False)]
    assert candidates("cpu", set(), xla="on") == [Way("float32", True)]
    assert Way("float32", True) in candidates("gpu", set()) and Way("bfloat16", True) in candidates("gpu", set())
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
    monkeypatch.setattr("models.compute.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    ways, console = chooser(tmp_path)
    first = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, first) == Way("float32", True)
    assert len(first.timed) == 2 and "Ways of computing" in console.file.getvalue()
    assert "timed in" in console.file.getvalue() and "remembered for later runs" in console.file.getvalue()
    again = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, again) == Way("float32", True)
    assert again.timed == []  # from the cache: nothing timed on the second run
    other = faked({"float32": 140, "float32+xla": 130})
    assert ways.way({**SHAPE, "filters": 32}, MEASURE_MIN_STEPS, other) == Way("float32", False)
    assert len(other.timed) == 2
    entries = json.loads((tmp_path / "ways.json").read_text())
    assert len(entries) == 2 and all("images_per_second" in e for e in entries.values())


def test_short_runs_are_not_measured_and_flags_that_leave_one_way_measure_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr("models.compute.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    ways, _ = chooser(tmp_path)
    short = faked({"float32": 100, "float32+xla": 130})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS - 1, short) == Way("float32", False) and short.timed == []
    monkeypatch.undo()
    forced, _ = chooser(tmp_path, xla="on", precision="float32")
    none = faked({})
    assert forced.way(SHAPE, 10**6, none) == Way("float32", True) and none.timed == []


def test_a_broken_cache_file_counts_as_empty(tmp_path, monkeypatch):
    monkeypatch.setattr("models.compute.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    (tmp_path / "ways.json").write_text("{not json")
    ways, _ = chooser(tmp_path)
    timed = faked({"float32": 100, "float32+xla": 90})
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, timed) == Way("float32", False) and len(timed.timed) == 2
    assert json.loads((tmp_path / "ways.json").read_text())


def test_a_cache_that_cannot_be_written_is_said_once_and_the_way_still_chosen(tmp_path, monkeypatch):
    monkeypatch.setattr("models.compute.way_choice.WayChooser.candidates",
                        lambda self: [Way("float32", False), Way("float32", True)])
    (tmp_path / "ways.json").mkdir()  # a folder where the cache file should be
    ways, console = chooser(tmp_path)
    for filters in (8, 16):  # two shapes: two measurements, two failed writes
        assert ways.way({**SHAPE, "filters": filters}, MEASURE_MIN_STEPS,
                        faked({"float32": 100, "float32+xla": 130})) == Way("float32", True)
    said = console.file.getvalue()
    assert said.count("not remembered for later runs") == 1 and "ways.json: cannot be written" in said


@pytest.fixture
def quick_timing(monkeypatch):
    """Real steps timed for a few tenths of a second a way instead of seconds: the same rounds and turns."""
    from models.compute import way_trials

    monkeypatch.setattr(way_trials, "MIN_SECONDS", 0.3)
    monkeypatch.setattr(way_trials, "ROUND_SECONDS", 0.1)
    monkeypatch.setattr(way_trials, "MAX_SECONDS", 0.5)


def test_timing_real_steps_gives_a_rate_and_the_same_loss_for_the_same_way(bundled_images, quick_timing):
    from models.config.autoencoder import AutoencoderConfig
    from models.training.autoencoder_training import way_timer

    start = way_timer(AutoencoderConfig(layers=2, filters=4, batch_size=16), bundled_images, seed=1)
    first, again = time_in_turns([start(Way()), start(Way())])
    assert first.images_per_second > 0 and np.isfinite(first.loss)
    assert first.loss == again.loss  # seeded: the same start, the same batches
    assert choose([first, Trial(Way("bfloat16"), first.images_per_second * 2, first.loss * 1.5)]) == Way()


@pytest.fixture(scope="module")
def bundled_images():
    """The first 400 bundled training images: enough batches to time."""
    from common.data import dataset

    return dataset.to_model_input(dataset.load_images(dataset.TRAIN_IMAGES, 400))


def test_the_chosen_way_s_timed_model_trains_exactly_as_a_new_one_without_tracing_again(bundled_images, quick_timing):
    from models.config.autoencoder import AutoencoderConfig
    from models.training.autoencoder_training import train_autoencoder, way_timer

    config = AutoencoderConfig(layers=2, filters=4, batch_size=16, epochs=1)
    train, val = bundled_images[:320], bundled_images[320:]
    fresh = train_autoencoder(config, train, val, seed=2)
    timed, traced = way_timer(config, train, seed=2), []
    build = timed.build

    def counted(way):  # each trace of the training step calls train_step once in Python
        model = build(way)
        step = model.train_step
        model.train_step = lambda data: traced.append(way) or step(data)
        return model

    timed.build = counted
    time_in_turns([timed(Way())])
    model = timed.model_for(Way())
    again = train_autoencoder(config, train, val, seed=2, model=model)
    assert traced == [Way()]  # traced for the timing, and not again for the run
    assert again.model is model and timed.made == {}
    for ours, theirs in zip(again.model.get_weights(), fresh.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    assert timed.model_for(Way("float32", True)) is None  # a way not timed: the run builds its own


def test_a_cpu_run_never_builds_an_xla_candidate_unless_asked_and_a_gpu_still_times_xla(tmp_path, monkeypatch):
    monkeypatch.setattr("models.compute.ways.cpu_flags", lambda cpuinfo=None: {"avx512_bf16"})
    on_cpu = faked({"float32": 100, "bfloat16": 120, "float32+xla": 999, "bfloat16+xla": 999})
    ways, _ = chooser(tmp_path)
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, on_cpu) == Way("bfloat16", False)
    assert on_cpu.timed == [Way("float32", False), Way("bfloat16", False)]  # no XLA model built, nor compiled
    on_gpu = faked({"float32": 100, "float16": 110, "bfloat16": 105, "float32+xla": 200, "float16+xla": 300,
                    "bfloat16+xla": 250})
    ways, _ = chooser(tmp_path / "gpu", placement=GPU)
    assert ways.way(SHAPE, MEASURE_MIN_STEPS, on_gpu) == Way("float16", True)
    assert Way("float32", True) in on_gpu.timed  # XLA stays a candidate where it has helped


def test_xla_on_still_compiles_the_training_step_with_xla(tmp_path):
    from models.config.autoencoder import AutoencoderConfig
    from models.training.autoencoder_training import new_autoencoder

    ways, _ = chooser(tmp_path, xla="on", precision="float32")
    way = ways.way(SHAPE, 10**6, faked({}))
    assert way == Way("float32", True) and new_autoencoder(AutoencoderConfig(layers=2, filters=4), xla=way.xla)\
        .jit_compile is True
