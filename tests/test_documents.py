"""The documents' printed values and prose claims against fresh runs; their gates can fail."""

import numpy as np
import pytest

from reference_impl.activations import sigmoid
from reference_impl.examples import feed_forward, notebook_332
from repro.claims import CLAIMS, evaluate
from repro.document_values import DOCUMENT_VALUES

from .conftest import fresh_run


def test_all_ten_examples_and_no_failures(full_check):
    record, code = full_check
    assert code == 0, [r for r in record["results"] if r["status"] != "pass"]
    assert {e["example"] for e in record["examples"]} == {
        "feed_forward", "activations", "losses", "chain_rule", "toy_backprop", "learning_rate", "notebook_332",
        "xor_341", "cavar_single_layer", "cavar_hidden_layer", "gradient_check"}


@pytest.mark.parametrize("index", range(len(DOCUMENT_VALUES)),
                         ids=[f"{d.document[:3]}-{d.example}-{d.quantity}{list(d.index)}" for d in DOCUMENT_VALUES])
def test_document_value_outcome_is_the_reviewed_one(full_check, index):
    row = full_check[0]["document_values"][index]
    assert row["printed"] == DOCUMENT_VALUES[index].printed
    assert row["outcome"] == row["expected_outcome"], row


def test_document_values_cover_every_printed_number():
    by = {(d.document, d.example) for d in DOCUMENT_VALUES}
    assert ("000_ea17d77324d96e4c.txt", "toy_backprop") in by and ("001_b373d019e6023af9.txt", "toy_backprop") in by
    assert sum(d.example == "notebook_332" for d in DOCUMENT_VALUES) == 9 + 6 + 2 + 1


def test_1235_is_the_rounded_intermediates():
    """The explanation recorded for the chapter's 1.235: two-decimal hidden activations."""
    hidden = sigmoid(feed_forward.INPUTS @ feed_forward.W_INPUT_HIDDEN)
    assert round(float(np.round(hidden, 2) @ feed_forward.W_HIDDEN_OUTPUT), 3) == 1.235
    assert round(float(hidden @ feed_forward.W_HIDDEN_OUTPUT), 3) == 1.233


@pytest.mark.parametrize("claim", CLAIMS, ids=[c.id for c in CLAIMS])
def test_claim_verdict_is_the_reviewed_one(full_check, claim):
    row = next(c for c in full_check[0]["claims"] if c["id"] == claim.id)
    assert row["verdict"] == claim.expected, row
    assert row["note"] or row["verdict"] == "reproduced"


def test_a_flipped_claim_fails_the_gate():
    claim = next(c for c in CLAIMS if c.id == "toy.loss_start")
    losses = fresh_run("toy_backprop").quantities["losses"].copy()
    losses[0] = 0.5   # a loss that no longer starts "around 0.33"
    row = evaluate(claim, lambda e, q: losses if q == "losses" else fresh_run(e).quantities[q])
    assert row["verdict"] == "not-reproduced" and row["status"] == "fail"


def test_broken_measure_is_an_error_not_a_pass():
    claim = CLAIMS[0]
    row = evaluate(claim, lambda e, q: (_ for _ in ()).throw(KeyError(q)))
    assert row["status"] == "error"


def test_notebook_332_as_written_raises_the_documents_error():
    assert notebook_332.run_as_written() == "shapes (3,) and (2,3) not aligned: 3 (dim 0) != 2 (dim 0)"


def test_notebook_332_transpose_only_fix_does_not_reproduce_the_printout():
    printed = np.array([0.87579945, 0.3024596])   # 002, "Final Results"
    assert np.max(np.abs(notebook_332.train_transpose_only() - printed)) > 1e-3
    assert np.max(np.abs(notebook_332.train_fixed()[2] - printed)) < 5e-9
