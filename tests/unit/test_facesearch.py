"""The 1:N face index: exact nearest neighbours and threshold hits, the same as a plain loop."""

from __future__ import annotations

import numpy as np

from verification.faces import distance
from verification.facesearch import FaceIndex


def random_templates(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.normal(0.0, 0.09, size=(n, 128))


def test_nearest_finds_the_same_template_as_a_loop_over_every_row():
    rows = random_templates(2000)
    index = FaceIndex()
    index.replace(np.arange(100, 2100), rows)
    query = rows[777] + np.random.default_rng(1).normal(0.0, 0.01, 128)
    loop = sorted(range(len(rows)), key=lambda i: distance(rows[i], query))[:3]
    found = index.nearest(query, k=3)
    assert [m.identity_id for m in found] == [100 + i for i in loop]
    assert abs(found[0].distance - distance(rows[loop[0]], query)) < 1e-6


def test_within_returns_exactly_the_templates_at_or_below_the_threshold_nearest_first():
    rows = random_templates(500, seed=2)
    index = FaceIndex()
    index.replace(np.arange(500), rows)
    query = rows[3]
    expected = sorted((distance(r, query), i) for i, r in enumerate(rows) if distance(r, query) <= 1.2)
    hits = index.within(query, 1.2)
    assert [m.identity_id for m in hits] == [i for _, i in expected]
    assert hits[0].identity_id == 3 and hits[0].distance < 1e-6


def test_an_empty_index_finds_nothing():
    index = FaceIndex()
    assert len(index) == 0
    assert index.nearest(np.zeros(128)) == [] and index.within(np.zeros(128), 1.0) == []


def test_replace_refuses_a_matrix_that_does_not_match_the_ids():
    import pytest

    with pytest.raises(ValueError):
        FaceIndex().replace(np.arange(3), random_templates(2))
