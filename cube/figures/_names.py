"""Topic names made for people, and hover text that fits a screen.

Every figure, and anything else that shows a topic to a person, names it through
:func:`topic_name`: the name the user gave it (``custom_labels_`` / ``set_topic_labels``), or
its three most typical words joined by " · ". Never a ``3_`` prefix, never cut mid-word.
"""

from __future__ import annotations

import html
import re
import textwrap
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bertopic import BERTopic

OUTLIER_NAME = "not in any topic"
NAME_WORDS = 3  # words in a topic's default name
NAME_CHARS = 48  # a name longer than this is shortened, at a word boundary
HOVER_WIDTH = 60  # characters per line of hover text
HOVER_LINES = 4  # lines of a passage shown on hover
_DEFAULT_LABEL = re.compile(r"^-?\d+_")


def shorten(text: str, max_chars: int = NAME_CHARS) -> str:
    """``text`` cut to at most ``max_chars`` at a word boundary, with "…" when cut.

    A single word longer than ``max_chars`` is kept whole: a name is never cut mid-word.

    Example:
        >>> shorten("united nations · free nations · soviet union", 30)
        'united nations · free nations…'
    """
    text = " ".join(str(text).split())
    if len(text) <= max_chars:
        return text
    words = text.split(" ")
    kept = words[0]
    for word in words[1:]:
        if len(kept) + 1 + len(word) + 1 > max_chars:
            break
        kept = f"{kept} {word}"
    return kept.rstrip(" ·,;:-") + "…"


def distinct_words(phrases: list[str], n: int) -> list[str]:
    """The first ``n`` phrases that do not repeat a word of one already taken.

    "united states", "united", "government" → "united states", "government".
    """
    chosen: list[str] = []
    for phrase in phrases:
        phrase = " ".join(str(phrase).split())
        if not phrase:
            continue
        tokens = set(phrase.lower().split())
        if any(
            tokens <= set(c.lower().split()) or set(c.lower().split()) <= tokens for c in chosen
        ):
            continue
        chosen.append(phrase)
        if len(chosen) == n:
            break
    return chosen


def _custom_label(topic_model: BERTopic, topic: int) -> str | None:
    labels = getattr(topic_model, "custom_labels_", None)
    if not labels:
        return None
    if isinstance(labels, dict):  # not BERTopic's own shape, but easy to honour
        label = labels.get(topic)
    else:
        topics = sorted(set(topic_model.topics_))
        if len(labels) != len(topics):
            return None
        label = dict(zip(topics, labels, strict=True)).get(topic)
    if not label or not str(label).strip():
        return None
    label = str(label).strip()
    default = (getattr(topic_model, "topic_labels_", None) or {}).get(topic)
    if label == default:  # set_topic_labels keeps BERTopic's "3_a_b_c" for unnamed topics
        return None
    if _DEFAULT_LABEL.match(label):  # e.g. from generate_topic_labels(): "3_a_b_c"
        parts = [p for p in _DEFAULT_LABEL.sub("", label).split("_") if p]
        return " · ".join(parts) if parts else None
    return label


def topic_words(topic_model: BERTopic, topic: int) -> list[str]:
    """The topic's words (phrases), most typical first, without BERTopic's empty padding."""
    return [w for w, _ in (topic_model.get_topic(topic) or []) if str(w).strip()]


def topic_name(
    topic_model: BERTopic, topic: int, *, words: int = NAME_WORDS, max_chars: int = NAME_CHARS
) -> str:
    """A name for ``topic`` made for people.

    The name the user gave it (``topic_model.set_topic_labels``), else its ``words`` most
    typical distinct words joined by " · "; topic -1 is "not in any topic". At most
    ``max_chars`` characters, shortened at a word boundary, never with a "3_" prefix.

    Example:
        >>> topic_name(topic_model, 0)
        'united nations · free nations · soviet union'
        >>> topic_model.set_topic_labels({0: "The Cold War"})
        >>> topic_name(topic_model, 0)
        'The Cold War'
    """
    topic = int(topic)
    if topic == -1:
        return OUTLIER_NAME
    label = _custom_label(topic_model, topic)
    if label is None:
        label = (
            " · ".join(distinct_words(topic_words(topic_model, topic), words)) or f"topic {topic}"
        )
    return shorten(label, max_chars)


def wrap(text: Any, width: int = HOVER_WIDTH, lines: int = HOVER_LINES) -> list[str]:
    """``text`` as at most ``lines`` lines of at most ``width`` characters ("…" when cut)."""
    flat = " ".join(str(text).split())
    # Only the first lines matter: each takes at most width + 1 characters, so wrap a prefix
    # that ends at a space past them (a passage of thousands of words wraps in microseconds).
    cut = flat.find(" ", lines * (width + 1) + width)
    wrapped = textwrap.wrap(flat if cut == -1 else flat[:cut], width=width) or [""]
    if len(wrapped) > lines:
        wrapped = wrapped[:lines]
        last = wrapped[-1]
        wrapped[-1] = (last if len(last) < width else shorten(last, width - 1).rstrip("…")) + "…"
    return wrapped


def wrap_name(name: str, width: int, lines: int = 2) -> list[str]:
    """A topic name over at most ``lines`` lines, broken between its " · " parts when it can.

    Example:
        >>> wrap_name("constitution · slavery · union", 26)
        ['constitution · slavery', 'union']
    """
    parts = name.split(" · ")
    if len(parts) < 2 or any(len(p) > width for p in parts):
        return wrap(name, width, lines)
    out = [parts[0]]
    for part in parts[1:]:
        if len(out[-1]) + 3 + len(part) <= width:
            out[-1] = f"{out[-1]} · {part}"
        else:
            out.append(part)
    if len(out) > lines:
        return wrap(name, width, lines)
    return out


def hover(*parts: Any, width: int = HOVER_WIDTH, lines: int = HOVER_LINES) -> str:
    """Plotly hover text: each part wrapped (``lines`` lines at most), HTML-escaped, <br>-joined.

    Document text is untrusted: it is escaped, so a passage shows as the text it is.
    The first part (a title) is bold.
    """
    out: list[str] = []
    for i, part in enumerate(parts):
        if part is None or part == "":
            continue
        escaped = [html.escape(line, quote=False) for line in wrap(part, width, lines)]
        if i == 0:
            escaped = [f"<b>{line}</b>" for line in escaped]
        out.extend(escaped)
    return "<br>".join(out)
