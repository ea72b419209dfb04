"""How the topics merge: a Ward tree over the largest topics, its merged words from term counts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from cube._errors import InputError
from cube.topics._sample import count_terms_by_topic
from cube.topics._terms import distinct_terms

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from bertopic import BERTopic

MAX_TREE_TOPICS = 100  # the tree joins at most this many topics, the largest
_PARTITION = 50_000  # documents counted at a time
_NAME_WORDS = 5  # words in a merged topic's name, as BERTopic's hierarchical_topics


def topic_tree(
    topic_model: BERTopic,
    docs: Sequence[str],
    topics: Sequence[int] | None = None,
    *,
    max_topics: int = MAX_TREE_TOPICS,
) -> pd.DataFrame:
    """How the ``max_topics`` largest topics merge: the columns of BERTopic's
    ``hierarchical_topics`` frame, one row per merge in the order they happen, ids as integers.

    The same tree as BERTopic's (Ward linkage on the cosine distances between the topics'
    c-TF-IDF rows, in optimal order), but each merged topic's words come from its documents'
    term counts, counted a partition at a time and summed
    (:func:`~cube.topics.count_terms_by_topic`): never one string of a topic's documents
    joined, and no pass over every document per merge, which took minutes with thousands of
    topics. (BERTopic strips punctuation from its joined strings, so a few merged names differ
    by a word or the order of two.) ``topics``: each document's topic (default: the model's ``topics_``). Columns:
    ``Parent_ID`` (numbered after the largest topic id), ``Parent_Name`` (words joined by
    ``_``), ``Topics`` (the leaves under it), ``Child_Left_ID``, ``Child_Left_Name``,
    ``Child_Right_ID``, ``Child_Right_Name``, ``Distance``.

    Example:
        >>> tree = cube.topics.topic_tree(topic_model, docs, max_topics=30)
        >>> len(tree)  # one row per merge
        29
    """
    import pandas as pd
    from scipy.cluster import hierarchy
    from scipy.sparse import csr_matrix
    from scipy.spatial.distance import squareform
    from sklearn.metrics.pairwise import cosine_similarity

    topics = np.asarray(topic_model.topics_ if topics is None else topics, np.int64)
    if len(topics) != len(docs):
        raise InputError(f"{len(docs)} documents but {len(topics)} topics; give one per document")
    if max_topics < 2:
        raise InputError(f"max_topics must be 2 or more, not {max_topics}")
    sizes = {int(t): int(n) for t, n in topic_model.topic_sizes_.items() if t != -1}
    leaves = sorted(sorted(sizes, key=lambda t: (-sizes[t], t))[:max_topics])  # by id
    columns = ["Parent_ID", "Parent_Name", "Topics", "Child_Left_ID", "Child_Left_Name"]
    columns += ["Child_Right_ID", "Child_Right_Name", "Distance"]
    if len(leaves) < 2:
        return pd.DataFrame(columns=columns)
    offset = topic_model._outliers  # row 0 of c_tf_idf_ is -1 when there are outliers
    vectors = topic_model.c_tf_idf_[np.asarray(leaves) + offset]
    distances = np.clip(1 - cosine_similarity(vectors), 0, None)
    np.fill_diagonal(distances, 0)
    linkage = hierarchy.linkage(squareform(distances, checks=False), "ward", optimal_ordering=True)

    def partitions():  # the documents of the tree's topics, a partition at a time
        wanted = np.isin(topics, leaves)
        for start in range(0, len(topics), _PARTITION):
            rows = np.flatnonzero(wanted[start : start + _PARTITION]) + start
            yield [docs[i] for i in rows], topics[rows]

    counts = count_terms_by_topic(topic_model, partitions()).tocsr()
    counted = sorted(int(t) for t in topic_model.topic_sizes_)  # the rows of counts
    row = {t: i for i, t in enumerate(counted)}
    vocabulary = topic_model.vectorizer_model.get_feature_names_out()
    candidates = max(int(getattr(topic_model, "top_n_words", 10)), 30)  # as BERTopic's words

    def words(members: list[int]) -> list[str]:
        summed = counts[[row[t] for t in members]].sum(axis=0)
        scores = topic_model.ctfidf_model.transform(csr_matrix(summed)).toarray().ravel()
        best = np.argsort(-scores, kind="stable")[:candidates]
        return distinct_terms([str(vocabulary[i]) for i in best if scores[i] > 0], _NAME_WORDS)

    def leaf_name(topic: int) -> str:
        return "_".join(w for w, _ in (topic_model.get_topic(topic) or [])[:_NAME_WORDS])

    first_parent = max(sizes) + 1
    members: dict[int, list[int]] = {k: [t] for k, t in enumerate(leaves)}
    ids = {k: t for k, t in enumerate(leaves)}
    names = {k: leaf_name(t) for k, t in enumerate(leaves)}
    rows = []
    for index, (left, right, distance, _) in enumerate(linkage):
        left, right, node = int(left), int(right), len(leaves) + index
        members[node] = members[left] + members[right]
        ids[node] = first_parent + index
        names[node] = "_".join(words(members[node]))
        parent = (ids[node], names[node], sorted(members[node]))
        rows.append((*parent, ids[left], names[left], ids[right], names[right], float(distance)))
    return pd.DataFrame(rows, columns=columns)
