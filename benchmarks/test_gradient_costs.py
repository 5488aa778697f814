"""Cost of the forward pass and of the gradient by the chain rule, the chapter's finite
differences and vectorized central differences (and torch / jax when installed), on every
example's network (its ``GRADIENT_PROBLEM``, from the registry, a third party's too) and on a width
sweep of a 10-H-1 sigmoid network (P = 12 H + 1 parameters)."""

import time

import numpy as np
import pytest

from backprop_repro.core import registry
from reference_impl import gradients as G

PROBLEMS = registry.gradient_problems()
EXAMPLE_NETWORKS = list(PROBLEMS)
WIDTHS_FULL = [1, 3, 10, 30, 100, 300, 1000, 3000, 8300]   # P = 13 ... 99601
WIDTHS_QUICK = [1, 10, 100, 1000]
FD_CHAPTER_LIMIT_S = 2.0   # the chapter's method only while one gradient takes under 2 s

METHODS = {
    "forward": lambda net, p, x, y: G.loss(net, p, x, y),
    "chain_rule": G.chain_rule,
    "fd_chapter": G.fd_chapter,
    "fd_central_vectorized": G.fd_central_vectorized,
}
_last_fd_chapter = {}   # width -> seconds of one call, to predict the next width's cost


def _record(benchmark, net, method):
    benchmark.extra_info.update({"network": net.name, "n_params": G.n_params(net), "method": method})


def _bench(benchmark, fn, heavy):
    if heavy:   # seconds per call: a few rounds, no calibration loop
        return benchmark.pedantic(fn, rounds=3, iterations=1, warmup_rounds=0)
    return benchmark(fn)


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("name", EXAMPLE_NETWORKS)
def test_example_network(benchmark, name, method):
    net, params, x, y = G.problem(PROBLEMS[name])
    benchmark.group = f"network {name}"
    _record(benchmark, net, method)
    _bench(benchmark, lambda: METHODS[method](net, params, x, y), heavy=False)


def _predict_fd_chapter(width):
    """Extrapolate one chapter gradient's time from the widths measured so far, with the local exponent
    of the last two (the cost grows faster than P once each forward pass itself grows with P)."""
    measured = sorted(w for w in _last_fd_chapter if w < width)
    if not measured:
        return None
    w1 = measured[-1]
    exponent = 1.0
    if len(measured) >= 2:
        w0 = measured[-2]
        exponent = max(1.0, np.log(_last_fd_chapter[w1] / _last_fd_chapter[w0])
                       / np.log((12 * w1 + 1) / (12 * w0 + 1)))
    return _last_fd_chapter[w1] * ((12 * width + 1) / (12 * w1 + 1)) ** exponent


def _widths(quick):
    return WIDTHS_QUICK if quick else WIDTHS_FULL


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("index", range(len(WIDTHS_FULL)))
def test_scaling(benchmark, quick, index, method):
    widths = _widths(quick)
    if index >= len(widths):
        pytest.skip("not in the quick sweep")
    width = widths[index]
    net, params, x, y = G.problem(f"mlp{width}")
    fn = lambda: METHODS[method](net, params, x, y)  # noqa: E731
    heavy = False
    if method == "fd_chapter":
        predicted = _predict_fd_chapter(width)
        if predicted is not None:
            if predicted > FD_CHAPTER_LIMIT_S:
                pytest.skip(f"one chapter gradient would take ~{predicted:.1f} s > {FD_CHAPTER_LIMIT_S} s")
        start = time.perf_counter()
        fn()
        _last_fd_chapter[width] = time.perf_counter() - start
        heavy = _last_fd_chapter[width] > 0.05
    benchmark.group = "scaling"
    _record(benchmark, net, method)
    _bench(benchmark, fn, heavy)


# --- peers (optional extras): the same networks and data -----------------------------------------------------

def _torch_grad(torch, net, params, x, y):
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    tx, ty = torch.tensor(x), torch.tensor(y)

    def run():
        for t in tp:
            t.grad = None
        w1, b1, w2, b2 = G.layers(net, tp)
        a = tx
        if net.hidden:
            a = tx @ w1
            a = torch.sigmoid(a + b1 if b1 is not None else a)
        pre = a @ w2
        pre = pre + b2 if b2 is not None else pre
        out = torch.sigmoid(pre) if net.output == "sigmoid" else pre
        loss = torch.mean((out - ty) ** 2)
        loss.backward()
        return [t.grad.numpy() for t in tp]

    return run


def _jax_grad(jax, jnp, net, params, x, y):
    def loss(ps):
        w1, b1, w2, b2 = G.layers(net, ps)
        a = x
        if net.hidden:
            a = jax.nn.sigmoid(x @ w1 + (b1 if b1 is not None else 0))
        pre = a @ w2 + (b2 if b2 is not None else 0)
        out = jax.nn.sigmoid(pre) if net.output == "sigmoid" else pre
        return jnp.mean((out - y) ** 2)

    grad = jax.jit(jax.grad(loss))
    ps = [jnp.asarray(p) for p in params]
    return lambda: [np.asarray(g) for g in jax.block_until_ready(grad(ps))]


@pytest.mark.parametrize("name", EXAMPLE_NETWORKS + ["mlp100", "mlp1000"])
def test_torch_autograd(benchmark, name):
    torch = pytest.importorskip("torch", reason="torch not installed (extra: backprop-repro[torch])")
    torch.set_num_threads(1)
    net, params, x, y = G.problem(PROBLEMS.get(name, name))
    fn = _torch_grad(torch, net, params, x, y)
    benchmark.group = f"network {name}" if name in PROBLEMS else "scaling"
    _record(benchmark, net, "torch_autograd")
    grads = _bench(benchmark, fn, heavy=False)
    from reference_impl.gradcheck import scale_free_error
    assert scale_free_error(G.chain_rule(net, params, x, y), grads) <= 1e-12


@pytest.mark.parametrize("name", EXAMPLE_NETWORKS + ["mlp100", "mlp1000"])
def test_jax_grad(benchmark, name):
    jax = pytest.importorskip("jax", reason="jax not installed")
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    net, params, x, y = G.problem(PROBLEMS.get(name, name))
    fn = _jax_grad(jax, jnp, net, params, x, y)
    fn()  # compile outside the timing
    benchmark.group = f"network {name}" if name in PROBLEMS else "scaling"
    _record(benchmark, net, "jax_grad")
    grads = _bench(benchmark, fn, heavy=False)
    from reference_impl.gradcheck import scale_free_error
    assert scale_free_error(G.chain_rule(net, params, x, y), grads) <= 1e-12
