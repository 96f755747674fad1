"""The reported tables: for each, the commands that make its figures (each reuses what its log already holds at
the same code), how its rows are read from their logs, the columns the docs show, and the code its figures depend
on (benchmarks/results.py hashes it). benchmarks/reproduce.py runs them."""

import csv
import math
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchmarks.answer import COLUMNS as ANSWER_COLUMNS
from benchmarks.answer import answer_figure, answer_table
from benchmarks.ladder_reference import code_version as ladder_version
from benchmarks.results import ROOT
from benchmarks.tuning import logged_rows, tuning_columns, tuning_table
from common.study.intervals import paired_interval
from models.config.choices import BLOCK_ORDERS
from models.training.version import training_version

PYTHON = sys.executable
LADDER_LOG = ROOT / "runs" / "ladder_reference"
SHORT_EPOCHS = 25  # the reproduction's compressed length: about 15 minutes a run on 2 cores alone
SEEDS = (1, 2, 3, 4, 5)  # reported seeds
TUNING_SEEDS = (11, 12, 13)  # the seeds settings are chosen on, never reported


@dataclass(frozen=True)
class Table:
    """One reported table."""
    title: str  # what it shows
    commands: tuple[tuple[str, ...], ...]  # run from the project's folder, in order
    collect: Callable[[], tuple[list[dict], list[str]]]  # its rows and its notes, from the logs
    columns: tuple[tuple[str, str], ...]  # (key, header) of the columns the docs show
    version: Callable[[], str]  # the version of the code its figures depend on, now
    figure: Callable[[Path], Path | None] | None = None  # draws the table's figure to a path, when it has one


def ladder_command(seed: int, epochs: int, lateral: bool = True) -> tuple[str, ...]:
    return (PYTHON, "benchmarks/ladder_reference.py", "--labels", "100", "--seed", str(seed), "--epochs",
            str(epochs), *(() if lateral else ("--no-lateral",)))


def ladder_curves(epochs: int, seeds=SEEDS) -> Callable[[Path], Path | None]:
    """The validation curves of the reproduction's runs at `epochs` epochs, as a figure."""
    def draw(path: Path) -> Path | None:
        from benchmarks.curves import plot_curves  # matplotlib: only when a figure is drawn, not for --list

        curves = {}
        for (seed, lateral), row in sorted(ladder_rows(epochs).items()):
            curve = LADDER_LOG / f"curve-{row['run']}.csv"
            if seed in seeds and curve.exists():
                curves[f"seed {seed}{'' if lateral else ', without laterals'}"] = curve
        if not curves:
            return None
        return plot_curves(curves, path, f"The ladder's MLP, 100 labels, {epochs} epochs")
    return draw


def ladder_rows(epochs: int) -> dict[tuple[int, bool], dict]:
    """The latest row of each (seed, lateral) at `epochs` epochs in the reference's results file."""
    found = {}
    if (LADDER_LOG / "results.csv").exists():
        with (LADDER_LOG / "results.csv").open(newline="") as f:
            for row in csv.DictReader(f):
                if int(row["epochs"]) == epochs and row["weights"] == "1000,10,0.1,0.1,0.1,0.1,0.1":
                    found[(int(row["seed"]), row["lateral"] == "True")] = row
    return found


UNRECORDED = "unrecorded"  # a row of the first version of the script, which logged no code version


def full_length() -> tuple[list[dict], list[str]]:
    rows = [{"seed": str(seed), "epochs": row["epochs"], "minutes": row["minutes"],
             "val_accuracy": row["val_accuracy"], "test_accuracy": row["test_accuracy"],
             "test_accuracy_labelled_statistics": row.get("test_accuracy_labelled_statistics") or "–",
             "code": row.get("code") or UNRECORDED}
            for (seed, lateral), row in sorted(ladder_rows(150).items()) if lateral]
    notes = ["The paper: 98.94 % ± 0.37 (Rasmus et al. 2015, table 1: 1.06 % error with 100 labels)."]
    if any(row["code"] == UNRECORDED for row in rows):
        notes.append("Code unrecorded: the script's first version (commit a2390ec but for the code version and the "
                     "processor it did not yet log); its MLP trains as today's: the same run at 25 epochs, seed 1, "
                     "gave the same figures (0.9845 test, 0.983 validation) at code 7bb8cfa3102e and 4920bde5b510, "
                     "its first epoch the same losses to four decimals.")
    return rows, notes


def compressed() -> tuple[list[dict], list[str]]:
    """Each seed's runs with and without laterals (a missing one left blank), each column's mean ± sd over the runs
    it has, and the paired difference over the seeds that have both, with its 95 % interval."""
    found = ladder_rows(SHORT_EPOCHS)
    rows = []
    columns: dict[bool, list[float]] = {True: [], False: []}
    gains = []
    for seed in SEEDS:
        runs = {lateral: found.get((seed, lateral)) for lateral in (True, False)}
        if not any(runs.values()):
            continue
        accuracy = {lateral: float(run["test_accuracy"]) for lateral, run in runs.items() if run}
        for lateral, value in accuracy.items():
            columns[lateral].append(value)
        paired = len(accuracy) == 2
        if paired:
            gains.append(accuracy[True] - accuracy[False])
        rows.append({"seed": str(seed), "ladder": _cell(runs[True], "test_accuracy"),
                     "no_lateral": _cell(runs[False], "test_accuracy"),
                     "difference": f"{gains[-1]:+.4f}" if paired else "",
                     "minutes": ", ".join(_cell(run, "minutes") or "–" for run in runs.values()),
                     "code": (runs[True] or runs[False])["code"]})
    if len(columns[True]) > 1 or len(columns[False]) > 1:
        rows.append({"seed": "mean ± sd", "ladder": _spread(columns[True]), "no_lateral": _spread(columns[False]),
                     "difference": "", "minutes": "", "code": ""})
    if len(gains) > 1:
        mean = statistics.mean(gains)
        sd = statistics.stdev(gains)
        low, high = paired_interval(mean, sd, len(gains))
        rows.append({"seed": f"paired ({len(gains)} seeds)", "ladder": "", "no_lateral": "",
                     "difference": f"{mean:+.4f} ± {sd:.4f}", "minutes": "", "code": ""})
        rows.append({"seed": "95 % interval", "ladder": "", "no_lateral": "",
                     "difference": f"[{low:+.4f}, {high:+.4f}]" + (" *" if low > 0 or high < 0 else ""),
                     "minutes": "", "code": ""})
    return rows, [f"{SHORT_EPOCHS} epochs of 590 steps, the rate decaying over the last third; test accuracy, "
                  "statistics from the unlabelled images; the difference paired by seed over the seeds that have "
                  "both runs, its interval Student's t with pairs − 1 degrees of freedom, * where it excludes 0."]


def _cell(run: dict | None, key: str) -> str:
    return run[key] if run else ""


def _spread(values, digits: int = 4) -> str:
    """Mean ± sd of the values that are numbers, or the one value."""
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return ""
    if len(values) == 1:
        return f"{values[0]:.{digits}f}"
    return f"{statistics.mean(values):.{digits}f} ± {statistics.stdev(values):.{digits}f}"


def block_order() -> tuple[list[dict], list[str]]:
    """The default autoencoder's validation loss in each block order, tuning seeds 11-13, and the validation
    accuracy of the default classifier on it with 100 labels (the product's question)."""
    rows = []
    by_order: dict[str, dict[str, tuple[float, float]]] = {}  # order -> seed -> (val_loss, classifier accuracy)
    classified = _classifier_accuracies()
    for row in _rows_at_this_code(ROOT / ORDER / "loss_values.csv"):
        order = row.get("Block_Order", "")
        loss = round(float(row["Val_Loss"]), 5)  # as printed: every summary row is computed from printed values
        accuracy = round(classified.get((order, row["Seed"]), math.nan), 4)  # nan: its classifier not run
        by_order.setdefault(order, {})[row["Seed"]] = (loss, accuracy)  # a seed run again: its latest run
        rows.append({"order": order, "seed": row["Seed"], "val_loss": f"{loss:.5f}",
                     "val_accuracy": "" if math.isnan(accuracy) else f"{accuracy:.4f}",
                     "minutes": f"{float(row['Train_Time']) / 60:.1f}", "code": training_version()})
    for order, runs in by_order.items():
        losses, accuracies = zip(*runs.values())
        rows.append({"order": order, "seed": "mean ± sd", "val_loss": _spread(losses, 5),
                     "val_accuracy": _spread(accuracies, 4), "minutes": "", "code": ""})
    rows += _paired_rows(by_order.get("pre-activation", {}), by_order.get("post-activation", {}))
    return rows, ["The default autoencoder (4 layers, 16 filters, 3 epochs), validated on its 12,000 held-out images; "
                  "then the default classifier on its encoder, 100 labels of the same seed, validated on 1,000 "
                  "images. The paired row: Student's t, seeds − 1 degrees of freedom, * where it excludes 0."]


def _paired_rows(pre: dict[str, tuple[float, float]], post: dict[str, tuple[float, float]]) -> list[dict]:
    """pre − post paired by seed, its mean ± sd and 95 % interval per measure."""
    seeds = [seed for seed in pre if seed in post]
    if len(seeds) < 2:
        return []
    cells = {}
    for key, index, digits in (("val_loss", 0, 5), ("val_accuracy", 1, 4)):
        gains = [pre[seed][index] - post[seed][index] for seed in seeds]
        mean = statistics.mean(gains)
        sd = statistics.stdev(gains)
        low, high = paired_interval(mean, sd, len(gains))
        star = " *" if low > 0 or high < 0 else ""
        cells[key] = f"{mean:+.{digits}f} ± {sd:.{digits}f} [{low:+.{digits}f}, {high:+.{digits}f}]{star}"
    return [{"order": "pre − post", "seed": f"paired ({len(seeds)} seeds), 95 % interval", **cells, "minutes": "",
             "code": ""}]


def already_made(command: tuple[str, ...]) -> bool:
    """Whether a command that saves a model (`--save PATH`) has nothing to do: PATH exists and the run log of its
    `--out` folder holds a run made by today's training code (a table's autoencoder, kept with its logs)."""
    if "--save" not in command or "--out" not in command:
        return False
    saved = ROOT / command[command.index("--save") + 1]
    folder = ROOT / command[command.index("--out") + 1]
    return saved.exists() and bool(_rows_at_this_code(folder / "loss_values.csv"))


def _rows_at_this_code(log: Path) -> list[dict]:
    """The rows of a run log made by today's training code."""
    return logged_rows(log, training_version())


def _classifier_accuracies() -> dict[tuple[str, str], float]:
    """The validation accuracy of the classifier on each block order's autoencoder, by (order, seed): each
    classifier log read once."""
    found = {}
    for order in BLOCK_ORDERS:
        for row in _rows_at_this_code(ROOT / ORDER / f"classifier-{order}" / "classification_loss_values.csv"):
            found[(order, row["Seed"])] = float(row["Val_Accuracy"])  # a seed run again: its latest run
    return found


def tuning(out: str) -> Callable[[], tuple[list[dict], list[str]]]:
    """A tuning table's rows: each run of the study's log at this code, with its validation accuracy (tuning
    seeds: the test accuracy is not looked at) and its minutes."""
    def collect() -> tuple[list[dict], list[str]]:
        rows = [{"arm": row["Arm"], "labels": row["Labels_Used"], "seed": row["Seed"],
                 "epochs": row["Fine_Tune_Epochs"], "val_accuracy": f"{float(row['Val_Accuracy']):.4f}",
                 "minutes": f"{float(row['Wall_Time']) / 60:.1f}", "code": training_version()}
                for row in _rows_at_this_code(ROOT / out / "classification_loss_values.csv")]
        return rows, ["Validation accuracy on 1,000 held-out images of a tuning seed; minutes of the whole run."]
    return collect


def precision_check() -> tuple[list[dict], list[str]]:
    """The ladder arm's validation accuracy in float32 and in bfloat16 on each tuning seed, and bfloat16 − float32
    paired by seed (computed from the printed, rounded values) with its 95 % interval."""
    runs: dict[str, dict[str, dict]] = {}
    for precision in PRECISIONS_CHECKED:
        for row in _rows_at_this_code(ROOT / PRECISION / precision / "classification_loss_values.csv"):
            runs.setdefault(row["Seed"], {})[precision] = row  # a seed run again: its latest run
    rows = []
    gains = []
    for seed, by in sorted(runs.items(), key=lambda item: int(item[0])):
        accuracy = {p: round(float(row["Val_Accuracy"]), 4) for p, row in by.items()}
        paired = len(accuracy) == len(PRECISIONS_CHECKED)
        if paired:
            gains.append(round(accuracy["bfloat16"] - accuracy["float32"], 4))
        rows.append({"seed": seed, **{p: f"{accuracy[p]:.4f}" if p in accuracy else "" for p in PRECISIONS_CHECKED},
                     "difference": f"{gains[-1]:+.4f}" if paired else "",
                     "minutes": ", ".join(f"{float(by[p]['Wall_Time']) / 60:.1f}" if p in by else "–"
                                          for p in PRECISIONS_CHECKED), "code": training_version()})
    if len(gains) > 1:
        mean, sd = statistics.mean(gains), statistics.stdev(gains)
        low, high = paired_interval(mean, sd, len(gains))
        verdict = "kept" if mean >= PRECISION_TOLERANCE else "refused"
        rows.append({"seed": f"paired ({len(gains)} seeds)", "float32": "", "bfloat16": "",
                     "difference": f"{mean:+.4f} ± {sd:.4f} [{low:+.4f}, {high:+.4f}]",
                     "minutes": f"bfloat16 {verdict}", "code": ""})
    return rows, ["The study's ladder arm, 100 labels, 3 epochs, validation accuracy on 1,000 held-out images of "
                  "each tuning seed; bfloat16 is kept where the paired mean difference is at least "
                  f"{PRECISION_TOLERANCE} (Student's t interval, seeds − 1 degrees of freedom)."]


ORDER = "runs/ae_order"  # the block-order runs: autoencoders, their log, a classifier folder per order
CONV = "runs/conv_ladder"  # the conv ladder study's folder: its autoencoder, run log and summary
PILOT = "runs/conv_ladder_pilot"  # the conv ladder's first runs, on a tuning seed
PRECISION = "runs/ladder_precision"  # the ladder arm in each precision, a folder each
PRECISIONS_CHECKED = ("float32", "bfloat16")
PRECISION_TOLERANCE = -0.002  # bfloat16's paired mean difference in validation accuracy may be no lower


def order_commands(seed: int, order: str) -> tuple[tuple[str, ...], ...]:
    """The default autoencoder in this block order, then the default classifier on it with 100 labels."""
    model = f"{ORDER}/ae-{order}-seed{seed}.h5"
    exact = ("--seed", str(seed), "--precision", "float32", "--xla", "off", "--no-show")
    return ((PYTHON, "autoencoder.py", "--no-menu", "--block-order", order, *exact, "--out", ORDER, "--save", model),
            (PYTHON, "classification.py", "-model", model, "--no-menu", "--labels", "100", "--val-limit", "1000",
             *exact, "--out", f"{ORDER}/classifier-{order}"))


def precision_command(precision: str) -> tuple[str, ...]:
    """The ladder arm on tuning seeds 11-13 computing in `precision` (100 labels, 3 epochs)."""
    return (PYTHON, "classification.py", "-model", f"{CONV}/ae.h5", "--no-show", "--precision", precision, "--xla",
            "off", "--out", f"{PRECISION}/{precision}", "--study", "labels", "--labels", "100", "--repeats", "3",
            "--seed", str(TUNING_SEEDS[0]), "--val-limit", "1000", "--arms", "ladder", "--fine-tune-epochs", "3")


CONV_AUTOENCODER = (PYTHON, "autoencoder.py", "--no-menu", "--no-show", "--block-order", "pre-activation", "--seed",
                    "1", "--precision", "float32", "--xla", "off", "--out", CONV, "--save", f"{CONV}/ae.h5")
LOGS = "benchmarks/logs"  # the run logs of the answer's tables and of their tuning, kept in the repository: a table
# made over several sittings reuses every run finished at the same code (the backups of unfinished ones stay out)
FEW = f"{LOGS}/few-labels"  # the answer table's autoencoder, run log and summary
FEW_AUTOENCODER = tuple(FEW if part == CONV else f"{FEW}/ae.h5" if part == f"{CONV}/ae.h5" else part
                        for part in CONV_AUTOENCODER)
TUNING_LADDER = f"{LOGS}/tuning-ladder"  # the ladder arm's settings tried on the tuning seeds
LADDER_HEADS = ("128", "1000,500,250,250,250")  # today's head; the reference MLP's levels above its images
TUNING_EPOCHS = 5  # the length the head and the weights are chosen at; the length is chosen last, a run each
LADDER_VARIED = (("Ladder_Head", "dense levels"), ("Fine_Tune_Epochs", "epochs"))  # (log column, header)
LADDER_LENGTHS = (("128", 10), ("128", 13), ("1000,500,250,250,250", 8))  # (head, epochs) tried at other lengths
# than TUNING_EPOCHS: 128 units near 40 and 55 minutes a run, the MLP's levels near 50 (an epoch about 3.8 and 6
# minutes, two runs at a time)
JOINT_VARIED = (("Reconstruction_Weight", "W"), ("Fine_Tune_Epochs", "epochs"))
JOINT_LENGTHS = (3,)  # passes over every training image tried beside the recipe's one, at W = 1
TUNING_JOINT = f"{LOGS}/tuning-joint"  # the joint recipe's settings tried on the tuning seeds
JOINT_WEIGHTS = ("1", "0.1", "10")  # W tried beside the joint-w0 arm (W = 0)
RUN_LOG = "classification_loss_values.csv"


def few_command(labels: int, arms: str, repeats: int) -> tuple[str, ...]:
    """The answer table's runs of `arms` with `labels` labels on reported seeds 1 to `repeats`, two at a time."""
    return (PYTHON, "classification.py", "-model", f"{FEW}/ae.h5", "--no-show", "--precision", "float32", "--xla",
            "off", "--out", FEW, "--study", "labels", "--labels", str(labels), "--repeats", str(repeats), "--seed",
            "1", "--val-limit", "1000", "--arms", arms, "--workers", "2")


FEW_RUNS = (  # (labels, arms, seeds): five seeds for the runs of at most 20 minutes, three for the longer
    (100, "supervised,scratch,pretrained,joint", 5), (1000, "supervised,pretrained,joint", 5),
    (100, "ladder-w0,ladder,ladder-nolateral,ladder-scratch", 3), (1000, "ladder-w0,ladder", 3))


def joint_tuning_command(weight: str, epochs: int = 1) -> tuple[str, ...]:
    """The joint arm at reconstruction weight `weight` and the joint-w0 arm (W = 0) on tuning seeds 11-13, `epochs`
    passes over every training image."""
    return (PYTHON, "classification.py", "-model", f"{FEW}/ae.h5", "--no-show", "--precision", "float32", "--xla",
            "off", "--out", TUNING_JOINT, "--study", "labels", "--labels", "100", "--repeats", "3", "--seed",
            str(TUNING_SEEDS[0]), "--val-limit", "1000", "--arms", "joint,joint-w0", "--reconstruction-weight", weight,
            "--fine-tune-epochs", str(epochs), "--workers", "2")


def ladder_tuning_command(*settings: str, epochs: int = TUNING_EPOCHS) -> tuple[str, ...]:
    """The ladder arm on tuning seeds 11-13, 100 labels, with `settings` (flags and values), two runs at a time."""
    return (PYTHON, "classification.py", "-model", f"{FEW}/ae.h5", "--no-show", "--precision", "float32", "--xla",
            "off", "--out", TUNING_LADDER, "--study", "labels", "--labels", "100", "--repeats", "3", "--seed",
            str(TUNING_SEEDS[0]), "--val-limit", "1000", "--arms", "ladder", "--fine-tune-epochs", str(epochs),
            *settings, "--workers", "2")
TABLES = {
    "ladder-full": Table("The ladder's MLP, 100 labels, the paper's full length", (ladder_command(1, 150),),
                         full_length, (("seed", "seed"), ("epochs", "epochs"), ("minutes", "minutes"),
                                       ("val_accuracy", "validation"), ("test_accuracy", "test"),
                                       ("test_accuracy_labelled_statistics", "test, the labelled images' statistics"),
                                       ("code", "code")), ladder_version, ladder_curves(150, (1,))),
    "ladder-compressed": Table(
        f"The ladder's MLP, 100 labels, {SHORT_EPOCHS} epochs, with and without lateral connections",
        tuple(ladder_command(seed, SHORT_EPOCHS, lateral) for seed in SEEDS for lateral in (True, False)),
        compressed, (("seed", "seed"), ("ladder", "ladder"), ("no_lateral", "without laterals"),
                     ("difference", "ladder − without"), ("minutes", "minutes (each)"), ("code", "code")),
        ladder_version, ladder_curves(SHORT_EPOCHS)),
    "autoencoder-block-order": Table(
        "The default autoencoder in each block order and the default classifier on it, tuning seeds 11-13",
        tuple(command for seed in TUNING_SEEDS for order in BLOCK_ORDERS
              for command in order_commands(seed, order)),
        block_order, (("order", "block order"), ("seed", "seed"), ("val_loss", "val_loss"),
                      ("val_accuracy", "classifier, 100 labels: validation accuracy"),
                      ("minutes", "minutes (autoencoder)")), training_version),
    "few-labels": Table(
        "Does attaching the autoencoder help? Every arm on the default autoencoder with 100 and 1,000 labels",
        (FEW_AUTOENCODER, *(few_command(labels, arms, repeats) for labels, arms, repeats in FEW_RUNS)),
        answer_table(ROOT / FEW / RUN_LOG, training_version), ANSWER_COLUMNS, training_version,
        answer_figure(ROOT / FEW, training_version)),
    "ladder-precision": Table(
        "The conv ladder in float32 and in bfloat16, tuning seeds 11-13: 100 labels, 3 epochs",
        (CONV_AUTOENCODER, *(precision_command(p) for p in PRECISIONS_CHECKED)), precision_check,
        (("seed", "seed"), ("float32", "float32"), ("bfloat16", "bfloat16"), ("difference", "bfloat16 − float32"),
         ("minutes", "minutes (each)"), ("code", "code")), training_version),
    "tuning-ladder": Table(
        "The conv ladder's dense levels and length, tuning seeds 11-13: 100 labels",
        (FEW_AUTOENCODER, *(ladder_tuning_command("--ladder-head", head) for head in LADDER_HEADS),
         *(ladder_tuning_command("--ladder-head", head, epochs=epochs) for head, epochs in LADDER_LENGTHS)),
        tuning_table(ROOT / TUNING_LADDER / RUN_LOG, training_version, LADDER_VARIED,
                     {"Arm": "ladder", "Denoising_Weights": ""},
                     "The ladder arm with the reference's denoising weights, each head (its dense levels' units from "
                     "the encoder up, then the class level) at each length (a run of each length: the rate decays "
                     "over the last third of its own epochs).", most_minutes=60),
        tuning_columns(LADDER_VARIED), training_version),
    "tuning-joint": Table(
        "The joint recipe's reconstruction weight W and length, tuning seeds 11-13: 100 labels",
        (FEW_AUTOENCODER, *(joint_tuning_command(w) for w in JOINT_WEIGHTS),
         *(joint_tuning_command("1", epochs) for epochs in JOINT_LENGTHS)),
        tuning_table(ROOT / TUNING_JOINT / RUN_LOG, training_version, JOINT_VARIED, {},
                     "The joint arm at each W and length (passes over every training image); W = 0 is the joint-w0 "
                     "arm, the recipe without reconstruction: shown beside it, never its choice.",
                     among={"Arm": "joint"}),
        tuning_columns(JOINT_VARIED), training_version),
    "conv-ladder-pilot": Table(
        "The ladder on the workbench's own encoder, first runs on tuning seed 11: 100 labels, 3 epochs",
        (CONV_AUTOENCODER,
         (PYTHON, "classification.py", "-model", f"{CONV}/ae.h5", "--no-show", "--precision", "float32", "--xla",
          "off", "--out", PILOT, "--study", "labels", "--labels", "100", "--repeats", "1", "--seed", "11",
          "--val-limit", "1000", "--arms", "ladder,ladder-nolateral,ladder-w0", "--fine-tune-epochs", "3")),
        tuning(PILOT), (("arm", "arm"), ("labels", "labels"), ("seed", "seed"), ("epochs", "epochs"),
                        ("val_accuracy", "validation accuracy"), ("minutes", "minutes"), ("code", "code")),
        training_version),
}

