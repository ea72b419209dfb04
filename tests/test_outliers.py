"""Corpora that would leave most texts in no topic, or all in one: the two rules against it."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from hdbscan import HDBSCAN

import cube
from cube.topics import TimedHDBSCAN
from cube.topics._components import MAX_TOPIC_SHARE
from cube.topics._model import OUTLIER_FLOOR, outlier_threshold_for


def four_groups_close_together_and_one_far(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = [(0, 0), (1.5, 0), (0, 1.5), (1.5, 1.5), (12, 12)]
    sizes = [150, 150, 150, 150, 60]
    return np.vstack(
        [rng.normal(c, 0.35, size=(n, 2)) for c, n in zip(centres, sizes, strict=True)]
    )


def test_one_topic_for_most_of_the_corpus_is_fitted_again_with_a_lower_density_bar():
    points = four_groups_close_together_and_one_far()
    plain = HDBSCAN(min_cluster_size=40).fit(points).labels_
    assert np.bincount(plain[plain >= 0]).max() / len(plain) > MAX_TOPIC_SHARE  # the defect
    clustering = TimedHDBSCAN(min_cluster_size=40).fit(points)
    assert clustering.refit_ and clustering.min_samples == 10
    labels = clustering.labels_
    assert labels.max() + 1 == 5  # the four close groups, and the far one
    assert np.bincount(labels[labels >= 0]).max() / len(labels) < MAX_TOPIC_SHARE


def test_a_clustering_without_the_defect_is_left_as_it_is():
    points = four_groups_close_together_and_one_far()[600:]  # the far group alone ...
    points = np.vstack([points, points + 30, points + 60])  # ... three times, far apart
    clustering = TimedHDBSCAN(min_cluster_size=20).fit(points)
    assert not clustering.refit_ and clustering.min_samples is None
    assert clustering.labels_.max() + 1 == 3
    chosen = TimedHDBSCAN(min_cluster_size=40, min_samples=40).fit(
        four_groups_close_together_and_one_far()
    )
    assert not chosen.refit_, "a min_samples the caller chose is kept"


def fitted_with_outliers(similarities: list[float], n_clustered: int) -> SimpleNamespace:
    """What outlier_threshold_for reads of a fitted BERTopic: labels and topic embeddings.
    Two topics along the first two axes; each outlier has the given cosine to topic 0."""
    topic_embeddings = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])  # -1, 0, 1
    labels = [0] * n_clustered + [-1] * len(similarities)
    return SimpleNamespace(
        topics_=labels, topic_embeddings_=topic_embeddings, _outliers=1
    ), np.array(
        [[1.0, 0.0, 0.0]] * n_clustered + [[s, 0.0, np.sqrt(1 - s * s)] for s in similarities]
    )


def test_the_threshold_drops_until_only_the_allowed_share_is_left():
    similarities = [0.9, 0.45, 0.42, 0.38, 0.3, 0.25]  # one outlier already joins at 0.5
    model, vectors = fitted_with_outliers(similarities, n_clustered=14)  # 20 texts
    # 10 % of 20 = 2 may stay: 4 must join, so the 4th most similar sets the threshold.
    assert outlier_threshold_for(model, vectors, 0.5, 0.10) == pytest.approx(0.38)
    assert outlier_threshold_for(model, vectors, 0.5, 0.30) == 0.5  # 6 may stay: nothing to do
    # Never below the floor: at 0 % all six would have to join, the last at 0.25.
    assert outlier_threshold_for(model, vectors, 0.5, 0.0) == pytest.approx(0.25)
    model, vectors = fitted_with_outliers([0.15, 0.1], n_clustered=8)
    assert outlier_threshold_for(model, vectors, 0.5, 0.0) == OUTLIER_FLOOR
    with pytest.raises(cube.InputError, match="max_outlier_share"):
        outlier_threshold_for(model, vectors, 0.5, 1.5)


def test_settings_refuse_a_share_outside_zero_to_one():
    with pytest.raises(cube.InputError, match="max_outlier_share must be between 0 and 1"):
        cube.topics.TopicSettings(max_outlier_share=15)
    assert cube.topics.TopicSettings(max_outlier_share=None).max_outlier_share is None


def test_the_clustering_starts_no_worker_processes():
    """hdbscan's default starts joblib processes above 16,384 points that linger (812 MB at
    the end of a million-passage run); cube's clustering computes its core distances here."""
    import psutil

    rng = np.random.default_rng(0)
    points = np.vstack([rng.normal(c, 0.3, size=(6_000, 5)) for c in (0, 3, 6)])
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    clustering = cube.topics.build(len(points)).hdbscan_model.fit(points)
    assert clustering.core_dist_n_jobs == 1  # joblib may reuse workers an earlier test started
    assert clustering.labels_.max() + 1 == 3
    started = [p for p in psutil.Process().children(recursive=True) if p.pid not in before]
    assert not started, [" ".join(p.cmdline())[:80] for p in started]
