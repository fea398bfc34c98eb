"""The server's settings, at the path users import them from (``microready.config``).

``Config`` lives with the server (``microready/server/config.py``); this module
is its public face.
"""

from .server.config import Config, ConfigError

__all__ = ["Config", "ConfigError"]
