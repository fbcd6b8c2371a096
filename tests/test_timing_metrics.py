"""accbench.metrics.timing on hand-computed event logs."""

import math

import pandas as pd
import pytest

from accbench.metrics import timing

SR, HOP, K_FRAMES = 22050, 441, 5
K = HOP * K_FRAMES


def log(inference, on_time, underrun, *, future_visibility=-2, l_in=441, l_out=0):
    n = len(inference)
    events = pd.DataFrame(
        {
            "index": range(n),
            "inference_time": inference,
            "on_time": on_time,
            "lateness_s": [(d - K) / SR for d in inference],
            "underrun_samples": underrun,
            "repairs": [""] * n,
        }
    )
    events.attrs.update(
        sample_rate=SR,
        hop=HOP,
        chunk_frames=K_FRAMES,
        future_visibility=future_visibility,
        input_latency_samples=l_in,
        output_latency_samples=l_out,
        n_samples=n * K,
    )
    return events


def test_hand_computed_values():
    events = log([300, 441, 900, 441], [True, True, False, True], [0, 0, 500, 0])
    scores = timing.evaluate(events)
    assert scores["miss_rate"] == 0.25
    assert scores["underrun_fraction"] == pytest.approx(500 / (4 * K))
    # floor(-(441 + 0 + 900) / 441) = floor(-3.04) = -4 frames = -80 ms
    assert scores["feasible_future_visibility_frames"] == -4.0
    assert scores["feasible_future_visibility_ms"] == pytest.approx(-80.0)
    assert scores["mean_recency_gap_s"] == pytest.approx(((K - 1) / 2 + 2 * HOP) / SR)
    assert scores["real_time_factor"] == pytest.approx((300 + 441 + 900 + 441) / 4 / K)
    assert scores["max_lateness_s"] == pytest.approx((900 - K) / SR)


def test_slower_than_real_time_has_no_feasible_bound():
    events = log([K + 1], [False], [K])
    assert math.isnan(timing.feasible_future_visibility(events))
    assert timing.evaluate(events)["miss_rate"] == 1.0


def test_empty_log_and_missing_columns():
    scores = timing.evaluate(log([], [], []))
    assert scores["miss_rate"] == 0.0 and scores["underrun_fraction"] == 0.0
    assert math.isnan(scores["max_lateness_s"])
    with pytest.raises(ValueError, match="columns"):
        timing.evaluate(pd.DataFrame({"on_time": [True]}))
    events = log([1], [True], [0])
    del events.attrs["hop"]
    with pytest.raises(ValueError, match="hop"):
        timing.evaluate(events)
