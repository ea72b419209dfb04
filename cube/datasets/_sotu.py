"""The bundled corpus: State of the Union addresses split into passages of a few sentences.

The data file ``data/sotu-passages.parquet`` is built from the speeches by :func:`build`
(``python -m cube.datasets._sotu SPEECHES.jsonl.gz``); see ``data/PROVENANCE.md``.
"""

from __future__ import annotations

import gzip
import json
import re
import sys
from pathlib import Path

import pandas as pd

from cube._errors import InputError

DATA_FILE = Path(__file__).parent / "data" / "sotu-passages.parquet"
SENTENCES_PER_PASSAGE = 4
COLUMNS = ["year", "decade", "president", "party", "speech", "passage", "text"]

# Transcribers' notes such as "(Applause.)" or "(Laughter.)": not part of the speech.
_STAGE_NOTE = re.compile(r"\s*\((?:Applause|Laughter)[^)]{0,40}\)\.?", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
# A sentence ends at . ! or ? (maybe followed by quotes or brackets), then space and an
# upper-case letter, digit or opening quote; common abbreviations are not ends.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr st jr sr gen col capt lt gov sen rep hon rev no nos vs viz etc co inc"
    " jan feb mar apr jun jul aug sep sept oct nov dec u.s u.n d.c".split()
)
_SENTENCE_END = re.compile(r"([.!?][\"'”’)\]]*)\s+(?=[\"“‘(\[]?[A-Z0-9])")
_LAST_WORD = re.compile(r"(\S+)$")


def _is_abbreviation(before: str) -> bool:
    """True when the text before a period ends in an abbreviation or an initial."""
    match = _LAST_WORD.search(before)
    word = match.group(1).lstrip("(\"“'") if match else ""
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isupper())


def split_sentences(text: str) -> list[str]:
    """Split one paragraph into sentences, deterministically (regular expressions only).

    Example:
        >>> split_sentences("Mr. Speaker, we meet again. The union is strong!")
        ['Mr. Speaker, we meet again.', 'The union is strong!']
    """
    text = _SPACES.sub(" ", _STAGE_NOTE.sub("", text)).strip()
    if not text:
        return []
    pieces, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        if match.group(1)[0] == "." and _is_abbreviation(text[start : match.start(1)]):
            continue
        pieces.append(text[start : match.end(1)].strip())
        start = match.end()
    pieces.append(text[start:].strip())
    return [p for p in pieces if p]


def passages(text: str, size: int = SENTENCES_PER_PASSAGE) -> list[str]:
    """Group a speech's sentences into passages of ``size`` sentences (the last may be shorter)."""
    sentences = split_sentences(text)
    return [" ".join(sentences[i : i + size]) for i in range(0, len(sentences), size)]


def build(speeches: Path, out: Path = DATA_FILE) -> pd.DataFrame:
    """Build the passage table from the speeches file (JSON lines, gzipped) and write it."""
    with gzip.open(speeches, "rt", encoding="utf-8") as f:
        records = [json.loads(line) for line in f if line.strip()]
    records.sort(key=lambda r: (int(r["year"]), r["president"]))
    rows = []
    for speech_number, record in enumerate(records):
        year = int(record["year"])
        for passage_number, text in enumerate(passages(record["text"])):
            rows.append(
                {
                    "year": year,
                    "decade": year // 10 * 10,
                    "president": record["president"],
                    "party": record["party"],
                    "speech": speech_number,
                    "passage": passage_number,
                    "text": text,
                }
            )
    frame = pd.DataFrame(rows, columns=COLUMNS).astype(
        {"year": "int16", "decade": "int16", "speech": "int16", "passage": "int16"}
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(out, compression="zstd", compression_level=19, index=False)
    return frame


def load_bundled(path: Path, sample: int | None = None, seed: int = 0) -> pd.DataFrame:
    """A bundled table; ``sample`` draws that many rows at random (reproducibly by ``seed``)."""
    frame = pd.read_parquet(path)
    if sample is None or sample >= len(frame):
        return frame
    if sample < 1:
        raise InputError(f"sample must be a positive number of rows, not {sample}")
    return frame.sample(n=sample, random_state=seed).sort_index().reset_index(drop=True)


if __name__ == "__main__":  # python -m cube.datasets._sotu SPEECHES.jsonl.gz
    table = build(Path(sys.argv[1]))
    words = table["text"].str.split().str.len()
    print(f"{len(table)} passages, {words.mean():.0f} words on average -> {DATA_FILE}")
