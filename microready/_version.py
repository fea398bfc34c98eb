"""The one place the version is written; ``pyproject.toml`` reads the same string."""

__version__ = "0.1.0"
