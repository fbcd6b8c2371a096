"""The reference model: a small causal Transformer accompanist trained for one (future visibility, chunk size) point.

It reproduces the trends of the seed paper on a laptop: trained across a grid of ``future_visibility`` (``t_f``)
and ``chunk_frames`` (``k``), it plays a more coherent accompaniment as ``t_f`` grows and ``k`` shrinks.
Users calibrate their own models against it (built-in name ``reference-transformer``, option ``checkpoint``).

Representation (audio in, audio out through the protocol):

- **Input features** (:class:`FrameFeatures`), 50 frames per second at 22050 Hz / hop 441: frame ``i`` is computed
  from the ``n_fft`` samples that end at sample ``(i + 1) * hop`` (zeros before the song), so it exists as soon as
  those samples are visible: a 12-bin chroma (normalised to its maximum), a log energy and a log-mel spectral flux
  (onset strength). Streaming and whole-song extraction run the same code.
- **Output frames**: 26 numbers per frame ``f``: the accompaniment's sounding pitch classes (12, multi-label), its
  bass pitch class (13 classes, the last one "no bass") and whether an accompaniment note starts in the frame
  (:data:`N_TARGETS`). :func:`decode_frame` picks what to play (with hysteresis) and :class:`_Renderer` turns it
  into a phase-continuous bass and pad, deterministically (each note is computed from its own onset sample, so
  the audio does not depend on where chunks start).
- **Network** (:class:`ReferenceNetwork`): a causal encoder (self-attention over input frames) and a decoder with
  one token per output frame that attends causally to the earlier output frames' states and cross-attends to the
  encoder under the simulator's visibility rule, then three heads. Optionally (``feedback=True``) token ``f``
  embeds the model's own decision for frame ``f - 1`` (teacher forcing in training); off by default, because
  maximum-likelihood training with teacher forcing taught the small model to copy its previous frame, and
  free-running it never left its first output.
  Positions enter through rotary embeddings (relative offsets only); attention looks back at most ``window``
  frames, so a song of any length streams in constant time per frame.

The visibility rule (docs/design.md, "Timing semantics") in frames: the call that produces chunk ``j`` sees input
``[0, v_j)``, ``v_j = clamp(s_j + t_f * hop, 0, N)``; the complete feature frames in it are
``i < clamp(j * k + t_f, 0, N // hop)``. Output frame ``f`` belongs to chunk ``j = f // k``, so in training the
decoder position ``f`` may attend to encoder position ``i`` iff ``i < clamp((f // k) * k + t_f, 0, n_frames)``
(:func:`visible_frames`), plus a learned "nothing visible yet" slot. While streaming the same function decides
which encoder states each decoded frame reads, and the encoder only ever receives the visible samples.

Checkpoints (written by :mod:`accbench.models.reference_training`) are a dict of a JSON-able ``config`` and a
``state_dict``, loaded with ``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import torch
from torch import nn

from accbench.audio import match_channels
from accbench.errors import ModelError
from accbench.protocol import ModelInfo, Session, StepContext
from accbench.threads import torch_threads

__all__ = [
    "CHECKPOINT_FORMAT",
    "DEFAULT_FEATURES",
    "DEFAULT_NETWORK",
    "N_FEATURES",
    "N_TARGETS",
    "FrameFeatures",
    "ReferenceNetwork",
    "ReferenceTransformer",
    "checkpoint_name",
    "decode_frame",
    "load_checkpoint",
    "visible_frames",
]

CHECKPOINT_FORMAT = "accbench-reference-transformer"
CHECKPOINT_VERSION = 1
MODEL_NAME = "reference-transformer"

N_PITCH_CLASSES = 12
N_BASS = 13  # 12 pitch classes + "no bass"
N_FEATURES = 14  # chroma (12), log energy, onset strength
N_TARGETS = N_PITCH_CLASSES + N_BASS + 1  # pitch classes, bass one-hot, onset flag
ONSET = N_TARGETS - 1

#: Feature parameters stored in every checkpoint.
DEFAULT_FEATURES: dict[str, Any] = {"n_fft": 2048, "n_mels": 40}
#: Network shape stored in every checkpoint.
DEFAULT_NETWORK: dict[str, Any] = {
    "d_model": 64,
    "heads": 4,
    "encoder_layers": 1,
    "decoder_layers": 2,
    "ffn": 128,
    "window": 128,
    "anticipation": False,
    "feedback": False,
}


def checkpoint_name(future_visibility: int, chunk_frames: int) -> str:
    """File name of the checkpoint of one grid point, e.g. ``tf-10_k5.pt``."""
    return f"tf{int(future_visibility)}_k{int(chunk_frames)}.pt"


def visible_frames(
    output_frames: torch.Tensor, future_visibility: int, chunk_frames: int, n_frames: Any
) -> torch.Tensor:
    """Number of input frames visible to output frame(s) ``f``: ``clamp((f // k) * k + t_f, 0, n_frames)``.

    Parameters
    ----------
    output_frames : Tensor of int64
        Absolute output frame indices ``f``.
    future_visibility : int
        ``t_f`` in frames.
    chunk_frames : int
        ``k``.
    n_frames : int or Tensor
        Complete input frames of the song (``N // hop``), broadcast against ``output_frames``.

    Returns
    -------
    Tensor of int64
        Input frames ``i`` with ``i <`` this value may be used for ``f``.
    """
    limit = torch.div(output_frames, chunk_frames, rounding_mode="floor") * chunk_frames + future_visibility
    limit = torch.clamp(limit, min=0)
    return torch.minimum(limit, torch.as_tensor(n_frames, dtype=limit.dtype, device=limit.device))


# --------------------------------------------------------------------------------------------- features
class FrameFeatures:
    """Causal per-frame input features, computed incrementally from the visible samples.

    Frame ``i`` covers the ``n_fft`` samples ending at sample ``(i + 1) * hop`` (zeros before sample 0); it is
    produced by the :meth:`push` that makes that sample available. Pushing a whole song at once gives the
    same frames as pushing it piece by piece.

    Parameters
    ----------
    sample_rate : int
        Hz.
    hop : int
        Samples per frame.
    n_fft : int
        Analysis window in samples (>= hop).
    n_mels : int
        Mel bands of the onset-strength flux.

    Examples
    --------
    >>> extractor = FrameFeatures(22050, 441)
    >>> extractor.push(np.zeros(1000, dtype=np.float32)).shape
    (2, 14)
    """

    def __init__(self, sample_rate: int, hop: int, n_fft: int = 2048, n_mels: int = 40) -> None:
        if n_fft < hop:
            raise ValueError(f"n_fft ({n_fft}) must be at least hop ({hop})")
        self.sample_rate, self.hop, self.n_fft = int(sample_rate), int(hop), int(n_fft)
        self._window = np.hanning(self.n_fft + 2)[1:-1]
        self._chroma_fb = librosa.filters.chroma(sr=self.sample_rate, n_fft=self.n_fft, dtype=np.float64)
        self._mel_fb = librosa.filters.mel(
            sr=self.sample_rate,
            n_fft=self.n_fft,
            n_mels=int(n_mels),
            fmax=min(8000.0, sample_rate / 2),
            dtype=np.float64,
        )
        self.reset()

    def reset(self) -> None:
        """Forget all samples (a new song)."""
        self._buffer = np.zeros(self.n_fft, dtype=np.float64)
        self._received = 0
        self._previous_mel = np.zeros(self._mel_fb.shape[0])

    @property
    def frames(self) -> int:
        """Complete frames so far, ``received // hop``."""
        return self._received // self.hop

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Append mono samples; return the features of every frame completed by them.

        Parameters
        ----------
        samples : ndarray, shape (n,)
            The next mono input samples.

        Returns
        -------
        features : ndarray, float32, shape (n_new_frames, N_FEATURES)
        """
        new = np.asarray(samples, dtype=np.float64).reshape(-1)
        hop, n_fft = self.hop, self.n_fft
        total = self._received + new.shape[0]
        ends = np.arange((self._received // hop + 1) * hop, total + 1, hop)
        joined = np.concatenate([self._buffer, new])
        offset = self._received - n_fft  # absolute sample index of joined[0]
        out = np.zeros((ends.size, N_FEATURES), dtype=np.float32)
        if ends.size:
            index = (ends - n_fft - offset)[:, None] + np.arange(n_fft)[None, :]
            frames = joined[index] * self._window
            power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
            chroma = power @ self._chroma_fb.T
            peak = chroma.max(axis=1, keepdims=True)
            # Frames with (near) no energy have no pitch content: chroma 0 rather than normalised noise.
            chroma = np.where(peak > 1e-6, chroma / np.maximum(peak, 1e-12), 0.0)
            energy = np.mean(frames**2, axis=1)
            mel = np.log1p(100.0 * (np.sqrt(power) @ self._mel_fb.T))
            flux = np.empty(ends.size)
            previous = self._previous_mel
            for row in range(ends.size):
                flux[row] = np.maximum(mel[row] - previous, 0.0).sum()
                previous = mel[row]
            self._previous_mel = previous
            out[:, :12] = chroma
            out[:, 12] = (10.0 * np.log10(energy + 1e-10) + 100.0) / 100.0
            out[:, 13] = np.log1p(flux) / 4.0
        self._buffer = joined[-n_fft:]
        self._received = total
        return out


def song_features(audio: np.ndarray, sample_rate: int, hop: int, **feature_params: Any) -> np.ndarray:
    """Features of a whole (mono or channels-first) signal: ``(len // hop, N_FEATURES)`` float32."""
    mono = np.asarray(audio, dtype=np.float64)
    if mono.ndim == 2:
        mono = mono.mean(axis=0)
    return FrameFeatures(sample_rate, hop, **feature_params).push(mono)


# ---------------------------------------------------------------------------------------------- network
def _rotary(x: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding of ``x`` (..., n, d_head) at integer ``positions`` (..., n)."""
    half = x.shape[-1] // 2
    inverse = 1.0 / (10000.0 ** (torch.arange(half, dtype=torch.float32, device=x.device) / half))
    angle = positions.to(torch.float32).unsqueeze(-1) * inverse
    cos, sin = torch.cos(angle), torch.sin(angle)
    first, second = x[..., :half], x[..., half:]
    return torch.cat([first * cos - second * sin, first * sin + second * cos], dim=-1)


class _Attention(nn.Module):
    """Multi-head attention with rotary positions and an explicit boolean mask (``True`` = may attend)."""

    def __init__(self, d_model: int, heads: int, null_slot: bool = False) -> None:
        super().__init__()
        self.heads, self.d_head = heads, d_model // heads
        self.query = nn.Linear(d_model, d_model)
        self.key = nn.Linear(d_model, d_model)
        self.value = nn.Linear(d_model, d_model)
        self.output = nn.Linear(d_model, d_model)
        # A key/value every query may attend to: "no input visible yet" for cross-attention.
        self.null = nn.Parameter(torch.zeros(2, heads, 1, d_model // heads)) if null_slot else None

    def _split(self, x: torch.Tensor) -> torch.Tensor:
        batch, length, _ = x.shape
        return x.view(batch, length, self.heads, self.d_head).transpose(1, 2)

    def keys_values(self, x: torch.Tensor, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Rotated keys and values of ``x`` (batch, n, d) at ``positions`` (batch, n): two (batch, heads, n, d_head)."""
        keys = _rotary(self._split(self.key(x)), positions.unsqueeze(1))
        return keys, self._split(self.value(x))

    def attend(
        self,
        x: torch.Tensor,
        positions: torch.Tensor,
        keys: torch.Tensor,
        values: torch.Tensor,
        mask: torch.Tensor,
    ) -> torch.Tensor:
        """Queries from ``x`` (batch, n, d) at ``positions``; ``mask`` (batch, n, m) over the m keys."""
        queries = _rotary(self._split(self.query(x)), positions.unsqueeze(1))
        scores = queries @ keys.transpose(-1, -2) / math.sqrt(self.d_head)
        scores = scores.masked_fill(~mask.unsqueeze(1), float("-inf"))
        if self.null is not None:
            null_keys = self.null[0].unsqueeze(0).expand(x.shape[0], -1, -1, -1)
            null_values = self.null[1].unsqueeze(0).expand(x.shape[0], -1, -1, -1)
            scores = torch.cat([queries @ null_keys.transpose(-1, -2) / math.sqrt(self.d_head), scores], dim=-1)
            values = torch.cat([null_values, values], dim=-2)
        weights = torch.softmax(scores, dim=-1)
        mixed = (weights @ values).transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)
        return self.output(mixed)


class _EncoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.attention = _Attention(d_model, heads)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))


class _DecoderLayer(nn.Module):
    def __init__(self, d_model: int, heads: int, ffn: int) -> None:
        super().__init__()
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d_model), nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.self_attention = _Attention(d_model, heads)
        self.cross_attention = _Attention(d_model, heads, null_slot=True)
        self.ffn = nn.Sequential(nn.Linear(d_model, ffn), nn.GELU(), nn.Linear(ffn, d_model))


def _band(query_positions: torch.Tensor, key_positions: torch.Tensor, window: int) -> torch.Tensor:
    """Causal band: key position within ``[q - window + 1, q]``; (batch, n, m)."""
    distance = query_positions.unsqueeze(-1) - key_positions.unsqueeze(-2)
    return (distance >= 0) & (distance < window)


class ReferenceNetwork(nn.Module):
    """The causal encoder-decoder of the reference model (see the module docstring).

    Parameters
    ----------
    future_visibility : int
        ``t_f`` in frames the cross-attention mask is built for.
    chunk_frames : int
        ``k``.
    d_model, heads, encoder_layers, decoder_layers, ffn, window : int
        Width, attention heads, layers, feed-forward width and the look-back window in frames.
    anticipation : bool
        Add the auxiliary head of the anticipatory objective: from the decoder state of frame ``f``, predict the
        input features of frame ``f`` itself (invisible when ``t_f <= 0``: what the soloist plays now).
        Used in training only; streaming ignores it.
    feedback : bool
        Feed the decoder its own previous output frame (teacher forcing in training). Off by default: trained
        by maximum likelihood with teacher forcing, the tiny model learns to copy its previous frame and, free
        running, never leaves its first output (exposure bias). Without it, each decoder token is a learned
        constant and the decoder's self-attention carries the model's own history as hidden states.
    """

    def __init__(
        self,
        future_visibility: int,
        chunk_frames: int,
        *,
        d_model: int = 64,
        heads: int = 4,
        encoder_layers: int = 1,
        decoder_layers: int = 2,
        ffn: int = 128,
        window: int = 128,
        anticipation: bool = False,
        feedback: bool = False,
    ) -> None:
        super().__init__()
        if chunk_frames < 1 or window < 1 or d_model % heads or (d_model // heads) % 2:
            raise ValueError("chunk_frames and window must be >= 1 and d_model / heads an even integer")
        self.future_visibility, self.chunk_frames, self.window = int(future_visibility), int(chunk_frames), int(window)
        self.input_projection = nn.Linear(N_FEATURES, d_model)
        self.feedback_projection = nn.Linear(N_TARGETS, d_model)
        self.encoder = nn.ModuleList([_EncoderLayer(d_model, heads, ffn) for _ in range(encoder_layers)])
        self.encoder_norm = nn.LayerNorm(d_model)
        self.decoder = nn.ModuleList([_DecoderLayer(d_model, heads, ffn) for _ in range(decoder_layers)])
        self.decoder_norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, N_TARGETS)
        self.anticipation_head = nn.Linear(d_model, N_FEATURES) if anticipation else None
        self.feedback = bool(feedback)

    # Training / whole-sequence path -----------------------------------------------------------------
    def encode(self, features: torch.Tensor, positions: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """Encoder states (batch, n, d) of input frames at absolute ``positions``; ``valid`` marks real frames."""
        hidden = self.input_projection(features)
        mask = _band(positions, positions, self.window) & valid.unsqueeze(1)
        mask = mask | torch.eye(positions.shape[1], dtype=torch.bool, device=mask.device).unsqueeze(0)
        for layer in self.encoder:
            normed = layer.norm1(hidden)
            keys, values = layer.attention.keys_values(normed, positions)
            hidden = hidden + layer.attention.attend(normed, positions, keys, values, mask)
            hidden = hidden + layer.ffn(layer.norm2(hidden))
        return self.encoder_norm(hidden)

    def cross_mask(
        self, output_positions: torch.Tensor, input_positions: torch.Tensor, n_frames: torch.Tensor, valid: torch.Tensor
    ) -> torch.Tensor:
        """(batch, n_out, n_in): decoder frame ``f`` may read encoder frame ``i`` (the streaming rule + window)."""
        limit = visible_frames(output_positions, self.future_visibility, self.chunk_frames, n_frames.unsqueeze(-1))
        inputs = input_positions.unsqueeze(-2)
        visible = inputs < limit.unsqueeze(-1)
        recent = inputs > output_positions.unsqueeze(-1) - self.window - max(self.future_visibility, 0)
        return visible & recent & valid.unsqueeze(-2)

    def forward(
        self,
        features: torch.Tensor,
        input_positions: torch.Tensor,
        input_valid: torch.Tensor,
        feedback: torch.Tensor,
        output_positions: torch.Tensor,
        n_frames: torch.Tensor,
        return_hidden: bool = False,
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        """Logits (batch, n_out, N_TARGETS) of every output frame with teacher forcing.

        Parameters
        ----------
        features : Tensor (batch, n_in, N_FEATURES)
            Input frames at absolute ``input_positions`` (batch, n_in); ``input_valid`` marks real frames.
        feedback : Tensor (batch, n_out, N_TARGETS)
            Row ``t`` is the output of frame ``output_positions[:, t] - 1`` (zeros for frame 0).
        output_positions : Tensor (batch, n_out)
            Consecutive absolute output frame indices.
        n_frames : Tensor (batch,)
            Complete input frames of each song (the visibility clamp).
        return_hidden : bool
            Also return the final decoder states (batch, n_out, d_model).
        """
        memory = self.encode(features, input_positions, input_valid)
        cross = self.cross_mask(output_positions, input_positions, n_frames, input_valid)
        self_mask = _band(output_positions, output_positions, self.window)
        hidden = self.feedback_projection(feedback if self.feedback else torch.zeros_like(feedback))
        for layer in self.decoder:
            normed = layer.norm1(hidden)
            keys, values = layer.self_attention.keys_values(normed, output_positions)
            hidden = hidden + layer.self_attention.attend(normed, output_positions, keys, values, self_mask)
            keys, values = layer.cross_attention.keys_values(memory, input_positions)
            hidden = hidden + layer.cross_attention.attend(layer.norm2(hidden), output_positions, keys, values, cross)
            hidden = hidden + layer.ffn(layer.norm3(hidden))
        hidden = self.decoder_norm(hidden)
        logits = self.head(hidden)
        return (logits, hidden) if return_hidden else logits


class _StreamState:
    """Key/value caches of one song for incremental inference (batch size 1)."""

    def __init__(self, network: ReferenceNetwork, n_input: int, n_output: int, device: torch.device) -> None:
        heads = network.decoder[0].self_attention.heads
        d_head = network.decoder[0].self_attention.d_head

        def buffer(n: int) -> torch.Tensor:
            return torch.zeros(1, heads, max(n, 1), d_head, device=device)

        self.encoder_cache = [(buffer(n_input), buffer(n_input)) for _ in network.encoder]
        self.cross_cache = [(buffer(n_input), buffer(n_input)) for _ in network.decoder]
        self.self_cache = [(buffer(n_output), buffer(n_output)) for _ in network.decoder]
        self.n_input = 0  # encoded input frames
        self.n_output = 0  # decoded output frames


@torch.no_grad()
def _encode_step(network: ReferenceNetwork, state: _StreamState, features: torch.Tensor) -> None:
    """Encode newly visible input frames (1, n_new, N_FEATURES) and append their cross-attention keys/values."""
    n_new = features.shape[1]
    if n_new == 0:
        return
    start = state.n_input
    positions = torch.arange(start, start + n_new, device=features.device).unsqueeze(0)
    hidden = network.input_projection(features)
    first = max(0, start - network.window + 1)
    key_positions = torch.arange(first, start + n_new, device=features.device).unsqueeze(0)
    mask = _band(positions, key_positions, network.window)
    for layer, (key_cache, value_cache) in zip(network.encoder, state.encoder_cache, strict=True):
        normed = layer.norm1(hidden)
        keys, values = layer.attention.keys_values(normed, positions)
        key_cache[:, :, start : start + n_new] = keys
        value_cache[:, :, start : start + n_new] = values
        attended = layer.attention.attend(
            normed, positions, key_cache[:, :, first : start + n_new], value_cache[:, :, first : start + n_new], mask
        )
        hidden = hidden + attended
        hidden = hidden + layer.ffn(layer.norm2(hidden))
    memory = network.encoder_norm(hidden)
    for layer, (key_cache, value_cache) in zip(network.decoder, state.cross_cache, strict=True):
        keys, values = layer.cross_attention.keys_values(memory, positions)
        key_cache[:, :, start : start + n_new] = keys
        value_cache[:, :, start : start + n_new] = values
    state.n_input = start + n_new


@torch.no_grad()
def _decode_step(network: ReferenceNetwork, state: _StreamState, feedback: torch.Tensor, visible: int) -> torch.Tensor:
    """Logits (N_TARGETS,) of the next output frame given the previous frame's output and ``visible`` input frames."""
    frame = state.n_output
    device = feedback.device
    position = torch.tensor([[frame]], device=device)
    first = max(0, frame - network.window + 1)
    feedback = feedback if network.feedback else torch.zeros_like(feedback)
    hidden = network.feedback_projection(feedback.view(1, 1, -1))
    lowest = max(0, frame - network.window - max(network.future_visibility, 0) + 1)
    cross_mask = torch.ones(1, 1, max(visible - lowest, 0), dtype=torch.bool, device=device)
    self_mask = torch.ones(1, 1, frame + 1 - first, dtype=torch.bool, device=device)
    for layer, (key_cache, value_cache), (cross_keys, cross_values) in zip(
        network.decoder, state.self_cache, state.cross_cache, strict=True
    ):
        normed = layer.norm1(hidden)
        keys, values = layer.self_attention.keys_values(normed, position)
        key_cache[:, :, frame : frame + 1] = keys
        value_cache[:, :, frame : frame + 1] = values
        hidden = hidden + layer.self_attention.attend(
            normed, position, key_cache[:, :, first : frame + 1], value_cache[:, :, first : frame + 1], self_mask
        )
        top = max(visible, lowest)
        hidden = hidden + layer.cross_attention.attend(
            layer.norm2(hidden), position, cross_keys[:, :, lowest:top], cross_values[:, :, lowest:top], cross_mask
        )
        hidden = hidden + layer.ffn(layer.norm3(hidden))
    state.n_output = frame + 1
    return network.head(network.decoder_norm(hidden))[0, 0]


def decode_frame(
    logits: torch.Tensor | np.ndarray,
    previous: np.ndarray | None = None,
    *,
    max_notes: int = 3,
    note_on: float = 0.4,
    note_off: float = 0.2,
    bass_margin: float = 0.1,
) -> np.ndarray:
    """Turn one frame's logits into the output vector that is played (deterministic, with hysteresis).

    A pitch class starts sounding when its probability exceeds ``note_on`` and keeps sounding while it exceeds
    ``note_off``; at most ``max_notes``, the most probable, sound at once. The bass changes to the most probable
    class only when that beats the current bass class by ``bass_margin`` in probability. The onset flag is set
    above probability 0.5. Hysteresis keeps a hesitant model from re-striking its chord every frame.

    Parameters
    ----------
    logits : array_like, shape (N_TARGETS,)
    previous : ndarray or None
        The previous frame's decision (``None`` at the start of a song).

    Returns
    -------
    ndarray, float32, shape (N_TARGETS,)
    """
    values = torch.as_tensor(logits, dtype=torch.float32).detach().cpu().numpy().astype(np.float64)
    probability = 1.0 / (1.0 + np.exp(-values))
    out = np.zeros(N_TARGETS, dtype=np.float32)
    pitch = probability[:N_PITCH_CLASSES]
    was_on = np.zeros(N_PITCH_CLASSES, dtype=bool) if previous is None else previous[:N_PITCH_CLASSES] > 0
    eligible = np.where(was_on, pitch > note_off, pitch > note_on)
    chosen = [int(pc) for pc in np.argsort(-pitch, kind="stable")[:max_notes] if eligible[pc]]
    out[chosen] = 1.0
    bass_logits = values[N_PITCH_CLASSES : N_PITCH_CLASSES + N_BASS]
    bass_probability = np.exp(bass_logits - bass_logits.max())
    bass_probability /= bass_probability.sum()
    bass = int(np.argmax(bass_probability))
    if previous is not None:
        current = int(np.argmax(previous[N_PITCH_CLASSES : N_PITCH_CLASSES + N_BASS]))
        if bass_probability[bass] < bass_probability[current] + bass_margin:
            bass = current
    out[N_PITCH_CLASSES + bass] = 1.0
    out[ONSET] = 1.0 if probability[ONSET] > 0.5 else 0.0
    return out


# --------------------------------------------------------------------------------------------- renderer
class _Renderer:
    """Plays decoded frames as a bass and a pad, phase-continuous across chunks (each note from its own onset)."""

    HARMONICS_BASS = (1.0, 0.5, 0.25)
    HARMONICS_PAD = (1.0, 0.35, 0.12)

    def __init__(self, sample_rate: int, hop: int, gain: float) -> None:
        self.sample_rate, self.hop, self.gain = sample_rate, hop, gain
        self.release = max(1, int(0.03 * sample_rate))
        self.notes: list[list[float]] = []  # [onset, end or inf, frequency, amplitude, kind]
        self.current: tuple[tuple[int, ...], int] = ((), N_BASS - 1)

    def frame(self, index: int, decoded: np.ndarray) -> None:
        """Apply the decision of output frame ``index``: re-strike on an onset or a change of notes."""
        pitch_classes = tuple(int(pc) for pc in np.flatnonzero(decoded[:N_PITCH_CLASSES]))
        bass = int(np.argmax(decoded[N_PITCH_CLASSES : N_PITCH_CLASSES + N_BASS]))
        state = (pitch_classes, bass)
        if state == self.current and not decoded[ONSET]:
            return
        at = index * self.hop
        for note in self.notes:
            if note[1] > at:
                note[1] = float(at)
        self.current = state
        if bass < N_PITCH_CLASSES:
            midi = 40 + (bass - 4) % 12  # E2 .. D#3
            self.notes.append([float(at), math.inf, _midi_hz(midi), 0.5, 0.0])
        for pc in pitch_classes:
            midi = 55 + (pc - 7) % 12  # G3 .. F#4
            self.notes.append([float(at), math.inf, _midi_hz(midi), 0.3, 1.0])

    def render(self, start: int, length: int) -> np.ndarray:
        """Samples ``[start, start + length)`` of the accompaniment, float32 mono."""
        out = np.zeros(length)
        times = np.arange(start, start + length, dtype=np.float64)
        kept = []
        for note in self.notes:
            onset, end, frequency, amplitude, kind = note
            if end + self.release <= start:
                continue
            kept.append(note)
            lo = int(max(onset, start) - start)
            hi = int(min(end + self.release, start + length) - start) if math.isfinite(end) else length
            if hi <= lo:
                continue
            t = (times[lo:hi] - onset) / self.sample_rate
            decay = 0.9 if kind == 0.0 else 1.6
            envelope = np.minimum(t / 0.01, 1.0) * (0.55 + 0.45 * np.exp(-t / decay))
            if math.isfinite(end):
                envelope *= np.clip(1.0 - (times[lo:hi] - end) / self.release, 0.0, 1.0)
            phase = 2.0 * np.pi * frequency * t
            harmonics = self.HARMONICS_BASS if kind == 0.0 else self.HARMONICS_PAD
            wave = np.zeros_like(t)
            for order, weight in enumerate(harmonics, start=1):
                wave += weight * np.sin(order * phase)
            out[lo:hi] += amplitude * envelope * wave
        self.notes = kept
        return (self.gain * out).astype(np.float32)


def _midi_hz(midi: float) -> float:
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


# ---------------------------------------------------------------------------------------------- loading
def load_checkpoint(path: str | os.PathLike, device: str | torch.device = "cpu") -> tuple[ReferenceNetwork, dict]:
    """Load a checkpoint file with ``torch.load(weights_only=True)``; returns the network (eval mode) and its config.

    Raises
    ------
    ModelError
        Missing file, a file that is not a reference-model checkpoint, or weights that do not fit the config.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"checkpoint not found: {path}", model=MODEL_NAME)
    try:
        payload = torch.load(path, map_location=device, weights_only=True)
    except Exception as error:
        raise ModelError(f"cannot read checkpoint {path}: {type(error).__name__}: {error}", model=MODEL_NAME) from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise ModelError(f"{path} is not an accbench reference-model checkpoint", model=MODEL_NAME)
    if payload.get("format_version") != CHECKPOINT_VERSION:
        raise ModelError(
            f"{path} has checkpoint format version {payload.get('format_version')}, this accbench reads "
            f"{CHECKPOINT_VERSION}",
            model=MODEL_NAME,
        )
    config = payload["config"]
    network = ReferenceNetwork(config["future_visibility"], config["chunk_frames"], **config["network"])
    try:
        network.load_state_dict(payload["state_dict"])
    except RuntimeError as error:
        raise ModelError(f"{path}: weights do not match its config: {error}", model=MODEL_NAME) from None
    network.to(device).eval()
    return network, config


def _weights_sha256(network: ReferenceNetwork, config: dict) -> str:
    """Digest of what decides the model's output: weights, grid point, network and feature parameters.

    Training timings and other bookkeeping in the checkpoint are left out, so retraining with the same seed
    gives the same model version.
    """
    digest = hashlib.sha256()
    keys = ("future_visibility", "chunk_frames", "sample_rate", "hop", "features", "network")
    digest.update(json.dumps({key: config[key] for key in keys}, sort_keys=True).encode())
    for name, value in sorted(network.state_dict().items()):
        digest.update(name.encode())
        digest.update(value.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------------------- adapter
class ReferenceTransformer:
    """A small causal Transformer accompanist trained per (t_f, k) point (needs torch and a checkpoint).

    The reference model as a streaming model (built-in name ``reference-transformer``).

    Parameters
    ----------
    checkpoint : path
        A checkpoint file written by ``accbench train-reference``, or a folder of them (one per grid point,
        named by :func:`checkpoint_name`): at each ``reset`` the checkpoint trained for the session's
        ``future_visibility`` and ``chunk_frames`` is used, and a missing one is an error. A single file runs at
        any (t_f, k): the inference mask always follows the session, so the model stays causal, but it was
        trained for its own point.
    device : str
        ``"cpu"`` (default), ``"cuda"`` or ``"auto"`` (CUDA when available).
    threads : int or None
        Intra-op threads during each call (default 1: sweeps run one process per core); ``None`` leaves torch's
        setting alone.
    gain : float
        Output amplitude scale (default 0.25).
    max_notes : int
        Most pitch classes played at once (default 3).

    Examples
    --------
    >>> model = ReferenceTransformer("ckpt/")  # doctest: +SKIP
    """

    def __init__(
        self,
        checkpoint: str | os.PathLike | None = None,
        *,
        device: str = "cpu",
        threads: int | None = 1,
        gain: float = 0.25,
        max_notes: int = 3,
    ) -> None:
        if checkpoint is None:
            raise ModelError(
                "reference-transformer needs checkpoint=PATH (a file or folder from 'accbench train-reference')",
                model=MODEL_NAME,
            )
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = torch.device(device)
        self.threads, self.gain, self.max_notes = threads, float(gain), int(max_notes)
        path = Path(checkpoint)
        if path.is_dir():
            files = sorted(path.glob("tf*_k*.pt"))
            if not files:
                raise ModelError(f"no checkpoints (tf*_k*.pt) in {path}", model=MODEL_NAME)
        elif path.is_file():
            files = [path]
        else:
            raise ModelError(f"checkpoint not found: {path}", model=MODEL_NAME)
        self._folder = path.is_dir()
        self._networks: dict[tuple[int, int], tuple[ReferenceNetwork, dict]] = {}
        with torch_threads(self.threads):
            for file in files:
                network, config = load_checkpoint(file, self.device)
                self._networks[(config["future_visibility"], config["chunk_frames"])] = (network, config)
        configs = [config for _, config in self._networks.values()]
        rates = {(c["sample_rate"], c["hop"], tuple(sorted(c["features"].items()))) for c in configs}
        if len(rates) != 1:
            raise ModelError(f"checkpoints in {path} differ in sample rate, hop or features", model=MODEL_NAME)
        self._sample_rate, self._hop = configs[0]["sample_rate"], configs[0]["hop"]
        self._feature_params = dict(configs[0]["features"])
        digests = sorted(f"{key}:{_weights_sha256(*value)}" for key, value in self._networks.items())
        identity = hashlib.sha256(";".join(digests).encode()).hexdigest()
        self.info = ModelInfo(MODEL_NAME, f"{CHECKPOINT_VERSION}+{identity[:12]}", self._sample_rate, self._hop)
        self._extractor = FrameFeatures(self._sample_rate, self._hop, **self._feature_params)
        self._session: Session | None = None
        self._network: ReferenceNetwork | None = None
        self._state: _StreamState | None = None
        self._renderer: _Renderer | None = None
        self._feedback = np.zeros(N_TARGETS, dtype=np.float32)
        #: Logits of every decoded frame of the current song (for tests and inspection).
        self.logits: list[np.ndarray] = []

    @property
    def grid(self) -> list[tuple[int, int]]:
        """The (future_visibility, chunk_frames) points the loaded checkpoints were trained for."""
        return sorted(self._networks)

    def reset(self, session: Session) -> None:
        """Start a song: pick the checkpoint for the session's (t_f, k) and clear all caches."""
        if session.sample_rate != self._sample_rate or session.hop != self._hop:
            raise ModelError(
                f"session is at {session.sample_rate} Hz / hop {session.hop}, the checkpoint at "
                f"{self._sample_rate} Hz / hop {self._hop}",
                model=MODEL_NAME,
                song=session.song_id,
            )
        key = (session.future_visibility, session.chunk_frames)
        if key in self._networks:
            self._network = self._networks[key][0]
        elif not self._folder:
            self._network = next(iter(self._networks.values()))[0]
        else:
            available = ", ".join(f"t_f={f} k={k}" for f, k in self.grid)
            raise ModelError(
                f"no checkpoint trained for t_f={key[0]} k={key[1]} (available: {available}); train it with "
                f"'accbench train-reference --future-visibility {key[0]} --chunk-frames {key[1]}'",
                model=MODEL_NAME,
                song=session.song_id,
            )
        self._session = session
        self._extractor.reset()
        n_input = session.n_samples // session.hop
        n_output = -(-session.n_samples // session.chunk_samples) * session.chunk_frames
        self._state = _StreamState(self._network, n_input, n_output, self.device)
        self._renderer = _Renderer(self._sample_rate, self._hop, self.gain)
        self._feedback = np.zeros(N_TARGETS, dtype=np.float32)
        self.logits = []

    def close(self) -> None:
        """Drop the song's caches."""
        self._session = self._state = self._renderer = None

    def step(self, new_input: np.ndarray, ctx: StepContext) -> np.ndarray:
        """Encode the newly visible input, decode the chunk's frames one by one and render them."""
        if self._session is None or self._state is None:
            raise ModelError("step called before reset", model=MODEL_NAME, call=ctx.index)
        network, state = self._network, self._state
        with torch_threads(self.threads):
            mono = new_input.mean(axis=0) if new_input.shape[0] > 1 else new_input[0]
            features = self._extractor.push(mono)
            _encode_step(network, state, torch.from_numpy(features).to(self.device).unsqueeze(0))
            # Frames computable from [0, v_j): exactly visible_frames() of the chunk's first frame.
            visible = min(self._extractor.frames, state.n_input)
            first = ctx.index * ctx.chunk_frames
            if state.n_output != first:
                raise ModelError(
                    f"chunks must be requested in order: expected chunk {state.n_output // ctx.chunk_frames}",
                    model=MODEL_NAME,
                    call=ctx.index,
                )
            for frame in range(first, first + ctx.chunk_frames):
                feedback = torch.from_numpy(self._feedback).to(self.device)
                logits = _decode_step(network, state, feedback, visible)
                self.logits.append(logits.cpu().numpy())
                self._feedback = decode_frame(logits, self._feedback if frame else None, max_notes=self.max_notes)
                self._renderer.frame(frame, self._feedback)
        mono_out = self._renderer.render(ctx.chunk_start, ctx.chunk_frames * ctx.hop)
        return match_channels(mono_out[np.newaxis, :], self.info.out_channels)
