"""What an embedding method gets to work with (one object, so new methods need no new plumbing)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from src.data.features import FeatureTransformer
from src.data.sources import Catalog


@dataclass
class EmbedContext:
    catalog: Catalog
    features: np.ndarray
    transformer: FeatureTransformer
    run_dir: Path
    seed: int = 0
    split: pd.DataFrame | None = None  # playlist-continuation split (user_id, track_id, part), when present
    extras: dict[str, Any] = field(default_factory=dict)
