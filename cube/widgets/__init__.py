"""ipywidgets explorers for fitted topic models.

Example:
    >>> from cube.widgets import TopicExplorer
    >>> TopicExplorer(topic_model, docs, timestamps=years)
"""

from cube.widgets._explorer import TopicExplorer

__all__ = ["TopicExplorer"]
