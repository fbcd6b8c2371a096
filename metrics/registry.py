"""The metric registry: what each metric means, as data next to the functions that compute it.

Each metric has a dotted name ``<group>.<metric>`` (``beat.f_measure``, ``harmony.majmin``,
``timing.miss_rate``) that is also its column name in results tables, a direction (``"higher"`` or
``"lower"`` is better), a unit, a range and a one-line description. Reports and the gate read this
registry; they never guess a direction from a name.

Metric modules declare their metrics at import time with :func:`register`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

__all__ = ["MetricSpec", "get", "register", "registry", "specs"]

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
