"""A tiny third-party accbench plugin: a model registered through the ``accbench.models`` entry point group."""

from __future__ import annotations

import numpy as np

from accbench.protocol import ModelInfo, Session, StepContext


class HalfInput:
    """Plays the visible input back at half level, one chunk late (causal)."""

    def __init__(self, sample_rate: int = 22050, hop: int = 441, level: float = 0.5) -> None:
        self.info = ModelInfo("half-input", "0.1.0", sample_rate, hop)
        self.level = float(level)
        self._heard = np.zeros((1, 0), dtype=np.float32)

    def reset(self, session: Session) -> None:
        self._heard = np.zeros((1, 0), dtype=np.float32)

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        self._heard = np.concatenate([self._heard, new_input], axis=1)
        n = ctx.chunk_frames * ctx.hop
        out = np.zeros((1, n), dtype=np.float32)
        piece = self._heard[:, max(ctx.chunk_start - n, 0) : ctx.chunk_start]
        if ctx.chunk_start >= n:
            out[:, : piece.shape[1]] = self.level * piece
        return out

    def close(self) -> None:
        self._heard = np.zeros((1, 0), dtype=np.float32)


def make_model(**options) -> HalfInput:
    """The entry point's factory."""
    return HalfInput(**options)


def wrong_type(**options) -> dict:
    """A factory returning something that is not a model (for the error tests)."""
    return {"not": "a model"}
