"""Fitted feature transformer: canonical `tracks` → float32 matrix, saved and reused for new tracks.

Built from scikit-learn pieces (ColumnTransformer, scalers, OneHotEncoder) so it pickles with joblib and
`transform` on unseen tracks applies exactly the training statistics.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import (
    FunctionTransformer,
    OneHotEncoder,
    QuantileTransformer,
    RobustScaler,
    StandardScaler,
)

from src.data.errors import DataError
from src.data.schema import AUDIO_FEATURES
from src.utils.io import atomic_path

EXTRA_COLUMNS = ("release_year", "decade", "popularity", "log_duration")
SCALERS = {"standard", "robust", "quantile"}
KEY_ENCODINGS = {"numeric", "cyclic", "onehot"}


@dataclass
class FeatureConfig:
    """Which columns become features and how they are encoded.

    Args:
        columns: audio-feature columns (the 12 Spotify features by default).
        extra: optional dimensions: `release_year`, `decade`, `popularity`, `log_duration`.
        scaling: `standard` (z-score, default), `robust` (median/IQR) or `quantile` (→ normal).
        key_encoding: `numeric` (pitch class scaled like any number; matches the reference baseline),
            `cyclic` (sin/cos on the circle of fifths' pitch circle) or `onehot` (12 indicator columns).
    """

    columns: Sequence[str] = field(default_factory=lambda: list(AUDIO_FEATURES))
    extra: Sequence[str] = field(default_factory=list)
    scaling: str = "standard"
    key_encoding: str = "numeric"


def _scaler(name: str):
    if name == "standard":
        return StandardScaler()
    if name == "robust":
        return RobustScaler()
    if name == "quantile":
        return QuantileTransformer(output_distribution="normal", n_quantiles=1000, random_state=0)
    raise DataError(f"unknown scaling {name!r}: choose one of {sorted(SCALERS)}")


def _cyclic_key(values: np.ndarray) -> np.ndarray:
    angle = 2.0 * np.pi * np.asarray(values, dtype=np.float64) / 12.0
    return np.column_stack([np.sin(angle[:, 0]), np.cos(angle[:, 0])])


def _cyclic_names(_transformer, _names) -> list[str]:
    return ["key_sin", "key_cos"]


def _onehot_name(feature: str, category: object) -> str:
    try:
        return f"{feature}_{int(float(category))}"
    except (TypeError, ValueError):
        return f"{feature}_{category}"


def _derived(tracks: pd.DataFrame) -> pd.DataFrame:
    """Add the optional derived columns (decade, log duration) next to the canonical ones."""
    out = tracks.copy()
    year = pd.to_numeric(out.get("release_year"), errors="coerce") if "release_year" in out else np.nan
    out["decade"] = np.floor(year / 10.0) * 10.0
    if "duration_ms" in out:
        out["log_duration"] = np.log(pd.to_numeric(out["duration_ms"], errors="coerce").clip(lower=1.0))
    return out


class FeatureTransformer:
    """Fit on training tracks, transform any tracks (with the same columns) to a float32 matrix."""

    def __init__(self, config: FeatureConfig | None = None, **kwargs) -> None:
        self.config = config or FeatureConfig(**kwargs)
        unknown = [c for c in self.config.extra if c not in EXTRA_COLUMNS]
        if unknown:
            raise DataError(f"unknown extra feature(s) {unknown}; choose from {list(EXTRA_COLUMNS)}")
        if self.config.key_encoding not in KEY_ENCODINGS:
            raise DataError(f"unknown key_encoding {self.config.key_encoding!r}: use {sorted(KEY_ENCODINGS)}")
        self._pipeline: ColumnTransformer | None = None

    @property
    def input_columns(self) -> list[str]:
        return list(self.config.columns) + list(self.config.extra)

    def _build(self) -> ColumnTransformer:
        cfg = self.config
        numeric = [c for c in cfg.columns if c != "key" or cfg.key_encoding == "numeric"]
        parts: list[tuple[str, Pipeline | str, list[str]]] = [
            ("audio", make_pipeline(SimpleImputer(strategy="median"), _scaler(cfg.scaling)), numeric)
        ]
        if "key" in cfg.columns and cfg.key_encoding == "cyclic":
            cyc = FunctionTransformer(_cyclic_key, feature_names_out=_cyclic_names)
            parts.append(("key", make_pipeline(SimpleImputer(strategy="most_frequent"), cyc), ["key"]))
        elif "key" in cfg.columns and cfg.key_encoding == "onehot":
            onehot = OneHotEncoder(
                categories=[[float(k) for k in range(12)]],
                handle_unknown="ignore",
                sparse_output=False,
                feature_name_combiner=_onehot_name,
            )
            parts.append(("key", make_pipeline(SimpleImputer(strategy="most_frequent"), onehot), ["key"]))
        if cfg.extra:
            extra = make_pipeline(SimpleImputer(strategy="median"), _scaler(cfg.scaling))
            parts.append(("extra", extra, list(cfg.extra)))
        return ColumnTransformer(parts, remainder="drop", verbose_feature_names_out=False)

    def _frame(self, tracks: pd.DataFrame) -> pd.DataFrame:
        frame = _derived(tracks)
        missing = [c for c in self.input_columns if c not in frame.columns]
        if missing:
            raise DataError(f"feature column(s) {missing} not in the tracks table")
        frame = frame[self.input_columns].apply(pd.to_numeric, errors="coerce").astype("float64")
        if "key" in frame:
            frame["key"] = frame["key"].round()
        return frame

    def fit(self, tracks: pd.DataFrame) -> FeatureTransformer:
        frame = self._frame(tracks)
        empty = [c for c in frame.columns if frame[c].isna().all()]
        if empty:
            raise DataError(f"feature column(s) {empty} have no values; drop them from features.extra")
        self._pipeline = self._build().fit(frame)
        return self

    def transform(self, tracks: pd.DataFrame) -> np.ndarray:
        if self._pipeline is None:
            raise RuntimeError("FeatureTransformer.transform called before fit")
        return np.ascontiguousarray(self._pipeline.transform(self._frame(tracks)), dtype=np.float32)

    def fit_transform(self, tracks: pd.DataFrame) -> np.ndarray:
        return self.fit(tracks).transform(tracks)

    @property
    def feature_names(self) -> list[str]:
        if self._pipeline is None:
            raise RuntimeError("not fitted")
        return [str(n) for n in self._pipeline.get_feature_names_out()]

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        with atomic_path(path) as tmp:
            joblib.dump(self, tmp)
        return path

    @staticmethod
    def load(path: str | Path) -> FeatureTransformer:
        obj = joblib.load(path)
        if not isinstance(obj, FeatureTransformer):
            raise DataError(f"{path}: not a saved FeatureTransformer")
        return obj


def fit_features(tracks: pd.DataFrame, **config) -> tuple[FeatureTransformer, np.ndarray]:
    """Fit a transformer on `tracks` and return it with the transformed matrix."""
    transformer = FeatureTransformer(FeatureConfig(**config))
    return transformer, transformer.fit_transform(tracks)
