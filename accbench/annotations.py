"""Song annotations: beat times, downbeats and chord segments, validated once when they are made.

Times are in seconds from the start of the song. Chord labels use mir_eval syntax (``"C:maj"``,
``"A:min7"``, ``"N"`` for no chord, ``"X"`` for an unknown chord) and are validated with
``mir_eval.chord``. Intervals are ``(n, 2)`` arrays of ``[start, end)`` in seconds, sorted and
non-overlapping.
"""

from __future__ import annotations

from dataclasses import dataclass

import mir_eval
import numpy as np

from accbench.errors import DataError

__all__ = ["Annotations"]


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
                raise DataError(
                    f"{len(intervals)} chord intervals but {len(labels)} chord labels", song=self.song
                )
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
