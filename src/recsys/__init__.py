"""Recommenders behind one small interface (`fit`, `recommend_batch`, `score_items`, `recommend`)."""

from src.recsys.als import ALSRecommender
from src.recsys.base import Recommender
from src.recsys.baselines import ItemKNNRecommender, PopularityRecommender, RandomRecommender
from src.recsys.ease import EASERecommender
from src.recsys.heuristic import HeuristicRecommender
from src.recsys.knn import ItemKNNCFRecommender
from src.recsys.rp3beta import RP3betaRecommender

__all__ = [
    "ALSRecommender",
    "EASERecommender",
    "ItemKNNCFRecommender",
    "RP3betaRecommender",
    "HeuristicRecommender",
    "ItemKNNRecommender",
    "PopularityRecommender",
    "RandomRecommender",
    "Recommender",
]
