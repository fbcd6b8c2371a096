"""Conversions between milliseconds, seconds, frames and samples.

accbench counts time internally in integer **samples** at the model's sample rate. A model declares
``sample_rate`` (Hz) and ``hop`` (samples per frame), so the frame rate is ``sample_rate / hop``.
Future visibility and chunk sizes are whole frames; delays are whole samples.

This module is the one place where those units meet:

- :func:`parse_duration`: ``"30ms"``, ``"0.5s"``, ``"4frames"`` into exact fractions; a bare number is refused
  (:class:`MissingUnitError`) unless the caller names the unit its input documents (frames for ``t_f``, ``k``).
- :func:`ms_to_frames`: milliseconds to whole frames, refusing values that are not whole frames.
- :func:`frames_to_ms`: frames to milliseconds (float, for display and table columns).
- :func:`seconds_to_samples_ceil`: a delay in seconds to whole samples, rounded up so a delay is never
  understated.

Exact decimal arithmetic (:class:`fractions.Fraction`) is used so that ``0.1 s`` at 16 kHz is 1600
samples, not 1601.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

__all__ = [
    "MissingUnitError",
    "exact_fraction",
    "frames_to_ms",
    "ms_to_frames",
    "parse_duration",
    "seconds_to_samples_ceil",
]

_DURATION = re.compile(r"^\s*([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)\s*(ms|s|frames?|)\s*$")


def exact_fraction(value: float | int | str | Fraction) -> Fraction:
    """Return ``value`` as an exact fraction of its shortest decimal spelling.

    Floats are read through ``repr`` so that ``0.1`` means one tenth, not the nearest binary double.
    """
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool):
        raise TypeError(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"expected a finite number, got {value!r}")
        return Fraction(repr(value))
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    raise TypeError(f"expected a number, got {type(value).__name__}")


class MissingUnitError(ValueError):
    """A bare number where a duration needs a unit (``"30"`` instead of ``"30ms"``).

    Parameters
    ----------
    text : str
        The number as written.
    """

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(f"{text!r} has no unit (write e.g. '{text}ms', '{text}s' or '{text}frames')")


def parse_duration(text: str | float | int, default_unit: str | None = None) -> tuple[Fraction, str]:
    """Split a duration such as ``"30ms"``, ``"0.2s"`` or ``"-10frames"`` into value and unit.

    Parameters
    ----------
    text : str or number
        The duration.
    default_unit : {None, "ms", "s", "frames"}
        Unit of bare numbers (strings without a unit, ints, floats). ``None`` (the default) refuses them, so a
        ``30`` is never silently taken as milliseconds; pass a unit only where the input documents one (frames
        for future visibility and chunk sizes).

    Returns
    -------
    value : Fraction
        The exact value in ``unit``.
    unit : str
        One of ``"ms"``, ``"s"``, ``"frames"``.

    Raises
    ------
    MissingUnitError
        A bare number while ``default_unit`` is ``None`` (a :class:`ValueError`).
    ValueError
        Not a duration.
    """
    if not isinstance(text, str):
        value = exact_fraction(text)
        if default_unit is None:
            raise MissingUnitError(str(text))
        return value, default_unit
    match = _DURATION.match(text)
    if match is None:
        raise ValueError(f"not a duration: {text!r} (expected e.g. '30ms', '0.5s' or '4frames')")
    number, unit = match.groups()
    if not unit and default_unit is None:
        raise MissingUnitError(number)
    unit = {"": default_unit, "frame": "frames"}.get(unit, unit)
    return Fraction(number), unit


def ms_to_frames(ms: float | int | str | Fraction, sample_rate: int, hop: int) -> int:
    """Convert milliseconds to a whole number of frames.

    Parameters
    ----------
    ms : number or str
        Duration in milliseconds (may be negative, e.g. a future visibility).
    sample_rate : int
        Model sample rate in Hz.
    hop : int
        Samples per frame.

    Returns
    -------
    frames : int

    Raises
    ------
    ValueError
        When ``ms`` is not a whole number of frames of ``hop / sample_rate`` seconds.

    Examples
    --------
    >>> ms_to_frames(-200, sample_rate=32000, hop=640)
    -10
    """
    frames = exact_fraction(ms) * sample_rate / (1000 * hop)
    if frames.denominator != 1:
        frame_ms = Fraction(1000 * hop, sample_rate)
        raise ValueError(
            f"{ms} ms is not a whole number of frames: one frame is {float(frame_ms):g} ms "
            f"(hop {hop} at {sample_rate} Hz); nearest whole values are "
            f"{float(math.floor(frames) * frame_ms):g} ms and {float(math.ceil(frames) * frame_ms):g} ms"
        )
    return int(frames)


def frames_to_ms(frames: int, sample_rate: int, hop: int) -> float:
    """Convert frames to milliseconds (a float, for display and table columns)."""
    return float(Fraction(int(frames) * hop * 1000, sample_rate))


def seconds_to_samples_ceil(seconds: float | int | str | Fraction, sample_rate: int) -> int:
    """Convert a non-negative delay in seconds to whole samples, rounding up.

    A delay is never understated: 30 ms at 44.1 kHz (1323 samples exactly) stays 1323, while
    1 ms at 44.1 kHz (44.1 samples) becomes 45.
    """
    value = exact_fraction(seconds) * sample_rate
    if value < 0:
        raise ValueError(f"a delay cannot be negative: {float(seconds)} s")
    return math.ceil(value)
