"""The deterministic delay simulator: timing model, latency models, miss policies, event log.

See :mod:`accbench.simulators.schedule` for the exact timing rules and
:mod:`accbench.simulators.latency` for the latency-model specs.
"""

from accbench.simulators.engine import (
    EVENT_COLUMNS,
    SimulationConfig,
    SimulationResult,
    SimulationSummary,
    run_stream,
    summarize,
)
from accbench.simulators.latency import LatencyModel, parse_latency
from accbench.simulators.schedule import MISS_POLICIES, feasible_future_visibility, silenced_samples, visible_end

__all__ = [
    "EVENT_COLUMNS",
    "MISS_POLICIES",
    "LatencyModel",
    "SimulationConfig",
    "SimulationResult",
    "SimulationSummary",
    "feasible_future_visibility",
    "parse_latency",
    "run_stream",
    "silenced_samples",
    "summarize",
    "visible_end",
]
