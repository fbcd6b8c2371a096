"""On-disk cache of analyses, keyed by audio content, analyzer name, analyzer version and parameters.

An analysis of an input or reference (beats, chords, chroma, embeddings) is computed once per song and
reused by every config of a sweep. The key is a SHA-256 of the audio bytes (with shape, dtype and sample
rate), the analyzer's name and version, and its parameters, so a changed file, a changed parameter or a
new analyzer version never reuses a stale result (unlike caches keyed by file name).

Values are dicts of numpy arrays (numbers or strings), stored as ``.npz`` without pickle and written
atomically. ``stats`` counts computations and hits per analyzer, which tests use to check that a sweep
analyses each song once.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from accbench.atomic import atomic_path

__all__ = ["AnalysisCache", "audio_hash", "default_cache", "default_cache_dir"]


def default_cache_dir() -> Path:
    """``$ACCBENCH_CACHE``, else ``~/.cache/accbench``."""
    root = os.environ.get("ACCBENCH_CACHE")
    return Path(root) if root else Path.home() / ".cache" / "accbench"


def audio_hash(audio: np.ndarray, sample_rate: int) -> str:
    """SHA-256 hex digest of an audio array's content, shape, dtype and sample rate."""
    array = np.ascontiguousarray(audio)
    digest = hashlib.sha256()
    digest.update(f"{array.dtype.str}|{array.shape}|{int(sample_rate)}|".encode())
    digest.update(array.tobytes())
    return digest.hexdigest()


def _params_key(params: Mapping[str, object]) -> str:
    return json.dumps(params, sort_keys=True, default=str, separators=(",", ":"))


class AnalysisCache:
    """Analyses cached in memory and, when ``root`` is given, on disk.

    Parameters
    ----------
    root : path or None
        Folder for ``.npz`` files; ``None`` keeps results in memory only.
    """

    def __init__(self, root: str | os.PathLike | None = None) -> None:
        self.root = Path(root) if root is not None else None
        self._memory: dict[str, dict[str, np.ndarray]] = {}
        self._lock = threading.Lock()
        self.computed: Counter[str] = Counter()
        self.hits: Counter[str] = Counter()

    def key(self, analyzer: str, version: str, content_hash: str, params: Mapping[str, object]) -> str:
        """The cache key of one analysis."""
        text = f"{analyzer}|{version}|{content_hash}|{_params_key(params)}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, analyzer: str, key: str) -> Path | None:
        if self.root is None:
            return None
        return self.root / analyzer / key[:2] / f"{key}.npz"

    def get_or_compute(
        self,
        analyzer: str,
        version: str,
        content_hash: str,
        params: Mapping[str, object],
        compute: Callable[[], Mapping[str, np.ndarray]],
    ) -> dict[str, np.ndarray]:
        """Return the cached analysis, computing and storing it on a miss.

        Parameters
        ----------
        analyzer : str
            Analyzer name (a folder name: letters, digits, ``-``, ``_``, ``.``).
        version : str
            Analyzer version; bump it whenever the analyzer's output changes.
        content_hash : str
            From :func:`audio_hash` (or a hash combining several inputs).
        params : mapping
            JSON-serialisable parameters that affect the result.
        compute : callable
            Returns a mapping of names to arrays (numeric or string; no object arrays).
        """
        key = self.key(analyzer, version, content_hash, params)
        with self._lock:
            if key in self._memory:
                self.hits[analyzer] += 1
                return self._memory[key]
        path = self._path(analyzer, key)
        if path is not None and path.is_file():
            try:
                with np.load(path, allow_pickle=False) as stored:
                    value = {name: stored[name] for name in stored.files}
            except (OSError, ValueError, EOFError):
                value = None  # an unreadable entry is recomputed and replaced
            if value is not None:
                with self._lock:
                    self._memory[key] = value
                    self.hits[analyzer] += 1
                return value
        value = {name: np.asarray(array) for name, array in compute().items()}
        for name, array in value.items():
            if array.dtype == object:
                raise TypeError(f"analyzer {analyzer!r} returned an object array for {name!r}; cannot cache it")
        if path is not None:
            with atomic_path(path) as temporary, open(temporary, "wb") as handle:
                np.savez(handle, **value)
        with self._lock:
            self._memory[key] = value
            self.computed[analyzer] += 1
        return value

    def clear_memory(self) -> None:
        """Forget in-memory entries (on-disk entries stay)."""
        with self._lock:
            self._memory.clear()


_DEFAULT: AnalysisCache | None = None


def default_cache() -> AnalysisCache:
    """The process-wide cache used when a caller passes none (memory only unless ``ACCBENCH_CACHE`` is set)."""
    global _DEFAULT
    if _DEFAULT is None:
        root = os.environ.get("ACCBENCH_CACHE")
        _DEFAULT = AnalysisCache(root if root else None)
    return _DEFAULT
