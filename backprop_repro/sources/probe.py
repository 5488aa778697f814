"""Determinism probe: run examples in fresh processes and compare every quantity bit for bit.

``python -m backprop_repro.sources.probe ID...`` runs the examples once and prints their quantities (encoded
at full precision) as JSON; :func:`repeat` starts it N times and reports any bit that differs.
"""

import json
import subprocess
import sys
import warnings

from backprop_repro.core import registry, values
from backprop_repro.core.errors import RunFailed

__all__ = ["repeat"]


def _run(ids):
    out = {}
    for example_id in ids:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # the recorded warnings are check's business, not the probe's
            quantities = registry.get(example_id).run()
        out[example_id] = {name: values.encode(v) for name, v in quantities.items()}
    return out


def repeat(ids, times, progress=None):
    """Run the examples ``times`` times in separate processes; returns (runs, differences)."""
    runs = []
    for n in range(times):
        if progress:
            progress(f"determinism probe: process {n + 1}/{times}")
        done = subprocess.run([sys.executable, "-m", "backprop_repro.sources.probe", *ids], capture_output=True, text=True,
                              check=False)
        if done.returncode != 0:
            last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
            raise RunFailed(f"determinism probe process {n + 1} failed: {last}")
        runs.append(json.loads(done.stdout))
    differences = []
    for n, other in enumerate(runs[1:], 2):
        for example_id, quantities in runs[0].items():
            for name, record in quantities.items():
                if other.get(example_id, {}).get(name) != record:
                    differences.append({"example": example_id, "quantity": name, "run": n})
    return runs, differences


if __name__ == "__main__":
    print(json.dumps(_run(sys.argv[1:] or registry.example_ids())))
