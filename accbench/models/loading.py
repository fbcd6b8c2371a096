"""Finding and loading models by name.

:func:`load_model` accepts

- a built-in name: ``silence``, ``oracle``, ``oracle-delayed``, ``mismatch``, ``follower``,
  ``reference-transformer`` (needs ``checkpoint=PATH``);
- ``"pkg.module:factory"`` (or ``"python:pkg.module:factory"``): a Python callable returning a model;
- ``"torch:pkg.module:factory"``: a factory returning a ``torch.nn.Module`` with a ``step`` method, wrapped by
  :mod:`accbench.adapters.torch_adapter`;
- ``"subprocess:COMMAND"``: a model in another process, spoken to over stdin/stdout
  (:mod:`accbench.adapters.subprocess_adapter`);
- a name registered by a third-party package in the entry-point group ``accbench.models``;
- a model object, returned as it is after its interface is checked.

Options are passed to the factory as keyword arguments.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from accbench.errors import ModelError
from accbench.protocol import ModelInfo, StreamingModel
from accbench.suggest import did_you_mean

__all__ = [
    "ADAPTERS",
    "BUILTIN_MODELS",
    "ENTRY_POINT_GROUP",
    "Adapter",
    "available_models",
    "check_model",
    "import_target",
    "load_model",
]

ENTRY_POINT_GROUP = "accbench.models"

#: Built-in models: name -> "module:factory" (imported only when used).
BUILTIN_MODELS: dict[str, str] = {
    "silence": "accbench.models.baselines:Silence",
    "oracle": "accbench.models.baselines:Oracle",
    "oracle-delayed": "accbench.models.baselines:OracleDelayed",
    "mismatch": "accbench.models.baselines:Mismatch",
    "follower": "accbench.models.follower:Follower",
    "reference-transformer": "accbench.models.reference_model:ReferenceTransformer",
}


@dataclass(frozen=True)
class Adapter:
    """A generic adapter, selected by a prefix of the model spec (``"torch:pkg.module:factory"``)."""

    spelling: str
    """How a spec that uses it is written."""
    description: str
    """What it loads, in a few words."""
    loader: str | None = None
    """``"module:function"`` building the model from the rest of the spec; ``None``: the rest is a factory."""


#: Generic adapters by prefix (``accbench models`` lists them).
ADAPTERS: dict[str, Adapter] = {
    "python": Adapter("python:package.module:factory (or just package.module:factory)", "a factory returning a model"),
    "torch": Adapter(
        "torch:package.module:factory",
        "a torch.nn.Module with a step method (device, dtype, compile)",
        "accbench.adapters.torch_adapter:load",
    ),
    "subprocess": Adapter(
        "subprocess:COMMAND",
        "a model in another process, accbench-stream protocol on stdin/stdout",
        "accbench.adapters.subprocess_adapter:load",
    ),
}


#: Every ``PREFIX:`` a spec may start with (the adapters and ``python:``), for suggestions.
_PREFIXES = tuple(f"{prefix}:" for prefix in ADAPTERS)


def _import_path(spec: str, prefix: str) -> Callable[..., Any]:
    """:func:`import_target` for a ``"pkg.module:factory"`` spec; a failed import whose module looks like a
    misspelt prefix (``"troch:pkg.module:factory"``) suggests it."""
    try:
        return import_target(spec, spec)
    except ModelError as error:
        missing_module = isinstance(error.__cause__, ModuleNotFoundError) and "." not in prefix
        suggestion = did_you_mean(f"{prefix}:", _PREFIXES) if missing_module else ""
        if not suggestion:
            raise
        raise ModelError(f"{error.reason}{suggestion}", model=spec) from error.__cause__


def import_target(target: str, spec: str) -> Callable[..., Any]:
    """The callable named by ``"package.module:attribute"``; a :class:`ModelError` naming ``spec`` otherwise."""
    module_name, _, attribute = target.partition(":")
    if not module_name or not attribute:
        raise ModelError(f"expected 'package.module:factory', got {target!r}", model=spec)
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        raise ModelError(
            f"cannot import module {module_name!r}: {type(error).__name__}: {error}", model=spec
        ) from error
    obj: Any = module
    for part in attribute.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ModelError(f"module {module_name!r} has no attribute {attribute!r}", model=spec) from None
    if not callable(obj):
        raise ModelError(f"{target!r} is not callable", model=spec)
    return obj


def _entry_points() -> dict[str, metadata.EntryPoint]:
    return {entry_point.name: entry_point for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP)}


def available_models() -> dict[str, str]:
    """Names :func:`load_model` resolves without a path: built-ins and entry points, with their targets."""
    found = dict(BUILTIN_MODELS)
    for name, entry_point in sorted(_entry_points().items()):
        found.setdefault(name, entry_point.value)
    return found


def _unknown_model(spec: str) -> ModelError:
    """The error for a name that is no built-in, entry point or adapter spec, with the closest known names.

    Adapter prefixes count as known names too, so ``"troch"`` suggests ``'torch:'`` (``torch:pkg.module:factory``).
    """
    names = sorted(available_models())
    suggestion = did_you_mean(spec, [*names, *_PREFIXES])
    return ModelError(
        f"unknown model {spec!r}{suggestion}; known names: {', '.join(names)}; or give "
        "'package.module:factory', 'torch:package.module:factory' or 'subprocess:COMMAND'",
        model=spec,
    )


def check_model(model: Any, spec: str = "<object>") -> StreamingModel:
    """Check that ``model`` has ``info`` (a :class:`ModelInfo`), ``reset``, ``step`` and ``close``."""
    missing = [name for name in ("reset", "step", "close") if not callable(getattr(model, name, None))]
    if missing:
        raise ModelError(
            f"{type(model).__name__} is not a streaming model: missing method(s) {', '.join(missing)}",
            model=spec,
        )
    info = getattr(model, "info", None)
    if not isinstance(info, ModelInfo):
        raise ModelError(
            f"{type(model).__name__}.info must be an accbench.ModelInfo, got {type(info).__name__}",
            model=spec,
        )
    return model


def load_model(spec: str | StreamingModel, **options: Any) -> StreamingModel:
    """Load a model from a name, a factory path, an adapter spec or an entry point.

    Parameters
    ----------
    spec : str or model
        See the module docstring.
    **options
        Keyword arguments for the factory (e.g. ``sample_rate=22050, hop=441`` for the baselines).

    Returns
    -------
    model : StreamingModel

    Raises
    ------
    ModelError
        Unknown name, import failure, a factory that raises or returns something that is not a model.

    Examples
    --------
    >>> model = load_model("silence", sample_rate=22050, hop=441)
    >>> model.info.name
    'silence'
    """
    if not isinstance(spec, str):
        return check_model(spec, getattr(getattr(spec, "info", None), "name", type(spec).__name__))
    prefix, _, rest = spec.partition(":")
    if spec in BUILTIN_MODELS:
        factory = import_target(BUILTIN_MODELS[spec], spec)
    elif prefix in ADAPTERS and ADAPTERS[prefix].loader is not None and rest:
        loader = import_target(ADAPTERS[prefix].loader, spec)
        return check_model(loader(rest, **options), spec)
    elif prefix == "python" and rest:
        factory = import_target(rest, spec)
    elif ":" in spec:
        factory = _import_path(spec, prefix)
    else:
        entry_point = _entry_points().get(spec)
        if entry_point is None:
            raise _unknown_model(spec)
        try:
            factory = entry_point.load()
        except Exception as error:
            raise ModelError(
                f"entry point {entry_point.value!r} of group {ENTRY_POINT_GROUP!r} failed to load: "
                f"{type(error).__name__}: {error}",
                model=spec,
            ) from error
    try:
        model = factory(**options)
    except ModelError:
        raise
    except Exception as error:
        raise ModelError(f"factory raised {type(error).__name__}: {error}", model=spec) from error
    return check_model(model, spec)
