"""Score one output against its song: every beat, harmony, timing, reaction (and embedding) metric in one call.

:func:`score` analyses the input, the reference mix (input + reference accompaniment) and the output through
an :class:`~accbench.metrics.cache.AnalysisCache`, so scoring many outputs (configs) of one song analyses its
input and reference once. It returns :class:`Scores`: a read-only mapping ``{metric name: float}`` whose keys
are registry names (results-table columns), plus where each reference came from and why any metric was
skipped.

Give it a :class:`~accbench.simulators.SimulationResult` (``score(result, annotations=...)``): the input,
output, reference, event log and sample rate then come from the simulation, at the model's rate, so rates and
lengths always match. The array form ``score(input, output, sample_rate=..., reference=...)`` is for audio
from elsewhere (files, other tools); its signals must have the input's length unless ``fit="pad"`` asks for
the old repair (zero-pad or trim to the input's length, recorded in ``Scores.notes``).

Reference sources (``Scores.ref_source``): beats and chords come from the song's ``annotations`` when it has
them (``"annotation"``), else from analysing the reference mix (``"reference-mix analysis"``); the
reference-free metrics (``beat.input_*``, ``harmony.chroma_agreement``, ``harmony.chord_tone_ratio``,
``harmony.key_agreement``) compare with the input (``"input analysis"``). Metrics that need a reference are
skipped without one: their value is ``nan`` and ``Scores.skipped`` says why. Nothing is faked.

Input handling, decided once here: every signal is down-mixed to mono before analysis (mono and stereo mix
freely, and a channel-matched copy of an input hits the same cache entries as the original); NaN or infinite
samples raise :class:`~accbench.errors.DataError` naming the song and the signal; silent or constant output
is scored (no beats, ``N`` chords: the floor of each metric).

Metric groups. Each group is a :class:`~accbench.metrics.registry.MetricGroup` declared at the end of its own
metric module (``beat.GROUP``, ``harmony.GROUP``, ...): the metrics it fills, what each needs (see
:data:`~accbench.metrics.registry.NEEDS`) and an ``evaluate(song, wanted)`` that reads the song's cached
analyses from a :class:`SongAnalyses`. :data:`GROUP_LIST` below is the one list of groups (it lives here, not in
``registry.py``, because the metric modules import the registry: the registry cannot import them back). Adding
a group is one module plus one line in :data:`GROUP_LIST`; for example a COCOLA coherence group::

    # metrics/cocola.py
    from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register

    register(MetricSpec("cocola.score", "higher", "", (0.0, 1.0), "COCOLA coherence of input and output"))

    def _score_group(song, wanted):
        found = GroupScores()
        found.put("cocola.score", cocola(song.input.audio, song.output.audio, song.sample_rate))
        return found

    GROUP = MetricGroup("cocola", ("cocola.score",), {"input": ("cocola.score",), "output": ("cocola.score",)},
                        _score_group)

    # metrics/scoring.py
    GROUP_LIST = (beat.GROUP, harmony.GROUP, timing.GROUP, reaction.GROUP, embedding.GROUP, cocola.GROUP)

A group whose metric needs reference beats (a Beat This alignment score, say) lists it under
``"reference_beats"`` and reads ``song.reference_beats()``; :func:`score` resolves the source and skips it,
with the reason, when there is none.
"""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, InitVar, dataclass, field
from types import MappingProxyType
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from accbench.annotations import Annotations
from accbench.audio import as_channels_first, match_channels
from accbench.errors import ConfigError, DataError
from accbench.metrics import analysis, beat, cocola, embedding, harmony, reaction, timing
from accbench.metrics.cache import AnalysisCache, audio_hash, default_cache
from accbench.metrics.registry import GroupScores, MetricGroup
from accbench.suggest import did_you_mean

__all__ = [
    "GROUPS",
    "GROUP_BY_NAME",
    "GROUP_LIST",
    "METRICS",
    "AnalysedSignal",
    "Scores",
    "SimulatedSong",
    "SongAnalyses",
    "score",
]

ANNOTATION = "annotation"
REFERENCE_MIX = "reference-mix analysis"
INPUT_ANALYSIS = "input analysis"
NO_SOURCE = "none"
FITS = ("exact", "pad")

GROUP_LIST: tuple[MetricGroup, ...] = (
    beat.GROUP,
    harmony.GROUP,
    timing.GROUP,
    reaction.GROUP,
    embedding.GROUP,
    cocola.GROUP,
)
"""Every metric group :func:`score` runs, in results-column order (the registry line: add a group here)."""

METRICS: dict[str, tuple[str, ...]] = {group.name: group.metrics for group in GROUP_LIST if not group.opt_in}
"""Metrics :func:`score` computes by default, by group, in column order."""

GROUPS = tuple(METRICS)
"""The default groups (the opt-in ``embedding`` group must be asked for)."""

GROUP_BY_NAME = {group.name: group for group in GROUP_LIST}
"""Every group of :data:`GROUP_LIST` by its name."""


class _ReadOnlyMetrics(Mapping[str, float]):
    """A read-only mapping of metric name to value over ``self._data`` (the base of both classes below)."""

    __slots__ = ("_data",)
    _data: Mapping[str, float]

    def __getitem__(self, name: str) -> float:
        return self._data[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class _MetricValues(_ReadOnlyMetrics):
    """``Scores.values``: the same read-only mapping as the :class:`Scores` itself, also callable.

    ``scores.values["beat.f_measure"]`` and ``scores.values.items()`` (the attribute of earlier versions) and
    ``scores.values()`` (the :class:`~collections.abc.Mapping` method: a view of the floats) all work.
    """

    __slots__ = ()

    def __init__(self, data: Mapping[str, float]) -> None:
        self._data = data

    def __call__(self):
        return self._data.values()

    def __repr__(self) -> str:
        return repr(dict(self._data))


class Scores(_ReadOnlyMetrics):
    """The result of :func:`score`: a read-only mapping of metric name to value, with facts about the scoring.

    Iterate it, index it, ``len`` it, test ``name in scores``, call ``.items()``, ``.keys()``, ``.values()``;
    every requested metric is present (``nan`` when skipped). Nothing can be assigned (``TypeError`` for items,
    ``AttributeError`` for attributes).

    Attributes
    ----------
    values : mapping of str to float
        The same mapping (kept for code written when ``Scores.values`` was a dict attribute); also callable,
        ``scores.values()`` being the Mapping method.
    ref_source : mapping of str to str
        Where each reference came from: ``"beats"`` and ``"chords"`` map to ``"annotation"``,
        ``"reference-mix analysis"`` or ``"none"``; ``"input"`` is ``"input analysis"``.
    skipped : mapping of str to str
        Metric name to the reason it was not computed.
    notes : tuple of str
        Repairs made to the inputs (``fit="pad"``: padding, trimming).
    info : mapping of str to str
        Non-numeric facts that belong in the results row, e.g. ``embedding.embedder`` (which embedder, and
        that a spectral one is not comparable to CLAP).
    """

    __slots__ = ("info", "notes", "ref_source", "skipped")

    def __init__(
        self,
        values: Mapping[str, float] | None = None,
        *,
        ref_source: Mapping[str, str] | None = None,
        skipped: Mapping[str, str] | None = None,
        notes: Iterable[str] = (),
        info: Mapping[str, str] | None = None,
    ) -> None:
        fields = {
            "_data": MappingProxyType({name: float(value) for name, value in (values or {}).items()}),
            "ref_source": MappingProxyType(dict(ref_source or {})),
            "skipped": MappingProxyType(dict(skipped or {})),
            "notes": tuple(notes),
            "info": MappingProxyType(dict(info or {})),
        }
        for name, value in fields.items():
            object.__setattr__(self, name, value)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"Scores is read-only: cannot set {name!r}")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"Scores is read-only: cannot delete {name!r}")

    @property
    def values(self) -> _MetricValues:  # type: ignore[override]
        """The metric mapping; ``scores.values()`` is the Mapping method (a view of the floats)."""
        return _MetricValues(self._data)

    def __repr__(self) -> str:
        return f"Scores({dict(self._data)!r}, ref_source={dict(self.ref_source)!r}, skipped={dict(self.skipped)!r})"

    def __reduce__(self) -> tuple:
        parts = (dict(self._data), dict(self.ref_source), dict(self.skipped), self.notes, dict(self.info))
        return _rebuild_scores, parts

    def to_dict(self) -> dict[str, float | str]:
        """One flat results-table row: the metric columns, then ``ref_source``, ``ref_source_beats``,
        ``ref_source_chords``, ``skipped`` (``"metric: reason; ..."``), ``notes`` and the info facts."""
        row: dict[str, float | str] = dict(self._data)
        beats, chords = self.ref_source.get("beats", NO_SOURCE), self.ref_source.get("chords", NO_SOURCE)
        row["ref_source"] = beats if beats == chords else f"beats: {beats}; chords: {chords}"
        row["ref_source_beats"] = beats
        row["ref_source_chords"] = chords
        row["skipped"] = "; ".join(f"{name}: {reason}" for name, reason in self.skipped.items())
        row["notes"] = "; ".join(self.notes)
        row.update(self.info)
        return row


def _rebuild_scores(values, ref_source, skipped, notes, info) -> Scores:
    """Unpickle a :class:`Scores` (its mapping proxies do not pickle themselves)."""
    return Scores(values, ref_source=ref_source, skipped=skipped, notes=notes, info=info)


@runtime_checkable
class SimulatedSong(Protocol):
    """What :func:`score` reads from a :class:`~accbench.simulators.SimulationResult` (duck-typed: the metrics
    never import the simulator). ``reference`` (the reference at the model's rate, or ``None``) is optional."""

    input: np.ndarray
    output: np.ndarray
    sample_rate: int
    events: pd.DataFrame
    song_id: str


def _unknown_metric(item: str) -> ConfigError:
    """The error for a name that is neither a group (opt-in ``embedding`` included) nor a default metric."""
    names = [*GROUP_BY_NAME, *(name for names in METRICS.values() for name in names)]
    known = ", ".join(GROUP_BY_NAME)
    return ConfigError(
        f"unknown metric or group {item!r}{did_you_mean(item, names)}; groups: {known} "
        "(names: accbench.metrics.registry())"
    )


def _select(metrics: Iterable[str] | str | None) -> tuple[list[str], list[MetricGroup]]:
    """The requested default-group metric names (in order) and the requested opt-in groups."""
    if metrics is None:
        return [name for names in METRICS.values() for name in names], []
    items = [metrics] if isinstance(metrics, str) else list(metrics)
    chosen: list[str] = []
    opted: list[MetricGroup] = []
    for item in items:
        group = GROUP_BY_NAME.get(item)
        if group is not None and group.opt_in:
            opted += [] if group in opted else [group]
            continue
        if group is not None:
            names = group.metrics
        elif any(item in names for names in METRICS.values()):
            names = (item,)
        else:
            raise _unknown_metric(item)
        chosen.extend(name for name in names if name not in chosen)
    return chosen, opted


def _mono(audio: Any, name: str, song: str | None) -> np.ndarray:
    """A checked float32 mono ``(1, n)`` version of ``audio`` (:func:`accbench.audio.match_channels`, the down-mix
    :func:`analysis.prepare` uses)."""
    array = as_channels_first(audio, name=name, song=song)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} audio contains NaN or infinite samples", song=song)
    return match_channels(array, 1)


def _fit(
    audio: np.ndarray, n_samples: int, name: str, sample_rate: int, fit: str, song: str | None
) -> tuple[np.ndarray, str | None]:
    """``audio`` at the input's length: exact (else a DataError with a hint), or padded/trimmed with a note."""
    have = audio.shape[1]
    if have == n_samples:
        return audio, None
    if fit != "pad":
        raise DataError(
            f"{name} has {have} samples but input has {n_samples} (both read as {sample_rate} Hz); did you score "
            "a SimulationResult's output at the input's rate? pass the SimulationResult itself: "
            "score(result, ...); to pad or trim on purpose pass fit='pad'",
            song=song,
        )
    if have < n_samples:
        padded = np.pad(audio, ((0, 0), (0, n_samples - have)))
        return padded, f"{name} padded with {n_samples - have} zero samples to the input's length"
    trimmed = np.ascontiguousarray(audio[:, :n_samples])
    return trimmed, f"{name} trimmed by {have - n_samples} samples to the input's length"


class AnalysedSignal:
    """One mono signal with lazily computed, cached analyses (the analyzers' call convention:
    ``analyzer(audio, sample_rate, cache=..., content_hash=..., **options)``)."""

    def __init__(self, audio: np.ndarray, sample_rate: int, cache: AnalysisCache, backends: Mapping[str, str]) -> None:
        self.audio = audio
        self.sample_rate = sample_rate
        self.cache = cache
        self.backends = backends
        self.hash = audio_hash(audio, sample_rate)
        self._results: dict[str, Mapping[str, Any]] = {}

    def get(self, analyzer: Any, **options: str) -> Mapping[str, Any]:
        """The analyzer's result dict (values may be arrays or, from a decorated analyzer, Python scalars)."""
        name = f"{getattr(analyzer, '__name__', repr(analyzer))}{sorted(options.items())}"
        if name not in self._results:
            self._results[name] = analyzer(
                self.audio, self.sample_rate, cache=self.cache, content_hash=self.hash, **options
            )
        return self._results[name]

    def beats(self) -> np.ndarray:
        """Beat times, seconds, float64 ``(n,)``."""
        options = {"tracker": self.backends["beat_tracker"]}
        if options["tracker"] == "beat-this":
            options["checkpoint"] = self.backends["beat_this_checkpoint"]
        found = self.get(analysis.beats, **options)["beats"]
        return np.asarray(found, dtype=np.float64).reshape(-1)

    def onsets(self) -> np.ndarray:
        """Onset times, seconds, float64 ``(n,)``."""
        return np.asarray(self.get(analysis.onsets)["onsets"], dtype=np.float64).reshape(-1)

    def chords(self) -> tuple[np.ndarray, list[str]]:
        """Chord segments: ``(n, 2)`` float64 seconds and mir_eval labels."""
        result = self.get(analysis.chords, estimator=self.backends["chord_estimator"])
        intervals = np.asarray(result["intervals"], dtype=np.float64).reshape(-1, 2)
        return intervals, [str(label) for label in np.asarray(result["labels"]).reshape(-1)]

    def chroma(self) -> tuple[np.ndarray, np.ndarray]:
        """Chroma ``(12, n_frames)`` and frame times (seconds, ``(n_frames,)``)."""
        result = self.get(analysis.chroma)
        return np.asarray(result["chroma"]), np.asarray(result["times"], dtype=np.float64).reshape(-1)

    def key(self) -> str:
        """The mir_eval key (``"X"`` for silence)."""
        return str(np.asarray(self.get(analysis.key)["key"]))


def _mono_sum(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    mix = a.mean(axis=0, dtype=np.float64) + b.mean(axis=0, dtype=np.float64)
    return mix.astype(np.float32)[np.newaxis, :]


@dataclass(eq=False)
class SongAnalyses:
    """What a group's ``evaluate`` reads: one song's mono signals, their cached analyses and its references.

    Built from ``signals`` (the checked mono ``"input"``, ``"output"`` and optional ``"reference"`` arrays)
    and the fields below.

    Attributes
    ----------
    input, output : AnalysedSignal
        The input and the output: ``.audio`` (float32 ``(1, n)`` at ``sample_rate``), ``.beats()``,
        ``.onsets()``, ``.chords()``, ``.chroma()``, ``.key()``.
    reference : AnalysedSignal or None
        The reference accompaniment, when given.
    output_mix, reference_mix : AnalysedSignal (reference_mix: or None)
        Input + output and input + reference.
    sample_rate : int
        Hz of every signal.
    events : DataFrame or None
        The event log.
    annotations : Annotations or None
    cache : AnalysisCache
    song : str or None
        Song id for messages.
    backends : mapping of str to str
        ``"beat_tracker"`` and ``"chord_estimator"`` of every analysis (with Beat This also
        ``"beat_this_checkpoint"``, the file, and ``"beat_this_sha256"``, its digest).
    options : mapping
        Per-group options, e.g. ``options["embedding"]`` for the embedding group.
    ref_source : dict of str to str
        The resolver's choice of reference sources (see the module docstring).
    """

    signals: InitVar[Mapping[str, np.ndarray | None]]
    sample_rate: int
    _: KW_ONLY
    annotations: Annotations | None
    events: pd.DataFrame | None
    cache: AnalysisCache
    song: str | None
    backends: Mapping[str, str]
    options: Mapping[str, Any]
    input: AnalysedSignal = field(init=False)
    output: AnalysedSignal = field(init=False)
    reference: AnalysedSignal | None = field(init=False)
    ref_source: dict[str, str] = field(init=False)

    def __post_init__(self, signals: Mapping[str, np.ndarray | None]) -> None:
        self.input = self._signal(signals["input"])
        self.output = self._signal(signals["output"])
        reference = signals.get("reference")
        self.reference = None if reference is None else self._signal(reference)
        annotations = self.annotations
        self.ref_source = {
            "beats": self._source(annotations is not None and annotations.has_beats),
            "chords": self._source(annotations is not None and annotations.has_chords),
            "input": INPUT_ANALYSIS,
        }

    def _signal(self, audio: np.ndarray) -> AnalysedSignal:
        return AnalysedSignal(audio, self.sample_rate, self.cache, self.backends)

    def _source(self, annotated: bool) -> str:
        if annotated:
            return ANNOTATION
        return REFERENCE_MIX if self.reference is not None else NO_SOURCE

    @functools.cached_property
    def output_mix(self) -> AnalysedSignal:
        """Input + output, mono."""
        return self._signal(_mono_sum(self.input.audio, self.output.audio))

    @functools.cached_property
    def reference_mix(self) -> AnalysedSignal | None:
        """Input + reference, mono; ``None`` without a reference."""
        return None if self.reference is None else self._signal(_mono_sum(self.input.audio, self.reference.audio))

    @functools.cached_property
    def _reference_beats(self) -> tuple[np.ndarray | None, str]:
        source = self.ref_source["beats"]
        if source == ANNOTATION:
            return np.asarray(self.annotations.beats, dtype=np.float64), ""
        if source == REFERENCE_MIX:
            found = self.reference_mix.beats()
            return (found, "") if found.size else (None, "no beats found in the reference mix")
        return None, "no reference: neither reference audio nor beat annotations"

    @functools.cached_property
    def _reference_chords(self) -> tuple[tuple[np.ndarray, list[str]] | None, str]:
        source = self.ref_source["chords"]
        if source == ANNOTATION:
            segments = (np.asarray(self.annotations.chord_intervals), list(self.annotations.chord_labels))
        elif source == REFERENCE_MIX:
            segments = self.reference_mix.chords()
        else:
            return None, "no reference: neither reference audio nor chord annotations"
        if all(label == "N" for label in segments[1]):
            return None, f"reference chords ({source}) are all 'N'"
        return segments, ""

    def missing(self, need: str) -> str:
        """Why ``need`` cannot be met for this song, or ``""`` when it can (resolving it on first use)."""
        if need == "reference_beats":
            return self._reference_beats[1]
        if need == "reference_chords":
            return self._reference_chords[1]
        if need == "events":
            return "" if self.events is not None else "no event log"
        return ""

    def reference_beats(self) -> np.ndarray:
        """Reference beat times (seconds) from the resolved source; only for metrics that list the need."""
        found, reason = self._reference_beats
        if found is None:
            raise LookupError(reason)
        return found

    def reference_chords(self) -> tuple[np.ndarray, list[str]]:
        """Reference chord segments from the resolved source; only for metrics that list the need."""
        found, reason = self._reference_chords
        if found is None:
            raise LookupError(reason)
        return found


def _run_group(group: MetricGroup, song: SongAnalyses, wanted: list[str]) -> GroupScores:
    """Skip the wanted metrics whose needs are missing (with the resolver's reason), evaluate the rest."""
    found = GroupScores()
    able = list(wanted)
    for need, names in group.needs.items():
        listed = [name for name in able if name in names]
        reason = song.missing(need) if listed else ""
        if reason:
            found.skip(listed, reason)
            able = [name for name in able if name not in listed]
    if able:
        found.update(group.evaluate(song, frozenset(able)))
    return found


def _evaluate(song: SongAnalyses, chosen: list[str], opted: list[MetricGroup]) -> GroupScores:
    """Run every requested group; keep the requested names (all of an opt-in group's names), in order."""
    collected = GroupScores()
    for group in GROUP_LIST:
        wanted = list(group.metrics) if group in opted else [name for name in chosen if name in group.metrics]
        if wanted:
            collected.update(_run_group(group, song, wanted))
    names = chosen + [name for group in opted for name in collected.values if name in group.metrics]
    return GroupScores(
        values={name: collected.values.get(name, math.nan) for name in names},
        skipped={name: collected.skipped[name] for name in names if name in collected.skipped},
        info=collected.info,
    )


def _check_backends(beat_tracker: str, chord_estimator: str) -> None:
    for name, value, known in (
        ("beat tracker", beat_tracker, analysis.BEAT_TRACKERS),
        ("chord estimator", chord_estimator, analysis.CHORD_ESTIMATORS),
    ):
        if value not in known:
            raise ConfigError(f"unknown {name} {value!r}{did_you_mean(value, known)}; known: {', '.join(known)}")


def _beat_backend(beat_tracker: str, beat_this_checkpoint: Any) -> dict[str, str]:
    """The beat tracker's entries of ``SongAnalyses.backends``: Beat This's checkpoint file and digest, resolved
    once per call (a missing checkpoint is a ConfigError saying how to get it)."""
    if beat_tracker != "beat-this":
        if beat_this_checkpoint is not None:
            raise ConfigError(f"beat_this_checkpoint is only used with beat_tracker='beat-this', not {beat_tracker!r}")
        return {"beat_tracker": beat_tracker}
    from accbench.metrics import beat_this

    path = beat_this.resolve_checkpoint(beat_this_checkpoint)
    digest = beat_this.checkpoint_digest(path)
    return {"beat_tracker": beat_tracker, "beat_this_checkpoint": str(path), "beat_this_sha256": digest}


def _signals(
    x: Any, y: Any, r: Any, sample_rate: int, fit: str, song: str | None
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Checked mono input, output and (when given) reference at the input's length, and the repair notes."""
    signals = {"input": _mono(x, "input", song)}
    n_samples = signals["input"].shape[1]
    if n_samples == 0:
        raise DataError("input audio has no samples", song=song)
    notes: list[str] = []
    for name, audio in (("output", y), ("reference", r)):
        if audio is not None:
            signals[name], note = _fit(_mono(audio, name, song), n_samples, name, sample_rate, fit, song)
            notes += [note] if note else []
    return signals, notes


def _unpack(
    source: SimulatedSong | Any,
    output_audio: Any,
    sample_rate: int | None,
    reference: Any,
    events: pd.DataFrame | None,
    song: str | None,
) -> tuple[Any, Any, int, Any, pd.DataFrame | None, str | None]:
    """``(input, output, sample_rate, reference, events, song)`` from a SimulationResult or the array form."""
    if not isinstance(source, SimulatedSong):
        if output_audio is None or sample_rate is None:
            raise ConfigError("score(input, output, sample_rate=...) needs the output and the sample rate")
        return source, output_audio, sample_rate, reference, events, song
    if output_audio is not None:
        raise ConfigError("score(result): the output comes from the SimulationResult; do not pass it again")
    if sample_rate is not None and int(sample_rate) != int(source.sample_rate):
        raise DataError(
            f"sample_rate={sample_rate} but the SimulationResult is at {source.sample_rate} Hz (leave it out)",
            song=song or source.song_id,
        )
    if reference is None:
        reference = getattr(source, "reference", None)
    events = source.events if events is None else events
    return source.input, source.output, int(source.sample_rate), reference, events, song or source.song_id


def score(
    input_audio: np.ndarray | SimulatedSong,
    output_audio: np.ndarray | None = None,
    *,
    sample_rate: int | None = None,
    reference: np.ndarray | None = None,
    annotations: Annotations | None = None,
    events: pd.DataFrame | None = None,
    metrics: Iterable[str] | str | None = None,
    cache: AnalysisCache | None = None,
    song: str | None = None,
    beat_tracker: str = "default",
    chord_estimator: str = "default",
    beat_this_checkpoint: str | os.PathLike | None = None,
    embedding: Mapping[str, Any] | None = None,
    fit: str = "exact",
    group_options: Mapping[str, Mapping[str, Any]] | None = None,
) -> Scores:
    """Score one output of one song.

    Parameters
    ----------
    input_audio : SimulationResult, or ndarray of shape (channels, n_samples) or (n_samples,)
        A :class:`~accbench.simulators.SimulationResult` (its ``input``, ``output``, ``sample_rate``,
        ``events``, ``song_id`` and ``reference`` are used; leave ``output_audio`` and ``sample_rate`` out),
        or the input the model played along with.
    output_audio : ndarray, shape (channels, n_samples) or (n_samples,), or None
        The model's rendered output (array form only), as long as the input.
    sample_rate : int or None
        Hz of all three signals (array form only).
    reference : ndarray or None
        The reference accompaniment at the same rate and length; without it and without annotations,
        reference metrics are skipped. With a SimulationResult, default: its ``reference``.
    annotations : Annotations or None
        Ground-truth beats and chords (seconds); preferred over analysing the reference mix.
    events : pandas.DataFrame or None
        The simulator's event log (for ``timing``); ``timing`` is skipped without it. With a SimulationResult,
        default: its ``events``.
    metrics : iterable of str or None
        Groups (``"beat"``, ``"harmony"``, ``"timing"``, ``"reaction"``, ``"embedding"``) and/or metric names;
        default: all groups except ``"embedding"``, which must be asked for (it runs a neural embedder when a
        CLAP model is configured).
    cache : AnalysisCache or None
        Default :func:`~accbench.metrics.cache.default_cache`.
    song : str or None
        Song id for error messages (default: the SimulationResult's ``song_id``).
    beat_tracker : {"default", "madmom", "beat-this"}
        Beat tracker for every beat analysis (see :func:`accbench.metrics.analysis.beats`). ``"beat-this"`` is
        the seed paper's tracker (:mod:`accbench.metrics.beat_this`, extra ``beat-this``).
    chord_estimator : {"default", "madmom"}
        Chord estimator for every chord analysis (see :func:`accbench.metrics.analysis.chords`).
    beat_this_checkpoint : str, path or None
        With ``beat_tracker="beat-this"``: a checkpoint file, or a name found as
        ``$TORCH_HOME/hub/checkpoints/beat_this-<name>.ckpt`` (default ``"final0"``, the paper's); never
        downloaded. Its SHA-256 keys the cached beats and is recorded as ``beat.tracker_sha256``.
    embedding : mapping or None
        Options of :func:`accbench.metrics.embedding.evaluate` when ``"embedding"`` is requested: ``embedder``
        (``"auto"``, ``"clap"``, ``"spectral"``), ``window_s``, ``hop_s`` and embedder options (``model``,
        ``device``, ``batch_size``, ``threads``).
    fit : {"exact", "pad"}
        ``"exact"`` (default): output and reference must have the input's length. ``"pad"``: zero-pad or trim
        them to it, with a note in ``Scores.notes``.
    group_options : mapping or None
        Options of other opt-in groups by group name, e.g. ``{"cocola": {"checkpoint": PATH, "modes": [...]}}``
        (see :func:`accbench.metrics.cocola.evaluate`).

    Returns
    -------
    Scores

    Raises
    ------
    DataError
        Non-finite samples, an empty input, a non-positive sample rate, or (``fit="exact"``) an output or
        reference whose length differs from the input's.
    ConfigError
        An unknown metric, group, backend or ``fit``.

    Examples
    --------
    >>> sr = 22050
    >>> x = np.zeros(sr * 4, dtype=np.float32)
    >>> result = score(x, x, sample_rate=sr, metrics=["beat"], cache=AnalysisCache())
    >>> result.skipped["beat.f_measure"]
    'no reference: neither reference audio nor beat annotations'
    """
    x, y, rate, r, events, song = _unpack(input_audio, output_audio, sample_rate, reference, events, song)
    chosen, opted = _select(metrics)
    if fit not in FITS:
        raise ConfigError(f"fit must be one of {', '.join(FITS)}, got {fit!r}")
    if int(rate) <= 0:
        raise DataError(f"sample rate must be positive, got {rate}", song=song)
    rate = int(rate)
    _check_backends(beat_tracker, chord_estimator)
    signals, notes = _signals(x, y, r, rate, fit, song)
    analyses = SongAnalyses(
        signals,
        rate,
        annotations=annotations,
        events=events,
        cache=default_cache() if cache is None else cache,
        song=song,
        backends={**_beat_backend(beat_tracker, beat_this_checkpoint), "chord_estimator": chord_estimator},
        options={**{k: dict(v) for k, v in (group_options or {}).items()}, "embedding": dict(embedding or {})},
    )
    found = _evaluate(analyses, chosen, opted)
    return Scores(found.values, ref_source=analyses.ref_source, skipped=found.skipped, notes=notes, info=found.info)
