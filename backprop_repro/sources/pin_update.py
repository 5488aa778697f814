"""``backprop-repro pins update``: run examples and write their pins where the values changed."""

from backprop_repro.core import record, registry
from backprop_repro.core.environment import fingerprint
from backprop_repro.core.errors import BadInput
from backprop_repro.sources import runner
from backprop_repro.store import pins

__all__ = ["update_pins"]


def update_pins(ids, pins_dir, command, warn=None, on_pin=None):
    """Regenerate the pins of ``ids`` in ``pins_dir``; the record has one observation per pin: ``fail`` when it
    changed (its note carries the diff: a regeneration is never silent), ``error`` when the example raised (the
    pin is left unchanged), else ``pass``. ``warn`` receives a line for each unreadable pin that is replaced,
    ``on_pin`` each observation as it is made."""
    provenance = {"command": command, **fingerprint()}
    observations = []
    for example_id in ids:
        example = registry.get(example_id)
        try:
            old = pins.load_pin(pins_dir, example_id)
        except BadInput as exc:
            if warn:
                warn(f"replacing unreadable pin: {exc}")
            old = None
        observations.append(_update_one(example, old, pins_dir, provenance))
        if on_pin:
            on_pin(observations[-1])
    return record.build("pins update", observations)


def _update_one(example, old, pins_dir, provenance):
    run = runner.run_example(example)
    path = pins.pin_path(pins_dir, example.id)
    if run.error:
        return record.Observation(record.Kind.PIN, example.id, "error", str(path),
                                  note=f"{example.id}: example raised {run.error}; pin left unchanged")
    new = pins.make_pin(example, run.quantities, provenance)
    lines = pins.diff_pins(old, new)
    if not lines:
        return record.Observation(record.Kind.PIN, example.id, "pass", str(path), note=f"{example.id}: unchanged")
    pins.write_pin(pins_dir, new)
    return record.Observation(record.Kind.PIN, example.id, "fail", str(path), rule="unchanged",
                              note=f"{path}: changed\n" + "\n".join(lines))
