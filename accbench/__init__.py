"""accbench: evaluate streaming music-accompaniment models under realistic system delays."""

from accbench.errors import AccbenchError, ConfigError, DataError, ModelError
from accbench.protocol import ModelInfo, Session, StepContext, StreamingModel

__version__ = "0.1.0"

__all__ = [
    "AccbenchError",
    "ConfigError",
    "DataError",
    "ModelError",
    "ModelInfo",
    "Session",
    "StepContext",
    "StreamingModel",
    "__version__",
]
