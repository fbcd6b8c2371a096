"""Loading published torch checkpoints without executing what they pickle.

A checkpoint file is a pickle; unpickling an arbitrary one can run arbitrary code. Every checkpoint accbench
reads goes through :func:`load_checkpoint`: ``torch.load(weights_only=True)`` (torch >= 2.6's restricted unpickler:
tensors, containers and primitive types only) plus an explicit allowlist of *stand-ins*: inert classes of
ours that take the place of a class the file names, so a checkpoint that pickles, say, an enum of the
package that trained it loads without that package and without running any of its code. Any other global in
the file (``os.system``, ``builtins.eval``, an unknown class) is refused with a
:class:`~accbench.errors.ConfigError` naming the file and the global.

:func:`map_state_dict` then renames the checkpoint's parameter names onto a module's and loads them
strictly: a missing or unexpected key, or a shape mismatch, is an error that names the keys.

The COCOLA checkpoint (a PyTorch Lightning ``.ckpt`` of gladia-research-group/cocola) pickles two enums of the
upstream module ``contrastive_model.constants`` in its ``hyper_parameters``; :data:`COCOLA_STAND_INS` maps every
enum of that module to an inert copy (same member names and values) defined here.
"""

from __future__ import annotations

import enum
import os
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from accbench.errors import ConfigError

__all__ = ["COCOLA_STAND_INS", "load_checkpoint", "map_state_dict", "shared_model", "user_file"]


class EmbeddingMode(enum.Enum):
    """Inert stand-in for ``contrastive_model.constants.EmbeddingMode`` (same values)."""

    HARMONIC = "harmonic"
    PERCUSSIVE = "percussive"
    BOTH = "both"
    RANDOM = "random"


class ModelInputType(enum.Enum):
    """Inert stand-in for ``contrastive_model.constants.ModelInputType``."""

    SINGLE_CHANNEL_MEL_SPECTROGRAM = "single_channel_mel_spectrogram"
    DOUBLE_CHANNEL_HARMONIC_PERCUSSIVE = "double_channel_harmonic_percussive"


class ModelFeatureExtractorType(enum.Enum):
    """Inert stand-in for ``contrastive_model.constants.ModelFeatureExtractorType``."""

    HPSS = "hpss"
    MEL_SPECTROGRAM = "mel_spectrogram"


class FeatureExtractionTime(enum.Enum):
    """Inert stand-in for ``contrastive_model.constants.FeatureExtractionTime``."""

    OFFLINE = "offline"
    ONLINE = "online"


class Dataset(enum.Enum):
    """Inert stand-in for ``contrastive_model.constants.Dataset``."""

    CCS = "coco_chorales_contrastive/*"
    CCS_RANDOM = "coco_chorales_contrastive/random"
    CCS_STRING = "coco_chorales_contrastive/string"
    CCS_BRASS = "coco_chorales_contrastive/brass"
    CCS_WOODWIND = "coco_chorales_contrastive/woodwind"
    SLAKH2100 = "slakh2100_contrastive"
    MOISESDB = "moisesdb_contrastive"
    MIXED = "mixed_contrastive"


COCOLA_STAND_INS: Mapping[str, type] = {
    f"contrastive_model.constants.{cls.__name__}": cls
    for cls in (EmbeddingMode, ModelInputType, ModelFeatureExtractorType, FeatureExtractionTime, Dataset)
}
"""Upstream global name -> inert stand-in, for COCOLA checkpoints."""


def load_checkpoint(
    path: str | os.PathLike, *, stand_ins: Mapping[str, type] | None = None, what: str = "checkpoint"
) -> Any:
    """Read a torch checkpoint with torch's restricted unpickler and the given stand-ins.

    Parameters
    ----------
    path : path
        A ``torch.save`` file (zip format, e.g. a Lightning ``.ckpt`` or a ``.pth`` state dict).
    stand_ins : mapping of str to type, or None
        Fully qualified global names as they appear in the file (``"module.Class"``) mapped to classes of ours
        to build instead. Enum stand-ins are looked up by value, as pickle does.
    what : str
        What the file is, for messages (``"COCOLA checkpoint"``).

    Returns
    -------
    object
        What the file holds (tensors on the CPU).

    Raises
    ------
    ConfigError
        The file is missing or unreadable, or it pickles a global that is neither allowed by torch's
        ``weights_only`` loader nor one of ``stand_ins`` (the message names it), or a stand-in rejects the
        pickled value.
    """
    import pickle

    import torch

    file = Path(path).expanduser()
    if not file.is_file():
        raise ConfigError(f"{what} {str(file)!r} does not exist")
    pairs = [(cls, name) for name, cls in (stand_ins or {}).items()]
    try:
        with torch.serialization.safe_globals(pairs):
            return torch.load(file, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message starts with generic advice (to load with weights_only=False: never); keep what it names.
        named = re.search(r"GLOBAL (\S+)|(unrecognized function \S+|Unsupported operand \S+)", str(error))
        detail = next((g for g in named.groups() if g), "") if named else type(error).__name__
        raise ConfigError(
            f"{what} {str(file)!r} pickles something accbench will not execute ({detail}); only tensors, "
            "containers and the known upstream enums are accepted"
        ) from None
    except ValueError as error:  # an enum stand-in given an unknown value
        raise ConfigError(f"{what} {str(file)!r} holds a value accbench does not know: {error}") from None
    except (RuntimeError, OSError, EOFError) as error:
        raise ConfigError(f"{what} {str(file)!r} cannot be read as a torch checkpoint: {error}") from None


def _shorten(keys: Sequence[str], limit: int = 6) -> str:
    shown = ", ".join(repr(k) for k in list(keys)[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def map_state_dict(
    module: Any,
    state: Mapping[str, Any],
    prefixes: Mapping[str, str],
    *,
    path: str | os.PathLike,
    what: str = "checkpoint",
) -> None:
    """Rename ``state``'s keys by prefix and load them into ``module`` strictly.

    Parameters
    ----------
    module : torch.nn.Module
    state : mapping of str to Tensor
        The checkpoint's state dict.
    prefixes : mapping of str to str
        Checkpoint key prefix -> module key prefix (``{"encoder.projection.": "projection."}``); a key matching
        no prefix is unexpected.
    path : path
        The checkpoint, for messages.
    what : str
        What it is, for messages.

    Raises
    ------
    ConfigError
        Unexpected, missing or wrongly shaped keys, each listed.
    """
    mapped: dict[str, Any] = {}
    unexpected: list[str] = []
    for key, value in state.items():
        prefix = next((p for p in prefixes if key.startswith(p)), None)
        if prefix is None:
            unexpected.append(key)
        else:
            mapped[prefixes[prefix] + key[len(prefix) :]] = value
    expected = module.state_dict()
    missing = [key for key in expected if key not in mapped]
    unexpected += [key for key in mapped if key not in expected]
    shapes = [
        f"{key} {tuple(mapped[key].shape)} != {tuple(expected[key].shape)}"
        for key in expected
        if key in mapped and tuple(mapped[key].shape) != tuple(expected[key].shape)
    ]
    problems = []
    if missing:
        problems.append(f"missing keys {_shorten(missing)}")
    if unexpected:
        problems.append(f"unexpected keys {_shorten(unexpected)}")
    if shapes:
        problems.append(f"wrong shapes {_shorten(shapes)}")
    if problems:
        raise ConfigError(f"{what} {str(path)!r} does not match the network: {'; '.join(problems)}")
    module.load_state_dict(mapped, strict=True)


def user_file(value: str | os.PathLike | None, env: str) -> str | os.PathLike | None:
    """The file a user names: ``value`` unless it is ``None`` or empty, else ``$env`` unless unset or empty."""
    if value is not None and str(value) != "":
        return value
    return os.environ.get(env) or None


_Model = TypeVar("_Model")
_SHARED: dict[tuple[Any, ...], Any] = {}
_SHARED_LOCK = threading.Lock()


def shared_model(
    factory: Callable[..., _Model], path: str | os.PathLike, options: Mapping[str, Any], default_batch_size: int
) -> _Model:
    """``factory(path, **options)``, built once per process for each file, device, batch size and thread count."""
    key = (
        factory,
        str(Path(path).expanduser().resolve()),
        str(options.get("device", "cpu")),
        int(options.get("batch_size", default_batch_size)),
        options.get("threads"),
    )
    with _SHARED_LOCK:
        if key not in _SHARED:
            _SHARED[key] = factory(path, **options)
        return _SHARED[key]
