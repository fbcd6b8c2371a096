"""The HTML report: one self-contained file with plots, sortable tables, manifest, failures and players.

Plots are embedded PNG data URIs, audio is embedded (or linked relative to the run folder past a size
budget), the styles and the small table script are inline: the page needs no network. Every string that
comes from a user (song ids, model names, config ids, paths, error messages, the manifest) goes through
:func:`html.escape`.

- :func:`render_html`: the page as a string.
"""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence

import pandas as pd

from accbench.reports.aggregate import CONFIDENCE
from accbench.reports.figures import PlotFile
from accbench.reports.honesty import MetricFlag
from accbench.reports.load import dataset_name
from accbench.reports.markdown import format_interval, format_number
from accbench.reports.players import Clip, SongClips
from accbench.results import FAILURE_COLUMNS

__all__ = ["render_html"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #222; background: #fafafa; }
header { background: #1f3b57; color: #fff; padding: 1rem 2rem; }
header h1 { margin: 0 0 .3rem 0; font-size: 1.5rem; }
header .facts span { margin-right: 1.2rem; opacity: .9; }
nav { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: .5rem 2rem; z-index: 2; }
nav a { margin-right: 1rem; color: #1f3b57; text-decoration: none; font-weight: 600; }
main { padding: 1rem 2rem 3rem 2rem; }
section { margin-bottom: 2.5rem; }
h2 { border-bottom: 2px solid #1f3b57; padding-bottom: .2rem; }
figure { display: inline-block; margin: .5rem 1rem 1rem 0; background: #fff; border: 1px solid #e3e3e3; padding: .4rem;
  vertical-align: top; }
figure img { max-width: 100%; height: auto; display: block; }
figcaption { font-size: .85rem; color: #555; margin-top: .3rem; }
details { margin: .4rem 0; }
summary { cursor: pointer; font-weight: 600; }
table { border-collapse: collapse; font-size: .85rem; background: #fff; }
th, td { border: 1px solid #ddd; padding: .25rem .5rem; text-align: left; }
th { background: #eef2f6; cursor: pointer; user-select: none; position: sticky; top: 2.4rem; }
th.sorted-asc::after { content: " ▲"; } th.sorted-desc::after { content: " ▼"; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.infeasible td { color: #8a5a00; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; font-size: .75rem; background: #ddd; }
.badge.no { background: #f6d7a7; } .badge.yes { background: #cfe8cf; } .badge.base { background: #dde3f0; }
input.filter { margin: .3rem 0 .6rem 0; padding: .3rem; width: 22rem; }
pre { background: #fff; border: 1px solid #ddd; padding: .6rem; overflow: auto; max-height: 28rem; font-size: .8rem; }
audio { height: 2rem; width: 16rem; }
.note { color: #777; font-size: .8rem; }
.caption { color: #333; font-size: .85rem; margin: .2rem 0 0 0; max-width: 40rem; }
.flag { color: #8a3b00; font-size: .8rem; margin: .2rem 0 0 0; max-width: 40rem; }
.badge.flag { background: #f3d9c9; color: #6b2e00; }
.flags { background: #fff6ef; border: 1px solid #f0d2bd; padding: .3rem .8rem; font-size: .85rem; }
#primary-figures figure { max-width: 45%; }
@media (max-width: 1100px) { #primary-figures figure { max-width: 100%; } }
h3.metric { margin: 1.2rem 0 .2rem 0; font-size: 1rem; }
"""

_JS = """
(function () {
  function cellValue(row, index) {
    var cell = row.cells[index];
    if (!cell) { return ""; }
    var raw = cell.getAttribute("data-value");
    if (raw !== null) { var number = parseFloat(raw); return isNaN(number) ? -Infinity : number; }
    return cell.textContent.trim().toLowerCase();
  }
  function sortTable(table, index, header) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var ascending = !header.classList.contains("sorted-asc");
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.classList.remove("sorted-asc", "sorted-desc");
    });
    header.classList.add(ascending ? "sorted-asc" : "sorted-desc");
    rows.sort(function (a, b) {
      var x = cellValue(a, index), y = cellValue(b, index);
      if (x < y) { return ascending ? -1 : 1; }
      if (x > y) { return ascending ? 1 : -1; }
      return 0;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      header.addEventListener("click", function () { sortTable(table, index, header); });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input.filter"), function (input) {
    var table = document.getElementById(input.getAttribute("data-table"));
    input.addEventListener("input", function () {
      var needle = input.value.trim().toLowerCase();
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        row.style.display = row.textContent.toLowerCase().indexOf(needle) === -1 ? "none" : "";
      });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("button.play-both"), function (button) {
    button.addEventListener("click", function () {
      var ids = button.getAttribute("data-players").split(" ");
      ids.forEach(function (id) {
        var player = document.getElementById(id);
        if (player) { player.currentTime = 0; player.play().catch(function () {}); }
      });
    });
  });
  document.body.setAttribute("data-ready", "1");
})();
"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _num_cell(value: object, digits: int = 4) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"<td>{_e(value)}</td>"
    sort_value = repr(number) if math.isfinite(number) else "NaN"
    return f'<td class="num" data-value="{sort_value}">{_e(format_number(number, digits))}</td>'


def _figure(plot: PlotFile) -> str:
    """One embedded figure with its caption, file names and honesty flags."""
    data = base64.b64encode(plot.png).decode("ascii")
    files = ", ".join(_e(p.name) for p in plot.paths)
    flags = "".join(f'<p class="flag" data-flag="{_e(f.kind)}">⚠ {_e(f.message)}</p>' for f in plot.spec.flags)
    if plot.spec.section == "primary":
        flags = f'<p class="caption">{_e(plot.spec.caption)}</p>' + flags
    return (
        f'<figure class="plot" data-kind="{_e(plot.kind)}" data-section="{_e(plot.spec.section)}">'
        f'<img alt="{_e(plot.title)}" src="data:image/png;base64,{data}"><figcaption>{_e(plot.title)}'
        + (f' <span class="note">({files})</span>' if files else "")
        + f"{flags}</figcaption></figure>"
    )


def _figures_section(plots: Sequence[PlotFile], flags: dict[str, list[MetricFlag]], metrics: Sequence[str]) -> str:
    """The primary figures, then the collapsed "all metrics" section (figures by metric, flags, the rest)."""
    if not plots:
        return "<p>No plots (the results have no metric columns or no config grid).</p>"
    primary = [p for p in plots if p.spec.section == "primary"]
    parts = [f'<div id="primary-figures">{"".join(_figure(p) for p in primary)}</div>']
    others: dict[str, list[PlotFile]] = {}
    for plot in plots:
        if plot.spec.section != "primary":
            others.setdefault(plot.metric or "timing", []).append(plot)
    flagged = [flag for found in flags.values() for flag in found]
    drawn = {m for p in plots for m in p.spec.metrics}
    parts.append(f'<details id="all-metrics"><summary>All metrics ({len(plots) - len(primary)} more figures)</summary>')
    if flagged:
        items = "".join(f"<li><code>{_e(f.metric)}</code>: {_e(f.message)}</li>" for f in flagged)
        parts.append(f'<div class="flags"><p>Metrics that are not findings on this run:</p><ul>{items}</ul></div>')
    for metric, group in others.items():
        parts.append(f'<h3 class="metric">{_e(metric)}</h3>' + "".join(_figure(p) for p in group))
    undrawn = [m for m in metrics if m not in drawn]
    if undrawn:
        parts.append(
            f'<p class="note">No figure here (see the summary table, or draw one with <code>accbench plot RUN '
            f"--metric NAME</code>): {_e(', '.join(undrawn))}</p>"
        )
    parts.append("</details>")
    return "\n".join(parts)


def _summary_table(summary: pd.DataFrame, confidence: float, flags: dict[str, list[MetricFlag]]) -> str:
    if summary.empty:
        return "<p>No results.</p>"
    columns = [
        ("model", "model"),
        ("config", "config_id"),
        ("t_f (ms)", "future_visibility_ms"),
        ("k (ms)", "chunk_ms"),
        ("latency", "latency"),
        ("real-time", "feasible"),
        ("metric", "metric"),
        ("mean", "mean"),
        (f"{confidence:.0%} interval", "ci"),
        ("unit", "unit"),
        ("songs", "n_songs"),
        ("NaN", "n_nan"),
    ]
    columns = [(h, c) for h, c in columns if c in summary.columns or c in ("ci", "model")]
    head = "".join(f"<th>{_e(h)}</th>" for h, _ in columns)
    body = []
    label_column = "label" if "label" in summary.columns else "model"
    for row in summary.to_dict("records"):
        feasible = bool(row.get("feasible", True))
        cells = []
        for _, column in columns:
            if column == "model":
                badges = ""
                if row.get("baseline"):
                    badges += ' <span class="badge base">baseline</span>'
                if not row.get("causal", True):
                    badges += ' <span class="badge">non-causal</span>'
                cells.append(f"<td>{_e(row[label_column])}{badges}</td>")
            elif column == "feasible":
                cells.append(
                    f'<td data-value="{int(feasible)}"><span class="badge {"yes" if feasible else "no"}">'
                    f"{'yes' if feasible else 'no'}</span></td>"
                )
            elif column == "metric":
                arrow = "↑" if row.get("direction") == "higher" else "↓"
                found = flags.get(row["metric"]) or []
                badge = (
                    f' <span class="badge flag" title="{_e("; ".join(f.message for f in found))}">not a finding</span>'
                    if found
                    else ""
                )
                cells.append(f"<td>{_e(row['metric'])} {arrow}{badge}</td>")
            elif column == "ci":
                interval = format_interval(row["mean"], row["ci_low"], row["ci_high"], 4)
                cells.append(f"<td>{_e(interval)}</td>")
            elif column in ("future_visibility_ms", "chunk_ms", "mean", "n_songs", "n_nan"):
                cells.append(_num_cell(row[column]))
            else:
                cells.append(f"<td>{_e(row[column])}</td>")
        body.append(f'<tr class="{"" if feasible else "infeasible"}">{"".join(cells)}</tr>')
    return (
        '<input class="filter" type="search" placeholder="filter rows (model, metric, config...)" '
        'data-table="summary-table" aria-label="filter the summary table">'
        f'<table id="summary-table" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
    )


def _failures_table(failures: pd.DataFrame | None) -> str:
    if failures is None or failures.empty:
        return "<p>No failures.</p>"
    columns = [c for c in FAILURE_COLUMNS if c != "traceback"]  # the traceback is a collapsed last cell
    head = "".join(f"<th>{_e(c)}</th>" for c in columns) + "<th>traceback</th>"
    rows = []
    for row in failures.to_dict("records"):
        cells = "".join(f"<td>{_e(row.get(c, ''))}</td>" for c in columns)
        trace = str(row.get("traceback", "") or "")
        trace_cell = (
            f"<td><details><summary>show</summary><pre>{_e(trace)}</pre></details></td>" if trace else "<td></td>"
        )
        rows.append(f"<tr>{cells}{trace_cell}</tr>")
    return (
        f"<p>{len(failures)} failed run(s).</p>"
        f'<table id="failures-table" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def _set_metrics_table(set_metrics: pd.DataFrame | None) -> str:
    """Per-config metrics over the whole song set (Frechet distance with its bootstrap interval)."""
    if set_metrics is None or set_metrics.empty:
        return ""
    values = [
        c
        for c in set_metrics.columns
        if c.startswith(("embedding.", "vggish."))
        and c not in ("embedding.embedder", "vggish.weights")
        and pd.api.types.is_numeric_dtype(set_metrics[c])
    ]
    shown = [
        c
        for c in ("model", "config_id", "future_visibility_ms", "chunk_ms", "embedding.embedder")
        if c in set_metrics.columns
    ]
    head = "".join(f"<th>{_e(c)}</th>" for c in [*shown, *values])
    rows = []
    for row in set_metrics.to_dict("records"):
        cells = "".join(f"<td>{_e(row.get(c, ''))}</td>" for c in shown)
        cells += "".join(_num_cell(row.get(c)) for c in values)
        rows.append(f"<tr>{cells}</tr>")
    return (
        '<section id="set-metrics"><h2>Set metrics</h2><p>Computed over all songs of a config at once (lower '
        "Frechet distance is closer to the reference mixes); intervals are seeded bootstraps over songs.</p>"
        f'<table id="set-metrics-table" class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></section>"
    )


def _player(clip: Clip, element_id: str) -> str:
    if not clip.src:
        return f'<span class="note">{_e(clip.note or "no audio")}</span>'
    note = f' <span class="note">{_e(clip.note)}</span>' if clip.note else ""
    return f'<audio id="{_e(element_id)}" controls preload="none" src="{_e(clip.src)}"></audio>{note}'


def _players_section(clips: Sequence[SongClips]) -> str:
    if not clips:
        return "<p>No audio in this run folder (players need <code>audio/</code>).</p>"
    parts = []
    for song_index, song in enumerate(clips):
        input_id = f"input-{song_index}"
        parts.append(f"<h3>song {_e(song.song)}</h3><p>input: {_player(song.input, input_id)}</p>")
        rows = []
        for row_index, (label, config_id, output, mix) in enumerate(song.outputs):
            output_id = f"output-{song_index}-{row_index}"
            together = (
                f'<button class="play-both" type="button" data-players="{input_id} {output_id}">play input + output'
                "</button>"
                if output.src and song.input.src
                else ""
            )
            rows.append(
                f"<tr><td>{_e(label)}</td><td>{_e(config_id)}</td><td>{_player(output, output_id)}</td>"
                f"<td>{_player(mix, f'mix-{song_index}-{row_index}')} {together}</td></tr>"
            )
        parts.append(
            f'<table class="sortable players"><thead><tr><th>model</th><th>config</th><th>output</th><th>mix</th></tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table>"
        )
    return "\n".join(parts)


def render_html(
    summary: pd.DataFrame,
    *,
    plots: Sequence[PlotFile] = (),
    manifest: dict | None = None,
    failures: pd.DataFrame | None = None,
    clips: Sequence[SongClips] = (),
    title: str = "accbench report",
    confidence: float = CONFIDENCE,
    set_metrics: pd.DataFrame | None = None,
    flags: dict[str, list[MetricFlag]] | None = None,
) -> str:
    """The report page.

    Parameters
    ----------
    summary : DataFrame
        Aggregate table (:func:`accbench.reports.aggregate.aggregate`).
    plots : sequence of PlotFile
        Figures from :func:`accbench.reports.plots.make_plots` (their PNG bytes are embedded).
    manifest : dict, optional
        The run manifest, shown as JSON.
    failures : DataFrame, optional
        The failures table.
    clips : sequence of SongClips
        Audio players (:func:`accbench.reports.players.collect_clips`).
    title : str
    confidence : float
        Coverage of the intervals (for the table header).
    set_metrics : DataFrame, optional
        Per-config metrics over the song set (``set_metrics.csv``), shown when present.
    flags : dict, optional
        Honesty flags per metric (:func:`accbench.reports.honesty.metric_flags`): beside the figures and as
        a badge in the summary table.

    Returns
    -------
    page : str
        A complete HTML5 document with no external references.
    """
    manifest = manifest or {}
    flags = flags or {}
    metrics = list(dict.fromkeys(summary["metric"])) if not summary.empty else []
    n_models = summary["model"].nunique() if not summary.empty else 0
    n_configs = summary["config_id"].nunique() if not summary.empty else 0
    n_songs = len(manifest.get("songs") or {}) or (int(summary["n_songs"].max()) if not summary.empty else 0)
    n_failures = 0 if failures is None else len(failures)
    facts = [
        f"<span>{n_models} model(s)</span>",
        f"<span>{n_configs} config(s)</span>",
        f"<span>{n_songs} song(s)</span>",
        f"<span>{n_failures} failure(s)</span>",
    ]
    if dataset_name(manifest):
        facts.append(f"<span>dataset: {_e(dataset_name(manifest))}</span>")
    for key in ("accbench_version", "created"):
        if manifest.get(key):
            facts.append(f"<span>{_e(key)}: {_e(manifest[key])}</span>")
    manifest_text = json.dumps(manifest, indent=2, sort_keys=True, default=str)
    body = f"""
<header><h1>{_e(title)}</h1><div class="facts">{"".join(facts)}</div></header>
<nav><a href="#plots">Trade-offs</a><a href="#summary">Summary</a><a href="#listen">Listen</a>
<a href="#failures">Failures</a><a href="#manifest">Manifest</a></nav>
<main>
<section id="plots"><h2>Trade-offs</h2>
<p>Means over songs with {confidence:.0%} bootstrap bands. The latency-budget frontier comes first: for an
inference time d, the best value among the configs that are real-time feasible at d. In the metric-vs-t_f and
metric-vs-k figures, solid lines are live configs that meet their deadlines, X marks live configs past the
dotted feasibility bound (they miss deadlines; the shaded side), and dashed lines with hollow markers are configs
scored offline (t_f beyond the bound, on_miss=ignore); thin lines in the same colours are the built-in
baselines. ⚠ marks a metric that cannot carry a finding on this run.</p>
{_figures_section(plots, flags, metrics)}</section>
<section id="summary"><h2>Summary</h2>
<p>Mean over songs per model, config and metric. Click a column header to sort.</p>
{_summary_table(summary, confidence, flags)}</section>
{_set_metrics_table(set_metrics)}
<section id="listen"><h2>Listen</h2>{_players_section(clips)}</section>
<section id="failures"><h2>Failures</h2>{_failures_table(failures)}</section>
<section id="manifest"><h2>Run manifest</h2><pre id="manifest-json">{_e(manifest_text)}</pre></section>
</main>
"""
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">'
        f"<title>{_e(title)}</title><style>{_CSS}</style></head>\n"
        f"<body>{body}<script>{_JS}</script></body></html>\n"
    )
