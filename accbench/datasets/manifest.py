"""Datasets described by a manifest file (CSV or JSONL) or by a folder layout.

Manifest
--------
One row per song. Columns (CSV header names, or JSONL keys):

============  ========  ==========================================================================
column        required  meaning
============  ========  ==========================================================================
song_id       yes       unique id
input         yes       audio path; several stems to sum: ``a.wav;b.wav`` in CSV, a list in JSONL
reference     no        accompaniment path(s), same forms
beats         no        beat file: ``time`` or ``time position`` per line (position 1 = downbeat)
downbeats     no        downbeat file: one time per line (overrides positions in ``beats``)
chords        no        ``.lab`` file: ``start end label`` per line, mir_eval labels
split         no        ``train`` / ``valid`` / ``test`` or any name
sample_rate   no        Hz every audio file of the song must have (checked)
============  ========  ==========================================================================

Relative paths are relative to the manifest's folder. Any other column is kept in ``Song.metadata``. Empty
cells mean "absent".

Folder layout
-------------
``<root>/<song_id>/input.<ext>``, optional ``reference.<ext>``, ``beats.txt``, ``downbeats.txt``,
``chords.lab``, and optional ``split.txt`` (one word). ``<ext>`` is any of wav, flac, ogg, aiff, mp3.
Sub-folders without an ``input.*`` file are reported as skipped.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from accbench.annotations import Annotations, read_beats, read_chords
from accbench.errors import DataError

from .dataset import Candidate, Dataset, build_dataset
from .song import Song

__all__ = ["AUDIO_EXTENSIONS", "load_folder", "load_manifest", "make_annotations", "write_manifest_csv"]

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aiff", ".aif", ".mp3")
_KNOWN = {"song_id", "input", "reference", "beats", "downbeats", "chords", "split", "sample_rate"}


def make_annotations(
    song_id: str,
    beats: Path | None = None,
    downbeats: Path | None = None,
    chords: Path | None = None,
) -> Annotations | None:
    """Read annotation files into :class:`Annotations`; errors name the song and the file.

    Returns None when no file is given.
    """
    if beats is None and downbeats is None and chords is None:
        return None
    beat_times = downbeat_times = intervals = labels = None
    if beats is not None:
        beat_times, downbeat_times = read_beats(beats, song=song_id)
    if downbeats is not None:
        downbeat_times, _ = read_beats(downbeats, song=song_id)
    if chords is not None:
        intervals, labels = read_chords(chords, song=song_id)
    try:
        return Annotations(
            beats=beat_times,
            downbeats=downbeat_times,
            chord_intervals=intervals,
            chord_labels=labels,
            song=song_id,
        )
    except DataError as error:
        culprit = chords if "chord" in error.reason else (downbeats if "downbeat" in error.reason else beats)
        raise DataError(error.reason, song=song_id, path=None if culprit is None else str(culprit)) from None


def _paths(value: Any, base: Path, column: str, where: str, song_id: str) -> list[Path] | None:
    if value is None or value == "" or value == []:
        return None
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(";") if part.strip()]
    elif isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
        parts = [v.strip() for v in value]
    else:
        raise DataError(f"{where}: column {column!r} must be a path or a list of paths, got {value!r}", song=song_id)
    return [(base / part) if not Path(part).is_absolute() else Path(part) for part in parts]


def _one_path(value: Any, base: Path, column: str, where: str, song_id: str) -> Path | None:
    paths = _paths(value, base, column, where, song_id)
    if paths is not None and len(paths) != 1:
        raise DataError(f"{where}: column {column!r} must name one file", song=song_id)
    return None if paths is None else paths[0]


def _song_from_row(row: dict[str, Any], base: Path, where: str, manifest: Path) -> tuple[str, Callable[[], Song]]:
    raw_id = row.get("song_id")
    if not isinstance(raw_id, (str, int)) or not str(raw_id).strip():
        raise DataError(f"{where}: missing song_id", path=str(manifest))
    song_id = str(raw_id).strip()

    def make() -> Song:
        try:
            inputs = _paths(row.get("input"), base, "input", where, song_id)
            if inputs is None:
                raise DataError(f"{where}: missing input", song=song_id)
            references = _paths(row.get("reference"), base, "reference", where, song_id)
            beats = _one_path(row.get("beats"), base, "beats", where, song_id)
            downbeats = _one_path(row.get("downbeats"), base, "downbeats", where, song_id)
            chords = _one_path(row.get("chords"), base, "chords", where, song_id)
            rate = row.get("sample_rate")
            sample_rate = None
            if rate not in (None, ""):
                try:
                    sample_rate = int(str(rate))
                except ValueError:
                    raise DataError(f"{where}: sample_rate {rate!r} is not an integer", song=song_id) from None
        except DataError as error:
            if error.path is None:
                raise DataError(error.reason, song=song_id, path=str(manifest)) from None
            raise
        split = row.get("split") or None
        return Song(
            song_id=song_id,
            input=inputs,
            reference=references,
            annotations=make_annotations(song_id, beats, downbeats, chords),
            split=None if split is None else str(split),
            sample_rate=sample_rate,
            metadata={key: value for key, value in row.items() if key not in _KNOWN and value not in (None, "")},
        )

    return song_id, make


def _rows(path: Path) -> Iterator[tuple[str, dict[str, Any] | DataError]]:
    """Yield ``(where, row)`` for each row, or ``(where, DataError)`` for a malformed one."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"cannot read manifest: {error}", path=str(path)) from None
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as error:
                yield where, DataError(f"{where}: not valid JSON ({error.msg})", path=str(path))
                continue
            if not isinstance(row, dict):
                yield where, DataError(f"{where}: expected a JSON object", path=str(path))
                continue
            yield where, row
        return
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or "song_id" not in reader.fieldnames or "input" not in reader.fieldnames:
        raise DataError("CSV manifest needs a header with at least 'song_id' and 'input'", path=str(path))
    for row in reader:
        where = f"row {reader.line_num}"
        if None in row:
            yield where, DataError(f"{where}: more cells than header columns", path=str(path))
            continue
        if any(value is None for value in row.values()):
            yield where, DataError(f"{where}: fewer cells than header columns", path=str(path))
            continue
        yield where, {key.strip(): value.strip() for key, value in row.items()}


def load_manifest(path: str | Path, *, on_error: str = "raise", check: str = "header", **options) -> Dataset:
    """Read a CSV or JSONL manifest (see the module docstring).

    Parameters
    ----------
    path : path
        ``.csv`` or ``.jsonl`` file.
    on_error : {"raise", "skip"}
        Raise on the first bad row or song, or skip it and record it in ``Dataset.skipped``.
    check : {"none", "header", "full"}
        How much of the audio to check now (see :func:`accbench.datasets.dataset.build_dataset`).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("manifest not found", path=str(path))
    candidates: list[Candidate] = []
    for where, row in _rows(path):
        if isinstance(row, DataError):
            error = row
        else:
            try:
                candidates.append(_song_from_row(row, path.parent, where, path))
                continue
            except DataError as problem:
                error = problem
        if on_error == "raise":
            raise error
        candidates.append((f"<{where}>", lambda error=error: _raise(error)))
    return build_dataset(f"manifest:{path}", candidates, on_error=on_error, check=check, **options)


def _raise(error: DataError) -> Song:
    raise error


def _find(folder: Path, stem: str, song_id: str) -> Path | None:
    found = sorted(p for p in folder.glob(f"{stem}.*") if p.suffix.lower() in AUDIO_EXTENSIONS)
    if len(found) > 1:
        raise DataError(f"several {stem} files: {', '.join(p.name for p in found)}", song=song_id, path=str(folder))
    return found[0] if found else None


def load_folder(root: str | Path, *, on_error: str = "raise", check: str = "header", **options) -> Dataset:
    """Read a folder layout ``<root>/<song_id>/input.*`` (see the module docstring); songs sorted by id."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("dataset folder not found", path=str(root))
    candidates: list[Candidate] = []
    skipped: list[tuple[str, str]] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        song_id = folder.name
        if not any(p.name.startswith("input.") for p in folder.iterdir()):
            skipped.append((song_id, f"no input.* file in {folder}"))
            continue

        def make(folder: Path = folder, song_id: str = song_id) -> Song:
            inp = _find(folder, "input", song_id)
            if inp is None:
                raise DataError("no input audio file (wav, flac, ogg, aiff, mp3)", song=song_id, path=str(folder))
            split_file = folder / "split.txt"
            split = None
            if split_file.is_file():
                split = split_file.read_text(encoding="utf-8").strip() or None
            optional = {name: folder / name for name in ("beats.txt", "downbeats.txt", "chords.lab")}
            present = {name: path if path.is_file() else None for name, path in optional.items()}
            return Song(
                song_id=song_id,
                input=inp,
                reference=_find(folder, "reference", song_id),
                annotations=make_annotations(
                    song_id, present["beats.txt"], present["downbeats.txt"], present["chords.lab"]
                ),
                split=split,
            )

        candidates.append((song_id, make))
    return build_dataset(f"folder:{root}", candidates, on_error=on_error, check=check, skipped=skipped, **options)


def write_manifest_csv(path: str | Path, rows: list[dict[str, str]]) -> None:
    """Write manifest rows (column -> text) as CSV, atomically; the standard columns come first."""
    from io import StringIO

    from accbench.atomic import atomic_write_text

    order = ["song_id", "input", "reference", "beats", "downbeats", "chords", "split", "sample_rate"]
    extra = sorted({key for row in rows for key in row} - set(order))
    columns = [c for c in order if any(c in row for row in rows)] + extra
    buffer = StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({column: row.get(column, "") for column in columns})
    atomic_write_text(path, buffer.getvalue())
