"""Interaction embeddings for the pipeline (`embedding=two_tower`): train the two-tower model on the run's
split (or load a trained one), evaluate it as a recommender, and return its item-tower vectors for every track.

Cold tracks (never in a training playlist) are embedded from their content through the item tower. The
recommendation metrics of docs/evaluation.md (`recall@K`, `r_precision`, `ndcg@500`, each with `_cold`) go to
`ctx.extras["metrics"]` and from there into the run's `metrics.json`: the plain keys are the full recommender
(two-tower retrieval + the re-ranking stage when `rerank=true`), `two_tower/<metric>` the two-tower alone.
The checkpoint that training kept (`checkpoints/two_tower/best.ckpt`, the best `val/recall@100` epoch, or
`final.ckpt` when none was evaluated) is recorded in `models/two_tower.json`, so `scripts/embed.py
model_dir=RUN_DIR` and `scripts/recommend.py run_dir=RUN_DIR` can use it.

`space=item` returns the item-tower vectors (the downstream embedding: FAISS neighbours, `embed.py`);
`space=affinity` returns each track's playlist-affinity vector (src/embeddings/affinity.py), which clusters
into playlist-coherent groups far better (heldout_lift) than the multi-modal retrieval space.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from src.data.errors import DataError
from src.data.features import FeatureTransformer
from src.data.interactions import RecData, rec_data
from src.embeddings.affinity import AffinitySettings, affinity_space
from src.embeddings.store import Embedding
from src.models.two_tower import TwoTowerModule
from src.recsys.base import Recommender
from src.recsys.evaluate import evaluate_recommender
from src.recsys.heuristic import HeuristicRecommender
from src.recsys.rerank import RerankedRecommender
from src.recsys.two_tower import TwoTowerRecommender
from src.tasks.artifacts import load_trained, save_reranker, write_manifest
from src.tasks.embed.context import EmbedContext

log = logging.getLogger(__name__)


def load_two_tower(run_dir: str | Path, name: str = "two_tower") -> tuple[TwoTowerModule, FeatureTransformer]:
    """The two-tower model of a run directory (pipeline or scripts/train.py run) and its feature transformer."""
    trained = load_trained(run_dir, name)
    if not isinstance(trained.module, TwoTowerModule):
        raise DataError(
            f"{run_dir}: model '{name}' is a {type(trained.module).__name__}, not a two-tower model"
        )
    return trained.module, trained.transformer


@dataclass
class TwoTowerEmbedding:
    """Train-or-load embedder `embedder(ctx) -> Embedding` over the run's playlist-continuation split.

    Args:
        model: the model (configs/model/two_tower.yaml, composed as a partial: the catalogue sizes come later).
        features: item inputs overriding the model's (`[id]` ID-only, `[artist, album, tags, dense]`
            content-only, all = hybrid); null keeps the model config's.
        max_epochs: training epochs (the best `val/recall@100` epoch is kept).
        datamodule: further TwoTowerDataModule arguments.
        rerank: also fit the re-ranking stage (on the validation part) and report its metrics as the plain keys;
            it is saved with the run (`models/<name>_reranker.joblib`) and `scripts/recommend.py` uses it.
        retrievers: the re-ranker's other candidate sources beside the tower (name → recommender; collaborative
            models and the heuristic), instantiated by Hydra.
        checkpoint: a run directory with `models/<name>.json` to load instead of training (no metrics then).
        space: `item` (item-tower vectors) or `affinity` (softmax over known playlists' scores, Hellinger rows).
        affinity: `temperature` (τ of that softmax), `dim` (SVD dims, null = all), `max_playlists` (cap),
            `context`: `train` (playlists' train tracks only, so `val_lift@k` is a clean criterion for choosing
            τ and weights) or `known` (train ∪ validation).
        torch_threads: intra-op threads while training (null: torch's default).
        name: embedding name.
    """

    model: Any = field(default_factory=dict)
    features: list[str] | None = None
    max_epochs: int = 20
    datamodule: dict[str, Any] = field(default_factory=dict)
    rerank: bool = True
    retrievers: dict[str, Recommender] = field(default_factory=dict)
    checkpoint: str | None = None
    space: str = "item"
    affinity: dict[str, Any] = field(default_factory=dict)
    torch_threads: int | None = None
    progress: bool = False
    name: str = "two_tower"

    def __post_init__(self) -> None:
        if self.space not in ("item", "affinity"):
            raise DataError(f"embedding.space must be 'item' or 'affinity', not {self.space!r}")
        try:
            self._affinity = AffinitySettings(**dict(self.affinity))
        except TypeError as err:
            raise DataError(f"embedding.affinity: {err}") from None

    def _space(
        self, module: TwoTowerModule, items: np.ndarray, data: RecData | None, seed: int
    ) -> np.ndarray:
        """The returned vectors: item-tower vectors, or playlist-affinity vectors over the split's playlists."""
        if self.space == "item":
            return items
        if data is None:
            raise DataError(
                "embedding.space=affinity needs the run's playlists (interactions): none were loaded"
            )
        return affinity_space(
            lambda h: module.score_histories(h, items), data.train, data.known, self._affinity, seed
        )

    def __call__(self, ctx: EmbedContext) -> Embedding:
        ids = ctx.catalog.tracks["track_id"].to_numpy()
        if self.checkpoint:
            module, transformer = load_two_tower(self.checkpoint, self.name)
            dense = transformer.transform(ctx.catalog.tracks)
            log.info("two-tower model loaded from %s", self.checkpoint)
            items = module.encode_tracks(ctx.catalog.tracks, dense)
            data = rec_data(ctx.catalog.tracks, ctx.split) if ctx.split is not None else None
            return Embedding(self.name, ids, self._space(module, items, data, ctx.seed))
        if ctx.split is None:
            raise DataError(
                "embedding=two_tower needs interactions (playlists) in the data: none were loaded"
            )
        if self.torch_threads:
            torch.set_num_threads(int(self.torch_threads))
        data = rec_data(ctx.catalog.tracks, ctx.split)
        retriever = TwoTowerRecommender(
            model=self.model,
            datamodule=dict(self.datamodule),
            features=self.features,
            max_epochs=self.max_epochs,
            seed=ctx.seed,
            progress=self.progress,
            checkpoint_dir=str(ctx.run_dir / "checkpoints" / self.name),
            name=self.name,
        )
        metrics: dict[str, float] = {}
        hybrid = None
        if self.rerank:
            others = dict(self.retrievers) or {"heuristic": HeuristicRecommender()}
            hybrid = RerankedRecommender({self.name: retriever, **others}, seed=ctx.seed, name="hybrid")
            final = evaluate_recommender(hybrid, data)
            alone = evaluate_recommender(retriever, data, fit=False)
            metrics.update({k: v for k, v in final.items() if k != "fit_seconds"})
        else:
            alone = evaluate_recommender(retriever, data)
            metrics.update({k: v for k, v in alone.items() if k != "fit_seconds"})
        metrics.update({f"{self.name}/{k}": v for k, v in alone.items() if k != "fit_seconds"})
        metrics[f"{self.name}/train_seconds"] = retriever.train_seconds
        metrics[f"{self.name}/samples_per_second"] = retriever.samples_per_second
        ctx.extras.setdefault("metrics", {}).update(
            {k: float(v) for k, v in metrics.items() if np.isfinite(v)}
        )
        features = retriever.dm.transformer.save(ctx.run_dir / "checkpoints" / self.name / "features.joblib")
        dim = int(retriever.module.hparams.dim)
        write_manifest(ctx.run_dir, self.name, retriever.module, retriever.checkpoint, features, dim, metrics)
        if hybrid is not None:
            save_reranker(ctx.run_dir, hybrid, self.name)
        log.info(
            "two-tower: recall@100 %.4f (cold %.4f), ndcg@500 %.4f; trained in %.0fs",
            metrics["recall@100"],
            metrics["recall@100_cold"],
            metrics["ndcg@500"],
            retriever.train_seconds,
        )
        return Embedding(
            self.name, ids, self._space(retriever.module, retriever.item_vectors, data, ctx.seed)
        )
