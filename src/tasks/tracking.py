"""Run tracking: the one Weights & Biases wrapper (offline by default, no account needed; secrets never reach it).

The pipeline, comparison and training tasks all start their run through `start_logger`; training hands the same
run to Lightning (`lightning_loggers`), so every W&B run gets the same fields, the same redaction and the same
`wandb_run.json` that `scripts/compare.py` reads.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.utils.io import write_json

if TYPE_CHECKING:
    from lightning.pytorch.loggers import Logger

log = logging.getLogger(__name__)

SECRET_PATTERN = re.compile(r"(secret|token|password|passwd|api[_-]?key|credential|auth)", re.IGNORECASE)


def redact(config: Any) -> Any:
    """Copy of a nested config with every secret-looking key's value replaced by '***'."""
    if isinstance(config, Mapping):
        return {k: ("***" if SECRET_PATTERN.search(str(k)) else redact(v)) for k, v in config.items()}
    if isinstance(config, list | tuple):
        return [redact(v) for v in config]
    return config


def flatten(config: Mapping, prefix: str = "") -> dict[str, Any]:
    """{'a': {'b': 1}} → {'a.b': 1}, so runs compare column by column in the W&B table."""
    out: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        else:
            out[name] = value
    return out


class RunLogger:
    """Thin wrapper over a `wandb` run: config, metrics, figures and tables.

    `mode` is `offline` unless the user sets it (or WANDB_MODE) to `online`; files go under `dir`
    (the run directory), so an offline run can be synced later with `wandb sync <dir>/wandb/offline-run-*`.
    """

    def __init__(
        self,
        project: str = "playlist-lab",
        mode: str | None = None,
        dir: str | Path = ".",
        name: str | None = None,
        group: str | None = None,
        tags: Sequence[str] = (),
        job_type: str | None = None,
        entity: str | None = None,
        run_config: Mapping | None = None,
    ) -> None:
        import wandb

        self._wandb = wandb
        mode = mode or os.environ.get("WANDB_MODE", "offline")
        Path(dir).mkdir(parents=True, exist_ok=True)
        self.run = wandb.init(
            project=project,
            entity=entity,
            mode=mode,
            dir=str(dir),
            name=name,
            group=group,
            tags=list(tags or []),
            job_type=job_type,
            config=flatten(redact(dict(run_config or {}))),
            reinit="finish_previous",
            settings=wandb.Settings(silent=True, console="off", x_disable_stats=True),
        )
        log.info("W&B run %s (%s mode) under %s", self.run.id, mode, dir)
        write_json(
            Path(dir) / "wandb_run.json",
            {
                "id": self.run.id,
                "name": self.run.name,
                "group": group,
                "tags": list(tags or []),
                "project": project,
                "mode": mode,
                "dir": str(Path(self.run.dir).parent),
            },
        )

    def log_metrics(self, metrics: Mapping[str, float]) -> None:
        clean = {k: v for k, v in metrics.items() if isinstance(v, int | float)}
        self.run.log(clean)
        self.run.summary.update(clean)

    def log_figures(self, figures: Mapping[str, Path]) -> None:
        self.run.log(
            {f"figures/{Path(p).stem}": self._wandb.Image(str(p), caption=c) for c, p in figures.items()}
        )

    def log_table(self, name: str, frame: pd.DataFrame) -> None:
        self.run.log({name: self._wandb.Table(dataframe=frame.astype(str))})

    def finish(self, exit_code: int = 0) -> None:
        self.run.finish(exit_code=exit_code)


def sweep_identity(cfg: DictConfig) -> dict[str, Any]:
    """W&B group/tags/name for this job: in a multirun the group is the sweep and tags name the experiment."""
    from hydra.core.hydra_config import HydraConfig

    out: dict[str, Any] = {}
    if not HydraConfig.initialized():
        return out
    hc = HydraConfig.get()
    experiment = hc.runtime.choices.get("experiment")
    embedding = hc.runtime.choices.get("embedding")
    tags = list(cfg.logger.get("tags") or [])
    tags += [t for t in (experiment, f"embedding={embedding}" if embedding else None) if t and t not in tags]
    out["tags"] = tags
    if str(hc.mode) == "RunMode.MULTIRUN":
        out["group"] = cfg.logger.get("group") or f"{cfg.task_name}-{Path(hc.sweep.dir).name}"
        out["name"] = cfg.logger.get("name") or f"{experiment or embedding}-seed{cfg.seed}-job{hc.job.num}"
    return out


def start_logger(cfg: DictConfig) -> RunLogger | None:
    """The configured run logger (W&B offline by default), or None with `logger=none`."""
    if not cfg.get("logger") or "_target_" not in cfg.logger:
        return None
    config = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    return instantiate(cfg.logger, _partial_=True, **sweep_identity(cfg))(run_config=config)


def lightning_loggers(run: RunLogger | None) -> list[Logger]:
    """The same W&B run as a Lightning logger (the Trainer logs its curves into it), or none."""
    if run is None:
        return []
    from lightning.pytorch.loggers import WandbLogger  # only training needs Lightning (slow to import)

    return [WandbLogger(experiment=run.run, log_model=False)]
