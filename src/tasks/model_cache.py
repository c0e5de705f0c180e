"""Fitted recommenders kept on disk between evaluation runs, keyed by everything that decides the fit.

A sweep over mix settings (or any setting downstream of the fit) refits the same recommender on the same split
every time; with `model_cache=DIR` the first run saves it and the others load it. The key hashes the data
config, the recommender's config, the split seed and the part (test / val view), so changing any of them fits
anew; code changes are not in the key — clear the directory after changing a recommender.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from src.recsys.base import Recommender

log = logging.getLogger(__name__)


def cache_key(**parts: Any) -> str:
    """A short stable hash of JSON-able parts (configs as plain containers)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def cached_fit(
    directory: str | Path | None, name: str, key: str, fit: Callable[[], Recommender]
) -> Recommender:
    """`fit()`'s recommender, loaded from `directory/name-key.joblib` when there, else fitted and saved
    atomically; no directory → always fitted."""
    if not directory:
        return fit()
    import joblib

    path = Path(directory) / f"{name}-{key}.joblib"
    if path.is_file():
        log.info("model cache: loading %s", path)
        return joblib.load(path)
    model = fit()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)
    log.info("model cache: saved %s", path)
    return model
