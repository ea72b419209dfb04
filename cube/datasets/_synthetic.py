"""``sotu-synthetic``: as many unique passages as a scale test needs, from the bundled speeches.

Each passage is four sentences drawn at random from the sentences of one speech's decade, so
what a topic model finds survives: each decade's words and subjects (a passage never mixes
decades), its share of the corpus (decades are drawn as often as they have passages), the
year and party columns (those of the first sentence's speech) and the passage length (four
sentences, as the bundled passages). What does not survive: the argument of a passage, since
its sentences come from different places in the decade's speeches. Texts are unique (a
repeat is drawn again: the cache would otherwise skip it) and the same for the same ``n`` and
``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cube._errors import InputError

SENTENCES_PER_PASSAGE = 4


def synthetic_passages(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` unique passages recombined from the bundled corpus's sentences, decade by decade.

    Example:
        >>> synthetic_passages(1000)["decade"].nunique()
        24
    """
    from cube.datasets._sotu import DATA_FILE, split_sentences

    if n < 1:
        raise InputError(f"n must be a positive number of passages, not {n}")
    bundled = pd.read_parquet(DATA_FILE)
    rows: list[tuple[int, str, str]] = []  # (year, party, sentence)
    for year, party, text in bundled[["year", "party", "text"]].itertuples(index=False):
        rows.extend((int(year), party, s) for s in split_sentences(text))
    sentences = pd.DataFrame(rows, columns=["year", "party", "sentence"])
    sentences["decade"] = sentences["year"] // 10 * 10
    groups = {d: g.reset_index(drop=True) for d, g in sentences.groupby("decade")}
    decades = np.array(sorted(groups))
    weights = bundled["decade"].value_counts().reindex(decades).to_numpy(float)
    rng = np.random.default_rng(seed)
    seen: set[str] = set()
    out_year, out_decade, out_party, out_text = [], [], [], []
    while len(out_text) < n:
        want = n - len(out_text)
        picks = rng.choice(len(decades), size=want, p=weights / weights.sum())
        for index in np.flatnonzero(np.bincount(picks, minlength=len(decades))):
            group = groups[decades[index]]
            count = int((picks == index).sum())
            drawn = rng.integers(0, len(group), size=(count, SENTENCES_PER_PASSAGE))
            texts = group["sentence"].to_numpy()[drawn]
            for row, first in zip(texts, drawn[:, 0], strict=True):
                text = " ".join(row)
                if text in seen:
                    continue  # drawn again in the next round
                seen.add(text)
                out_year.append(int(group.at[first, "year"]))
                out_decade.append(int(decades[index]))
                out_party.append(group.at[first, "party"])
                out_text.append(text)
    frame = pd.DataFrame(
        {"year": out_year, "decade": out_decade, "party": out_party, "text": out_text}
    )
    return frame.iloc[:n].astype({"year": "int16", "decade": "int16"})
