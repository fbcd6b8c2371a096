"""Dataset readers: manifests, folder layouts, public stem datasets and the built-in demo set.

:func:`load_dataset` takes a spec string and returns a :class:`Dataset` (a sequence of :class:`Song`):

==================  ==================================================================================
spec                what
==================  ==================================================================================
``demo``            Bach chorales rendered offline (options: ``songs``, ``tempo``, ``sample_rate``,
                    ``split``, ``cache``, ``out``, ``soundfont``); see :mod:`accbench.datasets.demo`
``demo-band``       multitrack band songs rendered with FluidSynth and a GM SoundFont (options:
                    ``songs``, ``split``, ``sample_rate``, ``cache``, ``soundfont``, ``bars``); see
                    :mod:`accbench.datasets.band`
``manifest:PATH``   a CSV or JSONL manifest; see :mod:`accbench.datasets.manifest`
``folder:PATH``     ``PATH/<song>/input.*``, ``reference.*``, ``beats.txt``, ``chords.lab``
``slakh:ROOT``      Slakh2100 (option ``input_classes``, ``include_drums``)
``musdb:ROOT``      MUSDB18-HQ (options ``input_stems``, ``reference_stems``)
``moisesdb:ROOT``   MoisesDB (options ``input_stems``, ``reference_stems``)
==================  ==================================================================================

Every reader takes ``on_error="raise"`` (default: the first bad song raises a
:class:`~accbench.errors.DataError` naming the song and the file) or ``"skip"`` (bad songs are listed in
``Dataset.skipped`` as ``(song_id, reason)``), and ``check`` (``"none"``, ``"header"``, ``"full"``: how much
audio is opened before the dataset is returned). ``split`` and ``songs`` filter any dataset.
"""

from __future__ import annotations

from accbench.errors import DataError
from accbench.suggest import did_you_mean

from .band import load_band
from .dataset import Dataset, build_dataset
from .demo import load_demo, write_demo
from .manifest import load_folder, load_manifest
from .song import LoadedSong, Song
from .stems import load_moisesdb, load_musdb, load_slakh

__all__ = [
    "Dataset",
    "LoadedSong",
    "Song",
    "build_dataset",
    "load_band",
    "load_dataset",
    "load_demo",
    "load_folder",
    "load_manifest",
    "load_moisesdb",
    "load_musdb",
    "load_slakh",
    "write_demo",
]

_READERS = {
    "manifest": load_manifest,
    "folder": load_folder,
    "slakh": load_slakh,
    "musdb": load_musdb,
    "moisesdb": load_moisesdb,
}


def _suggestion(head: str) -> str:
    """``" (did you mean 'folder:'?)"`` for a misspelt ``kind:`` (or ``'demo'``), ``""`` when nothing is close."""
    return did_you_mean(head, ["demo", *(f"{name}:" for name in _READERS)])


def load_dataset(spec: str, **options) -> Dataset:
    """Load a dataset from a spec string (see the module docstring).

    Parameters
    ----------
    spec : str
        ``"demo"`` or ``"<kind>:<path>"`` with kind one of manifest, folder, slakh, musdb, moisesdb.
    **options
        Passed to the reader. ``split`` (keep one split) and ``songs`` (keep the first N) apply to every
        kind; for the demo they also decide what is rendered. ``sample_rate`` for the demo is the render
        rate; other readers do not resample until :meth:`Song.load`. For the demo, ``out=DIR`` also
        writes the folder layout and ``manifest.csv`` there (:func:`~accbench.datasets.demo.write_demo`)
        and returns the songs read from it.

    Returns
    -------
    Dataset

    Examples
    --------
    >>> ds = load_dataset("demo", songs=2)  # doctest: +SKIP
    >>> [song.song_id for song in ds]  # doctest: +SKIP
    ['bwv1.6', 'bwv2.6']
    """
    if not isinstance(spec, str) or not spec:
        raise DataError(f"dataset spec must be a non-empty string, got {spec!r}")
    if spec == "demo-band":
        return load_band(**options)
    if spec == "demo":
        out = options.pop("out", None)
        if out is None:
            return load_demo(**options)
        # Materialise as a folder + manifest under `out` and read the songs from there.
        on_error, check = options.pop("on_error", "raise"), options.pop("check", "none")
        manifest = write_demo(out, **options)
        dataset = load_manifest(manifest, on_error=on_error, check=check)
        dataset.name = "demo"
        return dataset
    kind, separator, path = spec.partition(":")
    if not separator or kind not in _READERS:
        raise DataError(
            f"unknown dataset spec {spec!r}{_suggestion(kind + separator)}: use 'demo', 'demo-band' or "
            f"'<kind>:<path>' with kind one of {', '.join(_READERS)}"
        )
    if not path:
        raise DataError(f"dataset spec {spec!r} has no path")
    split = options.pop("split", None)
    songs = options.pop("songs", None)
    dataset = _READERS[kind](path, **options)
    if split is not None or songs is not None:
        dataset = dataset.select(split=split, songs=songs)
    return dataset
