"""The documents' printed values and prose claims against fresh runs; their gates can fail.

Parametrized over what the registry finds: every example's PRINTED and CLAIMS declarations.
"""

import numpy as np
import pytest

from reference_impl.activations import sigmoid
from reference_impl.examples import feed_forward, notebook_332
from backprop_repro.core import registry
from backprop_repro.sources import runner

from .conftest import fresh_run

PRINTED = [(e, p) for e in registry.example_ids() for p in registry.get(e).printed]
CLAIMS = [(e, c) for e in registry.example_ids() for c in registry.get(e).claims]


def test_every_registered_example_runs_and_holds(full_check):
    record = full_check
    assert record["exit_status"] == 0, [r for r in record["results"] if r["status"] != "pass"]
    assert {e["example"] for e in record["examples"]} == set(registry.example_ids())


@pytest.mark.parametrize("example_id,printed", PRINTED,
                         ids=[registry.get(e).printed_id(p) for e, p in PRINTED])
def test_document_value_outcome_is_the_reviewed_one(full_check, example_id, printed):
    row = next(d for d in full_check["document_values"] if d["id"] == registry.get(example_id).printed_id(printed))
    assert row["printed"] == printed.printed
    assert row["outcome"] == row["expected_outcome"], row


def test_printed_value_and_claim_ids_are_unique_and_namespaced():
    printed_ids = [registry.get(e).printed_id(p) for e, p in PRINTED]
    claim_ids = [registry.get(e).claim_id(c) for e, c in CLAIMS]
    assert len(set(printed_ids)) == len(printed_ids) and len(set(claim_ids)) == len(claim_ids)
    assert all(i.split(":")[0] in registry.example_ids() for i in printed_ids + claim_ids)


def test_document_values_cover_every_printed_number():
    toy = registry.get("toy_backprop").printed
    assert {"000_ea17d77324d96e4c.txt", "001_b373d019e6023af9.txt"} <= {p.document for p in toy}
    assert len(registry.get("notebook_332").printed) == 9 + 6 + 2 + 1


def test_1235_is_the_rounded_intermediates():
    """The explanation recorded for the chapter's 1.235: two-decimal hidden activations."""
    hidden = sigmoid(feed_forward.INPUTS @ feed_forward.W_INPUT_HIDDEN)
    assert round(float(np.round(hidden, 2) @ feed_forward.W_HIDDEN_OUTPUT), 3) == 1.235
    assert round(float(hidden @ feed_forward.W_HIDDEN_OUTPUT), 3) == 1.233


@pytest.mark.parametrize("example_id,claim", CLAIMS, ids=[registry.get(e).claim_id(c) for e, c in CLAIMS])
def test_claim_verdict_is_the_reviewed_one(full_check, example_id, claim):
    row = next(c for c in full_check["claims"] if c["id"] == registry.get(example_id).claim_id(claim))
    if row["verdict"] == "unavailable":
        pytest.skip(f"{row['id']}: {row['note']}")
    assert row["verdict"] == claim.expected, row
    assert row["note"] or row["verdict"] == "reproduced"


def test_a_flipped_claim_fails_the_gate():
    example = registry.get("toy_backprop")
    claim = next(c for c in example.claims if c.name == "loss_start")
    quantities = dict(fresh_run("toy_backprop").quantities)
    quantities["losses"] = quantities["losses"].copy()
    quantities["losses"][0] = 0.5   # a loss that no longer starts "around 0.33"
    row = runner.evaluate_claim(example, claim, quantities)
    assert row["verdict"] == "not-reproduced" and row["status"] == "fail"


def test_a_changed_printed_digit_fails_the_gate():
    run = fresh_run("notebook_332")
    changed = runner.ExampleRun(run.example, dict(run.quantities))
    changed.quantities["final_output"] = run.quantities["final_output"] + 1e-8   # 8th decimal moves
    rows = runner.printed_rows(changed)
    assert any(r["quantity"] == "final_output" and r["status"] == "fail" for r in rows)


def test_broken_measure_is_an_error_not_a_pass():
    example = registry.get("toy_backprop")
    row = runner.evaluate_claim(example, example.claims[0], {})
    assert row["status"] == "error"


def test_notebook_332_as_written_raises_the_documents_error():
    assert notebook_332.run_as_written() == "shapes (3,) and (2,3) not aligned: 3 (dim 0) != 2 (dim 0)"


def test_notebook_332_transpose_only_fix_does_not_reproduce_the_printout():
    printed = np.array([0.87579945, 0.3024596])   # 002, "Final Results"
    assert np.max(np.abs(notebook_332.train_transpose_only() - printed)) > 1e-3
    assert np.max(np.abs(notebook_332.train_fixed()[2] - printed)) < 5e-9


def test_torch_claim_without_torch_is_unavailable_and_says_why(monkeypatch):
    from reference_impl import torch_oracle

    monkeypatch.setattr(torch_oracle, "available", lambda: (False, "torch is not installed (test)"))
    example = registry.get("toy_backprop")
    claim = next(c for c in example.claims if c.name == "numpy_equals_torch")
    row = runner.evaluate_claim(example, claim, fresh_run("toy_backprop").quantities)
    assert row["verdict"] == "unavailable" and row["status"] == "unavailable"
    assert "not installed" in row["note"]
    record = runner.assemble({}, claims=[row])
    assert record["exit_status"] == 0   # reported as unavailable, never as a pass, and not a regression


def test_torch_oracle_rejects_a_wrong_gradient():
    pytest.importorskip("torch", reason="torch not installed (extra: backprop-repro[torch])")
    from reference_impl import gradients as G
    from reference_impl import torch_oracle
    from reference_impl.examples._toy_network import PROBLEM
    from reference_impl.gradcheck import scale_free_error

    net, params, x, y = G.problem(PROBLEM)
    torch_grads = torch_oracle.gradients_231(x, y, params)
    assert scale_free_error(G.chain_rule(net, params, x, y), torch_grads) <= 1e-12
    assert scale_free_error([g * 1.001 for g in G.chain_rule(net, params, x, y)], torch_grads) > 1e-4
