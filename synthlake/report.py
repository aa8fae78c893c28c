"""The per-table PDF report: what an auditor reads about one synthetic table.

:func:`build_report` lays out, in order: the run and its hyperparameters, the column
kinds, summary statistics, fidelity scores, correlation matrices, distribution charts,
relationships between the most correlated pairs, the decision-tree check and the
narrative.

Privacy: the report shows aggregates only. No real row is drawn (box plots are drawn
from percentiles without outlier points, real pairs appear as hexagon densities that
hide cells with fewer than ``k`` rows, histogram bars holding fewer than ``k`` real rows
are left empty, rare categories are merged and extremes clipped before anything is
drawn), identifier columns are described by
counts only, and any real identifier value found in free text (the narrative, the
hyperparameter reason) is replaced with ``[redacted]``.

Figures are drawn on :class:`matplotlib.figure.Figure` objects with the Agg canvas, so
building a report never touches pyplot's global state or a notebook's backend.
"""

from __future__ import annotations

import functools
import io
import logging
import re
import warnings
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    Image,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from synthlake.products import atomic_path
from synthlake.profiling import QUANTILE_COLUMNS
from synthlake.protection import protect_frame
from synthlake.schema import ColumnSchema, TableSchema

log = logging.getLogger(__name__)

DPI = 130
MARGIN = 15 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN
REAL_COLOR = "#4C72B0"
SYN_COLOR = "#DD8452"
STATS = ["mean", "std", "min", *QUANTILE_COLUMNS, "max"]
HIST_BINS = 30
HIST_RANGE = (0.005, 0.995)  # histograms cover this quantile range, so one outlier cannot squash the chart
MAX_DISCRETE_RANGE = 40  # whole-number columns spanning at most this many values get one bar per value
TOP_CATEGORIES = 15
TOP_FEATURES = 10
TOP_PAIRS = 3
HEXBIN_GRIDSIZE = 20
HEXBIN_MINCNT = 10  # the default k: a hexagon or histogram bar stands for at least this many real rows
MAX_SCATTER_POINTS = 2000
ANNOTATE_MAX_COLUMNS = 10
LABEL_CHARS = 22
REDACTED = "[redacted]"
MODEL_SKIPPED_NO_LABEL = "No label_variable is set for this table, so the decision-tree check was skipped."
METRIC_NAMES = {
    "accuracy": "accuracy",
    "f1_macro": "F1 (macro)",
    "roc_auc": "ROC AUC",
    "r2": "R²",
    "mae": "MAE",
    "rmse": "RMSE",
}


# -- fonts and styles -----------------------------------------------------------------
@functools.cache
def _fonts() -> tuple[str, str]:
    """Register DejaVu Sans (shipped with matplotlib) so that non-ASCII column names render.

    Returns:
        The regular and bold font names; Helvetica when DejaVu cannot be loaded.
    """
    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    try:
        pdfmetrics.registerFont(TTFont("SynthlakeSans", str(folder / "DejaVuSans.ttf")))
        pdfmetrics.registerFont(TTFont("SynthlakeSans-Bold", str(folder / "DejaVuSans-Bold.ttf")))
    except (OSError, TTFError) as exc:
        log.warning("DejaVu Sans not available (%s); the report uses Helvetica", exc)
        return "Helvetica", "Helvetica-Bold"
    pdfmetrics.registerFontFamily(
        "SynthlakeSans",
        normal="SynthlakeSans",
        bold="SynthlakeSans-Bold",
        italic="SynthlakeSans",
        boldItalic="SynthlakeSans-Bold",
    )
    return "SynthlakeSans", "SynthlakeSans-Bold"


@functools.cache
def _style(name: str) -> ParagraphStyle:
    """A paragraph style by name: title, h1, h2, body, note, bullet, cell, cell_right, cell_bold."""
    regular, bold = _fonts()
    specs: dict[str, dict[str, Any]] = {
        "title": {"fontName": bold, "fontSize": 17, "leading": 21, "spaceAfter": 4},
        "h1": {"fontName": bold, "fontSize": 12.5, "leading": 16, "spaceBefore": 10, "spaceAfter": 5},
        "h2": {"fontName": bold, "fontSize": 10, "leading": 13, "spaceBefore": 6, "spaceAfter": 3},
        "body": {"fontName": regular, "fontSize": 8.5, "leading": 11.5, "spaceAfter": 4},
        "note": {"fontName": regular, "fontSize": 7.5, "leading": 10, "spaceAfter": 4, "textColor": colors.dimgrey},
        "bullet": {
            "fontName": regular,
            "fontSize": 8.5,
            "leading": 11.5,
            "leftIndent": 10,
            "bulletIndent": 2,
            "spaceAfter": 2,
        },
        "cell": {"fontName": regular, "fontSize": 7, "leading": 8.5},
        "cell_right": {"fontName": regular, "fontSize": 7, "leading": 8.5, "alignment": TA_RIGHT},
        "cell_bold": {"fontName": bold, "fontSize": 7, "leading": 8.5},
        "cell_bold_right": {"fontName": bold, "fontSize": 7, "leading": 8.5, "alignment": TA_RIGHT},
        "small": {"fontName": regular, "fontSize": 6, "leading": 7.2},
        "small_right": {"fontName": regular, "fontSize": 6, "leading": 7.2, "alignment": TA_RIGHT},
        "small_bold": {"fontName": bold, "fontSize": 6, "leading": 7.2},
        "small_bold_right": {"fontName": bold, "fontSize": 6, "leading": 7.2, "alignment": TA_RIGHT},
    }
    return ParagraphStyle(name, **specs[name])


def _p(text: Any, style: str = "body", *, markup: bool = False) -> Paragraph:
    """A paragraph; ``text`` is escaped unless ``markup`` says it already is reportlab markup."""
    return Paragraph(str(text) if markup else _escape(text), _style(style))


def _escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _note(text: str) -> Paragraph:
    return _p(text, "note")


def _bullet(text: str, *, markup: bool = False) -> Paragraph:
    item = _p(text, "bullet", markup=markup)
    item.bulletText = "•"
    return item


# -- formatting -----------------------------------------------------------------------
def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _fmt_number(value: Any) -> str:
    """Four significant digits; thousands separators for large whole-ish numbers; '–' when missing."""
    if _is_missing(value):
        return "–"
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not np.isfinite(number):
        return "–"
    if number == 0:
        return "0"
    if 1e4 <= abs(number) < 1e6:
        return f"{number:,.0f}"
    return f"{number:.4g}"


def _fmt_pct(value: Any) -> str:
    return "–" if _is_missing(value) else f"{float(value):.1f}"


def _fmt_stat(value: Any, kind: str, stat: str) -> str:
    """A summary statistic: dates for datetime columns (their std in days), numbers otherwise."""
    if _is_missing(value):
        return "–"
    if kind != "datetime":
        return _fmt_number(value)
    if stat == "std":
        match = re.match(r"\s*([-+0-9.eE]+)", str(value))
        return f"{_fmt_number(match.group(1))} d" if match else str(value)
    try:
        return pd.Timestamp(value).strftime("%Y-%m-%d")
    except (TypeError, ValueError):
        return str(value)


def _fmt_value(value: Any) -> str:
    """Any run fact or hyperparameter as short text."""
    if isinstance(value, (list, tuple)):
        return "; ".join(_fmt_value(item) for item in value) if value else "none"
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_fmt_value(item)}" for key, item in value.items()) if value else "none"
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating, bool, np.bool_)) or _is_missing(value):
        return _fmt_number(value)
    return str(value)


def _pretty_key(key: str) -> str:
    return str(key).replace("_", " ").capitalize()


def _short(label: Any, limit: int = LABEL_CHARS) -> str:
    """The label, shortened in the middle so that both its start and its end stay readable."""
    text = str(label)
    if len(text) <= limit:
        return text
    head = (limit - 1) // 2
    return text[:head] + "…" + text[-(limit - 1 - head) :]


# -- privacy ----------------------------------------------------------------------------
class _Redactor:
    """Replaces real identifier values that appear in free text with ``[redacted]``.

    Values are matched as whole words or runs of up to ``MAX_WORDS`` words, so a
    name or an address is caught as well as an email. Values without a letter
    (numeric keys) are not matched: they would hit ordinary numbers such as row counts.
    """

    MAX_WORDS = 6
    EDGE = ".,;:!?()[]{}<>\"'`*"

    def __init__(self, schema: TableSchema, real: pd.DataFrame):
        values: set[str] = set()
        for name in schema.names("identifier"):
            if name in real.columns:
                present = real[name].dropna().astype(str)
                values.update(" ".join(v.split()) for v in present.unique())
        self.values = {v for v in values if len(v) >= 3 and any(ch.isalpha() for ch in v)}

    def __call__(self, text: Any) -> str:
        text = "" if text is None else str(text)
        if not self.values or not text:
            return text
        return "\n".join(self._line(line) for line in text.split("\n"))

    def _line(self, line: str) -> str:
        words = line.split(" ")
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self.MAX_WORDS, len(words) - i), 0, -1):
                chunk = " ".join(words[i : i + size])
                core = chunk.strip(self.EDGE)
                if core and " ".join(core.split()) in self.values:
                    start = chunk.index(core)
                    out.append(chunk[:start] + REDACTED + chunk[start + len(core) :])
                    i += size
                    break
            else:
                out.append(words[i])
                i += 1
        return " ".join(out)


# -- tables -------------------------------------------------------------------------------
def _table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    *,
    size: str = "cell",
    right: Iterable[int] = (),
    extra: Iterable[tuple] = (),
    zebra: bool = True,
) -> Table:
    """A table with a bold header row; cells wrap; the ``right`` columns are right-aligned.

    Args:
        rows: the header row, then the body; cells are plain text (escaped here).
        widths: column widths as fractions of the frame width.
        size: ``cell`` (7 pt) or ``small`` (6 pt).
        right: indices of the right-aligned (numeric) columns.
        extra: more TableStyle commands (spans, lines).
        zebra: shade every other body row.
    """
    right = set(right)
    body = []
    for r, row in enumerate(rows):
        cells = []
        for c, value in enumerate(row):
            if isinstance(value, Flowable):
                cells.append(value)
                continue
            style = f"{size}_bold" if r == 0 else size
            cells.append(_p(value, f"{style}_right" if c in right else style))
        body.append(cells)
    commands: list[tuple] = [
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.black),
        ("LINEBELOW", (0, -1), (-1, -1), 0.4, colors.grey),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
    ]
    if zebra:
        commands += [("BACKGROUND", (0, r), (-1, r), colors.HexColor("#F2F4F7")) for r in range(2, len(rows), 2)]
    commands += list(extra)
    table = Table(body, colWidths=[w * FRAME_WIDTH for w in widths], repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(commands))
    return table


def _key_values(pairs: Sequence[tuple[str, Any]]) -> Table:
    rows = [("Fact", "Value"), *((key, value) for key, value in pairs)]
    return _table(rows, [0.28, 0.72])


# -- figures ------------------------------------------------------------------------------
@functools.cache
def _rc() -> dict[str, Any]:
    rc: dict[str, Any] = dict(sns.axes_style("whitegrid"))
    rc.update(sns.plotting_context("paper", font_scale=0.75))
    rc.update({"font.family": "DejaVu Sans", "axes.titlesize": 7.5, "legend.fontsize": 6, "axes.titleweight": "bold"})
    return rc


def _image(draw: Callable[[Figure], None], size: tuple[float, float], width: float) -> Image:
    """Draw a figure (inches), render it to PNG in memory and wrap it for reportlab.

    Args:
        draw: fills the figure.
        size: figure size in inches.
        width: the width of the image on the page, in points.
    """
    with matplotlib.rc_context(_rc()):
        figure = Figure(figsize=size, dpi=DPI, layout="constrained")
        FigureCanvasAgg(figure)
        try:
            draw(figure)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=DPI)
        finally:
            figure.clear()
    buffer.seek(0)
    return Image(buffer, width=width, height=width * size[1] / size[0])


def _grid(images: Sequence[Flowable], per_row: int = 2) -> Table:
    """Place images in a grid, ``per_row`` per row."""
    rows = [list(images[i : i + per_row]) for i in range(0, len(images), per_row)]
    if rows and len(rows[-1]) < per_row:
        rows[-1] += [""] * (per_row - len(rows[-1]))
    table = Table(rows, colWidths=[FRAME_WIDTH / per_row] * per_row, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 1),
                ("RIGHTPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return table


def _values(frame: pd.DataFrame, name: str, kind: str) -> np.ndarray:
    """A numeric or datetime column's present values as floats; datetimes as matplotlib date numbers (days)."""
    if name not in frame.columns or frame.empty:
        return np.array([], dtype=float)
    values = frame[name]
    if kind == "datetime":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            stamps = pd.to_datetime(values, errors="coerce")
        if getattr(stamps.dt, "tz", None) is not None:
            stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
        stamps = stamps.dropna()
        return np.asarray(mdates.date2num(stamps.to_numpy()), dtype=float) if len(stamps) else np.array([], float)
    numbers = pd.to_numeric(values, errors="coerce").astype("float64").to_numpy()
    return numbers[np.isfinite(numbers)]


def _date_axis(axis: Any) -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=7)
    axis.set_major_locator(locator)
    axis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _compact(value: float, _position: Any = None) -> str:
    """A short tick label: 12k, 3.4M, 0.25."""
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"{value / size:.3g}{suffix}"
    return f"{value:.3g}"


def _value_axis(axis: Any, kind: str, *, integer: bool = False) -> None:
    """Dates for datetime axes; a few compact number ticks otherwise (whole ones for whole-number columns)."""
    if kind == "datetime":
        _date_axis(axis)
    else:
        axis.set_major_locator(MaxNLocator(nbins=5, integer=integer))
        axis.set_major_formatter(FuncFormatter(_compact))


def _bins(real: np.ndarray, syn: np.ndarray, discrete: bool) -> np.ndarray:
    """Shared histogram bin edges: one per value for narrow whole numbers, else the central quantile range."""
    samples = [x for x in (real, syn) if len(x)]
    low = min(float(x.min()) for x in samples)
    high = max(float(x.max()) for x in samples)
    if discrete and high - low <= MAX_DISCRETE_RANGE:
        return np.arange(np.floor(low) - 0.5, np.ceil(high) + 1.0, 1.0)
    low = min(float(np.quantile(x, HIST_RANGE[0])) for x in samples)
    high = max(float(np.quantile(x, HIST_RANGE[1])) for x in samples)
    if high <= low:
        return np.array([low - 0.5, low + 0.5])
    return np.linspace(low, high, HIST_BINS + 1)


def _box_stats(values: np.ndarray, label: str) -> dict[str, Any]:
    """Box-plot statistics from percentiles only: whiskers at p5/p95, no individual points."""
    p5, q1, median, q3, p95 = np.percentile(values, [5, 25, 50, 75, 95])
    return {"label": label, "whislo": p5, "q1": q1, "med": median, "q3": q3, "whishi": p95, "fliers": []}


def _draw_distribution(
    figure: Figure,
    name: str,
    kind: str,
    real: np.ndarray,
    syn: np.ndarray,
    discrete: bool,
    min_count: int = HEXBIN_MINCNT,
    syn_min_count: int = 1,
) -> None:
    """Histogram of real and synthetic on shared bins, with percentile box plots underneath.

    Real bars holding fewer than ``min_count`` rows are left empty, synthetic ones fewer
    than ``syn_min_count`` (``min_count`` too when the synthetic table was quarantined:
    its rows may be copies of real ones).
    """
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [4, 1.3]})
    bins = _bins(real, syn, discrete)
    floors = ((real, REAL_COLOR, "real", min_count), (syn, SYN_COLOR, "synthetic", syn_min_count))
    for values, color, label, floor in floors:
        shown = values[(values >= bins[0]) & (values <= bins[-1])]
        if len(shown):
            counts, _ = np.histogram(shown, bins=bins)
            counts[counts < floor] = 0  # a bar never stands for fewer than k real rows
            density = counts / max(counts.sum(), 1) / np.diff(bins)
            top.stairs(density, bins, fill=True, alpha=0.45, color=color, label=label, linewidth=0.6)
    top.set_title(_short(name, 40))
    top.set_ylabel("density")
    top.set_yticklabels([])  # density units are not meaningful to a reader; the shapes are
    top.legend(frameon=False, loc="best")
    stats = [_box_stats(values, label) for values, label in ((real, "real"), (syn, "syn")) if len(values)]
    artists = bottom.bxp(
        stats,
        orientation="horizontal",
        showfliers=False,
        patch_artist=True,
        widths=0.6,
        medianprops={"color": "black", "linewidth": 0.8},
    )
    for box, stat in zip(artists["boxes"], stats, strict=True):
        box.set_facecolor(REAL_COLOR if stat["label"] == "real" else SYN_COLOR)
        box.set_alpha(0.6)
    bottom.invert_yaxis()  # real on top, as in the legend
    bottom.grid(False, axis="y")
    _value_axis(bottom.xaxis, kind, integer=discrete)


def _frequencies(
    real: pd.Series, syn: pd.Series, *, min_count: int = 1, syn_min_count: int = 1
) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Relative frequencies of the top real categories, the rest pooled as 'other'.

    A real bar that stands for fewer than ``min_count`` rows (a rare ``(missing)``, a
    boolean's minority, a small pooled 'other') is drawn empty; a synthetic one under
    ``syn_min_count`` likewise.
    """

    def labelled(values: pd.Series) -> pd.Series:
        return values.astype(object).where(values.notna(), "(missing)").astype(str)

    real_counts = labelled(real).value_counts()
    syn_counts = labelled(syn).value_counts()
    top = list(real_counts.index[:TOP_CATEGORIES])
    real_freq = [real_counts.get(label, 0) for label in top]
    syn_freq = [syn_counts.get(label, 0) for label in top]
    real_other = real_counts.sum() - sum(real_freq)
    syn_other = syn_counts.sum() - sum(syn_freq)
    if real_other or syn_other:
        top.append("other")
        real_freq.append(real_other)
        syn_freq.append(syn_other)
    real_total, syn_total = max(real_counts.sum(), 1), max(syn_counts.sum(), 1)
    real_freq = [count if count >= min_count else 0 for count in real_freq]
    syn_freq = [count if count >= syn_min_count else 0 for count in syn_freq]
    return top, np.array(real_freq) / real_total, np.array(syn_freq) / syn_total


def _paired_bars(
    figure: Figure,
    labels: list[str],
    real: Sequence[float],
    syn: Sequence[float],
    *,
    names: tuple[str, str],
    label_chars: int,
) -> Any:
    """Horizontal bars, real above synthetic for each label; the legend below the axes."""
    axes = figure.subplots()
    positions = np.arange(len(labels))
    axes.barh(positions - 0.2, real, height=0.4, color=REAL_COLOR, label=names[0])
    axes.barh(positions + 0.2, syn, height=0.4, color=SYN_COLOR, label=names[1])
    axes.set_yticks(positions, [_short(label, label_chars) for label in labels])
    axes.set_ylim(len(labels) - 0.5, -0.5)
    axes.grid(False, axis="y")
    figure.legend(loc="outside lower center", ncols=2, frameon=False)
    return axes


def _draw_frequencies(figure: Figure, name: str, labels: list[str], real: np.ndarray, syn: np.ndarray) -> None:
    """Side-by-side horizontal bars of category shares, real vs synthetic."""
    axes = _paired_bars(figure, labels, real, syn, names=("real", "synthetic"), label_chars=LABEL_CHARS)
    axes.set_xlabel("share of rows")
    axes.set_title(_short(name, 40))


def _draw_importance(figure: Figure, features: list[str], real: list[float], syn: list[float]) -> None:
    axes = _paired_bars(figure, features, real, syn, names=("trained on real", "trained on synthetic"), label_chars=30)
    axes.set_xlabel("feature importance (decision tree)")


def _draw_heatmaps(figure: Figure, matrices: Sequence[tuple[str, np.ndarray]], labels: list[str]) -> None:
    """One heatmap per matrix, side by side, on a shared −1..1 colour scale."""
    annotate = len(labels) <= ANNOTATE_MAX_COLUMNS
    short = [_short(label, 16) for label in labels]
    axes = figure.subplots(1, len(matrices), squeeze=False)[0]
    image = None
    for ax, (title, matrix) in zip(axes, matrices, strict=True):
        image = ax.imshow(np.ma.masked_invalid(matrix), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(len(labels)), short, rotation=90)
        ax.set_yticks(range(len(labels)), short)
        ax.grid(False)
        ax.set_title(title)
        if annotate:
            for (i, j), value in np.ndenumerate(matrix):
                if np.isfinite(value):
                    color = "white" if abs(value) > 0.6 else "black"
                    ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=5, color=color)
    figure.colorbar(image, ax=list(axes), shrink=0.7, label="Pearson r")


def _draw_pair(
    figure: Figure,
    columns: Sequence[ColumnSchema],
    real: np.ndarray,
    syn: np.ndarray,
    title: str,
    min_count: int = HEXBIN_MINCNT,
    syn_points: bool = True,
) -> None:
    """Real data as a hexagon density (cells under ``min_count`` rows hidden), synthetic rows as points on top.

    With ``syn_points`` false (a quarantined table, whose rows may copy real ones) the
    synthetic rows are drawn as hexagon outlines under the same ``min_count`` rule.
    """
    axes = figure.subplots()
    if len(real):
        gridsize = int(min(HEXBIN_GRIDSIZE, max(6, np.sqrt(len(real) / 5))))
        cells = axes.hexbin(
            real[:, 0],
            real[:, 1],
            gridsize=gridsize,
            mincnt=min_count,
            cmap="Blues",
            linewidths=0.2,
            edgecolors="white",
        )
        if np.asarray(cells.get_array()).size:
            figure.colorbar(cells, ax=axes, shrink=0.8, label=f"real rows per cell (≥{min_count})")
        else:
            axes.text(
                0.5,
                0.97,
                f"no cell holds {min_count}+ real rows",
                transform=axes.transAxes,
                ha="center",
                va="top",
                fontsize=5.5,
                color="dimgrey",
            )
    if len(syn) and not syn_points:
        gridsize = int(min(HEXBIN_GRIDSIZE, max(6, np.sqrt(len(syn) / 5))))
        axes.hexbin(
            syn[:, 0], syn[:, 1], gridsize=gridsize, mincnt=min_count, cmap="Oranges", alpha=0.5,
            linewidths=0.4, edgecolors=SYN_COLOR,
        )  # fmt: skip
    elif len(syn):
        if len(syn) > MAX_SCATTER_POINTS:
            syn = syn[np.random.default_rng(0).choice(len(syn), MAX_SCATTER_POINTS, replace=False)]
        sparse = len(syn) <= 500  # many points would hide the real density underneath
        axes.scatter(
            syn[:, 0],
            syn[:, 1],
            s=5 if sparse else 2,
            alpha=0.6 if sparse else 0.3,
            color=SYN_COLOR,
            linewidths=0,
            label="synthetic",
        )
        axes.legend(frameon=True, framealpha=0.8, loc="best", markerscale=2)
    axes.set_xlabel(_short(columns[0].name, 30))
    axes.set_ylabel(_short(columns[1].name, 30))
    axes.set_title(title)
    for axis, column in zip((axes.xaxis, axes.yaxis), columns, strict=True):
        _value_axis(axis, column.kind, integer=column.integer)


# -- sections -------------------------------------------------------------------------------
def _heading(number: int, title: str) -> list[Flowable]:
    return [CondPageBreak(45 * mm), _p(f"{number}. {title}", "h1")]


def _run_section(table: str, run_facts: dict, hyperparameters: dict, redact: _Redactor) -> list[Flowable]:
    version = run_facts.get("synthlake_version")
    out: list[Flowable] = [
        _note(
            (f"Generated by synthlake {version}. " if version else "")
            + "This report shows aggregates only: no real row and no identifier value appears in it."
        ),
        *_heading(1, "Run and hyperparameters"),
        _key_values([(_pretty_key(key), redact(_fmt_value(value))) for key, value in run_facts.items()]),
        _p("Hyperparameters", "h2"),
    ]
    hyper = [
        ("Epochs", _fmt_value(hyperparameters.get("epochs"))),
        ("Batch size", _fmt_value(hyperparameters.get("batch_size"))),
        ("Source", _fmt_value(hyperparameters.get("source"))),
        ("Provider", _fmt_value(hyperparameters.get("provider"))),
        ("Reason", redact(_fmt_value(hyperparameters.get("reason") or "–"))),
        ("Adjustments", redact(_fmt_value(hyperparameters.get("adjustments") or []))),
    ]
    if hyperparameters.get("fallback_reason"):
        hyper.append(("Fallback reason", redact(_fmt_value(hyperparameters["fallback_reason"]))))
    out.append(_key_values(hyper))
    return out


def _column_note(kind: str) -> str:
    if kind == "identifier":
        return "regenerated, not learned"
    if kind in ("empty", "constant"):
        return "carried as it is, not learned"
    return "learned"


def _columns_section(schema: TableSchema, summary_synthetic: pd.DataFrame) -> list[Flowable]:
    syn = summary_synthetic.set_index("column") if "column" in summary_synthetic else pd.DataFrame()
    rows: list[list[Any]] = [
        [
            "Column",
            "Kind",
            "Missing % real",
            "Missing % syn",
            "Distinct real",
            "Distinct syn",
            "Why this kind",
            "Treatment",
        ]
    ]
    for column in schema.columns:
        missing = 100.0 * column.n_missing / schema.n_rows if schema.n_rows else 0.0
        syn_row = syn.loc[column.name] if column.name in syn.index else {}
        kind = column.kind + (" (whole numbers)" if column.kind == "numeric" and column.integer else "")
        rows.append(
            [
                column.name,
                kind,
                f"{missing:.1f}",
                _fmt_pct(syn_row.get("missing_pct")),
                _fmt_number(column.n_unique),
                _fmt_number(syn_row.get("distinct")),
                column.reason,
                _column_note(column.kind),
            ]
        )
    out: list[Flowable] = [
        *_heading(2, "Columns"),
        _table(rows, [0.17, 0.12, 0.08, 0.08, 0.08, 0.08, 0.23, 0.16], right=range(2, 6)),
    ]
    identifiers = schema.names("identifier")
    out.append(Spacer(1, 4))
    if identifiers:
        out.append(
            _p(
                f"<b>Identifier columns</b> (regenerated, not learned; their values never appear here): "
                f"{_escape(', '.join(identifiers))}.",
                markup=True,
            )
        )
    if schema.warnings:
        out.append(_p("Warnings", "h2"))
        out += [_bullet(warning) for warning in schema.warnings]
    return out


def _statistics_section(
    schema: TableSchema, summary_real: pd.DataFrame, summary_synthetic: pd.DataFrame
) -> list[Flowable]:
    out = _heading(3, "Summary statistics")
    columns = [c for c in schema.columns if c.kind in ("numeric", "datetime")]
    if not columns:
        return [*out, _note("No numeric or date column: no summary statistics to show.")]
    summaries = {
        source: frame.set_index("column") if "column" in frame else pd.DataFrame()
        for source, frame in (("real", summary_real), ("syn", summary_synthetic))
    }
    rows: list[list[Any]] = [["Column", "", *STATS]]
    extra: list[tuple] = []
    for i, column in enumerate(columns):
        for source in ("real", "syn"):
            summary = summaries[source]
            stats = summary.loc[column.name] if column.name in summary.index else {}
            first = source == "real"
            rows.append(
                [
                    column.name if first else "",
                    source,
                    *(_fmt_stat(stats.get(stat), column.kind, stat) for stat in STATS),
                ]
            )
        r = 1 + 2 * i
        extra.append(("SPAN", (0, r), (0, r + 1)))
        if i % 2:
            extra.append(("BACKGROUND", (0, r), (-1, r + 1), colors.HexColor("#F2F4F7")))
    stat_width = (1 - 0.1 - 0.035) / len(STATS)
    table = _table(
        rows,
        [0.1, 0.035, *[stat_width] * len(STATS)],
        size="small",
        right=range(2, 2 + len(STATS)),
        extra=[("LEFTPADDING", (0, 0), (-1, -1), 1), ("RIGHTPADDING", (0, 0), (-1, -1), 1), *extra],
        zebra=False,
    )
    note = _note(
        "One pair of rows per numeric or date column: the real table, then the synthetic one. "
        "Dates are shown as days; their spread (std) in days."
    )
    return [*out, note, table]


def _score_text(value: Any) -> str:
    return "N/A" if _is_missing(value) else f"{float(value):.3f}"


def _fmt_r(value: Any) -> str:
    return "N/A" if _is_missing(value) else f"{float(value):.2f}"


def _fmt_metric(value: Any, metric: str) -> str:
    """Scores (accuracy, F1, AUC, R², ratios) to 3 decimals; errors (MAE, RMSE) to 4 significant digits."""
    return _fmt_number(value) if metric in ("mae", "rmse") else _score_text(value)


def _fidelity_section(comparison: dict) -> list[Flowable]:
    out = _heading(4, "Fidelity scores")
    out.append(
        _note(
            "Similarity scores in [0, 1], where 1 means identical: 1 − Kolmogorov-Smirnov statistic for numeric "
            "and date columns, 1 − total variation distance for categorical and boolean columns, and "
            "1 − |real − synthetic| / 2 per pair of Pearson correlations."
        )
    )
    scores = [
        ("Score", "Value"),
        ("Overall", _score_text(comparison.get("overall_score"))),
        ("Column shapes", _score_text(comparison.get("column_shape_score"))),
        ("Correlations", _score_text(comparison.get("correlation_score"))),
    ]
    out.append(_table(scores, [0.25, 0.12], right=[1]))
    out.append(_p("Largest column differences", "h2"))
    differences = comparison.get("largest_differences") or []
    if differences:
        rows = [["Column", "Kind", "Metric", "Score", "Missing % real", "Missing % syn", "Mean gap (std)"]]
        rows += [
            [
                item.get("column"),
                item.get("kind"),
                item.get("metric"),
                _score_text(item.get("score")),
                _fmt_pct(item.get("real_missing_pct")),
                _fmt_pct(item.get("syn_missing_pct")),
                _fmt_number(item.get("mean_gap_in_std")),
            ]
            for item in differences
        ]
        out.append(_table(rows, [0.25, 0.12, 0.15, 0.08, 0.11, 0.11, 0.11], right=range(3, 7)))
    else:
        out.append(_note("No learned column to compare."))
    out.append(_p("Largest correlation gaps", "h2"))
    gaps = comparison.get("correlation_gaps") or []
    if gaps:
        rows = [["Pair", "Real r", "Synthetic r", "Gap"]]
        rows += [
            [
                " × ".join(str(name) for name in item.get("pair", [])),
                _score_text(item.get("real")),
                _score_text(item.get("synthetic")),
                _score_text(item.get("gap")),
            ]
            for item in gaps
        ]
        out.append(_table(rows, [0.5, 0.12, 0.12, 0.12], right=[1, 2, 3]))
    else:
        out.append(_note("Fewer than two varying numeric, date or boolean columns: no correlation to compare."))
    return out


def _correlation_section(comparison: dict) -> list[Flowable]:
    out = _heading(5, "Correlation matrices")
    labels = list(comparison.get("correlation_columns") or [])
    real = np.array(comparison.get("correlation_real") or [], dtype=float)
    syn = np.array(comparison.get("correlation_synthetic") or [], dtype=float)
    if len(labels) < 2 or real.shape != (len(labels), len(labels)) or syn.shape != real.shape:
        return [*out, _note("Not enough numeric columns (fewer than two that vary in both tables): no matrix.")]
    out.append(
        _note(
            "Pearson correlations over numeric, date (as time) and boolean (as 0/1) columns. "
            "Difference = synthetic − real: white is a perfect match."
        )
    )
    matrices = [("real", real), ("synthetic", syn), ("difference (syn − real)", syn - real)]
    n = len(labels)
    per_figure, height = (3, 2.7) if n <= 6 else (2, 4.3) if n <= 16 else (1, 7.5)
    panel_width = 7.5 / per_figure
    for start in range(0, len(matrices), per_figure):
        group = matrices[start : start + per_figure]
        width = panel_width * len(group) + (0.4 if len(group) < per_figure else 0.0)  # room for the colour bar
        draw = functools.partial(_draw_heatmaps, matrices=group, labels=labels)
        out.append(_image(draw, (width, height), FRAME_WIDTH * width / 7.5))
    return out


def _distribution_section(
    schema: TableSchema, real: pd.DataFrame, synthetic: pd.DataFrame, k: int = HEXBIN_MINCNT, released: bool = True
) -> list[Flowable]:
    out = _heading(6, "Distributions: real vs synthetic")
    out.append(
        _note(
            f"Histograms share their bins and show densities; they span the {HIST_RANGE[0]:.1%} to "
            f"{HIST_RANGE[1]:.1%} quantiles of both tables; a real bar (histogram or category) holding fewer than "
            f"{k} rows is left empty. "
            "Box plots are drawn from percentiles "
            "(box p25–p75, line p50, whiskers p5–p95) with no individual points. Bars compare the "
            f"share of rows of the {TOP_CATEGORIES} most frequent real categories; the rest is 'other'. "
            "Identifier, empty and constant columns are not drawn."
        )
    )
    numeric, categorical = [], []
    for column in schema.columns:
        if column.kind in ("numeric", "datetime"):
            real_x, syn_x = _values(real, column.name, column.kind), _values(synthetic, column.name, column.kind)
            if not len(real_x) and not len(syn_x):
                continue
            draw = functools.partial(
                _draw_distribution,
                name=column.name,
                kind=column.kind,
                real=real_x,
                syn=syn_x,
                discrete=column.integer,
                min_count=k,
                syn_min_count=1 if released else k,
            )
            numeric.append(_image(draw, (3.6, 2.6), FRAME_WIDTH / 2 - 4))
        elif column.kind in ("categorical", "boolean"):
            syn_values = synthetic[column.name] if column.name in synthetic else pd.Series(dtype=object)
            labels, real_freq, syn_freq = _frequencies(
                real[column.name], syn_values, min_count=k, syn_min_count=1 if released else k
            )
            draw = functools.partial(_draw_frequencies, name=column.name, labels=labels, real=real_freq, syn=syn_freq)
            categorical.append(_image(draw, (3.6, 1.0 + 0.16 * len(labels)), FRAME_WIDTH / 2 - 4))
    out.append(_p("Numeric and date columns", "h2"))
    out.append(_grid(numeric) if numeric else _note("No numeric or date column to draw."))
    out.append(_p("Categorical and boolean columns", "h2"))
    out.append(_grid(categorical) if categorical else _note("No categorical or boolean column to draw."))
    return out


def _top_pairs(schema: TableSchema, comparison: dict) -> list[dict]:
    """The most correlated numeric or date pairs in the real data (by |r|)."""
    kinds = {column.name: column.kind for column in schema.columns}
    pairs = comparison.get("correlation_pairs") or comparison.get("correlation_gaps") or []
    usable = [
        p
        for p in pairs
        if len(p.get("pair", [])) == 2
        and not _is_missing(p.get("real"))
        and all(kinds.get(name) in ("numeric", "datetime") for name in p["pair"])
    ]
    return sorted(usable, key=lambda p: -abs(float(p["real"])))[:TOP_PAIRS]


def _joint(frame: pd.DataFrame, names: Sequence[str], kinds: Sequence[str]) -> np.ndarray:
    """Rows where both columns are present, as an (n, 2) float array."""
    if frame.empty or any(name not in frame for name in names):
        return np.empty((0, 2))
    both = frame[list(names)].dropna()
    columns = [_values(both, name, kind) for name, kind in zip(names, kinds, strict=True)]
    if len(columns[0]) != len(columns[1]):  # a value that did not parse: keep rows where both did
        return np.empty((0, 2))
    return np.column_stack(columns) if len(columns[0]) else np.empty((0, 2))


def _pairs_section(
    schema: TableSchema,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    comparison: dict,
    k: int = HEXBIN_MINCNT,
    released: bool = True,
) -> list[Flowable]:
    out = _heading(7, "Most correlated pairs")
    pairs = _top_pairs(schema, comparison)
    if not pairs:
        return [*out, _note("Fewer than two varying numeric or date columns: no pair to draw.")]
    out.append(
        _note(
            f"Real rows are never drawn one by one: they appear as a hexagon density, and hexagons holding "
            f"fewer than {k} real rows are left blank. "
            + (
                f"Synthetic rows are the orange points (at most {MAX_SCATTER_POINTS:,} shown)."
                if released
                else f"This synthetic table was quarantined (its rows may copy real ones), so it too is drawn as "
                f"orange hexagons of at least {k} rows, never as points."
            )
        )
    )
    images = []
    for pair in pairs:
        names = tuple(pair["pair"])
        columns = [schema.column(name) for name in names]
        kinds = [column.kind for column in columns]
        title = f"Pearson r: real {_fmt_r(pair['real'])}, synthetic {_fmt_r(pair.get('synthetic'))}"
        draw = functools.partial(
            _draw_pair,
            min_count=k,
            syn_points=released,
            columns=columns,
            real=_joint(real, names, kinds),
            syn=_joint(synthetic, names, kinds),
            title=title,
        )
        images.append(_image(draw, (3.6, 3.0), FRAME_WIDTH / 2 - 4))
    out.append(_grid(images))
    return out


def _model_section(model_metrics: dict | None, redact: _Redactor) -> list[Flowable]:
    out = _heading(8, "Model check (train on synthetic, test on real)")
    if model_metrics is None:
        return [*out, _p(MODEL_SKIPPED_NO_LABEL)]
    if model_metrics.get("skipped"):
        label = model_metrics.get("label")
        prefix = f"The decision-tree check for label '{label}' was skipped: " if label else "The check was skipped: "
        return [*out, _p(prefix + redact(model_metrics["skipped"]) + ".")]
    task, label = model_metrics.get("task", "?"), model_metrics.get("label", "?")
    out.append(
        _p(
            f"Task: <b>{_escape(task)}</b> of <b>{_escape(label)}</b>. Two decision trees, one trained on the "
            f"synthetic table ({_fmt_value(model_metrics.get('synthetic_rows'))} rows) and one on the real "
            f"training rows ({_fmt_value(model_metrics.get('real_rows'))}), are both tested on the real holdout "
            f"({_fmt_value(model_metrics.get('holdout_rows'))} rows) that CTGAN never saw. A ratio near 1 means "
            "the synthetic table is as useful as the real one.",
            markup=True,
        )
    )
    syn, real, ratio = (model_metrics.get(key) or {} for key in ("synthetic", "real", "ratio"))
    rows = [["Metric", "Trained on synthetic", "Trained on real", "Ratio (syn / real)"]]
    for metric in real:
        rows.append(
            [
                METRIC_NAMES.get(metric, metric),
                _fmt_metric(syn.get(metric), metric),
                _fmt_metric(real.get(metric), metric),
                _fmt_metric(ratio.get(metric), metric) if metric in ratio else "–",
            ]
        )
    out.append(_table(rows, [0.2, 0.18, 0.18, 0.18], right=[1, 2, 3]))
    importance = model_metrics.get("feature_importance") or {}
    real_imp, syn_imp = importance.get("real") or {}, importance.get("synthetic") or {}
    features = sorted(set(real_imp) | set(syn_imp), key=lambda f: (-max(real_imp.get(f, 0.0), syn_imp.get(f, 0.0)), f))
    features = features[:TOP_FEATURES]
    if features:
        out.append(_p("Feature importance", "h2"))
        draw = functools.partial(
            _draw_importance,
            features=features,
            real=[real_imp.get(f, 0.0) for f in features],
            syn=[syn_imp.get(f, 0.0) for f in features],
        )
        out.append(_image(draw, (6.0, 1.0 + 0.3 * len(features)), FRAME_WIDTH * 0.8))
    return out


def _inline(text: str) -> str:
    """Escape text and turn markdown ``**bold**`` into reportlab markup; drop code backticks."""
    return re.sub(r"\*\*(.+?)\*\*", r"<b>\1</b>", _escape(text)).replace("`", "")


def _narrative_section(narrative: str, redact: _Redactor) -> list[Flowable]:
    """Render '#'/'##'/'###' headings, '- '/'* ' bullets and blank-line separated paragraphs."""
    out = _heading(10, "Narrative")
    if not (narrative or "").strip():
        return [*out, _note("No narrative was provided.")]
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(_p(_inline(" ".join(paragraph)), markup=True))
            paragraph.clear()

    for line in redact(narrative).splitlines():
        stripped = line.strip()
        heading = re.match(r"^#{1,6}\s+(.*)$", stripped)
        bullet = re.match(r"^[-*•]\s+(.*)$", stripped)
        if not stripped:
            flush()
        elif heading:
            flush()
            out.append(_p(_inline(heading.group(1)), "h2", markup=True))
        elif bullet:
            flush()
            out.append(_bullet(_inline(bullet.group(1)), markup=True))
        else:
            paragraph.append(stripped)
    flush()
    return out


STATUS_COLORS = {"pass": "#2E7D32", "fail": "#C62828", "not measured": "#616161"}


def _share(value: Any) -> str:
    return "–" if _is_missing(value) else f"{float(value):.1%}"


def _status(status: str) -> Paragraph:
    color = STATUS_COLORS.get(status, "#616161")
    return _p(f'<font color="{color}"><b>{_escape(status.upper())}</b></font>', "cell", markup=True)


def _verdict_section(table: str, evaluation: dict | None, run_facts: dict, redact: _Redactor) -> list[Flowable]:
    """Page 1: pass or fail for fidelity, utility and privacy, with the figures and plain words."""
    out: list[Flowable] = [_p(f"Synthetic data report — {table}", "title")]
    if not evaluation or not evaluation.get("verdict"):
        return [*out, _note("No evaluation was recorded for this table, so no verdict can be given."), PageBreak()]
    judged = evaluation["verdict"]
    overall = judged["overall"]
    color = STATUS_COLORS.get(overall["status"], "#616161")
    out.append(
        _p(
            f'Verdict: <font color="{color}"><b>{_escape(overall["status"].upper())}</b></font>. '
            + _escape(overall["summary"]),
            "h1",
            markup=True,
        )
    )
    release = evaluation.get("release") or {}
    if release.get("released") is False:
        out.append(
            _p(
                '<font color="#C62828"><b>Quarantined.</b></font> This synthetic table failed the privacy gate and '
                "was written to the lakehouse's Quarantine folder, not to Tables: do not share it.",
                markup=True,
            )
        )
    elif release.get("released"):
        out.append(
            _p("Released: the synthetic table passed the privacy gate and was written to the lakehouse's Tables.")
        )
    rows: list[list[Any]] = [["Check", "Result", "What it means"]]
    for name, title in (("fidelity", "Fidelity"), ("utility", "Utility"), ("privacy", "Privacy")):
        part = judged[name]
        rows.append([title, _status(part["status"]), redact(part["summary"])])
    out.append(_table(rows, [0.12, 0.12, 0.76], zebra=False))
    out.append(Spacer(1, 3 * mm))
    fidelity = evaluation.get("fidelity") or {}
    privacy = evaluation.get("privacy") or {}
    utility = evaluation.get("utility") or {}
    figures = [
        ("SDMetrics quality (overall)", _score_text(fidelity.get("quality_score"))),
        ("  column shapes", _score_text(fidelity.get("column_shapes_score"))),
        ("  column pair trends", _score_text(fidelity.get("column_pair_trends_score"))),
        ("Detection ROC-AUC (0.5 ideal)", _score_text(fidelity.get("detection_auc"))),
    ]
    if utility and not utility.get("skipped") and utility.get("real"):
        metric = "f1_macro" if utility.get("task") == "classification" else "r2"
        figures += [
            (
                f"Tree {METRIC_NAMES[metric]}: trained on synthetic",
                _score_text((utility.get("synthetic") or {}).get(metric)),
            ),
            (f"Tree {METRIC_NAMES[metric]}: trained on real", _score_text(utility["real"].get(metric))),
            ("Ratio (TSTR / TRTR)", _score_text((utility.get("ratio") or {}).get(metric))),
        ]
    if privacy:
        figures += [
            ("DCR share (0.5 ideal)",
             f"{_score_text(privacy.get('dcr_share'))} (limit {_score_text(privacy.get('dcr_threshold'))})"),
            ("Copies of a training row", _share(privacy.get("identical_train_sample_share"))
             + f" (vs {_share(privacy.get('identical_holdout_share'))} equal to a holdout row)"),
            ("NNDR p10: synthetic / holdout", f"{_score_text(privacy.get('nndr_p10_synthetic'))} / "
             f"{_score_text(privacy.get('nndr_p10_holdout'))}"),
            ("Rows compared (synthetic / holdout)", f"{privacy.get('n_compared')} / {privacy.get('n_holdout_rows')}"),
        ]  # fmt: skip
    out.append(_p("The figures", "h2"))
    out.append(_table([("Figure", "Value"), *figures], [0.45, 0.4], zebra=True))
    worst = fidelity.get("worst_columns") or []
    if worst:
        text = ", ".join(f"{item['column']} ({_score_text(item['score'])})" for item in worst)
        out.append(_p(f"Columns that differ most (SDMetrics column shape score): {_escape(text)}."))
    pairs = fidelity.get("worst_pairs") or []
    if pairs:
        text = ", ".join(f"{' × '.join(item['pair'])} ({_score_text(item['score'])})" for item in pairs)
        out.append(_p(f"Pairs whose relationship differs most: {_escape(text)}."))
    if privacy.get("small_sample_warning"):
        out.append(_p(privacy["small_sample_warning"]))
    thresholds = overall.get("thresholds") or {}
    out.append(
        _note(
            "How to read this page. Fidelity: SDMetrics' quality report (column shapes and column pair trends; 1 is "
            f"identical); pass at {thresholds.get('min_quality', 0.75):.2f}. Detection: a classifier's ROC-AUC at "
            "telling real rows from synthetic ones. Utility: a decision tree trained on the synthetic table and one "
            "trained on the real training rows, both tested on real rows that CTGAN never saw; pass when the "
            f"synthetic-trained tree keeps {thresholds.get('min_utility_ratio', 0.8):.0%} of the real one's score. "
            "Privacy: synthetic rows compared with the training rows and with a holdout of real rows CTGAN never "
            "saw; a synthetic table that sits closer to its training rows than to unseen real rows has memorised "
            "them, and is quarantined."
        )
    )
    facts = [
        (key, run_facts.get(key)) for key in ("run_id", "real_rows", "training_rows", "holdout_rows", "synthetic_rows")
    ]
    out.append(
        _note(" · ".join(f"{_pretty_key(key)}: {_fmt_value(value)}" for key, value in facts if value is not None))
    )
    out.append(PageBreak())
    return out


def _privacy_section(evaluation: dict | None, redact: _Redactor) -> list[Flowable]:
    out = _heading(9, "Privacy and protection")
    if not evaluation:
        return [*out, _note("No privacy evaluation was recorded for this table.")]
    privacy = evaluation.get("privacy") or {}
    protection = evaluation.get("protection") or {}
    out.append(
        _note(
            "Synthetic rows are compared with the real training rows and, as the baseline, with a holdout of real "
            "rows CTGAN never saw (training rows subsampled to the holdout's size). Distances are Euclidean on "
            "standardised numbers and one-hot categories; identifier columns are not compared, since they are "
            "regenerated. DCR share: synthetic rows closer to a training row than to a holdout row (ties half). "
            "NNDR: nearest over second-nearest training-row distance; low values mean a row hugs one real record."
        )
    )
    rows = [("Check", "Value")]
    for key, label in (
        ("identical_train_share", "Synthetic rows equal to any training row"),
        ("identical_train_sample_share", "… to a row of the same-size training sample"),
        ("identical_holdout_share", "… to a holdout row"),
        ("dcr_share", "DCR share"),
        ("dcr_threshold_formula", "DCR limit for independent rows (0.5 + 1.96·√(0.25/n))"),
        ("dcr_threshold_permutation", "DCR limit from 200 random relabellings (97.5th percentile)"),
        ("dcr_threshold", "DCR limit applied (the larger)"),
        ("nndr_p10_synthetic", "NNDR 10th percentile, synthetic"),
        ("nndr_p10_holdout", "NNDR 10th percentile, holdout"),
    ):
        value = privacy.get(key)
        rows.append((label, _share(value) if key.endswith("share") else _score_text(value)))
    out.append(_table(rows, [0.5, 0.2], right=[1]))
    for reason in privacy.get("reasons") or []:
        out.append(_bullet(redact(reason)))
    for repair in privacy.get("repair") or []:
        out.append(
            _bullet(
                f"Repair round {repair['round']}: {repair['copies']} copies and {repair['too_close']} rows closer "
                f"than the holdout's 5th-percentile distance ({_fmt_number(repair['distance_floor'])}) dropped and "
                "redrawn."
            )
        )
    out.append(_p("Protections applied", "h2"))
    k = protection.get("k")
    out.append(
        _bullet(
            f"k = {k}: "
            + _escape(protection.get("rare_categories", ""))
            + "; "
            + _escape(protection.get("extremes", ""))
        )
    )
    out.append(_bullet(f"Every chart bar and hexagon of real data stands for at least {k} rows."))
    regenerated = protection.get("regenerated_columns") or []
    if regenerated:
        rows = [("Column", "Format", "Why it was detected")]
        rows += [(item["column"], item.get("format") or "–", item.get("why") or "") for item in regenerated]
        out.append(_p("Identifier and personal columns: not learned, regenerated with Faker in the same format", "h2"))
        out.append(_table(rows, [0.3, 0.15, 0.55]))
    else:
        out.append(_bullet("No identifier or personal-data column was detected."))
    for item in protection.get("not_learned_columns") or []:
        out.append(_bullet(f"{item['column']}: {item['kind']} column, carried as it was, not learned."))
    return out


def _footer(canvas: Any, doc: Any, *, table: str) -> None:
    regular, _ = _fonts()
    canvas.saveState()
    canvas.setFont(regular, 7)
    canvas.setFillColor(colors.dimgrey)
    canvas.drawString(MARGIN, 9 * mm, f"synthlake report — {_short(table, 90)}")
    canvas.drawRightString(A4[0] - MARGIN, 9 * mm, f"page {doc.page}")
    canvas.restoreState()


# -- entry point ------------------------------------------------------------------------------
def build_report(
    path: str | Path,
    *,
    table: str,
    schema: TableSchema,
    real: pd.DataFrame,
    synthetic: pd.DataFrame,
    summary_real: pd.DataFrame,
    summary_synthetic: pd.DataFrame,
    comparison: dict,
    hyperparameters: dict,
    model_metrics: dict | None,
    narrative: str,
    run_facts: dict,
    evaluation: dict | None = None,
    k: int = HEXBIN_MINCNT,
    released: bool = True,
) -> Path:
    """Write the auditable PDF report of one synthetic table, atomically.

    Args:
        path: where to write the PDF.
        table: the table name (title and footer).
        schema: the column kinds inferred at import.
        real: the real table (all rows, the schema's columns).
        synthetic: the synthetic table (the same columns; may be empty).
        summary_real: ``profiling.summarize`` of the real table.
        summary_synthetic: ``profiling.summarize`` of the synthetic table.
        comparison: ``evaluation.Comparison().generate(...).get_details()``.
        hyperparameters: the record from ``hyperparameters.propose``.
        model_metrics: the record from ``models.evaluate``, ``{"skipped": reason}``, or
            None when the table has no label.
        narrative: markdown-like text: paragraphs, ``## `` headings, ``- `` bullets.
        run_facts: facts about the run (run id, seed, row counts, timings, device...).
        evaluation: ``evaluation.json`` (fidelity, utility, privacy, protection, verdict);
            its verdict is the first page.
        k: the privacy threshold: rare categories and extremes of ``real`` are protected
            before drawing, and no bar or hexagon of real data stands for fewer rows.
        released: whether the synthetic table passed the privacy gate. A quarantined one
            may hold copies of real rows, so it is drawn under the same rules as ``real``.

    Returns:
        The path of the PDF.
    """
    path = Path(path)
    redact = _Redactor(schema, real)
    real = protect_frame(real, schema, k)
    if not released:
        synthetic = protect_frame(synthetic, schema, k)
    story: list[Flowable] = [
        *_verdict_section(table, evaluation, run_facts, redact),
        *_run_section(table, run_facts, hyperparameters, redact),
        *_columns_section(schema, summary_synthetic),
        *_statistics_section(schema, summary_real, summary_synthetic),
        *_fidelity_section(comparison),
        *_correlation_section(comparison),
        *_distribution_section(schema, real, synthetic, k, released),
        *_pairs_section(schema, real, synthetic, comparison, k, released),
        *_model_section(model_metrics, redact),
        *_privacy_section(evaluation, redact),
        *_narrative_section(narrative, redact),
    ]
    footer = functools.partial(_footer, table=table)
    with atomic_path(path) as temp:
        document = SimpleDocTemplate(
            str(temp),
            pagesize=A4,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=18 * mm,
            title=f"synthlake report — {table}",
            author="synthlake",
            invariant=True,
        )
        document.build(story, onFirstPage=footer, onLaterPages=footer)
    log.info("report for table '%s' written to %s (%d pages)", table, path, document.page)
    return path
