"""Score one output against its song: every beat, harmony, timing and reaction metric in one call.

:func:`score` analyses the input, the reference mix (input + reference accompaniment) and the output through
an :class:`~accbench.metrics.cache.AnalysisCache`, so scoring many outputs (configs) of one song analyses its
input and reference once. It returns :class:`Scores`: a flat ``{metric name: float}`` dict whose keys are
registry names (results-table columns), where each reference came from, and why any metric was skipped.

Reference sources (``Scores.ref_source``): beats and chords come from the song's ``annotations`` when it has
them (``"annotation"``), else from analysing the reference mix (``"reference-mix analysis"``); the
reference-free metrics (``beat.input_*``, ``harmony.chroma_agreement``, ``harmony.chord_tone_ratio``,
``harmony.key_agreement``) compare with
the input (``"input analysis"``). Metrics that need a reference are skipped without one: their value is
``nan`` and ``Scores.skipped`` says why. Nothing is faked.

Input handling, decided once here: every signal is down-mixed to mono for analysis (mono and stereo mix
freely); the output and the reference are zero-padded or trimmed to the input's length (recorded in
``Scores.notes``); NaN or infinite samples raise :class:`~accbench.errors.DataError` naming the song and the
signal; silent or constant output is scored (no beats, ``N`` chords: the floor of each metric).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from accbench.annotations import Annotations
from accbench.audio import as_channels_first
from accbench.errors import ConfigError, DataError
from accbench.metrics import analysis, beat, harmony, reaction, timing
from accbench.metrics.cache import AnalysisCache, audio_hash, default_cache
from accbench.metrics.registry import get as get_spec

__all__ = ["GROUPS", "METRICS", "Scores", "score"]

EMBEDDING = "embedding"
ANNOTATION = "annotation"
REFERENCE_MIX = "reference-mix analysis"
INPUT_ANALYSIS = "input analysis"

METRICS: dict[str, tuple[str, ...]] = {
    "beat": (
        "beat.f_measure",
        "beat.cemgil",
        "beat.p_score",
        "beat.cmlt",
        "beat.amlt",
        "beat.onset_offset_ms",
        "beat.mix_f_measure",
        "beat.mix_amlt",
        "beat.input_f_measure",
        "beat.input_amlt",
    ),
    "harmony": (
        *(f"harmony.{name}" for name in harmony.COMPARISONS),
        "harmony.chroma_agreement",
        "harmony.chord_tone_ratio",
        "harmony.key_agreement",
    ),
    "timing": (
        "timing.miss_rate",
        "timing.underrun_fraction",
        "timing.max_lateness_s",
        "timing.feasible_future_visibility_frames",
        "timing.feasible_future_visibility_ms",
        "timing.mean_recency_gap_s",
        "timing.real_time_factor",
    ),
    "reaction": (
        "reaction.chord_median_s",
        "reaction.chord_p90_s",
        "reaction.chord_unmatched",
        "reaction.beat_lock_in_s",
    ),
}
"""Metrics :func:`score` computes, by group, in column order."""

GROUPS = tuple(METRICS)
for _names in METRICS.values():
    for _name in _names:
        get_spec(_name)  # every scored metric is registered (fails at import otherwise)


@dataclass
class Scores:
    """The result of :func:`score`.

    Attributes
    ----------
    values : dict of str to float
        Metric name to value; every requested metric is present, ``nan`` when skipped.
    ref_source : dict of str to str
        Where each reference came from: ``"beats"`` and ``"chords"`` map to ``"annotation"``,
        ``"reference-mix analysis"`` or ``"none"``; ``"input"`` is ``"input analysis"``.
    skipped : dict of str to str
        Metric name to the reason it was not computed.
    info : dict of str to str
        Non-numeric facts that belong in the results row, e.g. ``embedding.embedder`` (which embedder, and
        that a spectral one is not comparable to CLAP).
    notes : list of str
        Repairs made to the inputs (padding, trimming).
    """

    values: dict[str, float] = field(default_factory=dict)
    ref_source: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    info: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, name: str) -> float:
        return self.values[name]

    def to_dict(self) -> dict[str, float | str]:
        """One flat results-table row: the metric columns, then ``ref_source``, ``ref_source_beats``,
        ``ref_source_chords``, ``skipped`` (``"metric: reason; ..."``) and ``notes``."""
        row: dict[str, float | str] = dict(self.values)
        beats, chords = self.ref_source.get("beats", "none"), self.ref_source.get("chords", "none")
        row["ref_source"] = beats if beats == chords else f"beats: {beats}; chords: {chords}"
        row["ref_source_beats"] = beats
        row["ref_source_chords"] = chords
        row["skipped"] = "; ".join(f"{name}: {reason}" for name, reason in self.skipped.items())
        row["notes"] = "; ".join(self.notes)
        row.update(self.info)
        return row


def _select(metrics: Iterable[str] | str | None) -> list[str]:
    if metrics is None:
        return [name for group in GROUPS for name in METRICS[group]]
    if isinstance(metrics, str):
        metrics = [metrics]
    chosen: list[str] = []
    for item in metrics:
        if item in METRICS:
            names = METRICS[item]
        elif any(item in names for names in METRICS.values()):
            names = (item,)
        else:
            known = ", ".join(GROUPS)
            raise ConfigError(f"unknown metric or group {item!r}; groups: {known} (names: accbench.metrics.registry())")
        chosen.extend(name for name in names if name not in chosen)
    return chosen


def _fit(audio: np.ndarray, n_samples: int, name: str, notes: list[str]) -> np.ndarray:
    if audio.shape[1] < n_samples:
        notes.append(f"{name} padded with {n_samples - audio.shape[1]} zero samples to the input's length")
        return np.pad(audio, ((0, 0), (0, n_samples - audio.shape[1])))
    if audio.shape[1] > n_samples:
        notes.append(f"{name} trimmed by {audio.shape[1] - n_samples} samples to the input's length")
        return np.ascontiguousarray(audio[:, :n_samples])
    return audio


def _checked(audio, name: str, song: str | None) -> np.ndarray:
    array = as_channels_first(audio, name=name, song=song)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} audio contains NaN or infinite samples", song=song)
    return array


class _Signal:
    """One audio signal with lazily computed, cached analyses."""

    def __init__(
        self, audio: np.ndarray, sample_rate: int, cache: AnalysisCache, beat_tracker: str, chord_estimator: str
    ) -> None:
        self.audio = audio
        self.sample_rate = sample_rate
        self.cache = cache
        self.beat_tracker = beat_tracker
        self.chord_estimator = chord_estimator
        self.hash = audio_hash(audio, sample_rate)
        self._results: dict[str, dict[str, np.ndarray]] = {}

    def get(self, analyzer: Callable[..., dict[str, np.ndarray]], **options: str) -> dict[str, np.ndarray]:
        name = f"{analyzer.__name__}{sorted(options.items())}"
        if name not in self._results:
            self._results[name] = analyzer(
                self.audio, self.sample_rate, cache=self.cache, content_hash=self.hash, **options
            )
        return self._results[name]

    def beats(self) -> np.ndarray:
        return self.get(analysis.beats, tracker=self.beat_tracker)["beats"]

    def chords(self) -> tuple[np.ndarray, list[str]]:
        result = self.get(analysis.chords, estimator=self.chord_estimator)
        return result["intervals"].reshape(-1, 2), [str(label) for label in result["labels"]]


def _mono_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mix = a.mean(axis=0, dtype=np.float64) + b.mean(axis=0, dtype=np.float64)
    return mix.astype(np.float32)[np.newaxis, :]


def score(
    input_audio: np.ndarray,
    output_audio: np.ndarray,
    *,
    sample_rate: int,
    reference: np.ndarray | None = None,
    annotations: Annotations | None = None,
    events: pd.DataFrame | None = None,
    metrics: Iterable[str] | str | None = None,
    cache: AnalysisCache | None = None,
    song: str | None = None,
    beat_tracker: str = "default",
    chord_estimator: str = "default",
    embedding: Mapping[str, Any] | None = None,
) -> Scores:
    """Score one output of one song.

    Parameters
    ----------
    input_audio : ndarray, shape (channels, n_samples) or (n_samples,)
        The input the model played along with.
    output_audio : ndarray, shape (channels, m) or (m,)
        The model's rendered output; padded or trimmed to ``n_samples``.
    sample_rate : int
        Hz of all three signals.
    reference : ndarray or None
        The reference accompaniment, same sample rate; without it and without annotations, reference metrics
        are skipped.
    annotations : Annotations or None
        Ground-truth beats and chords (seconds); preferred over analysing the reference mix.
    events : pandas.DataFrame or None
        The simulator's event log (for ``timing``); ``timing`` is skipped without it.
    metrics : iterable of str or None
        Groups (``"beat"``, ``"harmony"``, ``"timing"``, ``"reaction"``, ``"embedding"``) and/or metric names;
        default: all groups except ``"embedding"``, which must be asked for (it runs a neural embedder when a
        CLAP model is configured).
    cache : AnalysisCache or None
        Default :func:`~accbench.metrics.cache.default_cache`.
    song : str or None
        Song id for error messages.
    embedding : mapping or None
        Options of :func:`accbench.metrics.embedding.evaluate` when ``"embedding"`` is requested: ``embedder``
        (``"auto"``, ``"clap"``, ``"spectral"``), ``window_s``, ``hop_s`` and embedder options (``model``,
        ``device``, ``batch_size``, ``threads``).
    beat_tracker : {"default", "madmom"}
        Beat tracker for every beat analysis (see :func:`accbench.metrics.analysis.beats`).
    chord_estimator : {"default", "madmom"}
        Chord estimator for every chord analysis (see :func:`accbench.metrics.analysis.chords`).

    Returns
    -------
    Scores

    Raises
    ------
    DataError
        Non-finite samples, an empty input or a non-positive sample rate.
    ConfigError
        An unknown metric or group name.

    Examples
    --------
    >>> sr = 22050
    >>> x = np.zeros(sr * 4, dtype=np.float32)
    >>> result = score(x, x, sample_rate=sr, metrics=["beat"], cache=AnalysisCache())
    >>> result.skipped["beat.f_measure"]
    'no reference: neither reference audio nor beat annotations'
    """
    requested = [metrics] if isinstance(metrics, str) else (None if metrics is None else list(metrics))
    want_embedding = requested is not None and EMBEDDING in requested
    if want_embedding:
        requested = [item for item in requested if item != EMBEDDING]
    chosen = _select(requested) if requested or not want_embedding else []
    cache = default_cache() if cache is None else cache
    if int(sample_rate) <= 0:
        raise DataError(f"sample rate must be positive, got {sample_rate}", song=song)
    sample_rate = int(sample_rate)
    x = _checked(input_audio, "input", song)
    if x.shape[1] == 0:
        raise DataError("input audio has no samples", song=song)
    result = Scores()
    y = _fit(_checked(output_audio, "output", song), x.shape[1], "output", result.notes)
    r = (
        None
        if reference is None
        else _fit(_checked(reference, "reference", song), x.shape[1], "reference", result.notes)
    )

    if beat_tracker not in analysis.BEAT_TRACKERS:
        raise ConfigError(f"unknown beat tracker {beat_tracker!r}; known: {', '.join(analysis.BEAT_TRACKERS)}")
    if chord_estimator not in analysis.CHORD_ESTIMATORS:
        known = ", ".join(analysis.CHORD_ESTIMATORS)
        raise ConfigError(f"unknown chord estimator {chord_estimator!r}; known: {known}")
    backends = (cache, beat_tracker, chord_estimator)
    inp = _Signal(x, sample_rate, *backends)
    out = _Signal(y, sample_rate, *backends)
    mix_out = _Signal(_mono_sum(x, y), sample_rate, *backends)
    mix_ref = None if r is None else _Signal(_mono_sum(x, r), sample_rate, *backends)

    ann = annotations
    if ann is not None and ann.has_beats:
        beat_source = ANNOTATION
    elif mix_ref is not None:
        beat_source = REFERENCE_MIX
    else:
        beat_source = "none"
    if ann is not None and ann.has_chords:
        chord_source = ANNOTATION
    elif mix_ref is not None:
        chord_source = REFERENCE_MIX
    else:
        chord_source = "none"
    result.ref_source = {"beats": beat_source, "chords": chord_source, "input": INPUT_ANALYSIS}

    def reference_beats() -> tuple[np.ndarray | None, str]:
        if beat_source == ANNOTATION:
            return ann.beats, ""
        if beat_source == REFERENCE_MIX:
            found = mix_ref.beats()
            return (found, "") if found.size else (None, "no beats found in the reference mix")
        return None, "no reference: neither reference audio nor beat annotations"

    def reference_chords() -> tuple[tuple[np.ndarray, list[str]] | None, str]:
        if chord_source == ANNOTATION:
            segments = (ann.chord_intervals, list(ann.chord_labels))
        elif chord_source == REFERENCE_MIX:
            segments = mix_ref.chords()
        else:
            return None, "no reference: neither reference audio nor chord annotations"
        if all(label == "N" for label in segments[1]):
            return None, f"reference chords ({chord_source}) are all 'N'"
        return segments, ""

    values: dict[str, float] = {}
    skipped: dict[str, str] = {}

    def put(prefix: str, scores: dict[str, float], reasons: dict[str, str] | None = None) -> None:
        for name, value in scores.items():
            values[f"{prefix}.{name}"] = float(value)
        for name, reason in (reasons or {}).items():
            skipped[f"{prefix}.{name}"] = reason

    def skip(names: Iterable[str], reason: str) -> None:
        for name in names:
            values[name] = math.nan
            skipped[name] = reason

    wanted = set(chosen)
    groups = {name.split(".", 1)[0] for name in chosen}

    if "beat" in groups:
        core = [f"beat.{n}" for n in ("f_measure", "cemgil", "p_score", "cmlt", "amlt", "onset_offset_ms")]
        if wanted & {*core, "beat.mix_f_measure", "beat.mix_amlt"}:
            ref_beats, reason = reference_beats()
            if ref_beats is None:
                skip([*core, "beat.mix_f_measure", "beat.mix_amlt"], reason)
            else:
                scores = beat.evaluate(ref_beats, out.beats(), estimated_onsets=out.get(analysis.onsets)["onsets"])
                reasons = {}
                if math.isnan(scores["onset_offset_ms"]):
                    reasons["onset_offset_ms"] = "no output onset near a reference beat"
                put("beat", scores, reasons)
                if wanted & {"beat.mix_f_measure", "beat.mix_amlt"}:
                    mixed = beat.evaluate(ref_beats, mix_out.beats())
                    put("beat", {"mix_f_measure": mixed["f_measure"], "mix_amlt": mixed["amlt"]})
        if wanted & {"beat.input_f_measure", "beat.input_amlt"}:
            input_beats = inp.beats()
            if input_beats.size == 0:
                skip(["beat.input_f_measure", "beat.input_amlt"], "no beats found in the input")
            else:
                own = beat.evaluate(input_beats, out.beats())
                put("beat", {"input_f_measure": own["f_measure"], "input_amlt": own["amlt"]})

    if "harmony" in groups:
        chord_names = [f"harmony.{n}" for n in harmony.COMPARISONS]
        if wanted & set(chord_names):
            segments, reason = reference_chords()
            if segments is None:
                skip(chord_names, reason)
            else:
                scores = harmony.evaluate(*segments, *out.chords())
                reasons = {
                    n: "no reference segment comparable under this rule" for n, v in scores.items() if math.isnan(v)
                }
                put("harmony", scores, reasons)
        if "harmony.chroma_agreement" in wanted:
            a, b = inp.get(analysis.chroma), out.get(analysis.chroma)
            period = float(a["times"][1] - a["times"][0]) if a["times"].size > 1 else 1.0
            value = harmony.chroma_agreement(a["chroma"], b["chroma"], frame_period_s=period)
            put(
                "harmony",
                {"chroma_agreement": value},
                {"chroma_agreement": "the input is silent"} if math.isnan(value) else None,
            )
        if "harmony.chord_tone_ratio" in wanted:
            a = inp.get(analysis.chroma)
            value = harmony.chord_tone_ratio(a["chroma"], a["times"], *out.chords())
            reason = {"chord_tone_ratio": "the input is silent"} if math.isnan(value) else None
            put("harmony", {"chord_tone_ratio": value}, reason)
        if "harmony.key_agreement" in wanted:
            input_key = str(inp.get(analysis.key)["key"])
            value = harmony.key_agreement(input_key, str(out.get(analysis.key)["key"]))
            put(
                "harmony",
                {"key_agreement": value},
                {"key_agreement": "the input has no key (silent)"} if math.isnan(value) else None,
            )

    if "timing" in groups:
        if events is None:
            skip(METRICS["timing"], "no event log")
        else:
            scores = timing.evaluate(events)
            reasons = {}
            if math.isnan(scores["feasible_future_visibility_frames"]):
                reason = "slower than real time: no feasible future visibility"
                reasons = {"feasible_future_visibility_frames": reason, "feasible_future_visibility_ms": reason}
            if math.isnan(scores["max_lateness_s"]):
                reasons["max_lateness_s"] = "the event log is empty"
            put("timing", scores, reasons)

    if "reaction" in groups:
        chord_names = ["reaction.chord_median_s", "reaction.chord_p90_s", "reaction.chord_unmatched"]
        if wanted & set(chord_names):
            segments, reason = reference_chords()
            if segments is None:
                skip(chord_names, reason)
            else:
                scores = reaction.evaluate(*segments, *out.chords())
                reasons = {n: "no chord change in the reference" for n, v in scores.items() if math.isnan(v)}
                put("reaction", scores, reasons)
        if "reaction.beat_lock_in_s" in wanted:
            ref_beats, reason = reference_beats()
            if ref_beats is None:
                skip(["reaction.beat_lock_in_s"], reason)
            else:
                value = reaction.beat_lock_in(ref_beats, out.beats())
                put(
                    "reaction",
                    {"beat_lock_in_s": value},
                    {"beat_lock_in_s": "fewer than 4 reference beats"} if math.isnan(value) else None,
                )

    result.values = {name: values.get(name, math.nan) for name in chosen}
    result.skipped = {name: skipped[name] for name in chosen if name in skipped}
    if want_embedding:
        from accbench.metrics import embedding as embedding_metrics

        found = embedding_metrics.evaluate(
            x, y, sample_rate, reference=r, cache=cache, song=song, **dict(embedding or {})
        )
        reason = str(found.pop("embedding.skipped", ""))
        result.info["embedding.embedder"] = str(found.pop("embedding.embedder", ""))
        for name, value in found.items():
            result.values[name] = float(value)
            if math.isnan(float(value)) and reason:
                result.skipped[name] = reason
    return result
