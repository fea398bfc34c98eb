"""The sans-IO HTTP/1.1 core: bytes and the current time in, events and bytes out.

Nothing here touches a socket, a clock or an event loop; it imports only h11
and the standard library, so every rule can be tested without I/O.
"""
