"""A dataset: an ordered, read-only sequence of songs plus the songs that could not be used and why.

Readers build a dataset from *candidates*: ``(song_id, make)`` pairs where ``make()`` returns a
:class:`~accbench.datasets.song.Song` or raises :class:`~accbench.errors.DataError`. With
``on_error="raise"`` the first bad song stops everything with an error that names the song and the file;
with ``on_error="skip"`` bad songs go to :attr:`Dataset.skipped` as ``(song_id, reason)`` and the good ones
are kept.

Audio is checked when the dataset is built, at the level ``check`` asks for:

- ``"header"`` (default): every file exists, soundfile can read its header, it has samples, and its rate is
  the one the song declares. Cheap: no samples are decoded.
- ``"full"``: every song is loaded once (corrupt data, NaN samples and length mismatches are found now).
- ``"none"``: nothing is opened; problems surface when a song is loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal, overload

from accbench.audio import audio_info
from accbench.errors import DataError

from .song import LoadedSong, Song

__all__ = ["Candidate", "CheckLevel", "Dataset", "OnError", "build_dataset", "check_song_files"]

OnError = Literal["raise", "skip"]
CheckLevel = Literal["none", "header", "full"]
Candidate = tuple[str, Callable[[], Song]]


class Dataset(Sequence[Song]):
    """An ordered sequence of :class:`Song` with a name and the list of skipped songs.

    Parameters
    ----------
    name : str
        What was loaded, e.g. ``"demo"`` or ``"musdb:/data/musdb18hq"``.
    songs : iterable of Song
        Song ids must be unique.
    skipped : iterable of (song_id, reason)
    """

    def __init__(self, name: str, songs: Iterable[Song], skipped: Iterable[tuple[str, str]] = ()) -> None:
        self.name = name
        self._songs = tuple(songs)
        self.skipped: list[tuple[str, str]] = list(skipped)
        seen: set[str] = set()
        for song in self._songs:
            if song.song_id in seen:
                raise DataError(f"dataset {name!r} has two songs with this id", song=song.song_id)
            seen.add(song.song_id)

    @overload
    def __getitem__(self, index: int) -> Song: ...
    @overload
    def __getitem__(self, index: slice) -> Dataset: ...
    def __getitem__(self, index):
        if isinstance(index, slice):
            return Dataset(self.name, self._songs[index], self.skipped)
        return self._songs[index]

    def __len__(self) -> int:
        return len(self._songs)

    def __iter__(self) -> Iterator[Song]:
        return iter(self._songs)

    def __repr__(self) -> str:
        return f"Dataset({self.name!r}, {len(self)} songs, {len(self.skipped)} skipped)"

    @property
    def song_ids(self) -> list[str]:
        return [song.song_id for song in self._songs]

    def get(self, song_id: str) -> Song:
        """The song with this id (:class:`DataError` when there is none)."""
        for song in self._songs:
            if song.song_id == song_id:
                return song
        raise DataError(f"no such song in dataset {self.name!r}", song=song_id)

    def select(self, split: str | None = None, songs: int | None = None) -> Dataset:
        """The songs of one ``split`` (all when None), then the first ``songs`` of them (all when None)."""
        chosen = [song for song in self._songs if split is None or song.split == split]
        if songs is not None:
            if songs < 0:
                raise DataError(f"songs must be >= 0, got {songs}")
            chosen = chosen[:songs]
        return Dataset(self.name, chosen, self.skipped)

    def iter_loaded(self, *, on_error: OnError = "skip", **load_options) -> Iterator[LoadedSong]:
        """Load the songs one by one with :meth:`Song.load` (``load_options`` are passed on).

        With ``on_error="skip"`` a song that fails to load is appended to :attr:`skipped` and left out.
        """
        for song in self._songs:
            try:
                yield song.load(**load_options)
            except DataError as error:
                if on_error == "raise":
                    raise
                self.skipped.append((song.song_id, str(error)))


def check_song_files(song: Song) -> None:
    """Header-level check of every file of ``song``; raises :class:`DataError` naming the song and file."""
    for path in song.files:
        info = audio_info(path, song=song.song_id)
        if song.sample_rate is not None and info.samplerate != song.sample_rate:
            raise DataError(
                f"file has sample rate {info.samplerate} Hz, expected {song.sample_rate} Hz",
                song=song.song_id,
                path=str(path),
            )


def build_dataset(
    name: str,
    candidates: Iterable[Candidate],
    *,
    on_error: OnError = "raise",
    check: CheckLevel = "header",
    skipped: Iterable[tuple[str, str]] = (),
    length_policy: str = "error",
) -> Dataset:
    """Make the songs of ``candidates``, check them, and keep or skip the bad ones (see module docstring).

    Parameters
    ----------
    name : str
    candidates : iterable of (song_id, make)
    on_error : {"raise", "skip"}
    check : {"none", "header", "full"}
    skipped : iterable of (song_id, reason)
        Songs the reader already left out (e.g. a Slakh track without the input instrument).
    length_policy : {"error", "pad", "trim"}
        Used by ``check="full"`` when it loads each song.
    """
    if on_error not in ("raise", "skip"):
        raise DataError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if check not in ("none", "header", "full"):
        raise DataError(f"check must be 'none', 'header' or 'full', got {check!r}")
    songs: list[Song] = []
    skipped_songs = list(skipped)
    seen: set[str] = set()
    for song_id, make in candidates:
        try:
            if song_id in seen:
                raise DataError("two songs have this id", song=song_id)
            song = make()
            if check == "header":
                check_song_files(song)
            elif check == "full":
                check_song_files(song)
                song.load(length_policy=length_policy)
        except DataError as error:
            if on_error == "raise":
                raise
            skipped_songs.append((song_id, str(error)))
            continue
        seen.add(song_id)
        songs.append(song)
    return Dataset(name, songs, skipped_songs)
