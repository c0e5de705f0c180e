"""The baseline embedding: the scaled feature matrix itself."""

from __future__ import annotations

from dataclasses import dataclass

from src.embeddings.store import Embedding
from src.tasks.embed.context import EmbedContext


@dataclass
class RawEmbedding:
    """Cluster the feature matrix directly (the raw-feature K-Means baseline every method is compared to)."""

    name: str = "raw"

    def __call__(self, ctx: EmbedContext) -> Embedding:
        return Embedding(self.name, ctx.catalog.tracks["track_id"].to_numpy(), ctx.features)
