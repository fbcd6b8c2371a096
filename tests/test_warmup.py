"""Compiling librosa's numba kernels one process at a time (``accbench.metrics.warmup``)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from accbench.metrics import warmup


@pytest.fixture(autouse=True)
def _numba_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "numba"
    monkeypatch.setenv("NUMBA_CACHE_DIR", str(folder))
    return folder


def test_cache_folder_follows_numba_cache_dir(_numba_cache: Path) -> None:
    assert warmup.numba_cache_folder() == (_numba_cache, "NUMBA_CACHE_DIR")
    assert warmup.marker_path().parent == _numba_cache


def test_concurrent_callers_compile_once_and_the_marker_skips_later_calls() -> None:
    calls: list[int] = []
    inside = threading.Event()

    def slow_compile() -> None:
        calls.append(1)
        inside.set()
        time.sleep(0.3)  # the other caller arrives while this one compiles

    results: list[float] = []
    first = threading.Thread(target=lambda: results.append(warmup.warm_up(slow_compile)))
    first.start()
    assert inside.wait(5)
    second = threading.Thread(target=lambda: results.append(warmup.warm_up(slow_compile)))
    second.start()
    first.join(5)
    second.join(5)
    assert calls == [1]  # the second waited for the lock, then found the marker
    assert sorted(results)[0] == 0.0 and sorted(results)[1] >= 0.3
    assert warmup.marker_path().is_file()
    assert warmup.warm_up(lambda: calls.append(2)) == 0.0 and calls == [1]


def test_a_failed_compile_leaves_no_marker() -> None:
    def broken() -> None:
        raise RuntimeError("no compiler")

    with pytest.raises(RuntimeError):
        warmup.warm_up(broken)
    assert not warmup.marker_path().exists()


def test_marker_depends_on_the_numba_version(monkeypatch: pytest.MonkeyPatch) -> None:
    before = warmup.marker_path()
    monkeypatch.setattr(warmup, "_version", lambda name: "0.0-other")
    assert warmup.marker_path() != before
