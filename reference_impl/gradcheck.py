"""Gradient checking on any function, in the style of ``jax.test_util.check_grads``.

One error measure, scale-free, over all parameter arrays at once::

    error(g, n) = ||g - n||_2 / (||g||_2 + ||n||_2)        (0 when both vanish)

It lies in [0, 1]: 0 for equal gradients, 1 when one of them is zero and the other not or when
they point in opposite directions. Being a ratio of norms it does not depend on the loss's scale,
and one parameter near zero cannot inflate it (as an elementwise relative error can).

Tolerances are tables by dtype and finite-difference method (``TOLERANCES``), derived from the
error each method must reach on losses of O(1) curvature:

- forward difference, step h: truncation ~ h |f''| / (2 |f'|) plus rounding ~ eps_machine / h.
  At the chapter's h = 1e-4: ~1e-4 in float64, ~1e-3 in float32. Bounds 1e-3 and 1e-2.
- central difference, step h = cbrt(eps_machine): truncation ~ h^2 |f'''| and rounding ~ eps / h,
  both ~ eps^(2/3): 4e-11 in float64, 2e-5 in float32. Bounds 1e-7 and 1e-3.
"""

import numpy as np

__all__ = ["scale_free_error", "numerical_grad", "check_grads", "TOLERANCES", "default_eps"]

#: (dtype name, method) -> largest scale-free error that passes (reasons in the module docstring).
TOLERANCES = {
    ("float64", "forward"): 1e-3,
    ("float32", "forward"): 1e-2,
    ("float64", "central"): 1e-7,
    ("float32", "central"): 1e-3,
}


def scale_free_error(g, n):
    """||g - n|| / (||g|| + ||n||) over all arrays of two gradients (lists of arrays), in float64."""
    g = np.concatenate([np.ravel(a) for a in g]).astype(np.float64)
    n = np.concatenate([np.ravel(a) for a in n]).astype(np.float64)
    scale = np.linalg.norm(g) + np.linalg.norm(n)
    return float(np.linalg.norm(g - n) / scale) if scale > 0 else 0.0


def default_eps(dtype, method="central"):
    """cbrt(eps_machine) for central differences, sqrt(eps_machine) for forward ones."""
    machine = np.finfo(dtype).eps
    return float(np.cbrt(machine) if method == "central" else np.sqrt(machine))


def _dtype_name(params):
    kinds = {np.asarray(p).dtype for p in params}
    return "float32" if kinds == {np.dtype(np.float32)} else "float64"


def numerical_grad(f, params, eps=None, method="central"):
    """Finite-difference gradient of the scalar ``f(params)`` for a list of arrays, one entry at a time."""
    params = [np.array(p, copy=True) for p in params]
    eps = default_eps(params[0].dtype, method) if eps is None else eps
    base = None if method == "central" else float(f(params))
    grads = []
    for p in params:
        g = np.zeros(p.shape, dtype=np.float64)
        for index in np.ndindex(p.shape):
            original = p[index]
            p[index] = original + eps
            plus = float(f(params))
            if method == "central":
                p[index] = original - eps
                g[index] = (plus - float(f(params))) / (2 * eps)
            else:
                g[index] = (plus - base) / eps
            p[index] = original
        grads.append(g)
    return grads


def check_grads(f, params, grad, eps=None, order=1, method="central", tol=None):
    """Assert that ``grad(params)`` is the gradient of ``f`` at ``params``; return the error(s).

    order 1: the scale-free error between ``grad`` and finite differences of ``f`` is at most
    ``tol`` (default ``TOLERANCES[dtype, method]``). order 2: also, the Jacobian of ``grad``
    (central differences of ``grad`` along each parameter) is symmetric, as a Hessian must be;
    a ``grad`` that is not the gradient of any function fails it. Raises AssertionError with the
    error, the bound and the worst parameter.
    """
    if order not in (1, 2):
        raise ValueError(f"order {order!r}: 1 or 2")
    dtype = _dtype_name(params)
    tol = TOLERANCES[(dtype, method)] if tol is None else tol
    analytic = [np.asarray(g, dtype=np.float64) for g in grad(params)]
    numeric = numerical_grad(f, params, eps, method)
    error = scale_free_error(analytic, numeric)
    if not error <= tol:
        flat_a = np.concatenate([a.ravel() for a in analytic])
        flat_n = np.concatenate([n.ravel() for n in numeric])
        worst = int(np.argmax(np.abs(flat_a - flat_n)))
        raise AssertionError(f"gradient check failed: scale-free error {error:.3g} > {tol:g} ({dtype}, {method} "
                             f"differences); worst flat parameter {worst}: grad {flat_a[worst]:.6g}, "
                             f"numerical {flat_n[worst]:.6g}")
    if order == 1:
        return error
    flat = [np.array(p, dtype=np.float64, copy=True) for p in params]
    sizes = [p.size for p in flat]
    h = default_eps(np.float64, "central") if eps is None else eps
    columns = []
    for k, p in enumerate(flat):
        for index in np.ndindex(p.shape):
            original = p[index]
            p[index] = original + h
            plus = np.concatenate([np.ravel(g) for g in grad(flat)])
            p[index] = original - h
            minus = np.concatenate([np.ravel(g) for g in grad(flat)])
            p[index] = original
            columns.append((plus - minus) / (2 * h))
    hessian = np.array(columns)
    asymmetry = scale_free_error([hessian], [hessian.T])
    if not asymmetry <= tol:
        raise AssertionError(f"second-order check failed: the Jacobian of grad is not symmetric (scale-free "
                             f"asymmetry {asymmetry:.3g} > {tol:g} over {sum(sizes)} parameters)")
    return error, asymmetry
