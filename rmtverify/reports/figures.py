"""Figures drawn from their declarations (:class:`~rmtverify.verification.outcome.Figure`), in one style.

Every claim's figures go through :func:`draw`: the same fonts, sizes, marker and error-bar style, legends
and margins, whatever the claim. Figures are laid out with fixed margins: ``tight_layout`` would draw each
figure a second time to measure its text.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from rmtverify.core.storage import atomic_write_bytes

STYLE = {
    "font.size": 9,
    "axes.titlesize": 9,
    "axes.labelsize": 9,
    "legend.fontsize": 7,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.grid": True,
    "grid.alpha": 0.25,
}
DPI = 110


def _scale(ax, which: str, scale: str) -> None:
    setter = ax.set_xscale if which == "x" else ax.set_yscale
    if scale == "log2":
        setter("log", base=2)
    elif scale != "linear":
        setter(scale)


def _series(ax, s) -> None:
    if s.kind == "mesh":
        mesh = ax.pcolormesh(s.x, s.y, np.asarray(s.z, dtype=float), shading="nearest", vmin=0, vmax=1)
        ax.figure.colorbar(mesh, ax=ax, label=s.label or None)
        return
    kw = {"label": s.label or None}
    if s.color:
        kw["color"] = s.color
    if s.kind == "line":
        ax.plot(s.x, s.y, s.style or "-", lw=1.2, **kw)
    elif s.kind == "points":
        ax.errorbar(s.x, s.y, yerr=s.err, fmt=s.style or "o", ms=4, capsize=3, lw=1, **kw)
    elif s.kind == "hline":
        ax.axhline(s.y[0], ls=s.style or "--", lw=1, color=s.color or "gray", label=s.label or None)
    elif s.kind == "vline":
        ax.axvline(s.x[0], ls=s.style or ":", lw=1, color=s.color or "k", label=s.label or None)
    elif s.kind == "hist":
        ax.hist(s.x, bins=s.bins if s.bins is not None else 60, density=True, alpha=0.45, **kw)
    elif s.kind == "text":
        ax.annotate(s.label, (s.x[0], s.y[0]), xytext=(5, 40), textcoords="offset points", fontsize=8)
    else:
        raise ValueError(f"unknown series kind {s.kind!r}")


def draw(spec):
    """A matplotlib figure for a Figure declaration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows, cols = spec.shape or (1, len(spec.panels))
    with plt.rc_context(STYLE):
        fig, axes = plt.subplots(rows, cols, figsize=spec.size, squeeze=False)
        for ax, panel in zip(axes.flat, spec.panels):
            for s in panel.series:
                _series(ax, s)
            _scale(ax, "x", panel.xscale)
            _scale(ax, "y", panel.yscale)
            if panel.ylim is not None:
                ax.set_ylim(*panel.ylim)
            ax.set_title(panel.title)
            ax.set_xlabel(panel.xlabel)
            ax.set_ylabel(panel.ylabel)
            if panel.legend and any(s.label for s in panel.series if s.kind != "text"):
                ax.legend()
        for ax in list(axes.flat)[len(spec.panels) :]:
            ax.set_visible(False)
        if spec.title:
            fig.suptitle(spec.title, fontsize=10)
        top = 0.86 if spec.title else 0.93
        fig.subplots_adjust(left=0.07, right=0.985, bottom=0.1 if rows > 1 else 0.14, top=top, wspace=0.22, hspace=0.38)
    return fig


def save_figure(spec, path: Path) -> None:
    """Draw a Figure declaration and write it as PNG, atomically."""
    import matplotlib.pyplot as plt

    fig = draw(spec)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    atomic_write_bytes(path, buf.getvalue())


def finite(values) -> list:
    """Floats, with None (JSON's missing value) as NaN so that matplotlib skips the point."""
    return [float("nan") if v is None else float(v) for v in np.asarray(values, dtype=object)]
