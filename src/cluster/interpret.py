"""Cluster interpretation: z-score profiles, readable names, archetypes and cluster-to-cluster distances.

Profiles are always computed on the z-scored audio features, whatever space was clustered, so a cluster of a
learned embedding is described in the same musical terms as a raw one. Archetypes come from the rule table in
`archetypes.py`: a cluster is only called "party-like" when its own profile meets that rule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.spatial.distance import pdist, squareform

from src.cluster.archetypes import archetype_scores, choose_archetype
from src.data.schema import AUDIO_FEATURES

PROFILE_FEATURES: tuple[str, ...] = tuple(f for f in AUDIO_FEATURES if f != "key")

# (word when high, word when low) per feature.
TRAIT_WORDS: dict[str, tuple[str, str]] = {
    "danceability": ("danceable", "not danceable"),
    "energy": ("high energy", "low energy"),
    "loudness": ("loud", "quiet"),
    "mode": ("major key", "minor key"),
    "speechiness": ("spoken / rap vocals", "sung"),
    "acousticness": ("acoustic", "low acousticness"),
    "instrumentalness": ("instrumental", "vocal"),
    "liveness": ("live feel", "studio"),
    "valence": ("upbeat mood", "dark mood"),
    "tempo": ("fast", "slow"),
    "duration_ms": ("long tracks", "short tracks"),
}


@dataclass
class Interpretation:
    profiles: pd.DataFrame  # one row per cluster: size, name, archetype, years, artists, z per feature
    distances: pd.DataFrame  # cluster × cluster Euclidean distance of the z-profiles
    summary: list[str]  # sentences: most different / most similar pairs

    def names(self) -> dict[int, str]:
        return dict(zip(self.profiles["cluster"], self.profiles["name"], strict=True))


def zscores(tracks: pd.DataFrame, features: tuple[str, ...] = PROFILE_FEATURES) -> pd.DataFrame:
    values = tracks[list(features)].astype("float64")
    std = values.std(ddof=0).replace(0.0, 1.0)
    return (values - values.mean()) / std


def name_from_profile(z: pd.Series, max_traits: int = 3, threshold: float = 0.25) -> str:
    """'high energy · danceable · low acousticness' from the strongest mean z-scores."""
    weight = pd.Series(1.0, index=z.index)
    weight[weight.index == "mode"] = 0.5  # a binary feature: large z-scores, little musical meaning alone
    strength = (z.abs() * weight).sort_values(ascending=False)
    words = [TRAIT_WORDS[f][0 if z[f] > 0 else 1] for f in strength.index if strength[f] >= threshold]
    if not words:  # a part that differs only a little: still say how
        top = strength.index[0]
        return f"slightly {TRAIT_WORDS[top][0 if z[top] > 0 else 1]}"
    return " · ".join(words[:max_traits])


def closest_archetype(z: pd.Series) -> tuple[str, float, dict[str, float]]:
    """Archetype direction closest to `z` by cosine, whether or not its rule holds (see `choose_archetype`)."""
    scores = archetype_scores(z)
    best = max(scores, key=scores.get)
    return best, scores[best], scores


def _difference_words(a: pd.Series, b: pd.Series, n: int = 2) -> str:
    diff = (a - b).abs().sort_values(ascending=False).index[:n]
    return ", ".join(f"{f} ({a[f]:+.2f} vs {b[f]:+.2f})" for f in diff)


def interpret_clusters(tracks: pd.DataFrame, labels: np.ndarray, top_artists: int = 3) -> Interpretation:
    """Profile every cluster of `labels` (aligned with `tracks` rows)."""
    z = zscores(tracks)
    z["cluster"] = labels
    means = z.groupby("cluster").mean()
    years = pd.to_numeric(tracks.get("release_year"), errors="coerce") if "release_year" in tracks else None
    rows = []
    for c, profile in means.iterrows():
        members = tracks.loc[labels == c]
        archetype, score, why = choose_archetype(profile)
        row = {
            "cluster": int(c),
            "size": len(members),
            "share": len(members) / len(tracks),
            "name": name_from_profile(profile),
            "archetype": archetype,
            "archetype_score": round(score, 3),
            "archetype_rule": why,  # the archetype's conditions with this cluster's values, for the reader
        }
        if years is not None and years[labels == c].notna().any():
            yc = years[labels == c]
            row.update(year_min=int(yc.min()), year_median=int(yc.median()), year_max=int(yc.max()))
        if "artist" in members:
            row["top_artists"] = ", ".join(
                members["artist"].dropna().astype(str).value_counts().index[:top_artists]
            )
        row.update({f"z_{f}": round(float(profile[f]), 3) for f in PROFILE_FEATURES})
        rows.append(row)
    profiles = pd.DataFrame(rows)
    _dedupe_names(profiles)
    ids = means.index.astype(int).tolist()
    dist = squareform(pdist(means.to_numpy())) if len(ids) > 1 else np.zeros((1, 1))
    distances = pd.DataFrame(dist, index=ids, columns=ids)
    return Interpretation(profiles, distances, _summary(profiles, means, distances))


def _dedupe_names(profiles: pd.DataFrame) -> None:
    seen: dict[str, int] = {}
    names = []
    for name in profiles["name"]:
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    profiles["name"] = names


def _summary(profiles: pd.DataFrame, means: pd.DataFrame, distances: pd.DataFrame) -> list[str]:
    if len(distances) < 2:
        return ["only one cluster"]
    d = distances.to_numpy().copy()
    names = dict(zip(profiles["cluster"], profiles["name"], strict=True))
    ids = distances.index.tolist()
    iu = np.triu_indices(len(ids), 1)
    far = int(np.argmax(d[iu]))
    near = int(np.argmin(d[iu]))
    (a, b), (c, e) = (ids[iu[0][far]], ids[iu[1][far]]), (ids[iu[0][near]], ids[iu[1][near]])
    return [
        f"Most different: cluster {a} “{names[a]}” and cluster {b} “{names[b]}” (distance {d[iu][far]:.2f}); "
        f"they differ most in {_difference_words(means.loc[a], means.loc[b])}.",
        f"Most similar: cluster {c} “{names[c]}” and cluster {e} “{names[e]}” (distance {d[iu][near]:.2f}); "
        f"closest differences in {_difference_words(means.loc[c], means.loc[e])}.",
    ]
