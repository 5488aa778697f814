"""What a newcomer following the README met: --quiet on every command that prints, a missing --pins on list,
report of a `check --out` folder, the drift message, --pins with --project, the sweep verdict line, the check
summary of examples without claims, and the README's entry-point and fixture examples."""

import json
import re
import subprocess
import sys
import textwrap

import pytest

from backprop_repro.cli.program import build_parser, main
from backprop_repro.core import registry
from backprop_repro.render import console

from tests.conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")


def _subparsers():
    action = next(a for a in build_parser()._actions if a.dest == "command")
    return action.choices


def _quiet_help(command):
    parser = _subparsers()[command]
    found = [a for a in parser._actions if "--quiet" in a.option_strings]
    return found[0].help if found else None


@pytest.mark.parametrize("command", ["list", "check", "bench", "sweep", "report", "compare", "selftest", "drift",
                                     "notebook"])
def test_every_command_that_prints_takes_quiet(command):
    assert _quiet_help(command), f"{command} has no --quiet"


@pytest.mark.parametrize("command, says", [("list", "one line per example"), ("report", "stays"),
                                           ("compare", "stay"), ("check", "verdict line stay"),
                                           ("drift", "verdict line stay")])
def test_quiet_help_says_what_stays(command, says):
    assert says in _quiet_help(command)


def _one_error_line(err, *words):
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("backprop-repro: error: "), err
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


def test_list_quiet_is_one_line_per_example(capsys):
    assert main(["list", "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split(":")[0] for line in out] == registry.example_ids()
    assert main(["list"]) == 0
    assert "    policies:" in capsys.readouterr().out        # without --quiet the detail is there


@pytest.mark.parametrize("option", ["--pins", "--project"])
def test_list_with_a_missing_pin_folder_is_bad_input(capsys, tmp_path, option):
    missing = tmp_path / "missing" / "folder"
    assert main(["list", option, str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    _one_error_line(captured.err, f"{option} {missing}", "no such directory", "pass the folder")


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """A `check --out DIR` folder of one quick example (no claims, one printed value)."""
    out = tmp_path_factory.mktemp("checked")
    assert main(["check", "feed_forward", "--out", str(out), "--quiet", "--no-report", "--jobs", "1"]) == 0
    return out


def test_report_takes_the_folder_check_wrote(checked, tmp_path, capsys):
    capsys.readouterr()
    assert main(["report", str(checked), "--out", str(tmp_path / "a"), "--quiet"]) == 0
    assert capsys.readouterr().out.startswith(f"wrote {tmp_path / 'a' / 'index.html'}")   # --quiet keeps it
    assert "feed_forward" in (tmp_path / "a" / "index.html").read_text(encoding="utf-8")
    assert main(["report", str(checked / "results.json"), "--out", str(tmp_path / "b")]) == 0   # a file still works


def test_report_of_a_folder_without_a_record_is_bad_input(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["report", str(empty), "--out", str(tmp_path / "r")]) == 2
    _one_error_line(capsys.readouterr().err, str(empty), "without results.json", "check --out DIR")


def test_report_takes_a_folder_holding_one_sweep_file(tmp_path, capsys):
    assert main(["sweep", "xor_341", "--seeds", "20", "--out", str(tmp_path / "s"), "--quiet"]) == 0
    capsys.readouterr()
    assert main(["report", str(tmp_path / "s"), "--out", str(tmp_path / "r")]) == 0
    html = (tmp_path / "r" / "index.html").read_text(encoding="utf-8")
    assert "Seed sweep: xor_341" in html
    # the report words the few seeds' verdict as the console does: not the rule as the reason, the pin decides
    assert ("not-reproduced-statistically</b> (reproduced-statistically needs every printed output" in html
            and "What sets the exit code: against the pin (10000 seeds" in html)


def test_report_of_a_sweep_folder_takes_the_complete_sweep_beside_a_partial_one(tmp_path, capsys):
    """An interrupted sweep leaves sweep-ID.partial.json beside the complete sweep-ID.json: the folder's record is
    still the complete one (two others are still ambiguous)."""
    folder = tmp_path / "s"
    assert main(["sweep", "xor_341", "--seeds", "20", "--out", str(folder), "--quiet"]) == 0
    record = json.loads((folder / "sweep-xor_341.json").read_text())
    record["sweeps"][0]["partial"] = True
    (folder / "sweep-xor_341.partial.json").write_text(json.dumps(record))
    capsys.readouterr()
    assert main(["report", str(folder), "--out", str(tmp_path / "r"), "--quiet"]) == 0
    (folder / "sweep-other.json").write_text(json.dumps(record))
    assert main(["report", str(folder), "--out", str(tmp_path / "r2")]) == 2
    _one_error_line(capsys.readouterr().err, "with 2 sweep files")


def test_drift_without_cpu_says_what_to_pass(capsys):
    """The message was already clear (kept as it was): it names --cpu and, for drift across environments, compare."""
    assert main(["drift", "xor_341"]) == 2
    _one_error_line(capsys.readouterr().err, "give --cpu", "backprop-repro compare RESULTS")


@pytest.mark.parametrize("command", [["check", "feed_forward", "--no-report"], ["list"], ["pins", "update"],
                                     ["sweep", "xor_341", "--seeds", "2"]])
def test_pins_with_project_is_bad_input(tmp_path, capsys, command):
    """--pins used to win silently over --project; both at once is bad input before anything runs (the folders
    are temporary: were the check gone, `pins update` would write there, not into the project's pins)."""
    pins, project = tmp_path / "pins", tmp_path / "project"
    pins.mkdir()
    (project / "expected_outputs").mkdir(parents=True)
    args = [*command, "--pins", str(pins), "--project", str(project)]
    if command[0] not in ("list", "pins"):
        args += ["--out", str(tmp_path / "o")]
    assert main(args) == 2
    captured = capsys.readouterr()
    _one_error_line(captured.err, f"--pins {pins} with --project {project}", "give one")
    assert captured.out == "" and not (tmp_path / "o").exists() and not any(pins.iterdir())


def test_project_alone_uses_its_expected_outputs(tmp_path, capsys):
    """--project DIR reads DIR/expected_outputs: an empty one makes every quantity a missing pin (exit 1)."""
    (tmp_path / "expected_outputs").mkdir()
    out = ["--out", str(tmp_path / "o"), "--quiet", "--no-report", "--jobs", "1"]
    assert main(["check", "feed_forward", "--project", str(ROOT), *out]) == 0
    assert main(["check", "feed_forward", "--project", str(tmp_path), *out]) == 1
    assert "MISSING-PIN feed_forward" in capsys.readouterr().out


def _verdict_line(out):
    return next(line for line in out.splitlines() if "verdict" in line and "against the pin" not in line)


@pytest.mark.parametrize("seeds", ["20", "3"])
def test_sweep_verdict_of_few_seeds_does_not_contradict_the_exit_code(tmp_path, capsys, seeds):
    """With few seeds xor_341's sample says not-reproduced while the pin comparison passes (exit 0): the line
    must not state the rule for "reproduced" as the reason for "not reproduced", and must say what sets the exit."""
    assert main(["sweep", "xor_341", "--seeds", seeds, "--out", str(tmp_path), "--quiet"]) == 0
    line = _verdict_line(capsys.readouterr().out)
    assert line.startswith(f"  verdict of these {seeds} seeds: not-reproduced-statistically (reproduced-"
                           f"statistically needs every printed output between the 1st and 99th percentile"), line
    assert line.endswith("the pin line below sets the exit code")
    record = json.loads((tmp_path / "sweep-xor_341.json").read_text())
    assert record["exit_status"] == 0 and record["sweeps"][0]["verdict"] == "not-reproduced-statistically"


def _sweep_stats(verdict, n=10000):
    rules = {"no-printed-values": "the document's printed values are lost: only the method's behaviour is reported"}
    return {"backend": {"name": "numpy"}, "n_seeds": n, "iterations": 1500, "seconds": 1.0, "partial": False,
            "convergence": {}, "failures": {}, "verdict": verdict,
            "verdict_rule": rules.get(verdict, "every printed output between the 1st and 99th percentile of its "
                                               "output over seeds")}


def test_sweep_verdict_reproduced_says_the_pin_line_decides(capsys):
    """"reproduced" can stand beside a statistic out of its bound (exit 1): the line says it is the sample's."""
    console.sweep_summary("xor_341", _sweep_stats("reproduced-statistically", 1), 1, None)
    line = _verdict_line(capsys.readouterr().out)
    assert line == ("  verdict of these 1 seed: reproduced-statistically (every printed output between the 1st and "
                    "99th percentile of its output over seeds); the pin line below sets the exit code")
    console.sweep_summary("cavar_hidden_layer", _sweep_stats("no-printed-values", 200), 200, None)
    assert _verdict_line(capsys.readouterr().out) == ("  verdict: no-printed-values (the document's printed values "
                                                      "are lost: only the method's behaviour is reported)")


def _check_record(claims=(), document_values=()):
    return {"environment": {}, "examples": [], "results": [], "document_values": list(document_values),
            "claims": list(claims)}


def test_check_summary_without_claims_or_printed_values(capsys):
    console.check_summary(_check_record())
    out = capsys.readouterr().out
    assert "claims: none for the examples checked\n" in out
    assert "document values: none printed for the examples checked\n" in out
    assert "0 checked" not in out and "0 of 0" not in out


def test_check_summary_without_claims_end_to_end(tmp_path, capsys):
    """feed_forward has no claims: the summary line was "claims: 0 checked: ; every verdict as reviewed"."""
    assert main(["check", "feed_forward", "--out", str(tmp_path), "--quiet", "--no-report", "--jobs", "1"]) == 0
    out = capsys.readouterr().out
    assert "claims: none for the examples checked" in out and "checked: ;" not in out


# --- the README's examples, against the code ---------------------------------------------------------------------

def test_readme_entry_point_header_names_the_registry_group():
    """The TOML a third party copies must declare the group the registry reads (its dot quoted in the header)."""
    import tomllib

    from backprop_repro.core.registry import ENTRY_POINT_GROUP

    header = re.search(r"`(\[project\.entry-points\.[^`]*\])`", README)
    entry = re.search(r'`(\w+ = "[\w.]+")`', README[header.start():])
    assert header and entry, "README: no entry-point header and entry for third-party examples"
    parsed = tomllib.loads(f"{header.group(1)}\n{entry.group(1)}\n")
    groups = parsed["project"]["entry-points"]
    assert list(groups) == [ENTRY_POINT_GROUP] and all(isinstance(v, str) for v in groups[ENTRY_POINT_GROUP].values())
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "pytest11" in pyproject["project"]["entry-points"]     # the same table form the project itself uses


def test_readme_fixture_file_name_is_where_the_plugin_writes(tmp_path):
    """The README's `tests/test_fit.py` -> `tests/test_fit/test_training.json`, checked by running pytest."""
    said = re.search(r"For `(tests/(\w+)\.py)`.{0,80}?writes `(tests/\w+/(\w+)\.json)`", README, re.S)
    assert said, "README: the fixture's file-name example is missing"
    test_file, stem, pin, test_name = said.group(1), said.group(2), said.group(3), said.group(4)
    (tmp_path / "tests").mkdir()
    (tmp_path / test_file).write_text(textwrap.dedent(f"""
        def {test_name}(repro_regression):
            repro_regression.check({{"w": 1.5}})
    """))
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_file], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stdout + run.stderr      # the first run writes the pin and fails, for review
    assert (tmp_path / pin).is_file(), sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*.json"))
    assert stem in pin


def test_pins_update_quiet_prints_only_what_changed(tmp_path, capsys):
    import shutil

    pins = tmp_path / "pins"
    shutil.copytree(ROOT / "expected_outputs", pins)
    assert main(["pins", "update", "feed_forward", "--pins", str(pins)]) == 0
    assert "feed_forward: unchanged" in capsys.readouterr().out
    assert main(["pins", "update", "feed_forward", "--pins", str(pins), "--quiet"]) == 0
    assert capsys.readouterr().out == ""                        # an unchanged pin: no line
    (pins / "feed_forward.json").unlink()
    assert main(["pins", "update", "feed_forward", "--pins", str(pins), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "feed_forward.json: changed" in out and "1 pin file(s) changed: feed_forward" in out   # a new pin stays


@pytest.mark.parametrize("argv, says", [(["notebook"], "the following arguments are required: PATH"),
                                        (["check", "--jobs", "x"], "invalid int value: 'x'"),
                                        ([], "required: COMMAND"), (["nosuch"], "invalid choice: 'nosuch'"),
                                        (["check", "--bogus"], "check: unrecognized arguments: --bogus (see "
                                                               "`backprop-repro check --help`)")])
def test_a_usage_error_is_one_line_naming_the_help(capsys, argv, says):
    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and says in err and "--help`)" in err and "usage:" not in err
