"""Personalised mixes: a listener's tastes (clusters of their own tracks) filled with new tracks by a recommender."""
