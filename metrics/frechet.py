"""Frechet distance between two sets of embeddings, with a bootstrap interval and FAD-infinity.

The Frechet distance between Gaussians fitted to two sets of embeddings (the Frechet Audio Distance, FAD, when
the embeddings are audio embeddings) is

    ``||mu_1 - mu_2||^2 + tr(S_1) + tr(S_2) - 2 tr((S_1 S_2)^(1/2))``

Inputs are float arrays of shape ``(n, d)``: one embedding per row (here: one per analysis window). Means and
covariances are the sample estimates (covariance with ``n - 1`` in the denominator, as in pytorch-fid and fadtk).

Numerical care. The usual implementations compute ``scipy.linalg.sqrtm(S_1 @ S_2)``: the product of two
symmetric matrices is not symmetric, and when either covariance is singular (fewer embeddings than dimensions,
constant dimensions, duplicated rows) ``sqrtm`` returns NaN/inf or large imaginary parts, which they patch by
adding ``eps * I`` or raise "Imaginary component". Here only the trace of the square root is needed, and it
equals the sum of square roots of the eigenvalues of a *symmetric* positive semi-definite matrix with the same
eigenvalues as ``S_1 S_2`` (``L^T S_2 L`` with ``S_1 = L L^T``, or ``S_1^(1/2) S_2 S_1^(1/2)`` when ``S_1`` is
singular), computed with ``eigvalsh``: real by construction; eigenvalues below ``d * eps`` of the largest are
round-off and count as 0. From data matrices it is the nuclear norm of ``A B^T / sqrt((n_1 - 1)(n_2 - 1))``
(``A``, ``B`` the centred embeddings), which is exact and cheap when sets are smaller than the dimension. A
distance that round-off makes slightly negative is reported as 0.

Functions
---------
- :func:`frechet_distance`: from means and covariances.
- :func:`frechet_distance_from_embeddings`: from two sets of embeddings.
- :func:`bootstrap_frechet`: seeded bootstrap interval, resampling songs (paired) or windows.
- :func:`fad_infinity`: FAD-infinity (Chung et al. 2020 "FID-infinity", as in fadtk): fit the distance against
  ``1 / n`` over subsets of the generated set and extrapolate to ``n -> infinity``.
- :func:`frechet_over_songs`: all of the above over a whole run, from per-song window embeddings; this is what the
  sweep runner calls once per (model, config).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

__all__ = [
    "bootstrap_frechet",
    "fad_infinity",
    "frechet_distance",
    "frechet_distance_from_embeddings",
    "frechet_over_songs",
    "validate_embeddings",
]


def validate_embeddings(embeddings: np.ndarray, *, name: str = "embeddings") -> np.ndarray:
    """Return ``embeddings`` as a finite float64 ``(n, d)`` array, or raise ``ValueError``.

    Parameters
    ----------
    embeddings : array_like, shape (n, d)
    name : str
        Used in error messages.
    """
    array = np.asarray(embeddings, dtype=np.float64)
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (n, d) array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def _clip_round_off(values: np.ndarray) -> np.ndarray:
    """Eigenvalues of a PSD matrix with round-off removed: those below ``d * eps * max`` (and negatives) become 0.

    Without this, the square roots of ~1e-16-sized noise eigenvalues of a singular matrix (each ~1e-8) add up
    to a visible error in the trace.
    """
    top = float(values.max(initial=0.0))
    tolerance = values.size * np.finfo(np.float64).eps * top
    return np.where(values > tolerance, values, 0.0)


def _symmetric_sqrt(matrix: np.ndarray) -> np.ndarray:
    """Square root of a symmetric positive semi-definite matrix; round-off eigenvalues become 0."""
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.sqrt(_clip_round_off(values))) @ vectors.T


def _trace_sqrt_product(sigma1: np.ndarray, sigma2: np.ndarray) -> float:
    """``tr((S_1 S_2)^(1/2))`` for symmetric PSD ``S_1, S_2``, via a symmetric matrix with the same eigenvalues.

    ``S_1 = L L^T`` (Cholesky) gives ``L^T S_2 L``; a singular ``S_1`` (no Cholesky factor) uses
    ``S_1^(1/2) S_2 S_1^(1/2)`` from an eigendecomposition instead. Either way only eigenvalues of a symmetric
    matrix are needed, which are real; negative round-off is clipped to 0.
    """
    sigma1 = (sigma1 + sigma1.T) / 2
    try:
        factor = np.linalg.cholesky(sigma1)
    except np.linalg.LinAlgError:
        factor = _symmetric_sqrt(sigma1)
    middle = factor.T @ sigma2 @ factor
    values = np.linalg.eigvalsh((middle + middle.T) / 2)
    return float(np.sum(np.sqrt(_clip_round_off(values))))


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Frechet distance between the Gaussians ``N(mu1, sigma1)`` and ``N(mu2, sigma2)``.

    Parameters
    ----------
    mu1, mu2 : array_like, shape (d,)
        Means.
    sigma1, sigma2 : array_like, shape (d, d)
        Symmetric positive semi-definite covariances (singular ones are fine).

    Returns
    -------
    distance : float
        Squared-distance units of the embedding space; ``>= 0`` (round-off below 0 is reported as 0).

    Examples
    --------
    >>> import numpy as np
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))
    2.0
    """
    mu1 = np.asarray(mu1, dtype=np.float64).reshape(-1)
    mu2 = np.asarray(mu2, dtype=np.float64).reshape(-1)
    sigma1 = np.atleast_2d(np.asarray(sigma1, dtype=np.float64))
    sigma2 = np.atleast_2d(np.asarray(sigma2, dtype=np.float64))
    d = mu1.shape[0]
    if mu2.shape != (d,) or sigma1.shape != (d, d) or sigma2.shape != (d, d):
        raise ValueError(
            f"shape mismatch: mu1 {mu1.shape}, sigma1 {sigma1.shape}, mu2 {mu2.shape}, sigma2 {sigma2.shape}"
        )
    for name, value in (("mu1", mu1), ("mu2", mu2), ("sigma1", sigma1), ("sigma2", sigma2)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} contains NaN or infinite values")
    # Identical distributions are at distance 0 exactly (the formula leaves ~1e-15 of round-off).
    if np.array_equal(mu1, mu2) and np.array_equal(sigma1, sigma2):
        return 0.0
    diff = mu1 - mu2
    distance = diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * _trace_sqrt_product(sigma1, sigma2)
    # Round-off can push a distance between (nearly) equal distributions slightly below zero.
    return float(max(distance, 0.0))


def _trace_sqrt_from_centred(a: np.ndarray, b: np.ndarray) -> float:
    """``tr((S_a S_b)^(1/2))`` from centred data ``a (n1, d)``, ``b (n2, d)`` with ``S = X^T X / (n - 1)``."""
    n1, d = a.shape
    n2 = b.shape[0]
    scale = math.sqrt((n1 - 1) * (n2 - 1))
    if min(n1, n2) <= d:
        # eig(S_a S_b) = singular values^2 of a b^T / scale: an n1 x n2 problem, exact for rank-deficient sets.
        singular = np.linalg.svd(a @ b.T, compute_uv=False)
        return float(np.sum(singular)) / scale
    return _trace_sqrt_product(a.T @ a / (n1 - 1), b.T @ b / (n2 - 1))


def frechet_distance_from_embeddings(generated: np.ndarray, reference: np.ndarray) -> float:
    """Frechet distance between two sets of embeddings (the FAD when they are audio embeddings).

    Parameters
    ----------
    generated : array_like, shape (n1, d)
        One embedding per row.
    reference : array_like, shape (n2, d)
        One embedding per row, same ``d``.

    Returns
    -------
    distance : float
        ``>= 0``; NaN when either set has fewer than 2 embeddings (no covariance can be estimated).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(50, 4))
    >>> frechet_distance_from_embeddings(x, x)
    0.0
    """
    a = validate_embeddings(generated, name="generated")
    b = validate_embeddings(reference, name="reference")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"embedding dimensions differ: generated {a.shape[1]}, reference {b.shape[1]}")
    # A covariance needs at least two embeddings per set; with fewer the distance is undefined.
    if a.shape[0] < 2 or b.shape[0] < 2:
        return math.nan
    # Identical sets are at distance 0 exactly (the formula leaves ~1e-15 of round-off).
    if a.shape == b.shape and np.array_equal(a, b):
        return 0.0
    mu_a = a.mean(axis=0)
    mu_b = b.mean(axis=0)
    a = a - mu_a
    b = b - mu_b
    diff = mu_a - mu_b
    trace_a = float(np.sum(a * a)) / (a.shape[0] - 1)
    trace_b = float(np.sum(b * b)) / (b.shape[0] - 1)
    distance = diff @ diff + trace_a + trace_b - 2.0 * _trace_sqrt_from_centred(a, b)
    # Round-off can push a distance between (nearly) equal sets slightly below zero.
    return float(max(distance, 0.0))


def _as_song_sets(sets: Sequence[np.ndarray], name: str) -> list[np.ndarray]:
    arrays = [validate_embeddings(s, name=f"{name}[{i}]") for i, s in enumerate(sets)]
    dims = {a.shape[1] for a in arrays if a.shape[0] > 0}
    if len(dims) > 1:
        raise ValueError(f"{name}: songs have different embedding dimensions {sorted(dims)}")
    return arrays


def bootstrap_frechet(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    *,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    unit: str = "songs",
    method: str = "normal",
) -> tuple[float, float]:
    """Seeded bootstrap interval of the Frechet distance.

    Parameters
    ----------
    generated, reference : sequence of array_like, each shape (n_i, d)
        Window embeddings per song, in the same song order (song ``i`` of ``generated`` is the model's output
        for song ``i`` of ``reference``).
    n_bootstrap : int
        Number of resamples (default 200; each costs one distance, ``O(d^3)`` for large sets).
    confidence : float
        Interval coverage in (0, 1), default 0.95.
    seed : int
        Seed of the resampling (``numpy.random.default_rng``); the same seed gives the same interval.
    unit : {"songs", "windows"}
        ``"songs"`` (default) resamples songs with replacement, paired across the two sets, which respects the
        correlation between windows of one song; ``"windows"`` resamples windows of each set independently.
    method : {"normal", "percentile"}
        ``"normal"`` (default): the estimate on all data plus or minus ``z`` bootstrap standard deviations (lower
        bound clipped at 0). ``"percentile"``: percentiles of the resampled distances. The Frechet distance is
        biased upwards in small sets, and resampling with replacement duplicates windows (fewer distinct ones),
        so resampled distances sit above the estimate and a percentile interval often excludes it; the normal
        interval keeps the spread and is centred on the estimate.

    Returns
    -------
    low, high : float
        Interval bounds; NaN when fewer than 2 songs (``unit="songs"``) or when every resample is undefined.
    """
    if method not in ("normal", "percentile"):
        raise ValueError(f"method must be 'normal' or 'percentile', got {method!r}")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence}")
    if n_bootstrap < 1:
        raise ValueError(f"n_bootstrap must be >= 1, got {n_bootstrap}")
    gen = _as_song_sets(generated, "generated")
    ref = _as_song_sets(reference, "reference")
    if len(gen) != len(ref):
        raise ValueError(f"generated has {len(gen)} songs, reference {len(ref)}")
    rng = np.random.default_rng(seed)
    values = np.empty(n_bootstrap)
    if unit == "songs":
        # One song cannot be resampled into a distribution of songs.
        if len(gen) < 2:
            return math.nan, math.nan
        for i in range(n_bootstrap):
            pick = rng.integers(0, len(gen), size=len(gen))
            values[i] = frechet_distance_from_embeddings(
                np.concatenate([gen[j] for j in pick]), np.concatenate([ref[j] for j in pick])
            )
    elif unit == "windows":
        all_gen = np.concatenate(gen)
        all_ref = np.concatenate(ref)
        for i in range(n_bootstrap):
            pick_gen = rng.integers(0, len(all_gen), size=len(all_gen))
            pick_ref = rng.integers(0, len(all_ref), size=len(all_ref))
            values[i] = frechet_distance_from_embeddings(all_gen[pick_gen], all_ref[pick_ref])
    else:
        raise ValueError(f"unit must be 'songs' or 'windows', got {unit!r}")
    values = values[np.isfinite(values)]
    # Fewer than two defined resamples give no spread.
    if values.size < 2:
        return math.nan, math.nan
    if method == "normal":
        from scipy.stats import norm

        estimate = frechet_distance_from_embeddings(np.concatenate(gen), np.concatenate(ref))
        half = float(norm.ppf(0.5 + confidence / 2.0)) * float(values.std(ddof=1))
        return max(estimate - half, 0.0), estimate + half
    tail = (1.0 - confidence) / 2.0 * 100.0
    low, high = np.percentile(values, [tail, 100.0 - tail])
    return float(low), float(high)


def fad_infinity(
    generated: np.ndarray,
    reference: np.ndarray,
    *,
    n_points: int = 10,
    min_n: int | None = None,
    seed: int = 0,
) -> dict[str, float]:
    """FAD-infinity: the Frechet distance extrapolated to an infinitely large generated set.

    The distance estimated from ``n`` samples is biased upwards roughly in proportion to ``1 / n``. Subsets of the
    generated set of ``n_points`` sizes between ``min_n`` and all of it are drawn without replacement (seeded),
    the distance to the whole reference set is computed for each, a line is fitted to distance vs ``1 / n``,
    and its intercept is the estimate (Chung et al. 2020; fadtk's ``score_inf``).

    Parameters
    ----------
    generated : array_like, shape (n1, d)
    reference : array_like, shape (n2, d)
    n_points : int
        Number of subset sizes (default 10).
    min_n : int or None
        Smallest subset; default ``max(2, n1 // 5)``.
    seed : int
        Seed of the subset draws.

    Returns
    -------
    dict
        ``value`` (the intercept), ``slope`` (distance units times windows) and ``r2`` of the fit; all NaN when
        fewer than 3 distinct subset sizes are possible.
    """
    gen = validate_embeddings(generated, name="generated")
    ref = validate_embeddings(reference, name="reference")
    n1 = gen.shape[0]
    low = max(2, n1 // 5) if min_n is None else max(2, int(min_n))
    sizes = np.unique(np.linspace(low, n1, n_points).astype(int))
    nan = {"value": math.nan, "slope": math.nan, "r2": math.nan}
    # A line through fewer than three points has no meaningful fit quality.
    if sizes.size < 3 or n1 < 3:
        return nan
    rng = np.random.default_rng(seed)
    distances = np.array(
        [frechet_distance_from_embeddings(gen[rng.choice(n1, size=n, replace=False)], ref) for n in sizes]
    )
    if not np.all(np.isfinite(distances)):
        return nan
    x = 1.0 / sizes
    slope, intercept = np.polyfit(x, distances, 1)
    fitted = intercept + slope * x
    total = float(np.sum((distances - distances.mean()) ** 2))
    r2 = 1.0 - float(np.sum((distances - fitted) ** 2)) / total if total > 0 else 1.0
    return {"value": float(intercept), "slope": float(slope), "r2": float(r2)}


def frechet_over_songs(
    generated: Sequence[np.ndarray],
    reference: Sequence[np.ndarray],
    *,
    bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
    unit: str = "songs",
    method: str = "normal",
    infinity: bool = False,
    prefix: str = "embedding.frechet",
) -> dict[str, float]:
    """The Frechet distance of one (model, config) over a whole run, from per-song window embeddings.

    The sweep runner calls this once per (model, config) with the generated-mix window embeddings of every
    song (:func:`accbench.metrics.embedding.mix_window_embeddings`) and the reference-mix ones of the same songs.

    Parameters
    ----------
    generated : sequence of array_like, each shape (n_i, d)
        Window embeddings of the output mix (input + output), one array per song.
    reference : sequence of array_like, each shape (m_i, d)
        Window embeddings of the reference mix (input + reference), the same songs in the same order.
    bootstrap : int
        Bootstrap resamples for the interval; 0 skips the interval (bounds NaN).
    confidence : float
        Interval coverage, default 0.95.
    seed : int
        Seed of the bootstrap and FAD-infinity subsets.
    unit : {"songs", "windows"}
        What the bootstrap resamples (see :func:`bootstrap_frechet`).
    method : {"normal", "percentile"}
        Interval type (see :func:`bootstrap_frechet`).
    infinity : bool
        Also compute FAD-infinity (``<prefix>_inf``).
    prefix : str
        Name of the metric; the keys are ``<prefix>``, ``<prefix>_ci_low``, ``<prefix>_ci_high``,
        ``<prefix>_n_songs``, ``<prefix>_n_generated``, ``<prefix>_n_reference`` and, with ``infinity``,
        ``<prefix>_inf``, ``<prefix>_inf_r2``.

    Returns
    -------
    dict of str to float
        Distance NaN when either pooled set has fewer than 2 windows.
    """
    gen = _as_song_sets(generated, "generated")
    ref = _as_song_sets(reference, "reference")
    if len(gen) != len(ref):
        raise ValueError(f"generated has {len(gen)} songs, reference {len(ref)}")
    d = next((a.shape[1] for a in [*gen, *ref] if a.shape[0] > 0), 0)
    all_gen = np.concatenate(gen) if gen else np.zeros((0, d))
    all_ref = np.concatenate(ref) if ref else np.zeros((0, d))
    out = {
        prefix: frechet_distance_from_embeddings(all_gen, all_ref) if d else math.nan,
        f"{prefix}_ci_low": math.nan,
        f"{prefix}_ci_high": math.nan,
        f"{prefix}_n_songs": float(len(gen)),
        f"{prefix}_n_generated": float(all_gen.shape[0]),
        f"{prefix}_n_reference": float(all_ref.shape[0]),
    }
    if bootstrap > 0 and math.isfinite(out[prefix]):
        low, high = bootstrap_frechet(
            gen, ref, n_bootstrap=bootstrap, confidence=confidence, seed=seed, unit=unit, method=method
        )
        out[f"{prefix}_ci_low"] = low
        out[f"{prefix}_ci_high"] = high
    if infinity:
        inf = fad_infinity(all_gen, all_ref, seed=seed) if d else {"value": math.nan, "r2": math.nan}
        out[f"{prefix}_inf"] = inf["value"]
        out[f"{prefix}_inf_r2"] = inf["r2"]
    return out
