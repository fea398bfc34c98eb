from .helpers import backend

__all__ = ["backend"]
