"""Compare runs: collect `metrics.json` from run / multirun directories into one methods × metrics table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
import yaml

from src.data.errors import DataError
from src.report.tables import RunInfo, mean_std_table

# Shown by default (those present in at least one run), in this order.
DEFAULT_METRICS: tuple[str, ...] = (
    "nmi_genre@k6",
    "nmi_subgenre@k24",
    "coplaylist_lift@12",
    "heldout_lift@24",
    "silhouette",
    "stability_ari",
    "recall@100",
    "recall@100_cold",
    "ndcg@500",
    "r_precision",
)


def _read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text()) if path.exists() else {}


def describe_run(run_dir: Path) -> RunInfo:
    """Method name (experiment, else embedding) and seed from the run's saved Hydra config."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    config = _read_yaml(run_dir / ".hydra" / "config.yaml")
    choices = (
        (_read_yaml(run_dir / ".hydra" / "hydra.yaml").get("hydra") or {})
        .get("runtime", {})
        .get("choices", {})
    )
    method = (
        choices.get("experiment") or (config.get("embedding") or {}).get("name") or choices.get("embedding")
    )
    wandb_run = run_dir / "wandb_run.json"
    group = json.loads(wandb_run.read_text()).get("group") if wandb_run.exists() else None
    return RunInfo(run_dir, str(method or run_dir.name), config.get("seed"), metrics, group)


def find_runs(inputs: Sequence[str | Path]) -> list[RunInfo]:
    """Every directory holding a `metrics.json` under the given run or multirun directories."""
    runs = []
    for item in inputs:
        root = Path(item)
        if not root.exists():
            raise DataError(f"{root}: no such run or multirun directory")
        found = sorted(p.parent for p in root.rglob("metrics.json") if "wandb" not in p.parts)
        if not found:
            raise DataError(f"{root}: no metrics.json found (is it a run or multirun directory?)")
        runs += [describe_run(p) for p in found]
    return runs


def comparison_table(runs: list[RunInfo], metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Rows = methods, columns = (metric, mean|std) plus `n_runs`; method order as first seen."""
    frame = pd.DataFrame([{"method": r.method, "seed": r.seed, **r.metrics} for r in runs])
    if metrics:
        chosen = [m for m in metrics if m in frame.columns]
    else:
        chosen = [m for m in DEFAULT_METRICS if m in frame.columns] or [
            c for c in frame.columns if c not in {"method", "seed"}
        ]
    if not chosen:
        raise DataError(
            f"none of the metrics {list(metrics or DEFAULT_METRICS)} is in the runs' metrics.json"
        )
    return mean_std_table(frame, chosen)
