"""The gate end to end on real simulations: a degraded oracle-delayed fails, reruns of the same model never do.

Uses the simulator (``accbench.api.simulate``) and the built-in ``oracle-delayed`` baseline; the score is a
small spectral-agreement metric registered here, so the test needs no audio analysis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_report_support import HOP, SAMPLE_RATE, make_manifest, write_run

from accbench.metrics.registry import MetricSpec, get, register
from accbench.reports.baseline import load_baseline, save_baseline
from accbench.reports.gate import EXIT_PASS, EXIT_REGRESSION, GateConfig, run_gate, to_markdown
from accbench.reports.load import load_run
from accbench.results import results_frame

api = pytest.importorskip("accbench.api")
baselines = pytest.importorskip("accbench.models.baselines")

METRIC = "test.spectral_agreement"
SONGS = ("s0", "s1", "s2", "s3", "s4")
CONFIGS = ((-2, 2), (0, 2), (-4, 5))  # (future_visibility, chunk_frames)


@pytest.fixture(autouse=True)
def _spec() -> None:
    try:
        get(METRIC)
    except KeyError:
        register(
            MetricSpec(
                METRIC, "higher", "", (0.0, 1.0), "Frame-wise spectral cosine of output and reference (test only)"
            )
        )


class LaterOracle(baselines.OracleDelayed):
    """oracle-delayed played 8 frames (160 ms) later than it needs to be: a regression the gate must catch."""

    @staticmethod
    def delay_samples(future_visibility: int, chunk_frames: int, hop: int) -> int:
        return baselines.OracleDelayed.delay_samples(future_visibility, chunk_frames, hop) + 8 * hop


def _song(index: int) -> np.ndarray:
    """A reference of 250 ms notes with seeded pitches (a delayed copy plays the wrong note part of the time)."""
    rng = np.random.default_rng(index)
    n = 2 * SAMPLE_RATE
    t = np.arange(n) / SAMPLE_RATE
    pitches = rng.uniform(150, 900, size=8)
    audio = np.zeros(n)
    for note, pitch in enumerate(pitches):
        start, stop = note * n // 8, (note + 1) * n // 8
        audio[start:stop] = 0.3 * np.sin(2 * np.pi * pitch * t[start:stop])
    return audio.astype(np.float32)[np.newaxis]


def _spectral_agreement(reference: np.ndarray, estimate: np.ndarray, frame: int = 320) -> float:
    """Mean over frames of the cosine of magnitude spectra; a silent frame on either side scores 0."""
    n = min(reference.size, estimate.size) // frame * frame
    a = np.abs(np.fft.rfft(reference[:n].reshape(-1, frame), axis=1))
    b = np.abs(np.fft.rfft(estimate[:n].reshape(-1, frame), axis=1))
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    cosine = np.divide((a * b).sum(axis=1), norms, out=np.zeros(len(a)), where=norms > 1e-9)
    return float(cosine.mean())


def _run(folder: Path, model_class: type) -> Path:
    rows = []
    for index, song in enumerate(SONGS):
        reference = _song(index)
        for future_visibility, chunk_frames in CONFIGS:
            result = api.simulate(
                model_class(sample_rate=SAMPLE_RATE, hop=HOP),
                reference,
                sample_rate=SAMPLE_RATE,
                reference=reference,
                future_visibility=future_visibility,
                chunk_frames=chunk_frames,
                on_miss="ignore",
                song_id=song,
            )
            rows.append(
                {
                    "model": "oracle-delayed",
                    "model_version": "1",
                    "causal": True,
                    "baseline": True,
                    "song": song,
                    "seed": 0,
                    "config_id": f"tf{future_visibility:+d}_k{chunk_frames}",
                    "future_visibility_frames": future_visibility,
                    "future_visibility_ms": future_visibility * 1000 * HOP / SAMPLE_RATE,
                    "chunk_frames": chunk_frames,
                    "chunk_ms": chunk_frames * 1000 * HOP / SAMPLE_RATE,
                    "frame_rate_hz": SAMPLE_RATE / HOP,
                    "latency": "zero",
                    "on_miss": "ignore",
                    "feasible": True,
                    METRIC: _spectral_agreement(reference[0], result.output[0]),
                }
            )
    table = results_frame(rows)
    return write_run(folder, table, manifest=make_manifest(table, metric_versions={"test": "1"}))


def test_longer_delay_fails_and_reruns_never_do(tmp_path: Path) -> None:
    base = _run(tmp_path / "base", baselines.OracleDelayed)
    save_baseline(load_run(base), tmp_path / "baseline.json")
    baseline = load_baseline(tmp_path / "baseline.json")
    config = GateConfig(n_boot=500)

    degraded = run_gate(load_run(_run(tmp_path / "later", LaterOracle)), baseline, config)
    assert degraded.exit_code == EXIT_REGRESSION, to_markdown(degraded)
    assert {v.config_id for v in degraded.regressions} == {f"tf{t:+d}_k{k}" for t, k in CONFIGS}

    first = None
    for rerun in range(20):
        folder = _run(tmp_path / f"rerun{rerun}", baselines.OracleDelayed)
        result = run_gate(load_run(folder), baseline, config)
        assert result.exit_code == EXIT_PASS, f"rerun {rerun}:\n{to_markdown(result)}"
        values = pd.read_parquet(folder / "results.parquet")[METRIC].to_numpy()
        first = values if first is None else first
        np.testing.assert_array_equal(values, first)  # bit-identical metrics: determinism, not luck
