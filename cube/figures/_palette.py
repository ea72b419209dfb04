"""One palette for every figure: the same topic has the same colour everywhere.

The :data:`MAX_COLOURED` largest topics get a colour each (ten hues a person can tell apart);
every other topic is grey, and topic -1 (passages in no topic) a lighter grey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

# D3's category10, its grey swapped for an indigo: grey means "not one of the coloured topics".
PALETTE = (
    "#1f77b4",  # blue
    "#ff7f0e",  # orange
    "#2ca02c",  # green
    "#d62728",  # red
    "#9467bd",  # purple
    "#8c564b",  # brown
    "#e377c2",  # pink
    "#393b79",  # indigo
    "#bcbd22",  # olive
    "#17becf",  # cyan
)
MAX_COLOURED = len(PALETTE)
OTHER_COLOUR = "#9a9a9a"  # topics beyond the coloured ones
OUTLIER_COLOUR = "#d4d4d4"  # topic -1


def topics_by_size(topic_model: BERTopic) -> list[int]:
    """The model's topics (not -1), largest first; equal sizes by topic id."""
    sizes = topic_sizes(topic_model)
    return sorted((t for t in sizes if t != -1), key=lambda t: (-sizes[t], t))


def topic_sizes(topic_model: BERTopic) -> dict[int, int]:
    """Passages per topic (-1 included when there are outliers)."""
    sizes = getattr(topic_model, "topic_sizes_", None)
    if not sizes:
        from collections import Counter

        sizes = Counter(int(t) for t in topic_model.topics_)
    return {int(t): int(n) for t, n in sizes.items()}


def topic_colors(topic_model: BERTopic) -> dict[int, str]:
    """topic → colour for every topic of the model (and -1): the one mapping all figures use.

    Example:
        >>> topic_colors(topic_model)[0]
        '#1f77b4'
    """
    colours = {-1: OUTLIER_COLOUR}
    for rank, topic in enumerate(topics_by_size(topic_model)):
        colours[topic] = PALETTE[rank] if rank < MAX_COLOURED else OTHER_COLOUR
    return colours
