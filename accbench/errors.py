"""Exceptions with the context a user needs to find what went wrong.

Every error names what it is about: the model, the song, the file, the config and the call. The sweep
runner turns them into rows of its failures table; the CLI prints them without a traceback.
"""

from __future__ import annotations

__all__ = ["AccbenchError", "ConfigError", "DataError", "ModelError"]


class AccbenchError(Exception):
    """Base class of all accbench errors."""


class ConfigError(AccbenchError, ValueError):
    """An invalid configuration value; the message names the key or argument."""


class DataError(AccbenchError, ValueError):
    """Bad input data: missing, unreadable, empty or non-finite audio, malformed annotations.

    Parameters
    ----------
    reason : str
    song : str or None
        Song id, when known.
    path : str or None
        The offending file, when there is one.
    """

    def __init__(self, reason: str, *, song: str | None = None, path: str | None = None) -> None:
        self.reason = reason
        self.song = song
        self.path = path
        where = []
        if song is not None:
            where.append(f"song {song!r}")
        if path is not None:
            where.append(f"file {str(path)!r}")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


class ModelError(AccbenchError):
    """A model misbehaved: it raised, or returned output of the wrong length, shape or dtype, or NaN/inf.

    Parameters
    ----------
    reason : str
    model : str
    song : str or None
    config : str or None
        A short description of the simulation config (future visibility, chunk size, latency).
    call : int or None
        Index ``j`` of the failing call; ``None`` for failures outside ``step`` (``reset``, loading).
    """

    def __init__(
        self,
        reason: str,
        *,
        model: str,
        song: str | None = None,
        config: str | None = None,
        call: int | None = None,
    ) -> None:
        self.reason = reason
        self.model = model
        self.song = song
        self.config = config
        self.call = call
        parts = [f"model {model!r}"]
        if song is not None:
            parts.append(f"song {song!r}")
        if config is not None:
            parts.append(f"config [{config}]")
        if call is not None:
            parts.append(f"call {call}")
        super().__init__(f"{', '.join(parts)}: {reason}")
