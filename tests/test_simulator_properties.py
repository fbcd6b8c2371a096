"""Property tests of the simulator's timing semantics (docs/design.md, "Timing semantics")."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accbench import ModelInfo
from accbench.simulators import SimulationConfig, feasible_future_visibility, run_stream


class Recorder:
    """Records every input sample value it is handed; fed ``x = arange(N)`` the values are positions."""

    def __init__(self, sample_rate: int, hop: int) -> None:
        self.info = ModelInfo("recorder", "1", sample_rate, hop)
        self.calls: list[tuple[int, int, np.ndarray]] = []

    def reset(self, session) -> None:
        self.session = session
        self.calls = []

    def step(self, new_input, ctx):
        self.calls.append((ctx.index, ctx.visible_end, np.array(new_input[0])))
        return np.full((1, ctx.chunk_frames * ctx.hop), ctx.index + 1, dtype=np.float32)

    def close(self) -> None:
        pass


latency_specs = st.one_of(
    st.just("zero"),
    st.integers(0, 80).map(lambda ms: f"fixed:{ms}ms"),
    st.tuples(st.integers(0, 30), st.integers(0, 5)).map(lambda p: f"linear:{p[0]}ms,{p[1]}ms/frame"),
    st.tuples(st.integers(0, 50), st.integers(1, 20)).map(lambda p: f"fixed:{p[0]}ms,jitter={p[1]}ms"),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sample_rate=st.sampled_from([8000, 16000, 22050, 44100]),
    hop=st.integers(1, 400),
    n_samples=st.integers(1, 6000),
    future_visibility=st.integers(-12, 12),
    chunk_frames=st.integers(1, 9),
    latency=latency_specs,
    input_latency_ms=st.sampled_from([0.0, 1.0, 5.0, 12.5]),
    output_latency_ms=st.sampled_from([0.0, 2.0, 10.0]),
    on_miss=st.sampled_from(["truncate", "drop", "ignore"]),
    seed=st.integers(0, 2**31 - 1),
)
def test_visibility_schedule_and_output(
    sample_rate,
    hop,
    n_samples,
    future_visibility,
    chunk_frames,
    latency,
    input_latency_ms,
    output_latency_ms,
    on_miss,
    seed,
):
    model = Recorder(sample_rate, hop)
    x = np.arange(n_samples, dtype=np.float32)[np.newaxis, :]
    config = SimulationConfig(
        future_visibility, chunk_frames, latency, input_latency_ms, output_latency_ms, on_miss, seed
    )
    result = run_stream(model, x, config)
    chunk = chunk_frames * hop
    lookahead = future_visibility * hop

    # Visibility: never a sample >= v_j at call j; every visible sample exactly once, in order.
    received = []
    for index, visible, values in model.calls:
        expected_visible = min(max(index * chunk + lookahead, 0), n_samples)
        assert visible == expected_visible
        assert values.size == 0 or values.max() < visible
        received.append(values)
    received = np.concatenate(received)
    last_visible = model.calls[-1][1]
    np.testing.assert_array_equal(received, np.arange(last_visible, dtype=np.float32))

    # Output length and the event log.
    assert result.output.shape == (1, n_samples)
    events = result.events
    assert len(events) == -(-n_samples // chunk)
    unclamped = events["chunk_start"] + lookahead
    clamped = unclamped.clip(0, n_samples)
    assert (events["visible_end"] == clamped).all()
    assert ((events["visible_end"] - events["chunk_start"]) == lookahead)[
        (unclamped >= 0) & (unclamped <= n_samples)
    ].all()
    assert (events["on_time"] == (events["call_finish"] <= events["deadline"])).all()
    assert (events["call_finish"] == events["call_start"] + events["inference_time"]).all()
    assert (events["call_start"].diff().dropna() >= 0).all()
    assert (events["call_start"].iloc[1:].to_numpy() >= events["call_finish"].iloc[:-1].to_numpy()).all()

    # What was heard: chunk j plays value j + 1 except the silenced samples, which are leading ones.
    for row in events.itertuples():
        length = min(chunk, n_samples - row.chunk_start)
        segment = result.output[0, row.chunk_start : row.chunk_start + length]
        silenced = int(row.underrun_samples)
        assert (segment[:silenced] == 0).all() and (segment[silenced:] == row.index + 1).all()
        if on_miss == "ignore" or row.on_time:
            assert silenced == 0
        if on_miss == "drop" and not row.on_time:
            assert silenced == length or row.call_finish + events.attrs["output_latency_samples"] <= row.chunk_start


@settings(max_examples=150, deadline=None)
@given(
    sample_rate=st.sampled_from([8000, 16000, 22050]),
    hop=st.integers(1, 300),
    chunk_frames=st.integers(1, 8),
    n_chunks=st.integers(1, 12),
    inference_ms=st.integers(0, 60),
    input_latency_ms=st.integers(0, 20),
    output_latency_ms=st.integers(0, 20),
)
def test_feasible_bound_is_largest_future_visibility_without_misses(
    sample_rate, hop, chunk_frames, n_chunks, inference_ms, input_latency_ms, output_latency_ms
):
    chunk = chunk_frames * hop
    x = np.zeros((1, chunk * n_chunks), dtype=np.float32)
    model = Recorder(sample_rate, hop)

    def misses(future_visibility: int) -> int:
        config = SimulationConfig(
            future_visibility, chunk_frames, f"fixed:{inference_ms}ms", input_latency_ms, output_latency_ms, "ignore"
        )
        return int((~run_stream(model, x, config).events["on_time"]).sum())

    probe = run_stream(
        model, x, SimulationConfig(0, chunk_frames, f"fixed:{inference_ms}ms", input_latency_ms, output_latency_ms)
    )
    bound = probe.summary.feasible_future_visibility
    attrs = probe.events.attrs
    inference = int(probe.events["inference_time"].iloc[0])
    assert bound == feasible_future_visibility(
        inference, chunk_frames, hop, attrs["input_latency_samples"], attrs["output_latency_samples"]
    )
    if inference > chunk:
        assert bound is None
        return
    assert misses(bound) == 0
    assert misses(bound + 1) > 0
    assert misses(bound - 3) == 0
