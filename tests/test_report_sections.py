"""The report's parts without a pipeline run: metric registry, headline choice, covers, section layout."""

from __future__ import annotations

import math

import pytest
from markupsafe import Markup

from src.evaluation.clustering import in_sample_metric
from src.report.covers import cover_svg
from src.report.html import Section, render_page
from src.report.metric_registry import describe, group_metrics
from src.report.run_summary import RunSummary
from src.report.sections import headline_section, metrics_section
from src.report.sections.headline import pick_headlines

# Keys a pipeline run writes (docs/evaluation.md), with fixed k, labels and compared embeddings.
KNOWN_KEYS = [
    "k", "inertia", "n_tracks", "n_subclusters", "n_playlists", "silhouette", "davies_bouldin",
    "calinski_harabasz", "stability_ari", "nmi_genre", "ari_subgenre", "nmi_genre@k6", "ari_subgenre@k24",
    "nmi_genre_cold@k6", "ari_subgenre_cold@k24", "coplaylist_lift", "heldout_lift", "coplaylist_lift@12",
    "heldout_lift@24", "val_lift@24", "transition_tempo_bpm_before", "transition_camelot_after",
    "transition_energy_after", "duration_error", "duplicate_song_rate", "recall@10", "recall@500_cold",
    "r_precision", "ndcg@500", "ndcg@500_cold", "cold_share", "two_tower/recall@100",
    "two_tower/train_seconds", "autoencoder/val/loss", "idec/epochs", "raw/nmi_genre@k6",
    "raw/nmi_genre_cold@k6", "idec/coplaylist_lift@12", "raw/silhouette@k6", "raw/stability_ari@k6", "raw/dim",
]  # fmt: skip


@pytest.mark.parametrize("key", KNOWN_KEYS)
def test_every_known_key_is_described(key):
    info = describe(key)
    assert info.group != "other" and info.meaning and info.label


@pytest.mark.parametrize("key", [k for k in KNOWN_KEYS if "/" not in k])
def test_in_sample_flag_agrees_with_evaluation(key):
    """One definition of in-sample: the registry's flag must say what evaluation.in_sample_metric says."""
    assert describe(key).in_sample == in_sample_metric(key)


def test_cold_and_fixed_k_are_told_apart():
    assert describe("nmi_genre_cold@k6").label == "NMI with genre, cold tracks, k=6"
    assert describe("nmi_genre_cold@k6").held_out and not describe("nmi_genre@k6").held_out
    assert describe("heldout_lift@24").unit == "×"
    assert describe("raw/nmi_genre@k6").group == "compared"
    assert describe("two_tower/recall@100").group == "recsys"


def test_unknown_keys_still_show_under_other():
    groups = group_metrics(["silhouette", "brand_new_metric"])
    assert [i.key for i in groups["other"]] == ["brand_new_metric"]
    section = metrics_section({"silhouette": 0.2, "brand_new_metric": 3.5}, learned_from_playlists=False)
    assert 'data-metric="brand_new_metric"' in section.body and "Other" in section.body


def test_reading_order_within_a_group():
    keys = ["nmi_genre_cold@k6", "ari_genre", "nmi_genre@k24", "nmi_genre@k6", "nmi_genre"]
    assert [i.key for i in group_metrics(keys)["labels"]] == [
        "nmi_genre", "ari_genre", "nmi_genre@k6", "nmi_genre_cold@k6", "nmi_genre@k24",
    ]  # fmt: skip


def test_headlines_prefer_held_out_and_skip_missing_values():
    metrics = {"silhouette": 0.2, "heldout_lift": 2.1, "nmi_genre": 0.1, "stability_ari": math.nan, "k": 12}
    assert pick_headlines(metrics) == ["heldout_lift", "silhouette", "nmi_genre"]
    many = {k: 1.0 for k in KNOWN_KEYS}
    assert len(pick_headlines(many)) == 5


def _summary(learned: bool) -> RunSummary:
    return RunSummary(
        "data/x.csv", 100, 5, "two_tower" if learned else "raw", 8, learned, 4, "knee", "why", 0
    )


def test_in_sample_marked_only_when_the_embedding_saw_playlists():
    metrics = {"coplaylist_lift": 2.0, "heldout_lift": 1.5, "nmi_genre": 0.1}
    learned = headline_section("T", _summary(True), metrics).body
    audio = headline_section("T", _summary(False), metrics).body
    assert learned.count('class="badge in-sample"') == 2 and "learned from playlist membership" in learned
    assert 'class="badge in-sample"' not in audio and "held-out" in audio
    assert "chosen at the knee of the elbow" in audio and "x.csv" in audio


def test_sections_compose_in_the_order_given():
    """A new section (e.g. personalised mixes) is one Section in the list: it gets an anchor and a nav link."""
    sections = [
        headline_section("T", _summary(False), {"silhouette": 0.1}),
        Section("mixes", "Mixes", Markup("<p>for you</p>"), nav="Mixes"),
    ]
    html = render_page("T", sections)
    assert html.index('<section id="headline">') < html.index('<section id="mixes">')
    assert '<a href="#mixes">Mixes</a>' in html and "<p>for you</p>" in html


def test_cover_is_inline_svg_from_the_profile():
    calm = cover_svg({"energy": 0.3, "valence": 0.2, "acousticness": 0.9, "tempo": 80}, "a <b>", "u1")
    loud = cover_svg({"energy": 0.9, "valence": 0.8, "acousticness": 0.0, "tempo": 128}, "b", "u2")
    assert calm.startswith("<svg") and "http" not in calm and "&lt;b&gt;" in calm
    assert calm != loud and "128 BPM" in loud
    assert cover_svg({"energy": 0.9}, "b", "u2") == cover_svg({"energy": 0.9}, "b", "u2")
