"""Frechet distance: agreement with an independent scipy computation, invariants, degenerate sets, bootstrap."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.linalg

from accbench.metrics.frechet import (
    bootstrap_frechet,
    fad_infinity,
    frechet_distance,
    frechet_distance_from_embeddings,
    frechet_over_songs,
)


def scipy_frechet(a: np.ndarray, b: np.ndarray) -> float:
    """The textbook computation (pytorch-fid style) with scipy's general matrix square root."""
    mu1, mu2 = a.mean(axis=0), b.mean(axis=0)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    root = scipy.linalg.sqrtm(s1 @ s2)
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root).real)


@pytest.mark.parametrize(("n1", "n2", "d", "seed"), [(400, 300, 8, 0), (500, 700, 32, 1), (300, 300, 64, 2)])
def test_matches_scipy_on_random_gaussians(n1, n2, d, seed):
    rng = np.random.default_rng(seed)
    mixing = rng.normal(size=(d, d)) / math.sqrt(d)
    a = rng.normal(size=(n1, d)) @ mixing
    b = rng.normal(size=(n2, d)) @ (mixing * 1.2) + 0.3
    expected = scipy_frechet(a, b)
    assert frechet_distance_from_embeddings(a, b) == pytest.approx(expected, rel=1e-6)
    s1, s2 = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    assert frechet_distance(a.mean(axis=0), s1, b.mean(axis=0), s2) == pytest.approx(expected, rel=1e-6)


def test_known_value_and_mean_shift():
    assert frechet_distance(np.zeros(3), np.eye(3), np.zeros(3), 4 * np.eye(3)) == pytest.approx(3.0)  # 3*(1+4-4)
    rng = np.random.default_rng(3)
    a = rng.normal(size=(50, 6))
    shift = np.arange(6.0)
    assert frechet_distance_from_embeddings(a, a + shift) == pytest.approx(float(shift @ shift), rel=1e-9)


def test_zero_for_identical_sets_and_symmetric():
    rng = np.random.default_rng(4)
    a = rng.normal(size=(80, 16))
    b = rng.normal(size=(60, 16)) * 0.5 + 1.0
    assert frechet_distance_from_embeddings(a, a) == 0.0
    assert frechet_distance_from_embeddings(a, a[::-1]) == pytest.approx(0.0, abs=1e-10)
    assert frechet_distance_from_embeddings(a, b) == pytest.approx(frechet_distance_from_embeddings(b, a), rel=1e-10)
    s = np.cov(a, rowvar=False)
    assert frechet_distance(a.mean(axis=0), s, a.mean(axis=0), s) == 0.0


def test_rank_deficient_sets_are_stable():
    rng = np.random.default_rng(5)
    d = 64
    # Fewer embeddings than dimensions (rank <= n - 1), a constant dimension and a duplicated row.
    a = rng.normal(size=(10, d))
    a[:, 3] = 0.25
    b = rng.normal(size=(12, d)) + 0.1
    b[5] = b[4]
    value = frechet_distance_from_embeddings(a, b)
    assert math.isfinite(value) and value > 0
    # The covariance route (Cholesky fails: singular; eigendecomposition fallback) agrees with the data route.
    via_cov = frechet_distance(a.mean(axis=0), np.cov(a, rowvar=False), b.mean(axis=0), np.cov(b, rowvar=False))
    assert via_cov == pytest.approx(value, rel=1e-8)
    # Continuous: a tiny perturbation moves the distance by a tiny amount (no blow-up near singularity).
    jitter = rng.normal(size=a.shape) * 1e-9
    assert frechet_distance_from_embeddings(a + jitter, b) == pytest.approx(value, rel=1e-6)
    # Low-rank data in many dimensions (rank 3 in 128), both sets: real, finite, non-negative.
    basis = rng.normal(size=(3, 128))
    low_a = rng.normal(size=(400, 3)) @ basis
    low_b = rng.normal(size=(500, 3)) @ basis * 1.5
    exact = frechet_distance_from_embeddings(low_a, low_b)
    s1, s2 = np.cov(low_a, rowvar=False), np.cov(low_b, rowvar=False)
    assert frechet_distance(low_a.mean(axis=0), s1, low_b.mean(axis=0), s2) == pytest.approx(exact, rel=1e-6)
    assert frechet_distance_from_embeddings(low_a, low_a.copy() + 0.0) == 0.0


def test_tiny_sets():
    rng = np.random.default_rng(6)
    one = rng.normal(size=(1, 8))
    two = rng.normal(size=(2, 8))
    # A single embedding has no covariance: the distance is undefined.
    assert math.isnan(frechet_distance_from_embeddings(one, two))
    assert math.isfinite(frechet_distance_from_embeddings(two, two + 1.0))
    assert frechet_distance_from_embeddings(two, two + 1.0) == pytest.approx(8.0, rel=1e-9)


def test_invalid_inputs_raise():
    with pytest.raises(ValueError, match="dimensions differ"):
        frechet_distance_from_embeddings(np.zeros((3, 2)), np.zeros((3, 4)))
    with pytest.raises(ValueError, match="NaN"):
        frechet_distance_from_embeddings(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="shape mismatch"):
        frechet_distance(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2))


def _songs(rng, n_songs, shift=0.0, d=8):
    return [rng.normal(size=(int(rng.integers(4, 9)), d)) + shift for _ in range(n_songs)]


def test_bootstrap_is_seeded_and_brackets_the_estimate():
    rng = np.random.default_rng(7)
    gen = _songs(rng, 12, shift=0.5)
    ref = _songs(rng, 12)
    first = bootstrap_frechet(gen, ref, n_bootstrap=100, seed=1)
    assert first == bootstrap_frechet(gen, ref, n_bootstrap=100, seed=1)
    assert first != bootstrap_frechet(gen, ref, n_bootstrap=100, seed=2)
    point = frechet_distance_from_embeddings(np.concatenate(gen), np.concatenate(ref))
    low, high = first
    assert low < point < high
    # Resampling duplicates windows, which inflates the (biased) distance: percentiles sit above the estimate.
    p_low, p_high = bootstrap_frechet(gen, ref, n_bootstrap=100, seed=1, method="percentile")
    assert point < p_high and p_low < p_high
    low_w, high_w = bootstrap_frechet(gen, ref, n_bootstrap=100, seed=1, unit="windows")
    assert low_w < high_w
    # One song cannot be resampled as songs.
    assert all(math.isnan(v) for v in bootstrap_frechet(gen[:1], ref[:1], n_bootstrap=10))
    with pytest.raises(ValueError, match="unit"):
        bootstrap_frechet(gen, ref, unit="bars")


def test_fad_infinity_removes_small_sample_bias():
    rng = np.random.default_rng(8)
    d = 16
    reference = rng.normal(size=(4000, d))
    generated = rng.normal(size=(200, d))  # same distribution: the true distance is 0
    finite = frechet_distance_from_embeddings(generated, reference)
    result = fad_infinity(generated, reference, seed=0)
    assert result == fad_infinity(generated, reference, seed=0)
    assert abs(result["value"]) < finite
    assert result["slope"] > 0 and 0.5 < result["r2"] <= 1.0
    assert math.isnan(fad_infinity(generated[:2], reference)["value"])


def test_frechet_over_songs_reports_run_values():
    rng = np.random.default_rng(9)
    ref = _songs(rng, 6)
    near = frechet_over_songs(_songs(rng, 6), ref, bootstrap=50, seed=0, infinity=True)
    far = frechet_over_songs(_songs(rng, 6, shift=2.0), ref, bootstrap=50, seed=0)
    assert near["embedding.frechet"] < far["embedding.frechet"]
    assert near["embedding.frechet_ci_low"] <= near["embedding.frechet"] <= near["embedding.frechet_ci_high"]
    assert near["embedding.frechet_n_songs"] == 6.0
    assert near["embedding.frechet_n_reference"] == sum(len(r) for r in ref)
    assert {"embedding.frechet_inf", "embedding.frechet_inf_r2"} <= set(near)
    assert "embedding.frechet_inf" not in far
    spectral = frechet_over_songs(ref, ref, bootstrap=0, prefix="embedding.spectral_frechet")
    assert spectral["embedding.spectral_frechet"] == 0.0
    assert math.isnan(spectral["embedding.spectral_frechet_ci_low"])
    with pytest.raises(ValueError, match="songs"):
        frechet_over_songs(ref, ref[:2])
