"""Figures for the report, drawn with matplotlib (Agg) from stored results only, as inline PNG data URIs."""

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

__all__ = ["example_figures", "scaling_figure", "sweep_figure"]


def _png(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _series(values):
    array = np.array([np.nan if v is None else v for v in np.ravel(np.array(values, dtype=object))], dtype=float)
    return array


def _line(title, xlabel, ylabel, series, logy=False, logx=False, x=None):
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for label, values in series:
        ys = _series(values)
        ax.plot(x if x is not None else np.arange(1, len(ys) + 1), ys, label=label, marker="o" if len(ys) < 20 else None)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    if logy:
        ax.set_yscale("log")
    if logx:
        ax.set_xscale("log")
    if len(series) > 1:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def example_figures(example, actual):
    """Figures of one example from its stored quantities (name -> nested list); [] when none apply."""
    figs = []
    if example == "toy_backprop" and "losses" in actual:
        figs.append(("Loss over the 100 epochs (001/000 figure, regenerated)",
                     _line("toy_backprop: loss before each update", "epoch", "MSE", [("loss", actual["losses"])])))
    if example == "learning_rate":
        for lr in ("0.01", "0.1", "1"):
            key = f"lr={lr}/weight_trace"
            if key in actual:
                figs.append((f"Weight over 1000 epochs at lr {lr} (001 figure, regenerated)",
                             _line(f"learning_rate: weight, lr {lr}", "epoch", "weight", [("w", actual[key])])))
    if example == "notebook_332" and "loss_history" in actual:
        figs.append(("Training loss of the fixed 3-3-2 network (002, regenerated)",
                     _line("notebook_332: loss history", "epoch", "MSE", [("loss", actual["loss_history"])])))
    if example == "cavar_hidden_layer" and "errors" in actual:
        figs.append(("Mean absolute error every 10000 iterations (004, the lost printout)",
                     _line("cavar_hidden_layer: printed error", "print (x 10000 iterations)", "mean |error|",
                           [("error", actual["errors"])], logy=True)))
    if example == "gradient_check" and "eps_sweep/steps" in actual:
        steps = _series(actual["eps_sweep/steps"])
        series = [(f"{d} {m}", actual[f"eps_sweep/{d}/{m}/errors"])
                  for d in ("float64", "float32") for m in ("fd_chapter", "fd_central_vectorized")
                  if f"eps_sweep/{d}/{m}/errors" in actual]
        figs.append(("Gradient error against the finite-difference step (2-3-1 network)",
                     _line("eps sweep: ||g - n|| / (||g|| + ||n||)", "step", "error", series, logy=True, logx=True,
                           x=steps)))
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
    ax.set(xscale="log", yscale="log", xlabel="parameters P", ylabel="median seconds per gradient",
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
        ax.set_yscale("log")
        ax.set(title=name, xlabel="output")
        if printed is not None:
            ax.axvline(printed[j], color="#b3261e", linewidth=1.5, label="document")
            ax.legend(fontsize=7)
    fig.suptitle(f"{record['example']}: {record['n_seeds']} seeds{' (partial)' if record.get('partial') else ''}",
                 fontsize=10)
    return _png(fig)
