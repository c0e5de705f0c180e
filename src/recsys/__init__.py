"""Recommenders behind one small interface (`fit`, `score`, `recommend`, `similar_items`)."""

from src.recsys.als import ALSRecommender
from src.recsys.base import Recommender
from src.recsys.baselines import ItemKNNRecommender, PopularityRecommender, RandomRecommender
from src.recsys.heuristic import HeuristicRecommender

__all__ = [
    "ALSRecommender",
    "HeuristicRecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "RandomRecommender",
    "Recommender",
]
