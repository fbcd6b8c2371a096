"""Suggestions ("did you mean ...?") for unknown names (a leaf module: imports nothing from accbench).

Every error about an unknown name (a model, a metric or group, a config key, a dataset kind, a latency
model) appends :func:`did_you_mean` so the user sees the closest known spellings, as git and pip do.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["closest", "did_you_mean"]


def closest(name: str, known: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> list[str]:
    """The known names most similar to ``name`` (``difflib`` ratio >= ``cutoff``), best first.

    Case is ignored for the comparison; the known spelling is returned.
    """
    spelled = {str(candidate).lower(): str(candidate) for candidate in known}
    matches = difflib.get_close_matches(str(name).lower(), list(spelled), n=n, cutoff=cutoff)
    return [spelled[match] for match in matches]


def did_you_mean(name: str, known: Iterable[str], *, n: int = 3, cutoff: float = 0.6) -> str:
    """``" (did you mean 'x' or 'y'?)"`` for the closest known names, or ``""`` when none is close.

    Examples
    --------
    >>> "unknown model 'folower'" + did_you_mean("folower", ["follower", "silence", "oracle"])
    "unknown model 'folower' (did you mean 'follower'?)"
    >>> did_you_mean("zzz", ["follower"])
    ''
    """
    matches = closest(name, known, n=n, cutoff=cutoff)
    if not matches:
        return ""
    quoted = [repr(match) for match in matches]
    listed = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]
    return f" (did you mean {listed}?)"
