"""The seed paper's results table for a run: ``paper_table.md`` and ``paper_table.csv``.

Wu et al.'s evaluation (lukewys/stream-music-gen, ``scripts/gen_pred/gen_and_evaluate.py``) reports per system
the mean and standard deviation over examples (``np.mean``, ``np.std``: population) of the beat-alignment
F-measure and of the COCOLA score in three modes (both, harmonic, percussive), each for the generated stem
("PRED") and the ground-truth stem ("GT") against the input, and one VGGish FAD of the generated stems against
the ground-truth stems. This module lays a run out the same way:

- the **ground truth** row: the reference accompaniment against the input (``beat.paper_alignment_gt_f_measure``,
  ``cocola.reference_*``), one value per song (the mean over the song's rows, which agree up to resampling to
  each model's rate); FAD has no GT value (the reference set against itself);
- one row per (model, config): ``beat.paper_alignment_f_measure``, ``cocola.score``, ``cocola.harmonic``,
  ``cocola.percussive`` and ``vggish.fad`` (``set_metrics.csv``). A model whose per-song values and FAD are
  the same in every config (the ``mismatch`` baseline: the paper's random pairing, "random anchor") has one
  row, marked with the number of configs it stands for.

Each metric has its mean and standard deviation over songs as the paper reports them, plus accbench's 95 %
bootstrap interval of the mean over songs (:func:`accbench.reports.aggregate.bootstrap_mean` with the same
seeds as ``summary.csv``, so the intervals agree with the report's) and the number of songs with a value
(songs whose metric is NaN, e.g. an input with one beat, are left out per metric; the paper drops the example).
Rows of one song under several seeds are averaged first, as everywhere in accbench. The FAD's interval is the
set metric's bootstrap over songs (``vggish.fad_ci_low``/``_high``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from accbench.atomic import atomic_write_text
from accbench.reports.aggregate import N_BOOT, bootstrap_mean, group_seed, per_song
from accbench.reports.load import model_labels
from accbench.results import GROUP_COLUMNS, write_table

__all__ = ["METRICS", "paper_table", "paper_table_markdown", "write_paper_table"]

METRICS: tuple[tuple[str, str, str, str], ...] = (
    ("beat_f1", "Beat F1", "beat.paper_alignment_f_measure", "beat.paper_alignment_gt_f_measure"),
    ("cocola", "COCOLA", "cocola.score", "cocola.reference_score"),
    ("cocola_harmonic", "COCOLA harmonic", "cocola.harmonic", "cocola.reference_harmonic"),
    ("cocola_percussive", "COCOLA percussive", "cocola.percussive", "cocola.reference_percussive"),
)
"""``(key, heading, metric of a model row, metric of the ground-truth row)`` of each per-song column."""

GROUND_TRUTH = "ground truth (reference vs input)"
RANDOM_PAIRING = "mismatch"
_ROW_COLUMNS = ("system", "model", "model_version", "config_id", "configs", "future_visibility_frames",
                "future_visibility_ms", "chunk_frames", "chunk_ms")  # fmt: skip
_FAD = ("fad", "fad_ci_low", "fad_ci_high", "fad_n_songs")


def _stats(values: np.ndarray, seed: int, n_boot: int) -> dict[str, float]:
    finite = values[np.isfinite(values)]
    mean, low, high = bootstrap_mean(finite, n_boot=n_boot, seed=seed)
    std = float(np.std(finite)) if finite.size else math.nan
    return {"mean": mean, "std": std, "ci_low": low, "ci_high": high, "n": int(finite.size)}


def _numeric(results: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    table = results.copy()
    for name in names:
        table[name] = pd.to_numeric(table[name], errors="coerce") if name in table else math.nan
    return table


def _fad(set_metrics: pd.DataFrame | None, model: str, version: str, config: str) -> dict[str, float]:
    """FAD of one (model, config): the mean over seeds (the interval only with one seed)."""
    empty = dict.fromkeys(_FAD, math.nan)
    if set_metrics is None or set_metrics.empty or "vggish.fad" not in set_metrics:
        return empty
    rows = set_metrics[
        (set_metrics["model"].astype(str) == model)
        & (set_metrics["model_version"].fillna("").astype(str) == version)
        & (set_metrics["config_id"].astype(str) == config)
    ]
    values = pd.to_numeric(rows["vggish.fad"], errors="coerce").dropna()
    if values.empty:
        return empty
    one = len(values) == 1
    return {
        "fad": float(values.mean()),
        "fad_ci_low": float(rows["vggish.fad_ci_low"].iloc[0]) if one else math.nan,
        "fad_ci_high": float(rows["vggish.fad_ci_high"].iloc[0]) if one else math.nan,
        "fad_n_songs": float(rows["vggish.fad_n_songs"].iloc[0]),
    }


def _same_in_every_config(songs: pd.DataFrame, fads: list[dict[str, float]], metrics: Sequence[str]) -> bool:
    """Whether a model's per-song values (and FAD) agree across its configs, with at least one finite value."""
    configs = sorted(songs["config_id"].unique())
    if len(configs) < 2:
        return False
    first = songs[songs["config_id"] == configs[0]].set_index("song")[list(metrics)].sort_index()
    if not np.isfinite(first.to_numpy(dtype=float)).any():
        return False
    for config in configs[1:]:
        other = songs[songs["config_id"] == config].set_index("song")[list(metrics)].sort_index()
        if not other.index.equals(first.index):
            return False
        if not np.allclose(first.to_numpy(float), other.to_numpy(float), rtol=0.0, atol=1e-9, equal_nan=True):
            return False
    values = np.array([fad["fad"] for fad in fads], dtype=float)
    return bool(np.all(np.isnan(values)) or np.allclose(values, values[0], rtol=0.0, atol=1e-9))


def paper_table(
    results: pd.DataFrame, set_metrics: pd.DataFrame | None = None, *, seed: int = 0, n_boot: int = N_BOOT
) -> pd.DataFrame:
    """The paper's results table of a run: the ground-truth row, then one row per (model, config).

    Parameters
    ----------
    results : DataFrame
        A results table (:mod:`accbench.results`); metrics it lacks are NaN.
    set_metrics : DataFrame or None
        ``set_metrics.csv`` (``vggish.fad`` and its interval per model, config and seed), or ``None``.
    seed : int
        Run-level bootstrap seed (as :func:`accbench.reports.aggregate.aggregate`).
    n_boot : int
        Bootstrap resamples.

    Returns
    -------
    DataFrame
        ``system``, ``model``, ``model_version``, ``config_id``, ``configs`` (how many configs the row stands
        for), ``future_visibility_frames``/``_ms``, ``chunk_frames``/``_ms``; per metric key of :data:`METRICS`
        ``<key>_mean``, ``_std``, ``_ci_low``, ``_ci_high``, ``_n`` (songs with a value); ``fad``,
        ``fad_ci_low``, ``fad_ci_high``, ``fad_n_songs``.
    """
    model_metrics = [m[2] for m in METRICS]
    gt_metrics = [m[3] for m in METRICS]
    table = _numeric(results, [*model_metrics, *gt_metrics])
    rows = [_ground_truth(table, gt_metrics, seed, n_boot)]
    songs = per_song(table, model_metrics)
    first = table.groupby(list(GROUP_COLUMNS), sort=True, dropna=False).first()
    labels = model_labels(table) if not table.empty else {}
    for (model, version), group in songs.groupby(["model", "model_version"], sort=True, dropna=False):
        configs = sorted(group["config_id"].unique(), key=lambda c: _config_order(first, model, version, c))
        fads = [_fad(set_metrics, str(model), str(version), str(config)) for config in configs]
        collapse = _same_in_every_config(group, fads, model_metrics)
        for config, fad in list(zip(configs, fads, strict=True))[: 1 if collapse else None]:
            facts = first.loc[(model, version, config)]
            values = group[group["config_id"] == config]
            row = {
                "system": labels.get((str(model), str(version)), str(model)),
                "model": model,
                "model_version": version,
                "config_id": config,
                "configs": len(configs) if collapse else 1,
                **{c: facts.get(c, math.nan) for c in _ROW_COLUMNS[5:]},
                **fad,
            }
            for key, _, metric, _ in METRICS:
                draw = group_seed(seed, model, version, config, metric)
                stats = _stats(values[metric].to_numpy(dtype=float), draw, n_boot)
                row.update({f"{key}_{name}": value for name, value in stats.items()})
            row["_random"] = str(facts.get("model_spec", "")) == RANDOM_PAIRING
            rows.append(row)
    frame = pd.DataFrame(rows)
    order = [0, *sorted(range(1, len(rows)), key=lambda i: (not rows[i]["_random"],))]  # GT, random pairing, models
    frame = frame.iloc[order].drop(columns="_random").reset_index(drop=True)
    stat_columns = [f"{key}_{name}" for key, *_ in METRICS for name in ("mean", "std", "ci_low", "ci_high", "n")]
    return frame[[*_ROW_COLUMNS, *stat_columns, *_FAD]]


def _config_order(first: pd.DataFrame, model: object, version: object, config: object) -> tuple[float, float, str]:
    facts = first.loc[(model, version, config)]
    return (float(facts.get("future_visibility_frames", 0)), float(facts.get("chunk_frames", 0)), str(config))


def _ground_truth(table: pd.DataFrame, metrics: Sequence[str], seed: int, n_boot: int) -> dict[str, object]:
    row: dict[str, object] = {"system": GROUND_TRUTH, "configs": 0, "_random": False}
    by_song = table.groupby("song", sort=True)[list(metrics)].mean() if not table.empty else None
    for key, _, _, metric in METRICS:
        values = by_song[metric].to_numpy(dtype=float) if by_song is not None else np.zeros(0)
        stats = _stats(values, group_seed(seed, GROUND_TRUTH, metric), n_boot)
        row.update({f"{key}_{name}": value for name, value in stats.items()})
    return row


def _cell(mean: float, std: float, low: float, high: float) -> str:
    if not np.isfinite(mean):
        return "n/a"
    text = f"{mean:.3f}" + (f" ± {std:.3f}" if np.isfinite(std) else "")
    return text + (f" [{low:.3f}, {high:.3f}]" if np.isfinite(low) and np.isfinite(high) else "")


def _frames(value: object, signed: bool = True) -> str:
    number = pd.to_numeric(pd.Series([value]), errors="coerce").iloc[0]
    if pd.isna(number):
        return ""
    return f"{int(number):+d}" if signed and number else f"{int(number)}"


def paper_table_markdown(table: pd.DataFrame, notes: Mapping[str, str] | None = None) -> str:
    """The table of :func:`paper_table` as Markdown: one line per row, ``mean ± std [95 % interval]`` cells.

    Parameters
    ----------
    table : DataFrame
        From :func:`paper_table`.
    notes : mapping or None
        What is missing from the table and why (``{"vggish": "skipped: ..."}``), listed under it.
    """
    headings = ["system", "t_f (frames)", "k (frames)", "songs", *[m[1] for m in METRICS], "FAD (VGGish)"]
    lines = [
        "# The seed paper's results table",
        "",
        'Wu et al., "Streaming Generation for Music Accompaniment" (arXiv 2510.22105): per system the mean ± '
        "standard deviation over songs (population, as the paper's `np.std`), then accbench's 95 % bootstrap "
        "interval of the mean over songs in brackets. Beat F1: madmom's beat F-measure of the stem's beats "
        "against the input's (Beat This tracks both, each stem alone). COCOLA: output (or reference) vs input, "
        "higher is better. FAD: VGGish (16 kHz, no PCA, no final ReLU) of the generated stems against the "
        "reference stems of all songs, lower is better, with its bootstrap interval over songs.",
        "",
        "| " + " | ".join(headings) + " |",
        "| " + " | ".join(["---"] + ["---:"] * (len(headings) - 1)) + " |",
    ]
    for row in table.to_dict("records"):
        system = str(row["system"])
        configs = int(row["configs"]) if pd.notna(row["configs"]) else 1
        if configs > 1:
            system += f" (same in all {configs} configs)"
        songs = max(int(row[f"{key}_n"]) for key, *_ in METRICS)
        cells = [system, _frames(row["future_visibility_frames"]) if configs == 1 else "any",
                 _frames(row["chunk_frames"], signed=False) if configs == 1 else "any", str(songs)]  # fmt: skip
        cells += [_cell(*(row[f"{key}_{n}"] for n in ("mean", "std", "ci_low", "ci_high"))) for key, *_ in METRICS]
        cells.append(
            "—" if system == GROUND_TRUTH else _cell(row["fad"], math.nan, row["fad_ci_low"], row["fad_ci_high"])
        )
        lines.append("| " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Not in this table:", ""]
        lines += [f"- {name}: {text}" for name, text in sorted(notes.items())]
    return "\n".join(lines) + "\n"


def write_paper_table(
    results: pd.DataFrame,
    set_metrics: pd.DataFrame | None,
    out_dir: str | os.PathLike,
    *,
    notes: Mapping[str, str] | None = None,
    seed: int = 0,
) -> tuple[Path, Path]:
    """Write ``paper_table.csv`` and ``paper_table.md`` into ``out_dir`` (atomically); returns both paths."""
    out = Path(out_dir)
    table = paper_table(results, set_metrics, seed=seed)
    write_table(table, out / "paper_table.csv")
    atomic_write_text(out / "paper_table.md", paper_table_markdown(table, notes))
    return out / "paper_table.csv", out / "paper_table.md"
