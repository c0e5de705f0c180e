"""Audio-only embeddings compared like for like, and the label-free choice among the learned ones.

For every input set (`inputs`: audio features, + release year, + popularity) and every seed, the feature matrix
is fitted as the pipeline fits it, each embedding of `embeddings` (`configs/embedding/<name>.yaml`: raw, pca and
the learned variants) is made from it and scored by the pipeline's fixed-k scorer (`clustering_scores`). So a
learned variant is always compared with raw features built from the *same inputs*.

The learned variants are trained with one fixed share of validation tracks (`val_seed`) held out for every seed.
The selection criterion reads only those tracks and no label or playlist: `val_seed_ari`, the mean pairwise ARI
of k-means (k = `select_k`) on the validation tracks between the models trained with different seeds. Structure
that independently trained models agree on, on tracks none of them trained on, is structure of the data rather
than of one run; a variant whose clusters change with the training seed is not one a user can rely on.
The criterion compares variants, not training lengths: each variant trains until early stopping on its own
objective's validation loss, and the `epochs` column shows where each run stopped (a run that reaches the
trainer's `max_epochs` was cut by the cap, not by its validation loss). Labels and playlists are read only to
report.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from hydra import compose
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.cluster import fit_kmeans
from src.data.features import FeatureConfig, FeatureTransformer
from src.data.split import split_interactions
from src.evaluation.clustering import stability_ari
from src.report.tables import mean_std_table, to_markdown
from src.tasks.compare_embeddings import catalogue_rows, clustering_scores
from src.tasks.embed.context import EmbedContext
from src.tasks.fixed_k import FixedKClusterings
from src.tasks.pipeline import load_catalog
from src.utils.io import write_csv, write_json, write_text

log = logging.getLogger(__name__)

REPORTED = (
    "nmi_genre@k6",
    "nmi_subgenre@k24",
    "coplaylist_lift@12",
    "heldout_lift@24",
    "silhouette@k6",
    "stability_ari@k6",
    "val_seed_ari",
    "val/loss",
    "epochs",
)
TARGETS = ("nmi_genre@k6", "coplaylist_lift@12")  # the done criterion, per seed, against raw


def embedding_config(name: str, overrides: Sequence[str], val_seed: int) -> DictConfig:
    """`embedding=<name>` as the pipeline composes it, with `embedding.<override>` and the fixed `val_seed`."""
    base = compose(config_name="pipeline", overrides=[f"embedding={name}", "logger=none"])
    extra = [f"embedding.{o}" for o in overrides]
    if OmegaConf.select(base, "embedding.val_seed", default="absent") != "absent":
        extra.append(f"embedding.val_seed={val_seed}")
    if not extra:
        return base.embedding
    return compose(config_name="pipeline", overrides=[f"embedding={name}", "logger=none", *extra]).embedding


def seed_agreement(labelings: Sequence[np.ndarray]) -> float:
    """The selection criterion: mean pairwise ARI between labelings of the same validation tracks."""
    return stability_ari(labelings) if len(labelings) > 1 else float("nan")


def compare_audio(cfg: DictConfig, run_dir: Path) -> pd.DataFrame:
    """Train/make every embedding for every input set and seed; write runs.csv, table.md, per_seed.md,
    selection.json; return the per-run rows."""
    catalog = load_catalog(cfg)
    ks = [int(k) for k in cfg.ks]
    overrides: dict[str, list[str]] = OmegaConf.to_container(cfg.overrides, resolve=True) or {}
    rows: list[dict[str, Any]] = []
    val_labels: dict[tuple[str, str], list[np.ndarray]] = {}
    for inputs in cfg.inputs:
        extra = list(cfg.input_sets[inputs])
        for seed in [int(s) for s in cfg.seeds]:
            features = OmegaConf.to_container(cfg.features, resolve=True)
            features.pop("_target_", None)
            transformer = FeatureTransformer(FeatureConfig(**{**features, "extra": list(extra)}))
            X = transformer.fit_transform(catalog.tracks)
            split = split_interactions(catalog.interactions, seed=seed) if len(catalog.interactions) else None
            ctx = EmbedContext(
                catalog, X, transformer, run_dir / inputs / f"seed{seed}", seed=seed, split=split
            )
            ctx.run_dir.mkdir(parents=True, exist_ok=True)
            for entry in cfg.embeddings:
                name, _, config = str(entry).partition(":")  # "label:config" runs config under another label
                composed = embedding_config(config or name, overrides.get(name, []), int(cfg.val_seed))
                composed.name = name
                embedder = instantiate(composed, _convert_="all")
                embedding = embedder(ctx)
                vectors, ids = catalogue_rows(embedding, catalog)
                fixed = FixedKClusterings(
                    vectors, engine=cfg.cluster.engine, seed=seed, n_init=int(cfg.cluster.n_init)
                )
                scores = clustering_scores(
                    fixed, ids, catalog, split, ks, int(cfg.silhouette_size), int(cfg.stability_seeds)
                )
                trained = getattr(embedder, "metrics", {})
                scores["val/loss"] = trained.get(f"{name}/val/loss", float("nan"))
                # epochs trained: below the trainer's max_epochs when early stopping on val/loss ended it
                scores["epochs"] = trained.get(f"{name}/epochs", float("nan"))
                val_rows = ctx.extras.get("val_rows", {}).pop(name, None)
                if val_rows is not None:
                    fit = fit_kmeans(
                        vectors[val_rows], int(cfg.select_k), engine="sklearn", seed=0, n_init=10
                    )
                    val_labels.setdefault((inputs, name), []).append(fit.labels)
                rows.append(
                    {
                        "method": f"{name} [{inputs}]",
                        "embedding": name,
                        "inputs": inputs,
                        "seed": seed,
                        **scores,
                    }
                )
                log.info(
                    "%s [%s] seed %d: %s",
                    name,
                    inputs,
                    seed,
                    {m: round(scores.get(m, np.nan), 4) for m in TARGETS},
                )
    frame = pd.DataFrame(rows)
    agreement = {
        f"{name} [{inputs}]": seed_agreement(labels) for (inputs, name), labels in val_labels.items()
    }
    frame["val_seed_ari"] = frame["method"].map(agreement)
    return write_outputs(frame, agreement, run_dir)


def per_seed_ratios(frame: pd.DataFrame) -> pd.DataFrame:
    """Each learned/baseline row's TARGETS as a ratio to `raw` on the same inputs and seed."""
    targets = [m for m in TARGETS if m in frame.columns]
    raw = frame[frame["embedding"] == "raw"].set_index(["inputs", "seed"])
    out = frame[["method", "inputs", "seed", *targets]].copy()
    for metric in targets:
        ref = raw[metric].reindex(pd.MultiIndex.from_frame(frame[["inputs", "seed"]])).to_numpy()
        out[f"{metric}/raw"] = frame[metric].to_numpy() / ref
    return out


def markdown(frame: pd.DataFrame) -> str:
    """A plain markdown table, numbers to 4 decimals."""
    cells = [
        [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row] for row in frame.itertuples(index=False)
    ]
    lines = ["| " + " | ".join(map(str, frame.columns)) + " |", "|" + "---|" * len(frame.columns)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in cells]) + "\n"


def write_outputs(frame: pd.DataFrame, agreement: dict[str, float], run_dir: Path) -> pd.DataFrame:
    write_csv(run_dir / "runs.csv", frame)
    metrics = [m for m in REPORTED if m in frame.columns]
    table = mean_std_table(frame, metrics)
    write_text(run_dir / "table.md", to_markdown(table))
    ratios = per_seed_ratios(frame)
    write_csv(run_dir / "per_seed.csv", ratios)
    write_text(run_dir / "per_seed.md", markdown(ratios))
    choice = {}
    for inputs in frame["inputs"].unique():
        scored = {m: a for m, a in agreement.items() if m.endswith(f"[{inputs}]") and np.isfinite(a)}
        if scored:
            choice[inputs] = max(scored, key=scored.get)
    write_json(
        run_dir / "selection.json", {"criterion": "val_seed_ari", "scores": agreement, "choice": choice}
    )
    print(to_markdown(table))
    print(markdown(ratios))
    print("label-free choice (val_seed_ari):", choice, agreement)
    return frame
