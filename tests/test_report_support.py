"""Synthetic run folders for the report, plot and gate tests (no simulator, no audio analysis).

Imported by ``test_report*.py``, ``test_plots*.py`` and ``test_gate*.py``; holds no tests of its own
except a check of the builder itself.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile

from accbench.metrics.registry import MetricSpec, get, register
from accbench.results import ROW_COLUMNS, metric_columns, results_frame

SAMPLE_RATE = 8000
HOP = 160  # 50 frames per second: 1 frame = 20 ms

SPECS = (
    MetricSpec("beat.f_measure", "higher", "", (0.0, 1.0), "Beat F-measure", needs_reference=True),
    MetricSpec("harmony.majmin", "higher", "", (0.0, 1.0), "Chord majmin", needs_reference=True),
    MetricSpec("embedding.cosine_mix", "higher", "", (-1.0, 1.0), "Cosine of mixes"),
    MetricSpec("timing.miss_rate", "lower", "fraction", (0.0, 1.0), "Deadline-miss rate"),
    MetricSpec("timing.underrun_fraction", "lower", "fraction", (0.0, 1.0), "Underrun fraction"),
)
METRICS = tuple(spec.name for spec in SPECS)


def register_specs() -> None:
    """Register the test metrics unless the real metric modules already did."""
    for spec in SPECS:
        try:
            get(spec.name)
        except KeyError:
            register(spec)


def make_results(
    *,
    models: Sequence[str] = ("follower", "mymodel"),
    baselines: Sequence[str] = ("silence", "oracle"),
    future_visibility: Sequence[int] = (-4, -2, 0, 2),
    chunk_frames: Sequence[int] = (2, 5),
    songs: Sequence[str] = ("song-a", "song-b", "song-c", "song-d"),
    seeds: Sequence[int] = (0,),
    quality: dict[str, float] | None = None,
    noise: float = 0.0,
    noise_seed: int = 0,
    input_latency_ms: float = 10.0,
    output_latency_ms: float = 10.0,
    inference_ms: float = 15.0,
    nan_metrics: Sequence[str] = (),
) -> pd.DataFrame:
    """A results table shaped like the sweep runner's (:func:`accbench.results.results_frame`), with smooth
    trade-offs in t_f and k.

    ``quality`` shifts a model's coherence metrics; ``noise`` adds seeded per-row noise (a rerun with
    a non-deterministic model); ``nan_metrics`` are all NaN.
    """
    register_specs()
    quality = {"follower": 0.0, "mymodel": 0.3, "silence": -3.0, "oracle": 3.0, **(quality or {})}
    rng = np.random.default_rng(noise_seed)
    frame_ms = 1000.0 * HOP / SAMPLE_RATE
    rows = []
    for model in [*models, *baselines]:
        for tf in future_visibility:
            for k in chunk_frames:
                config_id = f"tf{tf:+d}_k{k}"
                chunk_ms = k * frame_ms
                bound = math.floor((-input_latency_ms - output_latency_ms - inference_ms) / frame_ms + 1e-9)
                feasible = inference_ms <= chunk_ms and tf <= bound
                for index, song in enumerate(songs):
                    for seed in seeds:
                        q = quality.get(model, 0.0)
                        song_effect = 0.15 * math.sin(1.7 * index + 0.3)
                        base = 1.0 / (1.0 + math.exp(-(q + 0.25 * tf - 0.1 * k + song_effect)))
                        miss = 0.0 if model in baselines else (0.0 if feasible else min(1.0, 0.2 + 0.1 * tf))
                        values = {
                            "beat.f_measure": base,
                            "harmony.majmin": 0.9 * base + 0.05,
                            "embedding.cosine_mix": 2 * base - 1,
                            "timing.miss_rate": max(0.0, miss),
                            "timing.underrun_fraction": max(0.0, miss * 0.5),
                            "timing.feasible_future_visibility_frames": float(bound)
                            if inference_ms <= chunk_ms
                            else float("nan"),
                        }
                        for name in values:
                            if noise and not name.startswith("timing."):
                                values[name] = float(np.clip(values[name] + rng.normal(0.0, noise), -1, 1))
                            if name in nan_metrics:
                                values[name] = float("nan")
                        rows.append(
                            {
                                "model": model,
                                "model_version": "1.0",
                                "causal": model != "oracle",
                                "baseline": model in baselines,
                                "song": song,
                                "seed": seed,
                                "config_id": config_id,
                                "future_visibility_frames": tf,
                                "future_visibility_ms": tf * frame_ms,
                                "chunk_frames": k,
                                "chunk_ms": chunk_ms,
                                "frame_rate_hz": SAMPLE_RATE / HOP,
                                "sample_rate": SAMPLE_RATE,
                                "latency": f"fixed:{inference_ms:g}ms",
                                "input_latency_ms": input_latency_ms,
                                "output_latency_ms": output_latency_ms,
                                "on_miss": "truncate",
                                "feasible": feasible,
                                "inference_time_ms": 0.0 if model in baselines else inference_ms,
                                "ref_source": "annotations",
                                **values,
                            }
                        )
    return results_frame(rows)


def make_manifest(results: pd.DataFrame, **changes: object) -> dict:
    """A run manifest for ``results``."""
    songs = sorted(results["song"].unique())
    manifest = {
        "accbench_version": "0.1.0",
        "created": "2026-11-01T00:00:00+00:00",
        "finished": "2026-11-01T00:01:00+00:00",
        "config": {"future_visibility": "auto", "chunk_frames": [2, 5], "latency": "fixed:15ms"},
        "models": [{"name": m, "version": "1.0", "causal": m != "oracle"} for m in sorted(results["model"].unique())],
        "seeds": sorted(int(s) for s in results["seed"].unique()),
        "songs": {s: f"sha256:{i:064d}" for i, s in enumerate(songs)},
        "metric_versions": {"beat": "1", "harmony": "1", "embedding": "1", "timing": "1"},
        "dataset": "synthetic",
        "machine": {"platform": "test"},
    }
    manifest.update(changes)
    return manifest


def write_run(
    folder: Path,
    results: pd.DataFrame,
    *,
    manifest: dict | None = None,
    failures: pd.DataFrame | None = None,
    fmt: str = "parquet",
    audio_seconds: float = 0.0,
) -> Path:
    """Write a run folder like the sweep runner's, with ``audio_seconds`` of sine audio per song (0: none)."""
    folder.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        results.to_parquet(folder / "results.parquet", index=False)
    else:
        results.to_csv(folder / "results.csv", index=False)
    (folder / "manifest.json").write_text(json.dumps(manifest if manifest is not None else make_manifest(results)))
    if failures is not None:
        failures.to_csv(folder / "failures.csv", index=False)
    if audio_seconds > 0:
        n = int(audio_seconds * SAMPLE_RATE)
        t = np.arange(n) / SAMPLE_RATE
        for index, song in enumerate(sorted(results["song"].unique())):
            path = folder / "audio" / "inputs" / f"{song}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(path, (0.3 * np.sin(2 * np.pi * (440 + 20 * index) * t)).astype(np.float32), SAMPLE_RATE)
            for model, config_id in results[["model", "config_id"]].drop_duplicates().itertuples(index=False):
                path = folder / "audio" / model / config_id / f"{song}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(path, (0.2 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), SAMPLE_RATE)
    return folder


def make_events(
    *,
    n_calls: int = 10,
    chunk_frames: int = 5,
    future_visibility: int = -2,
    inference_samples: Sequence[int] | None = None,
    input_latency_samples: int = 80,
    output_latency_samples: int = 80,
    on_miss: str = "truncate",
) -> pd.DataFrame:
    """An event log built by hand with the simulator's schedule rules (docs/design.md, "Timing semantics")."""
    sr, hop = SAMPLE_RATE, HOP
    size = chunk_frames * hop
    n = n_calls * size
    inference = list(inference_samples) if inference_samples is not None else [300] * n_calls
    rows = []
    finish_previous = -(2**62)  # no previous call: chunk 0 may start before the song (a count-in)
    for j in range(n_calls):
        start = j * size
        visible = min(max(start + future_visibility * hop, 0), n)
        call_start = max(start + future_visibility * hop + input_latency_samples, finish_previous)
        d = inference[j % len(inference)]
        finish = call_start + d
        deadline = start - output_latency_samples
        late = finish - deadline
        if on_miss == "truncate":
            underrun = int(min(size, max(0, late)))
        else:
            underrun = size if late > 0 and on_miss == "drop" else 0
        rows.append(
            {
                "index": j,
                "chunk_start": start,
                "visible_end": visible,
                "call_start": call_start,
                "inference_time": d,
                "call_finish": finish,
                "deadline": deadline,
                "on_time": finish <= deadline,
                "lateness_s": max(0, late) / sr,
                "underrun_samples": underrun if late > 0 else 0,
                "repairs": 0,
            }
        )
        finish_previous = finish
    events = pd.DataFrame(rows)
    events.attrs.update(
        {
            "sample_rate": sr,
            "hop": hop,
            "chunk_frames": chunk_frames,
            "future_visibility": future_visibility,
            "input_latency_samples": input_latency_samples,
            "output_latency_samples": output_latency_samples,
            "n_samples": n,
            "on_miss": on_miss,
            "latency": "trace",
            "deterministic": True,
        }
    )
    return events


def test_make_results_shape() -> None:
    table = make_results(models=("m",), baselines=(), future_visibility=(0, 1), chunk_frames=(2,), songs=("a",))
    assert len(table) == 2
    assert set(METRICS) <= set(table.columns)
    labels = [c for c in table.columns if c not in metric_columns(table)]
    assert labels == [c for c in ROW_COLUMNS if c in labels]  # every other column is a schema column, in order
    assert table["beat.f_measure"].between(0, 1).all()
