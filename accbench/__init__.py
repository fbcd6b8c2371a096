"""accbench: evaluate streaming music-accompaniment models under realistic system delays.

The model-facing protocol (:class:`StreamingModel`, :class:`ModelInfo`, :class:`Session`,
:class:`StepContext`), model loading (:func:`load_model`) and the one-song simulator (:func:`simulate`).
"""

from accbench.api import simulate
from accbench.errors import AccbenchError, ConfigError, DataError, ModelError
from accbench.models import available_models, load_model
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel
from accbench.simulators import SimulationConfig, SimulationResult, SimulationSummary

__version__ = "0.1.0"

_LAZY_MODULES = {"metrics", "reports", "runner", "datasets"}


def __getattr__(name: str):
    """``accbench.sweep`` and ``accbench.metrics``/``reports``/``runner``/``datasets``, imported on first use."""
    import importlib

    if name == "sweep":
        return importlib.import_module("accbench.runner").sweep
    if name in _LAZY_MODULES:
        return importlib.import_module(f"accbench.{name}")
    raise AttributeError(f"module 'accbench' has no attribute {name!r}")


__all__ = [
    "AccbenchError",
    "ConfigError",
    "DataError",
    "ModelError",
    "ModelInfo",
    "Session",
    "SimulationConfig",
    "SimulationResult",
    "SimulationSummary",
    "StepContext",
    "StreamingModel",
    "__version__",
    "available_models",
    "load_model",
    "simulate",
    "sweep",
]
