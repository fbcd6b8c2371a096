"""Speed of the metric suite (beat, harmony, timing, reaction; no embeddings) on 22.05 kHz audio, per core.

Usage: ``python benchmarks/metrics_speed.py [--songs 4] [--configs 8]``

For each demo song it scores ``--configs`` outputs (the reference delayed by 0 to 1 s, like ``oracle-delayed``
at several visibilities; plus a synthetic event log) through one :class:`AnalysisCache`, in one thread
(BLAS/FFT threads pinned to 1 before numpy is imported), and reports CPU seconds (``time.process_time``):

- cold: the first config of each song, which also analyses the input and the reference mix;
- warm: every later config (input and reference analyses come from the cache);
- overall: audio seconds scored per CPU second over all configs (goal: >= 30x real time per core);
- the analyzer call counts, which show the input and reference analysed once per song;
- the wall time of a first short call in the process (imports and librosa's numba loading), kept out of the
  figures above.
"""

from __future__ import annotations

import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from accbench.datasets import load_dataset  # noqa: E402
from accbench.metrics import AnalysisCache, score  # noqa: E402

SR = 22050
HOP = 441


def event_log(n_samples: int, chunk_frames: int = 10, inference: int = 300) -> pd.DataFrame:
    chunk = chunk_frames * HOP
    starts = np.arange(0, n_samples, chunk)
    events = pd.DataFrame(
        {
            "index": np.arange(starts.size),
            "chunk_start": starts,
            "visible_end": starts,
            "call_start": starts,
            "inference_time": np.full(starts.size, inference),
            "call_finish": starts + inference,
            "deadline": starts,
            "on_time": np.zeros(starts.size, dtype=bool),
            "lateness_s": np.full(starts.size, inference / SR),
            "underrun_samples": np.full(starts.size, inference),
            "repairs": [""] * starts.size,
        }
    )
    events.attrs.update(
        sample_rate=SR,
        hop=HOP,
        chunk_frames=chunk_frames,
        future_visibility=0,
        input_latency_samples=0,
        output_latency_samples=0,
        n_samples=n_samples,
        on_miss="truncate",
        latency="fixed",
        deterministic=True,
    )
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--songs", type=int, default=4)
    parser.add_argument("--configs", type=int, default=8)
    args = parser.parse_args()
    songs = [song.load(sample_rate=SR) for song in load_dataset("demo", songs=args.songs)]
    # Warm-up on a short excerpt: imports and first-call costs (loading librosa's numba code, and compiling it
    # when the environment's numba cache is empty), paid once per process and reported separately.
    began = time.perf_counter()
    score(songs[0].input[:, : SR * 2], songs[0].reference[:, : SR * 2], sample_rate=SR, cache=AnalysisCache())
    first_call = time.perf_counter() - began
    cache = AnalysisCache()
    cold = warm = 0.0
    cold_audio = warm_audio = 0.0
    delays = np.linspace(0.0, 1.0, args.configs)
    for song in songs:
        n = song.input.shape[1]
        events = event_log(n)
        for index, delay in enumerate(delays):
            shift = int(delay * SR)
            output = np.concatenate([np.zeros((1, shift), np.float32), song.reference.mean(axis=0, keepdims=True)], 1)
            output = output[:, :n]
            began = time.process_time()
            score(
                song.input,
                output,
                sample_rate=SR,
                reference=song.reference,
                annotations=song.annotations,
                events=events,
                metrics=["beat", "harmony", "timing", "reaction"],
                cache=cache,
                song=song.song_id,
            )
            spent = time.process_time() - began
            if index == 0:
                cold, cold_audio = cold + spent, cold_audio + n / SR
            else:
                warm, warm_audio = warm + spent, warm_audio + n / SR
    total_audio, total_cpu = cold_audio + warm_audio, cold + warm
    print(f"{len(songs)} demo songs x {args.configs} configs, {total_audio:.0f} s of audio scored at {SR} Hz, 1 thread")
    print(f"first call in this process (imports, librosa/numba loading; not in the figures below): {first_call:.1f} s")
    print(f"cold (first config, with input + reference analyses): {cold_audio / cold:6.1f}x real time")
    if warm:
        print(f"warm (later configs, analyses cached):              {warm_audio / warm:6.1f}x real time")
    speed = total_audio / total_cpu
    print(f"overall: {speed:.1f}x real time per core (goal >= 30x): {'PASS' if speed >= 30 else 'FAIL'}")
    print("analyzer computations:", dict(sorted(cache.computed.items())))
    print("cache hits:", dict(sorted(cache.hits.items())))


if __name__ == "__main__":
    main()
