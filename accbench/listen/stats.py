"""Statistics of pairwise preferences: plain functions over numpy arrays.

Systems are indices ``0 .. n_systems - 1``; a comparison is a (winner, loser) pair of indices.

- :func:`win_matrix`: ``W[i, j]``, how often system ``i`` was preferred to system ``j``.
- :func:`bradley_terry`: Bradley-Terry log-strengths by Hunter's (2004) MM algorithm.
- :func:`cluster_bootstrap`: percentile intervals of any statistic, resampling participants.
- :func:`kruskal_wallis`: the seed paper's omnibus test over per-participant scores (scipy).
- :func:`pairwise_wilcoxon`: the paper's paired Wilcoxon signed-rank tests with Bonferroni correction (scipy).
- :func:`pairwise_accuracy`: how often a metric prefers the system the listener chose.
- :func:`kendall_tau`: rank agreement of two system rankings (scipy).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse, stats
from scipy.sparse import csgraph

__all__ = [
    "PairTest",
    "bradley_terry",
    "cluster_bootstrap",
    "kendall_tau",
    "kruskal_wallis",
    "pairwise_accuracy",
    "pairwise_wilcoxon",
    "win_matrix",
]


def win_matrix(winners: Sequence[int], losers: Sequence[int], n_systems: int) -> np.ndarray:
    """``W[i, j]``: comparisons system ``i`` won against system ``j``.

    Parameters
    ----------
    winners, losers : sequence of int, shape (n_comparisons,)
        System indices of each comparison's preferred and other side.
    n_systems : int

    Returns
    -------
    wins : ndarray, float64, shape (n_systems, n_systems)
    """
    wins = np.zeros((n_systems, n_systems))
    np.add.at(wins, (np.asarray(winners, dtype=int), np.asarray(losers, dtype=int)), 1.0)
    return wins


def bradley_terry(wins: np.ndarray, *, prior: float = 0.0, tol: float = 1e-10, max_iter: int = 100_000) -> np.ndarray:
    """Bradley-Terry log-strengths ``theta`` with ``P(i beats j) = 1 / (1 + exp(theta_j - theta_i))``.

    Maximum likelihood by the minorise-maximise iteration of Hunter (2004, "MM algorithms for generalized
    Bradley-Terry models"): ``p_i <- W_i / sum_j N_ij / (p_i + p_j)``, with ``W_i`` the wins of ``i`` and
    ``N_ij`` the comparisons of ``i`` and ``j``.

    Parameters
    ----------
    wins : ndarray, shape (n, n)
        :func:`win_matrix`.
    prior : float
        Pseudo-wins added to both directions of every pair that was compared (``0``: the plain maximum
        likelihood estimate). A positive prior keeps the estimate finite when a system never wins or never
        loses.
    tol : float
        Stop when no log-strength moves by more than this.
    max_iter : int

    Returns
    -------
    theta : ndarray, float64, shape (n,)
        Natural-log strengths, centred on mean 0.

    Raises
    ------
    ValueError
        With ``prior = 0``, when the maximum likelihood estimate does not exist: the graph "i beat j" is not
        strongly connected (some system never wins against the rest, or always does).
    """
    wins = np.asarray(wins, dtype=np.float64)
    n = wins.shape[0]
    if wins.shape != (n, n) or n < 2 or np.any(wins < 0):
        raise ValueError(f"wins must be a non-negative square matrix of at least 2 systems, got shape {wins.shape}")
    compared = (wins + wins.T) > 0
    np.fill_diagonal(compared, False)
    wins = wins * ~np.eye(n, dtype=bool) + prior * compared
    graph = sparse.csr_matrix(wins > 0)
    count, _ = csgraph.connected_components(graph, directed=True, connection="strong")
    if count > 1:
        raise ValueError("no finite Bradley-Terry estimate: some systems never win (or never lose); use prior > 0")
    games = wins + wins.T
    total = wins.sum(axis=1)
    strength = np.ones(n)
    for _ in range(max_iter):
        denominator = (games / (strength[:, None] + strength[None, :])).sum(axis=1)
        updated = total / denominator
        updated /= np.exp(np.mean(np.log(updated)))
        moved = np.max(np.abs(np.log(updated) - np.log(strength)))
        strength = updated
        if moved < tol:
            break
    theta = np.log(strength)
    return theta - theta.mean()


def cluster_bootstrap(
    clusters: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    n_boot: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of ``statistic`` over resamples of whole clusters (participants).

    Parameters
    ----------
    clusters : ndarray, shape (n_rows,)
        The cluster (participant) of each row of the data.
    statistic : callable
        ``statistic(rows) -> ndarray of shape (k,)``, computed on the row indices of one resample (rows of a
        cluster drawn twice appear twice). NaN results of a resample are left out of the interval.
    n_boot : int
        Resamples.
    confidence : float
        Coverage, in (0, 1).
    seed : int

    Returns
    -------
    low, high : ndarray, shape (k,)
        With a single cluster, rows are resampled instead (the interval then ignores the dependence of
        one listener's answers).
    """
    clusters = np.asarray(clusters)
    names, codes = np.unique(clusters, return_inverse=True)
    members = [np.flatnonzero(codes == c) for c in range(len(names))]
    if len(members) < 2:
        members = [np.array([i]) for i in range(clusters.size)]
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(int(n_boot)):
        chosen = rng.integers(len(members), size=len(members))
        draws.append(statistic(np.concatenate([members[c] for c in chosen])))
    values = np.asarray(draws, dtype=np.float64)
    alpha = (1.0 - confidence) / 2.0
    with np.errstate(all="ignore"):
        low = np.nanquantile(values, alpha, axis=0)
        high = np.nanquantile(values, 1.0 - alpha, axis=0)
    return low, high


def kruskal_wallis(groups: Sequence[np.ndarray]) -> tuple[float, float]:
    """Kruskal-Wallis H test of ``groups`` (NaNs dropped): ``(H, p)``; NaNs when fewer than 2 groups have data.

    The seed paper's omnibus test; here each group holds one system's per-participant scores.
    """
    kept = [np.asarray(g, dtype=np.float64)[np.isfinite(g)] for g in groups]
    kept = [g for g in kept if g.size]
    if len(kept) < 2 or np.ptp(np.concatenate(kept)) == 0:
        return float("nan"), float("nan")
    result = stats.kruskal(*kept)
    return float(result.statistic), float(result.pvalue)


@dataclass(frozen=True)
class PairTest:
    """One paired Wilcoxon signed-rank test of systems ``i`` and ``j`` over participants."""

    i: int
    j: int
    n: int
    median_difference: float
    statistic: float
    p: float
    p_bonferroni: float


def pairwise_wilcoxon(scores: np.ndarray) -> list[PairTest]:
    """Paired two-sided Wilcoxon signed-rank tests of every pair of systems, Bonferroni-corrected.

    Parameters
    ----------
    scores : ndarray, shape (n_participants, n_systems)
        Each participant's score of each system (e.g. win rate); NaN where a participant did not judge it.
        A pair is tested over the participants with both scores.

    Returns
    -------
    tests : list of PairTest
        One per pair ``i < j``; ``p_bonferroni = min(1, p * n_pairs)``. A pair with no non-zero difference
        gets ``statistic = p = nan``.
    """
    scores = np.asarray(scores, dtype=np.float64)
    pairs = list(itertools.combinations(range(scores.shape[1]), 2))
    tests = []
    for i, j in pairs:
        both = np.isfinite(scores[:, i]) & np.isfinite(scores[:, j])
        difference = scores[both, i] - scores[both, j]
        statistic = p = float("nan")
        if np.any(difference != 0):
            result = stats.wilcoxon(scores[both, i], scores[both, j])
            statistic, p = float(result.statistic), float(result.pvalue)
        median = float(np.median(difference)) if difference.size else float("nan")
        tests.append(PairTest(i, j, int(both.sum()), median, statistic, p, min(1.0, p * len(pairs))))
    return tests


def pairwise_accuracy(metric_a: np.ndarray, metric_b: np.ndarray, chose_a: np.ndarray, direction: str) -> float:
    """How often a metric prefers the side the listener chose (a metric tie counts one half).

    Parameters
    ----------
    metric_a, metric_b : ndarray, shape (n,)
        The metric of the two sides of each answered trial.
    chose_a : ndarray of bool, shape (n,)
        Whether the listener chose side A.
    direction : {"higher", "lower"}
        Which way the metric is better.

    Returns
    -------
    accuracy : float
        In [0, 1]; NaN for no trials.
    """
    a, b = np.asarray(metric_a, dtype=np.float64), np.asarray(metric_b, dtype=np.float64)
    if direction not in ("higher", "lower"):
        raise ValueError(f"direction must be 'higher' or 'lower', got {direction!r}")
    if a.size == 0:
        return float("nan")
    prefers_a = np.sign(a - b) * (1.0 if direction == "higher" else -1.0)
    agree = np.where(prefers_a == 0, 0.5, (prefers_a > 0) == np.asarray(chose_a, dtype=bool))
    return float(np.mean(agree))


def kendall_tau(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Kendall's tau-b of two rankings of the same systems and its two-sided p-value (``scipy.stats.kendalltau``)."""
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if x.size < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan"), float("nan")
    result = stats.kendalltau(x, y)
    return float(result.statistic), float(result.pvalue)
