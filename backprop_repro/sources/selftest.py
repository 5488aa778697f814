"""``backprop-repro selftest``: prove that the gate bites, on the machine it runs on.

Copies ``reference_impl/`` (of the checkout when run from one) to temporary folders and applies one
small, realistic mutation at a time. Its baseline is built here, from the unmutated copy run in a
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
from dataclasses import dataclass
from pathlib import Path

from .errors import BadInput, RunFailed

__all__ = ["Mutation", "MUTATIONS", "run_selftest", "reachable_examples", "equivalent_here", "unexplained"]


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str          # path inside reference_impl/
    old: str           # text that must occur exactly once
    new: str
    why: str
    default_survivor: str = ""   # why no cross-environment policy can see it (measured), if it survives the default
    equivalent_when: tuple = ()  # (condition in EQUIVALENT_WHEN, why): where it holds the mutant changes no bit


def _numpy_major():
    import numpy

    return int(numpy.__version__.split(".")[0])


#: Conditions under which a mutant is equivalent (changes no bit), evaluated in the selftest's Python, which
#: is the mutants' Python too. An equivalent mutant must then survive both gates: the strict gate proves
#: bitwise that nothing changed, so the claim of equivalence is itself checked, never assumed.
EQUIVALENT_WHEN = {"numpy<2": lambda: _numpy_major() < 2}


SURVIVOR_332_LR = (
    "moves the 3-3-2 weights by at most a few ULP (max 1e-16 relative after 1000 epochs), while the same quantities "
    "drift by up to 125 ULP between NumPy 1.26 and 2.x and between SIMD paths (float64 exp): any policy that "
    "accepts that drift accepts this mutant; only the bitwise gate on one machine sees it")

MUTATIONS = [
    Mutation("fd-step-last-digit", "finite_differences.py", "STEP = 0.0001", "STEP = 0.0002",
             "finite-difference step changed in its last digit"),
    Mutation("toy-one-epoch-fewer", "examples/toy_backprop.py", "EPOCHS = 100\n", "EPOCHS = 99\n",
             "one epoch fewer in the 2-3-1 training"),
    Mutation("lr-fit-one-epoch-fewer", "examples/learning_rate.py", "EPOCHS = 1000", "EPOCHS = 999",
             "one epoch fewer in the learning-rate fit"),
    Mutation("332-one-epoch-fewer", "examples/notebook_332.py", "EPOCHS = 1000", "EPOCHS = 999",
             "one epoch fewer in the 3-3-2 network"),
    Mutation("332-lr-one-ulp", "examples/notebook_332.py", "LEARNING_RATE = 0.1", "LEARNING_RATE = 0.10000000000000002",
             "learning rate changed by one ULP (3-3-2 network)",
             default_survivor=SURVIVOR_332_LR),
    Mutation("float32-to-float64", "examples/_toy_network.py", "dtype=np.float32).T,\n        np.array([-0.0140",
             "dtype=np.float64).T,\n        np.array([-0.0140", "the toy network's first weights switched to float64"),
    Mutation("lr-fit-float64", "examples/learning_rate.py",
             "return [np.array([[0]], dtype=np.float32), np.array([[0]], dtype=np.float32)]",
             "return [np.array([[0]], dtype=np.float64), np.array([[0]], dtype=np.float64)]",
             "the learning-rate fit's parameters switched to float64"),
    Mutation("332-transpose-swapped", "examples/notebook_332.py", "w_hidden += np.outer(d_hidden, INPUTS)",
             "w_hidden += np.outer(INPUTS, d_hidden)", "a transpose swapped in the 3-3-2 update"),
    Mutation("xor-derivative-of-preactivation", "examples/xor_341.py",
             "np.dot(delta_out, weights2.T) * sigmoid_derivative(layer1)",
             "np.dot(delta_out, weights2.T) * sigmoid_derivative(np.dot(X, weights1))",
             "sigmoid derivative written from the pre-activation"),
    Mutation("backprop-derivative-of-preactivation", "gradients.py",
             "d_pre1 = (d_pre2 @ w2.T) * a * (1 - a)",
             "d_pre1 = (d_pre2 @ w2.T) * _affine(x, w1, b1) * (1 - _affine(x, w1, b1))",
             "chain rule with the sigmoid derivative of the pre-activation"),
    Mutation("fd-update-sign", "finite_differences.py", "updated_weights[i][index] -= grad * lr",
             "updated_weights[i][index] += grad * lr", "update sign flipped"),
    Mutation("fd-sequential-update", "finite_differences.py", "loss_fn(inputs, outputs, _perturbed(weights, i, index, step))",
             "loss_fn(inputs, outputs, _perturbed(updated_weights, i, index, step))",
             "update order changed: sequential instead of simultaneous"),
    Mutation("cavar-seed", "examples/cavar_single_layer.py", "    np.random.seed(1)\n", "    np.random.seed(2)\n",
             "seed changed (004 single layer)"),
    Mutation("xor-seed", "examples/xor_341.py", "SEED = 0", "SEED = 1", "seed changed (003)"),
    Mutation("cavar-hidden-update-order", "examples/cavar_hidden_layer.py",
             "        wo += np.dot(l1.T, l2_delta)\n        wh += np.dot(x_t, l1_delta)",
             "        wo += np.dot(l1.T, l2_delta)\n        wh += np.dot(x_t, l2_delta.dot(wo.T) * sigmoid_prime(l1))",
             "hidden update computed from the already updated output weights"),
    Mutation("nep50-plain-add", "finite_differences.py", "temp[i][index] = np.float64(temp[i][index]) + step",
             "temp[i][index] += step", "the explicit NumPy 1.x cast dropped (NEP 50 float32 add)",
             equivalent_when=("numpy<2", "NumPy 1.x adds a float32 scalar and a Python float in float64 (value-based "
                                         "casting), as the explicit cast does; only NEP 50 (NumPy 2) makes it a "
                                         "float32 add")),
    Mutation("softmax-no-shift", "activations.py", "z = np.exp(x - np.max(x))", "z = np.exp(x)",
             "the sound softmax without its max shift"),
    Mutation("bce-formula-sum", "losses.py", "return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))",
             "return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))", "cross-entropy formula summing, not averaging"),
    Mutation("central-step", "gradients.py", "step = 1e-3 if dtype == np.float32 else 1e-6",
             "step = 1e-3 if dtype == np.float32 else 1e-5", "central-difference default step changed"),
]


def _source_dir():
    """reference_impl/ of the checkout this harness runs from, else of the installed package."""
    from .locations import checkout_root

    root = checkout_root()
    if root is not None and (root / "reference_impl").is_dir():
        return root / "reference_impl"
    import reference_impl

    return Path(reference_impl.__file__).resolve().parent


def _imports(path, package_dir):
    """reference_impl files a module imports (relative or absolute), as paths relative to package_dir."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = path.parent.relative_to(package_dir).parts
    found = set()

    def add(parts):
        for candidate in (Path(*parts).with_suffix(".py") if parts else None, Path(*parts, "__init__.py")):
            if candidate is not None and (package_dir / candidate).is_file():
                found.add(candidate.as_posix())

    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(here[:len(here) - node.level + 1]) if node.level > 1 else list(here)
            elif node.module and node.module.split(".")[0] == "reference_impl":
                base = []
            else:
                continue
            module = [p for p in (node.module or "").split(".") if p]
            if not node.level:
                module = module[1:]
            add(base + module)
            for alias in node.names:
                add(base + module + [alias.name])
        elif isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "reference_impl":
                    add(parts[1:])
    return found


def reachable_examples(package_dir, relative_file):
    """Ids of the built-in examples whose module imports ``relative_file`` directly or transitively."""
    package_dir = Path(package_dir)
    graph = {}
    for path in package_dir.rglob("*.py"):
        graph[path.relative_to(package_dir).as_posix()] = _imports(path, package_dir)
    reached = []
    for path in sorted((package_dir / "examples").glob("*.py")):
        if path.name.startswith("_"):
            continue
        start = path.relative_to(package_dir).as_posix()
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        if relative_file in seen:
            reached.append(path.stem)
    return reached


def _judge(baseline_dir, ids):
    """In the mutant's process: run ``ids`` once and judge them against the baseline pins under the default
    policies and bitwise; returns {"default": [failing rows], "strict": [...]} (rows as "example:what")."""
    from . import registry, runner

    from . import pins

    loaded = {i: pins.load_pin(baseline_dir, i) for i in ids}
    verdict = {"default": [], "strict": []}
    for example_id in ids:
        run = runner.run_example(registry.get(example_id))
        shared = [f"{example_id}:printed {r['quantity']}{r['index']}" for r in runner.printed_rows(run)
                  if r["status"] != "pass"]
        shared += [f"claim {r['id']}" for r in runner.claim_rows(run) if r["status"] not in runner.NON_FAILING]
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
    """Copy reference_impl (mutated) into tmp and run ``python -m repro.selftest ARGS`` with it first on the path."""
    shutil.copytree(source, tmp / "reference_impl", ignore=shutil.ignore_patterns("__pycache__"))
    if mutation is not None:
        _apply(tmp, mutation)
    harness_parent = Path(__file__).resolve().parent.parent
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp), str(harness_parent)]),
           "PYTHONDONTWRITEBYTECODE": "1", "PYTHONWARNINGS": "ignore"}
    return subprocess.run([sys.executable, "-m", "repro.selftest", *args], cwd=tmp, env=env, capture_output=True,
                          text=True)


def _apply(root, mutation):
    path = root / "reference_impl" / mutation.file
    text = path.read_text()
    if text.count(mutation.old) != 1:
        raise BadInput(f"selftest mutation {mutation.id!r}: its text occurs {text.count(mutation.old)} times in "
                       f"reference_impl/{mutation.file}, not once; update the catalogue in repro/selftest.py")
    path.write_text(text.replace(mutation.old, mutation.new))


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


def run_selftest(only=None, progress=None, workers=None):
    """Rows (id, why, examples, killed_default, killed_strict, caught_by, ...) for every mutation (or ``only``)."""
    source = _source_dir()
    unknown = set(only or ()) - {m.id for m in MUTATIONS}
    if unknown:
        raise BadInput(f"--only {sorted(unknown)[0]}: unknown mutation; known: {', '.join(m.id for m in MUTATIONS)}")
    chosen = [m for m in MUTATIONS if not only or m.id in only]
    for mutation in chosen:   # validate the whole catalogue before the first run
        text = (source / mutation.file).read_text()
        if text.count(mutation.old) != 1:
            raise BadInput(f"selftest mutation {mutation.id!r}: its text occurs {text.count(mutation.old)} times in "
                           f"{source / mutation.file}, not once; update the catalogue in repro/selftest.py")
    reach = {m.id: reachable_examples(source, m.file) for m in chosen}
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
        sanity = _run_copy(tmp / "sanity", source, None, ["--judge", str(baseline), *needed])
        verdict = json.loads(sanity.stdout) if sanity.returncode == 0 else None
        if verdict is None or verdict["strict"]:
            raise RunFailed("selftest: the unmutated code differs from its own baseline in a second process "
                            f"({(verdict or {}).get('strict', sanity.stderr.strip()[-200:])}); the examples are not "
                            "deterministic here (see `backprop-repro check --repeat 2`)")

        def one(mutation):
            out = _run_copy(tmp / mutation.id, source, mutation, ["--judge", str(baseline), *reach[mutation.id]])
            if out.returncode != 0:   # the mutant crashed the harness: a kill under both gates
                last = out.stderr.strip().splitlines()[-1] if out.stderr.strip() else f"exit {out.returncode}"
                v = {"default": [f"crashed: {last}"], "strict": [f"crashed: {last}"]}
            else:
                v = json.loads(out.stdout)
            row = {"name": mutation.id, "id": mutation.id, "file": mutation.file, "why": mutation.why,
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
            return list(pool.map(one, chosen))


def _main(argv):
    from . import pins, registry, runner
    from .environment import fingerprint

    mode, target, ids = argv[0], Path(argv[1]), argv[2:]
    if mode == "--make-baseline":
        target.mkdir(parents=True, exist_ok=True)
        for example_id in ids:
            run = runner.run_example(registry.get(example_id))
            if run.error:
                print(f"{example_id}: {run.error}", file=sys.stderr)
                return 1
            pins.write_pin(target, pins.make_pin(registry.get(example_id), run.quantities,
                                                 {"command": "selftest baseline", **fingerprint()}))
        return 0
    print(json.dumps(_judge(target, ids)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
