"""Reading verdict records back: results.json (and sweep files) written by `check` and `sweep`."""

import json
from pathlib import Path

from backprop_repro.core.errors import BadInput

__all__ = ["load_results", "SCHEMA_VERSION"]

SCHEMA_VERSION = 1


def load_results(path):
    """A results.json record; BadInput naming the file for anything unreadable or of another schema."""
    path = Path(path)
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"{path}: cannot read results file ({exc.strerror or exc}); pass a results.json written by "
                       f"`backprop-repro check`") from None
    except ValueError as exc:
        raise BadInput(f"{path}: not valid JSON ({exc}); pass a results.json written by `backprop-repro check`") \
            from None
    if not isinstance(record, dict) or record.get("schema_version") != SCHEMA_VERSION:
        found = record.get("schema_version") if isinstance(record, dict) else None
        raise BadInput(f"{path}: schema_version is {found!r}, this tool reads {SCHEMA_VERSION}; regenerate it with "
                       f"`backprop-repro check`")
    for key in ("environment", "results", "claims"):
        if key not in record:
            raise BadInput(f"{path}: missing key {key!r}; regenerate it with `backprop-repro check`")
    from backprop_repro.store.schemas import validate

    validate(record, "results", path, "regenerate it with `backprop-repro check`")
    return record
