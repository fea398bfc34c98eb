"""What every test package shares; each module has one job.

* ``http``: bytes on the wire. ``request()`` builds a request byte for byte;
  ``ResponseParser`` reads responses out of bytes with h11 playing the client.
  No I/O, so the connection-core tests use it as the live ones do.
* ``live``: a real ``Server`` in the test's event loop (``serving``), and a raw
  client socket (``connect`` -> ``RawClient``) that reads responses with the
  parser above. Every network wait has a deadline.
* ``processes``: ``python -m microready`` as a child process, its log read by a
  thread with deadlines, always stopped by its own PID; and a blocking client.
* ``protocol``: what the connection core can answer, read from its source.

The backend fixture is ``anyio_backend`` in ``tests/conftest.py``: async tests
run on asyncio and on trio, and sync tests that drive ``TestClient`` take it too.
"""
