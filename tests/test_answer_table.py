"""The answer table and the tuning tables (benchmarks/answer.py, tuning.py) from run logs: the runs of today's code
only, every mean and interval computed from the values the table prints, the chosen setting marked, the targets
said, the figure drawn."""

import csv
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.answer import answer_figure, answer_table
from benchmarks.tuning import tuning_table
from common.study.intervals import paired_interval

CODE = "abc123"
HEADER = ["Run_ID", "Recipe_Version", "Arm", "Labels", "Seed", "Test_Accuracy", "Val_Accuracy", "Wall_Time",
          "Ladder_Head", "Fine_Tune_Epochs"]


def write_log(path, runs):
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, HEADER, restval="")
        writer.writeheader()
        for i, run in enumerate(runs):
            writer.writerow({"Run_ID": f"run{i}", "Recipe_Version": CODE, "Labels": "100", "Fine_Tune_Epochs": "5",
                             "Val_Accuracy": run.get("Test_Accuracy", "0.9"), "Wall_Time": "600", **run})


def test_the_answer_table_prints_each_seed_and_computes_its_summaries_from_what_it_prints(tmp_path):
    ladder = [0.99123, 0.98871, 0.99049]
    w0 = [0.97512, 0.98018, 0.97340]
    runs = [{"Arm": "ladder", "Seed": str(seed), "Test_Accuracy": str(a), "Wall_Time": "3000"}
            for seed, a in zip((1, 2, 3), ladder)]
    runs += [{"Arm": "ladder-w0", "Seed": str(seed), "Test_Accuracy": str(a)} for seed, a in zip((1, 2, 3), w0)]
    runs += [{"Arm": "ladder", "Seed": "11", "Test_Accuracy": "0.5"},  # a tuning seed: never reported
             {"Arm": "ladder", "Seed": "4", "Test_Accuracy": "0.5", "Recipe_Version": "other"}]  # other code
    write_log(tmp_path / "log.csv", runs)
    rows, notes = answer_table(tmp_path / "log.csv", lambda: CODE)()
    by = {row["what"]: row for row in rows}
    assert [by["ladder"][f"seed{s}"] for s in (1, 2, 3, 4)] == ["0.9912", "0.9887", "0.9905", ""]
    printed = [float(by["ladder"][f"seed{s}"]) for s in (1, 2, 3)]
    assert by["ladder"]["summary"] == f"{statistics.mean(printed):.4f} ± {statistics.stdev(printed):.4f}"
    assert by["ladder"]["minutes"] == "50.0"
    gains = [float(by["ladder − ladder-w0"][f"seed{s}"]) for s in (1, 2, 3)]
    assert gains == [round(float(by["ladder"][f"seed{s}"]) - float(by["ladder-w0"][f"seed{s}"]), 4) for s in (1, 2, 3)]
    mean, sd = statistics.mean(gains), statistics.stdev(gains)
    low, high = paired_interval(mean, sd, 3)
    assert by["ladder − ladder-w0"]["summary"] == f"{mean:+.4f} ± {sd:.4f} [{low:+.4f}, {high:+.4f}] *"
    assert "ladder − supervised" not in by  # no supervised runs: no such difference
    target = next(note for note in notes if note.startswith("Targets, ladder, 100 labels"))
    assert "mean 0.9901 ≥ 0.99 (met)" in target and "longest run 50.0 min ≤ 60 (met)" in target


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(0.5, 1.0), st.floats(0.5, 1.0)), min_size=2, max_size=5))
def test_every_difference_is_reproduced_from_the_printed_rows(tmp_path_factory, pairs):
    folder = tmp_path_factory.mktemp("log")
    runs = [{"Arm": arm, "Seed": str(seed), "Test_Accuracy": repr(value)}
            for seed, pair in enumerate(pairs, start=1) for arm, value in zip(("pretrained", "scratch"), pair)]
    write_log(folder / "log.csv", runs)
    rows, _ = answer_table(folder / "log.csv", lambda: CODE)()
    by = {row["what"]: row for row in rows}
    seeds = range(1, len(pairs) + 1)
    gains = [round(float(by["pretrained"][f"seed{s}"]) - float(by["scratch"][f"seed{s}"]), 4) for s in seeds]
    assert [float(by["pretrained − scratch"][f"seed{s}"]) for s in seeds] == gains
    mean, sd = statistics.mean(gains), statistics.stdev(gains)
    assert by["pretrained − scratch"]["summary"].startswith(f"{mean:+.4f} ± {sd:.4f}")


def test_a_tuning_table_keeps_its_settings_apart_and_marks_the_best_mean(tmp_path):
    runs = [{"Arm": "ladder", "Seed": str(seed), "Ladder_Head": head, "Test_Accuracy": "0.1", "Val_Accuracy": v}
            for head, values in (("128", (0.97, 0.96, 0.975)), ("1000,500", (0.98, 0.97, 0.972)))
            for seed, v in zip((11, 12, 13), map(str, values))]
    runs.append({"Arm": "ladder", "Seed": "11", "Ladder_Head": "128", "Val_Accuracy": "0.99",
                 "Fine_Tune_Epochs": "10"})  # another length: not this table's
    write_log(tmp_path / "log.csv", runs)
    rows, _ = tuning_table(tmp_path / "log.csv", lambda: CODE, (("Ladder_Head", "head"),),
                           {"Arm": "ladder", "Fine_Tune_Epochs": "5"}, "Heads.")()
    means = {row["ladder_head"]: row for row in rows if row["seed"].startswith("mean")}
    assert means["128"]["val_accuracy"] == f"{statistics.mean((0.97, 0.96, 0.975)):.4f} ± 0.0076"
    assert means["1000,500"]["chosen"] == "chosen" and not means["128"]["chosen"]
    assert len(rows) == 8 and not any("0.99" in row["val_accuracy"] for row in rows)
    rows, notes = tuning_table(tmp_path / "log.csv", lambda: CODE, (("Ladder_Head", "head"),),
                               {"Arm": "ladder", "Fine_Tune_Epochs": "5"}, "Heads.", most_minutes=5)()
    assert not any(row["chosen"] for row in rows) and "each run within 5 minutes" in notes[-1]  # runs of 10
    write_log(tmp_path / "log.csv", runs[:4] + runs[5:])  # the better head on two seeds alone: not chosen
    rows, _ = tuning_table(tmp_path / "log.csv", lambda: CODE, (("Ladder_Head", "head"),),
                           {"Arm": "ladder", "Fine_Tune_Epochs": "5"}, "Heads.", seeds=3)()
    assert [row["ladder_head"] for row in rows if row["chosen"]] == ["128"]
    rows, _ = tuning_table(tmp_path / "log.csv", lambda: CODE, (("Ladder_Head", "head"),),
                           {"Fine_Tune_Epochs": "5"}, "Heads.", among={"Ladder_Head": "1000,500"})()
    assert not any(row["chosen"] for row in rows)  # the one allowed has two seeds: nothing chosen


def test_the_figure_draws_a_curve_per_arm_from_the_checkpoints(tmp_path):
    write_log(tmp_path / "classification_loss_values.csv",
              [{"Arm": arm, "Seed": str(seed), "Test_Accuracy": "0.98"} for arm in ("ladder", "pretrained")
               for seed in (1, 2)])
    with (tmp_path / "validation_checkpoints.csv").open("w") as f:
        f.write("Run_ID,Arm,Labels,Labels_Used,Seed,Step,Minutes,Val_Accuracy\n")
        for run in ("run0", "run1"):
            f.writelines(f"{run},ladder,100,100,1,{step},{step * 2.5},{0.9 + step / 100}\n" for step in range(1, 6))
    drawn = answer_figure(tmp_path, lambda: CODE)(tmp_path / "figure.png")
    assert drawn.exists() and drawn.stat().st_size > 10_000


@pytest.mark.parametrize("minutes, verdict", [(10.0, "met"), (30.0, "missed")])
def test_the_early_target_reads_the_ladders_curve_by_minute_15(tmp_path, minutes, verdict):
    from benchmarks.answer import early

    write_log(tmp_path / "classification_loss_values.csv", [{"Arm": "ladder", "Seed": "1", "Test_Accuracy": "0.99"}])
    (tmp_path / "validation_checkpoints.csv").write_text(
        "Run_ID,Arm,Labels,Labels_Used,Seed,Step,Minutes,Val_Accuracy\n"
        f"run0,ladder,100,100,1,100,5.0,0.95\nrun0,ladder,100,100,1,200,{minutes},0.988\n")
    assert f"({verdict})" in early(tmp_path, CODE)


def test_the_menu_offers_the_arm_the_answer_table_measures_best_with_its_figure(tmp_path):
    from common.study.measured import best_measured, recipe_entry, with_recipe

    assert best_measured(path=tmp_path / "none.csv") is None
    assert recipe_entry(None).startswith("Train with the joint recipe (not measured at this code yet")
    assert with_recipe({"fc_units": 16}, None).joint is not None
    (tmp_path / "few-labels.csv").write_text(
        "# command: python benchmarks/reproduce.py few-labels\n# note: Test accuracy.\n"
        "labels,what,seed1,summary,minutes\n100,joint,0.98,0.9712 ± 0.0040,5.0\n100,ladder,0.99,0.9901 ± 0.0020,40.0\n"
        "100,ladder − joint,+0.01,+0.0189 ± 0.0030 [+0.01, +0.03] *,\n1000,joint,0.99,0.9950 ± 0.0010,5.0\n")
    best = best_measured(100, tmp_path / "few-labels.csv")
    assert (best.arm, best.accuracy) == ("ladder", "0.9901 ± 0.0020")
    assert recipe_entry(best) == ("Train with the ladder recipe (the highest mean test accuracy measured with 100 "
                                  "labels: 0.9901 ± 0.0020, docs/few-labels.md)")
    config = with_recipe({"fc_units": 16, "label_budget": 100}, best)
    assert config.ladder is not None and (config.batch_size, config.fc_units, config.label_budget) == (100, 16, 100)
    assert best_measured(1000, tmp_path / "few-labels.csv").arm == "joint"
