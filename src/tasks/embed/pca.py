"""The PCA / whitening baseline embedding (`embedding=pca`): the run's feature matrix in its principal axes."""

from __future__ import annotations

from dataclasses import dataclass

from src.embeddings.pca import principal_axes
from src.embeddings.store import Embedding
from src.tasks.embed.context import EmbedContext


@dataclass
class PcaEmbedding:
    """Project the feature matrix on its first `n_components` principal axes (null: all), whitened or not.

    Fitted on the catalogue's features, like the feature scaler: no labels or playlists are read."""

    name: str = "pca"
    n_components: int | None = None
    whiten: bool = True

    def __call__(self, ctx: EmbedContext) -> Embedding:
        ids = ctx.catalog.tracks["track_id"].to_numpy()
        return Embedding(self.name, ids, principal_axes(ctx.features, self.n_components, self.whiten))
