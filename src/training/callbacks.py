"""Lightning callbacks from the `callbacks` config group (one `_target_` entry per callback; null disables)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hydra.utils import instantiate
from lightning.pytorch.callbacks import Callback, ModelCheckpoint


def build_callbacks(cfg: Mapping[str, Any] | None, **overrides: Mapping[str, Any]) -> list[Callback]:
    """Instantiate every entry with a `_target_`; `overrides={'model_checkpoint': {'dirpath': ...}}` patches one."""
    callbacks: list[Callback] = []
    for key, entry in (cfg or {}).items():
        if not entry or "_target_" not in entry:
            continue
        callbacks.append(instantiate(entry, **dict(overrides.get(key, {}))))
    return callbacks


def checkpoint_callback(callbacks: list[Callback]) -> ModelCheckpoint | None:
    return next((c for c in callbacks if isinstance(c, ModelCheckpoint)), None)
