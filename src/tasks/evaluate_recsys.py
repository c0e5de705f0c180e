"""Run recommenders over split seeds and summarise: the code behind `scripts/evaluate_recsys.py`."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.data.errors import DataError
from src.data.interactions import rec_data
from src.data.split import split_interactions
from src.recsys.base import Recommender
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


def reuse_fitted(
    model: Recommender, model_cfg: DictConfig, recommenders: DictConfig, fitted: dict[str, Recommender]
) -> None:
    """Hand a re-ranker what this seed already learned for identically configured retrievers: a model fitted on
    (train, validation) — a two-tower trained for its own row — whole, and the validation-chosen settings of a
    tuned model (it is still fitted on train alone by the re-ranker, then refitted)."""
    retrievers = getattr(model, "retrievers", None)
    if not isinstance(retrievers, dict) or "retrievers" not in model_cfg:
        return
    reused, settled = [], []
    for name in list(retrievers):
        same = name in fitted and name in recommenders
        if not same or OmegaConf.to_container(
            model_cfg.retrievers[name], resolve=True
        ) != OmegaConf.to_container(recommenders[name], resolve=True):
            continue
        done = fitted[name]
        if done.uses_validation:  # trained on (train, validation) like the re-ranker would: reuse it whole
            retrievers[name] = done
            reused.append(name)
        elif getattr(done, "best_params", None) and getattr(retrievers[name], "grid", None):
            for key, value in done.best_params.items():  # settings chosen on validation: skip the grid
                setattr(retrievers[name], key, value)
            retrievers[name].grid = None
            settled.append(f"{name} {done.best_params}")
    if reused:
        model.prefitted = tuple(model.prefitted) + tuple(reused)
        log.info("%s reuses the fitted %s of this seed", model.name, ", ".join(reused))
    if settled:
        log.info("%s takes the validation-chosen settings of %s", model.name, "; ".join(settled))


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
        fitted: dict[str, Recommender] = {}
        for name in cfg.models:
            model = instantiate(cfg.recommenders[name], _convert_="all")
            reuse_fitted(model, cfg.recommenders[name], cfg.recommenders, fitted)
            metrics = evaluate_recommender(model, data, progress=bool(cfg.progress))
            extra = {}
            if hasattr(model, "train_seconds"):
                extra = {"train_seconds": model.train_seconds, "samples_per_second": model.samples_per_second}
            rows.append({"model": name, "split_seed": int(seed), **metrics, **extra})
            if model.uses_validation or getattr(model, "best_params", None):
                fitted[name] = model
                if getattr(model, "tuning_table", None) is not None:
                    write_csv(out_dir / f"tuning_{name}_seed{seed}.csv", model.tuning_table)
            if hasattr(model, "feature_importance"):
                importance = model.feature_importance().rename("gain_share").rename_axis("feature")
                write_csv(out_dir / f"feature_importance_{name}_seed{seed}.csv", importance.reset_index())
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
