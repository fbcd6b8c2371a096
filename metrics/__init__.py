"""Metrics: analyzers (beats, chords, key, onsets, embeddings) and the scores computed from them.

- :func:`score`: every beat, harmony, timing and reaction (and, asked for, embedding) metric of one output,
  from a :class:`~accbench.simulators.SimulationResult` or from arrays, with input and reference analyses
  cached once per song; returns :class:`Scores`, a read-only mapping (:mod:`accbench.metrics.scoring`).
- Metric groups: each metric module ends with its :class:`MetricGroup` (metrics, needs, ``evaluate``);
  ``scoring.GROUP_LIST`` lists them.
- :func:`registry`: every metric's name, direction, unit, range and description, as a table.
- Modules in mir_eval style, one ``evaluate`` each: :mod:`~accbench.metrics.beat`,
  :mod:`~accbench.metrics.harmony`, :mod:`~accbench.metrics.timing`, :mod:`~accbench.metrics.reaction`;
  analyzers in :mod:`~accbench.metrics.analysis`; the cache in :mod:`~accbench.metrics.cache`.
"""

from accbench.metrics import analysis, beat, cache, embedding, harmony, reaction, scoring, timing
from accbench.metrics.cache import AnalysisCache, default_cache
from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register, registry, specs
from accbench.metrics.scoring import Scores, score

__all__ = [
    "AnalysisCache",
    "GroupScores",
    "MetricGroup",
    "MetricSpec",
    "Scores",
    "analysis",
    "beat",
    "cache",
    "default_cache",
    "embedding",
    "harmony",
    "reaction",
    "register",
    "registry",
    "score",
    "scoring",
    "specs",
    "timing",
]
