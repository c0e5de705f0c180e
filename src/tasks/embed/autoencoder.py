"""Learned audio embeddings for the pipeline (`embedding=autoencoder|dec|idec`): train on the run's feature
matrix, or load a trained run, then embed every track with the model's bottleneck.

Training writes `checkpoints/<name>/` and `models/<name>.json` in the run dir, so `scripts/embed.py
model_dir=RUN_DIR` can embed new tracks with it; the pipeline saves the returned embedding as
`embeddings/<name>.parquet` + `.faiss`.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from hydra.utils import instantiate

from src.embeddings.store import Embedding
from src.models.datamodule import FeatureDataModule
from src.models.fit import encode_matrix, predict_vectors, set_threads
from src.tasks.artifacts import load_trained, write_manifest
from src.tasks.embed.context import EmbedContext
from src.tasks.fit import fit_from_config

log = logging.getLogger(__name__)


@dataclass
class AutoencoderEmbedding:
    """Train-or-load embedder: `embedder(ctx) -> Embedding` named `name`.

    Args:
        model: the model config (`configs/model/*.yaml`, `_target_` + hyper-parameters; input width is added).
        trainer: the Lightning Trainer config (`configs/trainer/*.yaml`).
        callbacks: the callbacks config (`configs/callbacks/*.yaml`): checkpointing, early stopping.
        name: embedding / model name (`autoencoder`, `dec`, `idec`).
        checkpoint: a run directory holding `models/<name>.json` (from scripts/train.py or an earlier pipeline
            run) to load instead of training; its own feature transformer maps this run's tracks.
        batch_size: training batch size.
        val_fraction: tracks held out for validation reconstruction and early stopping.
        val_seed: seed of that held-out share (null: the run's seed); fixed, it keeps the same validation tracks
            out of every seed's model (the label-free selection compares models on them).
        use_best: embed with the best monitored checkpoint (else the final weights).
        torch_threads: intra-op threads while training (null: torch's default). Small MLPs run an order of
            magnitude faster on 1 thread than on a contended multi-core CPU.
    """

    model: Any
    trainer: Any
    callbacks: Any = None
    name: str = "autoencoder"
    checkpoint: str | None = None
    batch_size: int = 256
    val_fraction: float = 0.1
    val_seed: int | None = None
    use_best: bool = True
    torch_threads: int | None = 1
    metrics: dict[str, float] = field(default_factory=dict, init=False)

    def __call__(self, ctx: EmbedContext) -> Embedding:
        if self.checkpoint:
            return self._load(ctx)
        return self._train(ctx)

    def _train(self, ctx: EmbedContext) -> Embedding:
        pl.seed_everything(ctx.seed, workers=True, verbose=False)
        set_threads(self.torch_threads)
        ids = ctx.catalog.tracks["track_id"].to_numpy()
        dm = FeatureDataModule.from_arrays(
            ctx.features,
            ids,
            ctx.transformer,
            batch_size=self.batch_size,
            val_fraction=self.val_fraction,
            seed=ctx.seed,
            split_seed=self.val_seed,
        )
        ctx.extras.setdefault("val_rows", {})[self.name] = dm.val_idx
        model = instantiate(self.model, **dm.model_kwargs(), name=self.name, _convert_="all")
        result = fit_from_config(
            model,
            dm,
            self.trainer,
            self.callbacks,
            ctx.run_dir / "checkpoints" / self.name,
            use_best=self.use_best,
        )
        embedding = Embedding(self.name, dm.track_ids, predict_vectors(result.model, dm))
        features = ctx.run_dir / "features.joblib"
        if not features.exists():
            ctx.transformer.save(features)
        write_manifest(
            ctx.run_dir, self.name, result.model, result.checkpoint, features, embedding.dim, result.metrics
        )
        self.metrics = {f"{self.name}/{k}": v for k, v in result.metrics.items()}
        ctx.extras.setdefault("training_metrics", {}).update(self.metrics)
        return embedding

    def _load(self, ctx: EmbedContext) -> Embedding:
        source = Path(self.checkpoint)
        trained = load_trained(source, self.name)
        vectors = encode_matrix(trained.module, trained.transformer.transform(ctx.catalog.tracks))
        # Copy the model into this run so the run directory is self-contained for scripts/embed.py.
        target = ctx.run_dir / "checkpoints" / self.name
        target.mkdir(parents=True, exist_ok=True)
        ckpt = Path(shutil.copy2(source / trained.manifest["checkpoint"], target / "loaded.ckpt"))
        features = trained.transformer.save(target / "features.joblib")
        write_manifest(
            ctx.run_dir,
            self.name,
            trained.module,
            ckpt,
            features,
            vectors.shape[1],
            trained.manifest.get("metrics"),
        )
        log.info("embedding '%s' loaded from %s", self.name, source)
        return Embedding(self.name, ctx.catalog.tracks["track_id"].to_numpy(), vectors)
