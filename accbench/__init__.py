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
]
