"""Playlist-affinity space: softmax/Hellinger properties, SVD reduction, score matrix guards, config checks."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from src.cluster.kmeans import fit_kmeans
from src.data.errors import DataError
from src.embeddings.affinity import affinity_vectors, hellinger_rows, playlist_scores, softmax_rows
from src.tasks.embed.two_tower import TwoTowerEmbedding

scores_strategy = arrays(
    np.float32,
    st.tuples(st.integers(1, 20), st.integers(2, 12)),
    elements=st.floats(-1, 1, allow_nan=False, width=32),
)


@settings(max_examples=60, deadline=None)
@given(scores=scores_strategy, temperature=st.floats(0.01, 2.0), shift=st.floats(-5, 5))
def test_softmax_rows_are_distributions_invariant_to_row_shifts(scores, temperature, shift):
    p = softmax_rows(scores, temperature)
    assert p.shape == scores.shape and np.all(p >= 0)
    assert np.allclose(p.sum(axis=1), 1.0)
    assert np.allclose(softmax_rows(scores.astype(np.float64) + shift, temperature), p, atol=1e-9)


@settings(max_examples=60, deadline=None)
@given(scores=scores_strategy, temperature=st.floats(0.01, 2.0))
def test_hellinger_rows_have_unit_length(scores, temperature):
    rows = hellinger_rows(softmax_rows(scores, temperature))
    assert np.allclose(np.linalg.norm(rows, axis=1), 1.0)


def test_temperature_must_be_positive():
    with pytest.raises(ValueError, match="temperature"):
        softmax_rows(np.zeros((2, 3)), 0.0)


def _two_communities(n: int = 60, p: int = 10, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Tracks that score high on the first or the second half of the playlists, plus noise."""
    rng = np.random.default_rng(seed)
    group = np.arange(n) % 2
    scores = rng.normal(0, 0.05, (n, p))
    scores[group == 0, : p // 2] += 0.5
    scores[group == 1, p // 2 :] += 0.5
    return scores.astype(np.float32), group


def test_affinity_vectors_separate_playlist_communities():
    scores, group = _two_communities()
    full = affinity_vectors(scores, temperature=0.05, dim=None)
    assert full.shape == (60, 10) and full.dtype == np.float32
    reduced = affinity_vectors(scores, temperature=0.05, dim=3)
    assert reduced.shape == (60, 3)
    # an orthogonal projection of unit rows: no norm grows, and most of the energy is kept
    norms = np.linalg.norm(reduced, axis=1)
    assert norms.max() <= 1 + 1e-5 and norms.mean() > 0.9
    labels = fit_kmeans(reduced, 2, engine="sklearn", seed=0).labels
    assert abs(np.corrcoef(labels, group)[0, 1]) > 0.99


def test_affinity_rejects_a_single_playlist():
    with pytest.raises(DataError, match="≥ 2 playlists"):
        affinity_vectors(np.zeros((5, 1), dtype=np.float32))


def test_playlist_scores_skip_empty_playlists_and_transpose():
    history = sp.csr_matrix(np.array([[1, 0, 0, 1], [0, 0, 0, 0], [0, 1, 1, 0]], dtype=np.float32))
    seen: list[int] = []

    def score(h: sp.csr_matrix) -> np.ndarray:
        seen.append(h.shape[0])
        return np.asarray(h.toarray() @ np.eye(4), dtype=np.float32)  # playlists × items

    out = playlist_scores(score, history)
    assert seen == [2] and out.shape == (4, 2)  # items × non-empty playlists
    assert out[0, 0] == 1 and out[1, 1] == 1 and out[0, 1] == 0


def test_playlist_scores_cap_and_minimum_are_clear_errors():
    history = sp.csr_matrix(np.eye(5, dtype=np.float32))
    with pytest.raises(DataError, match="max_playlists=3"):
        playlist_scores(lambda h: h.toarray(), history, max_playlists=3)
    with pytest.raises(DataError, match="at least 2 playlists"):
        playlist_scores(lambda h: h.toarray(), sp.csr_matrix(np.eye(1, 5, dtype=np.float32)))


def test_unknown_space_is_rejected():
    with pytest.raises(DataError, match="embedding.space"):
        TwoTowerEmbedding(space="nope")


def test_bad_affinity_settings_fail_before_training():
    with pytest.raises(DataError, match="context must be 'train' or 'known'"):
        TwoTowerEmbedding(space="affinity", affinity={"context": "test"})
    with pytest.raises(DataError, match="embedding.affinity"):
        TwoTowerEmbedding(space="affinity", affinity={"temprature": 0.1})
