"""Figures for the report, drawn with matplotlib (Agg) from stored results only, as inline PNG data URIs."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import LogFormatter  # noqa: E402

__all__ = ["example_figures", "scaling_figure", "sweep_figure"]


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _log_scale(ax, which):
    """``ax``'s ``which`` ('x' or 'y') axis on a log scale labelled 1e-05, 1e-04, 1 at the decades (and, on an
    axis spanning about one decade or less, at its 2, 3, 4, 6 ticks): matplotlib's default labels (10 to the -5)
    are typeset with mathtext, a third of the report's drawing time."""
    getattr(ax, f"set_{which}scale")("log")
    axis = getattr(ax, f"{which}axis")
    axis.set_major_formatter(LogFormatter())
    # not NullFormatter: an axis within one decade would have no label at all (its decades lie outside it)
    axis.set_minor_formatter(LogFormatter())


def _series(values):
    array = np.array([np.nan if v is None else v for v in np.ravel(np.array(values, dtype=object))], dtype=float)
    return array


def _line(title, xlabel, ylabel, series, logy=False, logx=False, x=None, pinned=None):
    """Line plot of ``series`` [(label, values)]; ``pinned`` [(label, values)] drawn dashed beside them, with
    |fresh - pinned| on a second axis where they differ."""
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    differences = []
    for k, (label, values) in enumerate(series):
        ys = _series(values)
        xs = x if x is not None else np.arange(1, len(ys) + 1)
        line, = ax.plot(xs, ys, label=f"{label} (fresh)" if pinned else label, marker="o" if len(ys) < 20 else None)
        if pinned and pinned[k][1] is not None:
            ps = _series(pinned[k][1])
            if ps.shape == ys.shape:
                ax.plot(xs, ps, linestyle="--", color=line.get_color(), alpha=0.8, label=f"{label} (pinned)")
                if not np.array_equal(ps, ys, equal_nan=True):
                    differences.append((label, xs, np.abs(ys - ps), line.get_color()))
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        _log_scale(ax, "y")
    if logx:
        _log_scale(ax, "x")
    if differences:
        twin = ax.twinx()
        for label, xs, diff, color in differences:
            twin.plot(xs, np.where(diff > 0, diff, np.nan), color=color, linestyle=":", label=f"|fresh - pinned| {label}")
        _log_scale(twin, "y")
        twin.set_ylabel("|fresh - pinned|")
        twin.legend(fontsize=7, loc="lower right")
    if len(series) > 1 or pinned:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def example_figures(specs, actual, expected=None):
    """The declared figures (specs stored in the record) from stored quantities (name -> nested list)."""
    figs = []
    for spec in specs or ():
        series = [(label, actual.get(q)) for label, q in spec["series"] if actual.get(q) is not None]
        if not series:
            continue
        pinned = [(label, (expected or {}).get(q)) for label, q in spec["series"] if actual.get(q) is not None]
        has_pinned = any(v is not None for _, v in pinned)
        x = _series(actual[spec["x"]]) if spec.get("x") and actual.get(spec["x"]) is not None else None
        figs.append((spec["caption"], _line(spec["title"], spec["xlabel"], spec["ylabel"], series,
                                            logy=spec.get("logy", False), logx=spec.get("logx", False), x=x,
                                            pinned=pinned if has_pinned else None)))
    return figs


def scaling_figure(table, scaling):
    """Log-log cost against P per method over the width sweep, with the fitted lines."""
    sweep = table[table["network"].str.startswith("mlp")]
    if sweep.empty:
        return None
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for method, group in sweep.groupby("method", sort=True):
        group = group.sort_values("n_params")
        line, = ax.plot(group["n_params"], group["median_s"], marker="o", linestyle="none", label=method)
        fit = scaling[scaling["method"] == method]
        if len(fit):
            p = group["n_params"].to_numpy(float)
            lx, ly = np.log(p), np.log(group["median_s"].to_numpy(float))
            slope = float(fit["exponent"].iloc[0])
            intercept = float(np.mean(ly - slope * lx))
            ax.plot(p, np.exp(intercept + slope * lx), color=line.get_color(),
                    label=f"{method} fit: P^{slope:.2f}")
    _log_scale(ax, "x")
    _log_scale(ax, "y")
    ax.set(xlabel="parameters P", ylabel="median seconds per gradient",
           title="finite differences vs chain rule: cost scaling")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _png(fig)


def sweep_figure(record):
    """Histograms of each output over the seeds, with the document's printed value marked."""
    histograms = record.get("histograms") or {}
    if not histograms:
        return None
    printed = (record.get("document") or {}).get("printed")
    fig, axes = plt.subplots(1, len(histograms), figsize=(3.0 * len(histograms), 2.6))
    axes = np.atleast_1d(axes)
    for j, (ax, (name, h)) in enumerate(zip(axes, histograms.items())):
        edges = np.array(h["edges"])
        ax.stairs(h["counts"], edges, fill=True, alpha=0.6)
        _log_scale(ax, "y")
        ax.set(title=name, xlabel="output")
        if printed is not None:
            ax.axvline(printed[j], color="#b3261e", linewidth=1.5, label="document")
            ax.legend(fontsize=7)
    fig.suptitle(f"{record['example']}: {record['n_seeds']} seeds{' (partial)' if record.get('partial') else ''}",
                 fontsize=10)
    return _png(fig)
