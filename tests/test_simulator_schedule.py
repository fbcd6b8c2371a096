"""The timing model (accbench.simulators.schedule): exact bounds, delay conversion, one summary for all callers."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accbench import ModelInfo
from accbench.metrics import timing
from accbench.simulators import SimulationConfig, run_stream, summarize
from accbench.simulators.schedule import (
    delay_samples,
    delay_samples_array,
    feasible_future_visibility,
    feasible_future_visibility_array,
    timing_summary,
)


class Constant:
    def __init__(self, sample_rate=8000, hop=160):
        self.info = ModelInfo("constant", "1", sample_rate, hop)

    def reset(self, session):
        pass

    def step(self, new_input, ctx):
        return np.full((1, ctx.chunk_frames * ctx.hop), 0.5, dtype=np.float32)

    def close(self):
        pass


def test_bound_is_exact_integer_floor_division_at_a_boundary():
    # hop 160, L_in = L_out = 80: d = 480 gives -(80 + 80 + 480) / 160 = -4 exactly; one sample more is -5.
    assert feasible_future_visibility(480, 5, 160, 80, 80) == -4
    assert feasible_future_visibility(481, 5, 160, 80, 80) == -5
    assert feasible_future_visibility(800, 5, 160, 80, 80) == -6  # d = K still keeps up
    assert feasible_future_visibility(801, 5, 160, 80, 80) is None  # slower than real time
    bound, real_time = feasible_future_visibility_array(np.array([[479, 480, 481, 801]]), 800, 160, 80, 80)
    assert bound.dtype == np.int64 and bound.tolist() == [[-4, -4, -5, -7]]
    assert real_time.tolist() == [[True, True, True, False]]


@settings(max_examples=200, deadline=None)
@given(
    inference=st.lists(st.integers(0, 5000), min_size=1, max_size=6),
    chunk_frames=st.integers(1, 9),
    hop=st.integers(1, 400),
    input_latency=st.integers(0, 3000),
    output_latency=st.integers(0, 3000),
)
def test_vectorised_bound_matches_the_scalar_one(inference, chunk_frames, hop, input_latency, output_latency):
    bound, real_time = feasible_future_visibility_array(
        np.array(inference), chunk_frames * hop, hop, input_latency, output_latency
    )
    for d, b, ok in zip(inference, bound.tolist(), real_time.tolist(), strict=True):
        scalar = feasible_future_visibility(d, chunk_frames, hop, input_latency, output_latency)
        assert scalar == (b if ok else None)
        if ok:  # the largest integer t with t * hop + L_in + L_out + d <= 0
            assert (
                b * hop + input_latency + output_latency + d <= 0 < (b + 1) * hop + input_latency + output_latency + d
            )


def test_delays_round_up_to_whole_samples_like_the_simulator():
    assert delay_samples(30.0, 44100) == 1323  # exactly 1323 samples stays 1323
    assert delay_samples(1.0, 44100) == 45  # 44.1 samples round up
    assert delay_samples(0.1, 16000) == 2  # 1.6 samples
    assert delay_samples(100.0, 16000) == 1600  # not 1601
    converted = delay_samples_array(np.array([[0.0, 1.0, 30.0]]), np.array([[44100], [8000]]))
    assert converted.dtype == np.int64 and converted.tolist() == [[0, 45, 1323], [0, 8, 240]]
    config = SimulationConfig(0, 2, "zero", input_latency_ms=10.01, output_latency_ms=1.0)
    result = run_stream(Constant(), np.zeros((1, 640), dtype=np.float32), config)
    assert result.events.attrs["input_latency_samples"] == delay_samples(10.01, 8000) == 81
    assert result.events.attrs["output_latency_samples"] == delay_samples(1.0, 8000) == 8


def test_engine_summary_and_timing_metrics_agree():
    config = SimulationConfig(-1, 4, "fixed:15ms,jitter=8ms", input_latency_ms=5.0, output_latency_ms=2.0, seed=3)
    result = run_stream(Constant(), np.zeros((1, 8000), dtype=np.float32), config)
    summary, scores = result.summary, timing.evaluate(result.events)
    assert 0 < summary.miss_rate < 1  # the jitter makes some calls late
    assert scores["miss_rate"] == summary.miss_rate
    assert scores["underrun_fraction"] == summary.underrun_fraction
    assert scores["max_lateness_s"] == summary.max_lateness_s
    assert scores["feasible_future_visibility_frames"] == summary.feasible_future_visibility
    assert scores["feasible_future_visibility_ms"] == summary.feasible_future_visibility_ms
    assert scores["mean_recency_gap_s"] == summary.mean_recency_gap_s
    assert scores["real_time_factor"] == summary.real_time_factor
    events = result.events
    worst = int(events["inference_time"].max())
    assert summary.feasible_future_visibility == feasible_future_visibility(
        worst, 4, 160, events.attrs["input_latency_samples"], events.attrs["output_latency_samples"]
    )
    assert summary.max_lateness_s == pytest.approx(float((events["call_finish"] - events["deadline"]).max()) / 8000)
    assert summary.mean_inference_time_ms == pytest.approx(events["inference_time"].mean() / 8)


def _summary(inference, on_time, lateness, underrun, **attrs):
    """timing_summary of hand-written columns, with no input or output latency."""
    return timing_summary(
        np.array(inference, dtype=np.int64),
        np.array(on_time, dtype=bool),
        np.array(lateness, dtype=float),
        np.array(underrun, dtype=np.int64),
        input_latency=0,
        output_latency=0,
        **attrs,
    )


def test_empty_log_has_nan_lateness_in_both_summaries():
    result = run_stream(Constant(), np.zeros((1, 0), dtype=np.float32), SimulationConfig(-2, 2, "fixed:5ms"))
    assert len(result.events) == 0 and list(result.events.columns)[:3] == ["index", "chunk_start", "visible_end"]
    summary, scores = summarize(result.events), timing.evaluate(result.events)
    assert math.isnan(summary.max_lateness_s) and math.isnan(scores["max_lateness_s"])
    assert summary.n_calls == 0 and summary.miss_rate == scores["miss_rate"] == 0.0
    assert summary.underrun_fraction == scores["underrun_fraction"] == 0.0
    assert summary.real_time_factor == scores["real_time_factor"] == 0.0 and summary.mean_inference_time_ms == 0.0
    assert summary.feasible_future_visibility == scores["feasible_future_visibility_frames"] == 0  # -(0 + 0 + 0)
    direct = _summary([], [], [], [], sample_rate=8000, hop=160, chunk_frames=2, future_visibility=-2, n_samples=0)
    assert math.isnan(direct.max_lateness_s) and direct.feasible


def test_timing_summary_slower_than_real_time_has_no_bound():
    summary = _summary(
        [100, 401],
        [True, False],
        [-0.01, 0.002],
        [0, 1],
        sample_rate=1000,
        hop=100,
        chunk_frames=4,
        future_visibility=-1,
        n_samples=800,
    )
    assert summary.feasible_future_visibility is None and summary.feasible_future_visibility_ms is None
    assert not summary.feasible
    assert summary.miss_rate == 0.5 and summary.underrun_fraction == 1 / 800 and summary.max_lateness_s == 0.002
    assert summary.real_time_factor == pytest.approx(250.5 / 400)
    assert summary.mean_recency_gap_s == pytest.approx((399 / 2 + 100) / 1000)


def test_result_keeps_the_reference_it_was_given():
    x = np.zeros((1, 640), dtype=np.float32)
    reference = np.linspace(-1, 1, 640, dtype=np.float32)[np.newaxis]
    result = run_stream(Constant(), x, SimulationConfig(0, 2), reference=reference)
    assert result.reference is reference  # a model without reference access still gets it kept for scoring
    assert run_stream(Constant(), x, SimulationConfig(0, 2)).reference is None
    assert "reference=" not in repr(result).replace("reference_access=", "")
    fields = list(result.__dataclass_fields__)
    assert fields[fields.index("input") + 1] == "reference"


def test_timing_metrics_accept_a_log_read_back_from_csv(tmp_path):
    from accbench.eventlog import read_events, write_events

    result = run_stream(Constant(), np.zeros((1, 4000), dtype=np.float32), SimulationConfig(-2, 3, "fixed:30ms"))
    write_events(tmp_path / "events.csv", result.events)
    restored = read_events(tmp_path / "events.csv")
    assert isinstance(restored, pd.DataFrame)
    assert timing.evaluate(restored) == timing.evaluate(result.events)
