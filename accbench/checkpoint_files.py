"""The checkpoint files a sweep needs (COCOLA, VGGish, Beat This): where each one is and which are missing.

The seed paper's metrics need three published files that accbench never downloads. :func:`sweep_files` finds
them for a sweep config before anything runs: a path in the config file is relative to the file's folder (``~``
expanded), else the environment variable (``$ACCBENCH_COCOLA_CHECKPOINT``, ``$ACCBENCH_VGGISH_WEIGHTS``) or, for
Beat This, a name in the torch hub cache (``final0``). A missing file, or a missing package to read it, never
loses the run: the runner logs :meth:`SweepFiles.message` once at the start (which files are missing and where
each one comes from), the metrics that need it are skipped in every row with the reason
(:func:`scored_metrics`, :func:`with_skipped`) and the rest of the run completes. The files' SHA-256 digests
(``"missing"`` without one) enter the task ids, so a resumed sweep never mixes scores of two checkpoints and a
file supplied later re-scores the tasks that lacked it.
"""

from __future__ import annotations

import importlib.util
import math
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from accbench.config import SweepConfig
from accbench.errors import ConfigError
from accbench.metrics.checkpoints import user_file

__all__ = [
    "BEAT_THIS",
    "COCOLA",
    "VGGISH",
    "SweepFiles",
    "config_path",
    "scored_metrics",
    "sweep_files",
    "with_skipped",
]

COCOLA, VGGISH, BEAT_THIS = "cocola", "vggish", "beat-this"

_TRACKED = {"beat": None, "reaction": ("reaction.beat_lock_in_s",)}
"""Groups whose metrics use the beat tracker: ``None`` all of them, else only those listed."""


@dataclass(frozen=True)
class SweepFiles:
    """The checkpoint files of one sweep.

    Attributes
    ----------
    cocola : str or None
        The COCOLA checkpoint (absolute path) when ``cocola`` is scored and the file exists.
    vggish : str or None
        The VGGish weights (absolute path) when the FAD is computed and the file exists.
    beat_this : str or None
        The Beat This checkpoint (absolute path) when ``beat_tracker = "beat-this"`` and it exists.
    vggish_fad : bool
        Whether the sweep asks for the VGGish FAD.
    missing : dict of str to str
        ``"cocola"``, ``"vggish"``, ``"beat-this"``: why the file cannot be used (names it and where it comes from).
    identity : dict
        The task-id entries: the beat tracker and checkpoint digests (``"missing"`` without the file).
    """

    cocola: str | None = None
    vggish: str | None = None
    beat_this: str | None = None
    vggish_fad: bool = False
    missing: dict[str, str] = field(default_factory=dict)
    identity: dict[str, str] = field(default_factory=dict)

    def message(self) -> str:
        """One message listing each missing file and where it comes from; ``""`` when none is missing."""
        if not self.missing:
            return ""
        what = {COCOLA: "COCOLA metrics", VGGISH: "VGGish FAD", BEAT_THIS: "beat metrics (Beat This)"}
        lines = [f"- {what[name]} skipped: {reason}" for name, reason in sorted(self.missing.items())]
        head = f"{len(self.missing)} checkpoint file(s) missing; the rest of the run goes on without them:"
        tail = (
            "In a sweep config give them as cocola_checkpoint, vggish_weights and beat_this_checkpoint (paths "
            "relative to the config file), or set the environment variables named above."
        )
        return "\n".join([head, *lines, tail])


def config_path(config: SweepConfig, value: str | None) -> str | None:
    """A path of the config: ``~`` expanded, relative to the config file's folder (absolute), ``None`` kept."""
    if value is None:
        return None
    path = Path(value).expanduser()
    if not path.is_absolute() and config.source and Path(config.source).is_file():
        path = Path(config.source).resolve().parent / path
    return str(path.absolute())


def _package_missing(*names: str) -> str:
    lacking = [name for name in names if importlib.util.find_spec(name) is None]
    return f"needs the package(s) {', '.join(lacking)} (pip install 'accbench[paper]')" if lacking else ""


def _cocola(config: SweepConfig, missing: dict[str, str]) -> tuple[str | None, str]:
    from accbench.digests import file_sha256
    from accbench.metrics import cocola

    value = user_file(config_path(config, config.cocola_checkpoint), cocola.CHECKPOINT_ENV)
    reason = cocola.missing_checkpoint(value) or _package_missing("torch", "efficientnet_pytorch")
    if reason:
        missing[COCOLA] = reason if "COCOLA" in reason else f"COCOLA {reason}"
        return None, "missing"
    path = str(Path(value).expanduser().resolve())
    return path, file_sha256(path)


def _vggish(config: SweepConfig, missing: dict[str, str]) -> str | None:
    from accbench.metrics import vggish

    value = user_file(config_path(config, config.vggish_weights), vggish.WEIGHTS_ENV)
    if value is None:
        missing[VGGISH] = f"no VGGish weights: {vggish.WEIGHTS_HELP}"
    elif not Path(value).expanduser().is_file():
        missing[VGGISH] = f"VGGish weights {value!r} not found: {vggish.WEIGHTS_HELP}"
    elif reason := _package_missing("torch", "torchvggish"):
        missing[VGGISH] = f"VGGish FAD {reason}"
    else:
        return str(Path(value).expanduser().resolve())
    return None


def _beat_this(config: SweepConfig, missing: dict[str, str]) -> tuple[str | None, dict[str, str]]:
    from accbench.tasks import beat_tracker_identity

    if config.beat_tracker != "beat-this":
        return None, beat_tracker_identity(config.beat_tracker, config.beat_this_checkpoint)
    from accbench.metrics import beat_this

    value = config.beat_this_checkpoint
    if value is not None and ("/" in value or os.sep in value or value.endswith(".ckpt")):
        value = config_path(config, value)  # a file; a bare name (final0) is looked up in the torch hub cache
    try:
        path = str(beat_this.resolve_checkpoint(value))
    except ConfigError as error:
        missing[BEAT_THIS] = str(error)
        return None, {"beat_tracker": "beat-this", "beat_this_sha256": "missing"}
    return path, beat_tracker_identity("beat-this", path)


def sweep_files(config: SweepConfig) -> SweepFiles:
    """Find the checkpoint files ``config`` needs (see the module docstring).

    Raises
    ------
    ConfigError
        ``vggish_fad`` without ``write_audio = "all"`` (the FAD pools every song's output audio), or
        ``beat_this_checkpoint`` without ``beat_tracker = "beat-this"``.
    """
    missing: dict[str, str] = {}
    where = f"{config.source}: " if config.source else ""
    fad = config.vggish_fad if config.vggish_fad is not None else config.vggish_weights is not None
    if fad and config.write_audio != "all":
        raise ConfigError(
            f"{where}vggish_fad pools the output audio of every song: set write_audio = 'all' "
            f"(it is {config.write_audio!r})"
        )
    beat_path, identity = _beat_this(config, missing)
    cocola_path = None
    if "cocola" in config.metrics:
        cocola_path, digest = _cocola(config, missing)
        identity = {**identity, "cocola_sha256": digest}
    vggish_path = _vggish(config, missing) if fad else None
    return SweepFiles(cocola_path, vggish_path, beat_path, bool(fad), missing, identity)


def _group_metrics() -> dict[str, tuple[str, ...]]:
    from accbench.metrics.scoring import GROUP_LIST

    return {group.name: group.metrics for group in GROUP_LIST}


def scored_metrics(metrics: Iterable[str], missing: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """What a task scores when files are ``missing``, and the metrics it skips with their reasons.

    Parameters
    ----------
    metrics : iterable of str
        The sweep's metric groups.
    missing : mapping
        :attr:`SweepFiles.missing`.

    Returns
    -------
    scored : list of str
        Groups and metric names for :func:`accbench.metrics.score`: without ``cocola`` when its checkpoint is
        missing; without the metrics that track beats (``beat``, ``reaction.beat_lock_in_s``) when Beat This is.
    skipped : dict of str to str
        Each metric left out and why.
    """
    groups = _group_metrics()
    scored: list[str] = []
    skipped: dict[str, str] = {}
    for name in metrics:
        if name == "cocola" and COCOLA in missing:
            skipped.update(dict.fromkeys(groups[name], missing[COCOLA]))
        elif name in _TRACKED and BEAT_THIS in missing:
            dropped = groups[name] if _TRACKED[name] is None else _TRACKED[name]
            skipped.update(dict.fromkeys(dropped, missing[BEAT_THIS]))
            if _TRACKED[name] is not None:
                scored += [metric for metric in groups[name] if metric not in dropped]
        else:
            scored.append(name)
    return scored, skipped


def with_skipped(scores: Mapping[str, Any], skipped: Mapping[str, str]) -> dict[str, Any]:
    """A ``Scores.to_dict()`` row with the ``skipped`` metrics as NaN and their reasons in ``skipped``."""
    row = dict(scores)
    if not skipped:
        return row
    for name in skipped:
        row.setdefault(name, math.nan)
    reasons = [row["skipped"]] if row.get("skipped") else []
    row["skipped"] = "; ".join([*reasons, *(f"{name}: {reason}" for name, reason in skipped.items())])
    return row
