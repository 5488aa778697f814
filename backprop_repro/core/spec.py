"""What an example module declares beside its ``run()``: the vocabulary of an example.

An example is one module, ``reference_impl/examples/<id>.py`` (or a module a third-party package
names in the entry-point group ``backprop_repro.examples``). Its id is its module name (the entry
point's name). Beside ``run() -> dict[str, value]`` it declares, at module level:

====================  =======================================================================  ========
name                  what                                                                     required
====================  =======================================================================  ========
``SOURCE``            :class:`Source`: the documents (file names), section, one-line summary   yes
``POLICIES``          :class:`Policy` tuple (quantity pattern, policy, reason); the first      yes
                      ``fnmatch`` match decides
``PRINTED``           :class:`Printed` tuple: numbers and texts the document prints            no
``CLAIMS``            :class:`Claim` tuple: the document's prose claims with a predicate       no
``FIGURES``           :class:`Figure` tuple: line plots of quantities for the report           no
``SWEEP``             :class:`reference_impl.sweeps.SweepSpec`: a network by its layer sizes,  no
                      trained over many seeds
``GRADIENT_PROBLEM``  :class:`GradientProblem`: its network, parameters, inputs, targets       no
                      (benchmarked and gradient-checked through the registry)
``MUTATIONS``         :class:`Mutation` tuple: the self-test's changes of this module (or of   no
                      a shared module it imports), declared beside the code they change
``WARNINGS``          substrings of the RuntimeWarnings the document's code really raises      no
====================  =======================================================================  ========

The registry namespaces claim and printed-value ids by the example id (``<id>:<name>``). Nothing
outside the module names the example. This module imports nothing heavy: declaring an example
costs no NumPy import of its own.
"""

from dataclasses import dataclass
from typing import Callable

__all__ = ["Source", "Policy", "Printed", "Claim", "Figure", "GradientProblem", "Mutation", "printed_table",
           "REASONS"]


@dataclass(frozen=True)
class Source:
    documents: tuple        # file names of the documents the example reproduces
    section: str            # their section (or cells)
    summary: str            # one line: what the example computes


@dataclass(frozen=True)
class Policy:
    pattern: str            # fnmatch pattern over quantity names
    policy: str             # exact | ulp:N | close:rtol=R,atol=A | ratio:F
    reason: str             # why this policy holds across environments (docs/numerics.md)

    def __iter__(self):     # (pattern, policy, reason), as tables print it
        return iter((self.pattern, self.policy, self.reason))


@dataclass(frozen=True)
class Printed:
    """A number (or text) the document prints, compared at its printed precision."""

    quantity: str
    index: tuple            # element of the quantity's array; () for a scalar or a text
    printed: str            # exactly as printed
    document: str
    section: str
    expected: str = "reproduced"   # reviewed outcome: reproduced | not-reproduced
    note: str = ""


@dataclass(frozen=True)
class Claim:
    """A prose claim: ``measure(q) -> (measured, holds)`` over the example's fresh quantities ``q``."""

    name: str
    document: str
    section: str
    claim: str              # the document's claim, paraphrased with its key words quoted
    predicate: str          # what is measured and when it holds
    measure: Callable
    expected: str           # reviewed verdict: reproduced | reproduced-with-caveat | not-reproduced | unavailable
    caveat: str = ""        # when the predicate holds but the claim needs qualifying
    explanation: str = ""   # when the predicate does not hold


@dataclass(frozen=True)
class Figure:
    """A line plot of quantities, drawn by the report from stored results (fresh and pinned)."""

    caption: str
    title: str
    xlabel: str
    ylabel: str
    series: tuple           # ((label, quantity), ...)
    x: str | None = None    # a quantity holding the x values; default 1..n
    logx: bool = False
    logy: bool = False


@dataclass(frozen=True)
class GradientProblem:
    """A dense network with its data, for the gradient checks and the benchmarks.

    At most one sigmoid hidden layer: ``sizes`` is (n_in, n_out) or (n_in, n_hidden, n_out). Parameters
    come in the chapter's order and layout, ``[W1 (in, hidden), b1, W2 (hidden, out), b2]`` (biases
    omitted without ``bias``); the loss is the mean squared error over all outputs.
    """

    name: str               # the network's name in benchmark tables and gradient_check's quantities
    sizes: tuple            # layer sizes
    bias: bool
    output: str             # "linear" | "sigmoid"
    parameters: Callable    # () -> a fresh list of arrays (starting weights)
    inputs: object          # (m, n_in) array-like
    targets: object         # (m, n_out) array-like


@dataclass(frozen=True)
class Mutation:
    """A small realistic change the self-test applies to a copy of the code; the gate must fail on it.

    ``module`` is the dotted name of the module whose text is replaced, "" for the declaring example's
    own module (a shared module it imports otherwise, e.g. ``reference_impl.finite_differences``).
    """

    id: str
    old: str                # text that must occur exactly once in the module
    new: str
    why: str
    module: str = ""
    default_survivor: str = ""   # why no cross-environment policy can see it (measured), if it survives the default
    equivalent_when: tuple = ()  # (condition, why): where the condition holds the mutant changes no bit


def printed_table(quantity, rows, document, section, **kwargs):
    """One :class:`Printed` per element of a printed (nested) array of strings."""
    out = []

    def walk(node, index):
        if isinstance(node, str):
            out.append(Printed(quantity, index, node, document, section, **kwargs))
        else:
            for i, child in enumerate(node):
                walk(child, index + (i,))

    walk(rows, ())
    return tuple(out)


@dataclass(frozen=True)
class _Reasons:
    """Reasons shared by many policies; the numbers behind them are in docs/numerics.md."""

    exp_free: str = ("exp-free chain of + - * / with at most one-term products and a 4-element mean: bitwise "
                     "reproducible (numerics, policy 1); fallback for untested platforms close:rtol=1e-6")
    text: str = "an error message: text must match exactly (numerics, policy 1)"
    draw: str = "legacy MT19937 draws times a constant: frozen stream, bitwise (numerics, policy 1)"
    boolean: str = "a boolean finding (which entries are NaN / finite): exact"
    one_exp: str = "one elementwise exp per value, NumPy documents <= 4 ULP between SIMD paths (numerics, policy 2)"
    f64_trace: str = ("float64 training through exp; SIMD exp differs in the last bits and training carries it: "
                      "measured <= 2.1e-14 relative (137 ULP) across 7 CPU paths and NumPy 1.26/2.x; 1e-12 leaves "
                      "50x room (numerics, policy 3)")
    f32_rounded: str = ("float64 update rounded to float32: a last-bit change of the float64 gradient can flip a "
                        "near-tie rounding by 1 ULP (numerics, policy 4, tightened to one ULP for a single update)")


REASONS = _Reasons()
