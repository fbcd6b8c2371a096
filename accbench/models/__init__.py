"""The models: how accbench finds and loads a model under test, and the models it ships.

- :mod:`accbench.models.loading`: :func:`load_model` by name, ``module:factory``, adapter prefix or plugin
  entry point; :data:`BUILTIN_MODELS`.
- :mod:`accbench.models.baselines`: ``silence``, ``oracle``, ``oracle-delayed``, ``mismatch`` (the reference
  points of every plot).
- :mod:`accbench.models.follower`: ``follower``, a causal DSP accompanist.
- :mod:`accbench.models.reference_model` and :mod:`accbench.models.reference_training`:
  ``reference-transformer``, a small causal Transformer trained with the simulator's visibility mask.

The generic adapters (``python``, ``torch``, ``subprocess``) are in :mod:`accbench.adapters`; the protocol a
model implements is :mod:`accbench.protocol`.
"""

from accbench.models import loading
from accbench.models.loading import *  # noqa: F403 - the loader's public names are this package's

__all__ = list(loading.__all__)
