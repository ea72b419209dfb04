"""Greedy label placement for the maps: labels that do not overlap each other or the plot edge.

Labels are placed one by one, most important first, each at the first spot near its point
(straight on it, then ever further around it) where its box overlaps nothing placed before.
A label that finds no spot is left out rather than drawn over another.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

CHAR_WIDTH = 0.58  # average character width, as a share of the font size
LINE_HEIGHT = 1.3


@dataclass(frozen=True)
class Placed:
    index: int  # which label
    dx: float  # the label's centre, in pixels from its point (right, down positive)
    dy: float


def text_box(lines: Sequence[str], font_size: float, pad: float = 4.0) -> tuple[float, float]:
    """Width and height in pixels of a label of these lines."""
    width = max((len(line) for line in lines), default=0) * font_size * CHAR_WIDTH + 2 * pad
    return width, len(lines) * font_size * LINE_HEIGHT + 2 * pad


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def place_labels(
    points: Sequence[tuple[float, float]],
    boxes: Sequence[tuple[float, float]],
    area: tuple[float, float, float, float],
    *,
    obstacles: Sequence[tuple[float, float, float, float]] = (),
    on_point: bool = False,
    gap: float = 6.0,
    radii: Sequence[float] = (0, 12, 30, 55, 85, 120, 160, 210),
    directions: int = 16,
) -> list[Placed]:
    """Place labels in priority order (the order given); returns those that found a spot.

    Args:
        points: each label's anchor, in pixels (x right, y down).
        boxes: each label's (width, height) in pixels.
        area: (left, top, right, bottom) pixels the labels must stay inside.
        obstacles: boxes (left, top, right, bottom) no label may cover, e.g. markers.
        on_point: try straight on the point first (documents map: a label at its cluster);
            otherwise start just beside it (topics map: keep the circle visible).
    """
    taken: list[tuple[float, float, float, float]] = list(obstacles)
    placed: list[Placed] = []
    for index, ((px, py), (w, h)) in enumerate(zip(points, boxes, strict=True)):
        candidates: list[tuple[float, float]] = [(0.0, 0.0)] if on_point else []
        for radius in radii:
            if radius == 0:
                continue
            for k in range(directions):
                angle = 2 * math.pi * k / directions
                # distance from the point to the nearest edge of the box, plus the radius
                cx = math.cos(angle) * (w / 2 + gap + radius)
                cy = math.sin(angle) * (h / 2 + gap + radius)
                candidates.append((cx, cy))
        for dx, dy in candidates:
            box = (px + dx - w / 2, py + dy - h / 2, px + dx + w / 2, py + dy + h / 2)
            if box[0] < area[0] or box[1] < area[1] or box[2] > area[2] or box[3] > area[3]:
                continue
            if any(_overlaps(box, other) for other in taken):
                continue
            taken.append(box)
            placed.append(Placed(index, dx, dy))
            break
    return placed
