"""The report's log axes: plain-text labels (no mathtext), and a label on an axis that spans under a decade."""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from backprop_repro.render.figures import _log_scale  # noqa: E402


def _visible_labels(low, high):
    fig, ax = plt.subplots()
    try:
        ax.plot([1, 2], [low, high])
        _log_scale(ax, "y")
        fig.canvas.draw()
        bottom, top = ax.get_ylim()
        return [t.get_text() for minor in (False, True) for t in ax.get_yticklabels(minor=minor)
                if t.get_text() and bottom <= t.get_position()[1] <= top]
    finally:
        plt.close(fig)


@pytest.mark.parametrize("low, high", [(1e-5, 1.0), (0.2, 0.6), (3.0, 40.0)])
def test_log_axis_is_labelled_without_mathtext(low, high):
    labels = _visible_labels(low, high)
    assert labels, f"an axis from {low} to {high} has no tick label"
    assert not any("$" in label for label in labels)


def test_wide_log_axis_labels_decades_only():
    labels = _visible_labels(1e-5, 1.0)
    assert [label.replace("\N{MINUS SIGN}", "-") for label in labels] == \
        ["1e-05", "1e-04", "1e-03", "1e-02", "1e-01", "1"]
