"""Every example x quantity against its committed pin, and the contract's quantity names.

CONTRACT_QUANTITIES is the architecture's public contract (ids and quantity names that users' scripts
read); the suite itself parametrizes over whatever the registry finds, so an added example needs no
edit here."""

import numpy as np
import pytest

from backprop_repro.core import registry
from backprop_repro.core.policies import compare

from .conftest import committed_pin, fresh_run, pinned_quantities

CONTRACT_QUANTITIES = {
    "feed_forward": ["hidden", "prediction", "loss"],
    "activations": ["tanh", "relu", "linear", "softmax"],
    "losses": ["mse", "mae", "binary_cross_entropy", "categorical_cross_entropy"],
    "chain_rule": ["loss"] + [f"{kind}.{k}" for kind in ("fd_gradients", "analytic_gradients", "fd_updated_weights",
                                                         "analytic_updated_weights") for k in range(4)],
    "toy_backprop": ["losses", "prediction"] + [f"final_weights.{k}" for k in range(4)],
    "learning_rate": [f"lr={lr}/{name}" for lr in ("0.01", "0.1", "1") for name in
                      ("weight_trace", "bias_trace", "loss_trace", "loss_plus_trace", "gradient_trace")],
    "notebook_332": ["original_error", "final_hidden_weights", "final_output_weights", "final_output",
                     "loss_history"],
    "xor_341": ["output"],
    "cavar_single_layer": ["initial_weights", "output", "final_weights"],
    "cavar_hidden_layer": ["initial_hidden_weights", "initial_output_weights", "errors", "final_output_weights",
                           "final_hidden_weights"],
    "gradient_check": [f"{net}/{dtype}/{method}/{kind}" for net in registry.gradient_problems(builtin_only=True)
                       for dtype in ("float64", "float32") for method in ("fd_chapter", "fd_central_vectorized")
                       for kind in ("error", "grade")],
}


def test_every_contract_example_is_registered():
    assert set(CONTRACT_QUANTITIES) <= set(registry.example_ids())


@pytest.mark.parametrize("example_id", list(CONTRACT_QUANTITIES))
def test_example_produces_contract_quantities(example_id):
    run = fresh_run(example_id)
    assert run.error is None
    missing = [q for q in CONTRACT_QUANTITIES[example_id] if q not in run.quantities]
    assert not missing, f"{example_id} lacks contract quantities {missing}"


@pytest.mark.parametrize("example_id", registry.example_ids())
def test_example_declares_source_policies_and_a_pin(example_id):
    example = registry.get(example_id)
    assert example.documents and example.section and example.summary
    assert example.policies, f"{example.module_name} declares no POLICIES"
    assert committed_pin(example_id) is not None, f"no pin: run `backprop-repro pins update {example_id}`"


@pytest.mark.parametrize("example_id,quantity", pinned_quantities(), ids=lambda v: str(v))
def test_quantity_matches_pin(example_id, quantity):
    run = fresh_run(example_id)
    pinned = committed_pin(example_id).quantities[quantity]
    policy, _ = registry.policy_for(registry.get(example_id), quantity)
    assert pinned["policy"] == policy, "registry policy changed: run `backprop-repro pins update` and review"
    result = compare(run.quantities[quantity], pinned["value"], policy)
    assert result.passed, f"{example_id}:{quantity}: {result.message}"


def test_learning_rate_shapes_and_dtypes():
    q = fresh_run("learning_rate").quantities
    for lr in ("0.01", "0.1", "1"):
        assert q[f"lr={lr}/weight_trace"].shape == (1000,)
        assert q[f"lr={lr}/weight_trace"].dtype.name == "float32"
        assert q[f"lr={lr}/loss_trace"].dtype.name == "float64"


def test_toy_weights_stay_float32_with_the_documents_shapes():
    q = fresh_run("toy_backprop").quantities
    assert [q[f"final_weights.{k}"].shape for k in range(4)] == [(2, 3), (3,), (3, 1), (1,)]
    assert all(q[f"final_weights.{k}"].dtype.name == "float32" for k in range(4))


def _cavar_as_the_document_writes_it(seed, iterations):
    """004's loop transcribed plainly (integer X and y, the Python constant 1, a temporary per expression): the
    bitwise oracle for cavar_hidden_layer.run, which casts X, y and 1 to float64 once."""
    x = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]])
    y = np.array([[0, 1, 1, 0]]).T
    np.random.seed(seed)
    wh = np.random.random((3, 4)) * np.sqrt(2.0 / 3)
    wo = np.random.random((4, 1)) * np.sqrt(2.0 / 4)
    errors = []
    for i in range(iterations):
        l1 = 1 / (1 + np.exp(-np.dot(x, wh)))
        l2 = 1 / (1 + np.exp(-np.dot(l1, wo)))
        l2_error = y - l2
        if i % 10000 == 0:
            errors.append(np.mean(np.abs(l2_error)))
        l2_delta = l2_error * (l2 * (1 - l2))
        l1_delta = l2_delta.dot(wo.T) * (l1 * (1 - l1))
        wo += np.dot(l1.T, l2_delta)
        wh += np.dot(x.T, l1_delta)
    return {"errors": np.array(errors), "final_output_weights": wo, "final_hidden_weights": wh, "output": l2}


@pytest.mark.parametrize("seed", [1, 7])
def test_cavar_run_is_bitwise_the_documents_plain_loop(seed):
    from reference_impl.examples import cavar_hidden_layer

    ours = cavar_hidden_layer.run(seed=seed, iterations=10001)
    plain = _cavar_as_the_document_writes_it(seed, 10001)
    for name, value in plain.items():
        assert ours[name].dtype == value.dtype and ours[name].tobytes() == value.tobytes(), name
    wrong = _cavar_as_the_document_writes_it(seed, 10000)      # one iteration fewer: the comparison can fail
    assert wrong["final_hidden_weights"].tobytes() != ours["final_hidden_weights"].tobytes()


def test_sigmoid_with_a_float64_one_changes_no_bit_and_a_plain_one_keeps_float32():
    from reference_impl.activations import ONE_F64, sigmoid, sigmoid_prime_from_output

    x = np.random.default_rng(3).normal(scale=20, size=4096)
    assert sigmoid(x, ONE_F64).tobytes() == sigmoid(x).tobytes()
    s = sigmoid(x)
    assert sigmoid_prime_from_output(s, ONE_F64).tobytes() == sigmoid_prime_from_output(s).tobytes()
    assert sigmoid(x.astype(np.float32)).dtype == np.float32
    assert sigmoid(x, ONE_F64).tobytes() != sigmoid(np.nextafter(x, np.inf), ONE_F64).tobytes()
