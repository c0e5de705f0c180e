"""Personalised mixes for one listener from a trained run (the code behind `scripts/mixes.py`).

The listener is a user/playlist of the loaded data, a list of track ids, or a collected Spotify library (a
`scripts/spotify_collect.py` run directory). Their tracks are split into tastes in the run's embedding, each
taste is filled by the run's recommender (the hybrid when the run saved one), ordered for listening and
exported like every other playlist (`mixes/`), with `mixes.json`, figures and a report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hydra.utils import instantiate
from omegaconf import DictConfig

from src.cluster.interpret import interpret_clusters, zscores
from src.data.errors import DataError
from src.data.songs import song_keys
from src.embeddings.store import load_embedding
from src.mixes.fill import ItemInfo, Listener, fill_mixes
from src.mixes.tastes import find_tastes
from src.playlists.build import Playlist, make_playlist
from src.playlists.export import export_playlists
from src.report import plots
from src.report.html import write_report
from src.report.sections import figures_section, map_section, mixes_section, playlists_section
from src.tasks.recommend import run_recommender
from src.utils.io import write_json

log = logging.getLogger(__name__)

NAME_SAMPLE = 20_000  # catalogue tracks the taste names are measured against (z-scores)


@dataclass
class ListenerTracks:
    """The listener's tracks as catalogue rows, and what could not be matched."""

    rows: np.ndarray
    source: str
    asked: int
    by_id: int
    by_song: int
    unmatched: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "tracks_given": self.asked,
            "matched_by_id": self.by_id,
            "matched_by_song": self.by_song,
            "unmatched": len(self.unmatched),
            "unmatched_examples": self.unmatched[:10],
        }


def _library_tracks(path: Path, playlists: list[str]) -> pd.DataFrame:
    """Track rows of a collected Spotify library (optionally only some of its playlists, `saved` = liked)."""
    table = path / "tracks.csv"
    if not table.is_file():
        raise DataError(f"{path}: no tracks.csv — give the directory of a scripts/spotify_collect.py run")
    frame = pd.read_csv(table, dtype={"track_id": str, "playlist_id": str})
    if playlists:
        frame = frame[frame["playlist_id"].isin([str(p) for p in playlists])]
        if frame.empty:
            raise DataError(f"{table}: none of the playlists {playlists} is in this library")
    return frame.drop_duplicates("track_id")


def match_tracks(tracks: pd.DataFrame, wanted: pd.DataFrame, source: str) -> ListenerTracks:
    """Catalogue rows of `wanted` (columns track_id, optionally name/artist): by id, else by song identity."""
    ids = pd.Index(tracks["track_id"].astype(str))
    wanted = wanted.assign(track_id=wanted["track_id"].astype(str)).drop_duplicates("track_id")
    pos = ids.get_indexer(wanted["track_id"])
    by_song = np.full(len(wanted), -1)
    missing = pos < 0
    if missing.any() and {"name", "artist"} <= set(wanted.columns):
        catalogue_songs = pd.Series(np.arange(len(tracks)), index=song_keys(tracks).to_numpy())
        first = catalogue_songs[~catalogue_songs.index.duplicated()]
        keys = song_keys(wanted[missing].reset_index(drop=True))
        by_song[missing] = first.reindex(keys.to_numpy()).fillna(-1).astype(int).to_numpy()
    rows = np.where(pos >= 0, pos, by_song)
    return ListenerTracks(
        rows=np.unique(rows[rows >= 0]).astype(np.int64),
        source=source,
        asked=len(wanted),
        by_id=int((pos >= 0).sum()),
        by_song=int(((pos < 0) & (by_song >= 0)).sum()),
        unmatched=wanted.loc[rows < 0, "track_id"].tolist(),
    )


def listener_tracks(cfg: DictConfig, tracks: pd.DataFrame, interactions: pd.DataFrame) -> ListenerTracks:
    """Resolve `listener.user` / `listener.tracks` / `listener.library` (exactly one) to catalogue rows."""
    spec = cfg.listener
    given = [k for k in ("user", "tracks", "library") if spec.get(k)]
    if len(given) != 1:
        raise DataError(
            "give exactly one listener: listener.user=ID, listener.tracks=[ID,...] or "
            f"listener.library=COLLECT_RUN_DIR (got {given or 'none'})"
        )
    if spec.user:
        held = interactions.loc[interactions["user_id"].astype(str) == str(spec.user), ["track_id"]]
        if held.empty:
            raise DataError(f"listener.user={spec.user!r}: no such user/playlist in the loaded interactions")
        found = match_tracks(tracks, held, f"user {spec.user}")
    elif spec.tracks:
        found = match_tracks(tracks, pd.DataFrame({"track_id": list(spec.tracks)}), "track ids")
    else:
        library = Path(spec.library)
        wanted = _library_tracks(library, list(spec.get("library_playlists") or []))
        found = match_tracks(tracks, wanted, f"Spotify library {library}")
    if not len(found.rows):
        raise DataError(
            f"none of the listener's {found.asked} tracks ({found.source}) is in the run's catalogue, by id or "
            f"by artist and title (e.g. {', '.join(found.unmatched[:3])})"
        )
    if found.unmatched:
        log.warning(
            "%d of %d listener tracks are not in the catalogue and are left out (e.g. %s)",
            len(found.unmatched),
            found.asked,
            ", ".join(found.unmatched[:3]),
        )
    return found


def run_vectors(run_dir: Path, tracks: pd.DataFrame, name: str | None) -> tuple[str, np.ndarray]:
    """The run's embedding (`embeddings/<name>.parquet`) in catalogue order."""
    found = sorted((run_dir / "embeddings").glob("*.parquet"))
    if name:
        found = [p for p in found if p.stem == name]
    if len(found) != 1:
        have = ", ".join(p.stem for p in sorted((run_dir / "embeddings").glob("*.parquet"))) or "none"
        raise DataError(
            f"{run_dir}: pick the embedding tastes are found in with embedding=NAME (have: {have})"
            if len(found) > 1
            else f"{run_dir}: no embeddings/{name or '*'}.parquet (have: {have}); give a pipeline run directory"
        )
    embedding = load_embedding(found[0])
    pos = pd.Index(embedding.track_ids).get_indexer(tracks["track_id"].astype(str))
    if (pos < 0).any():
        raise DataError(
            f"{found[0]}: {int((pos < 0).sum())} catalogue tracks have no vector; pass the same data=... as the run"
        )
    return embedding.name, embedding.vectors[pos]


def taste_names(tracks: pd.DataFrame, rows: np.ndarray, labels: np.ndarray, seed: int) -> pd.DataFrame:
    """Profiles and names of the tastes: against the listener's other tastes when there are several (what sets
    each apart, as sub-clusters are named against their parent), else against the catalogue (a seeded sample)."""
    if labels.max(initial=0) > 0:
        return interpret_clusters(tracks.iloc[rows].reset_index(drop=True), labels).profiles
    rng = np.random.default_rng(seed)
    others = np.setdiff1d(np.arange(len(tracks)), rows)
    sample = rng.choice(others, min(NAME_SAMPLE, len(others)), replace=False) if len(others) else others
    frame = pd.concat([tracks.iloc[rows], tracks.iloc[sample]], ignore_index=True)
    marked = np.concatenate([labels, np.full(len(sample), -1)])
    profiles = interpret_clusters(frame, marked).profiles
    return profiles[profiles["cluster"] >= 0].reset_index(drop=True)


def mix_profiles(tracks: pd.DataFrame, playlists: list[Playlist]) -> pd.DataFrame:
    """Mean catalogue z-score per feature of each mix, in the shape of the cluster profiles (`z_<feature>`)."""
    z = zscores(tracks).set_axis(tracks["track_id"].astype(str))
    rows = [
        {
            "cluster": i + 1,
            "name": p.name,
            **{f"z_{f}": float(v) for f, v in z.loc[p.track_ids].mean().items()},
        }
        for i, p in enumerate(playlists)
    ]
    return pd.DataFrame(rows)


def interaction_matrix(interactions: pd.DataFrame, tracks: pd.DataFrame) -> sp.csr_matrix:
    """users × items of every interaction the run's data holds: who keeps which tracks together."""
    items = pd.Index(tracks["track_id"].astype(str))
    if interactions.empty:
        return sp.csr_matrix((0, len(items)), dtype=np.float32)
    users, cols = (
        pd.factorize(interactions["user_id"].astype(str))[0],
        items.get_indexer(interactions["track_id"].astype(str)),
    )
    keep = cols >= 0
    shape = (int(users.max()) + 1, len(items))
    data = np.ones(int(keep.sum()), dtype=np.float32)
    return sp.csr_matrix((data, (users[keep], cols[keep])), shape=shape)


def run_mixes(cfg: DictConfig, run_dir: Path, out_dir: Path) -> dict[str, Any]:
    """Tastes → filled, ordered mixes for the configured listener; every artifact under `out_dir`."""
    catalog = instantiate(cfg.data, _convert_="all").load()
    tracks = catalog.tracks.reset_index(drop=True)
    space, vectors = run_vectors(run_dir, tracks, cfg.get("embedding"))
    found = listener_tracks(cfg, tracks, catalog.interactions)
    tastes = instantiate(cfg.tastes)
    labels = find_tastes(vectors[found.rows], **vars(tastes), seed=int(cfg.seed))
    listener = Listener(found.rows, labels)
    model, used = run_recommender(run_dir, tracks, vectors, str(cfg.model_name), space)
    info = ItemInfo.from_tracks(tracks, interaction_matrix(catalog.interactions, tracks))
    spec = instantiate(cfg.mix)
    [mixes] = fill_mixes(model, [listener], info, spec, [[spec.size] * listener.n_tastes], vectors=vectors)
    profiles = taste_names(tracks, found.rows, labels, int(cfg.seed))
    names = dict(zip(profiles["cluster"], profiles["name"], strict=True))
    artists = dict(zip(profiles["cluster"], profiles.get("top_artists", pd.Series(dtype=str)), strict=False))
    playlists = [
        make_playlist(
            tracks.iloc[mix],
            f"mix{t + 1:02d}",
            f"Mix {t + 1} · {names.get(t, 'your tracks')}",
            "mix",
            f"From {int((labels == t).sum())} of your tracks ({artists.get(t) or 'various artists'}) · "
            f"filled by {used} · {int(info.cold[mix].sum())} new releases",
            order=bool(cfg.order),
            target_minutes=spec.minutes,
        )
        for t, mix in enumerate(mixes)
        if len(mix)
    ]
    if not playlists:
        raise DataError(f"the recommender ({used}) found no tracks the listener does not already have")
    table = export_playlists(playlists, tracks, out_dir / "mixes")
    tastes_map = plots.plot_map(  # the PNG for figures/; the report shows the same map interactively
        vectors[found.rows], labels, out_dir / "figures" / "tastes_map.png", names, int(cfg.seed)
    )
    figures = {
        "Mix profiles: mean z-score per feature (vs the catalogue)": plots.plot_centroid_heatmap(
            mix_profiles(tracks, playlists), out_dir / "figures" / "mix_profiles.png"
        ),
    }
    summary = {
        "listener": found.to_dict(),
        "run_dir": str(run_dir),
        "recommender": used,
        "embedding": space,
        "history_tracks": len(found.rows),
        "tastes": [
            {"taste": int(t), "tracks": int((labels == t).sum()), "name": names.get(t)}
            for t in range(listener.n_tastes)
        ],
        "mixes": [
            {
                "playlist_id": p.playlist_id,
                "name": p.name,
                "taste": t,
                "tracks": len(p.track_ids),
                "minutes": p.minutes,
                "new_releases": int(info.cold[mix].sum()),
                "artists": int(tracks.iloc[mix]["artist"].nunique()),
            }
            for p, (t, mix) in zip(playlists, [(t, m) for t, m in enumerate(mixes) if len(m)], strict=True)
        ],
    }
    summary["figures"] = [str(p.relative_to(out_dir)) for p in (tastes_map, *figures.values())]
    write_json(out_dir / "mixes.json", summary)
    history = tracks.iloc[found.rows].reset_index(drop=True)
    sections = [
        mixes_section(summary),
        playlists_section(playlists, table, tracks),
        map_section(vectors[found.rows], labels, history, names, seed=int(cfg.seed)),
        figures_section(figures),
    ]
    write_report(out_dir / "report.html", "Your mixes", sections)
    log.info("%d mixes for %s → %s", len(playlists), found.source, out_dir / "mixes")
    return summary
