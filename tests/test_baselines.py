"""The built-in baselines play what docs/design.md ("Model protocol") says they play."""

from __future__ import annotations

import numpy as np
import pytest

import accbench
from accbench.models.baselines import OracleDelayed

SR, HOP = 8000, 80


def song(seed, n=8000):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(n).astype(np.float32), rng.standard_normal(n).astype(np.float32)


def run(model, x, reference=None, **kwargs):
    options = {"sample_rate": SR, "hop": HOP, **kwargs.pop("model_options", {})}
    return accbench.simulate(model, x, reference=reference, sample_rate=SR, model_options=options, **kwargs)


def test_silence_is_silent_and_causal():
    x, _ = song(0)
    result = run("silence", x, future_visibility=0, chunk_frames=3)
    assert not result.output.any() and result.model.causal


def test_oracle_plays_the_reference_and_is_marked_non_causal():
    x, ref = song(1)
    result = run("oracle", x, ref, future_visibility=-5, chunk_frames=3)
    np.testing.assert_array_equal(result.output[0], ref)
    assert not result.model.causal


@pytest.mark.parametrize(("future_visibility", "chunk_frames"), [(-10, 4), (0, 1), (0, 7), (3, 2), (8, 2), (2, 1)])
def test_oracle_delayed_plays_the_reference_shifted_by_the_visibility_cost(future_visibility, chunk_frames):
    x, ref = song(2)
    result = run(
        "oracle-delayed", x, ref, future_visibility=future_visibility, chunk_frames=chunk_frames, on_miss="ignore"
    )
    delay = OracleDelayed.delay_samples(future_visibility, chunk_frames, HOP)
    assert delay == max(0, (chunk_frames - future_visibility) * HOP)
    expected = np.zeros_like(ref)
    expected[delay:] = ref[: len(ref) - delay]
    np.testing.assert_array_equal(result.output[0], expected)
    assert result.model.causal


def test_oracle_delayed_gets_the_reference_only_as_it_becomes_visible():
    seen = []

    class Spy(OracleDelayed):
        def step(self, new_input, ctx):
            seen.append((ctx.visible_end, ctx.new_reference.shape[1], new_input.shape[1]))
            return super().step(new_input, ctx)

    x, ref = song(3, 1000)
    run(Spy(SR, HOP), x, ref, future_visibility=-2, chunk_frames=2)
    previous = 0
    for visible_end, n_reference, n_input in seen:
        assert n_reference == n_input == visible_end - previous
        previous = visible_end


def test_mismatch_plays_another_songs_accompaniment():
    x, ref_a = song(4)
    _, ref_b = song(5)
    _, ref_c = song(6, 4000)
    pool = {"a": ref_a, "b": ref_b, "c": ref_c}
    result = run(
        "mismatch", x, song_id="a", future_visibility=0, chunk_frames=2, model_options={"accompaniments": pool}
    )
    np.testing.assert_array_equal(result.output[0], ref_b)
    result = run(
        "mismatch", x, song_id="c", future_visibility=0, chunk_frames=2, model_options={"accompaniments": pool}
    )
    np.testing.assert_array_equal(result.output[0], ref_a)
    short = run("mismatch", x, song_id="b", future_visibility=0, chunk_frames=2, model_options={"accompaniments": pool})
    np.testing.assert_array_equal(short.output[0, :4000], ref_c)
    assert not short.output[0, 4000:].any()


def test_mismatch_without_a_source_is_a_clear_error():
    with pytest.raises(accbench.ModelError, match="mismatch needs another song"):
        accbench.load_model("mismatch")


def test_load_model_accepts_factory_paths_and_rejects_non_models():
    model = accbench.load_model("accbench.models.baselines:Silence", sample_rate=SR, hop=HOP)
    assert model.info.name == "silence"
    with pytest.raises(accbench.ModelError, match="not a streaming model"):
        accbench.load_model("collections:OrderedDict")
    with pytest.raises(accbench.ModelError, match="cannot import module 'no_such_pkg.mod'"):
        accbench.load_model("no_such_pkg.mod:factory")
    with pytest.raises(accbench.ModelError, match="factory raised TypeError"):
        accbench.load_model("silence", colour="blue")
    assert {"silence", "oracle", "oracle-delayed", "mismatch", "follower"} <= set(accbench.available_models())
