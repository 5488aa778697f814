"""Example ``gradient_check``: chain rule against both finite-difference methods on every document
network, in float64 and float32, and an eps sweep on the chapter's 2-3-1 network.

Source: 001_b373d019e6023af9.txt, "Gradient descent in code" (forward differences, step 1e-4)
and "Implementing backpropagation using the chain rule"; networks and data of 001, 002, 003, 004
(see :func:`reference_impl.gradients.problem`).

Error measure: the scale-free relative error ||g - n|| / (||g|| + ||n||) between the chain-rule
gradient g and a finite-difference gradient n over all parameters (0 when both vanish).

Grades (pass / warn / fail) per dtype and method, from the error each method should reach:

- forward difference, step h = 1e-4 (the chapter's): truncation error ~ h |f''| / (2 |f'|), about
  1e-4 for these O(1)-curvature losses; in float32 add rounding ~ ulp(L) / h ~ 1e-3 relative.
  float64: pass <= 1e-3, warn <= 1e-2. float32: pass <= 1e-2, warn <= 1e-1.
- central difference, h = cbrt(machine eps) (1e-6 in float64, 1e-3 in float32): truncation
  ~ h^2 |f'''| and rounding ~ eps / h, both ~ eps^(2/3): 4e-11 in float64, 2e-5 in float32.
  float64: pass <= 1e-7, warn <= 1e-5. float32: pass <= 1e-3, warn <= 1e-2.

Eps sweep: h = 1e-1 ... 1e-10 for both methods and dtypes. The error falls with h (truncation)
until rounding ~ eps_machine / h takes over; the best h sits near sqrt(eps) for forward and
cbrt(eps) for central differences.
"""

import numpy as np

from .. import gradients as G

NETWORKS = ("231", "341", "332", "31", "11")
DTYPES = {"float64": np.float64, "float32": np.float32}
METHODS = {"fd_chapter": G.fd_chapter, "fd_central_vectorized": G.fd_central_vectorized}
GRADES = {  # (dtype, method) -> (pass bound, warn bound); reasons in the module docstring
    ("float64", "fd_chapter"): (1e-3, 1e-2),
    ("float32", "fd_chapter"): (1e-2, 1e-1),
    ("float64", "fd_central_vectorized"): (1e-7, 1e-5),
    ("float32", "fd_central_vectorized"): (1e-3, 1e-2),
}
# Written as literals: `10.0 ** -np.arange(1, 11)` differs in the last bit between NumPy 1.26 and 2.x.
SWEEP_STEPS = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10])
SWEEP_NETWORK = "231"


def scale_free_error(g, n):
    """||g - n|| / (||g|| + ||n||) over all parameter arrays, in float64."""
    g = np.concatenate([np.ravel(a) for a in g]).astype(np.float64)
    n = np.concatenate([np.ravel(a) for a in n]).astype(np.float64)
    scale = np.linalg.norm(g) + np.linalg.norm(n)
    return float(np.linalg.norm(g - n) / scale) if scale > 0 else 0.0


def grade(error, dtype, method):
    pass_bound, warn_bound = GRADES[(dtype, method)]
    return "pass" if error <= pass_bound else "warn" if error <= warn_bound else "fail"


def run():
    out = {}
    for name in NETWORKS:
        for dtype_name, dtype in DTYPES.items():
            net, params, x, y = G.problem(name, dtype)
            analytic = G.chain_rule(net, params, x, y)
            for method_name, method in METHODS.items():
                error = scale_free_error(analytic, method(net, params, x, y))
                out[f"{name}/{dtype_name}/{method_name}/error"] = np.float64(error)
                out[f"{name}/{dtype_name}/{method_name}/grade"] = grade(error, dtype_name, method_name)
    for dtype_name, dtype in DTYPES.items():
        net, params, x, y = G.problem(SWEEP_NETWORK, dtype)
        analytic = G.chain_rule(net, params, x, y)
        for method_name, method in METHODS.items():
            errors = np.array([scale_free_error(analytic, method(net, params, x, y, step=h)) for h in SWEEP_STEPS])
            out[f"eps_sweep/{dtype_name}/{method_name}/errors"] = errors
            out[f"eps_sweep/{dtype_name}/{method_name}/best_eps"] = SWEEP_STEPS[int(np.argmin(errors))]
    out["eps_sweep/steps"] = SWEEP_STEPS
    return out
