"""The follower: a causal DSP accompanist with no learned weights (built-in model ``follower``).

It listens to the visible input only, tracks harmony and beat, and plays a chord pad and a bass line on
the beats it predicts for the next chunk. It is the toolkit's honest causal reference point: like the
learned models of the seed paper it gets worse as future visibility falls and as chunks grow, because it
must extrapolate its beat grid and hold its chord over a longer horizon.

How it works, per call (``step``):

1. **Analysis.** New input samples go into a ring buffer (the last ``n_fft`` samples). For every complete
   frame (one per ``hop`` samples) a Hann-windowed FFT gives a chroma vector (librosa's chroma filter
   bank) and an onset strength (half-wave rectified log-mel spectral flux, librosa's mel filter bank).
   Frames are time-stamped at their window centre.
2. **Harmony.** Two exponentially decaying chroma averages: a short one (``chord_halflife_s``) for the
   current chord and a long one (``key_halflife_s``) for the key. The key is the best of 24
   Krumhansl-Kessler profiles; chord scores are the cosine of the short chroma with 24 major/minor triad
   templates, plus a prior favouring the key's diatonic chords and a bonus for keeping the current chord
   (smoothing).
3. **Beat.** Every few frames the tempo is re-estimated from the autocorrelation of the last
   ``history_s`` seconds of onset strength (weighted by a log-normal tempo prior, refined by parabolic
   interpolation) and the phase from a comb over the recent onset strength that favours recent beats.
4. **Synthesis.** For each predicted beat inside the chunk a bass note (chord root) and a pad triad are
   started; notes are rendered from their own onset sample, so audio is phase-continuous across chunks
   whatever the chunk size. A chord change detected between beats is played at once with a soft
   attack (``change="now"``) or held until the next beat (``change="beat"``).

Everything is a deterministic function of the visible input (the seed is accepted and unused: the
follower has no randomness).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import librosa
import numpy as np

from accbench.audio import match_channels
from accbench.errors import ModelError
from accbench.protocol import ModelInfo, Session, StepContext

__all__ = ["CHORD_LABELS", "Follower"]

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_HOP = 441

_PITCH_CLASSES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
#: The 24 chords the follower chooses from, as mir_eval labels: index ``q * 12 + root`` (q = 0 major, 1 minor).
CHORD_LABELS: tuple[str, ...] = tuple(f"{p}:maj" for p in _PITCH_CLASSES) + tuple(f"{p}:min" for p in _PITCH_CLASSES)

# Krumhansl-Kessler key profiles (C major, C minor).
_KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _chord_templates() -> np.ndarray:
    """(24, 12) unit-norm triad templates, root weighted a little more than third and fifth."""
    templates = np.zeros((24, 12))
    for root in range(12):
        for quality, third in ((0, 4), (1, 3)):
            row = templates[quality * 12 + root]
            row[root] = 1.0
            row[(root + third) % 12] = 0.8
            row[(root + 7) % 12] = 0.8
    return templates / np.linalg.norm(templates, axis=1, keepdims=True)


def _key_profiles() -> np.ndarray:
    """(24, 12) zero-mean unit-norm key profiles: 12 major keys then 12 minor keys."""
    profiles = np.array([np.roll(_KK_MAJOR, k) for k in range(12)] + [np.roll(_KK_MINOR, k) for k in range(12)])
    profiles = profiles - profiles.mean(axis=1, keepdims=True)
    return profiles / np.linalg.norm(profiles, axis=1, keepdims=True)


def _chord_prior_given_key() -> np.ndarray:
    """(24 keys, 24 chords) prior weights of each chord in each key (diatonic chords favoured)."""
    prior = np.full((24, 24), 0.0)
    # (scale degree in semitones, quality, weight); quality 0 major, 1 minor.
    major_key = [(0, 0, 1.0), (7, 0, 0.9), (5, 0, 0.8), (9, 1, 0.6), (2, 1, 0.55), (4, 1, 0.35), (2, 0, 0.3)]
    minor_key = [(0, 1, 1.0), (7, 0, 0.9), (5, 1, 0.7), (3, 0, 0.6), (8, 0, 0.5), (10, 0, 0.4), (7, 1, 0.3)]
    for tonic in range(12):
        for key_quality, degrees in ((0, major_key), (1, minor_key)):
            for offset, chord_quality, weight in degrees:
                prior[key_quality * 12 + tonic, chord_quality * 12 + (tonic + offset) % 12] = weight
    return prior


_TEMPLATES = _chord_templates()
_KEYS = _key_profiles()
_PRIOR = _chord_prior_given_key()


@dataclass
class _Note:
    onset: int  # absolute output sample of the note's start
    end: int  # absolute output sample where its release starts (may move while it is still in the future)
    frequency: float  # Hz
    amplitude: float
    harmonics: tuple[float, ...]
    decay_s: float
    attack_s: float


class Follower:
    """A causal DSP accompanist: chord pad and bass on predicted beats, from the visible input only.

    Parameters
    ----------
    sample_rate : int
        Hz; default 22050.
    hop : int
        Samples per frame; default 441 (50 frames per second).
    channels : int
        Input channels; the input is averaged to mono for analysis and the mono output is duplicated.
    n_fft : int
        Analysis window in samples (default 2048, 93 ms at 22050 Hz).
    history_s : float
        Seconds of onset strength used for tempo and phase (default 6).
    tempo_bpm : float
        Centre of the log-normal tempo prior, in beats per minute (default 90).
    tempo_range_bpm : tuple of float
        Tempi considered, in beats per minute (default 50 to 180).
    chord_halflife_s : float
        Half-life of the chord chroma average, in seconds (default 0.3).
    key_halflife_s : float
        Half-life of the key chroma average, in seconds (default 10).
    beat_update_frames : int
        Re-estimate tempo and phase every this many analysis frames (default 5).
    phase_memory : float
        Weight ratio of each older beat in the phase comb (default 0.6; smaller follows tempo changes faster).
    change : {"now", "beat"}
        When a new chord takes effect: at once (default) or at the next predicted beat.
    gain : float
        Peak amplitude scale of the output (default 0.2).

    Examples
    --------
    >>> import numpy as np
    >>> from accbench.protocol import Session, StepContext
    >>> model = Follower()
    >>> model.reset(Session("song", 22050, 441, future_visibility=0, chunk_frames=10, n_samples=22050, seed=0))
    >>> x = np.zeros((1, 4410), dtype=np.float32)
    >>> out = model.step(x, StepContext(0, 0, 4410, 10, 441, True, 22050))
    >>> out.shape, out.dtype
    ((1, 4410), dtype('float32'))
    """

    def __init__(
        self,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        hop: int = DEFAULT_HOP,
        channels: int = 1,
        *,
        n_fft: int = 2048,
        history_s: float = 6.0,
        tempo_bpm: float = 90.0,
        tempo_range_bpm: tuple[float, float] = (50.0, 180.0),
        chord_halflife_s: float = 0.3,
        key_halflife_s: float = 10.0,
        beat_update_frames: int = 5,
        phase_memory: float = 0.6,
        change: str = "now",
        gain: float = 0.2,
    ) -> None:
        if change not in ("now", "beat"):
            raise ModelError(f"change must be 'now' or 'beat', got {change!r}", model="follower")
        if n_fft < hop:
            raise ModelError(f"n_fft ({n_fft}) must be at least hop ({hop})", model="follower")
        self.info = ModelInfo("follower", "1", int(sample_rate), int(hop), channels=int(channels))
        self.n_fft = int(n_fft)
        self.change = change
        self.gain = float(gain)
        self.tempo_bpm = float(tempo_bpm)
        self.beat_update_frames = max(1, int(beat_update_frames))
        self.phase_memory = float(phase_memory)
        rate = self.info.frame_rate
        self._history = max(int(round(history_s * rate)), 16)
        low, high = tempo_range_bpm
        self._min_lag = max(2, int(math.floor(60.0 * rate / high)))
        self._max_lag = min(self._history // 2, int(math.ceil(60.0 * rate / low)))
        self._chord_decay = 0.5 ** (1.0 / max(chord_halflife_s * rate, 1e-9))
        self._key_decay = 0.5 ** (1.0 / max(key_halflife_s * rate, 1e-9))
        self._window = np.hanning(self.n_fft + 2)[1:-1].astype(np.float64)
        self._chroma_fb = librosa.filters.chroma(sr=self.info.sample_rate, n_fft=self.n_fft, dtype=np.float64)
        self._mel_fb = librosa.filters.mel(
            sr=self.info.sample_rate, n_fft=self.n_fft, n_mels=64, fmax=8000.0, dtype=np.float64
        )
        lags = np.arange(self._max_lag + 1, dtype=np.float64)
        lags[0] = 1.0
        bpm = 60.0 * rate / lags
        self._tempo_weight = np.exp(-0.5 * (np.log2(bpm / self.tempo_bpm) / 0.8) ** 2)
        self._tempo_weight[: self._min_lag] = 0.0
        self._session: Session | None = None
        self._clear()

    # ----------------------------------------------------------------------------------------- state
    def _clear(self) -> None:
        self._buffer = np.zeros(self.n_fft, dtype=np.float64)  # the last n_fft visible samples
        self._received = 0  # visible samples so far
        self._frames = 0  # analysis frames so far
        self._env = np.zeros(self._history)  # onset strength ring (most recent last)
        self._level = np.zeros(self._history)  # frame energy ring
        self._previous_mel = np.zeros(self._mel_fb.shape[0])
        self._chroma_short = np.zeros(12)
        self._chroma_long = np.zeros(12)
        self._chord: int | None = None
        self._period: float | None = None  # beat period in frames
        self._anchor: float | None = None  # a beat position, in samples on the input/output clock
        self._frames_at_update = 0
        self._last_beat: int | None = None  # sample of the last beat played
        self._notes: list[_Note] = []

    def reset(self, session: Session) -> None:
        """Start a new song: forget all input, notes and estimates."""
        if session.sample_rate != self.info.sample_rate or session.hop != self.info.hop:
            raise ModelError(
                f"session is at {session.sample_rate} Hz / hop {session.hop}, the follower was built for "
                f"{self.info.sample_rate} Hz / hop {self.info.hop}",
                model=self.info.name,
                song=session.song_id,
            )
        self._session = session
        self._clear()

    def close(self) -> None:
        """Release the session state."""
        self._session = None
        self._notes = []

    # -------------------------------------------------------------------------------------- analysis
    def _analyse(self, new: np.ndarray) -> None:
        """Append new mono samples and analyse every frame that became complete."""
        hop, n_fft = self.info.hop, self.n_fft
        total = self._received + new.shape[0]
        first_end = (self._received // hop + 1) * hop  # end sample of the first frame not analysed yet
        ends = np.arange(first_end, total + 1, hop)
        # Frames read from the old tail of the buffer plus the new samples.
        joined = np.concatenate([self._buffer, new])
        offset = self._received - n_fft  # absolute sample index of joined[0]
        if ends.size:
            starts = ends - n_fft - offset
            index = starts[:, None] + np.arange(n_fft)[None, :]
            frames = joined[index] * self._window
            spectrum = np.abs(np.fft.rfft(frames, axis=1))
            chroma = spectrum**2 @ self._chroma_fb.T
            mel = np.log1p(100.0 * (spectrum @ self._mel_fb.T))
            energy = np.mean(frames**2, axis=1)
            for i in range(ends.size):
                flux = float(np.maximum(mel[i] - self._previous_mel, 0.0).sum())
                self._previous_mel = mel[i]
                self._push(flux, energy[i])
                self._chroma_short = self._chord_decay * self._chroma_short + chroma[i]
                self._chroma_long = self._key_decay * self._chroma_long + chroma[i]
        self._buffer = joined[-n_fft:]
        self._received = total

    def _push(self, flux: float, energy: float) -> None:
        self._env[:-1] = self._env[1:]
        self._env[-1] = flux
        self._level[:-1] = self._level[1:]
        self._level[-1] = energy
        self._frames += 1

    def _frame_centre(self, frame: float) -> float:
        """Sample time of the centre of analysis frame ``frame`` (which ends at ``(frame + 1) * hop``)."""
        return (frame + 1.0) * self.info.hop - self.n_fft / 2.0

    # ---------------------------------------------------------------------------------------- harmony
    def _estimate_chord(self) -> int | None:
        short = self._chroma_short
        if short.sum() <= 1e-9:
            return self._chord
        short = short / np.linalg.norm(short)
        long = self._chroma_long
        key_scores = _KEYS @ (long - long.mean())
        key = int(np.argmax(key_scores))
        scores = _TEMPLATES @ short + 0.35 * _PRIOR[key]
        if self._chord is not None:
            scores[self._chord] += 0.08
        return int(np.argmax(scores))

    # ------------------------------------------------------------------------------------------- beat
    def _update_beat(self) -> None:
        available = min(self._frames, self._history)
        if available < 2 * self._min_lag + 8:
            return
        env = self._env[-available:]
        env = np.maximum(env - np.median(env), 0.0)
        if env.max() <= 1e-9:
            return
        max_lag = min(self._max_lag, available // 2)
        spectrum = np.fft.rfft(env, n=2 * available)
        autocorrelation = np.fft.irfft(np.abs(spectrum) ** 2)[: max_lag + 2]
        autocorrelation = autocorrelation / (available - np.arange(max_lag + 2))
        weighted = autocorrelation[: max_lag + 1] * self._tempo_weight[: max_lag + 1]
        lag = int(np.argmax(weighted))
        if lag < self._min_lag or weighted[lag] <= 0:
            return
        period = float(lag)
        if 1 <= lag < max_lag + 1:
            left, centre, right = autocorrelation[lag - 1], autocorrelation[lag], autocorrelation[lag + 1]
            denominator = left - 2 * centre + right
            if denominator < 0:
                period += float(np.clip(0.5 * (left - right) / denominator, -0.5, 0.5))
        # Phase: the latest beat position b (in frames, relative to the newest frame) maximising a comb over
        # past onsets, recent beats weighted more.
        newest = available - 1
        candidates = newest - np.arange(0.0, period, 0.25)
        beats = np.arange(int(available // period))
        positions = candidates[:, None] - beats[None, :] * period
        valid = positions >= 0
        weights = np.where(valid, self.phase_memory ** beats[None, :], 0.0)
        values = np.interp(np.clip(positions, 0, newest), np.arange(available), env)
        score = (weights * values).sum(axis=1)
        best = candidates[int(np.argmax(score))]
        frame = self._frames - available + best
        self._period = period
        self._anchor = self._frame_centre(frame)

    def _predicted_beats(self, start: int, stop: int) -> list[int]:
        """Predicted beat samples in ``[start, stop)``, at least 0.6 period after the last beat played."""
        if self._period is None or self._anchor is None:
            return []
        period = self._period * self.info.hop
        first = self._anchor + math.ceil((start - self._anchor) / period) * period
        beats = []
        position = first
        while position < stop:
            sample = int(round(position))
            if start <= sample < stop and (self._last_beat is None or sample - self._last_beat >= 0.6 * period):
                beats.append(sample)
                self._last_beat = sample
            position += period
        return beats

    def _active(self) -> bool:
        """Whether the input is sounding (recent frame energy above a small floor)."""
        recent = self._level[-max(1, int(self.info.frame_rate)) :]
        return bool(recent.max() > 1e-6)

    # -------------------------------------------------------------------------------------- synthesis
    def _chord_notes(self, chord: int, onset: int, end: int) -> list[_Note]:
        sr = self.info.sample_rate
        root = chord % 12
        third = 3 if chord >= 12 else 4
        notes = []
        bass_midi = 36 + root
        notes.append(_Note(onset, end, _midi_hz(bass_midi), 0.5, (1.0, 0.5, 0.25), 0.8, 0.008))
        for interval in (0, third, 7):
            midi = 52 + (root + interval - 4) % 12  # pad voices between E3 and D#4
            notes.append(_Note(onset, end, _midi_hz(midi), 0.28, (1.0, 0.3), 1.2, 0.012))
        del sr
        return notes

    def _render(self, start: int, length: int) -> np.ndarray:
        sr = self.info.sample_rate
        out = np.zeros(length)
        release = int(0.03 * sr)
        times = np.arange(start, start + length, dtype=np.float64)
        kept = []
        for note in self._notes:
            if note.end + release <= start:
                continue
            kept.append(note)
            if note.onset >= start + length:
                continue
            lo = max(note.onset, start) - start
            hi = min(note.end + release, start + length) - start
            if hi <= lo:
                continue
            t = (times[lo:hi] - note.onset) / sr
            envelope = np.minimum(t / note.attack_s, 1.0) * np.exp(-t / note.decay_s)
            after = times[lo:hi] - note.end
            envelope *= np.clip(1.0 - after / release, 0.0, 1.0)
            phase = 2.0 * np.pi * note.frequency * t
            wave = np.zeros_like(t)
            for order, weight in enumerate(note.harmonics, start=1):
                wave += weight * np.sin(order * phase)
            out[lo:hi] += note.amplitude * envelope * wave
        self._notes = kept
        return out

    def _end_notes(self, at: int) -> None:
        for note in self._notes:
            if note.end > at:
                note.end = max(at, note.onset)

    def _schedule(self, start: int, stop: int) -> None:
        """Start notes for the predicted beats in ``[start, stop)`` and for an immediate chord change."""
        chord = self._estimate_chord()
        if chord is None or not self._active():
            self._end_notes(start)
            return
        period = int(round((self._period or 50.0) * self.info.hop))
        if self.change == "now" and self._notes and chord != self._chord and self._last_beat is not None:
            # Change the sounding chord at the chunk start, without waiting for the next beat.
            self._end_notes(start)
            self._notes.extend(self._chord_notes(chord, start, start + period))
            for note in self._notes[-4:]:
                note.attack_s = 0.04
        self._chord = chord
        for beat in self._predicted_beats(start, stop):
            self._end_notes(beat)
            self._notes.extend(self._chord_notes(chord, beat, beat + period))

    # ------------------------------------------------------------------------------------------- step
    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        """Analyse the newly visible input and return the next chunk, ``(channels, chunk_frames * hop)``."""
        if self._session is None:
            raise ModelError("step called before reset", model=self.info.name, call=ctx.index)
        new = np.asarray(new_input, dtype=np.float64)
        if new.ndim != 2:
            raise ModelError(
                f"new_input must be (channels, n), got shape {new.shape}", model=self.info.name, call=ctx.index
            )
        if new.shape[1]:
            self._analyse(new.mean(axis=0) if new.shape[0] > 1 else new[0])
        if self._frames - self._frames_at_update >= self.beat_update_frames or self._period is None:
            self._update_beat()
            self._frames_at_update = self._frames
        length = ctx.chunk_frames * ctx.hop
        self._schedule(ctx.chunk_start, ctx.chunk_start + length)
        mono = (self.gain * self._render(ctx.chunk_start, length)).astype(np.float32)
        return match_channels(mono[np.newaxis, :], self.info.out_channels)


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)
