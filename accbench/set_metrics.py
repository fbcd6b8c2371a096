"""Metrics of a whole set of songs per (model, config): the Frechet distance of embeddings.

Some coherence measures are defined over a set, not a song: the Frechet distance between the window
embeddings of every generated mix (input + output) and every reference mix (input + reference) of one
(model, config). After a sweep, :func:`frechet_per_config` reads each song's window embeddings from the run
folder (``embeddings/<model>/<config_id>/<song>.npz``: the workers embedded the float output they scored, so
set and per-song metrics come from the same audio, whatever ``write_audio`` keeps) and writes one row per
(model, model version, config, seed) with a seeded bootstrap interval to ``set_metrics.csv``. Runs written
before these files existed are read from their output audio (``.wav`` or ``.flac``) instead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from accbench.audio import load_audio
from accbench.datasets import Song

__all__ = ["SET_KEYS", "frechet_per_config", "output_audio_paths"]

log = logging.getLogger(__name__)

SET_KEYS = ["model", "model_version", "config_id", "seed"]


def frechet_per_config(
    results: pd.DataFrame,
    songs: Mapping[str, Song],
    out_dir: Path,
    *,
    embedding: Mapping[str, Any],
    cache_dir: str | None,
    bootstrap: int = 200,
) -> pd.DataFrame:
    """One row per (model, model version, config, seed): Frechet distance over songs with its interval.

    Parameters
    ----------
    results : DataFrame
        The sweep's results (rows of songs whose output audio is in ``out_dir/audio``).
    songs : mapping of song id to Song
    out_dir : Path
        The run folder.
    embedding : mapping
        ``embedder`` and its options, as the sweep scored with.
    cache_dir : str or None
        The analysis cache the workers used.
    bootstrap : int
        Bootstrap resamples over songs.

    Returns
    -------
    DataFrame
        ``SET_KEYS`` + config columns + ``embedding.<prefix>frechet``, ``..._ci_low``, ``..._ci_high``,
        ``..._n_songs``, ``..._n_generated``, ``..._n_reference``; empty when nothing could be computed.
    """
    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.embedders import get_embedder
    from accbench.metrics.frechet import frechet_over_songs

    options = dict(embedding)
    name = options.pop("embedder", "auto")
    embedder = get_embedder(name, **options)
    cache = AnalysisCache(cache_dir)
    prefix = f"embedding.{embedder.metric_prefix}frechet"
    rows = []
    loaded_songs: dict[tuple[str, int], Any] = {}
    if results.empty:
        return pd.DataFrame(columns=SET_KEYS)
    from accbench.results import CONFIG_COLUMNS

    config_columns = [
        c for c in (*CONFIG_COLUMNS, "feasible", "baseline", "causal") if c != "config_id" and c in results.columns
    ]
    for key, group in results.groupby(SET_KEYS, sort=True):
        generated, reference = [], []
        for row in group.itertuples(index=False):
            mixes = _song_mixes(row, songs, out_dir, loaded_songs, embedder, cache)
            if mixes is not None:
                generated.append(mixes[0])
                reference.append(mixes[1])
        if len(generated) < 2:
            log.info("set metrics: %s has fewer than 2 songs with output audio and a reference; skipped", key)
            continue
        values = frechet_over_songs(generated, reference, bootstrap=bootstrap, seed=int(key[3]), prefix=prefix)
        first = group.iloc[0]
        rows.append(
            {
                **dict(zip(SET_KEYS, key, strict=True)),
                **{c: first[c] for c in config_columns},
                "embedding.embedder": embedder.label,
                **values,
            }
        )
    return pd.DataFrame(rows)


def _song_mixes(
    row: Any,
    songs: Mapping[str, Song],
    out_dir: Path,
    loaded_songs: dict[tuple[str, int], Any],
    embedder: Any,
    cache: Any,
) -> tuple[Any, Any] | None:
    """One results row's (output-mix, reference-mix) window embeddings, or ``None`` when there are none.

    From ``embeddings/<model>/<config_id>/<song>.npz`` when the sweep wrote it; else (older runs) embedded from
    the output audio file (``.flac``, or ``.wav``) and the song's input and reference.
    """
    import numpy as np

    from accbench.metrics.embedding import mix_window_embeddings

    folder = Path(str(row.model)) / str(row.config_id)
    stored = out_dir / "embeddings" / folder / f"{row.song}.npz"
    if stored.is_file():
        with np.load(stored) as arrays:
            return arrays["generated"], arrays["reference"]
    song = songs.get(row.song)
    path = next((p for p in output_audio_paths(out_dir, row.model, row.config_id, row.song) if p.is_file()), None)
    if song is None or song.reference is None or path is None:
        return None
    output, sample_rate = load_audio(path, song=row.song)
    if (row.song, sample_rate) not in loaded_songs:  # each song is read once, not once per config
        loaded_songs[(row.song, sample_rate)] = song.load(sample_rate)
    loaded = loaded_songs[(row.song, sample_rate)]
    return mix_window_embeddings(
        loaded.input, output, sample_rate, reference=loaded.reference, embedder=embedder, cache=cache, song=row.song
    )


def output_audio_paths(out_dir: Path, model: Any, config_id: Any, song: Any) -> list[Path]:
    """Where a run folder may hold one output's audio, newest layout first (``.flac``, then old runs' ``.wav``)."""
    folder = Path(out_dir) / "audio" / str(model) / str(config_id)
    return [folder / f"{song}.flac", folder / f"{song}.wav"]
