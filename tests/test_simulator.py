"""Hand-computed examples, isolation of future input, determinism and bad input for the simulator."""

from __future__ import annotations

import numpy as np
import pytest

import accbench
from accbench import ConfigError, DataError, ModelError, ModelInfo
from accbench.simulators import SimulationConfig, parse_latency, run_stream


class Ones:
    def __init__(self, sample_rate=1000, hop=10):
        self.info = ModelInfo("ones", "1", sample_rate, hop)
        self.flags = []

    def reset(self, session):
        self.flags = []

    def step(self, new_input, ctx):
        self.flags.append(ctx.previous_played)
        return np.ones((1, ctx.chunk_frames * ctx.hop), dtype=np.float32)

    def close(self):
        pass


@pytest.fixture
def trace_file(tmp_path):
    path = tmp_path / "trace.csv"
    path.write_text("call,inference_time_s\n0,0.005\n1,0.030\n2,0.010\n")
    return path


def run_trace(trace_file, on_miss):
    model = Ones()
    x = np.zeros((1, 60), dtype=np.float32)
    config = SimulationConfig(-2, 2, f"trace:{trace_file}", 0.0, 5.0, on_miss)
    return model, run_stream(model, x, config)


def test_trace_schedule_by_hand(trace_file):
    # sr 1000 Hz, hop 10, k = 2 (K = 20), t_f = -2 (T = -20), L_out = 5 samples, d = 5, 30, 10 samples.
    _, result = run_trace(trace_file, "truncate")
    events = result.events
    assert events["call_start"].tolist() == [-20, 0, 30]
    assert events["call_finish"].tolist() == [-15, 30, 40]
    assert events["deadline"].tolist() == [-5, 15, 35]
    assert events["on_time"].tolist() == [True, False, False]
    assert events["lateness_s"].tolist() == [-0.010, 0.015, 0.005]
    assert events["visible_end"].tolist() == [0, 0, 20]


def test_truncate_silences_the_samples_whose_time_has_passed(trace_file):
    model, result = run_trace(trace_file, "truncate")
    expected = np.ones(60, dtype=np.float32)
    expected[20:35] = 0  # chunk 1 ready at 30 + 5 = 35
    expected[40:45] = 0  # chunk 2 ready at 40 + 5 = 45
    np.testing.assert_array_equal(result.output[0], expected)
    assert result.events["underrun_samples"].tolist() == [0, 15, 5]
    assert model.flags == [True, True, False]
    assert result.summary.underrun_fraction == pytest.approx(20 / 60)
    assert result.summary.miss_rate == pytest.approx(2 / 3)


def test_drop_silences_late_chunks_entirely(trace_file):
    model, result = run_trace(trace_file, "drop")
    expected = np.zeros(60, dtype=np.float32)
    expected[:20] = 1
    np.testing.assert_array_equal(result.output[0], expected)
    assert result.events["underrun_samples"].tolist() == [0, 20, 20]
    assert model.flags == [True, True, False]


def test_ignore_counts_misses_but_silences_nothing(trace_file):
    model, result = run_trace(trace_file, "ignore")
    np.testing.assert_array_equal(result.output[0], np.ones(60, dtype=np.float32))
    assert result.events["on_time"].tolist() == [True, False, False]
    assert model.flags == [True, True, True]


def test_trace_cycles_and_rounds_up(trace_file):
    durations = parse_latency(f"trace:{trace_file}").inference_samples(
        7, chunk_frames=1, hop=1, sample_rate=44100, seed=0
    )
    # 5 ms = 220.5 samples -> 221; 30 ms = 1323 exactly; 10 ms = 441 exactly.
    assert durations.tolist() == [221, 1323, 441, 221, 1323, 441, 221]


def test_plain_number_trace(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("0.1\n0.2\n")
    assert parse_latency(f"trace:{path}").inference_samples(
        3, chunk_frames=1, hop=1, sample_rate=16000, seed=0
    ).tolist() == [
        1600,
        3200,
        1600,
    ]


def test_jitter_is_seeded_gaussian_noise_rounded_up():
    model = parse_latency("fixed:10ms,jitter=2ms")
    assert model.spec == "fixed:10ms,jitter=2ms"
    durations = model.inference_samples(50, chunk_frames=1, hop=1, sample_rate=1000, seed=7)
    noise = np.random.default_rng([7, 0x1A7E]).normal(0.0, 2.0, size=50)
    expected = np.maximum(np.ceil(np.round(10 + noise, 6)), 0).astype(np.int64)
    np.testing.assert_array_equal(durations, expected)
    again = model.inference_samples(50, chunk_frames=1, hop=1, sample_rate=1000, seed=7)
    np.testing.assert_array_equal(durations, again)
    other = model.inference_samples(50, chunk_frames=1, hop=1, sample_rate=1000, seed=8)
    assert not np.array_equal(durations, other)
    assert durations.std() > 0.5


def test_linear_latency_amortises_fixed_cost():
    model = parse_latency("linear:20ms,2ms/frame")
    assert model.spec == "linear:20ms,2ms/frame"
    assert parse_latency("linear:base=20ms,per_frame=2ms") == model
    one = model.inference_samples(1, chunk_frames=1, hop=100, sample_rate=1000, seed=0)[0]
    fifty = model.inference_samples(1, chunk_frames=50, hop=100, sample_rate=1000, seed=0)[0]
    assert (one, fifty) == (22, 120)


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "fast",
        "fixed",
        "fixed:-3ms",
        "fixed:3frames",
        "linear:1ms",
        "linear:base=1ms",
        "trace:/no/such/file",
        "measured,jitter=1ms",
        "fixed:abc",
    ],
)
def test_invalid_latency_specs_are_clear_errors(spec):
    with pytest.raises(ConfigError, match="latency"):
        parse_latency(spec)


class Cheater:
    """Tries every way to reach input it has not been handed."""

    def __init__(self, full_input):
        self.info = ModelInfo("cheater", "1", 1000, 10)
        self.full_input = full_input
        self.findings = []

    def reset(self, session):
        assert session.reference is None

    def step(self, new_input, ctx):
        self.findings.append(
            (
                new_input.base is None,
                new_input.flags.writeable,
                np.shares_memory(new_input, self.full_input),
                new_input.flags.owndata,
            )
        )
        with pytest.raises(ValueError):
            new_input[...] = 0
        return np.zeros((1, ctx.chunk_frames * ctx.hop), dtype=np.float32)

    def close(self):
        pass


def test_a_model_cannot_reach_future_input():
    x = np.random.default_rng(0).standard_normal((1, 500)).astype(np.float32)
    model = Cheater(x)
    run_stream(model, x, SimulationConfig(3, 2))
    assert model.findings
    for base_is_none, writeable, shares, owns in model.findings:
        assert base_is_none and owns and not writeable and not shares


class Noisy:
    """Random output from the session seed; used to check determinism end to end."""

    def __init__(self):
        self.info = ModelInfo("noisy", "1", 8000, 80)

    def reset(self, session):
        self.rng = np.random.default_rng(session.seed)

    def step(self, new_input, ctx):
        return self.rng.standard_normal((1, ctx.chunk_frames * ctx.hop)).astype(np.float32) + new_input.sum() * 0

    def close(self):
        pass


def test_same_inputs_config_and_seed_give_identical_bytes():
    x = np.random.default_rng(1).standard_normal(8000).astype(np.float32)
    kwargs = dict(
        sample_rate=8000,
        future_visibility=-3,
        chunk_frames=2,
        latency="linear:5ms,3ms/frame,jitter=4ms",
        input_latency_ms=2,
        output_latency_ms=3,
        seed=11,
    )
    first = accbench.simulate(Noisy(), x, **kwargs)
    second = accbench.simulate(Noisy(), x, **kwargs)
    assert first.output.tobytes() == second.output.tobytes()
    assert first.events.to_csv() == second.events.to_csv()
    assert first.summary == second.summary
    assert first.summary.deterministic
    third = accbench.simulate(Noisy(), x, **{**kwargs, "seed": 12})
    assert first.output.tobytes() != third.output.tobytes()


def test_measured_latency_is_flagged_not_deterministic():
    x = np.zeros(800, dtype=np.float32)
    result = accbench.simulate(
        "silence",
        x,
        sample_rate=8000,
        future_visibility=0,
        chunk_frames=1,
        latency="measured",
        model_options={"sample_rate": 8000, "hop": 80},
    )
    assert not result.summary.deterministic
    assert not result.events.attrs["deterministic"]


class Broken:
    def __init__(self, behaviour):
        self.info = ModelInfo("broken", "2", 1000, 10)
        self.behaviour = behaviour

    def reset(self, session):
        pass

    def step(self, new_input, ctx):
        size = ctx.chunk_frames * ctx.hop
        if ctx.index < 2:
            return np.zeros((1, size), dtype=np.float32)
        return {
            "short": lambda: np.zeros((1, size - 1), dtype=np.float32),
            "float64": lambda: np.zeros((1, size)),
            "nan": lambda: np.full((1, size), np.nan, dtype=np.float32),
            "raise": lambda: 1 / 0,
            "list": lambda: [0.0] * size,
            "text": lambda: "hello",
        }[self.behaviour]()

    def close(self):
        pass


@pytest.mark.parametrize(
    ("behaviour", "message"),
    [
        ("short", "shape"),
        ("float64", "dtype float64"),
        ("nan", "NaN"),
        ("raise", "ZeroDivisionError"),
        ("list", "not a numpy array"),
        ("text", "str"),
    ],
)
def test_bad_output_names_model_song_config_and_call(behaviour, message):
    x = np.zeros(100, dtype=np.float32)
    with pytest.raises(ModelError, match=message) as caught:
        accbench.simulate(Broken(behaviour), x, sample_rate=1000, future_visibility=0, chunk_frames=1, song_id="bwv1")
    error = caught.value
    assert (error.model, error.song, error.call) == ("broken", "bwv1", 2)
    assert "chunk_frames=1" in error.config and "call 2" in str(error) and "bwv1" in str(error)


@pytest.mark.parametrize(
    ("behaviour", "repair"),
    [("short", "padded"), ("float64", "cast float64"), ("nan", "zeroed non-finite"), ("list", "cast float64")],
)
def test_lenient_mode_repairs_and_records(behaviour, repair):
    x = np.zeros(50, dtype=np.float32)
    result = accbench.simulate(
        Broken(behaviour), x, sample_rate=1000, future_visibility=0, chunk_frames=1, lenient=True
    )
    assert result.events["repairs"].iloc[:2].tolist() == ["", ""]
    assert all(repair in text for text in result.events["repairs"].iloc[2:])
    assert result.summary.repairs == 3
    assert np.isfinite(result.output).all()


def test_lenient_mode_does_not_hide_exceptions():
    with pytest.raises(ModelError, match="ZeroDivisionError"):
        accbench.simulate(
            Broken("raise"), np.zeros(50), sample_rate=1000, future_visibility=0, chunk_frames=1, lenient=True
        )


def test_bad_input_is_a_clear_error():
    common = dict(sample_rate=22050, future_visibility=0, chunk_frames=1)
    with pytest.raises(DataError, match="song 'empty'.*input is empty"):
        accbench.simulate("silence", np.zeros(0, dtype=np.float32), song_id="empty", **common)
    with pytest.raises(DataError, match="NaN"):
        accbench.simulate("silence", np.array([0.0, np.nan], dtype=np.float32), **common)
    with pytest.raises(DataError, match="reference has 10 samples but input has 12"):
        accbench.simulate("oracle", np.zeros(12), reference=np.zeros(10), **common)
    with pytest.raises(ModelError, match="unknown model 'nope'.*known names"):
        accbench.simulate("nope", np.zeros(12), **common)
    with pytest.raises(ConfigError, match="invalid latency spec 'sometimes'"):
        accbench.simulate("silence", np.zeros(12), latency="sometimes", **common)
    with pytest.raises(ConfigError, match="needs a reference"):
        accbench.simulate("oracle", np.zeros(12), **common)
    with pytest.raises(ConfigError, match="not a whole number of frames"):
        accbench.simulate("silence", np.zeros(12), sample_rate=22050, future_visibility="-205ms", chunk_frames=1)
    with pytest.raises(ConfigError, match="chunk_frames must be >= 1"):
        accbench.simulate("silence", np.zeros(12), sample_rate=22050, future_visibility=0, chunk_frames=0)
    with pytest.raises(ConfigError, match="on_miss"):
        accbench.simulate("silence", np.zeros(12), on_miss="skip", **common)


def test_durations_in_ms_convert_exactly():
    x = np.zeros(22050, dtype=np.float32)
    result = accbench.simulate("silence", x, sample_rate=22050, future_visibility="-200ms", chunk_frames="80ms")
    assert (result.config.future_visibility, result.config.chunk_frames) == (-10, 4)


def test_input_is_resampled_and_channel_matched():
    x = np.random.default_rng(0).standard_normal((2, 44100)).astype(np.float32)
    seen = []

    class Probe(Ones):
        def step(self, new_input, ctx):
            seen.append(new_input.shape[0])
            return super().step(new_input, ctx)

    result = accbench.simulate(
        Probe(sample_rate=22050, hop=441), x, sample_rate=44100, future_visibility=0, chunk_frames=5
    )
    assert result.output.shape == (1, 22050) and result.input.shape == (1, 22050)
    assert set(seen) == {1}


class AdapterFailure(Ones):
    def step(self, new_input, ctx):
        if ctx.index == 1:
            raise ModelError("subprocess exited with code 3", model="ext")
        return super().step(new_input, ctx)


def test_adapter_errors_get_song_config_and_call():
    with pytest.raises(ModelError, match="subprocess exited") as caught:
        accbench.simulate(
            AdapterFailure(), np.zeros(100), sample_rate=1000, future_visibility=0, chunk_frames=1, song_id="s7"
        )
    assert (caught.value.song, caught.value.call) == ("s7", 1) and "chunk_frames=1" in caught.value.config
