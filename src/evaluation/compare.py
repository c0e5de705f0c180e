"""Compare runs: collect `metrics.json` from run / multirun directories into one methods × metrics table."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from src.data.errors import DataError

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
LOWER_IS_BETTER = ("davies_bouldin", "inertia", "duration_error", "transition_")


@dataclass
class RunInfo:
    path: Path
    method: str
    seed: int | None
    metrics: dict[str, float]
    group: str | None = None


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


def higher_is_better(metric: str) -> bool:
    return not any(metric.startswith(p) for p in LOWER_IS_BETTER)


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
    order = list(dict.fromkeys(frame["method"]))
    grouped = frame.groupby("method", sort=False)[chosen]
    table = pd.concat({"mean": grouped.mean(), "std": grouped.std(ddof=1)}, axis=1).swaplevel(axis=1)
    table = table.reindex(columns=pd.MultiIndex.from_product([chosen, ["mean", "std"]])).loc[order]
    table["n_runs"] = frame.groupby("method", sort=False).size().loc[order]
    return table


def best_methods(table: pd.DataFrame) -> dict[str, str]:
    """The best method per metric (direction by metric name)."""
    out = {}
    for metric in dict.fromkeys(c[0] for c in table.columns if c[0] != "n_runs"):
        col = table[(metric, "mean")].astype(float)
        if col.notna().any():
            out[metric] = str(col.idxmax() if higher_is_better(metric) else col.idxmin())
    return out


def to_markdown(table: pd.DataFrame) -> str:
    """'mean ± std' cells, the best per column in bold."""
    best = best_methods(table)
    metrics = list(best)
    lines = ["| method | n | " + " | ".join(metrics) + " |", "|---|---|" + "---|" * len(metrics)]
    for method, row in table.iterrows():
        cells = []
        for m in metrics:
            mean, std = row[(m, "mean")], row[(m, "std")]
            cell = "—" if pd.isna(mean) else f"{mean:.3f}" + ("" if pd.isna(std) else f" ± {std:.3f}")
            cells.append(f"**{cell}**" if best.get(m) == method else cell)
        lines.append(f"| {method} | {int(row[('n_runs', '')])} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def flat_table(table: pd.DataFrame) -> pd.DataFrame:
    """Single-level columns (`metric_mean`, `metric_std`, `n_runs`) for CSV and W&B."""
    flat = table.copy()
    flat.columns = [c[0] if c[0] == "n_runs" else f"{c[0]}_{c[1]}" for c in table.columns]
    return flat.reset_index().rename(columns={"index": "method"})
