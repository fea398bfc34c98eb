"""microready's HTTP/1.1 server: sockets, connections, workers and the CLI.

``protocol/`` is the sans-IO core (bytes in, events out). The rest does the
I/O, and reaches the application only through ``microready._exchange`` and
the request and response data classes.
"""

from .server import Server, ServerStartupError

__all__ = ["Server", "ServerStartupError"]
