"""The chapter's own suggestion (001, end of "Putting feedforward propagation and backpropagation
together"): NumPy and PyTorch give the same gradients for the 2-3-1 network. Skipped cleanly without torch."""

import numpy as np
import pytest

from backprop_repro.core import registry
from reference_impl import gradients as G
from reference_impl.gradcheck import scale_free_error


@pytest.fixture(scope="module")
def torch():
    """Imported when a test here runs, not when the file is collected (2 s of CPU in every pytest-xdist worker)."""
    return pytest.importorskip("torch", reason="torch not installed (extra: backprop-repro[torch])")


# float64: both are exact chain rules, differing only in rounding order: a few ULP, far below 1e-12.
# float32 end to end: sigmoid/matmul rounding of ~1e-7 relative per operation: 1e-5 leaves a wide margin.
TOLERANCE = {np.float64: 1e-12, np.float32: 1e-5}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("name", list(registry.gradient_problems()))
def test_numpy_and_torch_gradients_agree(name, dtype, torch):
    net, params, x, y = G.problem(registry.gradient_problems()[name], dtype)
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    w1, b1, w2, b2 = G.layers(net, tp)
    a = torch.tensor(x)
    if net.hidden:
        a = torch.sigmoid(a @ w1 + (b1 if b1 is not None else 0))
    pre = a @ w2 + (b2 if b2 is not None else 0)
    out = torch.sigmoid(pre) if net.output == "sigmoid" else pre
    torch.mean((out - torch.tensor(y)) ** 2).backward()
    error = scale_free_error(G.chain_rule(net, params, x, y), [t.grad.numpy() for t in tp])
    assert error <= TOLERANCE[dtype]
