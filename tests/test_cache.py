"""The analysis cache and its ``@cached`` decorator: keys from bound arguments, typed round trips, nesting."""

from __future__ import annotations

import inspect
import threading

import numpy as np
import pytest
from test_metrics_signals import SR, clicks

from accbench.metrics import analysis
from accbench.metrics import cache as cache_module
from accbench.metrics.cache import AnalysisCache, audio_hash, cached, options_for, uses_cache

AUDIO = np.linspace(-0.5, 0.5, 64, dtype=np.float32).reshape(1, -1)
VERSIONS = {"toy": "1"}
CALLS: list[str] = []


def scale_helper(x: float, *, gain: float = 2.0, offset: float = 0.0) -> float:
    return gain * x + offset


@cached("toy", version=VERSIONS)
def toy(audio, sample_rate, *, label: str = "x", scale: float = 1.0) -> dict:
    CALLS.append("toy")
    return {
        "total": float(np.sum(audio)) * scale,
        "count": int(audio.size),
        "flag": True,
        "label": label,
        "series": np.arange(3, dtype=np.float32) * scale,
        "labels": np.asarray(["a", "bc"]),
    }


@cached("composite", version="1", helpers=(scale_helper,))
def composite(audio, sample_rate, **options) -> dict:
    CALLS.append("composite")
    inner = toy(audio, sample_rate)  # same audio object: the active cache and hash
    other = toy(audio * 2, sample_rate)  # other audio: its own hash
    return {"value": scale_helper(inner["total"] + other["total"], **options_for(scale_helper, options))}


@uses_cache
def dispatch(audio, sample_rate, *, which: str = "toy", **options) -> dict:
    return toy(audio, sample_rate, **options) if which == "toy" else composite(audio, sample_rate, **options)


@pytest.fixture(autouse=True)
def _fresh_calls():
    CALLS.clear()


def _types(value: dict) -> dict:
    return {
        name: (type(item), getattr(item, "dtype", None), getattr(item, "shape", None)) for name, item in value.items()
    }


def _assert_same(a: dict, b: dict) -> None:
    assert _types(a) == _types(b)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_fresh_memory_and_disk_values_have_the_same_types(tmp_path):
    cache = AnalysisCache(tmp_path)
    fresh = toy(AUDIO, SR, cache=cache)
    assert type(fresh["total"]) is float and type(fresh["count"]) is int and type(fresh["flag"]) is bool
    assert fresh["label"] == "x" and type(fresh["label"]) is str
    assert isinstance(fresh["series"], np.ndarray) and fresh["series"].dtype == np.float32
    assert fresh["labels"].dtype.kind == "U" and fresh["labels"].shape == (2,)
    memory = toy(AUDIO, SR, cache=cache)
    disk = toy(AUDIO, SR, cache=AnalysisCache(tmp_path))
    _assert_same(fresh, memory)
    _assert_same(fresh, disk)
    assert CALLS == ["toy"]
    assert cache.computed["toy"] == 1 and cache.hits["toy"] == 1
    memory["total"] = -1.0  # a caller's dict is its own
    assert toy(AUDIO, SR, cache=cache)["total"] == fresh["total"]


def test_entries_are_plain_npz_written_atomically(tmp_path):
    toy(AUDIO, SR, cache=AnalysisCache(tmp_path))
    files = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert len(files) == 1 and files[0].suffix == ".npz" and files[0].parent.parent.name == "toy"
    with np.load(files[0], allow_pickle=False) as stored:
        assert set(stored.files) == {"total", "count", "flag", "label", "series", "labels"}
        assert stored["label"].ndim == 0


def test_a_changed_default_changes_the_key_and_recomputes(monkeypatch):
    cache = AnalysisCache()
    base = toy(AUDIO, SR, cache=cache)
    monkeypatch.setattr(toy.__wrapped__, "__kwdefaults__", {"label": "x", "scale": 3.0})
    changed = toy(AUDIO, SR, cache=cache)
    assert cache.computed["toy"] == 2 and changed["total"] == pytest.approx(3.0 * base["total"])
    # The changed default and the same value passed explicitly are one key.
    monkeypatch.undo()
    explicit = toy(AUDIO, SR, cache=cache, scale=3.0)
    assert cache.computed["toy"] == 2 and explicit["total"] == changed["total"]
    toy(AUDIO, SR, cache=cache, scale=4.0)
    assert cache.computed["toy"] == 3


def test_a_changed_helper_default_changes_the_key(monkeypatch):
    cache = AnalysisCache()
    first = composite(AUDIO, SR, cache=cache)["value"]
    assert composite(AUDIO, SR, cache=cache)["value"] == first and cache.computed["composite"] == 1
    monkeypatch.setattr(scale_helper, "__kwdefaults__", {"gain": 5.0, "offset": 0.0})
    assert composite(AUDIO, SR, cache=cache)["value"] == pytest.approx(first * 2.5)
    assert cache.computed["composite"] == 2
    assert composite(AUDIO, SR, cache=cache, offset=1.0)["value"] == pytest.approx(first * 2.5 + 1.0)
    with pytest.raises(TypeError, match="unexpected option"):
        composite(AUDIO, SR, cache=cache, gian=1.0)


def test_a_version_bump_in_the_table_recomputes(monkeypatch):
    cache = AnalysisCache()
    toy(AUDIO, SR, cache=cache)
    monkeypatch.setitem(VERSIONS, "toy", "2")
    toy(AUDIO, SR, cache=cache)
    assert cache.computed["toy"] == 2
    assert cache.key("toy", "1", "h", {"a": 1}) != cache.key("toy", "2", "h", {"a": 1})


def test_nested_analyzers_share_the_cache_and_the_hash(monkeypatch):
    hashed: list[tuple] = []
    original = cache_module.audio_hash
    monkeypatch.setattr(cache_module, "audio_hash", lambda a, sr: hashed.append(a.shape) or original(a, sr))
    cache = AnalysisCache()
    composite(AUDIO, SR, cache=cache)
    # The inner call on the same audio used the explicit cache (not the default) and the outer hash;
    # the call on other audio hashed its own.
    assert cache.computed["toy"] == 2 and cache_module.default_cache().computed["toy"] == 0
    assert len(hashed) == 2
    hashed.clear()
    toy(AUDIO, SR, cache=cache, content_hash=audio_hash(AUDIO, SR))  # precomputed: not hashed again
    assert hashed == [] and cache.hits["toy"] == 1


def test_a_dispatcher_passes_the_cache_and_hash_on():
    cache = AnalysisCache()
    value = dispatch(AUDIO, SR, cache=cache, content_hash="precomputed", scale=2.0)
    assert cache.computed["toy"] == 1
    _assert_same(value, toy(AUDIO, SR, cache=cache, content_hash="precomputed", scale=2.0))
    assert cache.hits["toy"] == 1
    assert {"cache", "content_hash"} <= set(inspect.signature(dispatch).parameters)


def test_parameters_outside_the_key_must_be_declared():
    @cached("with-progress", version="1")
    def undeclared(audio, sample_rate, *, progress=print):
        return {"n": audio.size}

    with pytest.raises(TypeError, match="ignore"):
        undeclared(AUDIO, SR, cache=AnalysisCache())

    @cached("with-progress", version="1", ignore=("progress",))
    def declared(audio, sample_rate, *, progress=print):
        progress.append(1)
        return {"n": audio.size}

    cache = AnalysisCache()
    declared(AUDIO, SR, cache=cache, progress=[])
    declared(AUDIO, SR, cache=cache, progress=[])
    assert cache.computed["with-progress"] == 1 and cache.hits["with-progress"] == 1


def test_object_arrays_and_bad_analyzers_are_refused():
    @cached("objects", version="1")
    def objects(audio, sample_rate):
        return {"mixed": np.array([1, "a", None], dtype=object)}

    with pytest.raises(TypeError, match="object array"):
        objects(AUDIO, SR, cache=AnalysisCache())
    with pytest.raises(TypeError, match="must not"):
        cached("bad", version="1")(lambda audio, sample_rate, cache=None: {})
    with pytest.raises(ValueError, match="letters"):
        cached("no/slash", version="1")
    with pytest.raises(KeyError):
        cached("missing", version=VERSIONS)


def test_the_active_cache_is_per_thread():
    cache = AnalysisCache()
    seen: list = []

    @cached("probe", version="1")
    def probe(audio, sample_rate):
        seen.append(cache_module._ACTIVE.get().cache)
        return {"n": 1}

    def elsewhere():
        seen.append(cache_module._ACTIVE.get())

    @cached("outer", version="1")
    def outer(audio, sample_rate):
        thread = threading.Thread(target=elsewhere)
        thread.start()
        thread.join()
        return probe(audio, sample_rate)

    outer(AUDIO, SR, cache=cache)
    assert seen == [None, cache] and cache_module._ACTIVE.get() is None


# ----------------------------------------------------------------------------------------------------------
# The analyzers of accbench.metrics.analysis


def test_analyzer_results_have_python_scalars_on_every_path(tmp_path):
    audio, _ = clicks(120.0, 4.0)
    cache = AnalysisCache(tmp_path)
    for analyzer in (analysis.beats, analysis.key, analysis.onset_envelope, analysis.chords):
        fresh = analyzer(audio, SR, cache=cache)
        _assert_same(fresh, analyzer(audio, SR, cache=cache))
        _assert_same(fresh, analyzer(audio, SR, cache=AnalysisCache(tmp_path)))
    assert type(analysis.beats(audio, SR, cache=cache)["tempo"]) is float
    assert type(analysis.onset_envelope(audio, SR, cache=cache)["frame_rate"]) is float
    result = analysis.key(audio, SR, cache=cache)
    assert type(result["key"]) is str and type(result["correlation"]) is float


def test_beats_options_reach_the_key_and_the_helpers(monkeypatch):
    audio, _ = clicks(90.0, 6.0)
    cache = AnalysisCache()
    default = analysis.beats(audio, SR, cache=cache)
    # The defaults of estimate_tempo and track_beats are in the key: changing one recomputes.
    kwdefaults = dict(analysis.track_beats.__kwdefaults__, trim=False)
    monkeypatch.setattr(analysis.track_beats, "__kwdefaults__", kwdefaults)
    analysis.beats(audio, SR, cache=cache)
    assert cache.computed["beats"] == 2
    monkeypatch.undo()
    assert analysis.beats(audio, SR, cache=cache)["tempo"] == default["tempo"]
    assert cache.computed["beats"] == 2 and cache.hits["beats"] == 1
    analysis.beats(audio, SR, cache=cache, start_bpm=100.0, std_octaves=1.0)
    assert cache.computed["beats"] == 3
    assert cache.computed["onset_envelope"] == 1  # every beats variant reused one onset envelope
    with pytest.raises(TypeError, match="unexpected option"):
        analysis.beats(audio, SR, cache=cache, tempo=120.0)
    with pytest.raises(TypeError, match="unexpected option"):
        analysis.chords(audio, SR, cache=cache, duration_s=1.0)


def test_the_scoring_call_convention_still_works():
    audio, _ = clicks(120.0, 4.0)
    cache = AnalysisCache()
    h = audio_hash(audio.reshape(1, -1), SR)
    first = analysis.beats(audio, SR, cache=cache, content_hash=h, tracker="default")
    again = analysis.beats(audio.copy(), SR, cache=cache, content_hash=h, tracker="default")
    _assert_same(first, again)
    assert cache.computed["beats"] == 1 and cache.hits["beats"] == 1
    analysis.chords(audio, SR, cache=cache, content_hash=h, estimator="default")
    analysis.key(audio, SR, cache=cache, content_hash=h)
    assert cache.computed["chroma"] == 1 and cache.hits["chroma"] == 1


def test_analyzer_docstrings_get_the_shared_parameter_entries():
    @cached("documented", version="1")
    def documented(audio, sample_rate, *, level: float = 1.0) -> dict:
        """Summary.

        Parameters
        ----------
        level : float
            A level.

        Returns
        -------
        dict
        """
        return {}

    @uses_cache
    def no_section(audio, sample_rate) -> dict:
        """Summary.

        Returns
        -------
        dict
        """
        return {}

    def entries(function) -> list[str]:
        lines = inspect.getdoc(function).splitlines()
        return [line.split(" : ")[0] for line in lines if " : " in line and not line.startswith(" ")]

    assert entries(documented) == ["audio", "sample_rate", "level", "cache", "content_hash"]
    assert entries(no_section) == ["audio", "sample_rate", "cache", "content_hash"]
    doc = inspect.getdoc(no_section).splitlines()
    assert doc[:4] == ["Summary.", "", "Parameters", "----------"]
    assert doc[-4:] == ["", "Returns", "-------", "dict"]
    assert "    Hz of ``audio``." in doc
    assert documented.__wrapped__.__doc__.count(" : ") == 1  # the analyzer's own docstring is unchanged
    for analyzer in (analysis.beats, analysis.chords, analysis.onsets, analysis.chroma, analysis.key):
        assert entries(analyzer)[:2] == ["audio", "sample_rate"]
        assert entries(analyzer)[-2:] == ["cache", "content_hash"]
    assert uses_cache(lambda audio, sample_rate: None).__doc__ is None
