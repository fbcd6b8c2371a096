"""The metric registry: what each metric means, as data next to the functions that compute it.

Each metric has a dotted name ``<group>.<metric>`` (``beat.f_measure``, ``harmony.majmin``,
``timing.miss_rate``) that is also its column name in results tables, a direction (``"higher"`` or
``"lower"`` is better), a unit, a range and a one-line description. Reports and the gate read this
registry; they never guess a direction from a name.

Metric modules declare their metrics at import time with :func:`register`, and at their end the
:class:`MetricGroup` that :func:`accbench.metrics.score` runs: which metrics it fills, what each of them needs
and the function that computes them (:class:`GroupScores` is what that function returns). The list of groups
that ``score`` runs is in :mod:`accbench.metrics.scoring` (``GROUP_LIST``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal

import pandas as pd

if TYPE_CHECKING:
    from accbench.metrics.scoring import SongAnalyses

__all__ = ["NEEDS", "GroupScores", "MetricGroup", "MetricSpec", "get", "register", "registry", "specs"]

Direction = Literal["higher", "lower"]


@dataclass(frozen=True)
class MetricSpec:
    """Description of one metric.

    Parameters
    ----------
    name : str
        ``<group>.<metric>``; the results-table column.
    direction : {"higher", "lower"}
        Which way is better.
    unit : str
        ``""`` for dimensionless scores, else e.g. ``"s"``, ``"ms"``, ``"fraction"``.
    range : tuple of float
        Smallest and largest possible value (``math.inf`` where unbounded).
    description : str
        One line.
    needs_reference : bool
        ``True`` when the metric compares against the reference accompaniment or its annotations and is
        skipped (NaN, with the reason recorded) for songs without one.
    """

    name: str
    direction: Direction
    unit: str
    range: tuple[float, float]
    description: str
    needs_reference: bool = False

    def __post_init__(self) -> None:
        if "." not in self.name:
            raise ValueError(f"metric name must be '<group>.<metric>', got {self.name!r}")
        if self.direction not in ("higher", "lower"):
            raise ValueError(f"metric {self.name!r}: direction must be 'higher' or 'lower'")
        low, high = self.range
        if not low <= high:
            raise ValueError(f"metric {self.name!r}: empty range {self.range}")

    @property
    def group(self) -> str:
        """The metric group, the part of the name before the dot."""
        return self.name.split(".", 1)[0]

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b``."""
        return a > b if self.direction == "higher" else a < b


_REGISTRY: dict[str, MetricSpec] = {}


def register(*metric_specs: MetricSpec) -> None:
    """Add metrics to the registry; registering the same spec twice is allowed, a conflicting one is not."""
    for spec in metric_specs:
        existing = _REGISTRY.get(spec.name)
        if existing is not None and existing != spec:
            raise ValueError(f"metric {spec.name!r} is already registered with a different definition")
        _REGISTRY[spec.name] = spec


def get(name: str) -> MetricSpec:
    """The spec of metric ``name``; a ``KeyError`` lists the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(sorted(_REGISTRY))}") from None


def specs() -> dict[str, MetricSpec]:
    """All registered metrics by name, sorted by name."""
    return dict(sorted(_REGISTRY.items()))


def registry() -> pd.DataFrame:
    """The registry as a table: name, group, direction, unit, min, max, needs_reference, description."""
    rows = [
        {
            "name": s.name,
            "group": s.group,
            "direction": s.direction,
            "unit": s.unit,
            "min": s.range[0],
            "max": s.range[1],
            "needs_reference": s.needs_reference,
            "description": s.description,
        }
        for s in specs().values()
    ]
    columns = ["name", "group", "direction", "unit", "min", "max", "needs_reference", "description"]
    return pd.DataFrame(rows, columns=columns)


UNBOUNDED = (-math.inf, math.inf)


NEEDS = ("input", "output", "reference_audio", "reference_beats", "reference_chords", "events", "embeddings")
"""What a metric can need. ``score`` always has the input and the output; it skips a metric whose
``reference_beats``, ``reference_chords`` or ``events`` are missing (recording the reason); ``reference_audio``
and ``embeddings`` are handled by the group itself (documentation of what it reads)."""


@dataclass
class GroupScores:
    """What a group's ``evaluate`` returns: metric values, skip reasons and non-numeric facts.

    Attributes
    ----------
    values : dict of str to float
        Full metric name (``<group>.<metric>``) to value.
    skipped : dict of str to str
        Metric name to the reason its value is ``nan``.
    info : dict of str to str
        Non-numeric facts for the results row (e.g. ``embedding.embedder``).
    """

    values: dict[str, float] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    info: dict[str, str] = field(default_factory=dict)

    def put(self, name: str, value: float, reason_if_nan: str = "") -> None:
        """Record ``value`` for metric ``name``; a ``nan`` value with a reason is recorded as skipped."""
        self.values[name] = float(value)
        if reason_if_nan and math.isnan(self.values[name]):
            self.skipped[name] = reason_if_nan

    def skip(self, names: Iterable[str], reason: str) -> None:
        """Mark metrics as not computed: value ``nan`` and ``reason``."""
        for name in names:
            self.values[name] = math.nan
            self.skipped[name] = reason

    def update(self, other: GroupScores) -> None:
        """Add the values, reasons and facts of ``other``."""
        self.values.update(other.values)
        self.skipped.update(other.skipped)
        self.info.update(other.info)


@dataclass(frozen=True)
class MetricGroup:
    """A metric group as :func:`accbench.metrics.score` runs it, declared at the end of its metric module.

    Parameters
    ----------
    name : str
        The group, the prefix of its metric names (``"beat"``).
    metrics : tuple of str
        The metrics it fills, in results-column order; each must be registered.
    needs : mapping of str to tuple of str
        Need (one of :data:`NEEDS`) to the metrics of this group that need it. ``score`` resolves each need
        once per song and skips the metrics listed under a missing one with the resolver's reason, so
        ``evaluate`` only sees metrics it can compute.
    evaluate : callable
        ``evaluate(song, wanted) -> GroupScores``: ``song`` is the
        :class:`~accbench.metrics.scoring.SongAnalyses` of the song (signals, cached analyses, resolved
        references, event log, options); ``wanted`` the frozenset of this group's metric names to compute.
        It may fill more names than asked (``score`` keeps only the requested ones).
    opt_in : bool
        Only run when the group is asked for by name (costly or option-dependent groups, e.g. ``embedding``,
        whose metric names depend on the embedder); such a group reports the names its ``evaluate`` fills.
    analyzers : tuple of str
        The analyzers (keys of :data:`~accbench.metrics.analysis.ANALYZER_VERSIONS`) whose output its metrics
        read: a run records their versions, and a gate compares a metric only with a baseline made with the
        same versions (:func:`~accbench.reports.baseline.metric_version`).
    """

    name: str
    metrics: tuple[str, ...]
    needs: Mapping[str, tuple[str, ...]]
    evaluate: Callable[[SongAnalyses, frozenset[str]], GroupScores]
    opt_in: bool = False
    analyzers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "metrics", tuple(self.metrics))
        object.__setattr__(self, "needs", MappingProxyType({k: tuple(v) for k, v in self.needs.items()}))
        for metric in self.metrics:
            if get(metric).group != self.name:
                raise ValueError(f"group {self.name!r} lists metric {metric!r} of another group")
        for need, names in self.needs.items():
            if need not in NEEDS:
                raise ValueError(f"group {self.name!r}: unknown need {need!r}; known: {', '.join(NEEDS)}")
            unknown = [metric for metric in names if metric not in self.metrics]
            if unknown:
                raise ValueError(f"group {self.name!r}: need {need!r} lists metrics it does not fill: {unknown}")

    def needed_by(self, metric: str) -> tuple[str, ...]:
        """The needs of one metric, in declaration order."""
        return tuple(need for need, names in self.needs.items() if metric in names)
