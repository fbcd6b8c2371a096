"""How accbench's figures look: sizes, fonts, the colour-blind-safe palette, and writing figures to disk.

Every plotting function takes a :class:`FigureStyle` and draws inside :meth:`FigureStyle.context`, so one
figure can be drawn for the HTML report (:data:`REPORT_STYLE`) or for a paper (:data:`PAPER_STYLE`: panels
that fit a one-column figure, 3.4 in wide, with fonts of 7-9 pt at that size) without a second plotting code
path. Font sizes inside the plots are relative (``"small"``, ``"medium"``, ``"large"``) to the style's
``font_size``.

- :data:`OKABE_ITO`, :func:`okabe_ito_colors`: line colours (Okabe & Ito 2008, colour-blind safe).
- :func:`figure_grid`: a figure with one panel per model/variant.
- :func:`figure_bytes`, :func:`save_figure`: a figure as PNG, SVG or PDF (bytes, or written atomically).
- :func:`png_bytes`: the PNG rendering, palette-quantised to a fraction of its RGBA size (for embedding).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import matplotlib
from matplotlib.figure import Figure

from accbench.atomic import atomic_write_bytes

__all__ = [
    "FORMATS",
    "OKABE_ITO",
    "PAPER_STYLE",
    "REPORT_STYLE",
    "STYLES",
    "FigureStyle",
    "figure_bytes",
    "figure_grid",
    "okabe_ito_colors",
    "png_bytes",
    "save_figure",
]

FORMATS = ("png", "svg", "pdf")
"""File formats a figure can be written in."""

OKABE_ITO = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442")
"""The Okabe-Ito colour-blind-safe palette, most distinguishable on white first (yellow last)."""


@dataclass(frozen=True)
class FigureStyle:
    """Size and type of a figure.

    Parameters
    ----------
    panel_width_in, panel_height_in : float
        Size of one panel in inches (the figure grows with the number of panels).
    max_columns : int
        Panels per row.
    font_size : float
        Base font size in points; titles are ``"large"``, labels ``"medium"``, legends ``"small"``.
    line_width : float
        Width of the data lines in points.
    dpi : int
        Raster resolution of PNG output.
    legend_height_in : float
        Room below the panels for the figure legend.
    """

    panel_width_in: float = 4.4
    panel_height_in: float = 3.3
    max_columns: int = 3
    font_size: float = 10.0
    line_width: float = 1.8
    dpi: int = 110
    legend_height_in: float = 0.9

    @contextmanager
    def context(self) -> Iterator[None]:
        """Matplotlib settings of this style while a figure is drawn (restored afterwards)."""
        with matplotlib.rc_context(
            {
                "font.size": self.font_size,
                "lines.linewidth": self.line_width,
                "savefig.dpi": self.dpi,
                "svg.fonttype": "none",  # SVG text stays text (editable, searchable)
                "pdf.fonttype": 42,  # TrueType in PDFs: journals reject Type 3 fonts
            }
        ):
            yield

    def figure_size(self, n_panels: int) -> tuple[float, float]:
        """Width and height in inches of a grid of ``n_panels`` panels plus the legend row."""
        columns = min(self.max_columns, max(1, n_panels))
        rows = math.ceil(max(1, n_panels) / columns)
        return self.panel_width_in * columns, self.panel_height_in * rows + self.legend_height_in


REPORT_STYLE = FigureStyle()
"""The HTML report's figures: up to three panels a row, read on screen."""

PAPER_STYLE = FigureStyle(
    panel_width_in=3.4, panel_height_in=2.5, max_columns=2, font_size=8.0, line_width=1.3, dpi=300
)
"""A figure for a paper: one panel fits a one-column figure (3.4 in) with 7-9 pt text; two a row."""

STYLES = {"report": REPORT_STYLE, "paper": PAPER_STYLE}
"""Styles by name (``accbench plot --style``)."""


def okabe_ito_colors(values: Sequence[object]) -> dict[object, str]:
    """One Okabe-Ito colour per value, in order (cycling past eight values).

    Parameters
    ----------
    values : sequence
        Distinct line keys (e.g. chunk sizes in ms), in drawing order.

    Returns
    -------
    dict
        ``value -> hex colour``.
    """
    return {value: OKABE_ITO[index % len(OKABE_ITO)] for index, value in enumerate(values)}


def figure_grid(n_panels: int, style: FigureStyle) -> tuple[Figure, list]:
    """A constrained-layout figure with ``n_panels`` visible panels (at least one) in rows of the style's width.

    Returns
    -------
    figure : Figure
    axes : list of Axes
        The visible panels, row by row.
    """
    n_panels = max(1, n_panels)
    columns = min(style.max_columns, n_panels)
    rows = math.ceil(n_panels / columns)
    figure = Figure(figsize=style.figure_size(n_panels), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel().tolist()
    for axis in axes[n_panels:]:
        axis.set_visible(False)
    return figure, axes[:n_panels]


def png_bytes(figure: Figure, *, dpi: int | None = None, colors: int = 256) -> bytes:
    """``figure`` as PNG, quantised to an adaptive palette of ``colors`` colours (``0``: full RGBA).

    Line plots have few colours; the palette PNG is about a third of the RGBA one and looks the same at
    report size. The figure is rendered once by Agg straight into the encoder (no intermediate PNG).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image  # matplotlib's own dependency

    if not colors:
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", dpi=dpi)
        return buffer.getvalue()
    figure.set_dpi(dpi or matplotlib.rcParams["savefig.dpi"])
    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    image = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    quantised = image.convert("RGB").quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=0)
    out = io.BytesIO()
    quantised.save(out, format="PNG")
    return out.getvalue()


def figure_bytes(figure: Figure, fmt: str, *, dpi: int | None = None) -> bytes:
    """``figure`` as ``fmt`` (``png``, ``svg``, ``pdf``) bytes; the same figure gives the same bytes.

    PDF and SVG are vector (text stays text) and carry no creation date; PNG is palette-quantised
    (:func:`png_bytes`) at ``dpi`` (default: the style's, via ``savefig.dpi``).
    """
    fmt = fmt.lower()
    if fmt not in FORMATS:
        raise ValueError(f"figure format {fmt!r} not supported; choose from {', '.join(FORMATS)}")
    if fmt == "png":
        return png_bytes(figure, dpi=dpi)
    buffer = io.BytesIO()
    metadata = {"CreationDate": None} if fmt == "pdf" else {"Date": None}
    # A fixed salt gives fixed SVG element ids (read when the file is written, not when the figure is drawn).
    with matplotlib.rc_context({"svg.hashsalt": "accbench"}):
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata)
    return buffer.getvalue()


def save_figure(figure: Figure, path: str | os.PathLike, *, dpi: int | None = None) -> Path:
    """Write ``figure`` atomically in the format of the path's suffix (:func:`figure_bytes`)."""
    path = Path(path)
    atomic_write_bytes(path, figure_bytes(figure, path.suffix.lstrip(".") or "png", dpi=dpi))
    return path
