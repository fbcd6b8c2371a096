"""The follower behaves like the seed paper's models on the demo set.

Its harmony and beat scores rise with future visibility and fall as chunks grow. The grid here is small
(t_f in {-10, +10} frames, k in {1, 50} frames, second and third demo chorales, ``on_miss="ignore"`` so configs
with t_f > 0 can be studied); each trend is asserted on the average over the other axis and per cell.
"""

from __future__ import annotations

import numpy as np
import pytest

import accbench
from accbench.datasets import load_dataset
from accbench.metrics.cache import AnalysisCache
from accbench.simulators import SimulationConfig
from accbench.song_run import run_song

METRICS = ("beat.f_measure", "harmony.majmin")
VISIBILITIES = (-10, 10)
CHUNKS = (1, 50)


@pytest.fixture(scope="module")
def grid():
    songs = [song.load() for song in load_dataset("demo", songs=3)][1:]  # bwv2.6, bwv3.6: ~50 s of audio
    model = accbench.load_model("follower")
    cache = AnalysisCache()
    table = {}
    for future_visibility in VISIBILITIES:
        for chunk_frames in CHUNKS:
            config = SimulationConfig(future_visibility, chunk_frames, on_miss="ignore")
            scores = [run_song(model, song, config, metrics=list(METRICS), cache=cache).scores for song in songs]
            table[future_visibility, chunk_frames] = np.mean([[s[name] for name in METRICS] for s in scores], axis=0)
    model.close()
    return table


@pytest.mark.parametrize("metric", range(len(METRICS)), ids=METRICS)
def test_scores_rise_with_future_visibility(grid, metric):
    low, high = VISIBILITIES
    assert np.mean([grid[high, k][metric] for k in CHUNKS]) > np.mean([grid[low, k][metric] for k in CHUNKS]) + 0.02
    for k in CHUNKS:
        assert grid[high, k][metric] >= grid[low, k][metric]


@pytest.mark.parametrize("metric", range(len(METRICS)), ids=METRICS)
def test_scores_fall_as_chunks_grow(grid, metric):
    small, large = CHUNKS
    assert np.mean([grid[t, small][metric] for t in VISIBILITIES]) > (
        np.mean([grid[t, large][metric] for t in VISIBILITIES]) + 0.02
    )
    for t in VISIBILITIES:
        assert grid[t, small][metric] >= grid[t, large][metric]


def test_scores_are_real_music_scores(grid):
    # Far above the floor (silence scores 0) and below the ceiling: a meaningful causal reference point.
    for values in grid.values():
        assert 0.5 < values[0] <= 1.0 and 0.1 < values[1] < 0.9
