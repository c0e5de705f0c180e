"""Run recommenders over split seeds and summarise: the code behind `scripts/evaluate_recsys.py`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.data.errors import DataError
from src.data.interactions import rec_data
from src.data.split import split_interactions
from src.recsys.evaluate import evaluate_recommender
from src.report.tables import mean_std_table, to_markdown
from src.utils.io import write_csv, write_json, write_text

log = logging.getLogger(__name__)

TABLE_METRICS = (
    "recall@10",
    "recall@100",
    "recall@500",
    "r_precision",
    "ndcg@500",
    "recall@100_cold",
    "ndcg@500_cold",
    "fit_seconds",
)
PLAIN = ("fit_seconds", "train_seconds", "samples_per_second")  # shown as whole numbers, no std


def summary_table(runs: pd.DataFrame, metrics: tuple[str, ...] = TABLE_METRICS) -> str:
    """Markdown table: one row per model, `mean ± std` over split seeds (sample std) for each metric."""
    present = [m for m in metrics if m in runs.columns]
    table = mean_std_table(runs, present, by="model")
    return to_markdown(table, plain=PLAIN, bold_best=False, label="model").rstrip("\n")


def run_evaluation(cfg: DictConfig, out_dir: Path) -> str:
    """Load the catalogue once, then for each split seed fit and evaluate every configured model."""
    unknown = [m for m in cfg.models if m not in cfg.recommenders]
    if unknown:
        raise DataError(f"unknown model(s) {unknown}; configured: {', '.join(cfg.recommenders)}")
    catalog = instantiate(cfg.data, _convert_="all").load()
    if catalog.interactions.empty:
        raise DataError(
            f"{catalog.report.source}: no interactions to evaluate recommenders on "
            "(set data.user_column to the playlist/user column)"
        )
    rows = []
    for seed in cfg.split_seeds:
        split = split_interactions(catalog.interactions, seed=int(seed))
        data = rec_data(catalog.tracks, split)
        for name in cfg.models:
            model = instantiate(cfg.recommenders[name], _convert_="all")
            metrics = evaluate_recommender(model, data, progress=bool(cfg.progress))
            extra = {}
            retriever = getattr(model, "retriever", model)
            if hasattr(retriever, "train_seconds"):
                extra = {
                    "train_seconds": retriever.train_seconds,
                    "samples_per_second": retriever.samples_per_second,
                }
            rows.append({"model": name, "split_seed": int(seed), **metrics, **extra})
            if retriever is not model and not isinstance(retriever, dict):
                # the first stage alone, already fitted: its numbers come for free beside the re-ranked ones
                alone = evaluate_recommender(retriever, data, fit=False)
                rows.append({"model": f"{name}:retriever", "split_seed": int(seed), **alone, **extra})
            log.info("seed %s %s: %s", seed, name, {k: round(float(v), 4) for k, v in metrics.items()})
            write_csv(out_dir / "recsys_runs.csv", pd.DataFrame(rows))  # partial results survive a crash
    runs = pd.DataFrame(rows)
    table = summary_table(
        runs, TABLE_METRICS + (("train_seconds", "samples_per_second") if "train_seconds" in runs else ())
    )
    write_text(out_dir / "recsys_table.md", table + "\n")
    means = runs.drop(columns="split_seed").groupby("model").mean(numeric_only=True)
    write_json(
        out_dir / "metrics.json",
        {
            f"{model}/{k}": float(v)
            for model, row in means.iterrows()
            for k, v in row.items()
            if np.isfinite(v)
        },
    )
    return table
