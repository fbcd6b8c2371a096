"""Event logs on disk: a CSV whose first line carries the timing parameters (``DataFrame.attrs``).

The simulator's event log is a DataFrame with one row per call and its timing parameters (sample rate, hop,
chunk size, future visibility, delays in samples, miss policy, latency spec) in ``attrs``. Plain CSV would
drop those, so :func:`write_events` puts them on a first comment line (``# accbench-events 1 {...json...}``)
that :func:`read_events` restores; other CSV readers skip it with ``comment="#"``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from accbench.atomic import atomic_path
from accbench.errors import DataError

__all__ = ["read_events", "write_events"]

_MAGIC = "# accbench-events 1 "


def write_events(path: str | os.PathLike, events: pd.DataFrame) -> None:
    """Write an event log (with its ``attrs``) to ``path`` atomically."""
    with atomic_path(path) as temporary, open(temporary, "w", encoding="utf-8", newline="") as handle:
        handle.write(_MAGIC + json.dumps(events.attrs, sort_keys=True, default=str) + "\n")
        events.to_csv(handle, index=False)


def read_events(path: str | os.PathLike) -> pd.DataFrame:
    """Read an event log written by :func:`write_events` (``attrs`` restored; empty for a plain CSV)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("event log not found", path=str(path))
    with open(path, encoding="utf-8") as handle:
        first = handle.readline()
    attrs = {}
    if first.startswith(_MAGIC):
        try:
            attrs = json.loads(first[len(_MAGIC) :])
        except json.JSONDecodeError as error:
            raise DataError(f"unreadable event-log header: {error}", path=str(path)) from None
    try:
        events = pd.read_csv(path, comment="#", keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as error:
        raise DataError(f"unreadable event log: {error}", path=str(path)) from None
    events.attrs.update(attrs)
    return events
