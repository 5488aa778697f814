"""The environment fingerprint recorded with every pin set and results file."""

import datetime
import os
import platform
import subprocess
import sys
from pathlib import Path

import numpy as np

__all__ = ["fingerprint"]

_PINNING_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_CORETYPE",
                      "OPENBLAS_L2_SIZE", "NPY_DISABLE_CPU_FEATURES", "NPY_ENABLE_CPU_FEATURES",
                      "NPY_PROMOTION_STATE")


def _cpu():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _umath():
    try:
        from numpy._core import _multiarray_umath as umath
    except ImportError:  # NumPy 1.x
        from numpy.core import _multiarray_umath as umath
    return umath


def _simd():
    """CPU features NumPy sees as available (after NPY_DISABLE_CPU_FEATURES)."""
    return sorted(name for name, on in _umath().__cpu_features__.items() if on)


def simd_targets():
    """The SIMD targets NumPy's code paths use here: its baseline plus the dispatch targets in force."""
    umath = _umath()
    features = umath.__cpu_features__
    return list(umath.__cpu_baseline__) + [t for t in umath.__cpu_dispatch__ if features.get(t)]


def blas_core(threads=None):
    """The BLAS kernel in use (threadpoolctl's ``architecture``; OpenBLAS core type), or None."""
    threads = _threads() if threads is None else threads
    cores = sorted({t["architecture"] for t in threads if t.get("user_api") == "blas" and t.get("architecture")})
    return " ".join(cores) or None


def _blas():
    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name', '?')} {blas.get('version', '')}".strip()
    except Exception:  # NumPy 1.x prints instead of returning, or other layouts
        return "unknown"


def _git_commit():
    root = Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _threads():
    """BLAS / OpenMP thread pools in force (threadpoolctl), with the BLAS core type."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [{k: info.get(k) for k in ("user_api", "internal_api", "num_threads", "architecture", "version")}
            for info in threadpool_info()]


def fingerprint():
    """Python, NumPy, platform, CPU, SIMD features, BLAS, git commit, settings in force, time."""
    threads = _threads()
    return {
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu": _cpu(),
        "simd": _simd(),
        "simd_targets": simd_targets(),
        "blas_core": blas_core(threads),
        "blas": _blas(),
        "git_commit": _git_commit(),
        "settings": {name: os.environ[name] for name in _PINNING_VARIABLES if name in os.environ},
        "threads": threads,
        "executable": sys.executable,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
