"""Lightning loggers from the `logger` config group: the same W&B fields the pipeline uses (offline default)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from lightning.pytorch.loggers import Logger, WandbLogger
from omegaconf import DictConfig, OmegaConf

from src.utils.wandb_logger import flatten, redact

log = logging.getLogger(__name__)


def wandb_logger(
    project: str = "playlist-lab",
    mode: str | None = None,
    dir: str | Path = ".",
    name: str | None = None,
    group: str | None = None,
    tags: list[str] | tuple[str, ...] = (),
    job_type: str | None = None,
    entity: str | None = None,
    run_config: Mapping | None = None,
) -> WandbLogger:
    """Map the `configs/logger/wandb.yaml` fields onto Lightning's WandbLogger; secrets are redacted from config."""
    mode = mode or os.environ.get("WANDB_MODE", "offline")
    Path(dir).mkdir(parents=True, exist_ok=True)
    logger = WandbLogger(
        project=project,
        save_dir=str(dir),
        name=name,
        group=group,
        tags=list(tags or []),
        job_type=job_type,
        entity=entity,
        mode=mode,
        log_model=False,
        config=flatten(redact(dict(run_config or {}))),
    )
    log.info("W&B (Lightning) logger: project %s, %s mode, under %s", project, mode, dir)
    return logger


def build_loggers(cfg: DictConfig) -> list[Logger]:
    """`cfg.logger` (W&B fields, or `logger=none`) → a list of Lightning loggers (empty when switched off)."""
    logger_cfg = cfg.get("logger")
    if not logger_cfg or "_target_" not in logger_cfg:
        return []
    fields: dict[str, Any] = OmegaConf.to_container(logger_cfg, resolve=True)  # type: ignore[assignment]
    fields.pop("_target_", None)
    from src.pipeline import sweep_identity  # W&B group/tags of a multirun job, shared with the pipeline

    fields.update(sweep_identity(cfg))
    run_config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    return [wandb_logger(**fields, run_config=run_config)]


def finish_loggers(loggers: list[Logger], exit_code: int = 0) -> None:
    """Close W&B runs so the next run in the same process (sweeps, tests) starts a fresh one."""
    for logger in loggers:
        if isinstance(logger, WandbLogger) and logger._experiment is not None:
            logger.experiment.finish(exit_code=exit_code)
