"""Config → the one training path: the `trainer` and `callbacks` groups become a Trainer factory and Lightning
callbacks for `src.models.fit.fit_model` (one `_target_` entry per callback; null disables one)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import lightning.pytorch as pl
from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback
from lightning.pytorch.loggers import Logger

from src.models.fit import FitResult, fit_model


def model_monitor(model: pl.LightningModule) -> dict[str, Any]:
    """The model's own selection metric (`monitor`, `mode`), for callbacks configured with `monitor: null`."""
    return {"monitor": model.monitor, "mode": model.monitor_mode}


def build_callbacks(
    cfg: Mapping[str, Any] | None,
    model: pl.LightningModule | None = None,
    **overrides: Mapping[str, Any],
) -> list[Callback]:
    """Instantiate every entry with a `_target_`; `overrides={'model_checkpoint': {'dirpath': ...}}` patches one.

    An entry with `monitor: null` watches the model's own metric (`model.monitor`): `val/loss` for the
    autoencoders, `val/recall@100` for the two-tower model, so every path keeps the same "best" epoch. The
    checkpoint is then taken every `model.monitor_every` epochs, and early stopping skips epochs without it.
    """
    callbacks: list[Callback] = []
    for key, entry in (cfg or {}).items():
        if not entry or "_target_" not in entry:
            continue
        extra: dict[str, Any] = dict(overrides.get(key, {}))
        if entry.get("monitor", "") is None and model is not None:
            extra.update(model_monitor(model))
            every = int(getattr(model, "monitor_every", 1))
            if "every_n_epochs" in entry:  # ModelCheckpoint: only on epochs that compute the metric
                extra["every_n_epochs"] = every
            elif "patience" in entry and every > 1:  # EarlyStopping: skip epochs without the metric
                extra["strict"] = False
        callbacks.append(instantiate(entry, **extra))
    return callbacks


def fit_from_config(
    model: pl.LightningModule,
    datamodule: pl.LightningDataModule,
    trainer_cfg: Any,
    callbacks_cfg: Any,
    checkpoint_dir: Path,
    loggers: list[Logger] | None = None,
    ckpt_path: str | None = None,
    use_best: bool = True,
) -> FitResult:
    """`fit_model` with the Trainer and callbacks of the config groups; checkpoints go to `checkpoint_dir`."""
    callbacks = build_callbacks(callbacks_cfg, model, model_checkpoint={"dirpath": str(checkpoint_dir)})
    trainer = instantiate(trainer_cfg, _partial_=True)
    return fit_model(model, datamodule, trainer, callbacks, checkpoint_dir, loggers, ckpt_path, use_best)
