"""The benchmark gates and scaling fit, on fabricated timings (never on wall-clock of this machine)."""

import json

import numpy as np
import pandas as pd
import pytest

from backprop_repro.sources import bench
from backprop_repro.cli.commands import main


def fabricated(chain_ratio=1.5, fd_exponent=1.0, extra=()):
    rows = []
    for network in bench.example_networks():
        rows.append({"network": network, "n_params": 13, "method": "forward", "median_s": 1e-5})
        rows.append({"network": network, "n_params": 13, "method": "chain_rule", "median_s": 1e-5 * chain_ratio})
    for p in (13, 121, 1201, 12001):
        rows.append({"network": f"mlp{p}", "n_params": p, "method": "fd_chapter", "median_s": 1e-5 * p ** fd_exponent})
        rows.append({"network": f"mlp{p}", "n_params": p, "method": "chain_rule", "median_s": 2e-5 * p ** 0.3})
    rows.extend(extra)
    table = pd.DataFrame(rows)
    for column in ("iqr_s", "rounds", "mean_s", "min_s"):
        table[column] = 0
    return table


def test_fit_recovers_a_known_exponent():
    scaling = bench.fit_scaling(fabricated(fd_exponent=1.25))
    fd = scaling[scaling.method == "fd_chapter"].iloc[0]
    assert fd.exponent == pytest.approx(1.25) and fd.r2 == pytest.approx(1.0)


def test_gates_pass_on_good_timings():
    table = fabricated()
    assert all(g.passed for g in bench.gates(table, bench.fit_scaling(table)))


def test_chain_rule_gate_fails_when_backprop_costs_more_than_3_forward_passes():
    table = fabricated(chain_ratio=3.5)
    failed = [g for g in bench.gates(table, bench.fit_scaling(table)) if not g.passed]
    assert {g.name for g in failed} == {"chain_rule_vs_forward"} and len(failed) == len(bench.example_networks())


def test_fd_exponent_gate_fails_below_0_8():
    table = fabricated(fd_exponent=0.6)
    failed = [g for g in bench.gates(table, bench.fit_scaling(table)) if not g.passed]
    assert [g.name for g in failed] == ["fd_chapter_exponent"]


def test_missing_measurements_fail_the_gates_rather_than_pass():
    table = fabricated()
    network = bench.example_networks()[0]
    table = table[~((table.network == network) & (table.method == "chain_rule"))]
    table = table[table.method != "fd_chapter"]
    failed = {(g.name, g.subject) for g in bench.gates(table, bench.fit_scaling(table)) if not g.passed}
    assert failed == {("chain_rule_vs_forward", network), ("fd_chapter_exponent", "width sweep")}


def test_bench_table_reads_pytest_benchmark_json(tmp_path):
    data = {"benchmarks": [{"extra_info": {"network": "net-a", "n_params": 13, "method": "forward"},
                            "stats": {"median": 1e-5, "iqr": 1e-7, "rounds": 100, "mean": 1.1e-5, "min": 9e-6}}]}
    path = tmp_path / "b.json"
    path.write_text(json.dumps(data))
    table = bench.bench_table(path)
    assert list(table.columns[:6]) == ["network", "n_params", "method", "median_s", "iqr_s", "rounds"]
    assert table.iloc[0].median_s == 1e-5


def test_bench_without_a_suite_is_bad_input(tmp_path, capsys):
    code = main(["bench", "--quick", "--out", str(tmp_path / "o"), "--benchmarks", str(tmp_path / "none")])
    assert code == 2 and "--benchmarks" in capsys.readouterr().err


def test_fabricated_speedup_in_summary():
    table = fabricated()
    lines = bench.summary(table)
    assert any("chain_rule/forward 1.50" in line for line in lines)
    assert np.isfinite(bench.fit_scaling(table).exponent).all()


def test_check_with_bench_dir_puts_gates_in_the_verdict_and_tables_in_the_report(tmp_path):
    """`check --bench DIR`: the gates join the record (a failing gate fails the run) and the report draws them."""
    import json

    from backprop_repro.cli.commands import main

    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    (bench_dir / "bench.csv").write_text(
        "network,n_params,method,median_s,iqr_s,rounds,mean_s,min_s\n"
        "net-a,13,forward,1e-5,1e-7,100,1e-5,1e-5\nnet-a,13,chain_rule,2e-5,1e-7,100,2e-5,2e-5\n"
        "mlp10,121,fd_chapter,1e-3,1e-5,10,1e-3,1e-3\nmlp100,1201,fd_chapter,1e-2,1e-4,10,1e-2,1e-2\n")
    (bench_dir / "scaling.csv").write_text("method,exponent,r2,n_points,p_min,p_max\nfd_chapter,1.0,0.99,2,121,1201\n")
    (bench_dir / "gates.csv").write_text("name,subject,measured,threshold,passed,note\n"
                                         "chain_rule_vs_forward,net-a,2.0,3.0,True,\n")
    out = tmp_path / "out"
    assert main(["check", "feed_forward", "--bench", str(bench_dir), "--out", str(out), "--quiet"]) == 0
    record = json.loads((out / "results.json").read_text())
    assert record["bench"]["gates"][0]["status"] == "pass" and record["bench"]["table"][0]["network"] == "net-a"
    (bench_dir / "gates.csv").write_text("name,subject,measured,threshold,passed,note\n"
                                         "chain_rule_vs_forward,net-a,4.0,3.0,False,\n")
    assert main(["check", "feed_forward", "--bench", str(bench_dir), "--out", str(out), "--quiet"]) == 1


def test_the_report_states_the_benchmarked_sweeps_seeds_and_derived_operation_counts(tmp_path):
    """Seeds from the bench table, operation counts from the sweep's spec (its layer sizes), never written in."""
    from backprop_repro.core import registry

    example = next(e for e in registry.examples().values() if e.sweep is not None and e.sweep.bench_seeds)
    ops = example.sweep.operation_counts()
    bench_dir = tmp_path / "bench"
    bench_dir.mkdir()
    (bench_dir / "bench.csv").write_text(
        "network,n_params,method,median_s,iqr_s,rounds,mean_s,min_s,seed_iter_per_s,limit_s,ratio_to_limit,"
        f"limit_numpy_s\nsweep:{example.id},12345,sweep_parallel,1.0,0,1,1.0,1.0,1e6,0.5,2.0,1.5\n")
    (bench_dir / "scaling.csv").write_text("method,exponent,r2,n_points,p_min,p_max\n")
    (bench_dir / "gates.csv").write_text("name,subject,measured,threshold,passed,note\n")
    out = tmp_path / "out"
    assert main(["check", "feed_forward", "--bench", str(bench_dir), "--out", str(out), "--quiet"]) == 0
    html = (out / "index.html").read_text()
    assert "seconds (12,345 seeds)" in html
    assert (f"{example.id}: {ops['exp']} exp, {ops['divide']} divisions, {ops['multiply'] + ops['add']} "
            "multiply/add") in html
