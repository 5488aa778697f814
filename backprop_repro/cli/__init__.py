"""The command line: ``main`` (the console script) and ``build_parser``.

Loaded lazily so that ``python -m backprop_repro`` installs its start-up guards (:mod:`.startup`) before
anything heavy is imported."""

__all__ = ["main", "build_parser"]


def __getattr__(name):
    if name in __all__:
        from . import program

        return getattr(program, name)
    raise AttributeError(f"module 'backprop_repro.cli' has no attribute {name!r}")
