"""microready and ASGI, both ways.

* ``entry``: a microready app is an ASGI 3 app (``uvicorn main:app``);
* ``handler``: microready calls an ASGI app for a request (mounts, ASGI
  middleware, a whole app on microready's server);
* ``served``: any ASGI app, as microready's server serves it;
* ``scope``: a ``Request`` as a scope, and a scope as a ``Request``.

The rule that holds across all of them: a request's background tasks start
after the client has the last byte of its response.
"""
