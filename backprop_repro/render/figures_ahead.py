"""The report's figures drawn ahead: each example's figures drawn in a worker pool as soon as the example is judged,
while the others still run. A light module (no matplotlib, no pandas) so that the process that waits never imports
what only the workers need."""

from backprop_repro.core import values

__all__ = ["FiguresAhead", "draw_example_figures"]


def _figure_inputs(entry, rows):
    """(figure specs, fresh quantities, pinned quantities) of one example's entry and result rows."""
    actual = {r["quantity"]: r["actual"] for r in rows if r.get("actual") is not None}
    expected = {r["quantity"]: r["expected"] for r in rows if r.get("expected") is not None}
    return entry.get("figures"), actual, expected


def _figures():
    """matplotlib is imported only where a figure is drawn (a process that draws none never pays for it)."""
    from backprop_repro.render import figures

    return figures


def draw_example_figures(specs, actual, expected):
    """The declared figures of one example (none, and no matplotlib, for an example that declares none)."""
    return _figures().example_figures(specs, actual, expected) if specs else []


class FiguresAhead:
    """Draws each example's figures in ``pool`` as soon as the example is judged (``submit``), so that the
    report's figures overlap the examples still running; ``drawn()`` gives them to :func:`write_report`.
    The figures are those the report would draw itself from the record."""

    def __init__(self, pool):
        self.pool, self.futures = pool, {}

    def submit(self, entry, rows):
        if entry.get("figures"):
            inputs = _figure_inputs(entry, values.json_safe(rows))
            self.futures[entry["example"]] = self.pool.submit(draw_example_figures, *inputs)

    def drawn(self):
        return {name: future.result() for name, future in self.futures.items()}
