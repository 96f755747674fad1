"""Results as data (benchmarks/results.py, reproduce.py): every table in the docs is its results file rendered,
a results file reads back as written, and a table whose file another code made is listed as stale."""

import pytest

from benchmarks import reproduce, results


def test_every_table_in_the_docs_is_its_results_file_rendered():
    checked = 0
    for path in results.DOCS:
        for name, body in results.blocks(path.read_text()):
            assert name in reproduce.TABLES, f"{path.name}: a results block names no table: {name}"
            assert body == reproduce.render(name), f"{path.name}: the {name} table differs from its results file"
            checked += 1
    assert checked >= 1  # the docs show at least one table from its results file


def test_a_results_file_reads_back_as_written_and_renders_its_source(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    made = results.Results("sample", {"command": "python benchmarks/reproduce.py sample", "code": "abc123",
                                      "processor": "AMD EPYC, 2 cores", "date": "2026-12-06"},
                           ["Seeds 1-2."], [{"seed": "1", "accuracy": "0.9812"}, {"seed": "2", "accuracy": "0.9790"}])
    results.write(made)
    again = results.read("sample")
    assert (again.meta, again.notes, again.rows) == (made.meta, made.notes, made.rows)
    table = results.markdown(again, [("seed", "seed"), ("accuracy", "test accuracy")])
    assert table.splitlines()[:4] == ["| seed | test accuracy |", "| ---: | ---: |", "| 1 | 0.9812 |",
                                      "| 2 | 0.9790 |"]
    assert "made by `python benchmarks/reproduce.py sample` at code abc123" in table and "Seeds 1-2." in table
    text = "before\n<!-- results: sample -->\nold\n<!-- /results -->\nafter\n"
    assert results.rendered(text, lambda name: "new\n") == text.replace("old", "new")


def test_a_table_made_by_other_code_is_listed_as_stale(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    name = next(iter(reproduce.TABLES))
    results.write(results.Results(name, {"code": "not-this-code"}, [], [{"seed": "1"}]))
    assert any(line.startswith(f"{name}: made at code not-this-code") for line in reproduce.stale())
    results.write(results.Results(name, {"code": reproduce.TABLES[name].version()}, [], [{"seed": "1"}]))
    assert not any(line.startswith(f"{name}:") for line in reproduce.stale())


@pytest.mark.parametrize("name", list(reproduce.TABLES))
def test_every_table_has_commands_and_the_columns_its_rows_carry(name):
    table = reproduce.TABLES[name]
    assert table.commands and all(command[1].endswith(".py") for command in table.commands)
    assert len({key for key, _ in table.columns}) == len(table.columns)


def test_collect_never_replaces_a_results_file_with_fewer_rows_unless_told(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "RESULTS", tmp_path)
    name = next(iter(reproduce.TABLES))
    table = reproduce.TABLES[name]
    held = [{"seed": "1", "test": "0.99"}, {"seed": "2", "test": "0.98"}]
    results.write(results.Results(name, {"code": "abc"}, [], held))
    before = (tmp_path / f"{name}.csv").read_text()
    monkeypatch.setitem(reproduce.TABLES, name, table.__class__(**{**table.__dict__, "figure": None,
                                                                   "collect": lambda: ([], [])}))
    with pytest.raises(SystemExit, match=f"{name}: the logs here give 0 rows .* holds 2: not replaced"):
        reproduce.collect(name)
    assert (tmp_path / f"{name}.csv").read_text() == before
    reproduce.collect(name, replace=True)
    assert results.read(name).rows == []
