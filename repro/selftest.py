"""``backprop-repro selftest``: prove that the gate bites.

Copies ``reference_impl/`` to a temporary directory, applies one small, realistic mutation at a
time and runs ``check --strict`` against the real pins with the mutant first on the import path. A
mutation is *killed* when ``check`` exits non-zero; the kill rate must be 100 %.

Strict (bitwise) comparison is right here: the self-test runs in the environment that made the pins,
where ``check --repeat`` shows every quantity bit-reproducible. Several mutations (a learning rate one
ULP off, the dropped NumPy 1.x cast) move values by less than the cross-environment drift the policies
must absorb, so only a bitwise gate can see them. Mutations that change no bit at all are equivalent
mutants and are not listed: a one-ULP change of the learning rate of the toy network or of the
learning-rate fit, absorbed by the float32 rounding of every update (checked: every quantity of both
examples bit-identical under the mutant).
"""

import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import reference_impl

from .errors import BadInput

__all__ = ["Mutation", "MUTATIONS", "run_selftest"]


@dataclass(frozen=True)
class Mutation:
    id: str
    file: str          # path inside reference_impl/
    old: str           # text that must occur exactly once
    new: str
    why: str


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
             "learning rate changed by one ULP (3-3-2 network)"),
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
    Mutation("backprop-derivative-of-preactivation", "backprop.py",
             "(d_pred @ w2.T) * hidden * (1.0 - hidden)",
             "(d_pred @ w2.T) * (x @ w0 + b0) * (1.0 - (x @ w0 + b0))",
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
             "temp[i][index] += step", "the explicit NumPy 1.x cast dropped (NEP 50 float32 add)"),
    Mutation("softmax-no-shift", "activations.py", "z = np.exp(x - np.max(x))", "z = np.exp(x)",
             "the sound softmax without its max shift"),
    Mutation("bce-formula-sum", "losses.py", "return -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))",
             "return -np.sum(y * np.log(p) + (1 - y) * np.log(1 - p))", "cross-entropy formula summing, not averaging"),
    Mutation("central-step", "gradients.py", "step = 1e-3 if dtype == np.float32 else 1e-6",
             "step = 1e-3 if dtype == np.float32 else 1e-5", "central-difference default step changed"),
]


def _apply(root, mutation):
    path = root / "reference_impl" / mutation.file
    text = path.read_text()
    if text.count(mutation.old) != 1:
        raise BadInput(f"selftest mutation {mutation.id!r}: its text occurs {text.count(mutation.old)} times in "
                       f"reference_impl/{mutation.file}, not once; update the catalogue in repro/selftest.py")
    path.write_text(text.replace(mutation.old, mutation.new))


def run_selftest(pins_dir, only=None, progress=None):
    """Rows (id, why, exit code, killed) for every mutation (or those in ``only``)."""
    pins_dir = Path(pins_dir).resolve()
    if not pins_dir.is_dir():
        raise BadInput(f"--pins {pins_dir}: no such directory; run from the project root or pass --pins DIR")
    source = Path(reference_impl.__file__).resolve().parent
    harness_parent = Path(__file__).resolve().parent.parent
    chosen = [m for m in MUTATIONS if not only or m.id in only]
    unknown = set(only or ()) - {m.id for m in MUTATIONS}
    if unknown:
        raise BadInput(f"unknown mutation {sorted(unknown)[0]!r}; known: {', '.join(m.id for m in MUTATIONS)}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="backprop-selftest-") as tmp:
        root = Path(tmp)
        for mutation in chosen:   # validate the whole catalogue before the first run
            text = (source / mutation.file).read_text()
            if text.count(mutation.old) != 1:
                raise BadInput(f"selftest mutation {mutation.id!r}: its text occurs {text.count(mutation.old)} times "
                               f"in reference_impl/{mutation.file}, not once; update the catalogue in "
                               f"repro/selftest.py")
        def strict_check(mutation):
            shutil.rmtree(root / "reference_impl", ignore_errors=True)
            shutil.copytree(source, root / "reference_impl", ignore=shutil.ignore_patterns("__pycache__"))
            if mutation is not None:
                _apply(root, mutation)
            env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root), str(harness_parent)]),
                   "PYTHONDONTWRITEBYTECODE": "1"}
            done = subprocess.run([sys.executable, "-m", "repro", "check", "--quiet", "--strict", "--pins",
                                   str(pins_dir), "--out", str(root / "out")], cwd=root, env=env, capture_output=True,
                                  text=True)
            evidence = next((line.strip() for line in done.stdout.splitlines()
                             if line.strip().startswith(("FAIL ", "ERROR ", "MISSING"))),
                            done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "")
            return done.returncode, evidence

        code, evidence = strict_check(None)   # the unmutated copy must pass, or no kill means anything
        if code != 0:
            raise BadInput(f"selftest: the unmutated reference_impl fails `check --strict` here (exit {code}: "
                           f"{evidence[:120]}); run the self-test in the environment that made the pins "
                           f"({pins_dir}), or regenerate them with `backprop-repro pins update`")
        for n, mutation in enumerate(chosen, 1):
            code, evidence = strict_check(mutation)
            killed = code != 0
            rows.append({"id": mutation.id, "why": mutation.why, "exit": code, "killed": killed,
                         "evidence": evidence})
            if progress:
                progress(f"[{n}/{len(chosen)}] {mutation.id}: {'killed' if killed else 'SURVIVED'} (exit {code})")
    return rows
