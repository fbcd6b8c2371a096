"""The protocol a streaming accompaniment model implements.

A model is any object with ``info``, ``reset(session)``, ``step(new_input, ctx)`` and ``close()``;
no base class is required (:class:`StreamingModel` is a structural ``typing.Protocol``).

Contract (the same as a PortAudio stream callback, in chunks of ``chunk_frames * hop`` samples):

- ``reset(session)`` starts a new song. ``session`` carries the song id, the sample rate, hop,
  future visibility and chunk size in frames, the song length and the seed.
- ``step(new_input, ctx)`` produces one chunk. ``new_input`` is a read-only ``(channels, n_new)``
  float32 array holding only the input samples that became visible since the previous call (it may be
  empty). ``ctx`` says which chunk is asked for and whether the previous one was played in full.
  The call returns exactly ``(output_channels, chunk_frames * hop)`` float32.
- ``close()`` releases resources.

All sample positions are integer sample indices at ``info.sample_rate``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "ModelInfo",
    "Session",
    "StepContext",
    "StreamingModel",
]

ReferenceAccess = Literal["none", "visible", "full"]


@dataclass(frozen=True)
class ModelInfo:
    """What a model declares about itself.

    Parameters
    ----------
    name : str
        Model name, as it appears in results tables.
    version : str
        Model version; a change of version is never mixed with older results.
    sample_rate : int
        Audio rate the model consumes and produces, in Hz. Input is resampled to it.
    hop : int
        Samples per frame. Future visibility and chunk sizes are counted in these frames.
    channels : int
        Input channels the model expects (input is down-mixed or duplicated to match).
    output_channels : int or None
        Channels of each returned chunk; ``None`` means the same as ``channels``.
    causal : bool
        ``False`` for models that look at data no live system could see (the ``oracle``); reports mark them.
    latency : str or None
        A latency-model spec (see :mod:`accbench.simulators.latency`) describing the model's own inference
        time, used when a simulation is not given one.
    reference_access : {"none", "visible", "full"}
        Baselines only: ``"full"`` hands the whole reference accompaniment to ``reset`` (non-causal);
        ``"visible"`` hands the reference under the same visibility rule as the input (``ctx.new_reference``).
    """

    name: str
    version: str
    sample_rate: int
    hop: int
    channels: int = 1
    output_channels: int | None = None
    causal: bool = True
    latency: str | None = None
    reference_access: ReferenceAccess = "none"

    def __post_init__(self) -> None:
        if not self.name or not isinstance(self.name, str):
            raise ValueError(f"ModelInfo.name must be a non-empty string, got {self.name!r}")
        for field_name in ("sample_rate", "hop", "channels"):
            value = getattr(self, field_name)
            if not isinstance(value, int | np.integer) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"ModelInfo.{field_name} of model {self.name!r} must be a positive int, got {value!r}")
        if self.output_channels is not None and (
            not isinstance(self.output_channels, int | np.integer) or self.output_channels <= 0
        ):
            raise ValueError(
                f"ModelInfo.output_channels of model {self.name!r} must be a positive int or None, "
                f"got {self.output_channels!r}"
            )
        if self.reference_access not in ("none", "visible", "full"):
            raise ValueError(
                f"ModelInfo.reference_access of model {self.name!r} must be 'none', 'visible' or 'full', "
                f"got {self.reference_access!r}"
            )

    @property
    def frame_rate(self) -> float:
        """Frames per second, ``sample_rate / hop``."""
        return self.sample_rate / self.hop

    @property
    def out_channels(self) -> int:
        """Channels of each returned chunk."""
        return self.channels if self.output_channels is None else int(self.output_channels)


@dataclass(frozen=True)
class Session:
    """Everything a model learns when a new song starts (``reset``).

    Parameters
    ----------
    song_id : str
        The song's id, as in results and error messages.
    sample_rate : int
        Hz (the model's own rate).
    hop : int
        Samples per frame.
    future_visibility : int
        Frames of input the model may see past each chunk's playback start (negative: it must anticipate).
    chunk_frames : int
        Frames per call.
    n_samples : int
        Length of the song in samples.
    seed : int
        Seed for any randomness in the model; the same seed must give the same output.
    reference : ndarray or None
        ``(channels, n_samples)`` read-only reference accompaniment, only for models declaring
        ``reference_access="full"`` (the non-causal ``oracle``); ``None`` otherwise.
    """

    song_id: str
    sample_rate: int
    hop: int
    future_visibility: int
    chunk_frames: int
    n_samples: int
    seed: int
    reference: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def chunk_samples(self) -> int:
        """Samples per chunk, ``chunk_frames * hop``."""
        return self.chunk_frames * self.hop


class StepContext(NamedTuple):
    """What a model is told at each call (an immutable named tuple: cheap to build once per call).

    Parameters
    ----------
    index : int
        Call (chunk) index ``j``, from 0.
    chunk_start : int
        First output sample of the chunk, ``s_j = j * chunk_frames * hop``.
    visible_end : int
        End (exclusive) of the input visible to this call, ``v_j``, in samples.
    chunk_frames : int
    hop : int
    previous_played : bool
        ``False`` when any sample of the previous chunk was silenced because it was late (the underflow flag
        of an audio callback); ``True`` for the first call.
    remaining : int
        Samples of the song from ``chunk_start`` to its end.
    new_reference : ndarray or None
        Newly visible reference samples, only for models declaring ``reference_access="visible"``.
    """

    index: int
    chunk_start: int
    visible_end: int
    chunk_frames: int
    hop: int
    previous_played: bool
    remaining: int
    new_reference: np.ndarray | None = None


@runtime_checkable
class StreamingModel(Protocol):
    """Structural type of a streaming accompaniment model (see the module docstring)."""

    info: ModelInfo

    def reset(self, session: Session) -> None: ...

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray: ...

    def close(self) -> None: ...
