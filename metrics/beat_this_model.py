"""The Beat This! network (Foscarin, Schlüter and Widmer, ISMIR 2024) as torch modules that load its checkpoints.

The module and parameter names follow the published checkpoints (PyPI ``beat-this`` 1.1.0, MIT licence), so
their Lightning ``state_dict`` (``model.`` prefix removed) loads with ``strict=True``; the code is accbench's
own. Rotary position embeddings come from ``rotary-embedding-torch`` (one instance shared by every attention
layer, as in the original, which is why each attention layer's state holds a copy of its ``freqs``). Input:
a log-mel spectrogram ``(batch, frames, 128)`` at 50 frames per second (:mod:`accbench.metrics.beat_this`);
output: beat and downbeat logits ``(batch, frames)``.

Architecture: a stem (batch norm over mel bins, a 4x3 convolution with stride 4 in frequency), three frontend
blocks (a frequency-directed and a time-directed transformer layer, then a 2x3 convolution with stride 2 in
frequency), a linear projection, ``n_layers`` transformer layers (RMS norm, gated multi-head attention with
rotary embeddings, GELU feed-forward) and a linear head whose beat logit is the sum of its beat and downbeat
outputs (``sum_head``).

Needs the optional extra ``beat-this`` (``pip install 'accbench[beat-this]'``: torch, einops,
rotary-embedding-torch).
"""

from __future__ import annotations

import math
from collections import OrderedDict

import torch
import torch.nn.functional as F
from rotary_embedding_torch import RotaryEmbedding
from torch import nn

__all__ = ["MODEL_PARAMETERS", "BeatThisModel"]

MODEL_PARAMETERS = (
    "spect_dim",
    "transformer_dim",
    "ff_mult",
    "n_layers",
    "head_dim",
    "stem_dim",
    "dropout",
    "sum_head",
    "partial_transformers",
)
"""The checkpoint's ``hyper_parameters`` that shape the network (the others are training settings)."""


class RMSNorm(nn.Module):
    """``x / ||x|| * sqrt(size) * gamma`` over the last axis."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.scale = math.sqrt(size)
        self.gamma = nn.Parameter(torch.ones(size))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(x, dim=-1) * self.scale * self.gamma


class FeedForward(nn.Module):
    """Pre-norm GELU feed-forward block; ``net`` indices match the checkpoints (0 norm, 1 and 4 linear)."""

    def __init__(self, dim: int, mult: int = 4, dropout: float = 0.0) -> None:
        super().__init__()
        inner = int(dim * mult)
        self.net = nn.Sequential(
            RMSNorm(dim),
            nn.Linear(dim, inner),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(inner, dim),
            nn.Dropout(dropout),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class Attention(nn.Module):
    """Pre-norm multi-head self-attention over axis 1 of ``(batch, tokens, dim)``, rotary positions, sigmoid
    gates per head."""

    def __init__(self, dim: int, heads: int, dim_head: int, rotary_embed: RotaryEmbedding, dropout: float = 0.0):
        super().__init__()
        self.heads = heads
        self.rotary_embed = rotary_embed
        self.norm = RMSNorm(dim)
        self.to_qkv = nn.Linear(dim, 3 * heads * dim_head, bias=False)
        self.to_gates = nn.Linear(dim, heads)
        self.to_out = nn.Sequential(nn.Linear(heads * dim_head, dim, bias=False), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        batch, tokens, _ = x.shape
        # (batch, tokens, 3 * heads * dim_head) -> three (batch, heads, tokens, dim_head)
        q, k, v = self.to_qkv(x).reshape(batch, tokens, 3, self.heads, -1).permute(2, 0, 3, 1, 4)
        q = self.rotary_embed.rotate_queries_or_keys(q)
        k = self.rotary_embed.rotate_queries_or_keys(k)
        out = F.scaled_dot_product_attention(q, k, v)
        out = out * self.to_gates(x).transpose(1, 2).unsqueeze(-1).sigmoid()
        return self.to_out(out.transpose(1, 2).reshape(batch, tokens, -1))


class Transformer(nn.Module):
    """``depth`` residual (attention, feed-forward) pairs, then an output RMS norm."""

    def __init__(self, dim: int, depth: int, heads: int, dim_head: int, ff_mult: int, rotary_embed, dropout: float):
        super().__init__()
        self.layers = nn.ModuleList(
            nn.ModuleList([Attention(dim, heads, dim_head, rotary_embed, dropout), FeedForward(dim, ff_mult, dropout)])
            for _ in range(depth)
        )
        self.norm = RMSNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for attention, feed_forward in self.layers:
            x = attention(x) + x
            x = feed_forward(x) + x
        return self.norm(x)


class PartialFTTransformer(nn.Module):
    """One transformer layer across frequencies, then one across time, on ``(batch, channels, freqs, time)``."""

    def __init__(self, dim: int, dim_head: int, rotary_embed: RotaryEmbedding, dropout: float) -> None:
        super().__init__()
        heads = dim // dim_head
        self.attnF = Attention(dim, heads, dim_head, rotary_embed, dropout)
        self.ffF = FeedForward(dim, dropout=dropout)
        self.attnT = Attention(dim, heads, dim_head, rotary_embed, dropout)
        self.ffT = FeedForward(dim, dropout=dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, freqs, frames = x.shape
        x = x.permute(0, 3, 2, 1).reshape(batch * frames, freqs, channels)
        x = x + self.attnF(x)
        x = x + self.ffF(x)
        x = x.reshape(batch, frames, freqs, channels).transpose(1, 2).reshape(batch * freqs, frames, channels)
        x = x + self.attnT(x)
        x = x + self.ffT(x)
        return x.reshape(batch, freqs, frames, channels).permute(0, 3, 1, 2)


class _Transpose(nn.Module):
    """``(batch, a, b) -> (batch, b, a)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.transpose(1, 2)


class _AddChannel(nn.Module):
    """``(batch, freqs, time) -> (batch, 1, freqs, time)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.unsqueeze(1)


class _Tokens(nn.Module):
    """``(batch, channels, freqs, time) -> (batch, time, channels * freqs)``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, freqs, frames = x.shape
        return x.permute(0, 3, 1, 2).reshape(batch, frames, channels * freqs)


class SumHead(nn.Module):
    """Beat and downbeat logits; with ``sum_beat`` the beat logit is beat + downbeat output."""

    def __init__(self, dim: int, sum_beat: bool = True) -> None:
        super().__init__()
        self.sum_beat = sum_beat
        self.beat_downbeat_lin = nn.Linear(dim, 2)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        out = self.beat_downbeat_lin(x)
        beat, downbeat = out[..., 0], out[..., 1]
        if self.sum_beat:
            beat = beat.float() + downbeat.float()
        return {"beat": beat, "downbeat": downbeat}


def _stem(spect_dim: int, stem_dim: int) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            rearrange_tf=_Transpose(),
            bn1d=nn.BatchNorm1d(spect_dim),
            add_channel=_AddChannel(),
            conv2d=nn.Conv2d(1, stem_dim, kernel_size=(4, 3), stride=(4, 1), padding=(0, 1), bias=False),
            bn2d=nn.BatchNorm2d(stem_dim),
            activation=nn.GELU(),
        )
    )


def _frontend_block(dim: int, partial: bool, head_dim: int, rotary_embed, dropout: float) -> nn.Sequential:
    return nn.Sequential(
        OrderedDict(
            partial=PartialFTTransformer(dim, head_dim, rotary_embed, dropout) if partial else nn.Identity(),
            conv2d=nn.Conv2d(dim, 2 * dim, kernel_size=(2, 3), stride=(2, 1), padding=(0, 1), bias=False),
            norm=nn.BatchNorm2d(2 * dim),
            activation=nn.GELU(),
        )
    )


class BeatThisModel(nn.Module):
    """The Beat This! network; the defaults are those of the published ``final`` checkpoints.

    Parameters
    ----------
    spect_dim : int
        Mel bins of the input (128).
    transformer_dim, ff_mult, n_layers, head_dim, stem_dim : int
        Width of the main transformer, its feed-forward multiplier and depth, the attention head width, the
        stem's output channels (doubled by each of the three frontend blocks).
    dropout : mapping or None
        ``{"frontend": p, "transformer": p}``; inactive at inference (``eval()``).
    sum_head : bool
        The beat logit is the sum of the head's beat and downbeat outputs.
    partial_transformers : bool
        Frequency and time transformer layers in the frontend blocks.
    """

    def __init__(
        self,
        spect_dim: int = 128,
        transformer_dim: int = 512,
        ff_mult: int = 4,
        n_layers: int = 6,
        head_dim: int = 32,
        stem_dim: int = 32,
        dropout: dict[str, float] | None = None,
        sum_head: bool = True,
        partial_transformers: bool = True,
    ) -> None:
        super().__init__()
        dropout = {"frontend": 0.1, "transformer": 0.2} if dropout is None else dict(dropout)
        rotary_embed = RotaryEmbedding(head_dim)
        dims = [stem_dim * 2**i for i in range(3)]
        blocks = [_frontend_block(d, partial_transformers, head_dim, rotary_embed, dropout["frontend"]) for d in dims]
        freqs = spect_dim // 4 // 2**3  # the stem's stride 4, then stride 2 per block
        self.frontend = nn.Sequential(
            OrderedDict(
                stem=_stem(spect_dim, stem_dim),
                blocks=nn.Sequential(*blocks),
                concat=_Tokens(),
                linear=nn.Linear(2 * dims[-1] * freqs, transformer_dim),
            )
        )
        if transformer_dim % head_dim:
            raise ValueError(f"transformer_dim {transformer_dim} is not a multiple of head_dim {head_dim}")
        self.transformer_blocks = Transformer(
            transformer_dim,
            n_layers,
            transformer_dim // head_dim,
            head_dim,
            ff_mult,
            rotary_embed,
            dropout["transformer"],
        )
        self.task_heads = SumHead(transformer_dim, sum_beat=sum_head)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Logits ``{"beat": (batch, frames), "downbeat": (batch, frames)}`` of a ``(batch, frames, 128)`` input."""
        return self.task_heads(self.transformer_blocks(self.frontend(x)))
