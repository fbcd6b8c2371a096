"""``accbench profile``: real per-call timing, a trace the simulator replays deterministically."""

from __future__ import annotations

import argparse
import csv
import json
import math

import numpy as np
import pytest
import soundfile

import accbench
from accbench.commands import profile as profile_command
from accbench.commands.profile import profile_model, write_trace
from accbench.errors import ConfigError, ModelError
from accbench.models import load_model
from accbench.protocol import ModelInfo


def _cli(argv):
    parser = argparse.ArgumentParser(prog="accbench")
    profile_command.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


class _Recorder:
    """Records what it is handed; returns silence."""

    def __init__(self):
        self.info = ModelInfo("recorder", "1", 8000, 80)
        self.received = []
        self.resets = []

    def reset(self, session):
        self.resets.append(session)

    def step(self, new_input, ctx):
        self.received.append((ctx.index, ctx.visible_end, new_input.shape[1], new_input.flags.writeable))
        return np.zeros((1, ctx.chunk_frames * ctx.hop), np.float32)

    def close(self):
        pass


def test_profile_calls_like_the_simulator_and_times_only_after_warm_up():
    model = _Recorder()
    result = profile_model(model, chunk_frames=3, calls=7, warmup_calls=2, future_visibility=-1)
    assert result.times_s.shape == (7,) and np.all(result.times_s > 0)
    assert len(model.received) == 9 and model.resets[0].n_samples == 9 * 240
    # visible end v_j = clamp(s_j + t_f * hop, 0, N), and each call gets only the new samples, read-only
    assert [r[1] for r in model.received] == [max(0, j * 240 - 80) for j in range(9)]
    assert [r[2] for r in model.received] == [0, 160] + [240] * 7
    assert not any(r[3] for r in model.received)
    summary = result.summary()
    assert summary["calls"] == 7 and summary["p50_s"] <= summary["p95_s"] <= summary["p99_s"] <= summary["max_s"]
    assert summary["chunk_s"] == pytest.approx(0.03)


def test_trace_replays_deterministically_in_the_simulator(tmp_path):
    follower = load_model("follower")
    result = profile_model(follower, chunk_frames=5, calls=12, warmup_calls=2)
    trace = tmp_path / "trace.csv"
    write_trace(trace, result)
    with open(trace, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["index"]) for row in rows] == list(range(12))
    written = np.array([float(row["inference_time_s"]) for row in rows])
    np.testing.assert_allclose(written, result.times_s, atol=1e-9)
    x = np.random.default_rng(1).standard_normal((1, 22050 * 2)).astype(np.float32) * 0.1
    runs = [
        accbench.simulate(
            "follower", x, sample_rate=22050, future_visibility=-8, chunk_frames=5, latency=f"trace:{trace}"
        )
        for _ in range(2)
    ]
    expected = [math.ceil(round(value * 22050, 6)) for value in written]
    n_calls = len(runs[0].events)
    assert list(runs[0].events["inference_time"]) == list(np.resize(expected, n_calls))
    np.testing.assert_array_equal(runs[0].output, runs[1].output)
    assert runs[0].events.equals(runs[1].events)


def test_profile_command_writes_trace_and_summary(tmp_path, capsys):
    audio = tmp_path / "in.wav"
    soundfile.write(audio, 0.1 * np.sin(np.arange(44100) * 0.05), 44100)
    trace, summary = tmp_path / "t.csv", tmp_path / "s.json"
    code = _cli(
        [
            "profile",
            "--model",
            "follower",
            "--chunk-frames",
            "4",
            "--calls",
            "15",
            "--warmup",
            "1",
            "--input",
            str(audio),
            "--out",
            str(trace),
            "--summary-json",
            str(summary),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "follower: 15 calls of 4 frames (80 ms)" in out and "replay it with --latency trace:" in out
    data = json.loads(summary.read_text())
    assert data["calls"] == 15 and data["x_real_time"] > 1 and data["trace"] == str(trace)
    assert trace.read_text().splitlines()[0] == "index,chunk_frames,inference_time_s"
    assert len(trace.read_text().splitlines()) == 16


def test_profile_rejects_bad_arguments_and_bad_models():
    with pytest.raises(ConfigError):
        profile_model(_Recorder(), chunk_frames=0)

    class Short(_Recorder):
        def step(self, new_input, ctx):
            return np.zeros((1, 3), np.float32)

    with pytest.raises(ModelError, match=r"model 'recorder', call 0: step returned shape \(1, 3\)"):
        profile_model(Short(), chunk_frames=2, calls=3)
