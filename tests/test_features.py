"""Feature transformer: scaling properties, key encodings, persistence and reuse on new tracks."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from conftest import synthetic_tracks
from src.data.errors import DataError
from src.data.features import FeatureConfig, FeatureTransformer, fit_features
from src.data.schema import AUDIO_FEATURES
from src.data.sources import CsvSource


@pytest.fixture
def tracks(synthetic_csv) -> pd.DataFrame:
    return CsvSource(path=str(synthetic_csv)).load().tracks


def test_standard_scaling_is_zscore(tracks):
    transformer, X = fit_features(tracks)
    assert X.dtype == np.float32 and X.shape == (len(tracks), 12)
    assert np.allclose(X.mean(axis=0), 0, atol=1e-5)
    assert np.allclose(X.std(axis=0), 1, atol=1e-3)
    assert transformer.feature_names == list(AUDIO_FEATURES)


@pytest.mark.parametrize(("encoding", "dims", "name"), [("cyclic", 13, "key_sin"), ("onehot", 23, "key_0")])
def test_key_encodings(tracks, encoding, dims, name):
    transformer, X = fit_features(tracks, key_encoding=encoding)
    assert X.shape[1] == dims
    assert name in transformer.feature_names
    if encoding == "onehot":
        block = X[:, [i for i, n in enumerate(transformer.feature_names) if n.startswith("key_")]]
        assert np.array_equal(block.sum(axis=1), np.ones(len(X)))
    else:
        sin = X[:, transformer.feature_names.index("key_sin")]
        cos = X[:, transformer.feature_names.index("key_cos")]
        assert np.allclose(sin**2 + cos**2, 1, atol=1e-5)


@pytest.mark.parametrize("scaling", ["robust", "quantile"])
def test_other_scalers(tracks, scaling):
    _, X = fit_features(tracks, scaling=scaling)
    assert np.isfinite(X).all()


def test_extra_dimensions(tracks):
    transformer, X = fit_features(tracks, extra=["release_year", "decade", "popularity", "log_duration"])
    assert X.shape[1] == 16
    assert transformer.feature_names[-4:] == ["release_year", "decade", "popularity", "log_duration"]


def test_unknown_options_rejected():
    with pytest.raises(DataError, match="unknown extra"):
        FeatureTransformer(FeatureConfig(extra=["mood"]))
    with pytest.raises(DataError, match="key_encoding"):
        FeatureTransformer(FeatureConfig(key_encoding="spiral"))


def test_saved_transformer_reused_for_new_tracks(tmp_path, tracks):
    transformer, X = fit_features(tracks, extra=["release_year"])
    path = transformer.save(tmp_path / "features.joblib")
    loaded = FeatureTransformer.load(path)
    assert np.array_equal(loaded.transform(tracks), X)
    new = synthetic_tracks(5, seed=9).rename(columns={"track_album_release_date": "release_year"})
    new["release_year"] = 2001
    out = loaded.transform(new)
    assert out.shape == (5, X.shape[1])
    # statistics come from the training tracks, not the new ones
    expected = (new["danceability"] - tracks["danceability"].mean()) / tracks["danceability"].std(ddof=0)
    assert np.allclose(out[:, 0], expected, atol=1e-4)


@settings(max_examples=40, deadline=None)
@given(
    arrays(
        np.float64,
        st.tuples(st.integers(5, 40), st.just(12)),
        elements=st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False),
    ),
    st.floats(0.1, 100),
    st.floats(-50, 50),
)
def test_standard_scaling_is_affine_invariant(values, scale, shift):
    """z-scores do not change when every feature is scaled by a positive factor and shifted."""
    frame = pd.DataFrame(values, columns=list(AUDIO_FEATURES))
    frame["key"] = np.abs(frame["key"]).round() % 12
    moved = frame.copy()
    cont = [c for c in AUDIO_FEATURES if c != "key"]
    moved[cont] = moved[cont] * scale + shift
    a = FeatureTransformer().fit_transform(frame)
    b = FeatureTransformer().fit_transform(moved)
    stable = [i for i, c in enumerate(AUDIO_FEATURES) if c == "key" or frame[c].std() * scale > 1e-3]
    assert np.allclose(a[:, stable], b[:, stable], atol=2e-2)
    assert np.isfinite(b).all()
