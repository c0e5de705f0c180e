"""Raw vs learned embeddings side by side: EVALUATION.md clustering metrics at fixed k for each embedding.

`compare_embeddings` scores ready embeddings (any caller); `run_comparison` is the pipeline's hook
(`evaluation.compare_embeddings: [raw, autoencoder, idec]`): it makes each listed embedding with the same
overrides as the current run, saves it, and writes `embedding_comparison.csv` in the run dir. Returned
metrics carry the embedding as prefix: `raw/nmi_genre@k6`, `autoencoder/coplaylist_lift@12`, …
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.cluster.choose_k import silhouette_sample
from src.cluster.kmeans import fit_kmeans
from src.data.sources import Catalog
from src.embeddings.context import EmbedContext
from src.embeddings.store import Embedding, save_embedding
from src.evaluation.clustering import coplaylist_lift, label_metrics, stability_ari
from src.utils.io import write_csv

log = logging.getLogger(__name__)
_ABSENT = object()

# Columns of the compact table shown in the report (all metrics go to the CSV and metrics.json).
HEADLINE = (
    "nmi_genre@k6",
    "ari_genre@k6",
    "nmi_subgenre@k24",
    "silhouette@k6",
    "stability_ari@k6",
    "coplaylist_lift@12",
    "heldout_lift@12",
    "coplaylist_lift@24",
)


def clustering_scores(
    X: np.ndarray,
    track_ids: np.ndarray,
    catalog: Catalog,
    split: pd.DataFrame | None = None,
    ks: Sequence[int] = (6, 12, 24),
    seed: int = 0,
    engine: str = "sklearn",
    n_init: int = 10,
    n_iter: int = 300,
    silhouette_size: int = 10_000,
    stability_seeds: int = 5,
) -> dict[str, float]:
    """k-means at each fixed k: NMI/ARI per label, silhouette, co-playlist and held-out lift; stability at the
    first k (mean pairwise ARI over `stability_seeds` seeds)."""
    out: dict[str, float] = {}
    ids = np.asarray(track_ids).astype(str)
    test = split[split["part"] == "test"] if split is not None else None
    for i, k in enumerate(ks):
        if not 1 < k < len(X):
            continue
        labels = fit_kmeans(X, k, engine=engine, seed=seed, n_init=n_init, n_iter=n_iter).labels
        series = pd.Series(labels, index=ids)
        if not catalog.labels.empty:
            out.update({f"{name}@k{k}": v for name, v in label_metrics(catalog.labels, series).items()})
        out[f"silhouette@k{k}"] = silhouette_sample(X, labels, silhouette_size, 0)
        if not catalog.interactions.empty:
            out[f"coplaylist_lift@{k}"] = coplaylist_lift(series, catalog.interactions)
            if test is not None:
                out[f"heldout_lift@{k}"] = coplaylist_lift(series, catalog.interactions, test)
        if i == 0 and stability_seeds > 1:
            out[f"stability_ari@k{k}"] = stability_ari(X, k, stability_seeds, engine=engine, n_iter=n_iter)
    return out


def compare_embeddings(
    embeddings: Mapping[str, Embedding], catalog: Catalog, split: pd.DataFrame | None = None, **kwargs
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Score every embedding the same way; (table: embedding × metric, flat `name/metric` dict)."""
    rows: dict[str, dict[str, float]] = {}
    order = catalog.tracks["track_id"].astype(str).to_numpy()
    for name, embedding in embeddings.items():
        position = pd.Series(np.arange(len(embedding.track_ids)), index=embedding.track_ids)
        rows_idx = position.reindex(order).dropna().astype(int).to_numpy()  # catalogue order, shared tracks
        rows[name] = clustering_scores(
            embedding.vectors[rows_idx], embedding.track_ids[rows_idx], catalog, split, **kwargs
        )
        rows[name]["dim"] = float(embedding.dim)
        log.info(
            "compared '%s': %s",
            name,
            ", ".join(f"{m}={rows[name][m]:.3f}" for m in HEADLINE if m in rows[name]),
        )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "embedding"
    flat = {f"{name}/{metric}": float(value) for name, row in rows.items() for metric, value in row.items()}
    return table, flat


def _embedding_config(name: str) -> DictConfig:
    """The `embedding=<name>` config composed with this run's command-line overrides.

    `embedding.<key>=…` overrides carry over to every compared embedding that has that key (e.g. a shorter
    `embedding.trainer.max_epochs` applies to autoencoder and IDEC alike, and is ignored for raw), except
    `embedding.name` and `embedding.checkpoint`, which identify one embedding.
    """
    from hydra import compose
    from hydra.core.hydra_config import HydraConfig

    hc = HydraConfig.get()
    others, shared = [], []
    for override in hc.overrides.task:
        key = override.lstrip("+~").split("=", 1)[0]
        if key.startswith("evaluation.compare") or key == "embedding":
            continue
        if key.startswith("embedding."):
            if key not in ("embedding.name", "embedding.checkpoint"):
                shared.append((key, override))
        else:
            others.append(override)
    base = compose(config_name=hc.job.config_name, overrides=[*others, f"embedding={name}"])
    applicable = [o for key, o in shared if OmegaConf.select(base, key, default=_ABSENT) is not _ABSENT]
    if not applicable:
        return base.embedding
    return compose(
        config_name=hc.job.config_name, overrides=[*others, f"embedding={name}", *applicable]
    ).embedding


def run_comparison(
    cfg: DictConfig, ctx: EmbedContext, current: Embedding, names: Sequence[str]
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Make (or reuse the current) embedding for each name, save it, score all, write the full CSV; return the
    headline table (for the report) and every metric prefixed with its embedding."""
    embeddings: dict[str, Embedding] = {}
    for name in names:
        if name == current.name:
            embeddings[name] = current
            continue
        embedder = instantiate(_embedding_config(name), _convert_="all")
        embedding = embedder(ctx)
        save_embedding(embedding, Path(ctx.run_dir) / "embeddings")
        embeddings[name] = embedding
    ev, c = cfg.evaluation, cfg.cluster
    ks = [int(k) for k in (ev.get("fixed_k") or [6, 12, 24])]
    table, flat = compare_embeddings(
        embeddings,
        ctx.catalog,
        ctx.split,
        ks=ks,
        seed=int(cfg.seed),
        engine=c.engine,
        n_init=int(c.n_init),
        n_iter=int(c.n_iter),
        silhouette_size=int(ev.silhouette_size),
        stability_seeds=int(ev.stability_seeds or 0),
    )
    write_csv(Path(ctx.run_dir) / "embedding_comparison.csv", table.reset_index())
    return headline(table), flat


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The report's compact view: the EVALUATION.md comparison columns present in `table`."""
    columns = [c for c in HEADLINE if c in table.columns] + ["dim"]
    return table[columns]


def summarize(tables: Sequence[pd.DataFrame], metrics: Sequence[str] = HEADLINE) -> pd.DataFrame:
    """Mean ± std over runs (e.g. 5 seeds) of several `embedding_comparison.csv` tables, as strings."""
    frame = pd.concat([t.reset_index() if "embedding" not in t.columns else t for t in tables])
    cols = [m for m in metrics if m in frame.columns]
    grouped = frame.groupby("embedding", sort=False)[cols]
    mean, std = grouped.mean(), grouped.std(ddof=1).fillna(0.0)
    out = mean.copy().astype(object)
    for col in cols:
        out[col] = [f"{m:.3f} ± {s:.3f}" for m, s in zip(mean[col], std[col], strict=True)]
    out.insert(0, "runs", grouped.size())
    return out
