"""Mixes on the continuation split over split seeds: the code behind `scripts/evaluate_mixes.py`."""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.data.content import audio_matrix
from src.data.errors import DataError
from src.data.interactions import RecData, rec_data, validation_view
from src.data.split import split_interactions
from src.mixes.protocol import evaluate_mixes
from src.recsys.base import Recommender
from src.recsys.evaluate import fit_recommender
from src.report.tables import mean_std_table, to_markdown
from src.tasks.model_cache import cache_key, cached_fit
from src.utils.io import write_csv, write_json, write_text

log = logging.getLogger(__name__)

TABLE = (
    "mix_recall@{n}",
    "mix_coherence",
    "mix_coherence_any",
    "novelty_bits",
    "artist_diversity",
    "cold_share",
)


def taste_space(model: Recommender, data: RecData, space: str) -> tuple[str, np.ndarray]:
    """Item vectors tastes are found in: the model's (or its retrievers') two-tower item vectors, else audio."""
    if space not in ("auto", "audio"):
        raise DataError(f"space={space!r}: use auto or audio")
    if space == "auto":
        for candidate in [model, *getattr(model, "retrievers", {}).values()]:
            if getattr(candidate, "item_vectors", None) is not None:
                return f"{candidate.name} item vectors", np.asarray(candidate.item_vectors)
    return "audio features", audio_matrix(data.items).astype(np.float32)


def summary_table(runs: pd.DataFrame, n: int) -> str:
    """One row per way of making the lists (mixes, chunked, catalogue), mean ± std over split seeds."""
    long = []
    for method in ("mixes", "chunked", "catalogue"):
        cols = {f"{method}/{m.format(n=n)}": m.format(n=n) for m in TABLE}
        part = runs[["split_seed", *cols]].rename(columns=cols).assign(method=method)
        long.append(part)
    table = mean_std_table(pd.concat(long, ignore_index=True), [m.format(n=n) for m in TABLE], by="method")
    return to_markdown(table, plain=(), bold_best=False, label="method").rstrip("\n")


def run_mix_evaluation(cfg: DictConfig, out_dir: Path) -> str:
    """Fit `cfg.fill_with` per split seed and evaluate mixes against the baselines; writes runs, table, metrics."""
    if cfg.part not in ("test", "val"):
        raise DataError(f"part={cfg.part!r}: use test (report) or val (choose settings)")
    if cfg.fill_with not in cfg.recommenders:
        raise DataError(f"unknown model {cfg.fill_with!r}; configured: {', '.join(cfg.recommenders)}")
    catalog = instantiate(cfg.data, _convert_="all").load()
    if catalog.interactions.empty:
        raise DataError(f"{catalog.report.source}: no interactions (set data.user_column)")
    spec, tastes = instantiate(cfg.mix), instantiate(cfg.tastes)
    rows = []
    for seed in cfg.split_seeds:
        data = rec_data(catalog.tracks, split_interactions(catalog.interactions, seed=int(seed)))
        if cfg.part == "val":
            data = validation_view(data, seed=int(seed))
        key = cache_key(
            data=OmegaConf.to_container(cfg.data, resolve=True),
            model=OmegaConf.to_container(cfg.recommenders[cfg.fill_with], resolve=True),
            seed=int(seed),
            part=cfg.part,
        )
        model = cached_fit(
            cfg.get("model_cache"),
            f"{cfg.fill_with}-seed{seed}-{cfg.part}",
            key,
            functools.partial(
                fit_recommender, instantiate(cfg.recommenders[cfg.fill_with], _convert_="all"), data
            ),
        )
        space, vectors = taste_space(model, data, str(cfg.space))
        metrics = evaluate_mixes(
            model,
            data,
            vectors,
            n=int(cfg.n),
            spec=spec,
            tastes=tastes,
            catalogue_k=int(cfg.catalogue_k),
            max_listeners=cfg.max_listeners,
            seed=int(seed),
            progress=bool(cfg.progress),
        )
        rows.append({"split_seed": int(seed), "fill_with": cfg.fill_with, "space": space, **metrics})
        log.info(
            "seed %s: %s", seed, {k: round(v, 4) for k, v in metrics.items() if "/" not in k or "mixes/" in k}
        )
        write_csv(out_dir / "mix_runs.csv", pd.DataFrame(rows))  # partial results survive a crash
    runs = pd.DataFrame(rows)
    table = summary_table(runs, int(cfg.n))
    write_text(out_dir / "mix_table.md", table + "\n")
    means = runs.drop(columns=["split_seed", "fill_with", "space"]).mean(numeric_only=True)
    write_json(out_dir / "metrics.json", {k: float(v) for k, v in means.items() if np.isfinite(v)})
    return table
