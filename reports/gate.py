"""The regression gate: is a run statistically clearly worse than a stored baseline?

For every (model, config, metric) of the baseline that is gated, the songs both runs scored are paired and
the per-song difference ``current - baseline`` is bootstrapped (seeded, percentile interval). The metric's
*harm* is that difference turned so that positive is worse (``baseline - current`` when higher is better).
A metric **regresses** when the whole interval of the harm lies above the tolerance; it **improves** when
the whole interval lies below minus the tolerance; otherwise it passes (within tolerance, or not clear).
A model rerun against its own baseline gives identical values, a zero-width interval at 0, and passes.

What cannot be compared is reported as an issue: baseline configs, songs or values the run lacks, songs
whose data hash changed, metrics whose version changed, a run without a manifest. These are errors
unless allowed by the :class:`GateConfig`. Exit codes: 0 pass, 1 regression, 2 error (an error wins).

Tolerances are absolute, in the metric's unit (``0.02``), or relative to the baseline mean (``"5%"``).
The default, ``"auto"``, is 2% of the metric's range where the range is finite, else 5% of the baseline mean.

- :class:`GateConfig`: what gates and how (from a TOML/JSON file, flags, or code).
- :func:`run_gate`: the verdicts and issues of a run against a baseline.
- :func:`to_markdown`, :func:`to_junit`: the two outputs CI reads (every check).
- :func:`to_terminal`: the short terminal summary (verdict line, regressions, counts);
  :func:`config_change_message`: the one message naming configs only the run or the baseline has.
"""

from __future__ import annotations

import fnmatch
import json
import math
import os
import tomllib
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd

from accbench.errors import ConfigError
from accbench.reports.aggregate import CONFIDENCE, N_BOOT, bootstrap_mean, group_seed, per_song
from accbench.reports.baseline import Baseline, metric_version
from accbench.reports.markdown import escape_cell
from accbench.results import Run, metric_columns, metric_spec

__all__ = [
    "EXIT_ERROR",
    "EXIT_PASS",
    "EXIT_REGRESSION",
    "TERMINAL_ROWS",
    "ConfigChange",
    "GateConfig",
    "GateResult",
    "Issue",
    "Verdict",
    "config_change_message",
    "load_gate_config",
    "paired_bootstrap",
    "resolve_tolerance",
    "run_gate",
    "to_junit",
    "to_markdown",
    "to_terminal",
]

EXIT_PASS = 0
EXIT_REGRESSION = 1
EXIT_ERROR = 2

AUTO_RANGE_FRACTION = 0.02
AUTO_RELATIVE_FRACTION = 0.05


@dataclass
class GateConfig:
    """How the gate decides.

    Parameters
    ----------
    metrics : list of str
        Shell-style patterns of metrics that gate (default: all metrics of the baseline).
    exclude_metrics : list of str
        Patterns of metrics never gated.
    models : list of str
        Patterns of model names that gate (default all, built-in baselines included).
    tolerance : dict of str to float or str
        Per-metric tolerance by pattern (first match wins, in insertion order): a number is absolute in
        the metric's unit, ``"5%"`` is relative to the baseline mean, ``"auto"`` the default rule.
    default_tolerance : float or str
        Tolerance of metrics no pattern matches (default ``"auto"``).
    confidence : float
        Coverage of the bootstrap interval of the difference (default
        :data:`~accbench.reports.aggregate.CONFIDENCE`).
    n_boot : int
        Bootstrap resamples (default :data:`~accbench.reports.aggregate.N_BOOT`).
    seed : int
        Bootstrap seed (default 0).
    allow_missing : bool
        Baseline configs, songs or values the run lacks are notes, not errors.
    allow_data_change : bool
        Songs whose content hash changed (or a run without a manifest) are notes, not errors.
    allow_metric_version_change : bool
        Metrics whose recorded version changed are notes, not errors.
    """

    metrics: list[str] = field(default_factory=list)
    exclude_metrics: list[str] = field(default_factory=list)
    models: list[str] = field(default_factory=list)
    tolerance: dict[str, float | str] = field(default_factory=dict)
    default_tolerance: float | str = "auto"
    confidence: float = CONFIDENCE
    n_boot: int = N_BOOT
    seed: int = 0
    allow_missing: bool = False
    allow_data_change: bool = False
    allow_metric_version_change: bool = False

    def __post_init__(self) -> None:
        if not 0.0 < float(self.confidence) < 1.0:
            raise ConfigError(f"gate confidence must be in (0, 1), got {self.confidence}")
        if int(self.n_boot) < 100:
            raise ConfigError(f"gate n_boot must be at least 100, got {self.n_boot}")
        for pattern, spec in [*self.tolerance.items(), ("default_tolerance", self.default_tolerance)]:
            _parse_tolerance(spec, where=pattern)

    def gates(self, model: str, metric: str) -> bool:
        """Whether ``metric`` of ``model`` is gated."""
        if self.models and not any(fnmatch.fnmatchcase(model, p) for p in self.models):
            return False
        if any(fnmatch.fnmatchcase(metric, p) for p in self.exclude_metrics):
            return False
        return not self.metrics or any(fnmatch.fnmatchcase(metric, p) for p in self.metrics)

    def tolerance_spec(self, metric: str) -> float | str:
        """The tolerance spec of ``metric`` (first matching pattern, else the default)."""
        for pattern, spec in self.tolerance.items():
            if fnmatch.fnmatchcase(metric, pattern):
                return spec
        return self.default_tolerance


def _parse_tolerance(spec: float | str, *, where: str) -> tuple[str, float]:
    """``("abs", x)``, ``("rel", fraction)`` or ``("auto", 0)``; ConfigError names ``where``."""
    if isinstance(spec, bool):
        raise ConfigError(f"tolerance {where!r}: expected a number, 'N%' or 'auto', got {spec!r}")
    if isinstance(spec, int | float):
        value, kind = float(spec), "abs"
    else:
        text = str(spec).strip()
        if text == "auto":
            return ("auto", 0.0)
        kind = "rel" if text.endswith("%") else "abs"
        try:
            value = float(text[:-1] if kind == "rel" else text)
        except ValueError:
            raise ConfigError(f"tolerance {where!r}: expected a number, 'N%' or 'auto', got {spec!r}") from None
        if kind == "rel":
            value /= 100.0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"tolerance {where!r} must be a finite non-negative number, got {spec!r}")
    return (kind, value)


def resolve_tolerance(spec: float | str, metric: str, baseline_mean: float) -> float:
    """The absolute tolerance (metric units) of ``spec`` for ``metric`` with the given baseline mean."""
    kind, value = _parse_tolerance(spec, where=metric)
    if kind == "abs":
        return value
    if kind == "rel":
        return value * abs(baseline_mean) if math.isfinite(baseline_mean) else 0.0
    low, high = metric_spec(metric, warn=False).range
    width = high - low
    if math.isfinite(width) and width > 0:
        return AUTO_RANGE_FRACTION * width
    return AUTO_RELATIVE_FRACTION * abs(baseline_mean) if math.isfinite(baseline_mean) else 0.0


def load_gate_config(path: str | os.PathLike | None = None, **overrides: object) -> GateConfig:
    """A :class:`GateConfig` from a TOML or JSON file (keys at top level or under ``[gate]``) and overrides.

    Overrides that are ``None`` are ignored; ``tolerance`` overrides are merged over the file's, and
    list overrides (``metrics``, ``exclude_metrics``, ``models``) replace the file's when non-empty.

    Examples
    --------
    A ``gate.toml``::

        [gate]
        metrics = ["beat.*", "harmony.majmin", "timing.miss_rate"]
        default_tolerance = "auto"
        allow_missing = false

        [gate.tolerance]
        "beat.f_measure" = 0.03
        "timing.*" = "10%"
    """
    values: dict[str, object] = {}
    if path is not None:
        path = Path(path)
        try:
            raw = path.read_bytes()
            data = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
        except (OSError, ValueError) as error:
            raise ConfigError(f"cannot read gate config {str(path)!r}: {error}") from error
        if isinstance(data.get("gate"), dict):
            data = data["gate"]
        known = {f.name for f in fields(GateConfig)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"gate config {str(path)!r}: unknown key(s) {', '.join(unknown)}")
        values.update(data)
    for key, value in overrides.items():
        if value is None:
            continue
        if key == "tolerance":
            merged = dict(values.get("tolerance") or {})  # type: ignore[call-overload]
            merged.update(value)  # type: ignore[call-overload]
            values["tolerance"] = merged
        elif key in ("metrics", "exclude_metrics", "models"):
            if value:
                values[key] = list(value)  # type: ignore[call-overload]
        elif value is not False or key not in values:
            values[key] = value
    try:
        return GateConfig(**values)  # type: ignore[arg-type]
    except TypeError as error:
        raise ConfigError(f"gate config: {error}") from error


@dataclass(frozen=True)
class Issue:
    """Something the gate could not compare cleanly.

    Parameters
    ----------
    kind : str
        ``missing_config``, ``missing_song``, ``missing_metric``, ``missing_value``, ``no_data``,
        ``data_changed``, ``no_manifest``, ``metric_version``, ``model_version``, ``accbench_version``,
        ``new_config`` or ``ambiguous_model``.
    message : str
    error : bool
        Whether it fails the gate (exit 2).
    model, config_id, metric : str or None
        What it is about, where that is one thing.
    """

    kind: str
    message: str
    error: bool
    model: str | None = None
    config_id: str | None = None
    metric: str | None = None


@dataclass(frozen=True)
class Verdict:
    """The gate's decision for one (model, config, metric).

    ``delta_*`` are ``current - baseline`` in the metric's unit (mean over paired songs and its interval);
    ``status`` is ``"pass"``, ``"improvement"``, ``"regression"``, ``"error"`` (not comparable, not allowed)
    or ``"skipped"`` (not comparable, allowed). A verdict that compared nothing keeps the defaults: no songs,
    and NaN for every number it could not compute.
    """

    model: str
    config_id: str
    config_label: str
    metric: str
    direction: str
    unit: str
    status: str
    n_songs: int = 0
    baseline_mean: float = math.nan
    current_mean: float = math.nan
    delta_mean: float = math.nan
    delta_low: float = math.nan
    delta_high: float = math.nan
    tolerance: float = math.nan
    message: str = ""
    baseline_version: str = ""
    current_version: str = ""


@dataclass(frozen=True)
class ConfigChange:
    """A (model, config) that is in only one of the run and the baseline.

    Parameters
    ----------
    model, config_id : str
    label : str
        The config id with its t_f, k (ms) and latency, e.g. ``"tf-2_k2 (t_f=-40ms, k=40ms, fixed:15ms)"``.
    change : str
        ``"missing"`` (in the baseline, not in the run: an error unless ``allow_missing``) or ``"added"``
        (in the run, not in the baseline: not gated, never an error).
    config : dict
        The config's values (``future_visibility_ms``, ``chunk_ms``, ``latency``, ...), to say what differs.
    """

    model: str
    config_id: str
    label: str
    change: str
    config: Mapping[str, object] = field(default_factory=dict)


@dataclass
class GateResult:
    """All verdicts and issues of one gate run; ``config_changes`` lists the configs only one side has."""

    verdicts: list[Verdict]
    issues: list[Issue]
    config: GateConfig
    config_changes: list[ConfigChange] = field(default_factory=list)

    @property
    def regressions(self) -> list[Verdict]:
        """Verdicts with status ``"regression"``."""
        return [v for v in self.verdicts if v.status == "regression"]

    @property
    def errors(self) -> list[Issue]:
        """Issues that are errors."""
        return [i for i in self.issues if i.error]

    @property
    def exit_code(self) -> int:
        """2 when there is an error, else 1 when a metric regressed, else 0."""
        if self.errors or any(v.status == "error" for v in self.verdicts):
            return EXIT_ERROR
        if self.regressions:
            return EXIT_REGRESSION
        return EXIT_PASS

    @property
    def outcome(self) -> str:
        """``"pass"``, ``"regression"`` or ``"error"``."""
        return {EXIT_PASS: "pass", EXIT_REGRESSION: "regression", EXIT_ERROR: "error"}[self.exit_code]

    def to_frame(self) -> pd.DataFrame:
        """The verdicts as a table."""
        return pd.DataFrame([v.__dict__ for v in self.verdicts], columns=[f.name for f in fields(Verdict)])


def paired_bootstrap(current: np.ndarray, baseline: np.ndarray, **options: float) -> tuple[float, float, float]:
    """Mean of the paired differences ``current - baseline`` and its percentile-bootstrap interval.

    Parameters
    ----------
    current, baseline : ndarray, shape (n,)
        Values of the same songs, in the same order; pairs with a NaN are dropped.
    **options
        ``n_boot``, ``confidence`` and ``seed`` of :func:`accbench.reports.aggregate.bootstrap_mean`, which
        resamples the differences.

    Returns
    -------
    mean, low, high : float
        NaN when no pair is left; ``(d, d, d)`` when all differences equal ``d`` (a deterministic rerun gives
        all zeros: nothing to resample).
    """
    differences = np.asarray(current, dtype=float) - np.asarray(baseline, dtype=float)
    return bootstrap_mean(differences, **options)  # type: ignore[arg-type]


def _config_label(config: Mapping[str, object], config_id: str) -> str:
    parts = []
    tf, k = config.get("future_visibility_ms"), config.get("chunk_ms")
    if tf is not None:
        parts.append(f"t_f={float(tf):g}ms")  # type: ignore[arg-type]
    if k is not None:
        parts.append(f"k={float(k):g}ms")  # type: ignore[arg-type]
    latency = config.get("latency")
    if latency:
        parts.append(str(latency))
    return f"{config_id} ({', '.join(parts)})" if parts else config_id


def _check_manifests(run: Run, baseline: Baseline, config: GateConfig, metrics: Iterable[str]) -> list[Issue]:
    issues: list[Issue] = []
    current, old = run.manifest, baseline.manifest
    if not current:
        issues.append(
            Issue(
                "no_manifest",
                f"the run folder {str(run.path)!r} has no manifest.json: data hashes and metric versions "
                "cannot be checked",
                error=not config.allow_data_change,
            )
        )
    else:
        new_hashes, old_hashes = current.get("songs") or {}, old.get("songs") or {}
        changed = sorted(s for s in set(new_hashes) & set(old_hashes) if new_hashes[s] != old_hashes[s])
        if changed:
            shown = ", ".join(repr(s) for s in changed[:10]) + (" ..." if len(changed) > 10 else "")
            issues.append(
                Issue(
                    "data_changed",
                    f"{len(changed)} song(s) changed content since the baseline: {shown}",
                    error=not config.allow_data_change,
                )
            )
        for metric in metrics:
            before, after = metric_version(old, metric), metric_version(current, metric)
            if before != after:
                issues.append(
                    Issue(
                        "metric_version",
                        f"metric {metric!r} version changed from {before} to {after}",
                        error=not config.allow_metric_version_change,
                        metric=metric,
                    )
                )
        before, after = old.get("accbench_version"), current.get("accbench_version")
        if before != after:
            issues.append(Issue("accbench_version", f"accbench version changed from {before} to {after}", error=False))
    return issues


def run_gate(run: Run, baseline: Baseline, config: GateConfig | None = None) -> GateResult:
    """Compare a run with a baseline.

    Parameters
    ----------
    run : Run
        The new run (see :func:`accbench.reports.load.load_run`).
    baseline : Baseline
        The stored baseline (see :func:`accbench.reports.baseline.load_baseline`).
    config : GateConfig, optional
        Default :class:`GateConfig()`.

    Returns
    -------
    result : GateResult
        ``result.exit_code`` is 0 (pass), 1 (regression) or 2 (error).
    """
    config = config or GateConfig()
    entries = baseline.entries
    gated = entries[[config.gates(m, x) for m, x in zip(entries["model"], entries["metric"], strict=True)]]
    gated_metrics = sorted(gated["metric"].unique())
    issues = _check_manifests(run, baseline, config, gated_metrics)
    if gated.empty:
        issues.append(Issue("no_data", "no baseline entry matches the gated models and metrics", error=True))

    results = run.results
    present_metrics = set(metric_columns(results))
    songs = per_song(results, sorted(present_metrics & set(gated_metrics)))
    versions = results.groupby("model")["model_version"].unique().to_dict()
    metrics_here = [m for m in songs.columns if m in present_metrics]

    issues += _version_issues(gated, versions)
    changes = _config_changes(entries, gated, results)
    for change in changes:
        if change.change == "added":
            issues.append(
                Issue(
                    "new_config",
                    f"model {change.model!r} config {change.config_id!r} is not in the baseline (not gated)",
                    error=False,
                    model=change.model,
                    config_id=change.config_id,
                )
            )

    ambiguous = {i.model for i in issues if i.kind == "ambiguous_model"}
    values = {
        key: dict(zip(group["song"].astype(str), group["value"].astype(float), strict=True))
        for key, group in baseline.values.groupby(["model", "config_id", "metric"], sort=False)
    }
    current_by_key = {
        key: {m: dict(zip(group["song"].astype(str), group[m].astype(float), strict=True)) for m in metrics_here}
        for key, group in songs.groupby(["model", "config_id"])
    }
    verdicts: list[Verdict] = []
    for entry in gated.itertuples(index=False):
        verdicts.append(_judge(entry, values, current_by_key, present_metrics, ambiguous, config, issues, versions))
    changes = [c for c in changes if c.change == "added" or (c.model, c.config_id) not in current_by_key]
    changes = [c for c in changes if c.model not in ambiguous]
    return GateResult(verdicts=verdicts, issues=issues, config=config, config_changes=changes)


def _version_issues(gated: pd.DataFrame, versions: Mapping[str, object]) -> list[Issue]:
    """``ambiguous_model`` (an error) or ``model_version`` (a note) per gated model whose version differs."""
    issues: list[Issue] = []
    for model in sorted(gated["model"].unique()):
        current_versions = sorted(str(v) for v in versions.get(model, []))
        old_versions = sorted(gated.loc[gated["model"] == model, "model_version"].unique())
        if len(current_versions) > 1:
            issues.append(
                Issue(
                    "ambiguous_model",
                    f"model {model!r} appears in the run with several versions ({', '.join(current_versions)}); "
                    "the gate compares one version per model",
                    error=True,
                    model=model,
                )
            )
        elif current_versions and current_versions != old_versions:
            issues.append(
                Issue(
                    "model_version",
                    f"model {model!r}: baseline version {', '.join(old_versions)}, run version {current_versions[0]}",
                    error=False,
                    model=model,
                )
            )
    return issues


def _config_changes(entries: pd.DataFrame, gated: pd.DataFrame, results: pd.DataFrame) -> list[ConfigChange]:
    """The gated baseline (model, config)s the run lacks and the run's (model, config)s the baseline lacks.

    An added config is listed for a gated model only (for every model when nothing gates), as ``new_config``
    issues were before; missing ones are those of the gated entries (the caller drops those the run has).
    """
    baseline_keys = set(zip(entries["model"], entries["config_id"], strict=True))
    gated_models = set(gated["model"])
    run_rows = results.drop_duplicates(["model", "config_id"]).set_index(["model", "config_id"])
    run_keys = set(run_rows.index)
    changes = []
    for model, config_id in sorted(run_keys - baseline_keys):
        if model in gated_models or not gated_models:
            row = run_rows.loc[(model, config_id)]
            values = {k: row[k] for k in _CHANGE_KEYS if k in row.index and not pd.isna(row[k])}
            label = _config_label(values, config_id)
            changes.append(ConfigChange(model, config_id, label, "added", values))
    for entry in gated.drop_duplicates(["model", "config_id"]).itertuples(index=False):
        if (entry.model, entry.config_id) not in run_keys:
            config = dict(entry.config or {})
            label = _config_label(config, entry.config_id)
            changes.append(ConfigChange(entry.model, entry.config_id, label, "missing", config))
    return changes


#: Config values a changed-config message compares (what a config id hashes, in readable units).
_CHANGE_KEYS = (
    "future_visibility_frames",
    "future_visibility_ms",
    "chunk_frames",
    "chunk_ms",
    "latency",
    "input_latency_ms",
    "output_latency_ms",
    "on_miss",
)


def _judge(
    entry: object,
    values: dict[tuple[str, str, str], dict[str, float]],
    current_by_key: dict,
    present_metrics: set[str],
    ambiguous: set[str],
    config: GateConfig,
    issues: list[Issue],
    versions: dict,
) -> Verdict:
    model, config_id, metric = entry.model, entry.config_id, entry.metric  # type: ignore[attr-defined]
    direction = entry.direction or metric_spec(metric, warn=False).direction  # type: ignore[attr-defined]
    label = _config_label(entry.config, config_id)  # type: ignore[attr-defined]
    current_version = ", ".join(sorted(str(v) for v in versions.get(model, [])))
    base = {
        "model": model,
        "config_id": config_id,
        "config_label": label,
        "metric": metric,
        "direction": direction,
        "unit": entry.unit or "",  # type: ignore[attr-defined]
        "baseline_version": entry.model_version,  # type: ignore[attr-defined]
        "current_version": current_version,
    }

    def not_comparable(kind: str, message: str, allowed: bool) -> Verdict:
        issues.append(Issue(kind, message, error=not allowed, model=model, config_id=config_id, metric=metric))
        status = "skipped" if allowed else "error"
        return Verdict(**base, status=status, baseline_mean=entry.mean, message=message)  # type: ignore[attr-defined]

    if model in ambiguous:
        return not_comparable("ambiguous_model", f"model {model!r} has several versions in the run", False)
    current = current_by_key.get((model, config_id))
    if current is None:
        return not_comparable(
            "missing_config",
            f"model {model!r} config {label} is in the baseline but not in the run",
            config.allow_missing,
        )
    if metric not in present_metrics:
        return not_comparable(
            "missing_metric", f"metric {metric!r} is in the baseline but not in the run", config.allow_missing
        )
    old = {song: value for song, value in values.get((model, config_id, metric), {}).items() if math.isfinite(value)}
    new = current[metric]
    shared = [s for s in old if s in new and math.isfinite(new[s])]
    lost = [s for s in old if s not in new]
    lost_values = [s for s in old if s in new and not math.isfinite(new[s])]
    where = {"model": model, "config_id": config_id, "metric": metric}
    prefix = f"{model} {label} {metric}"
    _song_issue(issues, "missing_song", prefix, "baseline song(s) not in the run", lost, config, where)
    _song_issue(
        issues, "missing_value", prefix, "song(s) scored in the baseline are NaN now", lost_values, config, where
    )
    if not shared:
        if not old:
            # Nothing was measured in the baseline either (a skipped metric): nothing to gate.
            return not_comparable("no_data", f"{metric!r} has no values in the baseline", True)
        return not_comparable("no_data", f"no song has {metric!r} in both runs", config.allow_missing)
    old_values = np.array([old[s] for s in shared], dtype=float)
    new_values = np.array([new[s] for s in shared], dtype=float)
    seed = group_seed(config.seed, model, config_id, metric)
    delta, low, high = paired_bootstrap(
        new_values, old_values, n_boot=config.n_boot, confidence=config.confidence, seed=seed
    )
    baseline_mean = float(old_values.mean())
    tolerance = resolve_tolerance(config.tolerance_spec(metric), metric, baseline_mean)
    # Harm is positive when worse: a regression when even the best case of the interval is worse than tol.
    harm_low, harm_high = (-high, -low) if direction == "higher" else (low, high)
    if harm_low > tolerance:
        status = "regression"
    elif harm_high < -tolerance:
        status = "improvement"
    else:
        status = "pass"
    return Verdict(
        **base,
        status=status,
        n_songs=len(shared),
        baseline_mean=baseline_mean,
        current_mean=float(new_values.mean()),
        delta_mean=delta,
        delta_low=low,
        delta_high=high,
        tolerance=tolerance,
    )


def _song_issue(
    issues: list[Issue],
    kind: str,
    prefix: str,
    what: str,
    songs: list[str],
    config: GateConfig,
    where: dict[str, str],
) -> None:
    """Add the issue ``"<prefix>: <n> <what>: <first five songs>"`` unless ``songs`` is empty."""
    if not songs:
        return
    shown = ", ".join(repr(s) for s in songs[:5]) + (" ..." if len(songs) > 5 else "")
    issues.append(Issue(kind, f"{prefix}: {len(songs)} {what}: {shown}", error=not config.allow_missing, **where))


def _num(value: float) -> str:
    return "–" if not math.isfinite(value) else f"{value:.4g}"


_ICONS = {
    "pass": "pass",
    "improvement": "improved",
    "regression": "**REGRESSION**",
    "error": "**ERROR**",
    "skipped": "skipped",
}


def to_markdown(result: GateResult, *, title: str = "accbench gate", show_all: bool = True) -> str:
    """The gate's outcome as Markdown (for CI logs and GitHub step summaries).

    A headline with the outcome and counts, the issues, the regressions and errors, then (when
    ``show_all``) every verdict in a collapsible table.
    """
    counts = pd.Series([v.status for v in result.verdicts], dtype=object).value_counts().to_dict()
    head = {"pass": "PASS", "regression": "FAIL: regression", "error": "ERROR"}[result.outcome]
    lines = [
        f"## {escape_cell(title)}: {head}",
        "",
        f"{len(result.verdicts)} checks: "
        + ", ".join(f"{counts.get(k, 0)} {k}" for k in ("pass", "improvement", "regression", "error", "skipped")),
        f"(paired bootstrap over songs, {result.config.confidence:.0%} interval, {result.config.n_boot} resamples,"
        f" seed {result.config.seed}; exit code {result.exit_code})",
        "",
    ]
    if result.issues:
        lines += ["### Issues", ""]
        for issue in result.issues:
            lines.append(f"- {'**error**' if issue.error else 'note'} `{issue.kind}`: {escape_cell(issue.message)}")
        lines.append("")
    header = [
        "| model | config | metric | baseline | current | Δ mean [interval] | tolerance | n | verdict |",
        "| --- | --- | --- | ---: | ---: | --- | ---: | ---: | --- |",
    ]

    def row(v: Verdict) -> str:
        arrow = "↑" if v.direction == "higher" else "↓"
        unit = f" {v.unit}" if v.unit else ""
        interval = (
            f"{_num(v.delta_mean)} [{_num(v.delta_low)}, {_num(v.delta_high)}]{unit}"
            if math.isfinite(v.delta_mean)
            else "–"
        )
        return (
            f"| {escape_cell(v.model)} | {escape_cell(v.config_label)} | {escape_cell(v.metric)} {arrow} | "
            f"{_num(v.baseline_mean)} | {_num(v.current_mean)} | {escape_cell(interval)} | {_num(v.tolerance)} | "
            f"{v.n_songs} | {_ICONS[v.status]} |"
        )

    bad = [v for v in result.verdicts if v.status in ("regression", "error")]
    if bad:
        lines += ["### Regressions and errors", "", *header, *(row(v) for v in bad), ""]
    if show_all and result.verdicts:
        lines += ["<details><summary>All checks</summary>", "", *header, *(row(v) for v in result.verdicts)]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


def to_junit(result: GateResult, *, suite: str = "accbench-gate") -> str:
    """The gate's outcome as JUnit XML: one test case per (model, config, metric).

    A regression is a ``<failure>``, a not-comparable case an ``<error>``, an allowed gap ``<skipped>``.
    Run-level error issues (changed data, metric versions) are an extra ``run`` test case with an error.
    """
    suites = ET.Element("testsuites", name=suite)
    run_errors = [i for i in result.errors if i.metric is None or i.kind == "metric_version"]
    cases = len(result.verdicts) + (1 if run_errors else 0)
    element = ET.SubElement(
        suites,
        "testsuite",
        name=suite,
        tests=str(cases),
        failures=str(len(result.regressions)),
        errors=str(sum(v.status == "error" for v in result.verdicts) + (1 if run_errors else 0)),
        skipped=str(sum(v.status == "skipped" for v in result.verdicts)),
    )
    for v in result.verdicts:
        case = ET.SubElement(
            element,
            "testcase",
            classname=_xml(f"accbench.gate.{v.model}.{v.config_id}"),
            name=_xml(v.metric),
            time="0",
        )
        unit = f" {v.unit}" if v.unit else ""
        detail = (
            f"{v.metric} ({v.direction} is better) of {v.model} at {v.config_label}: baseline "
            f"{_num(v.baseline_mean)}, current {_num(v.current_mean)}, difference {_num(v.delta_mean)} "
            f"[{_num(v.delta_low)}, {_num(v.delta_high)}]{unit}, tolerance {_num(v.tolerance)}, {v.n_songs} songs"
        )
        if v.status == "regression":
            ET.SubElement(case, "failure", message=_xml(f"regression: {detail}"), type="regression").text = _xml(detail)
        elif v.status == "error":
            ET.SubElement(case, "error", message=_xml(v.message), type="not_comparable").text = _xml(v.message)
        elif v.status == "skipped":
            ET.SubElement(case, "skipped", message=_xml(v.message))
        else:
            ET.SubElement(case, "system-out").text = _xml(f"{v.status}: {detail}")
    if run_errors:
        case = ET.SubElement(element, "testcase", classname="accbench.gate", name="run", time="0")
        text = "\n".join(f"{i.kind}: {i.message}" for i in run_errors)
        ET.SubElement(case, "error", message=_xml(run_errors[0].message), type=run_errors[0].kind).text = _xml(text)
    ET.indent(suites)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"


def _xml(text: object) -> str:
    """Text with the characters XML 1.0 forbids removed (ElementTree escapes the rest)."""
    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)


#: The most regression rows and config groups the terminal summary lists (the files list them all).
TERMINAL_ROWS = 20


def to_terminal(result: GateResult, *, baseline: str = "the baseline", max_rows: int = TERMINAL_ROWS) -> str:
    """The gate's outcome for a terminal: a verdict line, the regressions, then compact counts.

    Unlike :func:`to_markdown` it never lists every check: a verdict line (outcome and counts over
    model x config x metric), a table of at most ``max_rows`` regressions, one line per kind of error
    issue, one line counting the notes, and one message naming the configs only one side has.

    Parameters
    ----------
    result : GateResult
    baseline : str
        How the verdict line names the baseline (its path).
    max_rows : int
        Regression rows shown; the rest are counted (``--markdown``/``--junit`` list them all).

    Returns
    -------
    text : str
        Lines without a trailing newline; the first is ``"gate: PASS - ..."``, ``"gate: FAIL - ..."`` or
        ``"gate: ERROR - ..."``.
    """
    lines = [_verdict_line(result, baseline)]
    regressions = result.regressions
    if regressions:
        lines.append(
            f"regressions (Δ = current - baseline, {result.config.confidence:.0%} interval; ↑ higher is better, "
            "↓ lower):"
        )
        rows = [_terminal_row(v) for v in regressions[:max_rows]]
        header = ("model", "config", "metric", "baseline", "current", "Δ mean [interval]", "tolerance", "n")
        lines += ["  " + line for line in _text_table(header, rows)]
        if len(regressions) > max_rows:
            lines.append(f"  ... {len(regressions) - max_rows} more regression(s): --markdown FILE lists them all")
    lines += _issue_lines(result)
    message = config_change_message(result, max_groups=max_rows)
    if message:
        lines.append(message)
    return "\n".join(lines)


def _verdict_line(result: GateResult, baseline: str) -> str:
    """``gate: PASS - 1192 checks passed, 0 regressions, 8 skipped (model x config x metric) against B``."""
    counts = pd.Series([v.status for v in result.verdicts], dtype=object).value_counts().to_dict()
    passed = counts.get("pass", 0) + counts.get("improvement", 0)
    improved = f" ({counts['improvement']} improved)" if counts.get("improvement") else ""
    parts = [
        f"{passed} checks passed{improved}",
        f"{counts.get('regression', 0)} regression{'' if counts.get('regression', 0) == 1 else 's'}",
        f"{counts.get('skipped', 0)} skipped",
    ]
    if counts.get("error"):
        parts.insert(0, f"{counts['error']} checks not comparable")
    head = {"pass": "PASS", "regression": "FAIL", "error": "ERROR"}[result.outcome]
    return f"gate: {head} - {', '.join(parts)} (model x config x metric) against {baseline}; exit {result.exit_code}"


def _terminal_row(v: Verdict) -> tuple[str, ...]:
    arrow = "↑" if v.direction == "higher" else "↓"
    unit = f" {v.unit}" if v.unit else ""
    interval = f"{_num(v.delta_mean)} [{_num(v.delta_low)}, {_num(v.delta_high)}]{unit}"
    return (
        v.model,
        v.config_label,
        f"{v.metric} {arrow}",
        _num(v.baseline_mean),
        _num(v.current_mean),
        interval,
        _num(v.tolerance),
        str(v.n_songs),
    )


def _text_table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    """Left-aligned columns two spaces apart, header first."""
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in (header, *rows)]


#: Issue kinds the config-change message reports instead of one line each.
_CONFIG_KINDS = ("missing_config", "new_config")


def _issue_lines(result: GateResult) -> list[str]:
    """One line per kind of error issue (its count and first message), one line counting the notes."""
    errors: dict[str, list[Issue]] = {}
    notes: dict[str, int] = {}
    for issue in result.issues:
        if issue.kind in _CONFIG_KINDS:
            continue
        if issue.error:
            errors.setdefault(issue.kind, []).append(issue)
        else:
            notes[issue.kind] = notes.get(issue.kind, 0) + 1
    lines = []
    for kind, found in errors.items():
        example = "e.g. " if len(found) > 1 else ""
        lines.append(f"error {kind} ({len(found)}): {example}{found[0].message}")
    if notes:
        lines.append("notes (not errors): " + ", ".join(f"{kind} {n}" for kind, n in notes.items()))
    return lines


def config_change_message(result: GateResult, *, max_groups: int = TERMINAL_ROWS) -> str:
    """One message naming the configs only the run or only the baseline has; ``""`` when they agree.

    Configs are grouped by config (its id, t_f, k and latency) with the models that have it; a last line
    names the config values that differ between the missing and the added configs (e.g. ``latency``).

    Parameters
    ----------
    result : GateResult
    max_groups : int
        Config groups listed per side; the rest are counted.

    Returns
    -------
    message : str
        Several lines, the first ``"configs differ from the baseline: ..."``.
    """
    missing = [c for c in result.config_changes if c.change == "missing"]
    added = [c for c in result.config_changes if c.change == "added"]
    if not missing and not added:
        return ""
    if missing:
        fatal = not result.config.allow_missing
        effect = "an error (exit 2; --allow-missing makes it a note)" if fatal else "allowed (--allow-missing)"
    else:
        effect = "not gated, not an error"
    lines = [f"configs differ from the baseline: {len(missing)} missing from the run, {len(added)} added; {effect}"]
    for title, changes in (("missing (in the baseline, not in the run)", missing), ("added (not gated)", added)):
        if changes:
            lines.append(f"  {title}:")
            lines += _config_groups(changes, max_groups)
    differing = _differing_keys(missing, added)
    if differing:
        lines.append(f"  the missing and added configs differ in: {', '.join(differing)}")
    return "\n".join(lines)


def _config_groups(changes: list[ConfigChange], max_groups: int) -> list[str]:
    """``"    <label>: model-a, model-b"`` per config, at most ``max_groups``."""
    models: dict[str, list[str]] = {}
    for change in changes:
        models.setdefault(change.label, []).append(change.model)
    lines = [f"    {label}: {', '.join(sorted(names))}" for label, names in list(models.items())[:max_groups]]
    if len(models) > max_groups:
        lines.append(f"    ... {len(models) - max_groups} more config(s)")
    return lines


def _differing_keys(missing: list[ConfigChange], added: list[ConfigChange]) -> list[str]:
    """Config keys whose set of values differs between the missing and the added configs."""
    if not missing or not added:
        return []

    def values(changes: list[ConfigChange], key: str) -> set[object]:
        return {_plain(c.config.get(key)) for c in changes}

    keys = [k for k in _CHANGE_KEYS if all(k in c.config for c in [*missing, *added])]
    return [k for k in keys if values(missing, k) != values(added, k)]


def _plain(value: object) -> object:
    """A config value comparable across JSON (baseline) and pandas (run): numbers as float, else str."""
    if isinstance(value, bool) or value is None:
        return value
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
