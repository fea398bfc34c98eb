"""FastAPI tutorial, "Lifespan Events" (docs_src/events/tutorial003.py), on microready.

The example is ``tests/app/fastapi_docs/events/tutorial003.py``, as FastAPI has it
but for its import line; the test is FastAPI's ``test_events``
(``tests/test_tutorial/test_events/test_tutorial003.py``), with ``TestClient`` on
the test's backend. (Its other test, of the OpenAPI schema, needs OpenAPI.)
"""

from __future__ import annotations

import pytest

from .fastapi_docs.events.tutorial003 import (
    app,
    fake_answer_to_everything_ml_model,
    ml_models,
)
from .helpers import client_for


def test_events(anyio_backend: str) -> None:
    assert not ml_models, "ml_models should be empty"
    with client_for(app, anyio_backend) as client:
        assert ml_models["answer_to_everything"] == fake_answer_to_everything_ml_model
        response = client.get("/predict", params={"x": 2})
        assert response.status_code == 200, response.text
        assert response.json() == {"result": 84.0}
    assert not ml_models, "ml_models should be empty"


def test_a_request_outside_with_runs_no_lifespan(anyio_backend: str) -> None:
    # Not in FastAPI's tests, but what its TestClient does: without `with`, no
    # startup, so no model, and the handler's KeyError reaches the test as itself.
    with pytest.raises(KeyError, match="answer_to_everything"):
        client_for(app, anyio_backend).get("/predict", params={"x": 2})
