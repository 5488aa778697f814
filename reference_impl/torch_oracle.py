"""An independent oracle: the chapter's 2-3-1 network in PyTorch (autograd), for the claim of 000 that the
network's inputs and outputs are the same whether it is written in NumPy or in PyTorch.

torch is an optional extra (``backprop-repro[torch]``): :func:`available` says whether it imports here.
"""

import numpy as np

__all__ = ["available", "gradients_231", "train_231"]


def available():
    """(True, version) or (False, why)."""
    try:
        import torch
    except ImportError as exc:
        return False, f"torch is not installed ({exc}); install the extra: pip install 'backprop-repro[torch]'"
    return True, torch.__version__


def _forward(torch, w0, b0, w2, b2, x):
    return torch.sigmoid(x @ w0 + b0) @ w2 + b2


def gradients_231(inputs, targets, weights):
    """torch.autograd gradients of the chapter's MSE loss at ``weights`` (float64), as NumPy arrays."""
    import torch

    params = [torch.tensor(np.asarray(w, np.float64), requires_grad=True) for w in weights]
    x, y = torch.tensor(np.asarray(inputs, np.float64)), torch.tensor(np.asarray(targets, np.float64))
    torch.mean((_forward(torch, *params, x) - y) ** 2).backward()
    return [p.grad.numpy() for p in params]


def train_231(inputs, targets, weights, lr, epochs):
    """Plain gradient descent with autograd gradients (float64); returns the prediction for ``inputs``."""
    import torch

    params = [torch.tensor(np.asarray(w, np.float64), requires_grad=True) for w in weights]
    x, y = torch.tensor(np.asarray(inputs, np.float64)), torch.tensor(np.asarray(targets, np.float64))
    for _ in range(epochs):
        loss = torch.mean((_forward(torch, *params, x) - y) ** 2)
        grads = torch.autograd.grad(loss, params)
        with torch.no_grad():
            for p, g in zip(params, grads):
                p -= lr * g
    with torch.no_grad():
        return _forward(torch, *params, x).numpy()
