"""What an embedding learned from, read from its config: an embedding trained on playlist membership (the two-tower
model, alone or inside the hybrid) has in-sample label metrics (docs/evaluation.md "In-sample and held-out")."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Embedders whose vectors depend on which tracks sit in which (training) playlist.
INTERACTION_EMBEDDERS = ("src.tasks.embed.two_tower.TwoTowerEmbedding",)


def learned_from_playlists(config: Any) -> bool:
    """True when the embedding config, or any config nested in it (e.g. `hybrid.two_tower`), is an interaction
    embedder. `config` is a plain dict/list tree (a run's saved `embedding:` node or `OmegaConf.to_container`)."""
    if isinstance(config, Mapping):
        if str(config.get("_target_", "")) in INTERACTION_EMBEDDERS:
            return True
        return any(learned_from_playlists(v) for v in config.values())
    if isinstance(config, list | tuple):
        return any(learned_from_playlists(v) for v in config)
    return False
