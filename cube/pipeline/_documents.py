"""``documents.csv`` and ``documents.parquet``: one row per document, written a partition at a
time (a million documents never make one table in memory)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from cube.datasets import PARTITION_ROWS


def write_documents(
    folder: Path,
    columns: Mapping[str, Sequence | np.ndarray],
    *,
    rows: int = PARTITION_ROWS,
) -> int:
    """Write ``columns`` (equal lengths, in order) to ``folder/documents.csv`` and
    ``folder/documents.parquet``, ``rows`` at a time; returns how many rows were written.

    The CSV holds every value as text; in the Parquet file numbers stay numbers and any other
    column is text (a column of mixed values cannot change type between partitions).

    Example:
        >>> write_documents(out, {"row": [1, 2], "topic": [0, -1], "text": ["a", "b"]})
        2
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    lengths = {len(values) for values in columns.values()}
    if len(lengths) != 1:
        raise ValueError(f"the documents' columns differ in length: {sorted(lengths)}")
    total = lengths.pop()
    schema, writer = None, None
    with open(folder / "documents.csv", "w", encoding="utf-8", newline="") as csv:
        try:
            for start in range(0, max(total, 1), rows):
                part = pd.DataFrame(
                    {name: values[start : start + rows] for name, values in columns.items()}
                )
                part.to_csv(csv, index=False, header=start == 0)
                for name in part.columns:
                    if not pd.api.types.is_numeric_dtype(part[name]):
                        part[name] = part[name].astype("string")
                table = pa.Table.from_pandas(part, schema=schema, preserve_index=False)
                if writer is None:
                    schema = table.schema
                    writer = pq.ParquetWriter(folder / "documents.parquet", schema)
                writer.write_table(table)
        finally:
            if writer is not None:
                writer.close()
    return total


def topic_table(topic_model) -> pd.DataFrame:
    """topics.csv: one row per topic, with the name people see in the figures.

    Example:
        >>> topic_table(topic_model).columns.tolist()
        ['id', 'size', 'name', 'top_words', 'representative_documents']
    """
    from cube.figures import topic_name

    info = topic_model.get_topic_info()
    rows = []
    for _, row in info.iterrows():
        topic = int(row["Topic"])
        words = [w for w, _ in (topic_model.get_topic(topic) or []) if str(w).strip()]
        rows.append(
            {
                "id": topic,
                "size": int(row["Count"]),
                "name": topic_name(topic_model, topic),
                "top_words": ", ".join(words),
                "representative_documents": json.dumps(
                    list(row.get("Representative_Docs") or []), ensure_ascii=False
                ),
            }
        )
    return pd.DataFrame(rows)
