"""Latency models: how long each call of a model takes, in whole samples of the model's clock.

Specs (strings, as on the command line and in sweep configs):

========================================  ==========================================================
``zero``                                  every call is instantaneous
``fixed:30ms``                            every call takes 30 ms (``0.03s`` works too; a bare ``30`` is
                                          refused: every duration needs its unit, ``ms`` or ``s``)
``linear:20ms,2ms/frame``                 ``d = base + per_frame * k`` (also ``linear:base=20ms,per_frame=2ms``)
``trace:FILE``                            per-call times from a CSV with a column ``inference_time_s``
                                          (or one number per line, seconds), cycled
``...,jitter=5ms``                        any deterministic model plus seeded Gaussian noise with that standard
                                          deviation, clipped at zero
``measured``                              the wall-clock time of the real call (not deterministic)
========================================  ==========================================================

Durations are converted to samples once and rounded up, so a delay is never understated. Deterministic
models return the whole array of per-call durations up front (:meth:`LatencyModel.inference_samples`);
``measured`` returns ``None`` and the simulator times each call.
"""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from accbench.errors import ConfigError
from accbench.suggest import did_you_mean
from accbench.units import MissingUnitError, parse_duration

__all__ = [
    "MODEL_NAMES",
    "Fixed",
    "Jitter",
    "LatencyModel",
    "Linear",
    "Measured",
    "Trace",
    "Zero",
    "parse_latency",
]


#: The model names a spec may start with (``NAME`` or ``NAME:ARGS``).
MODEL_NAMES = ("zero", "fixed", "linear", "trace", "measured")


def _seconds(text: str, spec: str) -> Fraction:
    """The duration ``text`` (``"30ms"``, ``"0.03s"``) of latency ``spec`` in seconds; a unit is required."""
    try:
        value, unit = parse_duration(text)
    except MissingUnitError as error:
        number = error.text
        in_seconds = f"{float(Fraction(number) / 1000):g}s"
        raise ConfigError(
            f"invalid latency spec {spec!r}: {number!r} has no unit; write {number}ms or {in_seconds}"
        ) from None
    except ValueError as error:
        raise ConfigError(f"invalid latency spec {spec!r}: {error}") from None
    if unit == "frames":
        raise ConfigError(f"invalid latency spec {spec!r}: give times in ms or s, not frames")
    seconds = value / 1000 if unit == "ms" else value
    if seconds < 0:
        raise ConfigError(f"invalid latency spec {spec!r}: a duration cannot be negative")
    return seconds


def _format_ms(seconds: Fraction) -> str:
    ms = seconds * 1000
    return f"{ms.numerator}ms" if ms.denominator == 1 else f"{float(ms):g}ms"


def _ceil_samples(seconds: Fraction, sample_rate: int) -> int:
    return math.ceil(seconds * sample_rate)


class LatencyModel:
    """Base class: per-call inference times in samples."""

    #: Whether the same call sequence always gets the same durations.
    deterministic: bool = True

    @property
    def spec(self) -> str:
        """The canonical spec string (used in results tables and manifests)."""
        raise NotImplementedError

    def inference_samples(
        self, n_calls: int, *, chunk_frames: int, hop: int, sample_rate: int, seed: int
    ) -> np.ndarray | None:
        """Durations of calls ``0 .. n_calls-1`` in whole samples (int64), or ``None`` to measure them."""
        raise NotImplementedError

    def __str__(self) -> str:
        return self.spec


@dataclass(frozen=True)
class Zero(LatencyModel):
    """Every call is instantaneous."""

    @property
    def spec(self) -> str:
        return "zero"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        return np.zeros(n_calls, dtype=np.int64)


@dataclass(frozen=True)
class Fixed(LatencyModel):
    """Every call takes ``seconds``."""

    seconds: Fraction

    @property
    def spec(self) -> str:
        return f"fixed:{_format_ms(self.seconds)}"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        return np.full(n_calls, _ceil_samples(self.seconds, sample_rate), dtype=np.int64)


@dataclass(frozen=True)
class Linear(LatencyModel):
    """A call producing ``k`` frames takes ``base + per_frame * k`` seconds."""

    base_seconds: Fraction
    per_frame_seconds: Fraction

    @property
    def spec(self) -> str:
        return f"linear:{_format_ms(self.base_seconds)},{_format_ms(self.per_frame_seconds)}/frame"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        seconds = self.base_seconds + self.per_frame_seconds * chunk_frames
        return np.full(n_calls, _ceil_samples(seconds, sample_rate), dtype=np.int64)


@dataclass(frozen=True)
class Trace(LatencyModel):
    """Per-call times read from a file, cycled when the song has more calls than the trace."""

    path: str
    durations_seconds: tuple[Fraction, ...]

    @classmethod
    def from_file(cls, path: str | Path) -> Trace:
        """Read a trace: a CSV with a header naming ``inference_time_s``, or one number (seconds) per line."""
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"latency trace file not found: {str(path)!r}")
        lines = [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
        if not lines:
            raise ConfigError(f"latency trace {str(path)!r} is empty")
        try:
            values = [Fraction(line) for line in lines]
        except ValueError:
            rows = list(csv.DictReader(lines))
            if not rows or "inference_time_s" not in rows[0]:
                raise ConfigError(
                    f"latency trace {str(path)!r}: expected a CSV column 'inference_time_s' or one number per line"
                ) from None
            try:
                values = [Fraction(row["inference_time_s"].strip()) for row in rows]
            except (ValueError, AttributeError):
                raise ConfigError(f"latency trace {str(path)!r}: non-numeric inference_time_s value") from None
        if any(value < 0 for value in values):
            raise ConfigError(f"latency trace {str(path)!r} contains a negative duration")
        return cls(str(path), tuple(values))

    @property
    def spec(self) -> str:
        return f"trace:{self.path}"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        cycle = np.array([_ceil_samples(value, sample_rate) for value in self.durations_seconds], dtype=np.int64)
        return np.resize(cycle, n_calls)


@dataclass(frozen=True)
class Jitter(LatencyModel):
    """A deterministic model plus seeded Gaussian noise of standard deviation ``sigma_seconds``, clipped at 0.

    The noise of call ``j`` is the ``j``-th draw of ``numpy.random.default_rng([seed, 0x1A7E])``, so it is the
    same for the same seed, independent of the model's own randomness.
    """

    base: LatencyModel
    sigma_seconds: Fraction

    @property
    def spec(self) -> str:
        return f"{self.base.spec},jitter={_format_ms(self.sigma_seconds)}"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        base = self.base.inference_samples(
            n_calls, chunk_frames=chunk_frames, hop=hop, sample_rate=sample_rate, seed=seed
        )
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0x1A7E])
        noise = rng.normal(0.0, float(self.sigma_seconds) * sample_rate, size=n_calls)
        # Rounding to 1e-6 samples first keeps float noise such as 959.9999999 from costing a whole sample.
        samples = np.ceil(np.round(base + noise, 6))
        return np.maximum(samples, 0).astype(np.int64)


@dataclass(frozen=True)
class Measured(LatencyModel):
    """The wall-clock time of each real call; the run is flagged as not deterministic."""

    deterministic = False

    @property
    def spec(self) -> str:
        return "measured"

    def inference_samples(self, n_calls, *, chunk_frames, hop, sample_rate, seed):
        return None


_JITTER = re.compile(r"^(?P<base>.*?)\s*,\s*jitter\s*=\s*(?P<sigma>[^,]+)$")


def parse_latency(spec: str | LatencyModel | None) -> LatencyModel:
    """Build a :class:`LatencyModel` from a spec string (see the module docstring).

    Raises
    ------
    ConfigError
        For an unknown name or malformed arguments; the message quotes the spec.

    Examples
    --------
    >>> parse_latency("linear:20ms,2ms/frame").spec
    'linear:20ms,2ms/frame'
    """
    if isinstance(spec, LatencyModel):
        return spec
    if spec is None:
        return Zero()
    if not isinstance(spec, str) or not spec.strip():
        raise ConfigError(f"invalid latency spec {spec!r}: expected a string such as 'fixed:30ms'")
    text = spec.strip()
    jitter = _JITTER.match(text)
    if jitter is not None:
        base = parse_latency(jitter.group("base"))
        if not base.deterministic:
            raise ConfigError(f"invalid latency spec {spec!r}: jitter needs a deterministic base model")
        return Jitter(base, _seconds(jitter.group("sigma"), spec))
    name, _, args = text.partition(":")
    name = name.strip().lower()
    if name == "zero" and not args:
        return Zero()
    if name == "measured" and not args:
        return Measured()
    if name == "fixed" and args:
        return Fixed(_seconds(args, spec))
    if name == "linear" and args:
        parts = [part.strip() for part in re.split(r"[,+]", args) if part.strip()]
        named = dict(part.split("=", 1) for part in parts if "=" in part)
        if named:
            if set(named) != {"base", "per_frame"} or len(parts) != 2:
                raise ConfigError(f"invalid latency spec {spec!r}: expected linear:base=20ms,per_frame=2ms")
            base_text, per_frame_text = named["base"], named["per_frame"]
        elif len(parts) == 2:
            base_text, per_frame_text = parts
        else:
            raise ConfigError(f"invalid latency spec {spec!r}: expected linear:BASE,PER_FRAME/frame")
        per_frame_text = re.sub(r"\s*/\s*frames?$", "", per_frame_text.strip())
        return Linear(_seconds(base_text, spec), _seconds(per_frame_text, spec))
    if name == "trace" and args:
        return Trace.from_file(args.strip())
    raise ConfigError(
        f"invalid latency spec {spec!r}: expected one of 'zero', 'fixed:30ms', 'linear:20ms,2ms/frame', "
        f"'trace:FILE', 'measured', optionally followed by ',jitter=5ms'{_suggestion(name)}"
    )


def _suggestion(name: str) -> str:
    """``" (did you mean 'fixed'?)"`` for a misspelt model name, ``""`` for a known or unlike one."""
    return "" if name in MODEL_NAMES else did_you_mean(name, MODEL_NAMES)
