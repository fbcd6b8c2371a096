"""One song of a dataset: where its audio is, what is known about it, and how to load it.

A :class:`Song` is a cheap description (paths or in-memory arrays, annotations, split); :meth:`Song.load`
reads, resamples, reconciles lengths, crops and normalises the audio and returns a :class:`LoadedSong`.

Audio sources
-------------
``input`` and ``reference`` are each one of:

- a path to an audio file (wav, flac, ogg, anything soundfile reads);
- a sequence of paths, whose stems are summed (resampled to a common rate, channels matched, shorter stems
  padded with silence, each padding recorded);
- an in-memory float array ``(channels, n_samples)`` or ``(n_samples,)``; then ``Song.sample_rate`` is
  required.

For file sources ``Song.sample_rate`` is optional and, when given, is *checked*: a file at another rate is
a :class:`~accbench.errors.DataError` (a dataset that declares 44.1 kHz and holds a 22.05 kHz file is broken).
Resampling to the rate a caller asks for is always done with soxr (:func:`accbench.audio.resample`).

Lengths
-------
Input and reference of different lengths are an error by default (``length_policy="error"``). With
``"pad"`` the shorter one is padded with silence to the longer, with ``"trim"`` the longer one is cut to the
shorter; either way the change is recorded in :attr:`LoadedSong.repairs`. A difference of one sample that
comes only from resampling two different native rates is always padded or trimmed to the input's length
and recorded.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Union

import numpy as np

from accbench.annotations import Annotations
from accbench.audio import as_channels_first, load_audio, match_channels, normalize_rms, resample
from accbench.errors import DataError

__all__ = ["AudioSource", "LengthPolicy", "LoadedSong", "Song"]

AudioSource = Union[str, os.PathLike, Sequence[Union[str, os.PathLike]], np.ndarray]  # noqa: UP007
LengthPolicy = Literal["error", "pad", "trim"]
_HASH_VERSION = b"accbench-song-content-v1"


def _normalise_source(
    source: Any, role: str, song_id: str, sample_rate: int | None
) -> Path | tuple[Path, ...] | np.ndarray:
    if isinstance(source, np.ndarray):
        if sample_rate is None:
            raise DataError(f"{role} is an in-memory array; Song.sample_rate is required", song=song_id)
        array = as_channels_first(source, name=role, song=song_id)
        if array.shape[1] == 0:
            raise DataError(f"{role} audio has no samples", song=song_id)
        if not np.all(np.isfinite(array)):
            raise DataError(f"{role} audio contains NaN or infinite samples", song=song_id)
        array = array.copy()
        array.setflags(write=False)
        return array
    if isinstance(source, (str, os.PathLike)):
        return Path(source)
    if isinstance(source, Sequence):
        paths = tuple(Path(p) for p in source)
        if not paths:
            raise DataError(f"{role} is an empty list of files", song=song_id)
        if not all(isinstance(p, (str, os.PathLike)) for p in source):
            raise DataError(f"{role} must be a path, a list of paths or an array", song=song_id)
        return paths[0] if len(paths) == 1 else paths
    raise DataError(f"{role} must be a path, a list of paths or an array, got {type(source).__name__}", song=song_id)


def source_paths(source: Path | tuple[Path, ...] | np.ndarray | None) -> tuple[Path, ...]:
    """The files behind a normalised source (empty for arrays and ``None``)."""
    if source is None or isinstance(source, np.ndarray):
        return ()
    return source if isinstance(source, tuple) else (source,)


@dataclass(frozen=True, eq=False)
class LoadedSong:
    """A song's audio in memory, ready for the simulator and the metrics.

    Attributes
    ----------
    song_id : str
    input : ndarray, float32, shape (channels, n_samples)
    reference : ndarray, float32, shape (channels_ref, n_samples), or None
        Same length as ``input`` (the length policy guarantees it).
    sample_rate : int
        Hz of both arrays.
    annotations : Annotations or None
        Cropped and shifted like the audio.
    repairs : tuple of str
        Every change made to make the song usable, e.g. ``"reference padded by 12 samples"``.
    split : str or None
    """

    song_id: str
    input: np.ndarray
    reference: np.ndarray | None
    sample_rate: int
    annotations: Annotations | None = None
    repairs: tuple[str, ...] = ()
    split: str | None = None

    @property
    def n_samples(self) -> int:
        return int(self.input.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.sample_rate


@dataclass(frozen=True, eq=False)
class Song:
    """A song: input audio, optional reference accompaniment, optional annotations.

    Parameters
    ----------
    song_id : str
        Unique within its dataset; used in every error message and results row.
    input : path, sequence of paths or ndarray
        The audio the model hears (see the module docstring for the forms).
    reference : path, sequence of paths, ndarray or None
        The reference accompaniment; ``None`` when the dataset has none (reference-based metrics are
        then skipped, never faked).
    annotations : Annotations or None
        Beats, downbeats and chords, in seconds of this song's audio.
    split : str or None
        ``"train"``, ``"valid"``, ``"test"`` or a dataset's own split name.
    sample_rate : int or None
        Hz. Required for in-memory arrays; for files, the rate they must have (checked on load).
    metadata : mapping
        Free-form, JSON-serialisable facts (title, artist, source files...). Not part of the content hash.
    """

    song_id: str
    input: AudioSource
    reference: AudioSource | None = None
    annotations: Annotations | None = None
    split: str | None = None
    sample_rate: int | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)
    _hash: list = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.song_id, str) or not self.song_id.strip():
            raise DataError(f"song id must be a non-empty string, got {self.song_id!r}")
        if self.sample_rate is not None:
            if isinstance(self.sample_rate, bool) or int(self.sample_rate) != self.sample_rate or self.sample_rate <= 0:
                raise DataError(f"sample rate must be a positive integer, got {self.sample_rate!r}", song=self.song_id)
            object.__setattr__(self, "sample_rate", int(self.sample_rate))
        object.__setattr__(self, "input", _normalise_source(self.input, "input", self.song_id, self.sample_rate))
        if self.reference is not None:
            object.__setattr__(
                self,
                "reference",
                _normalise_source(self.reference, "reference", self.song_id, self.sample_rate),
            )
        if self.annotations is not None and not isinstance(self.annotations, Annotations):
            raise DataError("annotations must be an accbench.annotations.Annotations", song=self.song_id)

    # ------------------------------------------------------------------ reading

    @property
    def files(self) -> tuple[Path, ...]:
        """Every audio file the song reads (input first)."""
        return source_paths(self.input) + source_paths(self.reference)

    def _read(self, role: str, source, target_sr: int | None, repairs: list[str]) -> tuple[np.ndarray, int, int]:
        """Read one source at ``target_sr`` (native rate of its first file when None).

        Returns ``(audio, sample_rate, native_rate)``.
        """
        if isinstance(source, np.ndarray):
            native = int(self.sample_rate)
            rate = native if target_sr is None else target_sr
            # A writable copy: the song's own array stays read-only and unchanged.
            return np.array(resample(source, native, rate), dtype=np.float32), rate, native
        paths = source_paths(source)
        stems = []
        rate = target_sr
        native_first = None
        for path in paths:
            audio, file_sr = load_audio(path, song=self.song_id)
            if self.sample_rate is not None and file_sr != self.sample_rate:
                raise DataError(
                    f"{role} file has sample rate {file_sr} Hz, expected {self.sample_rate} Hz",
                    song=self.song_id,
                    path=str(path),
                )
            native_first = file_sr if native_first is None else native_first
            rate = file_sr if rate is None else rate
            stems.append((path, resample(audio, file_sr, rate)))
        if len(stems) == 1:
            return stems[0][1], rate, native_first
        channels = max(audio.shape[0] for _, audio in stems)
        length = max(audio.shape[1] for _, audio in stems)
        total = np.zeros((channels, length), dtype=np.float64)
        for path, audio in stems:
            if audio.shape[1] < length:
                repairs.append(f"{role} stem {path.name} padded by {length - audio.shape[1]} samples")
            total[:, : audio.shape[1]] += match_channels(audio, channels)
        return total.astype(np.float32), rate, native_first

    def load(
        self,
        sample_rate: int | None = None,
        *,
        length_policy: LengthPolicy = "error",
        start_s: float = 0.0,
        duration_s: float | None = None,
        normalize_db: float | None = None,
        channels: int | None = None,
    ) -> LoadedSong:
        """Read the song's audio.

        Parameters
        ----------
        sample_rate : int or None
            Hz of the result; ``None`` keeps the input's native rate (the reference is resampled to it).
        length_policy : {"error", "pad", "trim"}
            What to do when input and reference differ in length (see the module docstring).
        start_s : float
            Start of the excerpt, seconds (>= 0). Annotations are shifted by the same amount.
        duration_s : float or None
            Length of the excerpt, seconds; ``None`` to the end. An excerpt that would run past the end
            stops at the end (recorded in ``repairs``).
        normalize_db : float or None
            When given, input and reference are each scaled to this RMS level in dBFS
            (:func:`accbench.audio.normalize_rms`; the seed paper uses -18).
        channels : int or None
            Down-mix or duplicate both signals to this many channels; ``None`` keeps each one's own.

        Returns
        -------
        LoadedSong

        Raises
        ------
        DataError
            Missing, unreadable, empty or non-finite audio, a file at a rate other than ``Song.sample_rate``,
            lengths that differ under ``length_policy="error"``, or an excerpt outside the song.
        """
        if length_policy not in ("error", "pad", "trim"):
            raise DataError(f"length_policy must be 'error', 'pad' or 'trim', got {length_policy!r}", song=self.song_id)
        if sample_rate is not None and (
            isinstance(sample_rate, bool) or int(sample_rate) != sample_rate or sample_rate <= 0
        ):
            raise DataError(f"sample_rate must be a positive integer, got {sample_rate!r}", song=self.song_id)
        repairs: list[str] = []
        inp, rate, input_native = self._read("input", self.input, sample_rate, repairs)
        ref = None
        if self.reference is not None:
            ref, _, reference_native = self._read("reference", self.reference, rate, repairs)
            inp, ref = self._reconcile(inp, ref, rate, input_native != reference_native, length_policy, repairs)
        if channels is not None:
            inp = match_channels(inp, int(channels))
            ref = None if ref is None else match_channels(ref, int(channels))
        annotations = self.annotations
        start = round(float(start_s) * rate)
        if start_s < 0 or start >= inp.shape[1]:
            raise DataError(
                f"excerpt start {start_s} s is outside the song ({inp.shape[1] / rate:.3f} s)",
                song=self.song_id,
            )
        if start > 0 or duration_s is not None:
            stop = inp.shape[1]
            if duration_s is not None:
                if duration_s <= 0:
                    raise DataError(f"duration_s must be positive, got {duration_s}", song=self.song_id)
                wanted = start + round(float(duration_s) * rate)
                if wanted > stop:
                    repairs.append(f"excerpt ends at the end of the song, {(wanted - stop) / rate:.3f} s short")
                stop = min(stop, wanted)
            inp = inp[:, start:stop]
            ref = None if ref is None else ref[:, start:stop]
            if annotations is not None:
                annotations = annotations.crop(start / rate, stop / rate)
        if normalize_db is not None:
            inp, _ = normalize_rms(inp, normalize_db)
            if ref is not None:
                ref, _ = normalize_rms(ref, normalize_db)
        return LoadedSong(
            song_id=self.song_id,
            input=np.ascontiguousarray(inp, dtype=np.float32),
            reference=None if ref is None else np.ascontiguousarray(ref, dtype=np.float32),
            sample_rate=int(rate),
            annotations=annotations,
            repairs=tuple(repairs),
            split=self.split,
        )

    def _reconcile(
        self,
        inp: np.ndarray,
        ref: np.ndarray,
        rate: int,
        rates_differ: bool,
        policy: str,
        repairs: list[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        n_in, n_ref = inp.shape[1], ref.shape[1]
        if n_in == n_ref:
            return inp, ref
        difference = abs(n_in - n_ref)
        if rates_differ and difference <= 1:
            # Resampling two native rates rounds each length separately: a one-sample difference is not a
            # property of the data. The input defines the song's length.
            if n_ref < n_in:
                repairs.append("reference padded by 1 sample (resampling rounding)")
                return inp, np.pad(ref, ((0, 0), (0, 1)))
            repairs.append("reference trimmed by 1 sample (resampling rounding)")
            return inp, ref[:, :n_in]
        if policy == "error":
            paths = source_paths(self.reference)
            raise DataError(
                f"input has {n_in} samples and reference {n_ref} samples at {rate} Hz "
                f"({difference / rate:.3f} s apart); load with length_policy='pad' or 'trim'",
                song=self.song_id,
                path=str(paths[0]) if paths else None,
            )
        shorter, longer = ("input", "reference") if n_in < n_ref else ("reference", "input")
        if policy == "pad":
            repairs.append(f"{shorter} padded by {difference} samples")
            n = max(n_in, n_ref)
            return np.pad(inp, ((0, 0), (0, n - n_in))), np.pad(ref, ((0, 0), (0, n - n_ref)))
        repairs.append(f"{longer} trimmed by {difference} samples")
        n = min(n_in, n_ref)
        return inp[:, :n], ref[:, :n]

    # ------------------------------------------------------------------ identity

    def content_hash(self) -> str:
        """SHA-256 (hex) of the song's decoded audio and its annotations, stable across machines.

        Hashes, in order: the input and the reference (each: sample rate, shape and float32 little-endian
        samples at the native rate, per stem), then the annotations (float64 little-endian times and the
        chord labels). Paths, ids, split and metadata are not part of it, so the same audio under another
        name or folder has the same hash. Computed once per :class:`Song` object.
        """
        if self._hash:
            return self._hash[0]
        digest = hashlib.sha256(_HASH_VERSION)
        for role, source in (("input", self.input), ("reference", self.reference)):
            digest.update(f"|{role}|".encode())
            if source is None:
                digest.update(b"none")
                continue
            if isinstance(source, np.ndarray):
                _hash_audio(digest, source, int(self.sample_rate))
                continue
            for path in source_paths(source):
                audio, file_sr = load_audio(path, song=self.song_id)
                _hash_audio(digest, audio, file_sr)
        _hash_annotations(digest, self.annotations)
        self._hash.append(digest.hexdigest())
        return self._hash[0]


def _hash_audio(digest, audio: np.ndarray, sample_rate: int) -> None:
    array = np.ascontiguousarray(audio, dtype="<f4")
    digest.update(f"sr={sample_rate};shape={array.shape[0]}x{array.shape[1]};".encode())
    digest.update(array.tobytes())


def _hash_annotations(digest, annotations: Annotations | None) -> None:
    digest.update(b"|annotations|")
    if annotations is None:
        digest.update(b"none")
        return
    for name in ("beats", "downbeats", "chord_intervals"):
        values = getattr(annotations, name)
        digest.update(f"{name}:".encode())
        digest.update(b"none" if values is None else np.ascontiguousarray(values, dtype="<f8").tobytes())
    digest.update(b"labels:")
    digest.update(b"none" if annotations.chord_labels is None else "\n".join(annotations.chord_labels).encode())
