"""``backprop-repro selftest``: prove that the gate bites, on the machine it runs on.

Copies ``reference_impl/`` (of the checkout when run from one) to temporary folders and applies one
small, realistic mutation at a time. Each example declares its mutations beside the code they change
(``MUTATIONS``, :class:`backprop_repro.core.spec.Mutation`), in its own module or in a shared module it
imports; the catalogue is the registry's (a third party's example brings its own: its package is copied
and mutated the same way). Its baseline is built here, from the unmutated copy run in a
fresh process exactly like the mutants (a temporary pin set, never the committed pins, so another
CPU, BLAS kernel or NumPy cannot make it meaningless). Each mutant runs, in its own process, only
the examples that import the mutated file (directly or through other modules), and is judged against
that baseline twice: under the examples' own policies (the default gate) and bitwise (``--strict``),
including printed values, claims and warnings. A mutation is *killed* under a gate when that gate
fails. Mutants run in parallel on the available cores; no report is rendered.

Mutations that change no bit at all are equivalent mutants and are not listed: a one-ULP change of
the learning rate of the toy network or of the learning-rate fit, absorbed by the float32 rounding of
every update (checked: every quantity of both examples bit-identical under the mutant). A mutation
that only ``--strict`` can see carries ``default_survivor``: the measured reason why no
cross-environment policy can see it.
"""

import ast
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from importlib.util import find_spec
from pathlib import Path

from backprop_repro.core.errors import BadInput, RunFailed
from backprop_repro.core.spec import Mutation

__all__ = ["Mutation", "MUTATIONS", "mutations", "run_selftest", "reachable_examples", "equivalent_here",
           "unexplained", "module_file", "verdict"]


def _numpy_major():
    import numpy

    return int(numpy.__version__.split(".")[0])


#: Conditions under which a mutant is equivalent (changes no bit), evaluated in the selftest's Python, which
#: is the mutants' Python too. An equivalent mutant must then survive both gates: the strict gate proves
#: bitwise that nothing changed, so the claim of equivalence is itself checked, never assumed.
EQUIVALENT_WHEN = {"numpy<2": lambda: _numpy_major() < 2}


def mutations():
    """Every example's mutations (the registry's), ``module`` resolved."""
    from backprop_repro.core import registry

    return registry.mutations()


def __getattr__(name):   # MUTATIONS: read from the examples when asked for, never at import
    if name == "MUTATIONS":
        return mutations()
    raise AttributeError(name)


def _source_dir():
    """reference_impl/ of the checkout this harness runs from, else of the installed package."""
    from backprop_repro.store.locations import checkout_root

    root = checkout_root()
    if root is not None and (root / "reference_impl").is_dir():
        return root / "reference_impl"
    import reference_impl

    return Path(reference_impl.__file__).resolve().parent


def _package_root(top):
    """The folder holding top-level package (or module) ``top``: reference_impl's the selftest copies, else
    where it imports from."""
    if top == "reference_impl":
        return _source_dir().parent
    spec = find_spec(top)
    if spec is None or spec.origin is None and not spec.submodule_search_locations:
        raise BadInput(f"selftest: cannot find module {top!r} to copy and mutate")
    if spec.submodule_search_locations:
        return Path(list(spec.submodule_search_locations)[0]).resolve().parent
    return Path(spec.origin).resolve().parent


def module_file(module):
    """(folder holding its top-level package, path of ``module``'s source relative to that folder)."""
    parts = module.split(".")
    root = _package_root(parts[0])
    for candidate in (Path(*parts).with_suffix(".py"), Path(*parts, "__init__.py")):
        if (root / candidate).is_file():
            return root, candidate.as_posix()
    raise BadInput(f"selftest: module {module!r} has no source file under {root}")


def _modules(root, top):
    """dotted name -> source path of every module of top-level package ``top`` under ``root``."""
    single = root / f"{top}.py"
    if single.is_file():
        return {top: single}
    found = {}
    for path in (root / top).rglob("*.py"):
        parts = path.relative_to(root).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


_REGISTRY = "backprop_repro.core.registry"
_TIMINGS = "seconds.json"   # beside the baseline pins: each example's run time there


def _imports(name, path, known, example_modules=()):
    """The known modules that module ``name`` (source ``path``) imports, relative or absolute; a module that
    imports the registry reads what every example declares (e.g. its gradient problem), so it reaches them all."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            base = package[:len(package) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            names = [module] + [f"{module}.{a.name}" for a in node.names]
            found |= {m for m in names if m in known}
            if _REGISTRY in names:
                found |= set(example_modules)
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name in known}
            if any(a.name == _REGISTRY for a in node.names):
                found |= set(example_modules)
    return found


def reachable_examples(module):
    """Ids of the registered examples whose module imports ``module`` (dotted) directly or transitively."""
    from backprop_repro.core import registry

    found = registry.examples()
    tops = {"reference_impl"} | {e.module_name.split(".")[0] for e in found.values()} | {module.split(".")[0]}
    known = {}
    for top in sorted(tops):
        known.update(_modules(_package_root(top), top))
    modules = [e.module_name for e in found.values()]
    graph = {name: _imports(name, path, known, modules) for name, path in known.items()}
    reached = []
    for example in found.values():
        seen, todo = {example.module_name}, [example.module_name]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if module in seen:
            reached.append(example.id)
    return reached


def _judge(baseline_dir, ids):
    """In the mutant's process: run ``ids`` once, quickest first (the baseline's timings), and judge them against
    the baseline pins under the default policies and bitwise, until both gates have a failure (a kill under both
    is then certain, as a test runner stops a mutant at its first failing test); returns {"default": [failing
    rows], "strict": [...]} (rows as "example:what")."""
    from backprop_repro.core import registry
    from backprop_repro.core.record import NON_FAILING
    from backprop_repro.sources import runner

    from backprop_repro.store import pins

    loaded = {i: pins.load_pin(baseline_dir, i) for i in ids}
    seconds = json.loads((baseline_dir / _TIMINGS).read_text()) if (baseline_dir / _TIMINGS).is_file() else {}
    verdict = {"default": [], "strict": []}
    for example_id in sorted(ids, key=lambda i: seconds.get(i, 0.0)):
        if verdict["default"] and verdict["strict"]:
            break
        run = runner.run_example(registry.get(example_id))
        shared = [f"{example_id}:printed {r['quantity']}{r['index']}" for r in runner.printed_rows(run)
                  if r["status"] != "pass"]
        shared += [f"claim {r['id']}" for r in runner.claim_rows(run) if r["status"] not in NON_FAILING]
        ok, note = runner._warning_check(run)
        if not ok:
            shared.append(f"{example_id}:warnings {note}")
        for gate, strict in (("default", False), ("strict", True)):
            try:
                rows = runner.compare_example(run, loaded[example_id], strict=strict)
            except BadInput as exc:   # the mutant produces other quantities than the baseline
                rows = [{"status": "fail", "quantity": "*", "message": str(exc)}]
            verdict[gate] += [f"{example_id}:{r['quantity']} {r['message'][:160]}" for r in rows
                              if r["status"] != "pass"] + shared
    return verdict


def _run_copy(tmp, source, mutation, args):
    """Copy reference_impl (and the package of a mutated module outside it), apply the mutation, and run
    ``python -m backprop_repro.sources.selftest ARGS`` with the copies first on the path."""
    shutil.copytree(source, tmp / "reference_impl", ignore=shutil.ignore_patterns("__pycache__"))
    if mutation is not None:
        top = mutation.module.split(".")[0]
        if top != "reference_impl":
            root = _package_root(top)
            if (root / top).is_dir():
                shutil.copytree(root / top, tmp / top, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                shutil.copy(root / f"{top}.py", tmp / f"{top}.py")
        _apply(tmp, mutation)
    harness_parent = Path(__file__).resolve().parents[2]
    inherited = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]   # a third party's site
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(harness_parent), *inherited]),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "backprop_repro.sources.selftest", *args], cwd=tmp, env=env, capture_output=True,
                          text=True)


def _declaration(text):
    """(start, end) character span of the module-level ``MUTATIONS = ...`` statement, or (0, 0): the
    mutated text is searched outside it, since a module declaring its own mutations quotes their text."""
    for node in ast.parse(text).body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "MUTATIONS" for t in targets):
            starts = [0]
            for line in text.splitlines(keepends=True):
                starts.append(starts[-1] + len(line))
            return starts[node.lineno - 1], starts[node.end_lineno]
    return 0, 0


def _mutated(text, mutation, where):
    """``text`` with the mutation applied outside its MUTATIONS declaration; bad input unless its text occurs
    there exactly once."""
    start, end = _declaration(text)
    head, tail = text[:start], text[end:]
    count = head.count(mutation.old) + tail.count(mutation.old)
    if count != 1:
        raise BadInput(f"selftest mutation {mutation.id!r}: its text occurs {count} times in {where}, not once; "
                       f"update its declaration (MUTATIONS of the example that declares it)")
    if mutation.old in head:
        return head.replace(mutation.old, mutation.new) + text[start:]
    return text[:end] + tail.replace(mutation.old, mutation.new)


def _apply(root, mutation):
    path = root / module_file(mutation.module)[1]
    path.write_text(_mutated(path.read_text(), mutation, path))


def equivalent_here(mutation):
    """The reason ``mutation`` is an equivalent mutant in this environment, or ''."""
    if mutation.equivalent_when and EQUIVALENT_WHEN[mutation.equivalent_when[0]]():
        return f"{mutation.equivalent_when[0]}: {mutation.equivalent_when[1]}"
    return ""


def unexplained(row):
    """Whether a row is a failure of the gate: a survivor without a recorded reason, or an 'equivalent' mutant
    that changed bits after all."""
    if row["equivalent_here"]:
        return row["killed_strict"]
    return not row["killed_strict"] or (not row["killed_default"] and not row["expected_default_survivor"])


def verdict(rows):
    """The self-test's record (selftest.json): one observation per mutation (failing when :func:`unexplained`) and
    the kill rates over the mutations that are not equivalent here (those cannot be killed)."""
    from backprop_repro.core import record

    scored = [r for r in rows if not r["equivalent_here"]]
    n = max(len(scored), 1)
    default, strict = sum(r["killed_default"] for r in scored), sum(r["killed_strict"] for r in scored)
    unexplained_ids = [r["id"] for r in rows if unexplained(r)]
    payload = {"schema_version": 1, "mutations": rows, "kill_rate_default": default / n, "kill_rate_strict": strict / n,
               "equivalent_here": len(rows) - len(scored), "unexplained_survivors": unexplained_ids}
    observations = [record.Observation(record.Kind.MUTATION, r["id"], "fail" if r["id"] in unexplained_ids else "pass",
                                       ", ".join(r.get("examples") or ()), "killed", _outcome(r), note=r["why"])
                    for r in rows]
    return record.build("selftest", observations, payload=payload,
                        summaries={"scored": len(scored), "killed_default": default, "killed_strict": strict})


def _outcome(row):
    return ("equivalent" if row["equivalent_here"] and not row["killed_strict"] else "killed" if row["killed_default"]
            else "killed-strict" if row["killed_strict"] else "survived")


def run_selftest(only=None, progress=None, workers=None):
    """Rows (id, why, examples, killed_default, killed_strict, caught_by, ...) for every mutation (or ``only``)."""
    source = _source_dir()
    catalogue = mutations()
    unknown = set(only or ()) - {m.id for m in catalogue}
    if unknown:
        raise BadInput(f"--only {sorted(unknown)[0]}: unknown mutation; known: {', '.join(m.id for m in catalogue)}")
    chosen = [m for m in catalogue if not only or m.id in only]
    files = {m.id: module_file(m.module) for m in chosen}
    for mutation in chosen:   # validate the whole catalogue before the first run
        root, relative = files[mutation.id]
        _mutated((root / relative).read_text(), mutation, root / relative)
    reach = {m.id: reachable_examples(m.module) for m in chosen}
    needed = sorted({i for ids in reach.values() for i in ids})
    workers = workers or max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count())
    with tempfile.TemporaryDirectory(prefix="backprop-selftest-") as tmp_name:
        tmp = Path(tmp_name)
        baseline = tmp / "baseline-pins"
        if progress:
            progress(f"selftest: baseline of {len(needed)} examples from the unmutated code, on this machine",
                     advance=True)
        done = _run_copy(tmp / "base", source, None, ["--make-baseline", str(baseline), *needed])
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise RunFailed(f"selftest: the unmutated examples failed to run: {last}")
        def sanity():   # the unmutated code again, in a second process, beside the first mutants
            done = _run_copy(tmp / "sanity", source, None, ["--judge", str(baseline), *needed])
            verdict = json.loads(done.stdout) if done.returncode == 0 else None
            if verdict is None or verdict["strict"]:
                raise RunFailed("selftest: the unmutated code differs from its own baseline in a second process "
                                f"({(verdict or {}).get('strict', done.stderr.strip()[-200:])}); the examples are "
                                "not deterministic here (see `backprop-repro check --repeat 2`)")

        def one(mutation):
            if checked.done() and checked.exception() is not None:   # the baseline is void: no mutant more
                raise checked.exception()
            out = _run_copy(tmp / mutation.id, source, mutation, ["--judge", str(baseline), *reach[mutation.id]])
            if out.returncode != 0:   # the mutant crashed the harness: a kill under both gates
                last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
                v = {"default": [f"crashed: {last}"], "strict": [f"crashed: {last}"]}
            else:
                v = json.loads(out.stdout)
            row = {"name": mutation.id, "id": mutation.id, "file": files[mutation.id][1], "why": mutation.why,
                   "examples": reach[mutation.id], "killed_default": bool(v["default"]),
                   "killed_strict": bool(v["strict"]), "caught_by": (v["default"] or v["strict"])[:5],
                   "caught_by_default": v["default"][:5], "expected_default_survivor": mutation.default_survivor,
                   "equivalent_here": equivalent_here(mutation)}
            if progress:
                missed = "equivalent" if row["equivalent_here"] else "SURVIVED"
                progress(f"{mutation.id}: default {'killed' if row['killed_default'] else missed}, strict "
                         f"{'killed' if row['killed_strict'] else missed}", advance=True)
            return row

        with ThreadPoolExecutor(max_workers=workers) as pool:
            checked = pool.submit(sanity)
            rows = list(pool.map(one, chosen))
            checked.result()   # a non-deterministic baseline voids every row
            return rows


def _main(argv):
    from backprop_repro.store import pins
    from backprop_repro.core import registry
    from backprop_repro.sources import runner
    from backprop_repro.core.environment import fingerprint

    mode, target, ids = argv[0], Path(argv[1]), argv[2:]
    if mode == "--make-baseline":
        target.mkdir(parents=True, exist_ok=True)
        seconds = {}
        for example_id in ids:
            run = runner.run_example(registry.get(example_id))
            if run.error:
                print(f"{example_id}: {run.error}", file=sys.stderr)
                return 1
            pins.write_pin(target, pins.make_pin(registry.get(example_id), run.quantities,
                                                 {"command": "selftest baseline", **fingerprint()}))
            seconds[example_id] = run.seconds
        (target / _TIMINGS).write_text(json.dumps(seconds))
        return 0
    print(json.dumps(_judge(target, ids)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
