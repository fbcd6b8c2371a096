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
    assert "budget 80.000 ms per call (chunk 80 ms - L_in 0 ms - L_out 0 ms): within budget" in out
    data = json.loads(summary.read_text())
    assert data["calls"] == 15 and data["x_real_time"] > 1 and data["trace"] == str(trace)
    assert data["verdict"] == "within budget" and data["budget_s"] == pytest.approx(0.08)
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


class _Timed(_Recorder):
    """Each call "takes" the next of ``durations_s`` on a fake clock that it advances (no sleeping)."""

    def __init__(self, durations_s):
        super().__init__()
        self.now = 0.0
        self.durations = list(durations_s)

    def clock(self):
        return self.now

    def step(self, new_input, ctx):
        self.now += self.durations[ctx.index]
        return super().step(new_input, ctx)


def test_profile_reports_percentiles_against_the_call_budget():
    # 8000 Hz, hop 80, k = 3: a 30 ms chunk; L_in 4 ms + L_out 6 ms leave a 20 ms budget per call.
    durations = [0.5] + [0.001 * (i + 1) for i in range(100)]  # warm-up call untimed; timed: 1 ... 100 ms
    model = _Timed(durations)
    result = profile_model(
        model, chunk_frames=3, calls=100, warmup_calls=1, input_latency_ms=4, output_latency_ms=6, clock=model.clock
    )
    np.testing.assert_allclose(result.times_s, np.arange(1, 101) * 0.001)
    summary = result.summary()
    assert summary["budget_s"] == pytest.approx(0.020) and summary["chunk_s"] == pytest.approx(0.030)
    assert summary["p50_s"] == pytest.approx(0.0505) and summary["p95_s"] == pytest.approx(0.09505)
    assert summary["p99_s"] == pytest.approx(0.09901) and summary["max_s"] == pytest.approx(0.100)
    assert summary["calls_over_budget"] == 80 and summary["verdict"] == "over budget"
    assert summary["within_budget"] is False and summary["verdict_percentile"] == 99
    assert summary["feasible_future_visibility"] is None  # p99 (99 ms) > the 30 ms chunk: never real time

    fast = _Timed([0.004] * 50)
    summary = profile_model(
        fast, chunk_frames=3, calls=50, warmup_calls=0, output_latency_ms=6, clock=fast.clock
    ).summary()
    assert summary["verdict"] == "within budget" and summary["calls_over_budget"] == 0
    assert summary["budget_s"] == pytest.approx(0.024)
    # t_f <= floor(-(L_in + L_out + d) * sr / hop) = floor(-(0 + 48 + 32) / 80) = -1 frame
    assert summary["feasible_future_visibility"] == -1
    lines = profile_command.format_summary(summary)
    assert "p99 4.000 ms" in lines[0] and "max 4.000 ms" in lines[0]
    assert lines[1].startswith("budget 24.000 ms per call (chunk 30 ms - L_in 0 ms - L_out 6 ms): within budget")
    assert "0 of 50 calls over" in lines[1] and "t_f <= -1 frames" in lines[1]


def test_profile_budget_exactly_met_and_bad_latencies():
    exact = _Timed([0.010] * 10)  # 10 ms calls, a 10 ms budget: 30 ms chunk less 20 ms of L_in
    summary = profile_model(
        exact, chunk_frames=3, calls=10, warmup_calls=0, input_latency_ms=20, clock=exact.clock
    ).summary()
    assert summary["verdict"] == "within budget" and summary["calls_over_budget"] == 0
    for bad in ({"input_latency_ms": -1}, {"output_latency_ms": float("nan")}):
        with pytest.raises(ConfigError, match="latency_ms must be a finite number >= 0"):
            profile_model(_Recorder(), chunk_frames=1, calls=1, **bad)


def test_calls_over_budget_are_the_misses_of_a_replay_at_one_chunk_ahead(tmp_path):
    # Call times up to one chunk (30 ms), some over the 20 ms budget; replayed at t_f = -k with the same
    # L_in and L_out, exactly the calls over budget miss their deadline.
    rng = np.random.default_rng(5)
    durations = rng.uniform(0.005, 0.030, size=40)
    model = _Timed(durations)
    result = profile_model(
        model, chunk_frames=3, calls=40, warmup_calls=0, input_latency_ms=4, output_latency_ms=6, clock=model.clock
    )
    summary = result.summary()
    assert 0 < summary["calls_over_budget"] < 40
    trace = tmp_path / "trace.csv"
    write_trace(trace, result)
    x = np.zeros((1, 40 * 240), np.float32)
    replay = accbench.simulate(
        _Recorder(),
        x,
        sample_rate=8000,
        future_visibility=-3,
        chunk_frames=3,
        latency=f"trace:{trace}",
        input_latency_ms=4,
        output_latency_ms=6,
        on_miss="ignore",
    )
    assert int((~replay.events["on_time"]).sum()) == summary["calls_over_budget"]
