"""``compare``'s drift matrix as drift.csv and drift.html (read from its verdict record)."""

from backprop_repro.render.report import TEMPLATES
from backprop_repro.store import atomic

__all__ = ["write_drift"]


def write_drift(record, out):
    """drift.csv (one row per quantity, one column per environment) and drift.html, both atomic."""
    frame = record["frame"]
    atomic.write_text(out / "drift.csv", frame.to_csv(index=False))
    html = TEMPLATES.get_template("drift.html.j2").render(frame=frame.to_dict("records"), labels=list(frame.columns[3:]),
                                                          envs=record["envs"], differing=record["differing"],
                                                          counts=dict(record.summaries))
    atomic.write_text(out / "drift.html", html)
