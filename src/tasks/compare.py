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
from src.evaluation.clustering import in_sample_metric
from src.report.sweep import plot_comparison, write_sweep_report
from src.report.tables import RunInfo, flat_table, mean_std_table, to_markdown
from src.tasks.embed.provenance import learned_from_playlists
from src.tasks.tracking import start_logger
from src.utils.io import write_csv, write_text

# Shown by default (those present in at least one run), in this order. The headline table holds only held-out
# metrics (the ones that may support a claim that one method beats another); the second one the label-free and
# the all-track metrics, whose label and co-playlist values are in-sample (†) for methods that learned from playlists.
HELD_OUT_METRICS: tuple[str, ...] = (
    "heldout_lift@24",
    "nmi_genre_cold@k6",
    "nmi_subgenre_cold@k24",
    "recall@100",
    "recall@100_cold",
    "ndcg@500",
    "r_precision",
)
ALL_TRACK_METRICS: tuple[str, ...] = (
    "nmi_genre@k6",
    "nmi_subgenre@k24",
    "coplaylist_lift@12",
    "silhouette",
    "stability_ari",
)
DEFAULT_METRICS: tuple[str, ...] = HELD_OUT_METRICS + ALL_TRACK_METRICS
IN_SAMPLE_NOTE = (
    "† in-sample: the method learned from playlist membership and these labels / pairs come from the same "
    'playlists (docs/evaluation.md "In-sample and held-out"); not evidence that it beats another method.'
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
    learned = learned_from_playlists(config.get("embedding"))
    return RunInfo(run_dir, str(method or run_dir.name), config.get("seed"), metrics, group, learned)


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


def in_sample_cells(runs: list[RunInfo], table: pd.DataFrame) -> set[tuple[str, str]]:
    """(method, metric) cells of `table` that are in-sample: label / co-playlist metrics of methods whose runs
    learned from playlists."""
    learned = {r.method for r in runs if r.learned_from_playlists}
    metrics = dict.fromkeys(c[0] for c in table.columns if c[0] != "n_runs")
    return {
        (m, metric) for m in table.index if m in learned for metric in metrics if in_sample_metric(metric)
    }


def comparison_markdown(runs: list[RunInfo], metrics: Sequence[str] | None = None) -> str:
    """The comparison as markdown: with `metrics`, one table; by default a held-out headline table and an
    all-tracks table (in-sample cells marked †, never bold), each with the metrics present in the runs."""
    tables = [("", comparison_table(runs, metrics))] if metrics else []
    if not metrics:
        present = {k for r in runs for k in r.metrics}
        for title, chosen in (
            ("Held-out (headline)", HELD_OUT_METRICS),
            ("All tracks and label-free", ALL_TRACK_METRICS),
        ):
            if any(m in present for m in chosen):
                tables.append((title, comparison_table(runs, chosen)))
        if not tables:
            tables = [("", comparison_table(runs))]
    parts, flagged_any = [], False
    for title, table in tables:
        flagged = in_sample_cells(runs, table)
        flagged_any |= bool(flagged)
        parts.append((f"**{title}**\n\n" if title else "") + to_markdown(table, flagged=flagged))
    if flagged_any:
        parts.append(IN_SAMPLE_NOTE + "\n")
    return "\n".join(parts)


def run_compare(cfg: DictConfig, out_dir: Path) -> str:
    """`scripts/compare.py`: the table (markdown, CSV), the comparison plot, the sweep report and the same table
    in W&B (in the runs' W&B group unless one is set); returns the markdown table."""
    inputs = OmegaConf.to_container(cfg.inputs) if not isinstance(cfg.inputs, str) else [cfg.inputs]
    runs = find_runs(inputs)
    metrics = OmegaConf.to_container(cfg.metrics) if cfg.metrics else None
    table = comparison_table(runs, metrics)
    markdown = comparison_markdown(runs, metrics)
    flat = flat_table(table)
    learned = {r.method for r in runs if r.learned_from_playlists}
    flat["learned_from_playlists"] = flat["method"].isin(learned)
    write_csv(out_dir / "comparison.csv", flat)
    write_text(out_dir / "comparison.md", markdown)
    plot = plot_comparison(table, out_dir / "comparison.png")
    html_table = markdown_it.MarkdownIt().enable("table").render(markdown)
    write_sweep_report(runs, table, html_table, plot, out_dir / "sweep_report.html")
    groups = sorted({r.group for r in runs if r.group})
    if cfg.get("logger") and "_target_" in cfg.logger and groups and not cfg.logger.get("group"):
        cfg.logger.group = groups[0]
    logger = start_logger(cfg)
    if logger is not None:
        logger.log_table("comparison", flat)
        logger.log_figures({"Methods compared": plot})
        logger.finish()
    return markdown
