"""Finite differences against the chain rule, and the oracle's own test (it rejects a wrong gradient)."""

import numpy as np
import pytest

from reference_impl import gradients as G
from backprop_repro.core import registry
from reference_impl.examples._toy_network import INPUTS, PROBLEM, TARGETS, initial_weights
from reference_impl.gradcheck import TOLERANCES, check_grads, numerical_grad, scale_free_error
from reference_impl.finite_differences import forward_difference_gradients
from reference_impl.networks import loss_231

# Gradient tolerances, apart from value tolerances: the tables of reference_impl.gradcheck (derived there).
FD_CHAPTER_TOL = TOLERANCES[("float64", "forward")]
ORACLE_TOL = TOLERANCES[("float64", "central")]


def gradients_231(inputs, targets, weights):
    """The package's one chain rule on the chapter's 2-3-1 network (float64, as its int inputs promote)."""
    return G.chain_rule(G.network(PROBLEM), [np.asarray(w, np.float64) for w in weights],
                        np.asarray(inputs, np.float64), np.asarray(targets, np.float64))


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


def test_chapter_finite_differences_agree_with_chain_rule():
    fd = forward_difference_gradients(loss_231, INPUTS, TARGETS, initial_weights())
    analytic = gradients_231(INPUTS, TARGETS, initial_weights())
    assert scale_free_error(analytic, fd) <= FD_CHAPTER_TOL


def test_chain_rule_agrees_with_central_difference_oracle():
    analytic = gradients_231(INPUTS, TARGETS, initial_weights())
    oracle = central_difference(_loss, initial_weights())
    assert scale_free_error(analytic, oracle) <= ORACLE_TOL


def test_gradcheck_numerical_grad_matches_the_independent_oracle():
    weights = [np.asarray(w, np.float64) for w in initial_weights()]
    ours = numerical_grad(_loss, weights, eps=1e-6)
    assert scale_free_error(ours, central_difference(_loss, weights)) <= 1e-12


def test_scale_free_error_hand_worked_values():
    assert scale_free_error([np.array([3.0, 4.0])], [np.array([3.0, 4.0])]) == 0.0
    assert scale_free_error([np.array([1.0, 0.0])], [np.array([-1.0, 0.0])]) == 1.0     # opposite: 2 / 2
    assert scale_free_error([np.array([3.0, 4.0])], [np.zeros(2)]) == 1.0              # one vanishes: 5 / 5
    assert scale_free_error([np.zeros(2)], [np.zeros(2)]) == 0.0
    assert abs(scale_free_error([np.array([2.0])], [np.array([1.0])]) - 1 / 3) < 1e-15  # 1 / (2 + 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_check_grads_accepts_the_chain_rule_of_every_example_network(dtype):
    for declared in registry.gradient_problems().values():
        net, params, x, y = G.problem(declared, dtype)
        check_grads(lambda p: G.loss(net, p, x, y), params, lambda p: G.chain_rule(net, p, x, y), order=1)


def test_check_grads_order_2_accepts_a_true_gradient_and_rejects_a_non_gradient_field():
    net, params, x, y = G.problem(PROBLEM)
    error, asymmetry = check_grads(lambda p: G.loss(net, p, x, y), params, lambda p: G.chain_rule(net, p, x, y),
                                   order=2)
    assert error <= ORACLE_TOL and asymmetry <= ORACLE_TOL
    # f(a, b) = a^2 b has gradient (2ab, a^2); the field (3ab, a^2) is no gradient (Jacobian [[3b, 3a], [2a, 0]]
    # is not symmetric) yet equals the gradient where b = 0, the point checked at first order.
    def f(p):
        return p[0][0] ** 2 * p[0][1]

    def field(p):
        a, b = p[0]
        return [np.array([3 * a * b, a * a])]

    point = [np.array([1.5, 0.0])]
    check_grads(f, point, field, order=1)
    with pytest.raises(AssertionError, match="not symmetric"):
        check_grads(f, point, field, order=2)


def _with_hidden_layer():
    """The first example network with a sigmoid hidden layer and a sigmoid output."""
    return next(p for p in registry.gradient_problems().values() if len(p.sizes) == 3 and p.output == "sigmoid")


def test_check_grads_rejects_a_wrong_gradient_naming_the_error_and_bound():
    net, params, x, y = G.problem(_with_hidden_layer())

    def wrong(p):
        return [g * 1.01 for g in G.chain_rule(net, p, x, y)]

    with pytest.raises(AssertionError, match=r"scale-free error .* > 1e-07 \(float64, central"):
        check_grads(lambda p: G.loss(net, p, x, y), params, wrong)


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


# --- reference_impl.gradients: three methods on every example's network (the registry's) and an mlp --------

from reference_impl import gradients as G  # noqa: E402
from reference_impl.examples import gradient_check  # noqa: E402

PROBLEMS = {**registry.gradient_problems(), "mlp7": "mlp7"}
ALL_NETWORKS = list(PROBLEMS)


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_methods_return_the_parameters_shapes(name):
    net, params, x, y = G.problem(PROBLEMS[name])
    for method in (G.chain_rule, G.fd_chapter, G.fd_central_vectorized):
        assert [g.shape for g in method(net, params, x, y)] == [p.shape for p in params]


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_chain_rule_matches_oracle_on_every_network(name):
    net, params, x, y = G.problem(PROBLEMS[name])
    oracle = central_difference(lambda ps: G.loss(net, ps, x, y), params)
    assert scale_free_error(G.chain_rule(net, params, x, y), oracle) <= ORACLE_TOL


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_vectorized_central_equals_a_loop_of_full_forward_passes(name):
    """The batched perturbations compute what one full forward pass per perturbed network computes."""
    net, params, x, y = G.problem(PROBLEMS[name])
    h = 1e-6
    looped = central_difference(lambda ps: G.loss(net, ps, x, y), params, step=h)
    assert scale_free_error(G.fd_central_vectorized(net, params, x, y, step=h), looped) <= 1e-8


@pytest.mark.parametrize("name", ALL_NETWORKS)
def test_fd_chapter_is_the_chapters_update_weights(name):
    net, params, x, y = G.problem(PROBLEMS[name])
    manual = forward_difference_gradients(lambda xs, ys, ps: G.loss(net, ps, xs, ys), x, y, params)
    for a, b in zip(G.fd_chapter(net, params, x, y), manual):
        assert a.tobytes() == b.tobytes()


def test_gradient_check_grades_a_wrong_gradient_as_fail():
    net, params, x, y = G.problem(PROBLEM)
    right = G.chain_rule(net, params, x, y)
    wrong = [g * (1 if k else -1) for k, g in enumerate(right)]   # one sign flipped
    error = scale_free_error(right, G.fd_central_vectorized(net, params, x, y))
    assert gradient_check.grade(error, "float64", "fd_central_vectorized") == "pass"
    error = scale_free_error(wrong, G.fd_central_vectorized(net, params, x, y))
    assert gradient_check.grade(error, "float64", "fd_central_vectorized") == "fail"


def test_unknown_network_is_a_clear_error():
    with pytest.raises(KeyError, match="unknown network"):
        G.problem("999")


def test_a_problem_whose_parameters_do_not_fit_its_layer_sizes_is_a_clear_error():
    from dataclasses import replace

    with pytest.raises(ValueError, match=r"do not fit layer sizes \(2, 4, 1\)"):
        G.problem(replace(PROBLEM, sizes=(2, 4, 1)))


def test_gradient_check_covers_every_built_in_example_network_and_no_other():
    """Its quantities are keyed by the registry's built-in problems: a third party's network cannot change its pin."""
    names = {q.split("/")[0] for q in gradient_check.run() if not q.startswith("eps_sweep")}
    assert names == set(registry.gradient_problems(builtin_only=True)) and len(names) >= 5
