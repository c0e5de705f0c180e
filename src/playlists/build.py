"""Playlists from clusters and sub-clusters: pick representative tracks, fit a target length, order them.

Every builder keeps one version per song (`src/data/songs.py`) *before* cutting to length, so a playlist never
holds a song twice and still has its full length. Song keys are computed once per run by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from src.data.songs import one_per_song, song_keys
from src.playlists.order import order_playlist, transition_smoothness


@dataclass
class Playlist:
    """A named, ordered list of track ids with where it came from."""

    playlist_id: str
    name: str
    kind: str  # "cluster" | "subcluster" | "seeded"
    track_ids: list[str]
    description: str = ""
    cluster: int | None = None
    subcluster: int | None = None
    minutes: float = 0.0
    smoothness_before: dict[str, float] = field(default_factory=dict)
    smoothness_after: dict[str, float] = field(default_factory=dict)
    target_minutes: float | None = None
    versions_skipped: int = 0  # other versions of the chosen songs ranked above the cut, left out

    def to_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


def select_by_length(
    candidates: pd.DataFrame, max_tracks: int | None, target_minutes: float | None
) -> pd.DataFrame:
    """Take candidates in order until the track count or the target minutes is reached (closest total)."""
    if target_minutes:
        minutes = candidates["duration_ms"].to_numpy(dtype=np.float64) / 60_000.0
        total = np.cumsum(minutes)
        n = int(np.searchsorted(total, target_minutes)) + 1
        n = min(n, len(candidates))
        if n > 1 and abs(total[n - 2] - target_minutes) <= abs(total[n - 1] - target_minutes):
            n -= 1
        return candidates.iloc[:n]
    return candidates.iloc[: max_tracks or len(candidates)]


def pick_songs(
    ranked: pd.DataFrame, keys: pd.Series, max_tracks: int | None, target_minutes: float | None
) -> tuple[pd.DataFrame, int]:
    """One version per song, then cut to length; also how many duplicate versions the cut skipped.

    `ranked` is in preference order and `keys` holds the song key of every catalogue row (index aligned).
    The skipped count is the rows ranked above the playlist's last song that are another version of a chosen
    song: the slots a playlist without de-duplication would have spent on repeats.
    """
    songs = one_per_song(ranked, keys)
    chosen = select_by_length(songs, max_tracks, target_minutes)
    if chosen.empty:
        return chosen, 0
    ranked_keys = keys.reindex(ranked.index).to_numpy()
    last_key = keys[chosen.index[-1]]
    last = int(np.flatnonzero(ranked_keys == last_key)[0])  # the rank of the last song's best version
    in_head = int(ranked.index[: last + 1].isin(chosen.index).sum())
    return chosen, last + 1 - in_head


def make_playlist(
    tracks: pd.DataFrame,
    playlist_id: str,
    name: str,
    kind: str,
    description: str = "",
    order: bool = True,
    target_minutes: float | None = None,
    **where,
) -> Playlist:
    """Order `tracks` (already selected, in selection order) and wrap them as a Playlist."""
    before = transition_smoothness(tracks)
    ordered = tracks.iloc[order_playlist(tracks)] if order else tracks
    return Playlist(
        playlist_id=playlist_id,
        name=name,
        kind=kind,
        track_ids=ordered["track_id"].astype(str).tolist(),
        description=description,
        minutes=round(float(ordered["duration_ms"].sum()) / 60_000.0, 2),
        smoothness_before=before,
        smoothness_after=transition_smoothness(ordered),
        target_minutes=target_minutes,
        **where,
    )


def cluster_playlists(
    tracks: pd.DataFrame,
    X: np.ndarray,
    clusters: pd.DataFrame,
    names: dict[int, str],
    sub_names: dict[tuple[int, int], str],
    max_tracks: int | None = 30,
    target_minutes: float | None = None,
    include_subclusters: bool = True,
    order: bool = True,
    keys: pd.Series | None = None,
) -> list[Playlist]:
    """One playlist per cluster and per sub-cluster, from the tracks nearest their centroid, one per song.

    `clusters` is aligned with `tracks` and has `cluster`, `subcluster` and `distance` (to the cluster centroid).
    Sub-cluster members are ranked by distance to their sub-cluster mean in `X`. `keys` are the song keys of
    `tracks` (`song_keys`); computed here when not given.
    """
    if keys is None:
        keys = song_keys(tracks)
    playlists: list[Playlist] = []
    for c in sorted(clusters["cluster"].unique()):
        mask = (clusters["cluster"] == c).to_numpy()
        members = tracks.loc[mask].assign(_d=clusters.loc[mask, "distance"].to_numpy())
        members = members.sort_values(["_d", "track_id"], kind="stable")
        chosen, skipped = pick_songs(members, keys, max_tracks, target_minutes)
        chosen = chosen.sort_index()  # "before" order = catalogue order
        playlists.append(
            make_playlist(
                chosen,
                f"c{c:02d}",
                names[int(c)],
                "cluster",
                f"Cluster {c} · {mask.sum()} tracks in the catalogue",
                order=order,
                target_minutes=target_minutes,
                cluster=int(c),
                versions_skipped=skipped,
            )
        )
        if not include_subclusters:
            continue
        subs = clusters.loc[mask, "subcluster"].to_numpy()
        if len(np.unique(subs)) < 2:
            continue
        Xc = X[mask]
        for s in np.unique(subs):
            smask = subs == s
            centre = Xc[smask].mean(axis=0)
            d = ((Xc[smask] - centre) ** 2).sum(axis=1)
            sub_members = (
                tracks.loc[mask].loc[smask].assign(_d=d).sort_values(["_d", "track_id"], kind="stable")
            )
            chosen, skipped = pick_songs(sub_members, keys, max_tracks, target_minutes)
            chosen = chosen.sort_index()
            playlists.append(
                make_playlist(
                    chosen,
                    f"c{c:02d}s{s:02d}",
                    f"{names[int(c)]} / {sub_names.get((int(c), int(s)), f'part {s}')}",
                    "subcluster",
                    f"Sub-cluster {s} of cluster {c} · {int(smask.sum())} tracks",
                    order=order,
                    target_minutes=target_minutes,
                    cluster=int(c),
                    subcluster=int(s),
                    versions_skipped=skipped,
                )
            )
    return playlists
