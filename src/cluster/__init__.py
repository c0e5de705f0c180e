"""Clustering: k-means engines, choosing k, reclustering and interpretation."""

from src.cluster.choose_k import KChoice, choose_k
from src.cluster.interpret import Interpretation, interpret_clusters
from src.cluster.kmeans import KMeansResult, available_engines, fit_kmeans
from src.cluster.recluster import recluster

__all__ = [
    "Interpretation",
    "KChoice",
    "KMeansResult",
    "available_engines",
    "choose_k",
    "fit_kmeans",
    "interpret_clusters",
    "recluster",
]
