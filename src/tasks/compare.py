"""Compare runs: collect `metrics.json` from run / multirun directories into one methods × metrics table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import markdown_it
import pandas as pd
import yaml
from omegaconf import DictConfig, OmegaConf

from src.data.errors import DataError
from src.report.sweep import plot_comparison, write_sweep_report
from src.report.tables import RunInfo, flat_table, mean_std_table, to_markdown
from src.tasks.tracking import start_logger
from src.utils.io import write_csv, write_text

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


def run_compare(cfg: DictConfig, out_dir: Path) -> str:
    """`scripts/compare.py`: the table (markdown, CSV), the comparison plot, the sweep report and the same table
    in W&B (in the runs' W&B group unless one is set); returns the markdown table."""
    inputs = OmegaConf.to_container(cfg.inputs) if not isinstance(cfg.inputs, str) else [cfg.inputs]
    runs = find_runs(inputs)
    metrics = OmegaConf.to_container(cfg.metrics) if cfg.metrics else None
    table = comparison_table(runs, metrics)
    markdown = to_markdown(table)
    write_csv(out_dir / "comparison.csv", flat_table(table))
    write_text(out_dir / "comparison.md", markdown)
    plot = plot_comparison(table, out_dir / "comparison.png")
    html_table = markdown_it.MarkdownIt().enable("table").render(markdown)
    write_sweep_report(runs, table, html_table, plot, out_dir / "sweep_report.html")
    groups = sorted({r.group for r in runs if r.group})
    if cfg.get("logger") and "_target_" in cfg.logger and groups and not cfg.logger.get("group"):
        cfg.logger.group = groups[0]
    logger = start_logger(cfg)
    if logger is not None:
        logger.log_table("comparison", flat_table(table))
        logger.log_figures({"Methods compared": plot})
        logger.finish()
    return markdown
