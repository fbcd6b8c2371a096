"""``accbench listen analyze``: what the listeners preferred, and whether the run's metrics agree with them.

Participants who fail more attention checks than allowed are left out (the table of participants says
who and why). On the remaining comparisons:

- per system: win rate (wins / comparisons) and Bradley-Terry log-strength, each with a percentile
  bootstrap interval over participants, and the mean coherence and quality ratings when given;
- the seed paper's tests: Kruskal-Wallis over the systems' per-participant win rates (and ratings), then
  paired Wilcoxon signed-rank tests of every pair of systems over participants, Bonferroni-corrected;
- per automatic metric of the run: pairwise accuracy (how often the metric prefers the side the listener
  chose, on the same trials; a tie counts one half; interval over participants) and Kendall's tau between
  the metric's ranking of the systems (its mean over the study's songs) and the Bradley-Terry ranking.

Outputs: ``analysis.md``, ``systems.csv``, ``tests.csv``, ``pairs.csv``, ``metrics.csv``,
``participants.csv`` and ``analysis.png`` in ``<study>/analysis/`` (or ``--out``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from accbench.errors import DataError
from accbench.listen.answers import load_study, read_answers
from accbench.listen.stats import (
    bradley_terry,
    cluster_bootstrap,
    kendall_tau,
    kruskal_wallis,
    pairwise_accuracy,
    pairwise_wilcoxon,
    win_matrix,
)
from accbench.reports.aggregate import CONFIDENCE, N_BOOT

__all__ = ["Analysis", "AnalysisOptions", "analyze_study"]


@dataclass
class AnalysisOptions:
    """Options of ``listen analyze`` (the CLI options by field name)."""

    n_boot: int = N_BOOT
    confidence: float = CONFIDENCE
    seed: int = 0
    max_failed_checks: int = 0  # a participant failing more attention checks is left out
    prior: float = 0.5  # Bradley-Terry pseudo-wins per direction of each compared pair


@dataclass
class Analysis:
    """The tables of an analysis (see the module docstring) and its Markdown."""

    title: str
    participants: pd.DataFrame
    systems: pd.DataFrame
    tests: pd.DataFrame
    pairs: pd.DataFrame
    metrics: pd.DataFrame
    n_comparisons: int
    options: AnalysisOptions = field(default_factory=AnalysisOptions)


def _joined(answers: pd.DataFrame, design: dict[str, Any]) -> pd.DataFrame:
    trials = pd.DataFrame(design["trials"]).set_index("id")
    table = answers.join(trials[["song", "a", "b", "check", "expected"]], on="trial")
    table["check"] = table["check"].fillna("")
    return table


def _participants(table: pd.DataFrame, max_failed: int) -> pd.DataFrame:
    checks = table[table["check"] != ""]
    failed = (checks["choice"] != checks["expected"]).groupby(checks["participant"]).sum()
    counted = checks.groupby("participant").size()
    answered = table.groupby("participant").size()
    out = pd.DataFrame({"answers": answered})
    out["checks"] = counted.reindex(out.index).fillna(0).astype(int)
    out["failed_checks"] = failed.reindex(out.index).fillna(0).astype(int)
    out["kept"] = out["failed_checks"] <= max_failed
    return out.rename_axis("participant").reset_index()


def _comparisons(table: pd.DataFrame, labels: Sequence[str]) -> pd.DataFrame:
    """The answered comparison trials as winner/loser system indices."""
    index = {label: i for i, label in enumerate(labels)}
    pairs = table[table["check"] == ""].copy()
    pairs["ia"] = pairs["a"].map(index)
    pairs["ib"] = pairs["b"].map(index)
    chose_a = pairs["choice"] == "A"
    pairs["winner"] = np.where(chose_a, pairs["ia"], pairs["ib"]).astype(int)
    pairs["loser"] = np.where(chose_a, pairs["ib"], pairs["ia"]).astype(int)
    return pairs.reset_index(drop=True)


def _win_rates(winners: np.ndarray, losers: np.ndarray, n: int) -> np.ndarray:
    wins = np.bincount(winners, minlength=n).astype(float)
    games = wins + np.bincount(losers, minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        return wins / games


def _strengths(winners: np.ndarray, losers: np.ndarray, n: int, prior: float) -> np.ndarray:
    try:
        return bradley_terry(win_matrix(winners, losers, n), prior=prior, tol=1e-9)
    except ValueError:
        return np.full(n, np.nan)


def _per_participant(pairs: pd.DataFrame, n: int) -> np.ndarray:
    """Each participant's win rate of each system (NaN where the system was not heard): participants x systems."""
    rows = [
        _win_rates(group["winner"].to_numpy(), group["loser"].to_numpy(), n)
        for _, group in pairs.groupby("participant", sort=True)
    ]
    return np.array(rows) if rows else np.empty((0, n))


def _ratings(pairs: pd.DataFrame, n: int, kind: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per system: mean rating, count, and per participant the mean rating (participants x systems)."""
    sides = pd.concat(
        [
            pd.DataFrame({"participant": pairs["participant"], "system": pairs["ia"], "r": pairs[f"{kind}_a"]}),
            pd.DataFrame({"participant": pairs["participant"], "system": pairs["ib"], "r": pairs[f"{kind}_b"]}),
        ]
    ).dropna(subset=["r"])
    sides["r"] = sides["r"].astype(float)
    mean = sides.groupby("system")["r"].mean().reindex(range(n)).to_numpy()
    count = sides.groupby("system")["r"].size().reindex(range(n)).fillna(0).to_numpy().astype(int)
    table = sides.groupby(["participant", "system"])["r"].mean().unstack().reindex(columns=range(n))
    return mean, count, table.to_numpy(dtype=float)


def _system_table(pairs: pd.DataFrame, labels: Sequence[str], options: AnalysisOptions) -> pd.DataFrame:
    n = len(labels)
    winners, losers = pairs["winner"].to_numpy(), pairs["loser"].to_numpy()

    def both(rows: np.ndarray) -> np.ndarray:
        w, lo = winners[rows], losers[rows]
        return np.concatenate([_win_rates(w, lo, n), _strengths(w, lo, n, options.prior)])

    low, high = cluster_bootstrap(
        pairs["participant"].to_numpy(), both, n_boot=options.n_boot, confidence=options.confidence, seed=options.seed
    )
    games = np.bincount(winners, minlength=n) + np.bincount(losers, minlength=n)
    table = pd.DataFrame(
        {
            "system": list(labels),
            "comparisons": games,
            "wins": np.bincount(winners, minlength=n),
            "win_rate": _win_rates(winners, losers, n),
            "win_rate_low": low[:n],
            "win_rate_high": high[:n],
            "bt_strength": _strengths(winners, losers, n, options.prior),
            "bt_low": low[n:],
            "bt_high": high[n:],
        }
    )
    for kind in ("coherence", "quality"):
        mean, count, _ = _ratings(pairs, n, kind)
        table[f"{kind}_mean"], table[f"{kind}_n"] = mean, count
    return table.sort_values("bt_strength", ascending=False, kind="stable").reset_index(drop=True)


def _tests(pairs: pd.DataFrame, labels: Sequence[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Kruskal-Wallis per measure, and the pairwise Wilcoxon tests of the per-participant win rates."""
    n = len(labels)
    measures = {"preference (win rate)": _per_participant(pairs, n)}
    for kind in ("coherence", "quality"):
        _, count, per_participant = _ratings(pairs, n, kind)
        if count.sum():
            measures[f"{kind} rating"] = per_participant
    rows = []
    for name, scores in measures.items():
        statistic, p = kruskal_wallis([scores[:, i] for i in range(n)])
        rows.append(
            {"measure": name, "test": "Kruskal-Wallis", "participants": scores.shape[0], "H": statistic, "p": p}
        )
    pair_rows = [
        {
            "system_1": labels[t.i],
            "system_2": labels[t.j],
            "participants": t.n,
            "median_difference": t.median_difference,
            "W": t.statistic,
            "p": t.p,
            "p_bonferroni": t.p_bonferroni,
        }
        for t in pairwise_wilcoxon(measures["preference (win rate)"])
    ]
    return pd.DataFrame(rows), pd.DataFrame(pair_rows)


def _metric_table(
    pairs: pd.DataFrame, design: dict[str, Any], labels: Sequence[str], strengths: np.ndarray, options: AnalysisOptions
) -> pd.DataFrame:
    rows = []
    chose_a = (pairs["choice"] == "A").to_numpy()
    for metric, entry in sorted(design.get("metrics", {}).items()):
        values, direction = entry["values"], entry["direction"]
        m_a = np.array([values[a][s] for a, s in zip(pairs["a"], pairs["song"], strict=True)], dtype=float)
        m_b = np.array([values[b][s] for b, s in zip(pairs["b"], pairs["song"], strict=True)], dtype=float)

        def accuracy(rows_: np.ndarray, m_a=m_a, m_b=m_b, direction=direction) -> np.ndarray:
            return np.array([pairwise_accuracy(m_a[rows_], m_b[rows_], chose_a[rows_], direction)])

        low, high = cluster_bootstrap(
            pairs["participant"].to_numpy(),
            accuracy,
            n_boot=options.n_boot,
            confidence=options.confidence,
            seed=options.seed,
        )
        sign = 1.0 if direction == "higher" else -1.0
        system_means = np.array([sign * np.mean(list(values[label].values())) for label in labels])
        tau, tau_p = kendall_tau(system_means, strengths)
        rows.append(
            {
                "metric": metric,
                "direction": direction,
                "pairwise_accuracy": pairwise_accuracy(m_a, m_b, chose_a, direction),
                "accuracy_low": low[0],
                "accuracy_high": high[0],
                "metric_ties": int(np.sum(m_a == m_b)),
                "kendall_tau": tau,
                "kendall_p": tau_p,
            }
        )
    table = pd.DataFrame(rows)
    if table.empty:
        return table
    return table.sort_values(["pairwise_accuracy", "metric"], ascending=[False, True]).reset_index(drop=True)


def analyze_study(
    folder: str | os.PathLike, sources: Sequence[str | os.PathLike] = (), options: AnalysisOptions | None = None
) -> Analysis:
    """Analyse the answers of a study (``sources``: files or folders; default ``<folder>/answers``).

    Raises
    ------
    DataError
        Not a study folder, unreadable or foreign answers, no answers, or no comparisons left after the
        attention checks.
    """
    options = options or AnalysisOptions()
    design = load_study(folder)
    sources = list(sources) or [Path(folder) / "answers"]
    answers = read_answers(sources, design)
    if answers.empty:
        raise DataError("no answers found", path=", ".join(str(s) for s in sources))
    table = _joined(answers, design)
    participants = _participants(table, options.max_failed_checks)
    kept = set(participants.loc[participants["kept"], "participant"])
    labels = [s["label"] for s in design["systems"]]
    pairs = _comparisons(table[table["participant"].isin(kept)], labels)
    if pairs.empty:
        raise DataError(
            f"no comparisons left: {len(participants) - len(kept)} of {len(participants)} participants failed "
            f"more than {options.max_failed_checks} attention checks (see --max-failed-checks)",
            path=str(folder),
        )
    systems = _system_table(pairs, labels, options)
    tests, pair_tests = _tests(pairs, labels)
    strengths = systems.set_index("system").loc[labels, "bt_strength"].to_numpy()
    metrics = _metric_table(pairs, design, labels, strengths, options)
    return Analysis(design["title"], participants, systems, tests, pair_tests, metrics, len(pairs), options)
