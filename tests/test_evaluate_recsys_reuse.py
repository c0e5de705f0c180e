"""The evaluation hands a re-ranker what the same seed already learned for identically configured retrievers."""

from __future__ import annotations

from omegaconf import OmegaConf

from src.recsys import PopularityRecommender
from src.recsys.knn import ItemKNNCFRecommender
from src.recsys.rerank import RerankedRecommender
from src.tasks.evaluate_recsys import reuse_fitted


class Trained(PopularityRecommender):
    uses_validation = True  # stands for a two-tower trained on (train, validation)


def test_reuse_whole_models_and_validation_chosen_settings():
    recommenders = OmegaConf.create(
        {
            "pop": {"_target_": "x.Pop"},
            "knn": {"_target_": "x.Knn", "shrink": 10.0, "grid": {"shrink": [0.0, 10.0]}},
            "other": {"_target_": "x.Other"},
        }
    )
    hybrid_cfg = OmegaConf.create(
        {
            "retrievers": {
                "pop": {"_target_": "x.Pop"},
                "knn": recommenders.knn,
                "other": {"_target_": "x.Diff"},
            }
        }
    )
    trained = Trained()
    tuned = ItemKNNCFRecommender(shrink=10.0, grid=None)
    tuned.best_params = {"shrink": 0.0}
    fresh_knn = ItemKNNCFRecommender(shrink=10.0, grid={"shrink": [0.0, 10.0]})
    model = RerankedRecommender(
        {"pop": PopularityRecommender(), "knn": fresh_knn, "other": PopularityRecommender()}
    )
    reuse_fitted(model, hybrid_cfg, recommenders, {"pop": trained, "knn": tuned, "other": Trained()})
    assert model.retrievers["pop"] is trained and model.prefitted == ("pop",)
    assert model.retrievers["knn"] is fresh_knn and fresh_knn.shrink == 0.0 and fresh_knn.grid is None
    assert not isinstance(model.retrievers["other"], Trained)  # configured differently: left alone
