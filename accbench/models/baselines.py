"""Built-in baselines: the reference points drawn on every plot.

- ``silence``: plays nothing; the floor of every coherence metric.
- ``oracle``: plays the reference accompaniment itself. It sees data no live system could (non-causal);
  the ceiling.
- ``oracle-delayed``: the reference treated like the input, visible only up to ``v_j``, played late by the
  smallest shift that needs no invisible sample, ``D = max(0, K - t_f * hop)`` samples. What the visibility
  rule alone costs a perfect model.
- ``mismatch``: another song's accompaniment; the coherence floor for real music.

All baselines default to 22050 Hz with a hop of 441 samples (50 frames per second, the frame rate of the
seed paper); pass ``sample_rate`` and ``hop`` to change them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from accbench.audio import as_channels_first, load_audio, match_channels
from accbench.errors import ModelError
from accbench.protocol import ModelInfo, Session, StepContext

__all__ = ["DEFAULT_HOP", "DEFAULT_SAMPLE_RATE", "Mismatch", "Oracle", "OracleDelayed", "Silence"]

DEFAULT_SAMPLE_RATE = 22050
DEFAULT_HOP = 441


class _Baseline:
    info: ModelInfo

    def __init__(self) -> None:
        self._session: Session | None = None

    def reset(self, session: Session) -> None:
        self._session = session

    def close(self) -> None:
        self._session = None

    def _silence(self, ctx: StepContext) -> np.ndarray:
        return np.zeros((self.info.out_channels, ctx.chunk_frames * ctx.hop), dtype=np.float32)


class Silence(_Baseline):
    """Plays silence."""

    def __init__(self, sample_rate: int = DEFAULT_SAMPLE_RATE, hop: int = DEFAULT_HOP, channels: int = 1) -> None:
        super().__init__()
        self.info = ModelInfo("silence", "1", sample_rate, hop, channels=channels)

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        return self._silence(ctx)


class Oracle(_Baseline):
    """Plays the reference accompaniment (non-causal: it is handed the whole reference at ``reset``)."""

    def __init__(self, sample_rate: int = DEFAULT_SAMPLE_RATE, hop: int = DEFAULT_HOP, channels: int = 1) -> None:
        super().__init__()
        self.info = ModelInfo("oracle", "1", sample_rate, hop, channels=channels, causal=False, reference_access="full")

    def reset(self, session: Session) -> None:
        if session.reference is None:
            raise ModelError("the oracle needs a reference accompaniment", model="oracle", song=session.song_id)
        super().reset(session)

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        reference = self._session.reference
        out = self._silence(ctx)
        piece = reference[:, ctx.chunk_start : ctx.chunk_start + out.shape[1]]
        out[:, : piece.shape[1]] = match_channels(piece, out.shape[0])
        return out


class OracleDelayed(_Baseline):
    """Plays the reference as soon as the visibility rule lets it, delayed by ``max(0, K - t_f * hop)``."""

    def __init__(self, sample_rate: int = DEFAULT_SAMPLE_RATE, hop: int = DEFAULT_HOP, channels: int = 1) -> None:
        super().__init__()
        self.info = ModelInfo("oracle-delayed", "1", sample_rate, hop, channels=channels, reference_access="visible")
        self._received = np.zeros((channels, 0), dtype=np.float32)
        self._received_samples = 0
        self._delay = 0

    @staticmethod
    def delay_samples(future_visibility: int, chunk_frames: int, hop: int) -> int:
        """The shift ``D = max(0, K - t_f * hop)`` in samples."""
        return max(0, chunk_frames * hop - future_visibility * hop)

    def reset(self, session: Session) -> None:
        super().reset(session)
        self._received = np.zeros((self.info.channels, session.n_samples), dtype=np.float32)
        self._received_samples = 0
        self._delay = self.delay_samples(session.future_visibility, session.chunk_frames, session.hop)

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        if ctx.new_reference is None:
            raise ModelError("oracle-delayed needs a reference accompaniment", model="oracle-delayed", call=ctx.index)
        arrived = ctx.new_reference.shape[1]
        if arrived:
            end = self._received_samples + arrived
            self._received[:, self._received_samples : end] = match_channels(ctx.new_reference, self.info.channels)
            self._received_samples = end
        out = self._silence(ctx)
        first = ctx.chunk_start - self._delay  # reference sample played at the chunk's first output sample
        start, stop = max(first, 0), min(first + out.shape[1], self._received_samples)
        if stop > start:
            out[:, start - first : stop - first] = match_channels(self._received[:, start:stop], out.shape[0])
        return out


class Mismatch(_Baseline):
    """Plays another song's accompaniment from its start (trimmed or padded with silence).

    Parameters
    ----------
    accompaniments : mapping or callable or array or path
        Where the other accompaniment comes from: a mapping ``song_id -> (channels, n)`` audio at the model's
        sample rate (the song after the current one, in sorted order and cycling, is played, never the
        current song), a callable ``song_id -> audio`` that returns the accompaniment to play for that song,
        a single array, or the path of an audio file.
    """

    def __init__(
        self,
        accompaniments: Mapping[str, np.ndarray] | Callable[[str], np.ndarray] | np.ndarray | str | None = None,
        sample_rate: int = DEFAULT_SAMPLE_RATE,
        hop: int = DEFAULT_HOP,
        channels: int = 1,
    ) -> None:
        super().__init__()
        if accompaniments is None:
            raise ModelError(
                "mismatch needs another song's accompaniment: pass accompaniments=PATH, an array, "
                "a mapping of song ids to arrays, or a callable",
                model="mismatch",
            )
        if isinstance(accompaniments, str):
            accompaniments = load_audio(accompaniments, sample_rate=sample_rate)[0]
        self._source = accompaniments
        self.info = ModelInfo("mismatch", "1", sample_rate, hop, channels=channels)
        self._audio = np.zeros((channels, 0), dtype=np.float32)

    def _pick(self, song_id: str) -> np.ndarray:
        source = self._source
        if isinstance(source, Mapping):
            others = sorted(name for name in source if name != song_id)
            if not others:
                raise ModelError("mismatch needs at least one other song", model="mismatch", song=song_id)
            following = [name for name in others if name > song_id]
            return source[following[0] if following else others[0]]
        if callable(source):
            return source(song_id)
        return source

    def reset(self, session: Session) -> None:
        super().reset(session)
        audio = as_channels_first(self._pick(session.song_id), name="mismatch accompaniment", song=session.song_id)
        self._audio = match_channels(audio, self.info.out_channels)

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        out = self._silence(ctx)
        piece = self._audio[:, ctx.chunk_start : ctx.chunk_start + out.shape[1]]
        out[:, : piece.shape[1]] = piece
        return out
