"""Compile librosa's numba kernels once per environment, one process at a time.

The default analyzers run on librosa, whose numba kernels compile on first use (about 40 s on one core, see
``benchmarks/first_run.py``) and are cached on disk by numba: in ``$NUMBA_CACHE_DIR`` when set, else in
``__pycache__`` beside librosa's source when that is writable, else in numba's per-user folder
(:func:`numba_cache_folder`). Later processes load them in a fraction of a second each.

numba's cache is not safe for processes that compile the same function at the same time: numba 0.68 stores a
gufunc as two entries (the kernel and its ``guf-`` wrapper), and when two processes each write one of the pair
the two do not fit: every later process that loads them dies with a segmentation fault in ``librosa.beat``.
That is what a first ``accbench run`` with several workers on a fresh environment does (each worker compiles).
:func:`warm_up` avoids it: under an exclusive file lock beside the cache, the first process compiles the
kernels by analysing a 2 s test signal and leaves a marker; the others wait for the lock, then only load. With
the marker present it returns at once. Results of the analyzers do not change: the same kernels are compiled,
only not concurrently.

A cache already broken this way is repaired by deleting it (``find <folder> -name '*.nb[ci]' -delete``;
``accbench doctor`` prints the folder).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import os
import platform
import sys
import time
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

__all__ = ["marker_path", "numba_cache_folder", "warm_up"]


def _user_wide_folder() -> Path:
    """numba's per-user cache folder (``numba.misc.appdirs.user_cache_dir("numba")``, without importing numba)."""
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "numba"
    if os.name == "nt":
        return Path(os.environ.get("LOCALAPPDATA") or Path.home()) / "numba" / "numba" / "Cache"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "numba"


def numba_cache_folder() -> tuple[Path, str]:
    """Where numba caches librosa's kernels, and which rule chose it (numba's own order).

    Returns
    -------
    folder : Path
        ``$NUMBA_CACHE_DIR``; else librosa's package folder (the kernels go into its ``__pycache__`` folders)
        when writable; else numba's per-user folder.
    rule : {"NUMBA_CACHE_DIR", "librosa", "user"}
    """
    if os.environ.get("NUMBA_CACHE_DIR"):
        return Path(os.environ["NUMBA_CACHE_DIR"]), "NUMBA_CACHE_DIR"
    spec = importlib.util.find_spec("librosa")
    if spec is not None and spec.origin and os.access(Path(spec.origin).parent, os.W_OK):
        return Path(spec.origin).parent, "librosa"
    return _user_wide_folder(), "user"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "none"


def marker_path() -> Path:
    """The file that says this cache holds the kernels of this numba, librosa, Python and machine."""
    folder, rule = numba_cache_folder()
    text = "|".join((_version("numba"), _version("librosa"), sys.implementation.cache_tag, platform.machine()))
    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    return (folder / "__pycache__" if rule == "librosa" else folder) / f"accbench-warm-{key}"


@contextlib.contextmanager
def _exclusive(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (POSIX ``flock``); without ``flock`` or a writable folder, no lock.

    A folder numba cannot write to holds no cache entries to race on; on Windows concurrent first runs may
    still race.
    """
    try:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a")  # noqa: SIM115 (closed below, after the lock is released)
    except (ImportError, OSError):
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()  # releases the lock


def _compile() -> None:
    """Run every default analyzer on a 2 s test signal (in-memory cache): numba compiles or loads each kernel."""
    import numpy as np

    from accbench.metrics import analysis
    from accbench.metrics.cache import AnalysisCache

    sample_rate = analysis.ANALYSIS_SAMPLE_RATE
    t = np.arange(2 * sample_rate) / sample_rate
    signal = (0.3 * np.sin(2 * np.pi * 220.0 * t) * (np.sin(2 * np.pi * 2.0 * t) > 0)).astype(np.float32)
    cache = AnalysisCache()
    for analyzer in (analysis.beats, analysis.onsets, analysis.chroma, analysis.chords, analysis.key):
        analyzer(signal, sample_rate, cache=cache)


def warm_up(compile: Callable[[], None] | None = None) -> float:
    """Make sure librosa's numba kernels are compiled and cached, compiling them in one process at a time.

    Call it in each worker process before its first analysis; it is cheap once the cache is warm.

    Parameters
    ----------
    compile : callable or None
        What compiles the kernels (default: every default analyzer on a 2 s signal); for tests.

    Returns
    -------
    seconds : float
        Wall time spent compiling or loading under the lock; 0.0 when the marker said the cache was warm.
    """
    marker = marker_path()
    if marker.is_file():
        return 0.0
    with _exclusive(marker.with_name("accbench-warm.lock")):
        if marker.is_file():  # another process compiled while this one waited
            return 0.0
        began = time.perf_counter()
        (compile or _compile)()
        with contextlib.suppress(OSError):  # read-only folder: nothing was cached, nothing can race
            marker.write_text(f"librosa kernels compiled by pid {os.getpid()}\n")
        return time.perf_counter() - began
