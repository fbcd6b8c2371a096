"""Models for the sweep tests (imported by worker processes as ``sweep_models:...``)."""

from __future__ import annotations

import os

import numpy as np

from accbench import ModelInfo


class FailsOn:
    """Plays the input back, but raises at call 3 of one song, or kills its own process."""

    def __init__(self, song: str = "song1", mode: str = "raise", sample_rate: int = 22050, hop: int = 441):
        self.info = ModelInfo("fails-on", "1", sample_rate, hop)
        self.song, self.mode = song, mode

    def reset(self, session):
        self.session = session

    def step(self, new_input, ctx):
        if self.session.song_id == self.song and ctx.index == 3:
            if self.mode == "crash":
                os._exit(3)
            raise RuntimeError("deliberate failure")
        out = np.zeros((1, ctx.chunk_frames * ctx.hop), dtype=np.float32)
        n = min(new_input.shape[1], out.shape[1])
        out[:, :n] = new_input[:, :n]
        return out

    def close(self):
        pass
