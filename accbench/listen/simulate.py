"""Simulated listeners: answers files for a study, drawn from a Bradley-Terry model, to rehearse the analysis.

Each simulated participant answers every trial of the study: a comparison of systems ``i`` and ``j`` picks
``i`` with probability ``1 / (1 + exp(theta_j - theta_i))``; an attention check is passed unless the
participant lapses (probability ``lapse`` per check); ratings are the rounded, clipped ``3 + theta`` plus
noise. The files have the format of the page's download, so ``listen analyze`` reads them unchanged.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from accbench.atomic import atomic_write_text
from accbench.errors import ConfigError
from accbench.listen.site import ANSWERS_FORMAT

__all__ = ["simulate_answers", "write_simulated"]


def _rating(theta: float, rng: np.random.Generator) -> int:
    return int(np.clip(np.rint(3.0 + theta + rng.normal(0.0, 0.7)), 1, 5))


def simulate_answers(
    design: Mapping[str, Any],
    strengths: Mapping[str, float],
    *,
    participants: int = 24,
    seed: int = 0,
    lapse: float = 0.0,
) -> list[dict[str, Any]]:
    """One answers document (the page's download format) per simulated participant.

    Parameters
    ----------
    design : mapping
        ``study.json`` of the study.
    strengths : mapping
        Bradley-Terry log-strength of each system label (natural log).
    participants : int
    seed : int
    lapse : float
        Probability of failing each attention check, in [0, 1].

    Returns
    -------
    documents : list of dict
        Participant ids ``sim-001``, ``sim-002``, ...
    """
    labels = [s["label"] for s in design["systems"]]
    missing = [label for label in labels if label not in strengths]
    if missing:
        raise ConfigError(f"no simulated strength for system(s) {', '.join(missing)}")
    rng = np.random.default_rng(seed)
    documents = []
    for number in range(1, participants + 1):
        participant = f"sim-{number:03d}"
        answers = []
        for trial in design["trials"]:
            if trial["check"]:
                right = trial["expected"]
                choice = right if rng.random() >= lapse else ("B" if right == "A" else "A")
                theta_a = theta_b = 0.0
            else:
                theta_a, theta_b = float(strengths[trial["a"]]), float(strengths[trial["b"]])
                choice = "A" if rng.random() < 1.0 / (1.0 + np.exp(theta_b - theta_a)) else "B"
            answers.append(
                {
                    "study": design["study_id"],
                    "participant": participant,
                    "trial": trial["id"],
                    "choice": choice,
                    "coherence_a": _rating(theta_a, rng),
                    "coherence_b": _rating(theta_b, rng),
                    "quality_a": None,
                    "quality_b": None,
                    "plays_a": 1,
                    "plays_b": 1,
                    "seconds": float(np.round(rng.uniform(15, 40), 1)),
                    "answered_at": None,
                }
            )
        documents.append(
            {
                "format": ANSWERS_FORMAT,
                "version": 1,
                "study": design["study_id"],
                "participant": participant,
                "answers": answers,
            }
        )
    return documents


def write_simulated(documents: list[dict[str, Any]], out: str | os.PathLike) -> list[Path]:
    """Write each document as ``<out>/answers-<participant>.json``; returns the paths."""
    paths = []
    for document in documents:
        path = Path(out) / f"answers-{document['participant']}.json"
        atomic_write_text(path, json.dumps(document, indent=1) + "\n")
        paths.append(path)
    return paths
