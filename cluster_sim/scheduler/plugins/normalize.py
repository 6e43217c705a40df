"""helper.DefaultNormalizeScore."""
from __future__ import annotations

from ..framework import MAX_NODE_SCORE


def default_normalize_score(scores: list, reverse: bool, max_priority: int = MAX_NODE_SCORE) -> None:
    """Scale scores so the highest becomes ``max_priority`` (integer division, as in Go);
    ``reverse`` turns the scale around so the lowest raw score wins."""
    max_count = max(scores, default=0)
    if max_count < 0:
        max_count = 0
    if max_count == 0:
        if reverse:
            for index in range(len(scores)):
                scores[index] = max_priority
        return
    for index, score in enumerate(scores):
        score = max_priority * score // max_count
        scores[index] = max_priority - score if reverse else score
