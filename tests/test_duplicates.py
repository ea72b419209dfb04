"""Near-identical passages: found from the neighbour graph, counted, flagged, collapsible."""

from __future__ import annotations

import numpy as np
import pytest

import cube
from cube.reductions import near_duplicates, near_duplicates_note


def test_groups_chain_and_topics_made_of_copies_are_flagged():
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(300, 24)).astype(np.float32)
    vectors[100:140] = vectors[99] + rng.normal(scale=0.002, size=(40, 24))  # one template
    vectors[7] = vectors[3]
    copies = near_duplicates(vectors)
    assert copies.n_copies == 41 and copies.n_groups == 2
    assert copies.group[7] == 3 and (copies.group[99:140] == 99).all()
    assert copies.keep.sum() == 300 - 41
    labels = np.zeros(300, int)
    labels[95:140] = 1  # topic 1: 41 copies of 45 passages
    labels[:3] = -1
    assert copies.mostly_copies(labels) == {1: pytest.approx(41 / 45)}
    summary = copies.summary(labels, collapsed=False)
    assert summary["topics_mostly_copies"] == {"1": round(41 / 45, 3)}
    assert near_duplicates_note(summary) == (
        "41 passages copy another (cosine >= 0.98, 2 groups), kept (--dedupe models one of "
        "each); topics mostly copies of one another: 1 (91%)"
    )
    assert near_duplicates(vectors, threshold=1.0).n_copies == 1  # only the exact copy
    one = {"threshold": 0.98, "copies": 1, "groups": 1, "collapsed": False}
    assert near_duplicates_note(one).startswith(
        "1 passage copies another (cosine >= 0.98, 1 group)"
    )
    with pytest.raises(cube.InputError, match="threshold"):
        near_duplicates(vectors, threshold=0)


@pytest.mark.model
def test_real_copies_are_found_and_different_passages_are_not(passages):
    texts = passages[:200]
    edited = [texts[5].upper(), "  " + texts[5] + "  ", texts[9].replace(".", "!")]
    copies = near_duplicates(cube.embed(texts + edited))
    groups = copies.group[200:]
    assert groups[0] == groups[1] == 5 and groups[2] == 9
    assert copies.n_copies == 3, "distinct passages of the corpus are not near-duplicates"
