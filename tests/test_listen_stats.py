"""Listening-study statistics: Bradley-Terry against hand-computed cases, the tests against scipy, the design."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from accbench.errors import ConfigError
from accbench.listen.design import balanced_design
from accbench.listen.stats import (
    bradley_terry,
    cluster_bootstrap,
    kendall_tau,
    kruskal_wallis,
    pairwise_accuracy,
    pairwise_wilcoxon,
    win_matrix,
)


def test_bradley_terry_recovers_a_hand_computed_case() -> None:
    """Strengths 4 : 2 : 1 with 15 comparisons per pair: P(1>2) = 2/3, P(1>3) = 4/5, P(2>3) = 2/3.

    Wins 10-5, 12-3 and 10-5 make the likelihood equations hold exactly at (4, 2, 1): system 1 wins 22 =
    15 * 2/3 + 15 * 4/5, system 2 wins 15 = 15 * 1/3 + 15 * 2/3, system 3 wins 8 = 15 * 1/5 + 15 * 1/3.
    """
    wins = np.array([[0, 10, 12], [5, 0, 10], [3, 5, 0]], dtype=float)
    expected = np.log([4.0, 2.0, 1.0])
    np.testing.assert_allclose(bradley_terry(wins), expected - expected.mean(), atol=1e-8)
    # Two systems: the closed form theta_1 - theta_2 = log(w_12 / w_21).
    theta = bradley_terry(np.array([[0, 7], [3, 0]]))
    assert theta[0] - theta[1] == pytest.approx(np.log(7 / 3), abs=1e-9) and theta.sum() == pytest.approx(0)


def test_bradley_terry_refuses_a_system_that_never_wins_unless_given_a_prior() -> None:
    wins = np.array([[0, 4, 3], [2, 0, 5], [0, 0, 0]], dtype=float)
    with pytest.raises(ValueError, match="never win"):
        bradley_terry(wins)
    theta = bradley_terry(wins, prior=0.5)
    assert np.all(np.isfinite(theta)) and theta[2] == theta.min()
    # The prior is pseudo-wins on compared pairs: 0.5 each way of 0 vs 4 is the MLE of 0.5 vs 4.5.
    two = bradley_terry(np.array([[0, 0], [4, 0]]), prior=0.5)
    assert two[1] - two[0] == pytest.approx(np.log(4.5 / 0.5))


def test_win_matrix_counts_each_comparison() -> None:
    wins = win_matrix([0, 0, 2, 1], [1, 1, 0, 2], 3)
    np.testing.assert_array_equal(wins, [[0, 2, 0], [0, 0, 1], [1, 0, 0]])


def test_kruskal_wallis_matches_scipy_and_a_known_value() -> None:
    groups = [np.array([1.0, 2.0, 3.0]), np.array([4.0, 5.0, 6.0])]
    h, p = kruskal_wallis(groups)
    reference = stats.kruskal(*groups)
    assert (h, p) == pytest.approx((reference.statistic, reference.pvalue))
    assert h == pytest.approx(27 / 7) and p == pytest.approx(0.04953, abs=1e-5)  # 12/(6*7)*(6^2/3 + 15^2/3) - 21
    with_nan = kruskal_wallis([np.array([1.0, np.nan, 2.0]), np.array([3.0, 4.0])])
    assert with_nan == pytest.approx(tuple(stats.kruskal([1.0, 2.0], [3.0, 4.0])))
    assert all(np.isnan(kruskal_wallis([np.ones(3), np.ones(3)])))  # all ties: no test


def test_pairwise_wilcoxon_matches_scipy_with_bonferroni() -> None:
    rng = np.random.default_rng(3)
    scores = rng.uniform(size=(12, 3)) + np.array([0.0, 0.3, 0.6])
    scores[2, 1] = np.nan  # participant 2 did not judge system 1
    tests = pairwise_wilcoxon(scores)
    assert [(t.i, t.j) for t in tests] == [(0, 1), (0, 2), (1, 2)]
    for t in tests:
        both = np.isfinite(scores[:, t.i]) & np.isfinite(scores[:, t.j])
        reference = stats.wilcoxon(scores[both, t.i], scores[both, t.j])
        assert t.n == both.sum() and t.statistic == pytest.approx(reference.statistic)
        assert t.p == pytest.approx(reference.pvalue) and t.p_bonferroni == pytest.approx(min(1, 3 * reference.pvalue))
    same = pairwise_wilcoxon(np.ones((5, 2)))[0]
    assert np.isnan(same.p) and same.n == 5


def test_pairwise_accuracy_and_kendall_tau() -> None:
    a, b = np.array([0.9, 0.2, 0.5, 0.4]), np.array([0.1, 0.8, 0.5, 0.6])
    chose_a = np.array([True, False, True, True])
    # Higher is better: agrees on trials 0 and 1, ties on 2 (one half), disagrees on 3.
    assert pairwise_accuracy(a, b, chose_a, "higher") == pytest.approx(2.5 / 4)
    assert pairwise_accuracy(a, b, chose_a, "lower") == pytest.approx(1.5 / 4)
    assert np.isnan(pairwise_accuracy(np.array([]), np.array([]), np.array([], bool), "higher"))
    x, y = np.array([1.0, 2.0, 3.0, 4.0]), np.array([1.0, 3.0, 2.0, 4.0])
    reference = stats.kendalltau(x, y)
    assert kendall_tau(x, y) == pytest.approx((reference.statistic, reference.pvalue))
    assert kendall_tau(x, y)[0] == pytest.approx(4 / 6)  # 5 concordant, 1 discordant pair


def test_cluster_bootstrap_is_seeded_and_resamples_whole_participants() -> None:
    clusters = np.repeat(["p1", "p2", "p3", "p4"], 5)
    values = np.repeat([0.0, 1.0, 2.0, 3.0], 5)

    def mean(rows: np.ndarray) -> np.ndarray:
        return np.array([values[rows].mean()])

    low, high = cluster_bootstrap(clusters, mean, n_boot=300, seed=1)
    assert (low, high) == cluster_bootstrap(clusters, mean, n_boot=300, seed=1)
    assert low[0] < 1.5 < high[0]
    # A resample holds whole participants: its size is always 20 rows and its values multiples of a cluster's.
    sizes = []
    cluster_bootstrap(clusters, lambda rows: np.array([sizes.append(rows.size) or 0.0]), n_boot=20, seed=0)
    assert set(sizes) == {20}


def test_balanced_design_shows_each_pair_equally_often_and_spreads_songs() -> None:
    systems, songs = ["s1", "s2", "s3", "s4"], ["x", "y", "z"]
    trials = balanced_design(systems, songs, n_trials=12, seed=5, checks=3)
    pairs = [t for t in trials if not t.check]
    counts = Counter(frozenset((t.a, t.b)) for t in pairs)
    assert len(pairs) == 12 and set(counts.values()) == {2} and len(counts) == 6
    for pair in counts:  # both repetitions of a pair hear different songs, with the sides swapped
        heard = [t for t in pairs if frozenset((t.a, t.b)) == pair]
        assert heard[0].song != heard[1].song and heard[0].a == heard[1].b
    assert set(Counter(t.song for t in pairs).values()) == {4}
    checks = [t for t in trials if t.check]
    assert len(checks) == 3 and not trials[0].check and {c.check for c in checks} == {"silence", "mismatch"}
    for check in checks:
        real = check.a if check.expected == "A" else check.b
        assert real in systems and (check.b if check.expected == "A" else check.a) == f"check:{check.check}"
        assert (check.other_song != check.song) if check.check == "mismatch" else not check.other_song
    assert [t.id for t in trials] == [f"t{i:03d}" for i in range(1, 16)]
    assert trials == balanced_design(systems, songs, n_trials=12, seed=5, checks=3)
    assert trials != balanced_design(systems, songs, n_trials=12, seed=6, checks=3)
    default = balanced_design(systems, songs)
    assert len(default) == 6 * 3 and all(
        Counter(frozenset((t.a, t.b)) for t in default)[frozenset(p)] == 3 for p in itertools.combinations(systems, 2)
    )


def test_balanced_design_refuses_what_it_cannot_balance() -> None:
    with pytest.raises(ConfigError, match="multiple of 6 .*12 or 18"):
        balanced_design(["a", "b", "c", "d"], ["x"], n_trials=13)
    with pytest.raises(ConfigError, match="at least 2 distinct systems"):
        balanced_design(["a"], ["x"])
    with pytest.raises(ConfigError, match="two songs"):
        balanced_design(["a", "b"], ["x"], checks=1, check_kinds=["mismatch"])
    with pytest.raises(ConfigError, match="audible"):
        balanced_design(["a", "b"], ["x"], checks=1, check_kinds=["silence"], audible={"x": []})
