"""Finding a topic by its words: topic numbers change from machine to machine, words do not."""

from __future__ import annotations

import numpy as np

from cube._errors import CubeError


def _matches(term: str, stems: tuple[str, ...]) -> bool:
    return any(part.startswith(stem) for part in term.split() for stem in stems)


def find_topic(topic_model, *words: str, top_words_only: bool = False) -> int:
    """The topic about ``words``: each matches the terms it starts (``"tax"``: tax, taxes).

    First by the topics' shown words (the sum of the c-TF-IDF scores of those that match); when
    no topic shows such a word, the topic in which matching terms weigh most in c-TF-IDF
    (unless ``top_words_only``). Raises :class:`cube.CubeError` naming the words tried when
    nothing matches.

    Example:
        >>> topic = cube.topics.find_topic(topic_model, "tax", "revenue")
        >>> cube.figures.topic_name(topic_model, topic)
        'tax, revenue, taxation'
    """
    stems = tuple(w.strip().lower() for w in words if w and w.strip())
    if not stems:
        raise CubeError("find_topic needs at least one word, e.g. find_topic(model, 'tax')")
    topics = sorted(set(topic_model.topics_) - {-1})
    if not topics:
        raise CubeError("this model has no topic besides -1 (not in any topic)")
    score = {t: sum(s for w, s in topic_model.get_topic(t) if _matches(w, stems)) for t in topics}
    best = max(topics, key=lambda t: score[t])
    if score[best] > 0:
        return best
    tried = ", ".join(repr(s) for s in stems)
    if not top_words_only:
        vocabulary = topic_model.vectorizer_model.get_feature_names_out()
        columns = [i for i, term in enumerate(vocabulary) if _matches(term, stems)]
        if columns:
            rows = sorted(set(topic_model.topics_))  # c_tf_idf_'s rows: -1 first if present
            weight = np.asarray(topic_model.c_tf_idf_[:, columns].sum(axis=1)).ravel()
            best = max(topics, key=lambda t: weight[rows.index(t)])
            if weight[rows.index(best)] > 0:
                return best
    where = "among the topics' words" if top_words_only else "in any topic's words"
    raise CubeError(f"no topic found for {tried}: no term starting with them {where}")
