"""Example ``gradient_check``: chain rule against both finite-difference methods on every document
network, in float64 and float32, and an eps sweep on the chapter's 2-3-1 network.

Source: 001_b373d019e6023af9.txt, "Gradient descent in code" (forward differences, step 1e-4)
and "Implementing backpropagation using the chain rule"; networks and data of 001, 002, 003, 004:
the ``GRADIENT_PROBLEM`` each built-in example declares, named by the registry (a third party's
problems are checked by the tests and the benchmarks, not here, so that this pin stays the documents').

Error measure: :func:`reference_impl.gradcheck.scale_free_error`, ||g - n|| / (||g|| + ||n||)
between the chain-rule gradient g and a finite-difference gradient n over all parameters.

Grades (pass / warn / fail) per dtype and method: pass within the tolerance table
:data:`reference_impl.gradcheck.TOLERANCES` (derived there), warn within ten times it.

Eps sweep: h = 1e-1 ... 1e-10 for both methods and dtypes. The error falls with h (truncation)
until rounding ~ eps_machine / h takes over; the best h sits near sqrt(eps) for forward and
cbrt(eps) for central differences.
"""

import numpy as np

from .. import gradients as G
from ..gradcheck import TOLERANCES, scale_free_error
from ._toy_network import PROBLEM as SWEEP_PROBLEM

DTYPES = {"float64": np.float64, "float32": np.float32}
METHODS = {"fd_chapter": G.fd_chapter, "fd_central_vectorized": G.fd_central_vectorized}
GRADES = {  # (dtype, method) -> (pass bound, warn bound)
    (dtype, method): (TOLERANCES[(dtype, kind)], 10 * TOLERANCES[(dtype, kind)])
    for dtype in DTYPES for method, kind in (("fd_chapter", "forward"), ("fd_central_vectorized", "central"))
}
# Written as literals: `10.0 ** -np.arange(1, 11)` differs in the last bit between NumPy 1.26 and 2.x.
SWEEP_STEPS = np.array([1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10])


def grade(error, dtype, method):
    pass_bound, warn_bound = GRADES[(dtype, method)]
    return "pass" if error <= pass_bound else "warn" if error <= warn_bound else "fail"


def document_problems():
    """name -> GradientProblem of every built-in example that declares one."""
    from backprop_repro.core import registry

    return registry.gradient_problems(builtin_only=True)


def run():
    out = {}
    for name, declared in document_problems().items():
        for dtype_name, dtype in DTYPES.items():
            net, params, x, y = G.problem(declared, dtype)
            analytic = G.chain_rule(net, params, x, y)
            for method_name, method in METHODS.items():
                error = scale_free_error(analytic, method(net, params, x, y))
                out[f"{name}/{dtype_name}/{method_name}/error"] = np.float64(error)
                out[f"{name}/{dtype_name}/{method_name}/grade"] = grade(error, dtype_name, method_name)
    for dtype_name, dtype in DTYPES.items():
        net, params, x, y = G.problem(SWEEP_PROBLEM, dtype)
        analytic = G.chain_rule(net, params, x, y)
        for method_name, method in METHODS.items():
            errors = np.array([scale_free_error(analytic, method(net, params, x, y, step=h)) for h in SWEEP_STEPS])
            out[f"eps_sweep/{dtype_name}/{method_name}/errors"] = errors
            out[f"eps_sweep/{dtype_name}/{method_name}/best_eps"] = SWEEP_STEPS[int(np.argmin(errors))]
    out["eps_sweep/steps"] = SWEEP_STEPS
    return out


# --- declarations (backprop_repro.core.spec) -------------------------------------------------------------------
from backprop_repro.core.spec import Figure, Mutation, Policy, Source  # noqa: E402

from ._documents import D001, D002, D003, D004  # noqa: E402

SOURCE = Source((D001, D002, D003, D004),
                "Gradient descent in code; Implementing backpropagation using the chain rule",
                "chain rule vs the chapter's and vectorized central finite differences on every document network, "
                "float64 and float32, with an eps sweep 1e-1..1e-10")
_ROUNDING_NOISE = ("an approximation error dominated by rounding noise (float32 throughout, or tiny steps): a "
                   "last-bit change of exp moves it by its own size; the pin guards its order of magnitude, the "
                   "grade and best eps are gated exactly")
POLICIES = (
    Policy("*/grade", "exact", "a grade (pass / warn / fail) against the thresholds of the example's docstring"),
    Policy("eps_sweep/steps", "exact", "powers of ten, written by the example"),
    Policy("*/best_eps", "exact", "the step of the smallest error: one of the ten sweep steps"),
    Policy("*/float64/fd_chapter/error", "close:rtol=1e-3,atol=0",
           "truncation-dominated (h f''/2f' with h = 1e-4): stable to many digits, 1e-3 leaves last-bit room"),
    # Widened after the NumPy 1.26 vs 2.4 drift matrix: these errors moved by up to half their value
    # (31/float64 central 8.1e-11 vs 1.6e-10; eps-sweep tails). ratio:3 accepts that spread either way
    # (close:rtol=1 would accept any smaller value, so it could not see an error that shrinks).
    Policy("*", "ratio:3", _ROUNDING_NOISE),
)
FIGURES = (Figure("Gradient error against the finite-difference step (2-3-1 network)",
                  "eps sweep: ||g - n|| / (||g|| + ||n||)", "step", "error",
                  tuple((f"{d} {m}", f"eps_sweep/{d}/{m}/errors") for d in DTYPES for m in METHODS),
                  x="eps_sweep/steps", logx=True, logy=True),)
# The package's chain rule and central differences (reference_impl.gradients), which this example grades.
MUTATIONS = (
    Mutation("backprop-derivative-of-preactivation", "d_pre1 = (d_pre2 @ w2.T) * a * (1 - a)",
             "d_pre1 = (d_pre2 @ w2.T) * _affine(x, w1, b1) * (1 - _affine(x, w1, b1))",
             "chain rule with the sigmoid derivative of the pre-activation", module="reference_impl.gradients"),
    Mutation("central-step", "step = 1e-3 if dtype == np.float32 else 1e-6",
             "step = 1e-3 if dtype == np.float32 else 1e-5", "central-difference default step changed",
             module="reference_impl.gradients"),
)
