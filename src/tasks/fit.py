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

from src.models.fit import FitResult, fit_model, model_monitor


def build_callbacks(
    cfg: Mapping[str, Any] | None,
    model: pl.LightningModule | None = None,
    **overrides: Mapping[str, Any],
) -> list[Callback]:
    """Instantiate every entry with a `_target_`; `overrides={'model_checkpoint': {'dirpath': ...}}` patches one.

    An entry with `monitor: null` watches the model's own metric (`models.fit.model_monitor`): `val/loss` for
    the autoencoders, `val/recall@100` (every `eval_every` epochs) for the two-tower model, so every path keeps
    the same "best" epoch; the checkpoint and early stopping (`PeriodicEarlyStopping`) then judge only the
    epochs that compute it.
    """
    callbacks: list[Callback] = []
    for key, entry in (cfg or {}).items():
        if not entry or "_target_" not in entry:
            continue
        extra: dict[str, Any] = dict(overrides.get(key, {}))
        if entry.get("monitor", "") is None and model is not None:
            extra.update(model_monitor(model))
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
    directory = {"dirpath": str(checkpoint_dir)}
    callbacks = build_callbacks(callbacks_cfg, model, model_checkpoint=directory, last_checkpoint=directory)
    trainer = instantiate(trainer_cfg, _partial_=True)
    return fit_model(model, datamodule, trainer, callbacks, checkpoint_dir, loggers, ckpt_path, use_best)
