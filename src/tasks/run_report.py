"""The pipeline's `report.html` and `run.json`: which sections a run gets, in page order.

The order is the reading order of a product page: what was run and the headline numbers, the playlists, the
clusters and their map, then every metric, figure and data count. A new section (e.g. personalised mixes) is a
builder in `src/report/sections/` and one entry in `sections` below.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from omegaconf import DictConfig, OmegaConf

from src.playlists.build import Playlist
from src.report.html import Section, write_report
from src.report.run_summary import RunSummary
from src.report.sections import (
    clusters_section,
    comparison_section,
    data_section,
    figures_section,
    headline_section,
    map_section,
    metrics_section,
    playlists_section,
)
from src.tasks.embed.provenance import learned_from_playlists
from src.utils.io import write_json

if TYPE_CHECKING:  # pipeline imports this module; the type is only for readers and checkers
    from src.tasks.pipeline import ClusterRun

TITLE = "Playlist Lab report"
MAP_CAPTION = "2-D map of tracks coloured by cluster"  # shown interactively; the PNG stays in figures/


def run_summary(cfg: DictConfig, run: ClusterRun) -> RunSummary:
    """What was run, from the run itself ."""
    interactions = run.catalog.interactions
    return RunSummary(
        source=run.catalog.report.source or "unknown source",
        n_tracks=len(run.catalog.tracks),
        n_source_playlists=int(interactions["user_id"].nunique()) if not interactions.empty else 0,
        embedding=run.embedding.name,
        embedding_dim=int(run.embedding.dim),
        learned_from_playlists=learned_from_playlists(OmegaConf.to_container(cfg.embedding, resolve=False)),
        k=int(run.result.k),
        k_method=run.choice.method if run.choice else "fixed",
        k_reason=run.choice.reason if run.choice else f"k={run.result.k} set with cluster.k",
        seed=int(cfg.seed),
    )


def write_run_report(
    cfg: DictConfig,
    run: ClusterRun,
    playlists: list[Playlist],
    table: pd.DataFrame,
    metrics: dict[str, float],
) -> Path:
    """Write `run.json` (the summary the report opens with) and `report.html`; returns the report path."""
    summary = run_summary(cfg, run)
    write_json(run.run_dir / "run.json", summary.to_dict())
    tracks = run.catalog.tracks
    sections: list[Section] = [
        headline_section(TITLE, summary, metrics),
        playlists_section(playlists, table, tracks),
        clusters_section(run.interpretation.profiles, run.interpretation.summary, tracks, run.result.labels),
        map_section(
            run.embedding.vectors, run.result.labels, tracks, run.interpretation.names(), seed=summary.seed
        ),
        metrics_section(metrics, summary.learned_from_playlists),
    ]
    if run.comparison is not None:
        sections.append(comparison_section(run.comparison))
    sections += [
        figures_section({c: p for c, p in run.figures.items() if c != MAP_CAPTION}),
        data_section(run.catalog.report.to_dict()),
    ]
    return write_report(run.run_dir / "report.html", TITLE, sections)
