"""The report renders from fixture results (pass, fail, missing, NaN), escapes, writes CSVs; drift matrix;
and a real browser opens it from disk."""

import copy
import json
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from backprop_repro.cli.commands import main
from backprop_repro.render.report import write_report


def _row(example, quantity, status, actual, expected, policy="exact", dtype="float64", message=""):
    return {"example": example, "quantity": quantity, "dtype": dtype, "shape": [len(actual)] if actual else [],
            "actual": actual, "expected": expected, "policy": policy, "reason": "r", "max_abs_error": 0.0,
            "max_rel_error": 0.0, "max_ulp": 0, "n_mismatch": 0, "status": status, "message": message}


@pytest.fixture
def record():
    return {
        "schema_version": 1,
        "environment": {"python": "3.11.7", "numpy": "2.4.6", "platform": "Linux", "cpu": "cpu", "simd": ["AVX2"],
                        "blas": "openblas", "git_commit": "abc", "created": "2026-11-24T00:00:00+00:00"},
        "examples": [{"example": "toy_backprop", "documents": ["000"], "section": "s", "summary": "toy",
                      "seconds": 0.1, "warnings": [], "expected_warnings": [], "warnings_status": "pass",
                      "figures": [{"caption": "loss curve", "title": "t", "xlabel": "epoch", "ylabel": "MSE",
                                   "series": [["loss", "losses"]], "x": None, "logx": False, "logy": False}]},
                     {"example": "learning_rate", "documents": ["001"], "section": "s", "summary": "lr",
                      "seconds": 0.1, "warnings": [], "expected_warnings": [], "warnings_status": "pass"}],
        "results": [
            _row("toy_backprop", "losses", "pass", [0.33, 0.2, 0.1], [0.33, 0.2, 0.1]),
            _row("toy_backprop", "final_weights.0", "fail", [1.0], [2.0], message="1 of 1 elements outside exact"),
            _row("toy_backprop", "prediction", "missing-pin", [0.5], None),
            _row("learning_rate", "lr=1/weight_trace", "fail", [None, 1.0], [1.0, 1.0], message="NaN present"),
            _row("learning_rate", "<script>alert(1)</script>", "pass", [1.0], [1.0]),
        ],
        "document_values": [],
        "claims": [{"id": "c1", "document": "001", "section": "s", "claim": "loss <b>falls</b>", "predicate": "p",
                    "measured": 0.5, "verdict": "not-reproduced", "expected_verdict": "not-reproduced",
                    "status": "pass", "note": "because"}],
        "exit_status": 1,
    }


def test_report_renders_pass_fail_missing_nan(tmp_path, record):
    index = write_report([record], tmp_path)
    html = index.read_text()
    assert 'id="summary"' in html and 'id="toy_backprop"' in html and 'id="learning_rate"' in html
    assert "1 pass" in html or "2 pass" in html
    assert "missing-pin" in html and "NaN present" in html
    assert "data:image/png;base64," in html          # the toy loss curve, inline
    assert "<script" not in html.replace("&lt;script", "")   # self-contained, nothing executable
    assert "http://" not in html and "https://" not in html


def test_markup_in_names_appears_as_text(tmp_path, record):
    html = write_report([record], tmp_path).read_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "loss &lt;b&gt;falls&lt;/b&gt;" in html


def test_csv_columns_and_row_counts(tmp_path, record):
    write_report([record], tmp_path)
    comparison = pd.read_csv(tmp_path / "comparison.csv")
    assert list(comparison.columns[:6]) == ["example", "quantity", "dtype", "shape", "policy", "status"]
    assert len(comparison) == len(record["results"])
    assert len(pd.read_csv(tmp_path / "claims.csv")) == len(record["claims"])


def test_report_command_reads_stored_results_only(tmp_path, record, capsys):
    path = tmp_path / "results.json"
    path.write_text(json.dumps(record))
    assert main(["report", str(path), "--out", str(tmp_path / "r")]) == 0
    assert (tmp_path / "r" / "index.html").stat().st_size < 3 * 2 ** 20


@pytest.mark.parametrize("content,needle", [("{}", "schema_version"), ('{"schema_version": 2}', "schema_version is 2"),
                                            ("not json", "not valid JSON")])
def test_bad_results_file_exits_2(tmp_path, capsys, content, needle):
    path = tmp_path / "results.json"
    path.write_text(content)
    for command in (["report", str(path)], ["compare", str(path), str(path)]):
        assert main(command + ["--out", str(tmp_path / "o")]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and needle in err and err.count("\n") == 1


def test_drift_matrix_identical_ulp_and_out_of_tolerance(tmp_path, record, capsys):
    import numpy as np
    other = copy.deepcopy(record)
    other["environment"]["numpy"] = "1.26.4"
    other["results"][0]["actual"] = [float(np.nextafter(0.33, 1)), 0.2, 0.1]
    other["results"][0]["policy"] = "ulp:4"
    record["results"][0]["policy"] = "ulp:4"
    other["results"][1]["actual"] = [1.5]
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "results.json").write_text(json.dumps(record))
    (b / "results.json").write_text(json.dumps(other))
    assert main(["compare", str(a), str(b), "--out", str(tmp_path / "d")]) == 1
    drift = pd.read_csv(tmp_path / "d" / "drift.csv")
    column = drift.columns[-1]
    assert drift[column].iloc[0] == "1 ULP"
    assert drift[column].iloc[1].startswith("out of tolerance")
    assert "numpy" in (tmp_path / "d" / "drift.html").read_text()


def _browser():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if shutil.which(name):
            return shutil.which(name)
    return None


@pytest.mark.skipif(_browser() is None, reason="no Chromium here (Debian package `chromium`; .ci/run installs it)")
def test_report_in_a_real_browser(tmp_path, full_check):
    record = full_check
    out = tmp_path / "report"
    out.mkdir()
    index = write_report([record], out)
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = index.resolve().as_uri()
    dom = subprocess.run([_browser(), *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console_errors = [line for line in dom.stderr.splitlines() if "CONSOLE" in line and "ERROR" in line.upper()]
    assert not console_errors, console_errors
    assert 'id="summary"' in dom.stdout and 'class="ledger"' in dom.stdout
    assert "(as reviewed)" in dom.stdout and 'class="not-reproduced"' in dom.stdout   # reviewed, not red
    assert 'class="regressed"' not in dom.stdout                                       # nothing regressed here
    assert dom.stdout.count("data:image/png;base64,") >= 6    # every declared figure, pinned beside fresh
    for example in record["examples"]:
        assert f'id="{example["example"]}"' in dom.stdout, example["example"]
    artifacts = os.environ.get("BACKPROP_REPRO_ARTIFACTS", str(tmp_path))
    os.makedirs(artifacts, exist_ok=True)
    shot = os.path.join(artifacts, "report-screenshot.png")
    subprocess.run([_browser(), *flags, "--window-size=1280,2400", f"--screenshot={shot}", url],
                   capture_output=True, text=True, timeout=120, check=True)
    assert os.path.getsize(shot) > 10_000
    assert re.search(r"\d+ pass", dom.stdout)
