"""The playlist pipeline, step by step: each function takes what the previous one produced.

`run_clustering` is the shared first half (data → features → embedding → clusters → metrics) used by
`scripts/cluster.py`; `run_pipeline` adds playlists, figures, the report and logging (`scripts/pipeline.py`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.cluster import KChoice, choose_k, fit_kmeans, interpret_clusters, recluster
from src.cluster.interpret import Interpretation
from src.cluster.kmeans import KMeansResult
from src.data.errors import DataError
from src.data.features import FeatureConfig, FeatureTransformer
from src.data.songs import duplicate_song_rate, song_keys
from src.data.sources import Catalog
from src.data.split import split_interactions
from src.embeddings.store import Embedding, build_index, save_embedding
from src.evaluation.clustering import (
    fixed_k_scores,
    internal_metrics,
    label_metrics,
    lift_metrics,
    stability_ari,
)
from src.playlists.build import Playlist, cluster_playlists
from src.playlists.export import export_playlists
from src.playlists.seeded import default_seeds, seeded_playlists
from src.report import plots
from src.tasks.embed.context import EmbedContext
from src.tasks.fixed_k import FixedKClusterings
from src.tasks.run_report import MAP_CAPTION, write_run_report
from src.tasks.staging import staged
from src.tasks.tracking import start_logger
from src.utils.io import write_json, write_parquet

log = logging.getLogger(__name__)

MIN_TRACKS = 2  # fewer usable tracks than this: nothing to cluster, exit 2 (docs/robustness.md)


@dataclass
class ClusterRun:
    """Everything the clustering half produced, for the playlist half and the report."""

    run_dir: Path
    catalog: Catalog
    transformer: FeatureTransformer
    embedding: Embedding
    split: pd.DataFrame | None
    choice: KChoice | None
    result: KMeansResult
    clusters: pd.DataFrame
    recluster_info: dict[int, dict]
    interpretation: Interpretation
    metrics: dict[str, float]
    figures: dict[str, Path] = field(default_factory=dict)
    comparison: pd.DataFrame | None = None  # raw vs learned embeddings (evaluation.compare_embeddings)


def load_catalog(cfg: DictConfig) -> Catalog:
    """The configured source's tables; a catalogue too small to cluster is bad input (DataError, exit 2)."""
    catalog = instantiate(cfg.data, _convert_="all").load()
    n = len(catalog.tracks)
    if n < MIN_TRACKS:
        report = catalog.report
        lost = f" ({report.rows_read} rows read; dropped: {report.dropped})" if report.dropped else ""
        raise DataError(
            f"{report.source}: {n} usable track{'s' * (n != 1)}{lost}; clustering needs at least {MIN_TRACKS}"
        )
    return catalog


def prepare_features(
    cfg: DictConfig, catalog: Catalog, run_dir: Path
) -> tuple[FeatureTransformer, np.ndarray]:
    """Fit the feature transformer and save it (`features.joblib`) so new tracks get the same transform."""
    config: FeatureConfig = instantiate(cfg.features, _convert_="all")
    transformer = FeatureTransformer(config)
    X = transformer.fit_transform(catalog.tracks)
    transformer.save(run_dir / "features.joblib")
    log.info("features: %d tracks × %d dims (%s)", *X.shape, ", ".join(transformer.feature_names))
    return transformer, X


def make_embedding(cfg: DictConfig, ctx: EmbedContext) -> Embedding:
    embedder = instantiate(cfg.embedding, _convert_="all")
    embedding = embedder(ctx)
    save_embedding(embedding, ctx.run_dir / "embeddings")
    log.info(
        "embedding '%s': %d × %d → %s",
        embedding.name,
        len(embedding.vectors),
        embedding.dim,
        ctx.run_dir / "embeddings",
    )
    return embedding


def distinct_points(X: np.ndarray, limit: int) -> int:
    """Number of distinct rows of `X`, counted only up to `limit` (a large catalogue is not scanned)."""
    if len(X) > 4 * limit:
        return len(X)
    return min(len(np.unique(X, axis=0)), len(X))


def cluster_embedding(
    cfg: DictConfig, X: np.ndarray, seed: int, progress: bool
) -> tuple[KChoice | None, KMeansResult]:
    """Choose k (elbow knee, or the configured int) and fit the final k-means.

    k never exceeds the number of distinct points (a tiny or repetitive catalogue): the elbow's grid stops at
    one less (silhouette needs it), a configured k is lowered to it, with a warning.
    """
    c = cfg.cluster
    choice = None
    n_distinct = distinct_points(X, max(int(c.k_max), 1 if str(c.k) == "auto" else int(c.k)))
    if str(c.k) == "auto":
        choice = choose_k(
            X,
            c.k_min,
            min(int(c.k_max), n_distinct - 1),
            engine=c.engine,
            seed=seed,
            n_init=c.elbow_n_init,
            silhouette_size=c.silhouette_size,
            progress=progress,
            n_iter=c.n_iter,
        )
        k = choice.k
    else:
        k = int(c.k)
        if k > n_distinct:
            log.warning("cluster.k=%d but only %d distinct tracks: k=%d", k, n_distinct, n_distinct)
            k = n_distinct
        else:
            log.info("k=%d fixed by configuration", k)
    result = fit_kmeans(X, k, engine=c.engine, seed=seed, n_init=c.n_init, n_iter=c.n_iter)
    log.info(
        "k-means (%s): k=%d, inertia %.6g, %d iterations", result.engine, k, result.inertia, result.n_iter
    )
    return choice, result


def evaluate_clusters(
    cfg: DictConfig,
    catalog: Catalog,
    X: np.ndarray,
    result: KMeansResult,
    split: pd.DataFrame | None,
    clusterings: FixedKClusterings,
) -> dict[str, float]:
    """docs/evaluation.md metrics for the chosen clustering plus the fixed-k comparison points."""
    ev = cfg.evaluation
    ids = catalog.tracks["track_id"].to_numpy()
    metrics: dict[str, float] = {"k": result.k, "inertia": result.inertia, "n_tracks": len(ids)}
    labels_series = pd.Series(result.labels, index=ids)
    metrics.update(label_metrics(catalog.labels, labels_series))
    metrics.update(internal_metrics(X, result.labels, ev.silhouette_size, seed=0))
    if ev.stability_seeds and ev.stability_seeds > 1 and result.k > 1:
        metrics["stability_ari"] = stability_ari(clusterings.over_seeds(result.k, int(ev.stability_seeds)))
    metrics.update(lift_metrics(labels_series, catalog.interactions, split, result.k))
    if not catalog.interactions.empty:
        metrics["coplaylist_lift"] = metrics[f"coplaylist_lift@{result.k}"]
        if split is not None:
            metrics["heldout_lift"] = metrics[f"heldout_lift@{result.k}"]
    ks = [int(k) for k in ev.fixed_k or []]
    metrics.update(fixed_k_scores(clusterings.at(ks), ids, catalog.labels, catalog.interactions, split))
    return metrics


def run_clustering(cfg: DictConfig, run_dir: Path) -> ClusterRun:
    seed = int(cfg.seed)
    progress = bool(cfg.get("progress", True))
    catalog = load_catalog(cfg)
    write_json(run_dir / "data_report.json", catalog.report.to_dict())
    transformer, X_features = prepare_features(cfg, catalog, run_dir)
    split = None
    if not catalog.interactions.empty:
        split = split_interactions(catalog.interactions, seed=int(cfg.evaluation.split_seed))
        write_parquet(run_dir / "split.parquet", split)
    ctx = EmbedContext(catalog, X_features, transformer, run_dir, seed=seed, split=split)
    embedding = make_embedding(cfg, ctx)
    X = embedding.vectors
    choice, result = cluster_embedding(cfg, X, seed, progress)
    rc = cfg.cluster.recluster
    if rc.enabled:
        sub, info = recluster(
            X,
            result.labels,
            min_size=rc.min_size,
            k_max=rc.k_max,
            k=rc.k,
            engine=cfg.cluster.engine,
            seed=seed,
            progress=progress,
        )
    else:
        sub, info = np.zeros(len(X), dtype=np.int64), {}
    distance = np.sqrt(((X - result.centroids[result.labels]) ** 2).sum(axis=1)).astype(np.float32)
    clusters = pd.DataFrame(
        {
            "track_id": catalog.tracks["track_id"].astype(str).to_numpy(),
            "cluster": result.labels.astype(np.int32),
            "subcluster": sub.astype(np.int32),
            "distance": distance,
        }
    )
    write_parquet(run_dir / "clusters.parquet", clusters)
    interpretation = interpret_clusters(catalog.tracks, result.labels)
    clusterings = FixedKClusterings.from_config(cfg.cluster, X, seed)
    clusterings.add(result)
    metrics = evaluate_clusters(cfg, catalog, X, result, split, clusterings)
    metrics["n_subclusters"] = int(clusters.groupby(["cluster", "subcluster"]).ngroups)
    metrics.update(ctx.extras.get("training_metrics", {}))
    metrics.update(ctx.extras.get("metrics", {}))  # e.g. recall@K / ndcg@500 of interaction-trained embedders
    comparison = None
    if cfg.evaluation.get("compare_embeddings"):
        from src.tasks.compare_embeddings import run_comparison

        comparison, compared = run_comparison(
            cfg, ctx, embedding, list(cfg.evaluation.compare_embeddings), clusterings
        )
        metrics.update(compared)
    figures_dir = run_dir / "figures"
    names = interpretation.names()
    figures: dict[str, Path] = {}
    if choice is not None:
        figures["Elbow and silhouette curves, chosen k marked"] = plots.plot_elbow(
            choice, figures_dir / "elbow.png"
        )
        write_json(run_dir / "k_choice.json", choice.to_dict())
    figures["Cluster profiles: mean z-score per feature"] = plots.plot_centroid_heatmap(
        interpretation.profiles, figures_dir / "centroid_heatmap.png"
    )
    figures["Cluster-to-cluster distances"] = plots.plot_distance_heatmap(
        interpretation.distances, figures_dir / "cluster_distances.png"
    )
    figures[MAP_CAPTION] = plots.plot_map(X, result.labels, figures_dir / "map.png", names, seed)
    figures["Cluster sizes (segments: sub-clusters)"] = plots.plot_sizes(
        clusters, names, figures_dir / "cluster_sizes.png"
    )
    write_parquet(run_dir / "cluster_profiles.parquet", interpretation.profiles)
    return ClusterRun(
        run_dir,
        catalog,
        transformer,
        embedding,
        split,
        choice,
        result,
        clusters,
        info,
        interpretation,
        metrics,
        figures,
        comparison,
    )


def make_playlists(cfg: DictConfig, run: ClusterRun) -> tuple[list[Playlist], pd.DataFrame, pd.Series]:
    """Cluster, sub-cluster and seeded playlists (one version per song), exported; also the song keys."""
    p = cfg.playlists
    tracks, X = run.catalog.tracks, run.embedding.vectors
    keys = song_keys(tracks)  # once per run: every builder de-duplicates with the same keys
    sub_names: dict[tuple[int, int], str] = {}
    for c in np.unique(run.clusters["cluster"]):
        mask = (run.clusters["cluster"] == c).to_numpy()
        subs = run.clusters.loc[mask, "subcluster"].to_numpy()
        if len(np.unique(subs)) > 1:  # names relative to the parent cluster: what sets the part apart
            for s, name in interpret_clusters(tracks.loc[mask].reset_index(drop=True), subs).names().items():
                sub_names[(int(c), int(s))] = name
    playlists = cluster_playlists(
        tracks,
        X,
        run.clusters,
        run.interpretation.names(),
        sub_names,
        max_tracks=p.max_tracks,
        target_minutes=p.target_minutes,
        include_subclusters=p.subclusters,
        order=p.order,
        keys=keys,
    )
    seeds = list(p.seeds) or default_seeds(tracks, p.n_auto_seeds)
    playlists += seeded_playlists(
        tracks, X, seeds, size=p.seeded_size, order=p.order, index=build_index(X), keys=keys
    )
    table = export_playlists(playlists, tracks, run.run_dir / "playlists")
    return playlists, table, pd.Series(keys.to_numpy(), index=tracks["track_id"].astype(str).to_numpy())


def playlist_metrics(playlists: list[Playlist], key_of: pd.Series) -> dict[str, float]:
    """transition_smoothness before vs after ordering, duplicate_song_rate (docs/evaluation.md), the duplicate
    versions the builders skipped, and duration_error when targeted. `key_of` maps track id → song key."""
    used = {t for p in playlists for t in p.track_ids}
    keys = key_of[key_of.index.isin(used)].to_dict()  # only the tracks in playlists, not the catalogue
    out: dict[str, float] = {
        "n_playlists": len(playlists),
        "duplicate_song_rate": duplicate_song_rate((p.track_ids for p in playlists), keys),
        "duplicate_versions_skipped": int(sum(p.versions_skipped for p in playlists)),
    }
    for key, name in (("tempo_bpm", "tempo_bpm"), ("camelot", "camelot"), ("energy", "energy")):
        out[f"transition_{name}_before"] = float(np.mean([p.smoothness_before[key] for p in playlists]))
        out[f"transition_{name}_after"] = float(np.mean([p.smoothness_after[key] for p in playlists]))
    targeted = [p for p in playlists if p.target_minutes]
    if targeted:
        out["duration_error"] = float(
            np.mean([abs(p.minutes - p.target_minutes) / p.target_minutes for p in targeted])
        )
    return out


def run_pipeline(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    """The whole run; its artifacts join `run_dir` only if it succeeds (`tasks/staging.py`)."""
    with staged(run_dir) as stage:
        metrics = _run_pipeline(cfg, stage)
    log.info("report: %s", (Path(run_dir) / "report.html").resolve())
    return metrics


def _run_pipeline(cfg: DictConfig, run_dir: Path) -> dict[str, float]:
    logger = start_logger(cfg)
    try:
        run = run_clustering(cfg, run_dir)
        playlists, table, key_of = make_playlists(cfg, run)
        metrics = {**run.metrics, **playlist_metrics(playlists, key_of)}
        before = {
            k: float(np.mean([p.smoothness_before[k] for p in playlists]))
            for k in ("tempo_bpm", "camelot", "energy")
        }
        after = {
            k: float(np.mean([p.smoothness_after[k] for p in playlists]))
            for k in ("tempo_bpm", "camelot", "energy")
        }
        run.figures["Playlist transitions before vs after ordering"] = plots.plot_smoothness(
            before, after, run_dir / "figures" / "transitions.png"
        )
        write_run_report(cfg, run, playlists, table, metrics)
        write_json(run_dir / "metrics.json", metrics)
        if logger is not None:
            logger.log_metrics(metrics)
            logger.log_figures(run.figures)
            logger.log_table("playlists", table)
            if run.comparison is not None:
                logger.log_table("embedding_comparison", run.comparison.reset_index())
            logger.finish()
        return metrics
    except BaseException:
        if logger is not None:
            logger.finish(exit_code=1)
        raise
