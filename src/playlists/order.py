"""Ordering tracks for listening: small tempo, energy and key steps (Camelot wheel for key and mode)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def camelot(key: np.ndarray, mode: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Camelot number (1–12) and letter flag (1 = B/major, 0 = A/minor) for pitch classes and modes.

    Major keys: C = 8B, G = 9B, …; a minor key shares the number of its relative major (A minor = 8A).
    """
    key = np.asarray(key, dtype=np.int64) % 12
    mode = np.asarray(mode, dtype=np.int64)
    relative_major = np.where(mode == 1, key, (key + 3) % 12)
    number = ((7 * relative_major) % 12 + 7) % 12 + 1
    return number, mode


def camelot_label(key: int, mode: int) -> str:
    number, letter = camelot(np.array([key]), np.array([mode]))
    return f"{int(number[0])}{'B' if letter[0] == 1 else 'A'}"


def camelot_distance(key_a, mode_a, key_b, mode_b) -> np.ndarray:
    """Steps on the wheel: around the circle (≤ 6) plus one for switching between A and B."""
    na, la = camelot(key_a, mode_a)
    nb, lb = camelot(key_b, mode_b)
    around = np.abs(na - nb)
    return np.minimum(around, 12 - around) + (la != lb)


def _columns(tracks: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    tempo = tracks["tempo"].to_numpy(dtype=np.float64)
    energy = tracks["energy"].to_numpy(dtype=np.float64)
    key = np.nan_to_num(tracks["key"].to_numpy(dtype=np.float64)).round().astype(np.int64)
    mode = np.nan_to_num(tracks["mode"].to_numpy(dtype=np.float64)).round().astype(np.int64)
    return tempo, energy, key, mode


def transition_costs(
    tracks: pd.DataFrame, tempo_scale: float = 10.0, energy_scale: float = 0.1, key_weight: float = 1.0
) -> np.ndarray:
    """Pairwise cost of playing track j after track i (symmetric): BPM/10 + energy/0.1 + Camelot steps."""
    tempo, energy, key, mode = _columns(tracks)
    cost = np.abs(tempo[:, None] - tempo[None, :]) / tempo_scale
    cost += np.abs(energy[:, None] - energy[None, :]) / energy_scale
    cost += key_weight * camelot_distance(key[:, None], mode[:, None], key[None, :], mode[None, :])
    return cost


def transition_smoothness(tracks: pd.DataFrame) -> dict[str, float]:
    """Mean absolute tempo change (BPM) and mean Camelot distance between consecutive tracks."""
    if len(tracks) < 2:
        return {"tempo_bpm": 0.0, "camelot": 0.0, "energy": 0.0}
    tempo, energy, key, mode = _columns(tracks)
    return {
        "tempo_bpm": float(np.mean(np.abs(np.diff(tempo)))),
        "camelot": float(np.mean(camelot_distance(key[:-1], mode[:-1], key[1:], mode[1:]))),
        "energy": float(np.mean(np.abs(np.diff(energy)))),
    }


def order_playlist(tracks: pd.DataFrame, two_opt_rounds: int = 20) -> np.ndarray:
    """Row order for listening: greedy nearest neighbour from the calmest track, then 2-opt refinement.

    Starting from the lowest-energy track gives a gentle build-up; 2-opt removes crossings the greedy pass
    leaves. Deterministic for the same input.
    """
    n = len(tracks)
    if n < 3:
        return np.arange(n)
    cost = transition_costs(tracks)
    energy = tracks["energy"].to_numpy(dtype=np.float64)
    start = int(np.argmin(energy))
    order = [start]
    visited = np.zeros(n, dtype=bool)
    visited[start] = True
    for _ in range(n - 1):
        row = np.where(visited, np.inf, cost[order[-1]])
        nxt = int(np.argmin(row))
        order.append(nxt)
        visited[nxt] = True
    path = np.array(order)
    for _ in range(two_opt_rounds):
        improved = False
        for i in range(1, n - 1):
            a, b = path[i - 1], path[i]
            # gain of reversing path[i:j+1] for every j at once
            c, d = path[i + 1 :], np.append(path[i + 2 :], -1)
            before = cost[a, b] + np.where(d >= 0, cost[c, np.maximum(d, 0)], 0.0)
            after = cost[a, c] + np.where(d >= 0, cost[b, np.maximum(d, 0)], 0.0)
            gain = before - after
            j = int(np.argmax(gain))
            if gain[j] > 1e-9:
                path[i : i + j + 2] = path[i : i + j + 2][::-1]
                improved = True
        if not improved:
            break
    return path
