"""drift --cpu: the configurations planned for a CPU (NumPy 2.4+ and 1.26 feature names), and a real run."""

import csv
import json

import pytest

from repro import cpu_drift
from repro.cli import main

from .conftest import PINS_DIR

INFO_24 = {"numpy": "2.4.6", "machine": "x86_64", "baseline": ["X86_V2"],
           "dispatch": ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"],
           "features": {"X86_V2": True, "X86_V3": True, "X86_V4": True, "AVX512_ICL": True, "AVX512_SPR": False}}
INFO_126 = {"numpy": "1.26.4", "machine": "x86_64", "baseline": ["SSE", "SSE2", "SSE3"],
            "dispatch": ["SSSE3", "SSE41", "POPCNT", "SSE42", "AVX", "F16C", "FMA3", "AVX2", "AVX512F", "AVX512CD",
                         "AVX512_SKX", "AVX512_ICL"],
            "features": {"SSSE3": True, "SSE41": True, "POPCNT": True, "SSE42": True, "AVX": True, "F16C": True,
                         "FMA3": True, "AVX2": True, "AVX512F": True, "AVX512CD": True, "AVX512_SKX": True,
                         "AVX512_ICL": False}}


def test_plan_numpy_2_4_levels_disable_supported_targets_from_each_level_up():
    plan = dict(cpu_drift.plan(INFO_24))
    assert plan["numpy:native"] == {}
    assert plan["numpy:no-X86_V4"] == {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"}   # SPR unsupported here
    assert plan["numpy:no-X86_V3"] == {"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL"}
    assert plan["openblas:default"] == {"OPENBLAS_CORETYPE": None}
    assert {f"openblas:{c}" for c in cpu_drift.OPENBLAS_CORE_TYPES} <= set(plan)


def test_plan_numpy_1_26_feature_names():
    plan = dict(cpu_drift.plan(INFO_126))
    assert plan["numpy:no-AVX512F"] == {"NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX"}
    assert plan["numpy:no-AVX2"] == {"NPY_DISABLE_CPU_FEATURES": "AVX2 AVX512F AVX512CD AVX512_SKX"}


def test_plan_on_arm_has_no_x86_levels_or_openblas_core_types():
    info = {"numpy": "2.4.6", "machine": "aarch64", "baseline": ["NEON"], "dispatch": ["ASIMDHP", "ASIMDDP"],
            "features": {"ASIMDHP": True, "ASIMDDP": True}}
    assert cpu_drift.plan(info) == [("numpy:native", {})]


def test_drift_cpu_runs_every_configuration_and_writes_the_matrix(tmp_path, capsys):
    assert main(["drift", "--cpu", "feed_forward", "chain_rule", "--out", str(tmp_path), "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "cpu_drift.csv").read_text().splitlines()))
    configs = json.loads((tmp_path / "cpu_drift.json").read_text())["configurations"]
    assert {r["example"] for r in rows} == {"feed_forward", "chain_rule"} and len(configs) >= 2
    assert all(c["simd_targets"] for c in configs)     # what took effect is recorded
    assert all(r[c["name"]] != "" for r in rows for c in configs)
    assert "PASS: the default check holds under every configuration" in capsys.readouterr().out
    html = (tmp_path / "cpu_drift.html").read_text()
    assert "fd_gradients.0" in html and "SIMD targets in force" in html


@pytest.mark.slow
def test_drift_cpu_fails_when_a_pin_is_out_of_tolerance(tmp_path):
    pins = tmp_path / "pins"
    pins.mkdir()
    data = json.loads((PINS_DIR / "feed_forward.json").read_text())
    data["quantities"]["loss"]["value"] *= 1.001
    (pins / "feed_forward.json").write_text(json.dumps(data))
    assert main(["drift", "--cpu", "feed_forward", "--pins", str(pins), "--out", str(tmp_path / "o"), "--quiet"]) == 1


def test_drift_without_cpu_is_bad_input(tmp_path, capsys):
    assert main(["drift", "--out", str(tmp_path)]) == 2
    assert "--cpu" in capsys.readouterr().err
