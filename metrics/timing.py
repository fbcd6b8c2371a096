"""Timing metrics: did the model keep up with real time, and how stale was the input it answered?

The input is the simulator's event log: a pandas DataFrame with one row per model call and the columns
``index, chunk_start, visible_end, call_start, inference_time, call_finish, deadline, on_time, lateness_s,
underrun_samples, repairs`` (integer columns are samples on the model's clock), and ``DataFrame.attrs`` with
``sample_rate, hop, chunk_frames, future_visibility, input_latency_samples, output_latency_samples,
n_samples``. Every metric is a plain function of that table; the formulas live once, in the simulator's timing
model :mod:`accbench.simulators.schedule` (:func:`~accbench.simulators.schedule.log_summary`; nothing here
runs the simulator). With ``K = chunk_frames * hop`` samples per call and ``d_max`` the worst inference time:

Metrics
-------
- ``miss_rate``: fraction of calls that finished after their deadline.
- ``underrun_fraction``: silenced output samples (late chunks) over all output samples.
- ``max_lateness_s``: the latest call's finish minus its deadline, seconds (negative: every call had slack;
  ``nan`` for an empty log).
- ``feasible_future_visibility_frames``: ``floor(-(L_in + L_out + d_max) / hop)`` while ``d_max <= K``, else
  ``nan`` (slower than real time: no future visibility is feasible).
- ``feasible_future_visibility_ms``: the same bound in milliseconds.
- ``mean_recency_gap_s``: ``((K - 1) / 2 - t_f * hop) / sample_rate``, the mean age of the newest visible input
  at each output sample's playback time.
- ``real_time_factor``: mean inference time over ``K`` (below 1 keeps up on average).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import pandas as pd

from accbench.metrics.registry import GroupScores, MetricGroup, MetricSpec, register
from accbench.simulators.schedule import TimingSummary, log_summary

__all__ = [
    "GROUP",
    "REQUIRED_ATTRS",
    "REQUIRED_COLUMNS",
    "evaluate",
    "feasible_future_visibility",
    "mean_recency_gap",
    "miss_rate",
    "real_time_factor",
    "underrun_fraction",
    "validate",
]

REQUIRED_COLUMNS = ("inference_time", "on_time", "lateness_s", "underrun_samples")
REQUIRED_ATTRS = (
    "sample_rate",
    "hop",
    "chunk_frames",
    "future_visibility",
    "input_latency_samples",
    "output_latency_samples",
    "n_samples",
)

register(
    MetricSpec("timing.miss_rate", "lower", "fraction", (0.0, 1.0), "Fraction of calls that missed their deadline"),
    MetricSpec(
        "timing.underrun_fraction", "lower", "fraction", (0.0, 1.0), "Fraction of output samples silenced by late calls"
    ),
    MetricSpec(
        "timing.max_lateness_s",
        "lower",
        "s",
        (-math.inf, math.inf),
        "Worst call finish minus deadline (negative: slack)",
    ),
    MetricSpec(
        "timing.feasible_future_visibility_frames",
        "higher",
        "frames",
        (-math.inf, math.inf),
        "Largest future visibility with no miss at the worst inference time (nan: slower than real time)",
    ),
    MetricSpec(
        "timing.feasible_future_visibility_ms",
        "higher",
        "ms",
        (-math.inf, math.inf),
        "The feasible future-visibility bound in milliseconds",
    ),
    MetricSpec(
        "timing.mean_recency_gap_s",
        "lower",
        "s",
        (-math.inf, math.inf),
        "Mean age of the newest visible input at playback, ((K-1)/2 - t_f*hop)/sr",
    ),
    MetricSpec("timing.real_time_factor", "lower", "", (0.0, math.inf), "Mean inference time over chunk duration"),
)


def validate(events: pd.DataFrame) -> dict[str, int]:
    """Check an event log's columns and attrs; return the attrs as ints.

    Raises
    ------
    ValueError
        A missing column or attr, or a non-positive ``sample_rate``, ``hop`` or ``chunk_frames``.
    """
    if not isinstance(events, pd.DataFrame):
        raise ValueError(f"events must be a pandas DataFrame, got {type(events).__name__}")
    missing = [name for name in REQUIRED_COLUMNS if name not in events.columns]
    if missing:
        raise ValueError(f"event log lacks columns {missing}")
    missing = [name for name in REQUIRED_ATTRS if name not in events.attrs]
    if missing:
        raise ValueError(f"event log attrs lack {missing}")
    attrs = {name: int(events.attrs[name]) for name in REQUIRED_ATTRS}
    for name in ("sample_rate", "hop", "chunk_frames"):
        if attrs[name] <= 0:
            raise ValueError(f"event log attr {name} must be positive, got {attrs[name]}")
    return attrs


def _summary(events: pd.DataFrame) -> TimingSummary:
    """The schedule's timing summary of a validated event log."""
    return log_summary(events, validate(events))


def miss_rate(events: pd.DataFrame) -> float:
    """Fraction of calls not on time; 0 for an empty log (no call, no miss)."""
    return _summary(events).miss_rate


def underrun_fraction(events: pd.DataFrame) -> float:
    """Silenced output samples over ``n_samples``; 0 when the song has no samples."""
    return _summary(events).underrun_fraction


def feasible_future_visibility(events: pd.DataFrame) -> float:
    """The feasible future-visibility bound in frames at the log's worst inference time (``nan`` if none).

    Examples
    --------
    >>> log = pd.DataFrame({"inference_time": [300, 441], "on_time": [True, True], "lateness_s": [0.0, 0.0],
    ...                     "underrun_samples": [0, 0]})
    >>> log.attrs.update(sample_rate=22050, hop=441, chunk_frames=5, future_visibility=0,
    ...                  input_latency_samples=441, output_latency_samples=0, n_samples=4410)
    >>> feasible_future_visibility(log)
    -2.0
    """
    bound = _summary(events).feasible_future_visibility
    return math.nan if bound is None else float(bound)


def mean_recency_gap(events: pd.DataFrame) -> float:
    """``((K - 1) / 2 - t_f * hop) / sample_rate`` seconds."""
    return _summary(events).mean_recency_gap_s


def real_time_factor(events: pd.DataFrame) -> float:
    """Mean inference time over the chunk duration ``K``; 0 for an empty log."""
    return _summary(events).real_time_factor


def evaluate(events: pd.DataFrame) -> OrderedDict[str, float]:
    """All timing metrics of an event log.

    Parameters
    ----------
    events : pandas.DataFrame
        The simulator's event log with its attrs (see the module docstring).

    Returns
    -------
    scores : OrderedDict
        ``miss_rate, underrun_fraction, max_lateness_s, feasible_future_visibility_frames,
        feasible_future_visibility_ms, mean_recency_gap_s, real_time_factor``; ``max_lateness_s`` is ``nan``
        for an empty log (no call, no lateness) and the bound is ``nan`` when slower than real time.
    """
    summary = _summary(events)
    no_bound = summary.feasible_future_visibility is None
    scores: OrderedDict[str, float] = OrderedDict()
    scores["miss_rate"] = summary.miss_rate
    scores["underrun_fraction"] = summary.underrun_fraction
    scores["max_lateness_s"] = summary.max_lateness_s
    scores["feasible_future_visibility_frames"] = math.nan if no_bound else float(summary.feasible_future_visibility)
    scores["feasible_future_visibility_ms"] = math.nan if no_bound else summary.feasible_future_visibility_ms
    scores["mean_recency_gap_s"] = summary.mean_recency_gap_s
    scores["real_time_factor"] = summary.real_time_factor
    return scores


# The timing group of accbench.metrics.score.

_TIMING = (
    "timing.miss_rate",
    "timing.underrun_fraction",
    "timing.max_lateness_s",
    "timing.feasible_future_visibility_frames",
    "timing.feasible_future_visibility_ms",
    "timing.mean_recency_gap_s",
    "timing.real_time_factor",
)


def _score_group(song, wanted: frozenset[str]) -> GroupScores:
    """The timing metrics of the song's event log (``song``: :class:`~accbench.metrics.scoring.SongAnalyses`)."""
    found = GroupScores()
    for name, value in evaluate(song.events).items():
        if name.startswith("feasible_future_visibility"):
            reason = "slower than real time: no feasible future visibility"
        else:
            reason = "the event log is empty" if name == "max_lateness_s" else ""
        found.put(f"timing.{name}", value, reason)
    return found


GROUP = MetricGroup(name="timing", metrics=_TIMING, needs={"events": _TIMING}, evaluate=_score_group)
"""The timing group: every metric needs the simulator's event log (skipped without one)."""
