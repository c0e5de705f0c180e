"""Choose the hybrid embedding's affinity temperature τ and audio weight on validation pairs only.

`scripts/select_affinity.py run_dir=RUN` takes a pipeline run of `experiment=hybrid` (its trained two-tower model
and audio autoencoder, its split, its clustering settings), rebuilds the hybrid space for every τ × `w_audio` of
the grid, clusters it at k as the run did (engine, seed, starts, iterations) and scores `val_lift@k`. The test rows
of the split are dropped as it is read, so no test pair can inform the choice; the rule is fixed in advance: the
highest `val_lift@k` wins. Writes `selection.csv`, `selection.md` and `selection.json`.

The two-tower scores against the playlists do not depend on τ or the weights, so they are computed once; each
grid point costs one SVD and one k-means.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from src.data.errors import DataError
from src.data.features import FeatureTransformer
from src.data.interactions import rec_data
from src.data.sources import Catalog
from src.embeddings.affinity import AffinitySettings, affinity_vectors, playlist_scores
from src.embeddings.store import Embedding
from src.evaluation.clustering import val_lift
from src.models.fit import encode_matrix
from src.tasks.artifacts import load_trained
from src.tasks.embed.hybrid import combine
from src.tasks.embed.two_tower import load_two_tower
from src.tasks.fixed_k import FixedKClusterings
from src.utils.io import write_csv, write_json, write_text

log = logging.getLogger(__name__)

RULE = "highest val_lift@k (validation pairs without any test row), seed of the given run; no test metric is read"


def load_run_config(run_dir: Path) -> DictConfig:
    """The saved Hydra config of a pipeline run of `embedding=hybrid` with `space=affinity`."""
    path = run_dir / ".hydra" / "config.yaml"
    if not path.is_file():
        raise DataError(f"{run_dir}: no .hydra/config.yaml (not a pipeline run directory?)")
    cfg = OmegaConf.load(path)
    emb = cfg.get("embedding") or {}
    if "HybridEmbedding" not in str(emb.get("_target_", "")) or emb.two_tower.get("space") != "affinity":
        raise DataError(
            f"{run_dir}: not a run of experiment=hybrid (embedding=hybrid, two_tower.space=affinity)"
        )
    return cfg


def known_split(run_dir: Path) -> pd.DataFrame:
    """The run's split without its test rows: everything a selection criterion may read."""
    path = run_dir / "split.parquet"
    if not path.is_file():
        raise DataError(f"{run_dir}: no split.parquet")
    split = pd.read_parquet(path)
    return split.loc[split["part"] != "test"].reset_index(drop=True)


def audio_vectors(run_cfg: DictConfig, run_dir: Path, catalog: Catalog) -> np.ndarray:
    """The run's audio part: its trained autoencoder's bottleneck, or (audio: null) its scaled raw features."""
    audio = run_cfg.embedding.get("audio")
    if audio is None:
        return FeatureTransformer.load(run_dir / "features.joblib").transform(catalog.tracks)
    trained = load_trained(run_dir, str(audio.name))
    return encode_matrix(trained.module, trained.transformer.transform(catalog.tracks))


def select_affinity(cfg: DictConfig, out_dir: Path) -> pd.DataFrame:
    """`scripts/select_affinity.py`: val_lift@k over the τ × w_audio grid; the table, sorted as the grid."""
    run_dir = Path(str(cfg.run_dir))
    run_cfg = load_run_config(run_dir)
    seed, k = int(run_cfg.seed), int(cfg.k)
    catalog: Catalog = instantiate(run_cfg.data, _convert_="all").load()
    split = known_split(run_dir)
    data = rec_data(catalog.tracks, split)
    tower_cfg = run_cfg.embedding.two_tower
    settings = AffinitySettings(**OmegaConf.to_container(tower_cfg.affinity, resolve=True))
    module, transformer = load_two_tower(run_dir, str(tower_cfg.name))
    items = module.encode_tracks(catalog.tracks, transformer.transform(catalog.tracks))
    scores = playlist_scores(
        lambda h: module.score_histories(h, items),
        settings.history(data.train, data.known),
        settings.max_playlists,
    )
    audio = audio_vectors(run_cfg, run_dir, catalog)
    ids = catalog.tracks["track_id"].astype(str).to_numpy()
    c = run_cfg.cluster
    rows = []
    for tau in cfg.temperatures:
        inter = affinity_vectors(scores, float(tau), settings.dim, seed=seed)
        for w_audio in cfg.w_audio:
            X = Embedding(
                "hybrid", ids, combine(inter, audio, float(run_cfg.embedding.w_interaction), float(w_audio))
            )
            labels = FixedKClusterings(
                X.vectors, engine=c.engine, seed=seed, n_init=int(c.n_init), n_iter=int(c.n_iter)
            ).labels(k)
            value = val_lift(pd.Series(labels, index=ids), split)
            largest = float(np.bincount(labels).max() / len(labels))
            rows.append(
                {
                    "temperature": float(tau),
                    "w_audio": float(w_audio),
                    f"val_lift@{k}": value,
                    "largest_cluster": largest,
                }
            )
            log.info(
                "τ=%g, w_audio=%g: val_lift@%d %.4f (largest cluster %.1f%%)",
                tau,
                w_audio,
                k,
                value,
                100 * largest,
            )
    table = pd.DataFrame(rows)
    best = table.loc[table[f"val_lift@{k}"].idxmax()]
    choice = {
        "temperature": float(best["temperature"]),
        "w_audio": float(best["w_audio"]),
        f"val_lift@{k}": float(best[f"val_lift@{k}"]),
        "rule": RULE,
        "run_dir": str(run_dir),
        "seed": seed,
        "k": k,
    }
    write_csv(out_dir / "selection.csv", table)
    write_text(out_dir / "selection.md", selection_markdown(table, k, choice))
    write_json(out_dir / "selection.json", choice)
    return table


def selection_markdown(table: pd.DataFrame, k: int, choice: dict) -> str:
    """τ × w_audio grid of val_lift@k (the chosen cell in bold) and the largest cluster's share."""
    lines = [f"| τ | w_audio | val_lift@{k} | largest cluster |", "|---|---|---|---|"]
    for _, row in table.iterrows():
        cell = f"{row[f'val_lift@{k}']:.3f}"
        if row["temperature"] == choice["temperature"] and row["w_audio"] == choice["w_audio"]:
            cell = f"**{cell}**"
        lines.append(
            f"| {row['temperature']:g} | {row['w_audio']:g} | {cell} | {100 * row['largest_cluster']:.1f} % |"
        )
    lines.append("")
    lines.append(
        f"Chosen: τ = {choice['temperature']:g}, w_audio = {choice['w_audio']:g} ({choice['rule']})."
    )
    return "\n".join(lines) + "\n"
