"""`scripts/train.py`: datamodule + model from config, fit, then embeddings, index, manifest and metrics.

Model-agnostic: any datamodule with `model_kwargs()`, `predict_dataloader()` and `track_ids`, and any
LightningModule with a `name` and a `predict_step` that returns track vectors, trains through this.
"""

from __future__ import annotations

import logging
from pathlib import Path

import lightning.pytorch as pl
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.embeddings.store import Embedding, save_embedding
from src.models.fit import predict_vectors, set_threads
from src.tasks.artifacts import write_manifest
from src.tasks.fit import fit_from_config
from src.tasks.tracking import lightning_loggers, start_logger
from src.utils.io import write_json

log = logging.getLogger(__name__)


def run_training(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """Train the configured model in `run_dir`; return flat metrics (the optimized one included)."""
    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    set_threads(cfg.get("torch_threads"))
    datamodule = instantiate(cfg.datamodule, _convert_="all")
    datamodule.setup("fit")
    model = instantiate(cfg.model, **datamodule.model_kwargs(), _convert_="all")
    name = str(getattr(model, "name", cfg.model.get("name", "model")))
    run = start_logger(cfg)
    try:
        result = fit_from_config(
            model,
            datamodule,
            cfg.trainer,
            cfg.get("callbacks"),
            run_dir / "checkpoints",
            lightning_loggers(run),
            ckpt_path=cfg.get("ckpt_path"),
            use_best=str(cfg.get("embed_from", "best")) == "best",
        )
        metrics = result.metrics
        if result.trainer.is_global_zero:
            if cfg.get("embed", True):
                embedding = Embedding(name, datamodule.track_ids, predict_vectors(result.model, datamodule))
                save_embedding(embedding, run_dir / "embeddings")
                features = run_dir / "features.joblib"
                if not features.exists() and getattr(datamodule, "transformer", None) is not None:
                    datamodule.transformer.save(features)
                write_manifest(
                    run_dir, name, result.model, result.checkpoint, features, embedding.dim, metrics
                )
                metrics["embedding_dim"] = float(embedding.dim)
                metrics["n_tracks"] = float(len(embedding.track_ids))
                log.info(
                    "embedding '%s': %d × %d → %s",
                    name,
                    len(embedding.track_ids),
                    embedding.dim,
                    run_dir / "embeddings",
                )
            write_json(run_dir / "metrics.json", metrics)
        if run is not None:
            run.log_metrics({f"final/{k}": v for k, v in metrics.items()})
            run.finish()
    except BaseException:
        if run is not None:
            run.finish(exit_code=1)
        raise
    return metrics
