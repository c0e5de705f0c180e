"""Hybrid embedding (`embedding=hybrid`): the interaction (two-tower) vector and the audio vector side by side.

Each part is L2-normalised and scaled by its weight before concatenation, so the weights set how much each
space counts in k-means distances (w² of the squared distance). The audio part is the learned autoencoder
embedding (`audio` = an `AutoencoderEmbedding` config) or, with `audio: null`, the run's scaled raw features.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from hydra.utils import instantiate

from src.embeddings.store import Embedding
from src.tasks.embed.context import EmbedContext
from src.tasks.embed.two_tower import TwoTowerEmbedding

log = logging.getLogger(__name__)


def _unit_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def combine(inter: np.ndarray, audio: np.ndarray, w_interaction: float, w_audio: float) -> np.ndarray:
    """`w_interaction · unit(inter) ⊕ w_audio · unit(audio)`, row by row (the hybrid space)."""
    return np.hstack([w_interaction * _unit_rows(inter), w_audio * _unit_rows(audio)])


@dataclass
class HybridEmbedding:
    """`w_interaction · two_tower ⊕ w_audio · audio`, both parts unit-length per track."""

    two_tower: Any
    audio: Any = None
    w_interaction: float = 1.0
    w_audio: float = 0.5
    name: str = "hybrid"

    def __call__(self, ctx: EmbedContext) -> Embedding:
        tower = (
            self.two_tower
            if isinstance(self.two_tower, TwoTowerEmbedding)
            else instantiate(self.two_tower, _convert_="all")
        )
        inter = tower(ctx)
        if self.audio is not None:
            audio_embedder = (
                instantiate(self.audio, _convert_="all") if not callable(self.audio) else self.audio
            )
            audio = audio_embedder(ctx).vectors
            kind = "autoencoder"
        else:
            audio, kind = ctx.features, "raw features"
        vectors = combine(inter.vectors, audio, self.w_interaction, self.w_audio)
        log.info(
            "hybrid: two-tower (%d dims, w=%.2f) ⊕ %s (%d dims, w=%.2f)",
            inter.dim,
            self.w_interaction,
            kind,
            audio.shape[1],
            self.w_audio,
        )
        return Embedding(self.name, inter.track_ids, vectors)
