"""v2a: turn a video into a readable, linkable article."""

__version__ = "0.1.0"
