"""The CSV run log: column order, immediate appends, older and damaged files, later updates."""

import os
from dataclasses import asdict

import pytest

from common.errors import UserError
from common.tracking.csv_file import FIELD_LIMIT
from common.tracking.run_log import Column, RunLog
from common.tracking.schema import AUTOENCODER as AE_COLUMNS
from common.tracking.schema import CLASSIFIER as CLF_COLUMNS
from models.config.autoencoder import AutoencoderConfig

COLUMNS = [Column("layers", "Layers"), Column("loss", "Loss"), Column("note", "Note", numeric=False),
           Column("run_id", "Run_ID", numeric=False)]


def test_logs_start_with_the_assignment_columns():
    assert [c.header for c in AE_COLUMNS][:8] == ["Layers", "Filter_Size", "Filters/Layer", "Epochs", "Batch_Size",
                                                  "Train_Time", "Loss", "Val_Loss"]
    assert [c.header for c in CLF_COLUMNS][:9] == ["Layers", "Fc_units", "Epochs", "Batch_Size", "Train_Time",
                                                   "Loss", "Val_Loss", "Accuracy", "Val_Accuracy"]


def test_a_row_is_the_config_as_a_dict_plus_metrics(tmp_path):
    log = RunLog(tmp_path / "loss_values.csv", AE_COLUMNS)
    log.append({**asdict(AutoencoderConfig(layers=3)), "train_time": 1.5, "loss": 0.02, "val_loss": 0.03})
    lines = (tmp_path / "loss_values.csv").read_text().splitlines()
    assert lines[0].startswith("Layers,Filter_Size,Filters/Layer,Epochs,Batch_Size,Train_Time,Loss,Val_Loss,")
    assert lines[1].startswith("3,3,16,3,64,1.5,0.02,0.03,")
    runs, notes = log.read()
    assert notes == [] and runs["layers"].tolist() == [3] and runs["val_loss"].tolist() == [0.03]


def test_each_append_is_on_disk_before_the_next(tmp_path):
    log = RunLog(tmp_path / "log.csv", COLUMNS)
    for i in range(3):
        log.append({"layers": i, "loss": 0.1 * i, "note": "a, \"quoted\" note", "run_id": str(i)})
        assert len((tmp_path / "log.csv").read_text().splitlines()) == i + 2
    runs, _ = log.read()
    assert runs["note"].tolist() == ['a, "quoted" note'] * 3


def test_a_line_cut_short_by_a_crash_is_skipped_and_the_next_append_is_clean(tmp_path):
    path = tmp_path / "log.csv"
    log = RunLog(path, COLUMNS)
    log.append({"layers": 2, "loss": 0.5, "note": "first", "run_id": "a"})
    with open(path, "a") as f:
        f.write("3,0.4")  # killed in the middle of writing a row
    log.append({"layers": 4, "loss": 0.3, "note": "after", "run_id": "c"})
    runs, notes = log.read()
    assert runs["layers"].tolist() == [2, 4]
    assert len(notes) == 1 and "line 3 has 2 fields, expected 4: skipped" in notes[0]


def test_an_older_log_gains_the_new_columns_and_keeps_its_rows(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("Layers,Loss\n2,0.5\n3,0.4\n")
    log = RunLog(path, COLUMNS)
    runs, notes = log.read()
    assert runs["layers"].tolist() == [2, 3] and "no column Note, Run_ID (older log?)" in notes[0]
    notes = log.append({"layers": 4, "loss": 0.3, "note": "new", "run_id": "x"})
    assert "added columns Note, Run_ID" in notes[0]
    assert path.read_text().splitlines() == ["Layers,Loss,Note,Run_ID", "2,0.5,,", "3,0.4,,", "4,0.3,new,x"]


def test_hand_edited_values_are_warned_about_not_fatal(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("Layers,Loss,Note,Run_ID,Extra\n2,0.5,ok,a,1\nthree,0.4,typed by hand,b,2\n")
    runs, notes = RunLog(path, COLUMNS).read()
    assert runs["loss"].tolist() == [0.5, 0.4]
    assert runs["layers"].isna().tolist() == [False, True]
    assert notes == [f"{path}: line 3: Layers is not a number ('three'): ignored"]
    assert "Extra" in runs.columns  # unknown columns are kept, not dropped


def test_update_fills_in_a_value_of_one_run(tmp_path):
    log = RunLog(tmp_path / "log.csv", COLUMNS)
    for run_id in ("a", "b"):
        log.append({"layers": 2, "loss": 0.5, "run_id": run_id})
    assert log.update("b", {"note": "saved"})
    assert not log.update("zzz", {"note": "nothing"})
    runs, _ = log.read()
    assert runs["note"].tolist() == ["", "saved"]


def test_missing_log_reads_as_empty(tmp_path):
    runs, notes = RunLog(tmp_path / "none.csv", COLUMNS).read()
    assert runs.empty and notes == [] and list(runs.columns) == ["layers", "loss", "note", "run_id"]


@pytest.mark.parametrize("value, text", [(0.000123456789, "0.000123457"), (12, "12"), (None, "")])
def test_cells_are_written_compactly(tmp_path, value, text):
    log = RunLog(tmp_path / "log.csv", COLUMNS)
    log.append({"layers": value, "run_id": "r"})
    assert (tmp_path / "log.csv").read_text().splitlines()[1] == f"{text},,,r"


def test_an_older_classifier_log_without_init_counts_its_runs_as_pretrained(tmp_path):
    path = tmp_path / "classification_loss_values.csv"
    path.write_text("Layers,Fc_units,Epochs,Batch_Size,Train_Time,Loss,Val_Loss,Accuracy,Val_Accuracy,Run_ID\n"
                    "4,128,10,64,100.5,0.1,0.1,0.97,0.98,old\n")
    log = RunLog(path, CLF_COLUMNS)
    runs, _ = log.read()
    assert runs["init"].tolist() == ["pretrained"]
    log.append({"encoder_layers": 4, "fc_units": 128, "init": "scratch", "run_id": "new"})
    runs, _ = log.read()
    assert runs["init"].tolist() == ["pretrained", "scratch"] and runs["fc_units"].tolist() == [128, 128]


def test_a_line_that_is_not_csv_is_skipped_when_reading_and_never_dropped_by_a_rewrite(tmp_path):
    path = tmp_path / "log.csv"
    log = RunLog(path, COLUMNS)
    log.append({"layers": 2, "loss": 0.5, "note": "first", "run_id": "a"})
    with open(path, "a") as f:
        f.write("3,0.4," + "x" * (FIELD_LIMIT + 1) + ",b\n")  # pasted by accident, longer than a field may be
    before = path.read_bytes()
    runs, notes = log.read()
    assert runs["layers"].tolist() == [2] and "line 3 is not valid CSV" in notes[0]
    with pytest.raises(UserError, match="line 3 is not valid CSV .*: the log is left as it is"):
        log.update("a", {"note": "changed"})
    assert path.read_bytes() == before


def test_bytes_that_are_not_utf8_survive_a_rewrite(tmp_path):
    path = tmp_path / "log.csv"
    path.write_bytes(b"Layers,Loss,Note,Run_ID\n2,0.5,caf\xe9 by hand,a\n")
    log = RunLog(path, COLUMNS)
    assert log.update("a", {"loss": 0.25})
    assert path.read_bytes() == b"Layers,Loss,Note,Run_ID\n2,0.25,caf\xe9 by hand,a\n"


def test_a_log_that_is_not_a_regular_file_is_refused_not_read_forever(tmp_path):
    os.mkfifo(tmp_path / "log.csv")
    with pytest.raises(UserError, match="log.csv: is not a regular file"):
        RunLog(tmp_path / "log.csv", COLUMNS).read()


def test_a_key_without_a_column_is_written_under_its_own_name_and_the_tests_see_it(tmp_path):
    from tests.conftest import undeclared_columns

    log = RunLog(tmp_path / "log.csv", COLUMNS)
    log.append({"layers": 2, "best_epoch": 3, "run_id": "b"})  # as the programs run: nothing measured is dropped
    assert (tmp_path / "log.csv").read_text().splitlines() == ["Layers,Loss,Note,Run_ID,best_epoch", "2,,,b,3"]
    (tmp_path / "log.csv").rename(tmp_path / "loss_values.csv")  # as the autoencoder's log: found by the tests
    assert undeclared_columns(tmp_path) == {"loss_values.csv": ["Note", "best_epoch"]}
    (tmp_path / "loss_values.csv").unlink()  # not this test's failure


def test_a_short_write_is_finished_and_a_failed_one_leaves_no_half_row(tmp_path, monkeypatch):
    log = RunLog(tmp_path / "log.csv", COLUMNS)
    log.append({"layers": 1, "run_id": "a"})
    before = (tmp_path / "log.csv").read_bytes()
    real_write = os.write

    def a_few_bytes(fd, data):  # the system writes fewer bytes than asked, as it may
        return real_write(fd, bytes(data[:3]))

    monkeypatch.setattr(os, "write", a_few_bytes)
    log.append({"layers": 2, "note": "written in pieces", "run_id": "b"})
    assert log.read()[0]["note"].tolist()[1] == "written in pieces"
    full = (tmp_path / "log.csv").read_bytes()
    calls = []

    def disk_full(fd, data):  # a few bytes, then no space left
        calls.append(len(data))
        if len(calls) > 1:
            raise OSError(28, "No space left on device")
        return real_write(fd, bytes(data[:5]))

    monkeypatch.setattr(os, "write", disk_full)
    with pytest.raises(UserError, match="log.csv: cannot be written \\(No space left on device\\)"):
        log.append({"layers": 3, "run_id": "c"})
    assert (tmp_path / "log.csv").read_bytes() == full and full.startswith(before)
