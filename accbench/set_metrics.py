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

__all__ = ["SET_KEYS", "frechet_per_config", "merge_set_metrics", "output_audio_paths", "vggish_fad_per_config"]

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


def vggish_fad_per_config(
    results: pd.DataFrame,
    songs: Mapping[str, Song],
    out_dir: Path,
    *,
    weights: str | None = None,
    normalize_lufs: float | None = -18.0,
    cache_dir: str | None = None,
    bootstrap: int = 200,
    mixes: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The paper's VGGish FAD per (model, model version, config, seed), and fadtk's per-song FAD.

    The generated set is every song's output audio in the run folder (``audio/<model>/<config_id>/``), the
    reference set the same songs' reference accompaniments (:mod:`accbench.metrics.vggish`: stems at -18 LUFS,
    16 kHz, no PCA, no final ReLU). Rows without output audio or without a reference are left out.

    Parameters
    ----------
    results : DataFrame
        The sweep's results.
    songs : mapping of song id to Song
    out_dir : Path
        The run folder.
    weights : str or None
        ``vggish-10086976.pth`` (default ``$ACCBENCH_VGGISH_WEIGHTS``).
    normalize_lufs : float or None
        Loudness of every stem before embedding (the paper: -18 LUFS).
    cache_dir : str or None
        Analysis cache folder.
    bootstrap : int
        Resamples of songs for the interval.
    mixes : bool
        Score the mixes instead of the stems (the paper's ``--sub_fad``): input + stem, the stem at one input
        stem's loudness + 5 dB, the mix at -18 LUFS (:func:`accbench.loudness.mix_with_stem`).

    Returns
    -------
    per_config : DataFrame
        ``SET_KEYS`` + ``vggish.fad``, ``vggish.fad_ci_low``, ``vggish.fad_ci_high``, ``vggish.fad_n_songs``,
        ``vggish.fad_n_generated``, ``vggish.fad_n_reference``, ``vggish.fad_inf``, ``vggish.fad_inf_r2``,
        ``vggish.weights``.
    per_song : DataFrame
        ``SET_KEYS`` + ``song`` + ``vggish.fad_song``.
    """
    from accbench.metrics.cache import AnalysisCache
    from accbench.metrics.vggish import fad_over_songs, fad_per_song, get_model, vggish_embeddings

    model = get_model(weights)
    cache = AnalysisCache(cache_dir)
    rows, song_rows = [], []
    options = {"normalize_lufs": normalize_lufs, "cache": cache}
    # Per (song, sample rate): its stems and its reference embedding, the same for every config.
    loaded: dict[tuple[str, int], Any] = {}
    references: dict[tuple[str, int], Any] = {}

    def scored(audio: Any, stems: Any, sample_rate: int) -> Any:
        """What the FAD embeds: the stem, or with ``mixes`` the paper's input + stem mix."""
        if not mixes:
            return audio
        from accbench.audio import match_channels
        from accbench.loudness import mix_with_stem

        x = match_channels(stems.input, 1)[0]
        return mix_with_stem(x, _fit_length(match_channels(audio, 1)[0], x.shape[0]), sample_rate).audio

    groups = [] if results.empty else results.groupby(SET_KEYS, sort=True)
    for key, group in groups:
        names, generated, reference = [], [], []
        for row in group.itertuples(index=False):
            song = songs.get(row.song)
            paths = output_audio_paths(out_dir, row.model, row.config_id, row.song)
            path = next((p for p in paths if p.is_file()), None)
            if song is None or song.reference is None or path is None:
                continue
            output, sample_rate = load_audio(path, song=row.song)
            at = (row.song, sample_rate)
            if at not in loaded:
                loaded[at] = song.load(sample_rate)
                audio = scored(loaded[at].reference, loaded[at], sample_rate)
                references[at] = vggish_embeddings(audio, sample_rate, model, song=row.song, **options)
            names.append(row.song)
            generated.append(
                vggish_embeddings(scored(output, loaded[at], sample_rate), sample_rate, model, song=row.song, **options)
            )
            reference.append(references[at])
        if len(generated) < 2:
            log.info("vggish FAD: %s has fewer than 2 songs with output audio and a reference; skipped", key)
            continue
        identity = dict(zip(SET_KEYS, key, strict=True))
        values = fad_over_songs(generated, reference, bootstrap=bootstrap, seed=int(key[3]))
        rows.append({**identity, **values, "vggish.weights": model.label})
        for name, value in zip(names, fad_per_song(generated, reference), strict=True):
            song_rows.append({**identity, "song": name, "vggish.fad_song": float(value)})
    return pd.DataFrame(rows, columns=None if rows else SET_KEYS), pd.DataFrame(song_rows)


def _fit_length(audio: Any, n_samples: int) -> Any:
    """``audio`` (1-D) trimmed, or zero-padded, to ``n_samples``."""
    import numpy as np

    return audio[:n_samples] if audio.shape[0] >= n_samples else np.pad(audio, (0, n_samples - audio.shape[0]))


def merge_set_metrics(results: pd.DataFrame, *tables: pd.DataFrame) -> pd.DataFrame:
    """Set-metric tables of one run joined on :data:`SET_KEYS` (outer), with the config columns of each key.

    Parameters
    ----------
    results : DataFrame
        The sweep's results (where the config columns come from).
    *tables : DataFrame
        Tables with the :data:`SET_KEYS` columns, e.g. :func:`frechet_per_config` and the first table of
        :func:`vggish_fad_per_config`; empty ones are left out.

    Returns
    -------
    DataFrame
        One row per key found in any table: ``SET_KEYS``, the config columns, then every table's own columns.
    """
    from accbench.results import CONFIG_COLUMNS

    present = [table for table in tables if not table.empty and set(SET_KEYS) <= set(table.columns)]
    if not present:
        return pd.DataFrame(columns=SET_KEYS)
    context = [c for c in (*CONFIG_COLUMNS, "feasible", "baseline", "causal") if c != "config_id" and c in results]

    def keyed(table: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        typed = {key: table[key].fillna("").astype(str) for key in ("model", "model_version", "config_id")}
        return table.assign(**typed, seed=table["seed"].astype(int))[columns]

    merged = keyed(present[0], [c for c in present[0].columns if c not in context])
    for table in present[1:]:
        merged = merged.merge(keyed(table, [c for c in table.columns if c not in context]), on=SET_KEYS, how="outer")
    keys = keyed(results, [*SET_KEYS, *context]).drop_duplicates(SET_KEYS)
    merged = keys.merge(merged, on=SET_KEYS, how="right")
    own = [c for c in merged.columns if c not in (*SET_KEYS, *context)]
    return merged[[*SET_KEYS, *context, *own]].sort_values(SET_KEYS).reset_index(drop=True)
