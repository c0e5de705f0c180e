"""The fit loop every trainable model shares: trainer + callbacks + loggers from config, best weights back,
embeddings and a manifest out. Used by `scripts/train.py` and by learned embedders inside the pipeline."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from hydra.utils import instantiate
from lightning.pytorch.loggers import Logger

from src.embeddings.store import Embedding
from src.training.callbacks import build_callbacks, checkpoint_callback

log = logging.getLogger(__name__)


@dataclass
class FitResult:
    """The fitted model (best checkpoint's weights when one was kept), its checkpoint and final metrics."""

    model: pl.LightningModule
    checkpoint: Path
    metrics: dict[str, float]
    trainer: pl.Trainer


def set_threads(n: int | None) -> None:
    """Limit torch's intra-op threads (None: leave the default); tiny MLP steps lose time to thread handoffs."""
    if n:
        torch.set_num_threads(int(n))


def _scalars(values: dict[str, Any]) -> dict[str, float]:
    out = {}
    for key, value in values.items():
        if isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = float(value.item())
        elif isinstance(value, int | float):
            out[key] = float(value)
    return out


def fit_model(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    trainer_cfg: Any,
    callbacks_cfg: Any,
    checkpoint_dir: Path,
    loggers: list[Logger] | None = None,
    ckpt_path: str | None = None,
    use_best: bool = True,
    **trainer_overrides: Any,
) -> FitResult:
    """Train `model`; return it with the best monitored checkpoint's weights (else the final weights, saved).

    `ckpt_path` resumes (a `.ckpt` path, or `last`). The monitored metric's best value replaces its last value
    in `metrics`, so a sweep optimises what the checkpoint kept.
    """
    checkpoint_dir = Path(checkpoint_dir)
    callbacks = build_callbacks(callbacks_cfg, model_checkpoint={"dirpath": str(checkpoint_dir)})
    trainer: pl.Trainer = instantiate(
        trainer_cfg, callbacks=callbacks, logger=loggers or False, **trainer_overrides
    )
    trainer.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    metrics = _scalars(dict(trainer.callback_metrics))
    metrics["epochs"] = float(trainer.current_epoch)
    ckpt = checkpoint_callback(callbacks)
    best = Path(ckpt.best_model_path) if ckpt is not None and ckpt.best_model_path else None
    if use_best and best is not None and best.is_file():
        if ckpt.best_model_score is not None and ckpt.monitor:
            metrics[ckpt.monitor] = float(ckpt.best_model_score)
        model = type(model).load_from_checkpoint(best, map_location="cpu", weights_only=False)
        path = best
    else:  # no checkpoint kept (fast_dev_run, callbacks=none, use_best=false): save the final weights
        path = checkpoint_dir / "final.ckpt"
        trainer.save_checkpoint(path)
    log.info(
        "trained %s: checkpoint %s; %s",
        type(model).__name__,
        path,
        ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())),
    )
    return FitResult(model, path, metrics, trainer)


@torch.no_grad()
def predict_embedding(model: pl.LightningModule, datamodule: pl.LightningDataModule, name: str) -> Embedding:
    """Every track of the datamodule (`predict_dataloader`, `track_ids`) through `model.predict_step`, in order."""
    model.eval()
    device = next(model.parameters()).device
    parts = []
    for i, batch in enumerate(datamodule.predict_dataloader()):
        batch = [b.to(device) for b in batch] if isinstance(batch, list | tuple) else batch.to(device)
        parts.append(model.predict_step(batch, i).float().cpu().numpy())
    return Embedding(name, datamodule.track_ids, np.concatenate(parts))
