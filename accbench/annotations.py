"""Song annotations: beat times, downbeats and chord segments, validated once when they are made.

Times are in seconds from the start of the song. Chord labels use mir_eval syntax (``"C:maj"``,
``"A:min7"``, ``"N"`` for no chord, ``"X"`` for an unknown chord) and are validated with
``mir_eval.chord``. Intervals are ``(n, 2)`` arrays of ``[start, end)`` in seconds, sorted and
non-overlapping.

Files: :func:`read_beats` reads a beat list (one time per line, optionally followed by the beat's position
in the bar, 1 = downbeat, as in most beat-tracking datasets); :func:`read_chords` reads a ``.lab`` file
(``start end label`` per line). Both raise :class:`~accbench.errors.DataError` naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import mir_eval
import numpy as np

from accbench.errors import DataError

__all__ = ["Annotations", "read_beats", "read_chords"]


def _times(name: str, values, song: str | None) -> np.ndarray | None:
    if values is None:
        return None
    array = np.asarray(values, dtype=np.float64).reshape(-1)
    if not np.all(np.isfinite(array)):
        raise DataError(f"{name} contain non-finite times", song=song)
    if np.any(array < 0):
        raise DataError(f"{name} contain negative times", song=song)
    if np.any(np.diff(array) <= 0):
        raise DataError(f"{name} are not strictly increasing", song=song)
    return array


@dataclass(frozen=True)
class Annotations:
    """Ground-truth annotations of a song.

    Parameters
    ----------
    beats : ndarray or None
        Beat times in seconds, strictly increasing.
    downbeats : ndarray or None
        Downbeat times in seconds, strictly increasing.
    chord_intervals : ndarray or None
        ``(n, 2)`` chord segments ``[start, end)`` in seconds.
    chord_labels : tuple of str or None
        One mir_eval chord label per segment.
    song : str or None
        Song id, used in error messages.
    """

    beats: np.ndarray | None = None
    downbeats: np.ndarray | None = None
    chord_intervals: np.ndarray | None = None
    chord_labels: tuple[str, ...] | None = None
    song: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "beats", _times("beats", self.beats, self.song))
        object.__setattr__(self, "downbeats", _times("downbeats", self.downbeats, self.song))
        if (self.chord_intervals is None) != (self.chord_labels is None):
            raise DataError("chord intervals and chord labels must be given together", song=self.song)
        if self.chord_intervals is not None:
            intervals = np.asarray(self.chord_intervals, dtype=np.float64).reshape(-1, 2)
            labels = tuple(str(label) for label in self.chord_labels)
            if len(labels) != len(intervals):
                raise DataError(f"{len(intervals)} chord intervals but {len(labels)} chord labels", song=self.song)
            if not np.all(np.isfinite(intervals)) or np.any(intervals[:, 1] <= intervals[:, 0]):
                raise DataError("chord intervals must be finite with end > start", song=self.song)
            if np.any(intervals[1:, 0] < intervals[:-1, 1] - 1e-9):
                raise DataError("chord intervals overlap or are unsorted", song=self.song)
            for index, label in enumerate(labels):
                try:
                    mir_eval.chord.validate_chord_label(label)
                except mir_eval.chord.InvalidChordException as error:
                    raise DataError(
                        f"invalid chord label {label!r} at segment {index} "
                        f"({intervals[index, 0]:.3f}-{intervals[index, 1]:.3f} s): {error}",
                        song=self.song,
                    ) from None
            object.__setattr__(self, "chord_intervals", intervals)
            object.__setattr__(self, "chord_labels", labels)

    @property
    def has_beats(self) -> bool:
        return self.beats is not None and len(self.beats) > 0

    @property
    def has_chords(self) -> bool:
        return self.chord_intervals is not None and len(self.chord_intervals) > 0

    def crop(self, start_s: float, end_s: float | None = None) -> Annotations:
        """Return the annotations of the excerpt ``[start_s, end_s)``, with times shifted by ``-start_s``.

        Beats and downbeats outside the excerpt are dropped; chord segments are clipped to it (segments
        entirely outside are dropped). ``end_s=None`` keeps everything after ``start_s``.
        """
        start = float(start_s)
        end = np.inf if end_s is None else float(end_s)
        if start < 0 or end <= start:
            raise DataError(f"invalid crop [{start}, {end}) s", song=self.song)

        def times(values: np.ndarray | None) -> np.ndarray | None:
            if values is None:
                return None
            return values[(values >= start) & (values < end)] - start

        intervals = labels = None
        if self.chord_intervals is not None:
            keep = (self.chord_intervals[:, 1] > start) & (self.chord_intervals[:, 0] < end)
            intervals = np.clip(self.chord_intervals[keep], start, end) - start
            labels = tuple(label for label, kept in zip(self.chord_labels, keep, strict=True) if kept)
        return Annotations(
            beats=times(self.beats),
            downbeats=times(self.downbeats),
            chord_intervals=intervals,
            chord_labels=labels,
            song=self.song,
        )


def _lines(path: str | os.PathLike, song: str | None) -> list[tuple[int, list[str]]]:
    path = Path(path)
    if not path.is_file():
        raise DataError("annotation file not found", song=song, path=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read annotation file: {error}", song=song, path=str(path)) from None
    rows = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            rows.append((number, stripped.split()))
    return rows


def read_beats(path: str | os.PathLike, *, song: str | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Read a beat file: one beat per line, ``time`` or ``time position`` (position 1 = downbeat).

    Parameters
    ----------
    path : path
    song : str or None
        Song id, for error messages.

    Returns
    -------
    beats : ndarray, float64, shape (n,)
        Seconds, strictly increasing.
    downbeats : ndarray or None
        Seconds of the beats whose position is 1, or None when the file has no position column.

    Raises
    ------
    DataError
        Unreadable file, a malformed or non-finite value, or times that are not strictly increasing.
    """
    times, positions = [], []
    for number, fields in _lines(path, song):
        try:
            times.append(float(fields[0]))
            if len(fields) > 1:
                positions.append(float(fields[1]))
        except ValueError:
            raise DataError(
                f"line {number}: not a beat time: {' '.join(fields)!r}", song=song, path=str(path)
            ) from None
    beats = np.asarray(times, dtype=np.float64)
    if not np.all(np.isfinite(beats)) or np.any(beats < 0):
        raise DataError("beat times must be finite and >= 0", song=song, path=str(path))
    unsorted = np.flatnonzero(np.diff(beats) <= 0)
    if len(unsorted):
        line = unsorted[0] + 2
        raise DataError(f"beat times are not strictly increasing (beat {line})", song=song, path=str(path))
    downbeats = None
    if positions:
        if len(positions) != len(times):
            raise DataError("some lines have a beat position and some do not", song=song, path=str(path))
        downbeats = beats[np.asarray(positions) == 1]
    return beats, downbeats


def read_chords(path: str | os.PathLike, *, song: str | None = None) -> tuple[np.ndarray, tuple[str, ...]]:
    """Read a ``.lab`` chord file: ``start end label`` per line (seconds, mir_eval label).

    Returns
    -------
    intervals : ndarray, float64, shape (n, 2)
    labels : tuple of str

    Raises
    ------
    DataError
        Unreadable file, a malformed line, or an invalid chord label (the line is named). Ordering and
        overlap are checked when the result is turned into :class:`Annotations`.
    """
    intervals, labels = [], []
    for number, fields in _lines(path, song):
        if len(fields) < 3:
            raise DataError(
                f"line {number}: expected 'start end label', got {' '.join(fields)!r}",
                song=song,
                path=str(path),
            )
        try:
            start, end = float(fields[0]), float(fields[1])
        except ValueError:
            raise DataError(
                f"line {number}: bad times {fields[0]!r} {fields[1]!r}", song=song, path=str(path)
            ) from None
        label = " ".join(fields[2:])
        try:
            mir_eval.chord.validate_chord_label(label)
        except mir_eval.chord.InvalidChordException:
            raise DataError(f"line {number}: invalid chord label {label!r}", song=song, path=str(path)) from None
        intervals.append((start, end))
        labels.append(label)
    return np.asarray(intervals, dtype=np.float64).reshape(-1, 2), tuple(labels)
