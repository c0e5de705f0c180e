"""What every `metrics.json` key means, in one place: group, readable label, one-line meaning, in-sample flag.

The report's headline cards and grouped metric tables read this registry and nothing else, so a new metric
gets its words here (next to its definition in docs/evaluation.md) and never in a template. A key that no
pattern matches still shows, in the "other" group, under its raw name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Groups in page order, each with the sentence printed under its heading.
GROUPS: dict[str, tuple[str, str]] = {
    "run": ("What was run", "Sizes of the run: tracks, clusters and playlists."),
    "quality": (
        "Cluster quality",
        "How compact, separated and repeatable the clusters are in the clustered space; no labels or playlists "
        "are used, so these are never in-sample.",
    ),
    "labels": (
        "Agreement with labels",
        "How well clusters line up with the playlist-derived genre labels (0 = no relation, 1 = identical). "
        "Over all tracks these are in-sample for an embedding that learned from playlists; the cold-track "
        "versions are held out.",
    ),
    "lift": (
        "Playlist lift",
        "How many times more often two tracks of one playlist share a cluster than two random tracks "
        "(1 = chance). The held-out version counts only pairs with a track the embedding never saw in a "
        "playlist.",
    ),
    "ordering": (
        "Playlist ordering",
        "Mean step between consecutive tracks before and after ordering for listening (smaller is smoother), "
        "and how well playlists keep to their length and to one version per song.",
    ),
    "recsys": (
        "Recommendation",
        "Playlist continuation on the held-out test tracks: hidden tracks found in the top K recommendations.",
    ),
    "training": ("Training", "Final logged values of the models trained for the embedding."),
    "compared": (
        "Embeddings compared",
        "The same scores for the other embeddings of evaluation.compare_embeddings, one prefix per embedding.",
    ),
    "other": ("Other", "Keys the report has no description for yet; see docs/evaluation.md."),
}


@dataclass(frozen=True)
class MetricInfo:
    """How the report names and explains one metric key."""

    key: str
    group: str
    label: str
    meaning: str
    in_sample: bool = False  # partly in-sample when the embedding learned from playlist membership
    higher_is_better: bool | None = None
    held_out: bool = False  # measured on what no model saw (test pairs, cold tracks)
    unit: str = ""  # printed after the value, e.g. "×" for a lift

    def badge(self, learned_from_playlists: bool) -> str | None:
        """The tag next to the number: in-sample (only when the embedding saw playlists), held-out, label-free."""
        if self.in_sample and learned_from_playlists:
            return "in-sample"
        if self.held_out:
            return "held-out"
        return "label-free" if self.group == "quality" else None


@dataclass(frozen=True)
class _Rule:
    pattern: str  # a regular expression matched against the whole key; named groups fill label/meaning
    group: str
    label: str
    meaning: str
    in_sample: bool = False
    higher_is_better: bool | None = None
    held_out: bool = False
    unit: str = ""


_K = r"(?P<k>\d+)"
_LABEL = r"(?P<label>[a-z0-9_]+?)"

# First match wins, so specific patterns come before general ones.
_RULES: tuple[_Rule, ...] = (
    _Rule("k", "run", "clusters (k)", "number of clusters of the final k-means"),
    _Rule("n_tracks", "run", "tracks clustered", "tracks in the catalogue after cleaning"),
    _Rule(
        "n_subclusters", "run", "sub-clusters", "distinct (cluster, sub-cluster) groups after reclustering"
    ),
    _Rule("n_playlists", "run", "playlists made", "cluster, sub-cluster and “more like this” playlists"),
    _Rule(
        "inertia",
        "quality",
        "inertia",
        "within-cluster sum of squared distances (depends on scale; compare at equal k)",
        higher_is_better=False,
    ),
    _Rule(
        rf"silhouette(@k{_K})?",
        "quality",
        "silhouette{at}",
        "how much closer tracks are to their own cluster than to the next one (−1…1) on a sample",
        higher_is_better=True,
    ),
    _Rule(
        "davies_bouldin",
        "quality",
        "Davies–Bouldin index",
        "average similarity of each cluster to its most similar one; lower is better",
        higher_is_better=False,
    ),
    _Rule(
        "calinski_harabasz",
        "quality",
        "Calinski–Harabasz index",
        "between-cluster over within-cluster dispersion; higher is better",
        higher_is_better=True,
    ),
    _Rule(
        rf"stability_ari(@k{_K})?",
        "quality",
        "stability (ARI over seeds){at}",
        "agreement between k-means runs with different seeds (1 = always the same clusters)",
        higher_is_better=True,
    ),
    _Rule(
        rf"(?P<m>nmi|ari)_{_LABEL}_cold@k{_K}",
        "labels",
        "{M} with {label}, cold tracks, k={k}",
        "agreement with {label} over tracks in no training playlist (placed from content alone)",
        higher_is_better=True,
        held_out=True,
    ),
    _Rule(
        rf"(?P<m>nmi|ari)_{_LABEL}@k{_K}",
        "labels",
        "{M} with {label}, k={k}",
        "agreement with {label} for a separate k-means at the fixed k={k}, comparable across runs",
        in_sample=True,
        higher_is_better=True,
    ),
    _Rule(
        rf"(?P<m>nmi|ari)_{_LABEL}",
        "labels",
        "{M} with {label}",
        "agreement between cluster ids and {label} at the final k (0 = unrelated, 1 = identical)",
        in_sample=True,
        higher_is_better=True,
    ),
    _Rule(
        rf"heldout_lift(@{_K})?",
        "lift",
        "held-out playlist lift{at}",
        "pairs from one playlist with a held-out test track share a cluster this many times as often as "
        "random pairs",
        higher_is_better=True,
        held_out=True,
        unit="×",
    ),
    _Rule(
        rf"coplaylist_lift(@{_K})?",
        "lift",
        "co-playlist lift{at}",
        "two tracks of one playlist share a cluster this many times as often as two random tracks (1 = chance)",
        in_sample=True,
        higher_is_better=True,
        unit="×",
    ),
    _Rule(
        rf"val_lift(@{_K})?",
        "lift",
        "validation playlist lift{at}",
        "the same ratio on validation pairs only: what settings are chosen on (reads no test row)",
        higher_is_better=True,
        unit="×",
    ),
    _Rule(
        r"transition_tempo_bpm_(?P<when>before|after)",
        "ordering",
        "tempo step, {when} ordering",
        "mean tempo change between consecutive tracks (BPM)",
        higher_is_better=False,
    ),
    _Rule(
        r"transition_camelot_(?P<when>before|after)",
        "ordering",
        "key step, {when} ordering",
        "mean distance between consecutive keys on the Camelot wheel",
        higher_is_better=False,
    ),
    _Rule(
        r"transition_energy_(?P<when>before|after)",
        "ordering",
        "energy step, {when} ordering",
        "mean change in energy (0…1) between consecutive tracks",
        higher_is_better=False,
    ),
    _Rule(
        "duration_error",
        "ordering",
        "duration error",
        "mean |length − target| ÷ target over the duration-targeted playlists",
        higher_is_better=False,
    ),
    _Rule(
        "duplicate_song_rate",
        "ordering",
        "repeated songs",
        "share of playlist slots holding a song (another version of it) already earlier in the same playlist",
        higher_is_better=False,
    ),
    _Rule(
        r"recall@(?P<n>\d+)(?P<cold>_cold)?",
        "recsys",
        "recall@{n}{cold_words}",
        "share of a playlist's hidden test tracks found among the first {n} recommendations",
        higher_is_better=True,
        held_out=True,
    ),
    _Rule(
        r"r_precision(?P<cold>_cold)?",
        "recsys",
        "R-precision{cold_words}",
        "test tracks found in the top |test| recommendations ÷ |test|",
        higher_is_better=True,
        held_out=True,
    ),
    _Rule(
        r"ndcg@(?P<n>\d+)(?P<cold>_cold)?",
        "recsys",
        "NDCG@{n}{cold_words}",
        "rank-weighted hits in the top {n} (1 = every hidden track at the very top)",
        higher_is_better=True,
        held_out=True,
    ),
    _Rule("cold_share", "recsys", "cold share", "share of test tracks in no training playlist"),
    _Rule(
        r"(?P<model>[^/]+)/(?P<what>(train|val)/[^/]+|epochs|train_seconds|samples_per_second)",
        "training",
        "{model}: {what}",
        "logged by the trainer of the {model} model (val/loss: the kept checkpoint's value)",
    ),
    _Rule(
        r"(?P<model>[^/]+)/dim", "compared", "{model}: dimensions", "size of the {model} embedding vectors"
    ),
)

_COMPILED = tuple((re.compile(rule.pattern), rule) for rule in _RULES)


def _fields(match: re.Match[str]) -> dict[str, str]:
    d = {name: value or "" for name, value in match.groupdict().items()}
    d["M"] = d.get("m", "").upper()
    d["at"] = f" at k={d['k']}" if d.get("k") else ""
    d["cold_words"] = ", cold test tracks" if d.get("cold") else ""
    d.setdefault("label", "")
    return d


def describe(key: str) -> MetricInfo:
    """The registry entry for `key`; `<embedding>/<metric>` keys of the comparison get the metric's words."""
    for regex, rule in _COMPILED:
        match = regex.fullmatch(key)
        if match:
            f = _fields(match)
            return MetricInfo(
                key,
                rule.group,
                rule.label.format(**f),
                rule.meaning.format(**f),
                rule.in_sample,
                rule.higher_is_better,
                rule.held_out,
                rule.unit,
            )
    prefix, _, rest = key.partition("/")
    if rest:
        inner = describe(rest)
        if inner.group != "other":
            return MetricInfo(
                key,
                "recsys" if inner.group == "recsys" else "compared",
                f"{prefix}: {inner.label}",
                inner.meaning,
                inner.in_sample,
                inner.higher_is_better,
                inner.held_out,
                inner.unit,
            )
    return MetricInfo(key, "other", key, "")


def _reading_order(key: str) -> tuple:
    """Within a group: prefix, the final-k value before fixed-k ones (by k), all tracks before cold, NMI
    before ARI, before-ordering before after-ordering."""
    k = re.search(r"@k?(\d+)", key)
    return (
        key.count("/"),
        key.split("/")[0] if "/" in key else "",
        k is not None,
        int(k.group(1)) if k else 0,
        "_cold" in key,
        key.startswith("ari_"),
        key.replace("_before", "_0").replace("_after", "_1"),
    )


def group_metrics(keys: list[str]) -> dict[str, list[MetricInfo]]:
    """Keys by group in page order (empty groups left out), in reading order within a group."""
    out: dict[str, list[MetricInfo]] = {g: [] for g in GROUPS}
    for key in sorted(keys, key=_reading_order):
        info = describe(key)
        out[info.group].append(info)
    return {g: infos for g, infos in out.items() if infos}
