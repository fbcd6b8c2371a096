"""SHA-256 digests of files that key caches and results (checkpoints, model folders, SoundFonts).

A leaf module (standard library only). Digests are memoised per resolved path, size and modification time,
so a file read by several analyzers in one process is hashed once, and a file replaced in place is hashed
again.

- :func:`file_sha256`: the hex digest of one file.
- :func:`model_digest`: one digest over a model's files, their names included.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Iterable
from pathlib import Path

__all__ = ["file_sha256", "model_digest"]

_BLOCK = 1 << 22


@functools.lru_cache(maxsize=64)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    del size, mtime_ns  # part of the cache key only
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_BLOCK), b""):
            digest.update(block)
    return digest.hexdigest()


def file_sha256(path: str | os.PathLike) -> str:
    """SHA-256 hex digest of the file at ``path`` (``OSError`` when it cannot be read)."""
    resolved = Path(path).resolve()
    stat = resolved.stat()
    return _sha256(str(resolved), stat.st_size, stat.st_mtime_ns)


def model_digest(files: Iterable[str | os.PathLike]) -> str:
    """SHA-256 over the names and contents of a model's files, in name order."""
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        digest.update(f"{path.name}:{file_sha256(path)}|".encode())
    return digest.hexdigest()
