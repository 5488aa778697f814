"""What the report and the console say about printed values, settings, claims and new pins (issue 18)."""

import re
from types import SimpleNamespace

import pytest

from backprop_repro.render.report import write_report


def _value(actual, printed, outcome="reproduced", expected="reproduced"):
    return {"id": f"nb:w@{printed}", "example": "notebook_332", "quantity": "final_hidden_weights", "index": [0, 0],
            "document": "002", "section": "s", "printed": printed, "actual": actual, "policy": "printed",
            "abs_error": abs(actual - float(printed)), "outcome": outcome, "expected_outcome": expected,
            "status": "pass" if outcome == expected else "fail", "note": ""}


def _claim(cid, status, verdict="reproduced", expected="reproduced", note="n"):
    return {"id": cid, "document": "001", "section": "s", "claim": "c", "predicate": "p", "measured": 1.0,
            "verdict": verdict, "expected_verdict": expected, "status": status, "note": note}


def _record(document_values, claims=(), settings_now=None):
    env = {"python": "3.11.7", "numpy": "2.4.6", "platform": "Linux", "cpu": "cpu", "simd": ["AVX2"],
           "blas": "openblas", "git_commit": "abc", "created": "2026-11-24T00:00:00+00:00"}
    if settings_now is not None:
        env["differs_from_pins"] = {"settings": {"now": settings_now,
                                                 "pins": {"OPENBLAS_CORETYPE=Haswell": ["notebook_332"]}}}
    return {"schema_version": 1, "environment": env,
            "examples": [{"example": "notebook_332", "documents": ["002"], "section": "s", "summary": "nb",
                          "seconds": 0.1, "warnings": [], "expected_warnings": [], "warnings_status": "pass"}],
            "results": [], "document_values": list(document_values), "claims": list(claims), "exit_status": 0}


def _report(tmp_path, name, record):
    (tmp_path / name).mkdir()
    return write_report([record], tmp_path / name).read_text()


def _fresh_cells(html):
    return re.findall(r'<td class="num" title="[^"]*">([^<]*)</td>', html)


def test_report_shows_the_fresh_value_at_the_printed_decimals(tmp_path):
    html = _report(tmp_path, "a", _record([_value(0.7853585414053265, "0.78535854")], settings_now={}))
    assert set(_fresh_cells(html)) == {"0.78535854"} and "0.7854<" not in html
    assert 'title="0.7853585414053265"' in html                       # the full value on hover
    moved = _report(tmp_path, "b", _record([_value(0.78535856, "0.78535854", "not-reproduced")]))
    assert set(_fresh_cells(moved)) == {"0.78535856"}                 # a changed last digit shows


def test_report_settings_and_plural(tmp_path):
    one = _report(tmp_path, "a", _record([_value(0.5, "0.5")], settings_now={}))
    assert "settings: now none;" in one and "1 printed document value</summary>" in one
    two = _report(tmp_path, "b", _record([_value(0.5, "0.5"), _value(0.25, "0.25")],
                                         settings_now={"OPENBLAS_CORETYPE": "Zen"}))
    assert "settings: now OPENBLAS_CORETYPE=Zen;" in two and "2 printed document values</summary>" in two


def test_console_document_values_line(capsys):
    from backprop_repro.render import console

    console.check_summary(_record([_value(0.5, "0.5")]))
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("document values"))
    assert line == "document values: 1 of 1 reproduced at printed precision, 0 differ from the reviewed outcome"
    console.check_summary(_record([_value(0.5, "0.5"), _value(0.7, "0.6", "not-reproduced", "not-reproduced"),
                                   _value(0.9, "0.8", "not-reproduced")]))
    out = capsys.readouterr().out
    assert ("document values: 1 of 3 reproduced at printed precision (1 not reproduced, as reviewed), 1 differ "
            "from the reviewed outcome") in out
    assert "FAIL 002 notebook_332:final_hidden_weights[0, 0]: printed 0.8" in out


def test_console_lists_an_unavailable_claim_once_and_a_changed_one_still(capsys):
    from backprop_repro.render import console

    claims = [_claim("toy:torch", "unavailable", "unavailable", "reproduced", note="torch is not installed"),
              _claim("toy:loss", "fail", "not-reproduced", "reproduced", note="loss rose")]
    console.check_summary(_record([], claims))
    out = capsys.readouterr().out
    assert out.count("torch is not installed") == 1 and "unavailable: claim toy:torch" in out
    assert "FAIL claim toy:loss: not-reproduced (reviewed reproduced): loss rose" in out


@pytest.mark.parametrize("changed", [["toy_backprop"], []])
def test_pins_update_says_how_to_see_a_changed_pin(capsys, changed):
    from backprop_repro.render import console

    observations = [SimpleNamespace(subject=s, status="fail") for s in changed]
    console.pins_update_summary(SimpleNamespace(observations=observations), "expected_outputs", True)
    out = capsys.readouterr().out
    assert ("`git -C expected_outputs diff -- .`" in out) == bool(changed)


def test_pins_update_where_git_does_not_track_the_changed_pins_does_not_send_the_user_to_git(capsys, tmp_path,
                                                                                             monkeypatch):
    import subprocess

    from backprop_repro.cli.pins import git_tracks
    from backprop_repro.render import console

    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))    # whatever holds tmp_path: git stops
    pins = tmp_path / "sp ace" / "pins"
    pins.mkdir(parents=True)
    for name in ("toy_backprop.json", "losses.json"):
        (pins / name).write_text("{}")
    assert not git_tracks(pins, ["toy_backprop.json"])                # not a work tree
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert not git_tracks(pins, ["toy_backprop.json"])                # a work tree, the pin untracked: no diff
    subprocess.run(["git", "-C", str(tmp_path), "add", "sp ace/pins/losses.json"], check=True)
    assert not git_tracks(pins, ["toy_backprop.json"])                # its neighbour tracked, not it
    assert git_tracks(pins, ["losses.json"])
    elsewhere = tmp_path.parent / f"{tmp_path.name}-elsewhere"         # out of git, its names as in the index
    elsewhere.mkdir()
    monkeypatch.setenv("GIT_DIR", str(tmp_path / ".git"))             # a hook's GIT_DIR answers for its own index
    assert not git_tracks(elsewhere, ["sp ace/pins/losses.json"])
    record = SimpleNamespace(observations=[SimpleNamespace(subject="toy_backprop", status="fail")])
    console.pins_update_summary(record, pins, False)
    out = capsys.readouterr().out
    assert "toy_backprop" in out and "git does not track them" in out and "git -C" not in out
    console.pins_update_summary(record, pins, True)      # quoted: a path with a space is one argument
    assert f"`git -C '{pins}' diff -- .`" in capsys.readouterr().out


def test_an_environment_note_says_how_the_run_judged_strict_or_not(capsys):
    from backprop_repro.render import console

    record = {"environment": {"differs_from_pins": {"cpu": {"now": "Intel", "pins": {"AMD": ["xor_341"]}}}}}
    for strict, said in ((True, "compared bitwise all the same (--strict)"), (False, "judged by the policies")):
        console._environment_notes({**record, "strict": strict})
        out = capsys.readouterr().out
        assert "pins were made under AMD (xor_341)" in out and said in out


def test_the_history_console_counts_one_run_in_the_singular():
    from backprop_repro.render.history import console_lines

    lines = console_lines({"rows": [{}], "changes": {}, "verdict_changes": {}, "notebooks": [{}], "sweeps": []})
    assert "no quantity's bits changed (1 run of quantities compared)" in lines, lines
    assert "no notebook's verdict changed (1 run of notebooks compared)" in lines, lines
