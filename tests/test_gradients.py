"""Finite differences against the chain rule, and the oracle's own test (it rejects a wrong gradient)."""

import numpy as np
import pytest

from reference_impl.backprop import gradients_231
from reference_impl.examples._toy_network import INPUTS, TARGETS, initial_weights
from reference_impl.finite_differences import forward_difference_gradients
from reference_impl.networks import loss_231

# Tolerances (gradient tolerances, apart from value tolerances):
# - the chapter's forward differences on float32 weights: truncation step*|f''|/2 plus the float32 rounding
#   of w + 1e-4 (up to ulp(w)/1e-4 ~ 1.5e-4 relative for |w| < 0.6): scale-free error <= 1e-3;
# - a float64 central-difference oracle (step 1e-6): truncation ~ step^2 |f'''|, rounding ~ eps/step: <= 1e-7.
FD_CHAPTER_TOL = 1e-3
ORACLE_TOL = 1e-7


def scale_free_error(g, n):
    g, n = np.asarray(g, np.float64), np.asarray(n, np.float64)
    return float(np.max(np.abs(g - n) / np.maximum(np.abs(g) + np.abs(n), 1e-300)))


def central_difference(loss, weights, step=1e-6):
    """A four-line oracle: central differences in float64, one parameter at a time."""
    weights = [np.asarray(w, np.float64).copy() for w in weights]
    grads = [np.zeros_like(w) for w in weights]
    for w, g in zip(weights, grads):
        for i in np.ndindex(w.shape):
            old = w[i]
            w[i] = old + step
            plus = loss(weights)
            w[i] = old - step
            minus = loss(weights)
            w[i] = old
            g[i] = (plus - minus) / (2 * step)
    return grads


def _loss(weights):
    return loss_231(INPUTS, TARGETS, weights)


@pytest.mark.parametrize("k", range(4))
def test_chapter_finite_differences_agree_with_chain_rule(k):
    fd = forward_difference_gradients(loss_231, INPUTS, TARGETS, initial_weights())
    analytic = gradients_231(INPUTS, TARGETS, initial_weights())
    assert scale_free_error(analytic[k], fd[k]) <= FD_CHAPTER_TOL


@pytest.mark.parametrize("k", range(4))
def test_chain_rule_agrees_with_central_difference_oracle(k):
    analytic = gradients_231(INPUTS, TARGETS, initial_weights())
    oracle = central_difference(_loss, initial_weights())
    assert scale_free_error(analytic[k], oracle[k]) <= ORACLE_TOL


def test_oracle_rejects_a_wrong_gradient():
    """A classic bug: the sigmoid derivative taken of the pre-activation instead of the activation."""
    x = np.asarray(INPUTS, np.float64)
    w0, b0, w2, b2 = (np.asarray(w, np.float64) for w in initial_weights())
    pre = x @ w0 + b0
    hidden = 1 / (1 + np.exp(-pre))
    d_pred = 2 * (hidden @ w2 + b2 - TARGETS)
    wrong_w0 = x.T @ ((d_pred @ w2.T) * pre * (1 - pre))
    oracle = central_difference(_loss, initial_weights())
    assert scale_free_error(wrong_w0, oracle[0]) > 1e-2


def test_fd_gradient_is_exactly_zero_where_float32_spacing_exceeds_the_step():
    w = np.float32(12755.16)
    assert np.float32(np.float64(w) + 1e-4) == w   # why the lr-1 fit is stuck
    # rounding swallows the step once half the spacing exceeds it: from |w| = 2048 on (spacing 2.4e-4)
    assert np.float32(np.float64(np.float32(2048)) + 1e-4) == 2048
    assert np.float32(np.float64(np.float32(2047)) + 1e-4) != 2047


# --- reference_impl.gradients: three methods on every document network --------------------------------------

from reference_impl import gradients as G  # noqa: E402
from reference_impl.examples import gradient_check  # noqa: E402

ALL_NETWORKS = ["231", "341", "332", "31", "11", "mlp7"]


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_methods_return_the_parameters_shapes(name):
    net, params, x, y = G.problem(name)
    for method in (G.chain_rule, G.fd_chapter, G.fd_central_vectorized):
        assert [g.shape for g in method(net, params, x, y)] == [p.shape for p in params]


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_chain_rule_matches_oracle_on_every_network(name):
    net, params, x, y = G.problem(name)
    oracle = central_difference(lambda ps: G.loss(net, ps, x, y), params)
    assert gradient_check.scale_free_error(G.chain_rule(net, params, x, y), oracle) <= ORACLE_TOL


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_vectorized_central_equals_a_loop_of_full_forward_passes(name):
    """The batched perturbations compute what one full forward pass per perturbed network computes."""
    net, params, x, y = G.problem(name)
    h = 1e-6
    looped = central_difference(lambda ps: G.loss(net, ps, x, y), params, step=h)
    assert gradient_check.scale_free_error(G.fd_central_vectorized(net, params, x, y, step=h), looped) <= 1e-8


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_fd_chapter_is_the_chapters_update_weights(name):
    net, params, x, y = G.problem(name)
    manual = forward_difference_gradients(lambda xs, ys, ps: G.loss(net, ps, xs, ys), x, y, params)
    for a, b in zip(G.fd_chapter(net, params, x, y), manual):
        assert a.tobytes() == b.tobytes()


def test_gradient_check_grades_a_wrong_gradient_as_fail():
    net, params, x, y = G.problem("231")
    right = G.chain_rule(net, params, x, y)
    wrong = [g * (1 if k else -1) for k, g in enumerate(right)]   # one sign flipped
    error = gradient_check.scale_free_error(right, G.fd_central_vectorized(net, params, x, y))
    assert gradient_check.grade(error, "float64", "fd_central_vectorized") == "pass"
    error = gradient_check.scale_free_error(wrong, G.fd_central_vectorized(net, params, x, y))
    assert gradient_check.grade(error, "float64", "fd_central_vectorized") == "fail"


def test_unknown_network_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown network"):
        G.problem("999")
