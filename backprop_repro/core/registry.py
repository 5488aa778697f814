"""The examples, discovered: every module of :mod:`reference_impl.examples` whose name does not start
with ``_``, and every module named in the entry-point group ``backprop_repro.examples`` of an installed
package. An example's id is its module name (an entry point's name); everything else about it is
declared in the module itself (see :mod:`backprop_repro.core.spec`). Nothing here names an example.
"""

import fnmatch
import importlib
import pkgutil
from dataclasses import dataclass
from functools import cached_property

from backprop_repro.core.errors import BadInput
from backprop_repro.core.spec import Policy, Source

__all__ = ["Example", "examples", "example_ids", "get", "policy_for", "gradient_problems", "mutations",
           "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "backprop_repro.examples"
_BUILTIN = "reference_impl.examples"


@dataclass(frozen=True)
class Example:
    id: str
    module_name: str

    @cached_property
    def module(self):
        return importlib.import_module(self.module_name)

    def _declared(self, name, default=()):
        return getattr(self.module, name, default)

    @property
    def source(self) -> Source:
        return self.module.SOURCE

    @property
    def documents(self):
        return tuple(self.source.documents)

    @property
    def section(self):
        return self.source.section

    @property
    def summary(self):
        return self.source.summary

    @property
    def policies(self):
        return tuple(p if isinstance(p, Policy) else Policy(*p) for p in self.module.POLICIES)

    @property
    def expected_warnings(self):
        return tuple(self._declared("WARNINGS"))

    @property
    def printed(self):
        return tuple(self._declared("PRINTED"))

    @property
    def claims(self):
        return tuple(self._declared("CLAIMS"))

    @property
    def figures(self):
        return tuple(self._declared("FIGURES"))

    @property
    def sweep(self):
        return self._declared("SWEEP", None)

    @property
    def builtin(self):
        """Whether the example is one of reference_impl.examples (not a third party's)."""
        return self.module_name.startswith(_BUILTIN + ".")

    @property
    def gradient_problem(self):
        return self._declared("GRADIENT_PROBLEM", None)

    @property
    def mutations(self):
        """Its self-test mutations, each with ``module`` resolved (the example's own module when not named)."""
        from dataclasses import replace

        return tuple(m if m.module else replace(m, module=self.module_name) for m in self._declared("MUTATIONS"))

    def claim_id(self, claim):
        return f"{self.id}:{claim.name}"

    def printed_id(self, printed):
        return f"{self.id}:{printed.quantity}{list(printed.index) if printed.index else ''}@{printed.document[:3]}"

    def run(self):
        return self.module.run()


def _validate(example):
    module = example.module
    missing = [name for name in ("run", "SOURCE", "POLICIES") if not hasattr(module, name)]
    if missing:
        raise BadInput(f"example {example.id!r} ({example.module_name}): declares no {', '.join(missing)}; an "
                       f"example module defines run(), SOURCE and POLICIES (see `backprop_repro.core.spec`)")
    return example


_CACHE = {}


def examples():
    """id -> Example, built-in modules first (alphabetical), then entry points; cached."""
    if "all" not in _CACHE:
        found = {}
        package = importlib.import_module(_BUILTIN)
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                found[info.name] = Example(info.name, f"{_BUILTIN}.{info.name}")
        from importlib.metadata import entry_points

        for point in entry_points(group=ENTRY_POINT_GROUP):
            if point.name in found and found[point.name].module_name != point.value:
                raise BadInput(f"entry point {point.name!r} = {point.value!r} ({ENTRY_POINT_GROUP}) clashes with "
                               f"the example of the same id in {found[point.name].module_name}; rename it")
            found[point.name] = Example(point.name, point.value)
        _CACHE["all"] = found
    return _CACHE["all"]


def example_ids():
    return list(examples())


def get(example_id):
    example = examples()[example_id]
    return _validate(example)


def gradient_problems(builtin_only=False):
    """name -> :class:`~backprop_repro.core.spec.GradientProblem` over the examples that declare one, in
    registry order (``builtin_only``: only reference_impl.examples'); two problems of one name are bad input."""
    found = {}
    for example in examples().values():
        problem = example.gradient_problem
        if problem is None or (builtin_only and not example.builtin):
            continue
        if problem.name in found:
            raise BadInput(f"{example.module_name}: GRADIENT_PROBLEM {problem.name!r} is declared by another "
                           f"example too; give it another name")
        found[problem.name] = problem
    return found


def mutations():
    """Every example's self-test mutations, in registry order; two mutations of one id are bad input."""
    found = {}
    for example in examples().values():
        for mutation in example.mutations:
            if mutation.id in found:
                raise BadInput(f"{example.module_name}: mutation {mutation.id!r} is declared twice; rename one")
            found[mutation.id] = mutation
    return list(found.values())


def policy_for(example, quantity):
    """(policy, reason) of a quantity: the first matching pattern of its example's table."""
    for policy in example.policies:
        if fnmatch.fnmatchcase(quantity, policy.pattern):
            return policy.policy, policy.reason
    raise BadInput(f"{example.module_name}: no tolerance policy matches quantity {quantity!r}; add a Policy to its "
                   f"POLICIES (a final '*' pattern covers the rest)")
