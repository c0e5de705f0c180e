"""The one training path for every Lightning model (autoencoder, DEC/IDEC, two-tower): a Trainer with the
caller's callbacks and loggers, then the weights of the best checkpoint that Lightning's `ModelCheckpoint` kept
(by the one metric it monitors), else the final weights saved as `final.ckpt`.

Hydra-free on purpose: the task layer builds the Trainer factory and callbacks from config; a recommender that
trains a model (`src/recsys/two_tower.py`) passes plain arguments.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
import numpy as np
import torch
from lightning.pytorch.callbacks import Callback, EarlyStopping, ModelCheckpoint
from lightning.pytorch.loggers import Logger

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


def checkpoint_callback(callbacks: Sequence[Callback]) -> ModelCheckpoint | None:
    """The checkpoint that judges epochs (a `last.ckpt`-only checkpoint has no monitor)."""
    return next((c for c in callbacks if isinstance(c, ModelCheckpoint) and c.monitor), None)


def model_monitor(model: pl.LightningModule) -> dict[str, Any]:
    """The model's own selection metric: `monitor`, `mode` and `every_n_epochs` (how often it is computed; 0 =
    never). Every callback that judges epochs takes these, so all training paths keep the same "best" epoch."""
    return {
        "monitor": model.monitor,
        "mode": model.monitor_mode,
        "every_n_epochs": int(getattr(model, "monitor_every", 1)),
    }


class PeriodicEarlyStopping(EarlyStopping):
    """Early stopping that judges only the epochs on which the monitored metric is computed (every
    `every_n_epochs`; 0 = never): between them Lightning keeps the metric's stale value, which plain
    `EarlyStopping` would count as an epoch without improvement."""

    def __init__(self, *args: Any, every_n_epochs: int = 1, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.every_n_epochs = int(every_n_epochs)

    def _due(self, trainer: pl.Trainer) -> bool:
        return self.every_n_epochs >= 1 and (trainer.current_epoch + 1) % self.every_n_epochs == 0

    def on_train_epoch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._due(trainer):
            super().on_train_epoch_end(trainer, pl_module)

    def on_validation_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        if self._due(trainer):
            super().on_validation_end(trainer, pl_module)


def best_checkpoint(model: pl.LightningModule, dirpath: str | Path) -> ModelCheckpoint | None:
    """Lightning's `ModelCheckpoint` on the model's own metric (`model_monitor`); None when the model never
    computes it."""
    settings = model_monitor(model)
    if not settings["every_n_epochs"]:
        return None
    return ModelCheckpoint(
        dirpath=str(dirpath), filename="best", save_top_k=1, auto_insert_metric_name=False, **settings
    )


def fit_model(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    trainer: Callable[..., pl.Trainer],
    callbacks: Sequence[Callback],
    checkpoint_dir: Path,
    loggers: list[Logger] | None = None,
    ckpt_path: str | None = None,
    use_best: bool = True,
) -> FitResult:
    """Train `model` with `trainer(callbacks=..., logger=...)`; return it with the best monitored checkpoint's
    weights (else the final weights, saved to `checkpoint_dir/final.ckpt`).

    `ckpt_path` resumes (a `.ckpt` path, or `last`). The monitored metric's best value replaces its last value
    in `metrics`, so a sweep optimises what the checkpoint kept.
    """
    checkpoint_dir = Path(checkpoint_dir)
    callbacks = list(callbacks)
    fitted: pl.Trainer = trainer(callbacks=callbacks, logger=loggers or False)
    fitted.fit(model, datamodule=datamodule, ckpt_path=ckpt_path)
    metrics = _scalars(dict(fitted.callback_metrics))
    metrics["epochs"] = float(fitted.current_epoch)
    ckpt = checkpoint_callback(callbacks)
    best = Path(ckpt.best_model_path) if ckpt is not None and ckpt.best_model_path else None
    if use_best and best is not None and best.is_file():
        if ckpt.best_model_score is not None and ckpt.monitor:
            metrics[ckpt.monitor] = float(ckpt.best_model_score)
        model = type(model).load_from_checkpoint(best, map_location="cpu", weights_only=False)
        path = best
    else:  # no checkpoint kept (fast_dev_run, callbacks=none, use_best=false, never evaluated): final weights
        path = checkpoint_dir / "final.ckpt"
        fitted.save_checkpoint(path)
    log.info(
        "trained %s: checkpoint %s; %s",
        type(model).__name__,
        path,
        ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items())),
    )
    return FitResult(model, path, metrics, fitted)


@torch.no_grad()
def predict_vectors(model: pl.LightningModule, datamodule: pl.LightningDataModule) -> np.ndarray:
    """Every track of the datamodule (`predict_dataloader`) through `model.predict_step`, in order."""
    model.eval()
    device = next(model.parameters()).device
    parts = []
    for i, batch in enumerate(datamodule.predict_dataloader()):
        batch = [b.to(device) for b in batch] if isinstance(batch, list | tuple) else batch.to(device)
        parts.append(model.predict_step(batch, i).float().cpu().numpy())
    return np.concatenate(parts)


@torch.no_grad()
def encode_matrix(module: pl.LightningModule, X: np.ndarray, batch_size: int = 8192) -> np.ndarray:
    """Embed rows of `X` with `module.encode` in eval mode, batch by batch (bounded memory)."""
    was_training = module.training
    module.eval()
    device = next(module.parameters()).device
    out = [
        module.encode(
            torch.from_numpy(np.ascontiguousarray(X[i : i + batch_size], dtype=np.float32)).to(device)
        )
        .float()
        .cpu()
        .numpy()
        for i in range(0, len(X), batch_size)
    ]
    module.train(was_training)
    return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)
