"""Raw vs learned embeddings side by side: docs/evaluation.md clustering metrics at fixed k for each embedding.

`compare_embeddings` scores ready fixed-k clusterings of each embedding; `run_comparison` is the pipeline's hook
(`evaluation.compare_embeddings: [raw, autoencoder, idec]`): it makes each listed embedding with the same
overrides as the current run, saves it, and writes `embedding_comparison.csv` in the run dir. Returned
metrics carry the embedding as prefix: `raw/nmi_genre@k6`, `autoencoder/coplaylist_lift@12`, …
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.data.sources import Catalog
from src.embeddings.store import Embedding, save_embedding
from src.evaluation.clustering import fixed_k_scores, silhouette_sample, stability_ari
from src.tasks.embed.context import EmbedContext
from src.tasks.fixed_k import FixedKClusterings
from src.utils.io import write_csv

log = logging.getLogger(__name__)
_ABSENT = object()

# Columns of the compact table shown in the report (all metrics go to the CSV and metrics.json).
HEADLINE = (
    "heldout_lift@12",
    "nmi_genre_cold@k6",
    "nmi_genre@k6",
    "ari_genre@k6",
    "nmi_subgenre@k24",
    "silhouette@k6",
    "stability_ari@k6",
    "coplaylist_lift@12",
    "coplaylist_lift@24",
)


def clustering_scores(
    clusterings: FixedKClusterings,
    track_ids: np.ndarray,
    catalog: Catalog,
    split: pd.DataFrame | None = None,
    ks: Sequence[int] = (6, 12, 24),
    silhouette_size: int = 10_000,
    stability_seeds: int = 5,
) -> dict[str, float]:
    """The fixed-k scores (`fixed_k_scores`) at each k, plus `silhouette@k<k>` and, at the first k,
    `stability_ari@k<k>` (mean pairwise ARI over `stability_seeds` seeds)."""
    labels = clusterings.at(list(ks))
    out = fixed_k_scores(labels, track_ids, catalog.labels, catalog.interactions, split)
    for i, k in enumerate(ks):
        if k not in labels:
            continue
        out[f"silhouette@k{k}"] = silhouette_sample(clusterings.X, labels[k], silhouette_size, 0)
        if i == 0 and stability_seeds > 1:
            out[f"stability_ari@k{k}"] = stability_ari(clusterings.over_seeds(k, stability_seeds))
    return out


def compare_embeddings(
    clusterings: Mapping[str, FixedKClusterings],
    track_ids: Mapping[str, np.ndarray],
    catalog: Catalog,
    split: pd.DataFrame | None = None,
    **kwargs: Any,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Score every embedding the same way; (table: embedding × metric, flat `name/metric` dict)."""
    rows: dict[str, dict[str, float]] = {}
    for name, fixed in clusterings.items():
        rows[name] = clustering_scores(fixed, track_ids[name], catalog, split, **kwargs)
        rows[name]["dim"] = float(fixed.X.shape[1])
        log.info(
            "compared '%s': %s",
            name,
            ", ".join(f"{m}={rows[name][m]:.3f}" for m in HEADLINE if m in rows[name]),
        )
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "embedding"
    flat = {f"{name}/{metric}": float(value) for name, row in rows.items() for metric, value in row.items()}
    return table, flat


def catalogue_rows(embedding: Embedding, catalog: Catalog) -> tuple[np.ndarray, np.ndarray]:
    """The embedding's vectors and ids in catalogue order, restricted to tracks it shares with the catalogue."""
    order = catalog.tracks["track_id"].astype(str).to_numpy()
    position = pd.Series(np.arange(len(embedding.track_ids)), index=embedding.track_ids)
    rows = position.reindex(order).dropna().astype(int).to_numpy()
    return embedding.vectors[rows], embedding.track_ids[rows]


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
    cfg: DictConfig,
    ctx: EmbedContext,
    current: Embedding,
    names: Sequence[str],
    current_clusterings: FixedKClusterings | None = None,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Make (or reuse the current) embedding for each name, save it, score all, write the full CSV; return the
    headline table (for the report) and every metric prefixed with its embedding. The current embedding's
    fixed-k clusterings (already fitted by the pipeline) are reused when given."""
    ev = cfg.evaluation
    clusterings: dict[str, FixedKClusterings] = {}
    ids: dict[str, np.ndarray] = {}
    for name in names:
        if name == current.name:
            embedding = current
        else:
            embedder = instantiate(_embedding_config(name), _convert_="all")
            embedding = embedder(ctx)
            save_embedding(embedding, Path(ctx.run_dir) / "embeddings")
        X, ids[name] = catalogue_rows(embedding, ctx.catalog)
        same_rows = name == current.name and np.array_equal(ids[name], current.track_ids)
        reuse = same_rows and current_clusterings is not None
        clusterings[name] = (
            current_clusterings if reuse else FixedKClusterings.from_config(cfg.cluster, X, int(cfg.seed))
        )
    ks = [int(k) for k in (ev.get("fixed_k") or [6, 12, 24])]
    table, flat = compare_embeddings(
        clusterings,
        ids,
        ctx.catalog,
        ctx.split,
        ks=ks,
        silhouette_size=int(ev.silhouette_size),
        stability_seeds=int(ev.stability_seeds or 0),
    )
    write_csv(Path(ctx.run_dir) / "embedding_comparison.csv", table.reset_index())
    return headline(table), flat


def headline(table: pd.DataFrame) -> pd.DataFrame:
    """The report's compact view: the docs/evaluation.md comparison columns present in `table`."""
    columns = [c for c in HEADLINE if c in table.columns] + ["dim"]
    return table[columns]
