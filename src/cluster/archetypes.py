"""Archetypes ("party-like", "jazz-like", …) that a reader can check against a cluster's own numbers.

A cluster's profile is the mean z-score of each audio feature over its tracks (vs the whole catalogue). An
archetype applies only when every condition of its rule holds on that profile; among the archetypes that apply,
the one whose direction is closest (cosine) to the profile wins. When none applies the cluster gets the neutral
`NO_ARCHETYPE`, never a label its numbers contradict. The table is documented in docs/interpretation.md.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

import numpy as np
import pandas as pd

NO_ARCHETYPE = "no clear archetype"

# archetype → conditions on the profile (mean z-scores); all must hold. Thresholds are in standard deviations.
ARCHETYPE_RULES: dict[str, tuple[str, ...]] = {
    "party-like": ("danceability > 0", "energy > 0", "valence > 0", "acousticness < 0"),
    "workout / intense": ("energy > 0.3", "tempo > 0", "acousticness < 0"),
    "hard / driving": ("energy > 0.3", "danceability < 0", "acousticness < 0"),
    "rap / spoken": ("speechiness > 0.5",),
    "instrumental / electronic": ("instrumentalness > 0.5", "energy > 0", "acousticness < 0"),
    "chill / ambient": ("energy < -0.3", "loudness < 0"),
    "jazz-like": ("acousticness > 0.3", "instrumentalness > 0.3", "energy < 0"),
    "acoustic ballad": ("acousticness > 0.3", "energy < -0.3", "instrumentalness < 0.3"),
    "live recording": ("liveness > 0.5",),
    "melancholic": ("valence < -0.3", "energy < 0"),
}

# Directions in z-score space, only to rank the archetypes whose rules hold (cosine with the profile).
ARCHETYPES: dict[str, dict[str, float]] = {
    "jazz-like": {"tempo": -0.5, "energy": -1.0, "acousticness": 1.0, "instrumentalness": 1.0},
    "party-like": {"tempo": 0.5, "energy": 1.0, "danceability": 1.0, "acousticness": -1.0, "valence": 1.0},
    "chill / ambient": {
        "energy": -1.0,
        "loudness": -1.0,
        "instrumentalness": 0.7,
        "tempo": -0.4,
        "valence": -0.5,
    },
    "rap / spoken": {"speechiness": 1.0, "danceability": 0.5, "instrumentalness": -0.3},
    "acoustic ballad": {"acousticness": 1.0, "energy": -0.8, "instrumentalness": -0.5, "tempo": -0.3},
    "workout / intense": {"energy": 1.0, "loudness": 1.0, "tempo": 0.7, "acousticness": -0.7},
    "hard / driving": {
        "energy": 1.0,
        "loudness": 0.7,
        "danceability": -0.7,
        "acousticness": -0.5,
        "speechiness": -0.3,
    },
    "instrumental / electronic": {"instrumentalness": 1.0, "energy": 0.6, "acousticness": -0.6},
    "live recording": {"liveness": 1.0, "speechiness": 0.3},
    "melancholic": {"valence": -1.0, "mode": -0.4, "energy": -0.4, "danceability": -0.4},
}

_OPS = {">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class Condition:
    """One readable test on a profile, e.g. `energy > 0.3`."""

    feature: str
    op: str
    threshold: float

    @classmethod
    def parse(cls, text: str) -> Condition:
        feature, op, threshold = text.split()
        if op not in _OPS:
            raise ValueError(f"condition {text!r}: the operator must be '>' or '<'")
        return cls(feature, op, float(threshold))

    def holds(self, profile: pd.Series) -> bool:
        value = profile.get(self.feature, np.nan)
        return bool(np.isfinite(value) and _OPS[self.op](value, self.threshold))

    def describe(self, profile: pd.Series) -> str:
        return f"{self.feature} {profile.get(self.feature, np.nan):+.2f} {self.op} {self.threshold:+.2f}"


RULES: dict[str, tuple[Condition, ...]] = {
    name: tuple(Condition.parse(c) for c in conditions) for name, conditions in ARCHETYPE_RULES.items()
}


def passes(archetype: str, profile: pd.Series) -> bool:
    """True when every condition of the archetype's rule holds on the profile (the neutral one always does)."""
    return archetype == NO_ARCHETYPE or all(c.holds(profile) for c in RULES[archetype])


def archetype_scores(profile: pd.Series) -> dict[str, float]:
    """Cosine between the profile and every archetype direction."""
    scores = {}
    zn = np.linalg.norm(profile.to_numpy(dtype=np.float64)) or 1.0
    for name, direction in ARCHETYPES.items():
        vec = pd.Series(0.0, index=profile.index)
        for feature, weight in direction.items():
            if feature in vec.index:
                vec[feature] = weight
        scores[name] = float(profile.dot(vec) / (zn * (np.linalg.norm(vec.to_numpy()) or 1.0)))
    return scores


def choose_archetype(profile: pd.Series) -> tuple[str, float, str]:
    """The closest archetype whose rule holds, its cosine score, and the checked conditions as text.

    With no rule holding: `NO_ARCHETYPE`, score 0 and an empty explanation.
    """
    scores = archetype_scores(profile)
    passing = [name for name in RULES if passes(name, profile)]
    if not passing:
        return NO_ARCHETYPE, 0.0, ""
    best = max(passing, key=lambda name: (scores[name], name))
    return best, scores[best], "; ".join(c.describe(profile) for c in RULES[best])
