"""`check` over worker processes: the same record, bit for bit, as one example after another; a worker that
dies is that example's error, never a pass."""

import json

import pytest

from backprop_repro.cli import commands as cli
from backprop_repro.core import registry
from backprop_repro.core.pool import example_pool
from backprop_repro.sources import runner

from .conftest import PINS_DIR

# Which native thread pools a process has loaded depends on what ran in it (torch's OpenMP loads with the
# torch claim), so this one fingerprint field describes the parent process, not the results.
_PROCESS_LOCAL = ("created", "threads")


def _comparable(record):
    record = json.loads(json.dumps(dict(record)))   # a VerdictRecord or its JSON form
    for key in _PROCESS_LOCAL:
        record["environment"].pop(key, None)
    for entry in record["examples"]:
        entry.pop("seconds")
    return record


def test_parallel_record_is_the_sequential_record(full_check):
    pool = example_pool(2)
    try:
        parallel = runner.check([], PINS_DIR, pool=pool)
    finally:
        pool.shutdown()
    assert [e["example"] for e in parallel["examples"]] == registry.example_ids()
    assert _comparable(parallel) == _comparable(full_check)


def test_the_comparison_of_records_sees_a_changed_bit(full_check):
    changed = json.loads(json.dumps(full_check.as_dict()))
    row = next(r for r in changed["results"] if r["dtype"] == "float64" and r["shape"] == [])
    row["actual"] = row["actual"] * (1 + 2 ** -52)
    assert _comparable(changed) != _comparable(full_check)


def test_figures_drawn_ahead_are_the_report_s_own(tmp_path):
    from backprop_repro.render import report

    example_id = next(i for i in registry.example_ids() if registry.get(i).figures)
    pool = example_pool(2)
    try:
        from backprop_repro.render.figures_ahead import FiguresAhead

        ahead = FiguresAhead(pool)
        record = runner.check([example_id], PINS_DIR, pool=pool, on_example=ahead.submit)
        drawn = ahead.drawn()
    finally:
        pool.shutdown()
    assert drawn[example_id], "the example declares figures, so some were drawn"
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    report.write_report([record], tmp_path / "a", rendered=drawn)
    report.write_report([record], tmp_path / "b")
    assert (tmp_path / "a" / "index.html").read_bytes() == (tmp_path / "b" / "index.html").read_bytes()


def test_a_worker_that_dies_is_an_error_of_its_example(tmp_path, monkeypatch):
    (tmp_path / "dying_example.py").write_text("import os\n\ndef run():\n    os._exit(3)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    example = registry.Example("dying_example", "dying_example")
    pool = example_pool(2)
    try:
        [(seen, outcome)] = list(runner._outcomes([example], pool))
    finally:
        pool.shutdown()
    assert seen is example
    assert outcome.error and "died" in outcome.error and not outcome.quantities


@pytest.mark.parametrize("jobs", ["0", "-2"])
def test_jobs_below_one_is_bad_input(jobs, tmp_path, capsys):
    assert cli.main(["check", "feed_forward", "--jobs", jobs, "--out", str(tmp_path / "out")]) == 2
    assert f"--jobs {jobs}" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_check_cli_in_parallel_writes_the_same_results(tmp_path):
    ids = ["feed_forward", "toy_backprop", "notebook_332"]
    assert cli.main(["check", *ids, "--jobs", "1", "--quiet", "--out", str(tmp_path / "one")]) == 0
    assert cli.main(["check", *ids, "--jobs", "2", "--quiet", "--out", str(tmp_path / "two")]) == 0
    one, two = (json.loads((tmp_path / d / "results.json").read_text()) for d in ("one", "two"))
    assert _comparable(one) == _comparable(two)
