"""Readers for the layouts of public stem datasets: Slakh2100, MUSDB18-HQ and MoisesDB.

Each reader walks a local copy (nothing is downloaded), decides which stems form the *input* and which the
*reference* accompaniment, and returns a :class:`~accbench.datasets.dataset.Dataset` whose songs sum their
stems on load. Songs that lack the input stems are left out and listed in ``Dataset.skipped``: that is a
selection rule, not an error, so it happens whatever ``on_error`` says.

Layouts
-------
Slakh2100 (``slakh2100_flac_redux``)::

    ROOT/{train,validation,test,omitted}/TrackNNNNN/metadata.yaml
    ROOT/.../TrackNNNNN/stems/SNN.flac          (one file per rendered MIDI instrument)

    ``metadata.yaml`` lists each stem's ``inst_class`` (Piano, Guitar, Bass, Strings, Drums, ...),
    ``is_drum`` and ``audio_rendered``. Input = the rendered stems whose class is in ``input_classes``
    (default ``("Piano",)``); reference = every other rendered stem (drums optional). ``ROOT`` may also be
    one split folder. Split ``validation`` is called ``valid``.

MUSDB18-HQ::

    ROOT/{train,test}/<Artist - Title>/{mixture,vocals,drums,bass,other}.wav

    Input = ``input_stems`` (default vocals), reference = ``reference_stems`` (default drums, bass, other).

MoisesDB::

    ROOT/<provider>/<track uuid>/data.json
    ROOT/<provider>/<track uuid>/<stemName>/<source uuid>.<extension>

    ``data.json`` lists ``stems`` (``stemName``: vocals, bass, drums, guitar, piano, other_keys,
    bowed_strings, wind, other_plucked, percussion, other) with their ``tracks`` (``id``, ``extension``).
    Input = the tracks of ``input_stems`` (default vocals); reference = the tracks of ``reference_stems``
    (default: every other stem). ``ROOT`` may also be the provider folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from accbench.errors import DataError

from .dataset import Candidate, Dataset, build_dataset
from .song import Song

__all__ = ["load_moisesdb", "load_musdb", "load_slakh"]

_SLAKH_SPLITS = {"train": "train", "validation": "valid", "test": "test", "omitted": "omitted"}


def _require_dir(root: Path, what: str) -> None:
    if not root.is_dir():
        raise DataError(f"{what} root folder not found", path=str(root))


def load_slakh(
    root: str | Path,
    *,
    input_classes: Sequence[str] = ("Piano",),
    include_drums: bool = True,
    on_error: str = "raise",
    check: str = "header",
    **options,
) -> Dataset:
    """Read a Slakh2100 tree; songs sorted by track id.

    Parameters
    ----------
    root : path
        The dataset folder (holding the split folders) or one split folder.
    input_classes : sequence of str
        Slakh ``inst_class`` names (case-insensitive) whose stems are summed into the input.
    include_drums : bool
        Whether drum stems belong to the reference.
    on_error, check
        See :func:`accbench.datasets.dataset.build_dataset`.
    """
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML ships with most scientific environments
        raise DataError("the Slakh2100 reader needs PyYAML to read metadata.yaml: pip install pyyaml") from None

    root = Path(root)
    _require_dir(root, "Slakh2100")
    wanted = {name.lower() for name in input_classes}
    if not wanted:
        raise DataError("input_classes is empty")
    metadata_files = sorted(
        [*root.glob("*/metadata.yaml"), *root.glob("*/*/metadata.yaml")],
        key=lambda p: (p.parent.name, str(p)),
    )
    if not metadata_files:
        raise DataError("no TrackNNNNN/metadata.yaml found (is this a Slakh2100 folder?)", path=str(root))
    candidates: list[Candidate] = []
    skipped: list[tuple[str, str]] = []
    for metadata_path in metadata_files:
        track = metadata_path.parent
        song_id = track.name
        split = _SLAKH_SPLITS.get(track.parent.name) if track.parent != root else _SLAKH_SPLITS.get(root.name)
        try:
            metadata = yaml.safe_load(metadata_path.read_text(encoding="utf-8"))
            stems = metadata["stems"]
            audio_dir = track / str(metadata.get("audio_dir") or "stems")
            if not isinstance(stems, dict):
                raise TypeError("'stems' is not a mapping")
        except Exception as error:  # yaml errors, missing keys, wrong types: all mean a malformed file
            candidates.append(
                (
                    song_id,
                    _failing(DataError(f"malformed metadata.yaml: {error}", song=song_id, path=str(metadata_path))),
                )
            )
            continue
        inputs, references = [], []
        for stem_id, stem in sorted(stems.items()):
            if not isinstance(stem, dict) or not stem.get("audio_rendered", True):
                continue
            path = audio_dir / f"{stem_id}.flac"
            if not path.exists() and (audio_dir / f"{stem_id}.wav").exists():
                path = audio_dir / f"{stem_id}.wav"
            if str(stem.get("inst_class", "")).lower() in wanted:
                inputs.append(path)
            elif include_drums or not stem.get("is_drum", False):
                references.append(path)
        if not inputs:
            skipped.append((song_id, f"no rendered stem of class {', '.join(input_classes)}"))
            continue
        candidates.append(
            (
                song_id,
                lambda song_id=song_id, inputs=inputs, references=references, split=split, track=track: Song(
                    song_id=song_id,
                    input=inputs,
                    reference=references or None,
                    split=split,
                    metadata={"dataset": "slakh2100", "folder": str(track)},
                ),
            )
        )
    return build_dataset(f"slakh:{root}", candidates, on_error=on_error, check=check, skipped=skipped, **options)


def _failing(error: DataError):
    def make() -> Song:
        raise error

    return make


def load_musdb(
    root: str | Path,
    *,
    input_stems: Sequence[str] = ("vocals",),
    reference_stems: Sequence[str] = ("drums", "bass", "other"),
    on_error: str = "raise",
    check: str = "header",
    **options,
) -> Dataset:
    """Read a MUSDB18-HQ tree (wav stems); songs sorted by split then name.

    Parameters
    ----------
    root : path
        The folder holding ``train`` and ``test``, or one of them.
    input_stems, reference_stems : sequence of str
        Stem names (``vocals``, ``drums``, ``bass``, ``other``; ``mixture`` is the full mix).
    """
    root = Path(root)
    _require_dir(root, "MUSDB18-HQ")
    if set(input_stems) & set(reference_stems):
        raise DataError(f"a stem cannot be both input and reference: {sorted(set(input_stems) & set(reference_stems))}")
    if not input_stems:
        raise DataError("input_stems is empty")
    if root.name in ("train", "test"):
        tracks = [(root.name, p) for p in sorted(root.iterdir()) if p.is_dir()]
    else:
        tracks = [
            (split, p)
            for split in ("train", "test")
            if (root / split).is_dir()
            for p in sorted((root / split).iterdir())
            if p.is_dir()
        ]
    if not tracks:
        raise DataError("no train/ or test/ track folders found (is this a MUSDB18-HQ folder?)", path=str(root))
    candidates: list[Candidate] = []
    for split, track in tracks:
        song_id = track.name

        def make(track=track, split=split, song_id=song_id) -> Song:
            return Song(
                song_id=song_id,
                input=[track / f"{stem}.wav" for stem in input_stems],
                reference=[track / f"{stem}.wav" for stem in reference_stems] or None,
                split=split,
                metadata={"dataset": "musdb18hq", "folder": str(track)},
            )

        candidates.append((song_id, make))
    return build_dataset(f"musdb:{root}", candidates, on_error=on_error, check=check, **options)


def load_moisesdb(
    root: str | Path,
    *,
    input_stems: Sequence[str] = ("vocals",),
    reference_stems: Sequence[str] | None = None,
    on_error: str = "raise",
    check: str = "header",
    **options,
) -> Dataset:
    """Read a MoisesDB tree; songs sorted by track id.

    Parameters
    ----------
    root : path
        The folder holding provider folders (e.g. ``moisesdb_v0.1``), or a provider folder.
    input_stems : sequence of str
        ``stemName`` values summed into the input.
    reference_stems : sequence of str or None
        ``stemName`` values summed into the reference; ``None``: every stem not in ``input_stems``.
    """
    root = Path(root)
    _require_dir(root, "MoisesDB")
    if not input_stems:
        raise DataError("input_stems is empty")
    data_files = sorted(root.glob("*/data.json")) + sorted(root.glob("*/*/data.json"))
    if not data_files:
        raise DataError("no <track>/data.json found (is this a MoisesDB folder?)", path=str(root))
    data_files.sort(key=lambda p: p.parent.name)
    candidates: list[Candidate] = []
    skipped: list[tuple[str, str]] = []
    for data_path in data_files:
        track = data_path.parent
        song_id = track.name
        try:
            data = json.loads(data_path.read_text(encoding="utf-8"))
            stems = {}
            for stem in data["stems"]:
                files = [track / stem["stemName"] / f"{t['id']}.{t.get('extension', 'wav')}" for t in stem["tracks"]]
                stems.setdefault(str(stem["stemName"]), []).extend(files)
        except (OSError, ValueError, KeyError, TypeError) as error:
            message = f"malformed data.json: {type(error).__name__}: {error}"
            candidates.append((song_id, _failing(DataError(message, song=song_id, path=str(data_path)))))
            continue
        inputs = [path for name in input_stems for path in stems.get(name, [])]
        reference_names = (
            [n for n in sorted(stems) if n not in input_stems] if reference_stems is None else list(reference_stems)
        )
        references = [path for name in reference_names for path in stems.get(name, [])]
        if not inputs:
            skipped.append((song_id, f"no {', '.join(input_stems)} stem"))
            continue
        title = " - ".join(str(data[key]) for key in ("artist", "song") if data.get(key))
        candidates.append(
            (
                song_id,
                lambda song_id=song_id, inputs=inputs, references=references, title=title, track=track: Song(
                    song_id=song_id,
                    input=inputs,
                    reference=references or None,
                    metadata={"dataset": "moisesdb", "title": title, "folder": str(track)},
                ),
            )
        )
    return build_dataset(f"moisesdb:{root}", candidates, on_error=on_error, check=check, skipped=skipped, **options)
