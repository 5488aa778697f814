"""drift --cpu: the configurations planned for a CPU (NumPy 2.4+ and 1.26 feature names, x86-64 with and
without AVX-512, arm64, a user's NumPy variables), what cannot run skipped with its reason, a child killed by a
signal, and real runs."""

import csv
import json
import signal
import subprocess
import sys

import pytest

from backprop_repro.sources import cpu_drift
from backprop_repro.cli.commands import main
from backprop_repro.core.errors import BadInput, RunFailed

from .conftest import PINS_DIR

OPENBLAS = {"internal_api": "openblas", "architecture": "Haswell", "name": "scipy-openblas"}
INFO_24 = {"numpy": "2.4.6", "machine": "x86_64", "baseline": ["X86_V2"],
           "dispatch": ["X86_V3", "X86_V4", "AVX512_ICL", "AVX512_SPR"],
           "features": {"SSE3": True, "SSSE3": True, "SSE41": True, "SSE42": True, "POPCNT": True, "AVX": True,
                        "AVX2": True, "FMA3": True, "AVX512F": True, "AVX512CD": True, "AVX512BW": True,
                        "AVX512DQ": True, "AVX512VL": True, "X86_V2": True, "X86_V3": True, "X86_V4": True,
                        "AVX512_ICL": True, "AVX512_SPR": False},
           "blas": OPENBLAS, "cpu_flags": None}
#: A 2-core AMD EPYC with AVX2 and no AVX-512, as CI machines often are.
INFO_AVX2 = {**INFO_24, "features": {**INFO_24["features"], "AVX512F": False, "AVX512CD": False, "AVX512BW": False,
                                     "AVX512DQ": False, "AVX512VL": False, "X86_V4": False, "AVX512_ICL": False}}
INFO_126 = {"numpy": "1.26.4", "machine": "x86_64", "baseline": ["SSE", "SSE2", "SSE3"],
            "dispatch": ["SSSE3", "SSE41", "POPCNT", "SSE42", "AVX", "F16C", "FMA3", "AVX2", "AVX512F", "AVX512CD",
                         "AVX512_SKX", "AVX512_ICL"],
            "features": {"SSE3": True, "SSSE3": True, "SSE41": True, "POPCNT": True, "SSE42": True, "AVX": True,
                         "F16C": True, "FMA3": True, "AVX2": True, "AVX512F": True, "AVX512CD": True,
                         "AVX512BW": True, "AVX512DQ": True, "AVX512VL": True, "AVX512_SKX": True,
                         "AVX512_ICL": False},
            "blas": OPENBLAS, "cpu_flags": None}
#: arm64 Linux (Neoverse N1: fp16 and dot product, no SVE).
INFO_ARM = {"numpy": "2.4.6", "machine": "aarch64", "baseline": ["NEON", "NEON_FP16", "NEON_VFPV4", "ASIMD"],
            "dispatch": ["ASIMDHP", "ASIMDDP", "ASIMDFHM", "SVE"],
            "features": {"NEON": True, "ASIMD": True, "ASIMDHP": True, "ASIMDDP": True, "ASIMDFHM": False,
                         "SVE": False},
            "blas": {"internal_api": "openblas", "architecture": "neoversen1", "name": "scipy-openblas"},
            "cpu_flags": ["fp", "asimd", "asimdhp", "asimddp"]}


def _plan(info, environ=None):
    return {name: (asked, reason) for name, asked, reason in cpu_drift.plan(info, environ or {})}


def test_plan_numpy_2_4_levels_disable_supported_targets_from_each_level_up():
    plan = _plan(INFO_24)
    assert plan["numpy:native"] == ({}, None)
    assert plan["numpy:no-X86_V4"] == ({"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"}, None)  # SPR unsupported
    assert plan["numpy:no-X86_V3"] == ({"NPY_DISABLE_CPU_FEATURES": "X86_V3 X86_V4 AVX512_ICL"}, None)
    for core in cpu_drift.OPENBLAS_CORE_TYPES["x86_64"]:     # this CPU has AVX-512: every core type runs
        assert plan[f"openblas:{core}"] == ({"OPENBLAS_CORETYPE": core}, None)
    assert "SkylakeX" in cpu_drift.OPENBLAS_CORE_TYPES["x86_64"]


def test_plan_numpy_1_26_feature_names():
    plan = _plan(INFO_126)
    assert plan["numpy:no-AVX512F"] == ({"NPY_DISABLE_CPU_FEATURES": "AVX512F AVX512CD AVX512_SKX"}, None)
    assert plan["numpy:no-AVX2"] == ({"NPY_DISABLE_CPU_FEATURES": "AVX2 AVX512F AVX512CD AVX512_SKX"}, None)
    assert plan["openblas:SkylakeX"][1] is None


@pytest.mark.parametrize("info", [INFO_AVX2, {**INFO_126, "features": {**INFO_126["features"], "AVX512F": False,
                                                                    "AVX512_SKX": False, "AVX512BW": False}}],
                         ids=["numpy-2.4", "numpy-1.26"])
def test_plan_without_avx512_skips_skylakex_and_its_simd_level_with_the_reason(info):
    plan = _plan(info)
    asked, reason = plan["openblas:SkylakeX"]
    assert asked == {"OPENBLAS_CORETYPE": "SkylakeX"}
    assert reason.startswith("its kernels need AVX512F") and reason.endswith("which this CPU lacks")
    level = "X86_V4" if "X86_V4" in info["dispatch"] else "AVX512F"
    assert plan[f"numpy:no-{level}"][1] == f"this CPU lacks {level}: the same as numpy:native"
    runnable = {name for name, (_, why) in plan.items() if why is None}
    assert {"openblas:Haswell", "openblas:Zen", "openblas:Sandybridge", "openblas:Nehalem", "numpy:native"} <= runnable


def test_plan_skips_each_x86_core_type_whose_features_this_cpu_lacks(monkeypatch):
    monkeypatch.setitem(cpu_drift.OPENBLAS_CORE_TYPES, "x86_64", tuple(cpu_drift.OPENBLAS_REQUIRES["x86_64"]))
    nehalem_only = {**INFO_AVX2, "dispatch": [], "features": {**INFO_AVX2["features"], "AVX": False, "AVX2": False,
                                                               "FMA3": False}}
    plan = _plan(nehalem_only)
    assert {n for n, (_, why) in plan.items() if why is None and n.startswith("openblas:")} == {
        "openblas:Prescott", "openblas:Core2", "openblas:Nehalem"}
    assert plan["openblas:Sandybridge"][1] == "its kernels need AVX, which this CPU lacks"
    assert plan["openblas:Haswell"][1] == "its kernels need AVX AVX2 FMA3, which this CPU lacks"
    assert "AVX512F" in plan["openblas:Cooperlake"][1] and "AVX512F" in plan["openblas:SkylakeX"][1]
    # AMX is not a NumPy feature: /proc/cpuinfo answers, and without it the type is skipped as unknown
    amx = ["amx_tile", "amx_bf16", "avx512_bf16", "avx512_vnni", "avx512_fp16"]
    spr = {**INFO_24, "features": {**INFO_24["features"], "AVX512VNNI": True, "AVX512BF16": True,
                                   "AVX512FP16": True}}
    assert _plan({**spr, "cpu_flags": amx})["openblas:SapphireRapids"][1] is None
    assert _plan({**spr, "cpu_flags": amx[2:]})["openblas:SapphireRapids"][1] == (
        "its kernels need AMX_TILE AMX_BF16, which this CPU lacks")
    assert "neither NumPy nor /proc/cpuinfo" in _plan({**spr, "cpu_flags": None})["openblas:SapphireRapids"][1]


def test_a_users_npy_disable_is_kept_everywhere_and_its_features_count_as_absent():
    environ = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR"}
    plan = _plan(INFO_24, environ)
    assert plan["numpy:native"] == ({"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"}, None)
    assert plan["numpy:no-X86_V4"][1] == "NPY_DISABLE_CPU_FEATURES turns X86_V4 off already: the same as numpy:native"
    assert plan["numpy:no-X86_V3"] == ({"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL X86_V3"}, None)
    asked, reason = plan["openblas:SkylakeX"]
    assert reason == ("its kernels need AVX512F AVX512CD AVX512BW AVX512DQ AVX512VL, which NPY_DISABLE_CPU_FEATURES "
                      "turns off (X86_V4 AVX512_ICL); taken as absent")
    assert plan["openblas:Haswell"] == ({"OPENBLAS_CORETYPE": "Haswell", "NPY_DISABLE_CPU_FEATURES":
                                         "X86_V4 AVX512_ICL"}, None)
    # NPY_ENABLE_CPU_FEATURES keeps only what it names: the same CPU without AVX-512
    enabled = _plan(INFO_24, {"NPY_ENABLE_CPU_FEATURES": "X86_V3"})
    assert enabled["numpy:native"][0] == {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"}
    assert "NPY_ENABLE_CPU_FEATURES turns off" in enabled["openblas:SkylakeX"][1]


@pytest.mark.parametrize("environ, says", [
    ({"NPY_DISABLE_CPU_FEATURES": "X86_V2 X86_V4"}, "NPY_DISABLE_CPU_FEATURES names X86_V2, part of NumPy's baseline"),
    ({"NPY_DISABLE_CPU_FEATURES": "X86_V4", "NPY_ENABLE_CPU_FEATURES": "X86_V3"}, "both set"),
])
def test_a_users_npy_variable_numpy_refuses_is_bad_input(environ, says):
    with pytest.raises(BadInput, match=says):
        cpu_drift.plan(INFO_24, environ)


def test_openblas_default_runs_only_when_the_caller_forces_a_core_type():
    assert _plan(INFO_24)["openblas:default"] == ({"OPENBLAS_CORETYPE": None},
                                                  "OPENBLAS_CORETYPE is not set: the same as numpy:native")
    assert _plan(INFO_24, {"OPENBLAS_CORETYPE": "Haswell"})["openblas:default"] == ({"OPENBLAS_CORETYPE": None}, None)


def test_plan_on_arm64_runs_the_kernels_this_cpu_has():
    plan = _plan(INFO_ARM)
    assert [n for n in plan if n.startswith("numpy:")] == ["numpy:native"]      # no x86 levels
    assert plan["openblas:armv8"] == ({"OPENBLAS_CORETYPE": "armv8"}, None)
    assert plan["openblas:neoversen1"][1] is None
    assert plan["openblas:neoversev1"][1] == "its kernels need SVE, which this CPU lacks"
    assert not any(n in plan for n in ("openblas:SkylakeX", "openblas:Haswell"))
    a72 = {**INFO_ARM, "features": {**INFO_ARM["features"], "ASIMDHP": False, "ASIMDDP": False}}
    assert _plan(a72)["openblas:neoversen1"][1] == "its kernels need ASIMDHP ASIMDDP, which this CPU lacks"
    assert _plan({**INFO_ARM, "features": {**INFO_ARM["features"], "SVE": True}})["openblas:neoversev1"][1] is None


def test_plan_without_openblas_or_on_another_machine_skips_the_core_types_with_the_reason():
    accelerate = _plan({**INFO_ARM, "machine": "arm64", "blas": {"internal_api": None, "architecture": None,
                                                                  "name": "accelerate"}})
    assert accelerate["openblas:armv8"][1] == ("NumPy's BLAS is accelerate, not OpenBLAS: OPENBLAS_CORETYPE has no "
                                               "effect")
    assert {why for n, (_, why) in accelerate.items() if n.startswith("openblas:")} == {accelerate["openblas:armv8"][1]}
    assert _plan({**INFO_ARM, "machine": "ppc64le", "dispatch": []}) == {
        "numpy:native": ({}, None), "openblas:*": ({}, "no OpenBLAS core types are listed for ppc64le")}


def test_cpuinfo_flags_from_x86_and_arm_layouts(tmp_path):
    (tmp_path / "x86").write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n\nprocessor\t: 1\nflags\t: fpu\n")
    (tmp_path / "arm").write_text("processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd sve\n")
    assert cpu_drift._cpuinfo_flags(tmp_path / "x86") == ["fpu", "sse", "avx2", "avx512f"]
    assert cpu_drift._cpuinfo_flags(tmp_path / "arm") == ["fp", "asimd", "sve"]
    assert cpu_drift._cpuinfo_flags(tmp_path / "absent") is None


#: The CPU without AVX-512, reduced to two core types so that the real runs stay short.
INFO_SMALL = {**INFO_AVX2, "dispatch": []}


def _dying(monkeypatch, which, sig):
    """Children whose environment ``which`` accepts die of ``sig`` for real; the others run the check."""
    real = cpu_drift._run_check

    def run(cmd, env):
        if which(env):
            return real([sys.executable, "-c", f"import os; os.kill(os.getpid(), {int(sig)})"], env)
        return real(cmd, env)

    monkeypatch.setattr(cpu_drift, "_run_check", run)


@pytest.fixture
def small(monkeypatch):
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.setitem(cpu_drift.OPENBLAS_CORE_TYPES, "x86_64", ("SkylakeX", "Nehalem"))
    monkeypatch.setattr(cpu_drift, "numpy_cpu_info", lambda: INFO_SMALL)


def test_a_forced_configuration_killed_by_a_signal_is_skipped_with_the_signal_named(tmp_path, capsys, monkeypatch,
                                                                                     small):
    _dying(monkeypatch, lambda env: env.get("OPENBLAS_CORETYPE") == "Nehalem", signal.SIGILL)
    assert main(["drift", "--cpu", "feed_forward", "--out", str(tmp_path), "--quiet"]) == 0
    record = json.loads((tmp_path / "cpu_drift.json").read_text())
    assert [c["name"] for c in record["configurations"]] == ["numpy:native"]
    skipped = {s["name"]: s for s in record["skipped"]}
    assert skipped["openblas:Nehalem"]["signal"] == "SIGILL"
    assert skipped["openblas:Nehalem"]["reason"] == ("killed by SIGILL: not runnable here (an instruction this CPU "
                                                     "lacks)")
    assert skipped["openblas:SkylakeX"]["reason"].endswith("which this CPU lacks")
    out = capsys.readouterr().out
    assert "skipped openblas:Nehalem: killed by SIGILL" in out and "skipped openblas:SkylakeX: its kernels need" in out
    assert "PASS: the default check holds under every configuration that ran (1 run, 3 skipped)" in out
    html = (tmp_path / "cpu_drift.html").read_text()
    assert "killed by SIGILL" in html and "AVX512F" in html
    header = next(csv.reader((tmp_path / "cpu_drift.csv").read_text().splitlines()))
    assert "numpy:native" in header and not any(h.startswith("openblas:") for h in header)


def test_the_skip_rules_do_not_excuse_a_real_failure(tmp_path, capsys, monkeypatch, small):
    pins = tmp_path / "pins"
    pins.mkdir()
    data = json.loads((PINS_DIR / "feed_forward.json").read_text())
    data["quantities"]["loss"]["value"] *= 1.001
    (pins / "feed_forward.json").write_text(json.dumps(data))
    _dying(monkeypatch, lambda env: env.get("OPENBLAS_CORETYPE") == "Nehalem", signal.SIGILL)
    assert main(["drift", "--cpu", "feed_forward", "--pins", str(pins), "--out", str(tmp_path / "o"), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: the default check fails under numpy:native" in out and "skipped openblas:Nehalem" in out


def test_a_signal_where_nothing_is_forced_is_a_failure_not_a_skip(tmp_path, capsys, monkeypatch, small):
    _dying(monkeypatch, lambda env: True, signal.SIGSEGV)
    assert main(["drift", "--cpu", "feed_forward", "--out", str(tmp_path), "--quiet"]) == 1
    out = capsys.readouterr().out
    assert "FAIL: the default check fails under numpy:native (SIGSEGV)" in out
    assert "skipped openblas:Nehalem: killed by SIGSEGV: not runnable here" in out
    record = json.loads((tmp_path / "cpu_drift.json").read_text())
    assert record["configurations"] == [{"name": "numpy:native", "asked": {}, "exit": -signal.SIGSEGV,
                                         "signal": "SIGSEGV", "simd_targets": None, "blas_core": None}]
    assert "FAIL: killed by SIGSEGV" in (tmp_path / "cpu_drift.html").read_text()


def test_a_windows_illegal_instruction_status_is_a_fault_like_sigill(tmp_path, monkeypatch, small):
    monkeypatch.setattr(cpu_drift, "_run_check", lambda cmd, env: subprocess.CompletedProcess(
        cmd, 0xC000001D if env.get("OPENBLAS_CORETYPE") else 0, "", ""))
    run = cpu_drift._run_config("openblas:Nehalem", {"OPENBLAS_CORETYPE": "Nehalem"}, [], None, tmp_path)
    assert run["signal"] == "STATUS_ILLEGAL_INSTRUCTION" and run["record"] is None
    with pytest.raises(RunFailed, match="numpy:native could not run check: exit 0"):   # exited, wrote nothing
        cpu_drift._run_config("numpy:native", {}, [], None, tmp_path)


def test_a_child_interrupted_by_ctrl_c_interrupts_the_run(tmp_path, monkeypatch, small):
    monkeypatch.setattr(cpu_drift, "_run_check",
                        lambda cmd, env: subprocess.CompletedProcess(cmd, -signal.SIGINT, "", ""))
    assert main(["drift", "--cpu", "feed_forward", "--out", str(tmp_path), "--quiet"]) == 130
    assert not (tmp_path / "cpu_drift.json").exists()


def test_drift_cpu_for_real_under_a_users_npy_disable_as_on_a_cpu_without_the_top_simd_level(tmp_path, capsys,
                                                                                             monkeypatch):
    # Turn off this CPU's top SIMD level (AVX-512 here, AVX2 on a CPU without it, arm64's extensions): every child
    # must run without it and every core type needing its features must be skipped, with OPENBLAS_CORETYPE unset.
    info = cpu_drift.numpy_cpu_info()
    have = [t for t in info["dispatch"] if info["features"].get(t)]
    top = next((lvl for lvl in cpu_drift._MAJOR_LEVELS if lvl in have), have[0] if have else None)
    masked = have[have.index(top):] if top else []
    monkeypatch.delenv("OPENBLAS_CORETYPE", raising=False)
    monkeypatch.delenv("NPY_ENABLE_CPU_FEATURES", raising=False)
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", " ".join(masked))
    monkeypatch.setitem(cpu_drift.OPENBLAS_CORE_TYPES, "x86_64", ("SkylakeX", "Haswell", "Nehalem"))
    monkeypatch.setitem(cpu_drift.OPENBLAS_CORE_TYPES, "aarch64", ("armv8", "neoversen1"))
    assert main(["drift", "--cpu", "feed_forward", "--out", str(tmp_path), "--quiet"]) == 0
    record = json.loads((tmp_path / "cpu_drift.json").read_text())
    assert record["configurations"] and all(c["exit"] == 0 for c in record["configurations"])
    for c in record["configurations"]:
        assert not set(masked) & set(c["simd_targets"]), c
    gone = {f for t in masked for f in (t, *cpu_drift._TARGET_FEATURES.get(t, ()))}
    arch = cpu_drift._MACHINES.get(info["machine"].lower())
    ran = {c["name"] for c in record["configurations"]}
    skipped = {s["name"]: s["reason"] for s in record["skipped"]}
    for core in cpu_drift.OPENBLAS_CORE_TYPES.get(arch, ()):
        if set(cpu_drift.OPENBLAS_REQUIRES[arch][core]) & gone:
            assert f"openblas:{core}" not in ran and skipped[f"openblas:{core}"]
    if info["machine"] == "x86_64" and "X86_V4" in masked:   # this machine: AVX-512 taken away
        assert "turns off (X86_V4" in skipped["openblas:SkylakeX"] and "openblas:Haswell" in ran
    out = capsys.readouterr().out
    assert all(f"skipped {name}: {reason}" in out for name, reason in skipped.items())


def test_drift_cpu_runs_every_configuration_and_writes_the_matrix(tmp_path, capsys):
    assert main(["drift", "--cpu", "feed_forward", "chain_rule", "--out", str(tmp_path), "--quiet"]) == 0
    rows = list(csv.DictReader((tmp_path / "cpu_drift.csv").read_text().splitlines()))
    configs = json.loads((tmp_path / "cpu_drift.json").read_text())["configurations"]
    assert {r["example"] for r in rows} == {"feed_forward", "chain_rule"} and len(configs) >= 2
    assert all(c["simd_targets"] for c in configs)     # what took effect is recorded
    assert all(r[c["name"]] != "" for r in rows for c in configs)
    assert "PASS: the default check holds under every configuration that ran" in capsys.readouterr().out
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


def test_names_numpy_ignores_in_a_users_npy_disable_make_one_note():
    """NumPy warns (an ImportWarning, hidden by default) for a name that is not a dispatch target and says nothing
    when asked to disable a target this CPU lacks: both are named in one note; real targets are not."""
    environ = {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512F, FOO AVX512_SPR X86_V4"}
    note = cpu_drift.ignored_note(INFO_24, environ)
    assert note == ("NPY_DISABLE_CPU_FEATURES: NumPy ignores AVX512F FOO (not among its dispatch targets X86_V3 "
                    "X86_V4 AVX512_ICL AVX512_SPR; NumPy only warns, with an ImportWarning hidden by default); and "
                    "AVX512_SPR (this CPU lacks it: nothing to turn off)")
    assert "\n" not in note
    assert cpu_drift.ignored_note(INFO_24, {"NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL"}) is None
    assert cpu_drift.ignored_note(INFO_24, {}) is None
    assert "AVX2 (not among" in cpu_drift.ignored_note(INFO_24, {"NPY_ENABLE_CPU_FEATURES": "X86_V3 AVX2"})
    # enabling a target this CPU lacks: NumPy refuses to import, so it is bad input, not a note
    with pytest.raises(BadInput, match="NPY_ENABLE_CPU_FEATURES names AVX512_SPR, which this CPU lacks"):
        cpu_drift.plan(INFO_24, {"NPY_ENABLE_CPU_FEATURES": "X86_V3 AVX512_SPR"})


def test_the_note_matches_what_this_numpy_warns_about():
    """The rule above against the real NumPy: every name it warns about at import is in the note."""
    info = cpu_drift.numpy_cpu_info()
    environ = {"NPY_DISABLE_CPU_FEATURES": f"NOT_A_FEATURE {' '.join(info['dispatch'][-1:])}"}
    done = subprocess.run([sys.executable, "-W", "always::ImportWarning", "-c", "import numpy"], capture_output=True,
                          text=True, env={**cpu_drift._clean_env(), **environ})
    assert done.returncode == 0, done.stderr
    warned = done.stderr.split("You cannot disable CPU features (")[1].split(")")[0].split()
    assert warned == ["NOT_A_FEATURE"]
    assert "NumPy ignores NOT_A_FEATURE (" in cpu_drift.ignored_note(info, environ)


def test_drift_reports_the_note_in_its_console_and_json(tmp_path, capsys, monkeypatch, small):
    monkeypatch.setenv("NPY_DISABLE_CPU_FEATURES", "AVX512F")    # NumPy 2.4 dispatches X86_V4, not AVX512F
    _dying(monkeypatch, lambda env: env.get("OPENBLAS_CORETYPE") is not None, signal.SIGILL)
    assert main(["drift", "--cpu", "feed_forward", "--out", str(tmp_path), "--quiet"]) == 0
    notes = [line for line in capsys.readouterr().out.splitlines() if line.startswith("note:")]
    assert len(notes) == 1 and "NPY_DISABLE_CPU_FEATURES: NumPy ignores AVX512F" in notes[0]
    assert json.loads((tmp_path / "cpu_drift.json").read_text())["notes"] == [notes[0][len("note: "):]]
    assert "NumPy ignores AVX512F" in (tmp_path / "cpu_drift.html").read_text()
