"""Metrics of a whole set of songs per (model, config): the Frechet distance of embeddings.

Some coherence measures are defined over a set, not a song: the Frechet distance between the window
embeddings of every generated mix (input + output) and every reference mix (input + reference) of one
(model, config). After a sweep, :func:`frechet_per_config` reads each output back from the run folder,
takes its window embeddings (cache hits: the workers embedded the same audio while scoring) and writes one
row per (model, model version, config, seed) with a seeded bootstrap interval to ``set_metrics.csv``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from accbench.audio import load_audio
from accbench.datasets import Song

__all__ = ["SET_KEYS", "frechet_per_config"]

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
    from accbench.metrics.embedding import mix_window_embeddings
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
            song = songs.get(row.song)
            path = out_dir / "audio" / str(row.model) / str(row.config_id) / f"{row.song}.wav"
            if song is None or song.reference is None or not path.is_file():
                continue
            output, sample_rate = load_audio(path, song=row.song)
            if (row.song, sample_rate) not in loaded_songs:  # each song is read once, not once per config
                loaded_songs[(row.song, sample_rate)] = song.load(sample_rate)
            loaded = loaded_songs[(row.song, sample_rate)]
            mixes = mix_window_embeddings(
                loaded.input,
                output,
                sample_rate,
                reference=loaded.reference,
                embedder=embedder,
                cache=cache,
                song=row.song,
            )
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
