"""The apps under test: one per framework, each serving the same endpoints.

Every framework app serves ``GET /plaintext``, ``GET /json``,
``GET /items/{item_id}``, ``POST /notify/{email}``, ``POST /notify-none/{email}``
(``notify`` without its task), ``POST /notify-sync/{email}``,
their slow variants ``POST /notify-slow/{email}`` and
``POST /notify-sync-slow/{email}``, ``POST /upload`` (a 1 MiB multipart file, read by
a background task), ``POST /users`` (a JSON body behind an OAuth2 bearer token, the
password dropped from the answer), and ``GET /count``. The task functions
themselves live in ``_tasks`` so every framework runs the very same work.
The ceilings (``bare_asyncio``, ``bare_h11``) only answer ``/plaintext``.
"""
