"""JSON Schemas of the files users and CI read: pins and verdict records (published in reports/README.md)."""

import json
from functools import lru_cache
from pathlib import Path

from backprop_repro.core.errors import BadInput

__all__ = ["validate", "schema"]

_HERE = Path(__file__).resolve().parent


@lru_cache(maxsize=None)
def schema(name):
    return json.loads((_HERE / f"{name}.schema.json").read_text(encoding="utf-8"))


def validate(data, name, path, fix):
    """BadInput naming the file, the key path and the fix when ``data`` does not match schema ``name``."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(schema(name)).iter_errors(data))
    if error is not None:
        where = ".".join(str(p) for p in error.absolute_path) or "file"
        raise BadInput(f"{path}: {where}: {error.message[:200]}; {fix}")

