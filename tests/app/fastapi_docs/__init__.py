"""FastAPI's documentation examples (``docs_src/``), each file as FastAPI has it but
for its import lines, which import microready instead of fastapi.

Their tests are run by ``tests/app/test_tutorial_*.py``, as FastAPI's own tests
run them (``tests/test_tutorial/``); ``conftest.py`` keeps pytest from also
collecting the examples' ``test_main.py`` files, so each runs once, in order.
"""
