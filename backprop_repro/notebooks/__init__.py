"""Notebooks' stored outputs against fresh runs. The package's names are :mod:`.judge`'s, loaded when first asked
for, so that a command importing one light submodule (or building its parser) does not load them all."""

import importlib
from pathlib import Path

#: Fresh runs in all for a notebook whose numbers change between runs (t bound 17 instead of 10,050).
STAT_RUNS = 5


def __getattr__(name):
    here = Path(__file__).parent
    if name.startswith("__") and name != "__all__" or (here / f"{name}.py").is_file() or (here / name).is_dir():
        raise AttributeError(name)   # import machinery probing the package, or a submodule not loaded yet
    judge = importlib.import_module(f"{__name__}.judge")
    try:
        return getattr(judge, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
